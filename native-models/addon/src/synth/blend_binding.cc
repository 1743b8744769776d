// N-API bindings of blending: mask, Lab conversions, histogram blend, gradient fusion, Poisson solve.
// Every call reads and copies its inputs (common/options.h), runs on the libuv pool and returns a
// Promise (common/promise_task.h).
#include <napi.h>

#include <functional>
#include <memory>
#include <string>

#include "common/limits.h"
#include "common/options.h"
#include "common/promise_task.h"
#include "synth/blend.h"
#include "synth/dct.h"

namespace {

template <typename T>
using Shared = std::shared_ptr<std::vector<T>>;

template <typename T>
Shared<T> Take(const rr::Options& o, const char* key, size_t expected, bool optional = false) {
  auto v = std::make_shared<std::vector<T>>(o.Array<T>(key, optional));
  if (!(optional && v->empty()) && v->size() != expected)
    throw Napi::RangeError::New(o.Env(), o.Named(key) + " has " + std::to_string(v->size()) + " values, expected " + std::to_string(expected));
  return v;
}

rr::Options OptionsOf(const Napi::CallbackInfo& info, const char* call) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), std::string(call) + ": expected an options object");
  return rr::Options(info.Env(), info[0], call);
}

struct Size { int width, height, threads; size_t pixels; };

Size SizeOf(const rr::Options& o) {
  Size s{o.Int("width", 0, 0, rr::kAnyInt), o.Int("height", 0, 0, rr::kAnyInt), o.Threads(), 0};
  rr::CheckImageSize(o.Env(), s.width, s.height, "the image to blend");
  s.pixels = static_cast<size_t>(s.width) * s.height;
  return s;
}

template <typename Arr, typename T>
Napi::Promise Run(Napi::Env env, std::function<std::vector<T>()> work) {
  auto out = std::make_shared<std::vector<T>>();
  return rr::PromiseTask::Start(
      env, [out, work] { *out = work(); return true; },
      [out](Napi::Env env) -> Napi::Value { return rr::ToTypedArray<Arr>(env, *out); });
}

Napi::Value RgbToLab(const Napi::CallbackInfo& info) {
  const rr::Options o = OptionsOf(info, "rgbToLab");
  Size s = SizeOf(o);
  auto rgb = Take<uint8_t>(o, "rgb", s.pixels * 3);
  return Run<Napi::Float32Array, float>(info.Env(), [rgb, s] { return rr::RgbToLab(rgb->data(), s.pixels, s.threads); });
}

Napi::Value LabToRgb(const Napi::CallbackInfo& info) {
  const rr::Options o = OptionsOf(info, "labToRgb");
  Size s = SizeOf(o);
  auto lab = Take<float>(o, "lab", s.pixels * 3);
  return Run<Napi::Uint8Array, uint8_t>(info.Env(), [lab, s] { return rr::LabToRgb(lab->data(), s.pixels, s.threads); });
}

Napi::Value BlendMask(const Napi::CallbackInfo& info) {
  const rr::Options o = OptionsOf(info, "blendMask");
  Size s = SizeOf(o);
  auto ea = Take<float>(o, "errorA", s.pixels), eb = Take<float>(o, "errorB", s.pixels);
  auto prev = Take<uint8_t>(o, "previous", s.pixels, true);
  const float wb = static_cast<float>(o.Number("weightB", 0.5, 0, 1));
  return Run<Napi::Uint8Array, uint8_t>(info.Env(), [ea, eb, prev, s, wb] {
    return rr::BlendMask(ea->data(), eb->data(), prev->empty() ? nullptr : prev->data(), s.pixels, wb);
  });
}

// a, b (RGB), mask; optional fusionWeights [L, a, b]: histogram blend, then fusion when weights are given.
Napi::Value BlendDirections(const Napi::CallbackInfo& info) {
  const rr::Options o = OptionsOf(info, "blendDirections");
  Size s = SizeOf(o);
  auto a = Take<uint8_t>(o, "a", s.pixels * 3), b = Take<uint8_t>(o, "b", s.pixels * 3), mask = Take<uint8_t>(o, "mask", s.pixels);
  auto fusion = Take<float>(o, "fusionWeights", 3, true);
  const float wb = static_cast<float>(o.Number("weightB", 0.5, 0, 1));
  return Run<Napi::Uint8Array, uint8_t>(info.Env(), [a, b, mask, fusion, s, wb] {
    const std::vector<float> labA = rr::RgbToLab(a->data(), s.pixels, s.threads), labB = rr::RgbToLab(b->data(), s.pixels, s.threads);
    std::vector<float> lab = rr::HistogramBlendLab(labA.data(), labB.data(), mask->data(), s.pixels, wb);
    if (!fusion->empty()) lab = rr::GradientFusionLab(labA.data(), labB.data(), mask->data(), lab.data(), s.width, s.height, fusion->data(), s.threads);
    return rr::LabToRgb(lab.data(), s.pixels, s.threads);
  });
}

// a, b, mask and base (RGB): fusion of the masked gradients onto the given base image.
Napi::Value GradientFusion(const Napi::CallbackInfo& info) {
  const rr::Options o = OptionsOf(info, "gradientFusion");
  Size s = SizeOf(o);
  auto a = Take<uint8_t>(o, "a", s.pixels * 3), b = Take<uint8_t>(o, "b", s.pixels * 3), mask = Take<uint8_t>(o, "mask", s.pixels);
  auto base = Take<uint8_t>(o, "base", s.pixels * 3);
  auto weights = Take<float>(o, "fusionWeights", 3);
  return Run<Napi::Uint8Array, uint8_t>(info.Env(), [a, b, mask, base, weights, s] {
    const std::vector<float> labA = rr::RgbToLab(a->data(), s.pixels, s.threads), labB = rr::RgbToLab(b->data(), s.pixels, s.threads);
    const std::vector<float> baseLab = rr::RgbToLab(base->data(), s.pixels, s.threads);
    const std::vector<float> lab = rr::GradientFusionLab(labA.data(), labB.data(), mask->data(), baseLab.data(), s.width, s.height, weights->data(), s.threads);
    return rr::LabToRgb(lab.data(), s.pixels, s.threads);
  });
}

Napi::Value ScreenedPoisson(const Napi::CallbackInfo& info) {
  const rr::Options o = OptionsOf(info, "screenedPoisson");
  Size s = SizeOf(o);
  auto base = Take<float>(o, "base", s.pixels), gx = Take<float>(o, "gx", s.pixels), gy = Take<float>(o, "gy", s.pixels);
  const float weight = static_cast<float>(o.Number("weight", 1.0, 0, rr::kFinite));
  return Run<Napi::Float32Array, float>(info.Env(), [base, gx, gy, s, weight] {
    return rr::SolveScreenedPoisson(base->data(), gx->data(), gy->data(), s.width, s.height, weight, s.threads);
  });
}

}  // namespace

void InitBlend(Napi::Env env, Napi::Object exports) {
  exports.Set("rgbToLab", Napi::Function::New(env, RgbToLab, "rgbToLab"));
  exports.Set("labToRgb", Napi::Function::New(env, LabToRgb, "labToRgb"));
  exports.Set("blendMask", Napi::Function::New(env, BlendMask, "blendMask"));
  exports.Set("blendDirections", Napi::Function::New(env, BlendDirections, "blendDirections"));
  exports.Set("gradientFusion", Napi::Function::New(env, GradientFusion, "gradientFusion"));
  exports.Set("screenedPoisson", Napi::Function::New(env, ScreenedPoisson, "screenedPoisson"));
}
