// N-API bindings of the synthesis engine: synthesize(options) -> Promise<{image, error, matches}>.
// Inputs are read and copied on the JS thread (common/options.h); the work runs on the libuv pool
// (common/promise_task.h) and checks the cancel flag.
#include <napi.h>

#include "synth/patch_synthesis.h"
#include "common/limits.h"
#include "common/options.h"
#include "common/promise_task.h"

namespace {

Napi::Value Synthesize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "synthesize expects an options object");
  const rr::Options o(env, info[0], "synthesize");
  auto in = std::make_shared<rr::SynthesisInput>();
  in->sourceWidth = o.Int("sourceWidth", 0, 0, rr::kAnyInt);
  in->sourceHeight = o.Int("sourceHeight", 0, 0, rr::kAnyInt);
  in->targetWidth = o.Int("targetWidth", 0, 0, rr::kAnyInt);
  in->targetHeight = o.Int("targetHeight", 0, 0, rr::kAnyInt);
  // Sizes first: nothing is copied or allocated for an image beyond the limit.
  rr::CheckImageSize(env, in->sourceWidth, in->sourceHeight, "the style source");
  rr::CheckImageSize(env, in->targetWidth, in->targetHeight, "the target");
  in->styleChannels = o.Int("styleChannels", 0, 0, 64);
  in->guideChannels = o.Int("guideChannels", 0, 0, 1024);
  in->sourceStyle = o.Array<uint8_t>("sourceStyle");
  in->styleWeights = o.Array<float>("styleWeights");
  in->sourceGuide = o.Array<float>("sourceGuide");
  in->targetGuide = o.Array<float>("targetGuide");
  in->guideWeights = o.Array<float>("guideWeights");
  in->initialMatches = o.Array<int32_t>("initialMatches", true);
  in->initialOffsets = o.Array<float>("initialOffsets", true);
  rr::SynthesisParams p;
  p.patchSize = o.Int("patchSize", p.patchSize, 3, 101);
  p.uniformity = static_cast<float>(o.Number("uniformity", p.uniformity, 0, 1e30));
  p.pyramidLevels = o.Int("pyramidLevels", p.pyramidLevels, -1, 64);
  p.searchVoteIters = o.Int("searchVoteIters", p.searchVoteIters, 0, 100000);
  p.patchMatchIters = o.Int("patchMatchIters", p.patchMatchIters, 0, 100000);
  p.seed = o.Uint32("seed", 0);
  p.threads = o.Threads();
  rr::CancelFlag cancel(o.Get("cancelFlag"));
  auto out = std::make_shared<rr::SynthesisOutput>();
  return rr::PromiseTask::Start(
      env, [in, p, out, cancel] { return rr::Synthesize(*in, p, *out, [&cancel] { return cancel.IsSet(); }); },
      [out](Napi::Env env) -> Napi::Value {
        Napi::Object r = Napi::Object::New(env);
        r.Set("image", rr::ToTypedArray<Napi::Uint8Array>(env, out->image));
        r.Set("error", rr::ToTypedArray<Napi::Float32Array>(env, out->error));
        r.Set("matches", rr::ToTypedArray<Napi::Int32Array>(env, out->matches));
        if (!out->offsets.empty()) r.Set("offsets", rr::ToTypedArray<Napi::Float32Array>(env, out->offsets));
        return r;
      });
}

}  // namespace

void InitBlend(Napi::Env env, Napi::Object exports);

void InitSynth(Napi::Env env, Napi::Object exports) {
  exports.Set("synthesize", Napi::Function::New(env, Synthesize, "synthesize"));
  InitBlend(env, exports);
}
