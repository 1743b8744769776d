// The one async pattern of the bindings: native work runs on the libuv pool and settles a Promise.
// Inputs are read (and checked) on the JS thread first; an exception thrown by the work rejects the
// promise with its message, and work that returns false was cancelled (rejected as a CancelledError).
#pragma once
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rr {

class PromiseTask : public Napi::AsyncWorker {
 public:
  /** Runs off the JS thread; returns false when it stopped because it was cancelled. */
  using Work = std::function<bool()>;
  /** Builds the resolved value on the JS thread once the work is done. */
  using Result = std::function<Napi::Value(Napi::Env)>;

  /**
   * Queues `work`; the promise resolves with `result(env)`. `keep`: JS values the work reads or writes
   * in place (typed arrays made on the JS thread), held until the promise settles.
   */
  static Napi::Promise Start(Napi::Env env, Work work, Result result, std::initializer_list<Napi::Value> keep = {}) {
    auto* task = new PromiseTask(env, std::move(work), std::move(result), keep);
    Napi::Promise promise = task->deferred_.Promise();
    task->Queue();
    return promise;
  }

  /** Queues `work`, which fills the arrays of `result` (made on the JS thread); resolves with `result`. */
  static Napi::Promise Fill(Napi::Env env, std::function<void()> work, Napi::Object result, std::initializer_list<Napi::Value> keep = {}) {
    std::vector<Napi::Value> held{result};
    held.insert(held.end(), keep.begin(), keep.end());
    auto* task = new PromiseTask(env, [work = std::move(work)] { work(); return true; }, nullptr, held);
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
      deferred_.Resolve(result_ ? result_(env) : keep_.Value().Get(uint32_t(0)));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  template <typename Values>
  PromiseTask(Napi::Env env, Work work, Result result, const Values& keep)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), result_(std::move(result)) {
    Napi::Array held = Napi::Array::New(env, keep.size());
    uint32_t i = 0;
    for (const Napi::Value& v : keep) held.Set(i++, v);
    keep_ = Napi::Persistent(held.template As<Napi::Object>());
  }
  Napi::Promise::Deferred deferred_;
  Work work_;
  Result result_;
  Napi::ObjectReference keep_;
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

// A vector copied into a new typed array of the same element type (on the JS thread).
template <typename Arr, typename T>
Arr ToTypedArray(Napi::Env env, const std::vector<T>& v) {
  Arr a = Arr::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

}  // namespace rr
