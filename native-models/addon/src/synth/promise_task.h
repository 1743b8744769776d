// Runs native work off the JS thread and settles a Promise: the one async pattern of the synthesis
// and blending bindings. Work returns false when it was cancelled (rejected as a CancelledError).
#pragma once
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rr {

class PromiseTask : public Napi::AsyncWorker {
 public:
  using Work = std::function<bool()>;
  using Result = std::function<Napi::Value(Napi::Env)>;

  static Napi::Promise Start(Napi::Env env, Work work, Result result) {
    auto* task = new PromiseTask(env, std::move(work), std::move(result));
    Napi::Promise promise = task->deferred_.Promise();
    task->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      completed_ = work_();
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("the native engine failed with an unknown error");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!completed_) {
      Napi::Error err = Napi::Error::New(env, "cancelled");
      err.Set("name", Napi::String::New(env, "CancelledError"));
      deferred_.Reject(err.Value());
      return;
    }
    try {
      deferred_.Resolve(result_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  PromiseTask(Napi::Env env, Work work, Result result)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), result_(std::move(result)) {}
  Napi::Promise::Deferred deferred_;
  Work work_;
  Result result_;
  bool completed_ = false;
};

// A cancel flag shared with JS: an Int32Array whose first element JS sets to non-zero to cancel.
// The reference keeps its buffer alive while native work reads it between iterations.
class CancelFlag {
 public:
  CancelFlag() = default;
  explicit CancelFlag(const Napi::Value& v) {
    if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array && v.As<Napi::Int32Array>().ElementLength() > 0) {
      ref_ = std::make_shared<Napi::Reference<Napi::Int32Array>>(Napi::Persistent(v.As<Napi::Int32Array>()));
      flag_ = v.As<Napi::Int32Array>().Data();
    }
  }
  bool IsSet() const { return flag_ != nullptr && *static_cast<volatile int32_t*>(flag_) != 0; }

 private:
  std::shared_ptr<Napi::Reference<Napi::Int32Array>> ref_;
  int32_t* flag_ = nullptr;
};

template <typename T> constexpr napi_typedarray_type ArrayTypeOf();
template <> constexpr napi_typedarray_type ArrayTypeOf<uint8_t>() { return napi_uint8_array; }
template <> constexpr napi_typedarray_type ArrayTypeOf<int32_t>() { return napi_int32_array; }
template <> constexpr napi_typedarray_type ArrayTypeOf<float>() { return napi_float32_array; }

inline const char* ArrayTypeName(napi_typedarray_type t) {
  return t == napi_uint8_array ? "Uint8Array" : t == napi_int32_array ? "Int32Array" : "Float32Array";
}

// Copies a typed array property into a vector, with a clear error naming the property.
template <typename T>
std::vector<T> CopyArray(const Napi::Object& obj, const char* key, bool optional = false) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (optional) return {};
    throw Napi::TypeError::New(obj.Env(), std::string("missing ") + ArrayTypeName(ArrayTypeOf<T>()) + " '" + key + "'");
  }
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ArrayTypeOf<T>())
    throw Napi::TypeError::New(obj.Env(), std::string("'") + key + "' must be a " + ArrayTypeName(ArrayTypeOf<T>()));
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

inline int IntProp(const Napi::Object& obj, const char* key, int fallback) {
  Napi::Value v = obj.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}

inline double NumberProp(const Napi::Object& obj, const char* key, double fallback) {
  Napi::Value v = obj.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

template <typename Arr, typename T>
Arr ToTypedArray(Napi::Env env, const std::vector<T>& v) {
  Arr a = Arr::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

}  // namespace rr
