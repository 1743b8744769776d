// Native kernels of weight loading: half <-> float conversion of whole tensors and the low-rank (LoRA)
// update W += scale * up @ down. Synchronous on purpose: graph builders read weights synchronously in
// the inference worker, whose JS thread has nothing else to do meanwhile; the work is spread over cores.
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/parallel.h"

namespace {

inline float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1fu) {
    bits = sign | 0x7f800000u | (mant << 13);  // infinity or NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);  // rebias 15 -> 127
  } else {
    // Zero or subnormal: value is mant * 2^-24, exact in float.
    float f = static_cast<float>(mant) * (1.0f / 16777216.0f);
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline uint16_t FloatToHalf(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xffu);
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0u));
  int32_t e = exp - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = 1u << (shift - 1);
    uint32_t rest = mant & ((1u << shift) - 1);
    uint32_t m = mant >> shift;
    if (rest > half || (rest == half && (m & 1u))) m++;
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t m = mant >> 13;
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (m & 1u))) {
    m++;
    if (m == 0x400u) {
      m = 0;
      e++;
      if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
    }
  }
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(e) << 10) | m);
}

// Splits [0, n) in blocks so threads get enough work to be worth starting.
template <typename Fn>
void ForBlocks(size_t n, Fn fn) {
  const size_t block = 1 << 16;
  int blocks = static_cast<int>((n + block - 1) / block);
  rr::ParallelFor(blocks, rr::DefaultThreadCount(), [&](int b0, int b1) {
    size_t begin = static_cast<size_t>(b0) * block;
    size_t end = std::min(n, static_cast<size_t>(b1) * block);
    fn(begin, end);
  });
}

template <typename T>
T Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsTypedArray()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a typed array");
  return info[i].As<T>();
}

Napi::Value HalfToFloatSync(const Napi::CallbackInfo& info) {
  auto in = Arg<Napi::Uint16Array>(info, 0, "half bits");
  auto out = Arg<Napi::Float32Array>(info, 1, "float output");
  if (in.ElementLength() != out.ElementLength()) throw Napi::RangeError::New(info.Env(), "input and output lengths differ");
  const uint16_t* src = in.Data();
  float* dst = out.Data();
  ForBlocks(in.ElementLength(), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) dst[i] = HalfToFloat(src[i]);
  });
  return info.Env().Undefined();
}

Napi::Value FloatToHalfSync(const Napi::CallbackInfo& info) {
  auto in = Arg<Napi::Float32Array>(info, 0, "float input");
  auto out = Arg<Napi::Uint16Array>(info, 1, "half output");
  if (in.ElementLength() != out.ElementLength()) throw Napi::RangeError::New(info.Env(), "input and output lengths differ");
  const float* src = in.Data();
  uint16_t* dst = out.Data();
  ForBlocks(in.ElementLength(), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) dst[i] = FloatToHalf(src[i]);
  });
  return info.Env().Undefined();
}

// mergeLowRankSync(weight[rows*cols], up[rows*rank], down[rank*cols], rank, scale): weight += scale*up@down.
// The update of a row is summed in double and added once, so the merged weight is rounded once.
Napi::Value MergeLowRankSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto weight = Arg<Napi::Float32Array>(info, 0, "weight");
  auto up = Arg<Napi::Float32Array>(info, 1, "up");
  auto down = Arg<Napi::Float32Array>(info, 2, "down");
  if (info.Length() < 5 || !info[3].IsNumber() || !info[4].IsNumber()) throw Napi::TypeError::New(env, "rank and scale must be numbers");
  int64_t rank = info[3].As<Napi::Number>().Int64Value();
  double scale = info[4].As<Napi::Number>().DoubleValue();
  if (rank <= 0 || up.ElementLength() % rank != 0 || down.ElementLength() % rank != 0) throw Napi::RangeError::New(env, "rank does not divide the up/down sizes");
  size_t rows = up.ElementLength() / rank;
  size_t cols = down.ElementLength() / rank;
  if (rows * cols != weight.ElementLength()) throw Napi::RangeError::New(env, "up @ down does not match the weight size");
  float* w = weight.Data();
  const float* u = up.Data();
  const float* d = down.Data();
  const size_t r = static_cast<size_t>(rank);
  rr::ParallelFor(static_cast<int>(rows), rr::DefaultThreadCount(), [&](int o0, int o1) {
    std::vector<double> acc(cols);
    for (int o = o0; o < o1; ++o) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (size_t k = 0; k < r; ++k) {
        const double uk = scale * static_cast<double>(u[static_cast<size_t>(o) * r + k]);
        if (uk == 0.0) continue;
        const float* dk = d + k * cols;
        double* a = acc.data();
        for (size_t j = 0; j < cols; ++j) a[j] += uk * static_cast<double>(dk[j]);
      }
      float* row = w + static_cast<size_t>(o) * cols;
      for (size_t j = 0; j < cols; ++j) row[j] = static_cast<float>(static_cast<double>(row[j]) + acc[j]);
    }
  });
  return env.Undefined();
}

}  // namespace

void InitWeights(Napi::Env env, Napi::Object exports) {
  exports.Set("halfToFloatSync", Napi::Function::New(env, HalfToFloatSync));
  exports.Set("floatToHalfSync", Napi::Function::New(env, FloatToHalfSync));
  exports.Set("mergeLowRankSync", Napi::Function::New(env, MergeLowRankSync));
}
