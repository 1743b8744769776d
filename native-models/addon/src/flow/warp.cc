// Occlusion, backward warping and soft masks: simple per-pixel loops split by rows.
#include "flow/warp.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/parallel.h"
#include "flow/planes.h"

namespace rr::flow {
namespace {

// Bilinear sample of one channel of an interleaved field, border replicated.
inline float SampleInterleaved(const float* f, int w, int h, int channels, int c, float x, float y) {
  x = std::clamp(x, 0.f, float(w - 1));
  y = std::clamp(y, 0.f, float(h - 1));
  int x0 = int(x), y0 = int(y);
  int x1 = std::min(x0 + 1, w - 1), y1 = std::min(y0 + 1, h - 1);
  float fx = x - float(x0), fy = y - float(y0);
  const float* r0 = f + size_t(y0) * w * channels;
  const float* r1 = f + size_t(y1) * w * channels;
  float top = r0[x0 * channels + c] + fx * (r0[x1 * channels + c] - r0[x0 * channels + c]);
  float bottom = r1[x0 * channels + c] + fx * (r1[x1 * channels + c] - r1[x0 * channels + c]);
  return top + fy * (bottom - top);
}

inline float Store(float v, float*) { return v; }
inline uint8_t Store(float v, uint8_t*) { return uint8_t(std::clamp(std::lround(v), 0L, 255L)); }

template <typename T>
void WarpImpl(const T* src, int w, int h, int channels, const float* flow, bool bilinear, T* out, int threads) {
  ParallelFor(h, ThreadsFor(w * h, threads), [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < w; ++x) {
        size_t p = size_t(y) * w + x;
        float sx = std::clamp(float(x) + flow[2 * p], 0.f, float(w - 1));
        float sy = std::clamp(float(y) + flow[2 * p + 1], 0.f, float(h - 1));
        T* o = out + p * channels;
        if (!bilinear) {
          const T* s = src + (size_t(std::lround(sy)) * w + size_t(std::lround(sx))) * channels;
          for (int c = 0; c < channels; ++c) o[c] = s[c];
          continue;
        }
        int ix = int(sx), iy = int(sy);
        int ix1 = std::min(ix + 1, w - 1), iy1 = std::min(iy + 1, h - 1);
        float fx = sx - float(ix), fy = sy - float(iy);
        const T* a = src + (size_t(iy) * w + ix) * channels;
        const T* b = src + (size_t(iy) * w + ix1) * channels;
        const T* c0 = src + (size_t(iy1) * w + ix) * channels;
        const T* d = src + (size_t(iy1) * w + ix1) * channels;
        for (int c = 0; c < channels; ++c) {
          float top = float(a[c]) + fx * (float(b[c]) - float(a[c]));
          float bottom = float(c0[c]) + fx * (float(d[c]) - float(c0[c]));
          o[c] = Store(top + fy * (bottom - top), o);
        }
      }
    }
  });
}

}  // namespace

void OcclusionMask(const float* forward, const float* backward, int w, int h, uint8_t* out, int threads) {
  ParallelFor(h, ThreadsFor(w * h, threads), [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < w; ++x) {
        size_t p = size_t(y) * w + x;
        float bx = backward[2 * p], by = backward[2 * p + 1];
        float sx = float(x) + bx, sy = float(y) + by;
        if (sx < 0.f || sy < 0.f || sx > float(w - 1) || sy > float(h - 1)) { out[p] = 255; continue; }
        float fx = SampleInterleaved(forward, w, h, 2, 0, sx, sy);
        float fy = SampleInterleaved(forward, w, h, 2, 1, sx, sy);
        float ex = bx + fx, ey = by + fy;
        float mismatch = std::sqrt(ex * ex + ey * ey);
        float magnitude = std::sqrt(fx * fx + fy * fy) + std::sqrt(bx * bx + by * by);
        out[p] = mismatch > 0.01f * magnitude + 0.5f ? 255 : 0;
      }
    }
  });
}

void WarpBackward(const uint8_t* src, int w, int h, int channels, const float* flow, bool bilinear, uint8_t* out, int threads) {
  WarpImpl(src, w, h, channels, flow, bilinear, out, threads);
}

void WarpBackward(const float* src, int w, int h, int channels, const float* flow, bool bilinear, float* out, int threads) {
  WarpImpl(src, w, h, channels, flow, bilinear, out, threads);
}

void SoftMask(const uint8_t* mask, int w, int h, int dilate, int blurSize, float sigma, float* out, int threads) {
  int t = ThreadsFor(w * h, threads);
  int r = std::max(0, dilate / 2);
  // Separable max filter (out-of-frame samples ignored, as padding with -inf would).
  Plane rowMax(w, h), dilated(w, h);
  ParallelFor(h, t, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const uint8_t* m = mask + size_t(y) * w;
      float* o = rowMax.row(y);
      for (int x = 0; x < w; ++x) {
        uint8_t best = 0;
        for (int k = std::max(0, x - r); k <= std::min(w - 1, x + r); ++k) best = std::max(best, m[k]);
        o[x] = best >= 128 ? 1.f : 0.f;
      }
    }
  });
  ParallelFor(h, t, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      float* o = dilated.row(y);
      for (int x = 0; x < w; ++x) {
        float best = 0.f;
        for (int k = std::max(0, y - r); k <= std::min(h - 1, y + r); ++k) best = std::max(best, rowMax.row(k)[x]);
        o[x] = best;
      }
    }
  });
  int br = std::max(0, blurSize / 2);
  std::vector<float> kernel(2 * br + 1);
  float total = 0.f;
  for (int i = -br; i <= br; ++i) total += kernel[i + br] = std::exp(-float(i * i) / (2.f * sigma * sigma));
  for (float& k : kernel) k /= total;
  // Mirror (reflect, edge not repeated) padding; tiny images fall back to clamping.
  auto mirror = [](int i, int n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  Plane blurX(w, h);
  ParallelFor(h, t, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* s = dilated.row(y);
      float* o = blurX.row(y);
      for (int x = 0; x < w; ++x) {
        float acc = 0.f;
        for (int i = -br; i <= br; ++i) acc += kernel[i + br] * s[mirror(x + i, w)];
        o[x] = acc;
      }
    }
  });
  ParallelFor(h, t, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < w; ++x) {
        float acc = 0.f;
        for (int i = -br; i <= br; ++i) acc += kernel[i + br] * blurX.row(mirror(y + i, h))[x];
        float o = mask[size_t(y) * w + x] >= 128 ? 1.f : 0.f;
        out[size_t(y) * w + x] = std::min(1.f, acc + o);
      }
    }
  });
}

}  // namespace rr::flow
