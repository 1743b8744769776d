// Sum of squared differences of two float runs: the hot inner loop of patch matching.
// Fixed accumulation order (so results are bit-identical run to run), SSE2/NEON where available.
#pragma once
#include <cstring>
#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define RR_SSE2 1
#elif defined(__ARM_NEON) || defined(_M_ARM64)
#include <arm_neon.h>
#define RR_NEON 1
#endif

namespace rr {

// x86-64 with GCC or Clang: the SSE2 loop below written with the compilers' vector types, eight lanes
// wide. Lane k of the 8-wide sum holds what lane k % 4 of the SSE2 loop's accumulator k / 4 held, the
// same products and sums in the same order, reduced the same way, so the results are the same bits.
// Compiled for the baseline it is that SSE2 loop; inside a function built for AVX2 (RR_SYNTH_AVX2_CLONE,
// the callers of the patch distance) each line is one 256-bit instruction instead of two 128-bit ones.
// AVX2 without FMA: every product and sum is still rounded on its own, as in the baseline.
#if defined(RR_SSE2) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RR_SSD_VECTOR_TYPES 1
#if defined(__linux__)
#define RR_SYNTH_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef RR_SYNTH_AVX2_CLONE
#define RR_SYNTH_AVX2_CLONE
#endif

#if defined(RR_SSD_VECTOR_TYPES)
typedef float RrFloat8 __attribute__((vector_size(32)));
typedef float RrFloat4 __attribute__((vector_size(16)));
#endif

inline float SumSquaredDiff(const float* a, const float* b, int n) {
  int i = 0;
  float sum = 0.f;
#if defined(RR_SSD_VECTOR_TYPES)
  RrFloat8 acc = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  for (; i + 8 <= n; i += 8) {
    RrFloat8 va, vb;  // unaligned loads
    std::memcpy(&va, a + i, sizeof va);
    std::memcpy(&vb, b + i, sizeof vb);
    const RrFloat8 d = va - vb;
    acc += d * d;
  }
  RrFloat4 acc0 = {acc[0], acc[1], acc[2], acc[3]};
  const RrFloat4 acc1 = {acc[4], acc[5], acc[6], acc[7]};
  if (i + 4 <= n) {
    RrFloat4 va, vb;
    std::memcpy(&va, a + i, sizeof va);
    std::memcpy(&vb, b + i, sizeof vb);
    const RrFloat4 d = va - vb;
    acc0 += d * d;
    i += 4;
  }
  const RrFloat4 s = acc0 + acc1;
  sum = (s[0] + s[2]) + (s[1] + s[3]);
#elif defined(RR_SSE2)
  __m128 acc0 = _mm_setzero_ps(), acc1 = _mm_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    __m128 d0 = _mm_sub_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i));
    __m128 d1 = _mm_sub_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4));
    acc0 = _mm_add_ps(acc0, _mm_mul_ps(d0, d0));
    acc1 = _mm_add_ps(acc1, _mm_mul_ps(d1, d1));
  }
  if (i + 4 <= n) {
    __m128 d0 = _mm_sub_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i));
    acc0 = _mm_add_ps(acc0, _mm_mul_ps(d0, d0));
    i += 4;
  }
  __m128 acc = _mm_add_ps(acc0, acc1);
  acc = _mm_add_ps(acc, _mm_movehl_ps(acc, acc));
  acc = _mm_add_ss(acc, _mm_shuffle_ps(acc, acc, 1));
  sum = _mm_cvtss_f32(acc);
#elif defined(RR_NEON)
  float32x4_t acc0 = vdupq_n_f32(0.f), acc1 = vdupq_n_f32(0.f);
  for (; i + 8 <= n; i += 8) {
    float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
    float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    acc0 = vmlaq_f32(acc0, d0, d0);
    acc1 = vmlaq_f32(acc1, d1, d1);
  }
  float32x4_t acc = vaddq_f32(acc0, acc1);
  float lanes[4];
  vst1q_f32(lanes, acc);
  sum = (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
#else
  float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
  for (; i + 4 <= n; i += 4) {
    float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1], d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
    s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
  }
  sum = (s0 + s2) + (s1 + s3);
#endif
  for (; i < n; ++i) {
    float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

}  // namespace rr
