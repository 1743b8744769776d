// N-API bindings of the flow engine. Every call validates its typed arrays on the JS thread,
// allocates its outputs there (external buffers are not allowed under Electron's memory cage),
// then runs the work on a libuv worker thread, which fills them, and settles a Promise with the
// object holding them (rr::PromiseTask::Fill, which also keeps the input arrays alive until then).
#include <napi.h>

#include <string>
#include <type_traits>
#include <vector>

#include "common/limits.h"
#include "common/options.h"
#include "common/parallel.h"
#include "common/promise_task.h"
#include "flow/estimator.h"
#include "flow/warp.h"

namespace {

using rr::flow::FlowParams;

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* name, int min) {
  return rr::IntArgument(info, i, name, min, rr::kAnyInt);
}

template <typename T>
T TypedArg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t expected) {
  bool ok = info.Length() > i && info[i].IsTypedArray();
  if (ok) {
    auto type = info[i].As<Napi::TypedArray>().TypedArrayType();
    ok = std::is_same<T, Napi::Uint8Array>::value ? type == napi_uint8_array : type == napi_float32_array;
  }
  if (!ok) throw Napi::TypeError::New(info.Env(), std::string(name) + (std::is_same<T, Napi::Uint8Array>::value ? " must be a Uint8Array" : " must be a Float32Array"));
  T arr = info[i].As<T>();
  if (arr.ElementLength() != expected)
    throw Napi::RangeError::New(info.Env(), std::string(name) + " has " + std::to_string(arr.ElementLength()) + " values, expected " + std::to_string(expected));
  return arr;
}

// computeFlow(a, b, width, height, channels, {threads?, preset?, backward?}) →
//   Promise<{forward: Float32Array, backward?: Float32Array}>, interleaved (dx, dy).
Napi::Value ComputeFlow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int w = IntArg(info, 2, "width", 1), h = IntArg(info, 3, "height", 1), ch = IntArg(info, 4, "channels", 1);
  rr::CheckImageSize(env, w, h, "the frame");
  if (ch > 4) throw Napi::RangeError::New(env, "channels must be 1 to 4");
  size_t n = size_t(w) * h;
  auto a = TypedArg<Napi::Uint8Array>(info, 0, "first frame", n * ch);
  auto b = TypedArg<Napi::Uint8Array>(info, 1, "second frame", n * ch);
  const rr::Options options(env, info.Length() > 5 ? info[5] : env.Undefined(), "flowCompute");
  int threads = options.Threads();
  std::string preset = options.String("preset", "balanced");
  bool known = true;
  FlowParams params = rr::flow::FlowPreset(preset.c_str(), &known);
  if (!known) throw Napi::RangeError::New(env, "unknown flow preset \"" + preset + "\" (fast, balanced, accurate)");
  bool withBackward = options.Bool("backward", true);

  Napi::Object result = Napi::Object::New(env);
  Napi::Float32Array fwd = Napi::Float32Array::New(env, n * 2);
  result.Set("forward", fwd);
  float* fwdOut = fwd.Data();
  float* bwdOut = nullptr;
  if (withBackward) {
    Napi::Float32Array bwd = Napi::Float32Array::New(env, n * 2);
    result.Set("backward", bwd);
    bwdOut = bwd.Data();
  }
  const uint8_t* pa = a.Data();
  const uint8_t* pb = b.Data();
  auto task = [=]() {
    int levels = rr::flow::PyramidLevels(w, h, params.patch.size);
    int gradientsFrom = rr::flow::FirstGradientLevel(params, levels);
    rr::flow::FramePyramid pyrA, pyrB;
    if (threads >= 2) {
      rr::Thread other([&] { pyrB = rr::flow::BuildPyramid(pb, w, h, ch, levels, gradientsFrom, threads / 2); });
      pyrA = rr::flow::BuildPyramid(pa, w, h, ch, levels, gradientsFrom, threads - threads / 2);
      other.Join();
    } else {
      pyrA = rr::flow::BuildPyramid(pa, w, h, ch, levels, gradientsFrom, 1);
      pyrB = rr::flow::BuildPyramid(pb, w, h, ch, levels, gradientsFrom, 1);
    }
    if (!bwdOut) {
      rr::flow::EstimateFlow(pyrA, pyrB, params, threads, fwdOut);
    } else if (threads >= 2) {
      // The two directions are independent: one thread group each beats fine-grained splitting.
      rr::Thread other([&] { rr::flow::EstimateFlow(pyrB, pyrA, params, threads / 2, bwdOut); });
      rr::flow::EstimateFlow(pyrA, pyrB, params, threads - threads / 2, fwdOut);
      other.Join();
    } else {
      rr::flow::EstimateFlow(pyrA, pyrB, params, 1, fwdOut);
      rr::flow::EstimateFlow(pyrB, pyrA, params, 1, bwdOut);
    }
  };
  return rr::PromiseTask::Fill(env, task, result, {a, b});
}

// occlusionMask(forward, backward, width, height) → Promise<Uint8Array> (255 = occluded).
Napi::Value Occlusion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int w = IntArg(info, 2, "width", 1), h = IntArg(info, 3, "height", 1);
  rr::CheckImageSize(env, w, h, "the flow");
  size_t n = size_t(w) * h;
  auto f = TypedArg<Napi::Float32Array>(info, 0, "forward flow", n * 2);
  auto b = TypedArg<Napi::Float32Array>(info, 1, "backward flow", n * 2);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, n);
  const float* pf = f.Data();
  const float* pb = b.Data();
  uint8_t* po = out.Data();
  int threads = rr::DefaultThreadCount();
  Napi::Object result = Napi::Object::New(env);
  result.Set("mask", out);
  return rr::PromiseTask::Fill(env, [=] { rr::flow::OcclusionMask(pf, pb, w, h, po, threads); }, result, {f, b});
}

// warpBackward(source, width, height, channels, flow, bilinear) → Promise<{image}> of the source's type.
Napi::Value Warp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int w = IntArg(info, 1, "width", 1), h = IntArg(info, 2, "height", 1), ch = IntArg(info, 3, "channels", 1);
  rr::CheckImageSize(env, w, h, "the image to warp");
  if (ch > 64) throw Napi::RangeError::New(env, "channels must be 1 to 64");
  size_t n = size_t(w) * h;
  auto flow = TypedArg<Napi::Float32Array>(info, 4, "flow", n * 2);
  bool bilinear = info.Length() > 5 && info[5].ToBoolean().Value();
  int threads = rr::DefaultThreadCount();
  const float* pflow = flow.Data();
  Napi::Object result = Napi::Object::New(env);
  if (info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    auto src = TypedArg<Napi::Float32Array>(info, 0, "source", n * ch);
    Napi::Float32Array out = Napi::Float32Array::New(env, n * ch);
    result.Set("image", out);
    const float* ps = src.Data();
    float* po = out.Data();
    return rr::PromiseTask::Fill(env, [=] { rr::flow::WarpBackward(ps, w, h, ch, pflow, bilinear, po, threads); }, result, {src, flow});
  }
  auto src = TypedArg<Napi::Uint8Array>(info, 0, "source", n * ch);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, n * ch);
  result.Set("image", out);
  const uint8_t* ps = src.Data();
  uint8_t* po = out.Data();
  return rr::PromiseTask::Fill(env, [=] { rr::flow::WarpBackward(ps, w, h, ch, pflow, bilinear, po, threads); }, result, {src, flow});
}

// softMask(mask, width, height, dilate, blurSize, sigma) → Promise<{mask: Float32Array}> in [0, 1].
Napi::Value Soft(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int w = IntArg(info, 1, "width", 1), h = IntArg(info, 2, "height", 1);
  rr::CheckImageSize(env, w, h, "the mask");
  size_t n = size_t(w) * h;
  auto mask = TypedArg<Napi::Uint8Array>(info, 0, "mask", n);
  int dilate = IntArg(info, 3, "dilate", 1), blurSize = IntArg(info, 4, "blurSize", 1);
  if (info.Length() <= 5 || !info[5].IsNumber()) throw Napi::TypeError::New(env, "sigma must be a number");
  float sigma = info[5].As<Napi::Number>().FloatValue();
  if (!(sigma > 0)) throw Napi::RangeError::New(env, "sigma must be positive");
  Napi::Float32Array out = Napi::Float32Array::New(env, n);
  Napi::Object result = Napi::Object::New(env);
  result.Set("mask", out);
  const uint8_t* pm = mask.Data();
  float* po = out.Data();
  int threads = rr::DefaultThreadCount();
  return rr::PromiseTask::Fill(env, [=] { rr::flow::SoftMask(pm, w, h, dilate, blurSize, sigma, po, threads); }, result, {mask});
}

}  // namespace

void InitFlow(Napi::Env env, Napi::Object exports) {
  exports.Set("flowCompute", Napi::Function::New(env, ComputeFlow, "flowCompute"));
  exports.Set("flowOcclusion", Napi::Function::New(env, Occlusion, "flowOcclusion"));
  exports.Set("flowWarp", Napi::Function::New(env, Warp, "flowWarp"));
  exports.Set("flowSoftMask", Napi::Function::New(env, Soft, "flowSoftMask"));
}
