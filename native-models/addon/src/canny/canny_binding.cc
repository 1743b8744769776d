// JS binding of the Canny detector: cannyEdges(pixels, width, height, channels, options) -> Promise<Uint8Array>,
// computed on a worker thread (common/promise_task.h); options read by common/options.h.
#include <napi.h>

#include <memory>
#include <vector>

#include "canny/canny.h"
#include "common/limits.h"
#include "common/options.h"
#include "common/promise_task.h"

namespace {

Napi::Value CannyEdgesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "cannyEdges(pixels: Uint8Array, width, height, channels, options?)");
  Napi::Uint8Array px = info[0].As<Napi::Uint8Array>();
  const int w = rr::IntArgument(info, 1, "cannyEdges: width", 1, rr::kAnyInt);
  const int h = rr::IntArgument(info, 2, "cannyEdges: height", 1, rr::kAnyInt);
  const int c = rr::IntArgument(info, 3, "cannyEdges: channels", 1, 4);
  rr::CheckImageSize(env, w, h, "cannyEdges: the image");
  if (px.ElementLength() != static_cast<size_t>(w) * h * c)
    throw Napi::RangeError::New(env, "cannyEdges: pixel buffer size does not match width*height*channels");
  const rr::Options opt(env, info.Length() > 4 ? info[4] : env.Undefined(), "cannyEdges");
  rr::CannyOptions o;
  o.low = opt.Number("low", o.low, 0, rr::kFinite);
  o.high = opt.Number("high", o.high, 0, rr::kFinite);
  o.blurSigma = opt.Number("blurSigma", o.blurSigma, 0, 100);
  o.threads = opt.Threads();
  o.l2 = opt.Bool("l2", o.l2);
  auto pixels = std::make_shared<std::vector<uint8_t>>(px.Data(), px.Data() + px.ElementLength());
  auto edges = std::make_shared<std::vector<uint8_t>>();
  return rr::PromiseTask::Start(
      env, [pixels, edges, w, h, c, o] { *edges = rr::CannyEdges(pixels->data(), w, h, c, o); return true; },
      [edges](Napi::Env env) -> Napi::Value { return rr::ToTypedArray<Napi::Uint8Array>(env, *edges); });
}

}  // namespace

void InitCanny(Napi::Env env, Napi::Object exports) {
  exports.Set("cannyEdges", Napi::Function::New(env, CannyEdgesJs, "cannyEdges"));
}
