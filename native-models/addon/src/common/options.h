// The one reader of a binding's arguments: numbers, booleans, strings and typed arrays from a JS options
// object (or a positional argument), on the JS thread. A missing option takes its default; a wrong type
// is a TypeError and a value out of range a RangeError, each naming the call and the option.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/limits.h"
#include "common/parallel.h"

namespace rr {

/** The largest finite double: a range "from 0 to kFinite" only refuses negatives, NaN and infinities. */
constexpr double kFinite = std::numeric_limits<double>::max();
/** The largest int: for sizes, whose real limit CheckImageSize then applies with its own message. */
constexpr int kAnyInt = std::numeric_limits<int>::max();

template <typename T> constexpr napi_typedarray_type ArrayTypeOf();
template <> constexpr napi_typedarray_type ArrayTypeOf<uint8_t>() { return napi_uint8_array; }
template <> constexpr napi_typedarray_type ArrayTypeOf<int32_t>() { return napi_int32_array; }
template <> constexpr napi_typedarray_type ArrayTypeOf<float>() { return napi_float32_array; }

inline const char* ArrayTypeName(napi_typedarray_type t) {
  return t == napi_uint8_array ? "Uint8Array" : t == napi_int32_array ? "Int32Array" : t == napi_float32_array ? "Float32Array" : "typed array";
}

inline std::string Shown(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  std::string s = std::to_string(v);
  if (s.find('.') != std::string::npos) s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// A number checked against [min, max] (and whole when `whole`), the error naming `what`.
inline double CheckNumber(Napi::Env env, const Napi::Value& v, const std::string& what, double min, double max, bool whole) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number");
  const double x = v.As<Napi::Number>().DoubleValue();
  if (!(x >= min && x <= max) || (whole && std::floor(x) != x)) {
    throw Napi::RangeError::New(env, what + " must be " + (whole ? "a whole number " : "") + "from " + Shown(min) + " to " + Shown(max) + ", got " + Shown(x));
  }
  return x;
}

class Options {
 public:
  /** `call` names the function in errors; `v` undefined or null reads as no options. */
  Options(Napi::Env env, const Napi::Value& v, std::string call) : env_(env), call_(std::move(call)) {
    if (v.IsUndefined() || v.IsNull()) { object_ = Napi::Object::New(env); return; }
    if (!v.IsObject() || v.IsArray()) throw Napi::TypeError::New(env, call_ + ": expected an options object");
    object_ = v.As<Napi::Object>();
  }

  double Number(const char* key, double fallback, double min, double max) const {
    const Napi::Value v = object_.Get(key);
    return Absent(v) ? fallback : CheckNumber(env_, v, Named(key), min, max, false);
  }
  int Int(const char* key, int fallback, int min, int max) const {
    const Napi::Value v = object_.Get(key);
    return Absent(v) ? fallback : static_cast<int>(CheckNumber(env_, v, Named(key), min, max, true));
  }
  uint32_t Uint32(const char* key, uint32_t fallback) const {
    const Napi::Value v = object_.Get(key);
    return Absent(v) ? fallback : static_cast<uint32_t>(CheckNumber(env_, v, Named(key), 0, 4294967295.0, true));
  }
  bool Bool(const char* key, bool fallback) const {
    const Napi::Value v = object_.Get(key);
    if (Absent(v)) return fallback;
    if (!v.IsBoolean()) throw Napi::TypeError::New(env_, Named(key) + " must be true or false");
    return v.As<Napi::Boolean>().Value();
  }
  std::string String(const char* key, const std::string& fallback) const {
    const Napi::Value v = object_.Get(key);
    if (Absent(v)) return fallback;
    if (!v.IsString()) throw Napi::TypeError::New(env_, Named(key) + " must be a string");
    return v.As<Napi::String>().Utf8Value();
  }
  /** Worker threads: 0 or absent for every core, more than a few per core is held to that. */
  int Threads() const {
    return ClampThreads(Int("threads", 0, 0, 1 << 20), DefaultThreadCount());
  }
  /** A typed array option copied into a vector (empty when absent and `optional`). */
  template <typename T>
  std::vector<T> Array(const char* key, bool optional = false) const {
    const Napi::Value v = object_.Get(key);
    if (Absent(v)) {
      if (optional) return {};
      throw Napi::TypeError::New(env_, Named(key) + " is missing (a " + ArrayTypeName(ArrayTypeOf<T>()) + ")");
    }
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ArrayTypeOf<T>())
      throw Napi::TypeError::New(env_, Named(key) + " must be a " + ArrayTypeName(ArrayTypeOf<T>()));
    Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
    return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
  }
  Napi::Value Get(const char* key) const { return object_.Get(key); }
  Napi::Env Env() const { return env_; }
  /** "call: option 'key'", how errors about an option begin. */
  std::string Named(const char* key) const { return call_ + ": option '" + key + "'"; }

 private:
  static bool Absent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }
  Napi::Env env_;
  std::string call_;
  Napi::Object object_;
};

/** Positional argument `i`, a whole number in [min, max], named `name` in errors. */
inline int IntArgument(const Napi::CallbackInfo& info, size_t i, const std::string& name, int min, int max) {
  if (info.Length() <= i) throw Napi::TypeError::New(info.Env(), name + " must be a number");
  return static_cast<int>(CheckNumber(info.Env(), info[i], name, min, max, true));
}

}  // namespace rr
