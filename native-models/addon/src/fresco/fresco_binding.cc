// JS binding of the FRESCO feature optimisation: frescoOptimiseFeatures(features, frames, channels, tokens,
// guide, guideChannels, source, visible, options) -> Promise<{ features, before, optimised, final }>, run on a
// worker thread (common/promise_task.h; the features are copied in, so JS may reuse its buffers at once).
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "common/options.h"
#include "common/promise_task.h"
#include "fresco/feature_optimiser.h"

namespace {

// The arrays the optimisation reads besides the features.
struct Inputs {
  std::vector<float> guide;
  std::vector<int32_t> source;
  std::vector<float> visible;
};

template <typename Arr, typename T>
std::vector<T> Copy(const Napi::Value& v, napi_typedarray_type type, size_t length, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw Napi::TypeError::New(env, std::string("frescoOptimiseFeatures: ") + what + " has the wrong array type");
  Arr a = v.As<Arr>();
  if (a.ElementLength() != length)
    throw Napi::RangeError::New(env, std::string("frescoOptimiseFeatures: ") + what + " has " + std::to_string(a.ElementLength()) + " elements, expected " + std::to_string(length));
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

Napi::Value OptimiseFeaturesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 8) throw Napi::TypeError::New(env, "frescoOptimiseFeatures(features, frames, channels, tokens, guide, guideChannels, source, visible, options?)");
  rr::FeatureBatch b;
  const int most = 1 << 30;
  b.frames = rr::IntArgument(info, 1, "frescoOptimiseFeatures: frames", 1, most);
  b.channels = rr::IntArgument(info, 2, "frescoOptimiseFeatures: channels", 1, most);
  b.tokens = rr::IntArgument(info, 3, "frescoOptimiseFeatures: tokens", 1, most);
  b.guideChannels = rr::IntArgument(info, 5, "frescoOptimiseFeatures: guideChannels", 1, most);
  const size_t F = b.frames, N = b.tokens;
  auto features = Copy<Napi::Float32Array, float>(info[0], napi_float32_array, F * b.channels * N, "features");
  auto guide = Copy<Napi::Float32Array, float>(info[4], napi_float32_array, F * b.guideChannels * N, "guide");
  auto source = Copy<Napi::Int32Array, int32_t>(info[6], napi_int32_array, F * N, "source");
  auto visible = Copy<Napi::Float32Array, float>(info[7], napi_float32_array, F * N, "visible");
  for (int32_t s : source)
    if (s >= int32_t(N)) throw Napi::RangeError::New(env, "frescoOptimiseFeatures: a source token index is out of range");
  const rr::Options opt(env, info.Length() > 8 ? info[8] : env.Undefined(), "frescoOptimiseFeatures");
  rr::OptimiserOptions o;
  o.iterations = opt.Int("iterations", o.iterations, 0, 1000000);
  o.learningRate = opt.Number("learningRate", o.learningRate, 0, rr::kFinite);
  o.warpWeight = opt.Number("warpWeight", o.warpWeight, 0, rr::kFinite);
  o.similarityWeight = opt.Number("similarityWeight", o.similarityWeight, 0, rr::kFinite);
  o.threads = opt.Threads();
  o.renormalise = opt.Bool("renormalise", o.renormalise);
  // Shared so the work and the result see the same buffers; the pointers into them are set when it runs.
  auto x = std::make_shared<std::vector<float>>(std::move(features));
  auto in = std::make_shared<Inputs>(Inputs{std::move(guide), std::move(source), std::move(visible)});
  auto result = std::make_shared<rr::OptimiseResult>();
  return rr::PromiseTask::Start(
      env,
      [x, in, result, b, o]() mutable {
        b.guide = in->guide.data();
        b.source = in->source.data();
        b.visible = in->visible.data();
        *result = rr::OptimiseFeatures(x->data(), b, o);
        return true;
      },
      [x, result](Napi::Env env) -> Napi::Value {
        auto losses = [&](const rr::FeatureLosses& l) {
          Napi::Object r = Napi::Object::New(env);
          r.Set("warp", l.warp);
          r.Set("similarity", l.similarity);
          return r;
        };
        Napi::Object r = Napi::Object::New(env);
        r.Set("features", rr::ToTypedArray<Napi::Float32Array>(env, *x));
        r.Set("before", losses(result->before));
        r.Set("optimised", losses(result->optimised));
        r.Set("final", losses(result->final));
        return r;
      });
}

}  // namespace

void InitFresco(Napi::Env env, Napi::Object exports) {
  exports.Set("frescoOptimiseFeatures", Napi::Function::New(env, OptimiseFeaturesJs, "frescoOptimiseFeatures"));
}
