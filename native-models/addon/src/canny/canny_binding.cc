// JS binding of the Canny detector: cannyEdges(pixels, width, height, channels, options) -> Promise<Uint8Array>,
// computed on a worker thread.
#include <napi.h>

#include <string>
#include <vector>

#include "common/limits.h"
#include "canny/canny.h"

namespace {

class CannyTask : public Napi::AsyncWorker {
 public:
  CannyTask(Napi::Env env, std::vector<uint8_t> pixels, int w, int h, int c, rr::CannyOptions o)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), pixels_(std::move(pixels)), w_(w), h_(h), c_(c), o_(o) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { edges_ = rr::CannyEdges(pixels_.data(), w_, h_, c_, o_); }
  void OnOK() override {
    Napi::Uint8Array out = Napi::Uint8Array::New(Env(), edges_.size());
    std::copy(edges_.begin(), edges_.end(), out.Data());
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<uint8_t> pixels_;
  std::vector<uint8_t> edges_;
  int w_, h_, c_;
  rr::CannyOptions o_;
};

double Num(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

Napi::Value CannyEdgesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "cannyEdges(pixels: Uint8Array, width, height, channels, options?)");
  Napi::Uint8Array px = info[0].As<Napi::Uint8Array>();
  const int w = info[1].As<Napi::Number>().Int32Value();
  const int h = info[2].As<Napi::Number>().Int32Value();
  const int c = info[3].As<Napi::Number>().Int32Value();
  rr::CheckImageSize(env, w, h, "cannyEdges: the image");
  if (w <= 0 || h <= 0 || c <= 0 || px.ElementLength() != static_cast<size_t>(w) * h * c)
    throw Napi::RangeError::New(env, "cannyEdges: pixel buffer size does not match width*height*channels");
  rr::CannyOptions o;
  if (info.Length() > 4 && info[4].IsObject()) {
    Napi::Object opt = info[4].As<Napi::Object>();
    o.low = Num(opt, "low", o.low);
    o.high = Num(opt, "high", o.high);
    o.blurSigma = Num(opt, "blurSigma", o.blurSigma);
    o.threads = static_cast<int>(Num(opt, "threads", 0));
    Napi::Value l2 = opt.Get("l2");
    o.l2 = l2.IsBoolean() && l2.As<Napi::Boolean>().Value();
  }
  auto* task = new CannyTask(env, std::vector<uint8_t>(px.Data(), px.Data() + px.ElementLength()), w, h, c, o);
  Napi::Promise promise = task->Promise();
  task->Queue();
  return promise;
}

}  // namespace

void InitCanny(Napi::Env env, Napi::Object exports) {
  exports.Set("cannyEdges", Napi::Function::New(env, CannyEdgesJs, "cannyEdges"));
}
