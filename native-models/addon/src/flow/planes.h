// Float image planes and the pyramid/gradient/sampling primitives the flow estimator is built from.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "common/parallel.h"  // rr::ParallelFor: chunks fixed by the thread count, run on the process's persistent pool

// The hottest loops are compiled twice where the toolchain can pick a version at load time (x86-64
// Linux, GCC or Clang): for AVX2 and for the baseline. AVX2 without FMA: every lane does the same
// IEEE operations either way (products and sums rounded separately), so the flows are bit-identical.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define RR_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define RR_AVX2_CLONE
#endif

namespace rr::flow {

// Allocates floats without zeroing them: for planes that are written in full before they are read.
template <typename T>
struct UninitialisedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind { using other = UninitialisedAllocator<U>; };
  UninitialisedAllocator() = default;
  template <typename U>
  UninitialisedAllocator(const UninitialisedAllocator<U>&) {}
  template <typename U>
  void construct(U* p) { ::new (static_cast<void*>(p)) U; }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) { ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...); }
};

// One channel of floats, row-major; the estimator works on grey planes and planar flow (u, v).
struct Plane {
  int w = 0, h = 0;
  std::vector<float, UninitialisedAllocator<float>> px;
  Plane() = default;
  Plane(int width, int height, float fill = 0.f) : w(width), h(height), px(size_t(width) * height, fill) {}
  // A plane whose values are undefined until written.
  static Plane Uninitialised(int width, int height) {
    Plane p;
    p.w = width;
    p.h = height;
    p.px.resize(size_t(width) * height);
    return p;
  }
  float* row(int y) { return px.data() + size_t(y) * w; }
  const float* row(int y) const { return px.data() + size_t(y) * w; }
};

// Rows of work below this many pixels run on one thread: spawning costs more than it saves.
constexpr int kMinPixelsPerThread = 4096;
int ThreadsFor(int pixels, int threads);

// Luma (BT.601) of an interleaved 8-bit image in 0..255; 1 channel is taken as grey, 2 as grey+alpha.
Plane ToGrey(const uint8_t* pixels, int w, int h, int channels, int threads);

// Half-size plane ((w+1)/2 × (h+1)/2): 5-tap binomial blur then every second sample, so that
// pixel x of the coarse level sits at 2x of the fine one.
Plane Downsample(const Plane& src, int threads);

// The same 5-tap binomial blur without decimation.
Plane Smooth(const Plane& src, int threads);

// Central-difference derivatives with replicated borders.
void Gradients(const Plane& src, Plane& dx, Plane& dy, int threads);

// Bilinear sample at (x, y) with the border replicated outside the plane.
inline float SampleBilinear(const Plane& p, float x, float y) {
  if (x < 0.f) x = 0.f;
  if (y < 0.f) y = 0.f;
  float maxX = float(p.w - 1), maxY = float(p.h - 1);
  if (x > maxX) x = maxX;
  if (y > maxY) y = maxY;
  int x0 = int(x), y0 = int(y);
  int x1 = x0 + 1 < p.w ? x0 + 1 : x0, y1 = y0 + 1 < p.h ? y0 + 1 : y0;
  float fx = x - float(x0), fy = y - float(y0);
  const float* r0 = p.row(y0);
  const float* r1 = p.row(y1);
  float top = r0[x0] + fx * (r0[x1] - r0[x0]);
  float bottom = r1[x0] + fx * (r1[x1] - r1[x0]);
  return top + fy * (bottom - top);
}

// Catmull-Rom bicubic sample at (x, y) with the border replicated outside the plane.
inline float SampleBicubic(const Plane& p, float x, float y) {
  if (x < 0.f) x = 0.f;
  if (y < 0.f) y = 0.f;
  if (x > float(p.w - 1)) x = float(p.w - 1);
  if (y > float(p.h - 1)) y = float(p.h - 1);
  int ix = int(x), iy = int(y);
  float wx[4], wy[4];
  for (int axis = 0; axis < 2; ++axis) {
    float t = axis == 0 ? x - float(ix) : y - float(iy);
    float t2 = t * t, t3 = t2 * t;
    float* w = axis == 0 ? wx : wy;
    w[0] = 0.5f * (-t3 + 2.f * t2 - t);
    w[1] = 0.5f * (3.f * t3 - 5.f * t2 + 2.f);
    w[2] = 0.5f * (-3.f * t3 + 4.f * t2 + t);
    w[3] = 0.5f * (t3 - t2);
  }
  float acc = 0.f;
  if (ix >= 1 && iy >= 1 && ix + 2 < p.w && iy + 2 < p.h) {
    for (int j = 0; j < 4; ++j) {
      const float* r = p.row(iy - 1 + j) + ix - 1;
      acc += wy[j] * (wx[0] * r[0] + wx[1] * r[1] + wx[2] * r[2] + wx[3] * r[3]);
    }
    return acc;
  }
  for (int j = 0; j < 4; ++j) {
    int yy = iy - 1 + j;
    const float* r = p.row(yy < 0 ? 0 : (yy >= p.h ? p.h - 1 : yy));
    float rowSum = 0.f;
    for (int i = 0; i < 4; ++i) {
      int xx = ix - 1 + i;
      rowSum += wx[i] * r[xx < 0 ? 0 : (xx >= p.w ? p.w - 1 : xx)];
    }
    acc += wy[j] * rowSum;
  }
  return acc;
}

// Flow of a coarse level brought to the next finer level of size (w, h): sampled bilinearly at x/2
// and doubled, since one coarse pixel spans two fine ones.
void UpsampleFlow(const Plane& u, const Plane& v, int w, int h, Plane& outU, Plane& outV, int threads);
// The same, written straight into an interleaved (dx, dy) field of w*h*2 floats.
void UpsampleFlowInterleaved(const Plane& u, const Plane& v, int w, int h, float* out, int threads);

}  // namespace rr::flow
