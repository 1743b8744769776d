// N-API bindings of the synthesis engine: synthesize(options) -> Promise<{image, error, matches}>.
// Inputs are copied on the JS thread; the work runs on the libuv pool and checks the cancel flag.
#include <napi.h>

#include "synth/patch_synthesis.h"
#include "synth/promise_task.h"
#include "common/limits.h"
#include "common/parallel.h"

namespace {

Napi::Value Synthesize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "synthesize expects an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto in = std::make_shared<rr::SynthesisInput>();
  in->sourceWidth = rr::IntProp(o, "sourceWidth", 0);
  in->sourceHeight = rr::IntProp(o, "sourceHeight", 0);
  in->targetWidth = rr::IntProp(o, "targetWidth", 0);
  in->targetHeight = rr::IntProp(o, "targetHeight", 0);
  // Sizes first: nothing is copied or allocated for an image beyond the limit.
  rr::CheckImageSize(env, in->sourceWidth, in->sourceHeight, "the style source");
  rr::CheckImageSize(env, in->targetWidth, in->targetHeight, "the target");
  in->styleChannels = rr::IntProp(o, "styleChannels", 0);
  in->guideChannels = rr::IntProp(o, "guideChannels", 0);
  in->sourceStyle = rr::CopyArray<uint8_t>(o, "sourceStyle");
  in->styleWeights = rr::CopyArray<float>(o, "styleWeights");
  in->sourceGuide = rr::CopyArray<float>(o, "sourceGuide");
  in->targetGuide = rr::CopyArray<float>(o, "targetGuide");
  in->guideWeights = rr::CopyArray<float>(o, "guideWeights");
  in->initialMatches = rr::CopyArray<int32_t>(o, "initialMatches", true);
  rr::SynthesisParams p;
  p.patchSize = rr::IntProp(o, "patchSize", p.patchSize);
  p.uniformity = static_cast<float>(rr::NumberProp(o, "uniformity", p.uniformity));
  p.pyramidLevels = rr::IntProp(o, "pyramidLevels", p.pyramidLevels);
  p.searchVoteIters = rr::IntProp(o, "searchVoteIters", p.searchVoteIters);
  p.patchMatchIters = rr::IntProp(o, "patchMatchIters", p.patchMatchIters);
  p.seed = static_cast<uint32_t>(rr::NumberProp(o, "seed", 0));
  p.threads = rr::ClampThreads(rr::IntProp(o, "threads", rr::DefaultThreadCount()), rr::DefaultThreadCount());
  rr::CancelFlag cancel(o.Get("cancelFlag"));
  auto out = std::make_shared<rr::SynthesisOutput>();
  return rr::PromiseTask::Start(
      env, [in, p, out, cancel] { return rr::Synthesize(*in, p, *out, [&cancel] { return cancel.IsSet(); }); },
      [out](Napi::Env env) -> Napi::Value {
        Napi::Object r = Napi::Object::New(env);
        r.Set("image", rr::ToTypedArray<Napi::Uint8Array>(env, out->image));
        r.Set("error", rr::ToTypedArray<Napi::Float32Array>(env, out->error));
        r.Set("matches", rr::ToTypedArray<Napi::Int32Array>(env, out->matches));
        return r;
      });
}

}  // namespace

void InitBlend(Napi::Env env, Napi::Object exports);

void InitSynth(Napi::Env env, Napi::Object exports) {
  exports.Set("synthesize", Napi::Function::New(env, Synthesize, "synthesize"));
  InitBlend(env, exports);
}
