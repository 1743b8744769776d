// Sum of squared differences of two float runs: the hot inner loop of patch matching.
// Fixed accumulation order (so results are bit-identical run to run), SSE2/NEON where available.
#pragma once
#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define RR_SSE2 1
#elif defined(__ARM_NEON) || defined(_M_ARM64)
#include <arm_neon.h>
#define RR_NEON 1
#endif

namespace rr {

inline float SumSquaredDiff(const float* a, const float* b, int n) {
  int i = 0;
  float sum = 0.f;
#if defined(RR_SSE2)
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
