// Grey conversion, pyramid levels, derivatives and flow upsampling for the flow estimator.
#include "flow/planes.h"

#include <algorithm>

#include "common/parallel.h"

namespace rr::flow {

int ThreadsFor(int pixels, int threads) {
  return std::max(1, std::min(threads, pixels / kMinPixelsPerThread));
}

Plane ToGrey(const uint8_t* pixels, int w, int h, int channels, int threads) {
  Plane out = Plane::Uninitialised(w, h);
  // Each channel's weighted value by table: the same products as computing them, fewer instructions.
  float lut[3][256];
  for (int i = 0; i < 256; ++i) {
    lut[0][i] = 0.299f * float(i);
    lut[1][i] = 0.587f * float(i);
    lut[2][i] = 0.114f * float(i);
  }
  ParallelFor(h, ThreadsFor(w * h, threads), [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const uint8_t* s = pixels + size_t(y) * w * channels;
      float* d = out.row(y);
      if (channels >= 3) {
        for (int x = 0; x < w; ++x, s += channels) d[x] = lut[0][s[0]] + lut[1][s[1]] + lut[2][s[2]];
      } else {
        for (int x = 0; x < w; ++x, s += channels) d[x] = float(s[0]);
      }
    }
  });
  return out;
}

namespace {

// Columns [lo, hi) of one row of the horizontal pass: every tap inside the row.
RR_AVX2_CLONE void BinomialRow(const float* s, float* d, int lo, int hi, int step) {
  if (step == 1) {
    for (int x = lo; x < hi; ++x) d[x] = (s[x - 2] + s[x + 2] + 4.f * (s[x - 1] + s[x + 1]) + 6.f * s[x]) * (1.f / 16.f);
  } else {
    for (int x = lo; x < hi; ++x) {
      const float* c = s + step * x;
      d[x] = (c[-2] + c[2] + 4.f * (c[-1] + c[1]) + 6.f * c[0]) * (1.f / 16.f);
    }
  }
}

// One row of the vertical pass from the five rows a..f around it.
RR_AVX2_CLONE void BinomialColumns(const float* a, const float* b, const float* m, const float* e, const float* f, float* d, int w) {
  for (int x = 0; x < w; ++x) d[x] = (a[x] + f[x] + 4.f * (b[x] + e[x]) + 6.f * m[x]) * (1.f / 16.f);
}

// Separable [1 4 6 4 1]/16 filter with replicated borders, evaluated at every `step`-th column and row.
Plane Binomial(const Plane& src, int step, int threads) {
  int w = (src.w + step - 1) / step, h = (src.h + step - 1) / step;
  auto clampX = [&](int x) { return x < 0 ? 0 : (x >= src.w ? src.w - 1 : x); };
  auto clampY = [&](int y) { return y < 0 ? 0 : (y >= src.h ? src.h - 1 : y); };
  Plane horiz = Plane::Uninitialised(w, src.h);
  // Output columns whose taps all lie inside the row: x in [lo, hi).
  const int lo = std::min(w, (2 + step - 1) / step), hi = std::max(lo, std::min(w, (src.w - 3) / step + 1));
  ParallelFor(src.h, ThreadsFor(src.w * src.h, threads), [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* s = src.row(y);
      float* d = horiz.row(y);
      auto edge = [&](int x) {
        int c = step * x;
        d[x] = (s[clampX(c - 2)] + s[clampX(c + 2)] + 4.f * (s[clampX(c - 1)] + s[clampX(c + 1)]) + 6.f * s[c]) * (1.f / 16.f);
      };
      for (int x = 0; x < lo; ++x) edge(x);
      BinomialRow(s, d, lo, hi, step);
      for (int x = hi; x < w; ++x) edge(x);
    }
  });
  Plane out = Plane::Uninitialised(w, h);
  ParallelFor(h, ThreadsFor(w * h, threads), [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      int c = step * y;
      const float* a = horiz.row(clampY(c - 2));
      const float* b = horiz.row(clampY(c - 1));
      const float* m = horiz.row(c);
      const float* e = horiz.row(clampY(c + 1));
      const float* f = horiz.row(clampY(c + 2));
      BinomialColumns(a, b, m, e, f, out.row(y), w);
    }
  });
  return out;
}

}  // namespace

Plane Downsample(const Plane& src, int threads) { return Binomial(src, 2, threads); }

Plane Smooth(const Plane& src, int threads) { return Binomial(src, 1, threads); }

void Gradients(const Plane& src, Plane& dx, Plane& dy, int threads) {
  int w = src.w, h = src.h;
  dx = Plane::Uninitialised(w, h);
  dy = Plane::Uninitialised(w, h);
  ParallelFor(h, ThreadsFor(w * h, threads), [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* s = src.row(y);
      const float* up = src.row(y > 0 ? y - 1 : y);
      const float* down = src.row(y + 1 < h ? y + 1 : y);
      float* gx = dx.row(y);
      float* gy = dy.row(y);
      if (w == 1) {
        gx[0] = 0.f;
      } else {
        gx[0] = s[1] - s[0];
        for (int x = 1; x < w - 1; ++x) gx[x] = 0.5f * (s[x + 1] - s[x - 1]);
        gx[w - 1] = s[w - 1] - s[w - 2];
      }
      float scale = (y > 0 && y + 1 < h) ? 0.5f : 1.f;
      for (int x = 0; x < w; ++x) gy[x] = scale * (down[x] - up[x]);
    }
  });
}

namespace {

// One fine row of a ×2 upsampled flow component. Fine pixel x sits at coarse x/2: even pixels
// copy a coarse sample, odd ones average two; the result is doubled, as one coarse pixel spans
// two fine ones. `stride` lets the caller write planar or interleaved output.
void UpsampleRow(const Plane& src, int y, int w, float* out, int stride) {
  int cy = std::min(y / 2, src.h - 1), cy1 = std::min(cy + 1, src.h - 1);
  const float* r0 = src.row(cy);
  const float* r1 = (y & 1) ? src.row(cy1) : r0;
  // Pairs (2c, 2c + 1) whose coarse samples c and c + 1 both exist, then the rest with clamping.
  int pairs = std::min(w / 2, src.w - 1);
  for (int c = 0; c < pairs; ++c) {
    out[size_t(2 * c) * stride] = r0[c] + r1[c];
    out[size_t(2 * c + 1) * stride] = 0.5f * (r0[c] + r0[c + 1]) + 0.5f * (r1[c] + r1[c + 1]);
  }
  for (int x = 2 * pairs; x < w; ++x) {
    int cx = std::min(x / 2, src.w - 1), cx1 = std::min(cx + 1, src.w - 1);
    float a = (x & 1) ? 0.5f * (r0[cx] + r0[cx1]) : r0[cx];
    float b = (x & 1) ? 0.5f * (r1[cx] + r1[cx1]) : r1[cx];
    out[size_t(x) * stride] = a + b;
  }
}

}  // namespace

void UpsampleFlow(const Plane& u, const Plane& v, int w, int h, Plane& outU, Plane& outV, int threads) {
  outU = Plane::Uninitialised(w, h);
  outV = Plane::Uninitialised(w, h);
  ParallelFor(h, ThreadsFor(w * h, threads), [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      UpsampleRow(u, y, w, outU.row(y), 1);
      UpsampleRow(v, y, w, outV.row(y), 1);
    }
  });
}

void UpsampleFlowInterleaved(const Plane& u, const Plane& v, int w, int h, float* out, int threads) {
  ParallelFor(h, ThreadsFor(w * h, threads), [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      UpsampleRow(u, y, w, out + size_t(y) * w * 2, 2);
      UpsampleRow(v, y, w, out + size_t(y) * w * 2 + 1, 2);
    }
  });
}

}  // namespace rr::flow
