// JS binding of the FRESCO feature optimisation: frescoOptimiseFeatures(features, frames, channels, tokens,
// guide, guideChannels, source, visible, options) -> Promise<{ features, before, optimised, final }>, run on a
// worker thread (the features are copied in, so JS may reuse its buffers at once).
#include <napi.h>

#include <string>
#include <vector>

#include "fresco/feature_optimiser.h"

namespace {

class OptimiseTask : public Napi::AsyncWorker {
 public:
  OptimiseTask(Napi::Env env, std::vector<float> x, std::vector<float> guide, std::vector<int32_t> source, std::vector<float> visible,
               rr::FeatureBatch batch, rr::OptimiserOptions options)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), x_(std::move(x)), guide_(std::move(guide)),
        source_(std::move(source)), visible_(std::move(visible)), batch_(batch), options_(options) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    batch_.guide = guide_.data();
    batch_.source = source_.data();
    batch_.visible = visible_.data();
    result_ = rr::OptimiseFeatures(x_.data(), batch_, options_);
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Float32Array out = Napi::Float32Array::New(env, x_.size());
    std::copy(x_.begin(), x_.end(), out.Data());
    auto losses = [&](const rr::FeatureLosses& l) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("warp", l.warp);
      o.Set("similarity", l.similarity);
      return o;
    };
    Napi::Object r = Napi::Object::New(env);
    r.Set("features", out);
    r.Set("before", losses(result_.before));
    r.Set("optimised", losses(result_.optimised));
    r.Set("final", losses(result_.final));
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<float> x_, guide_;
  std::vector<int32_t> source_;
  std::vector<float> visible_;
  rr::FeatureBatch batch_;
  rr::OptimiserOptions options_;
  rr::OptimiseResult result_;
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

double Num(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

Napi::Value OptimiseFeaturesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 8) throw Napi::TypeError::New(env, "frescoOptimiseFeatures(features, frames, channels, tokens, guide, guideChannels, source, visible, options?)");
  rr::FeatureBatch b;
  b.frames = info[1].As<Napi::Number>().Int32Value();
  b.channels = info[2].As<Napi::Number>().Int32Value();
  b.tokens = info[3].As<Napi::Number>().Int32Value();
  b.guideChannels = info[5].As<Napi::Number>().Int32Value();
  if (b.frames <= 0 || b.channels <= 0 || b.tokens <= 0 || b.guideChannels <= 0) throw Napi::RangeError::New(env, "frescoOptimiseFeatures: sizes must be positive");
  const size_t F = b.frames, N = b.tokens;
  auto x = Copy<Napi::Float32Array, float>(info[0], napi_float32_array, F * b.channels * N, "features");
  auto guide = Copy<Napi::Float32Array, float>(info[4], napi_float32_array, F * b.guideChannels * N, "guide");
  auto source = Copy<Napi::Int32Array, int32_t>(info[6], napi_int32_array, F * N, "source");
  auto visible = Copy<Napi::Float32Array, float>(info[7], napi_float32_array, F * N, "visible");
  for (int32_t s : source)
    if (s >= int32_t(N)) throw Napi::RangeError::New(env, "frescoOptimiseFeatures: a source token index is out of range");
  rr::OptimiserOptions o;
  if (info.Length() > 8 && info[8].IsObject()) {
    Napi::Object opt = info[8].As<Napi::Object>();
    o.iterations = static_cast<int>(Num(opt, "iterations", o.iterations));
    o.learningRate = Num(opt, "learningRate", o.learningRate);
    o.warpWeight = Num(opt, "warpWeight", o.warpWeight);
    o.similarityWeight = Num(opt, "similarityWeight", o.similarityWeight);
    o.threads = static_cast<int>(Num(opt, "threads", 0));
    Napi::Value r = opt.Get("renormalise");
    if (r.IsBoolean()) o.renormalise = r.As<Napi::Boolean>().Value();
  }
  auto* task = new OptimiseTask(env, std::move(x), std::move(guide), std::move(source), std::move(visible), b, o);
  Napi::Promise p = task->Promise();
  task->Queue();
  return p;
}

}  // namespace

void InitFresco(Napi::Env env, Napi::Object exports) {
  exports.Set("frescoOptimiseFeatures", Napi::Function::New(env, OptimiseFeaturesJs, "frescoOptimiseFeatures"));
}
