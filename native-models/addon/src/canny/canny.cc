// Canny edge detector; rows are split across threads for the filters, hysteresis is a serial flood fill.
#include "canny/canny.h"

#include <algorithm>
#include <cmath>

#include "common/parallel.h"

namespace rr {
namespace {

inline int Clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

std::vector<float> ToLuma(const uint8_t* px, int w, int h, int c, int threads) {
  std::vector<float> out(static_cast<size_t>(w) * h);
  ParallelFor(h, threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const uint8_t* row = px + static_cast<size_t>(y) * w * c;
      float* dst = out.data() + static_cast<size_t>(y) * w;
      if (c >= 3) {
        for (int x = 0; x < w; ++x) dst[x] = 0.299f * row[x * c] + 0.587f * row[x * c + 1] + 0.114f * row[x * c + 2];
      } else {
        for (int x = 0; x < w; ++x) dst[x] = row[x * c];
      }
    }
  });
  return out;
}

// Separable Gaussian with replicated borders; radius ceil(3 sigma) keeps the kernel's tails negligible.
void GaussianBlur(std::vector<float>& img, int w, int h, double sigma, int threads) {
  if (sigma <= 0) return;
  const int r = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<float> k(2 * r + 1);
  float sum = 0;
  for (int i = -r; i <= r; ++i) sum += k[i + r] = static_cast<float>(std::exp(-(i * i) / (2 * sigma * sigma)));
  for (float& v : k) v /= sum;
  std::vector<float> tmp(img.size());
  ParallelFor(h, threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* src = img.data() + static_cast<size_t>(y) * w;
      float* dst = tmp.data() + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; ++x) {
        float acc = 0;
        for (int i = -r; i <= r; ++i) acc += k[i + r] * src[Clamp(x + i, 0, w - 1)];
        dst[x] = acc;
      }
    }
  });
  ParallelFor(h, threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      float* dst = img.data() + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; ++x) dst[x] = 0;
      for (int i = -r; i <= r; ++i) {
        const float* src = tmp.data() + static_cast<size_t>(Clamp(y + i, 0, h - 1)) * w;
        const float kw = k[i + r];
        for (int x = 0; x < w; ++x) dst[x] += kw * src[x];
      }
    }
  });
}

}  // namespace

std::vector<uint8_t> CannyEdges(const uint8_t* pixels, int w, int h, int c, const CannyOptions& o) {
  const int threads = o.threads > 0 ? o.threads : DefaultThreadCount();
  const size_t n = static_cast<size_t>(w) * h;
  std::vector<float> luma = ToLuma(pixels, w, h, c, threads);
  GaussianBlur(luma, w, h, o.blurSigma, threads);

  // Sobel gradients and magnitude.
  std::vector<float> gx(n), gy(n), mag(n);
  ParallelFor(h, threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* up = luma.data() + static_cast<size_t>(Clamp(y - 1, 0, h - 1)) * w;
      const float* mid = luma.data() + static_cast<size_t>(y) * w;
      const float* dn = luma.data() + static_cast<size_t>(Clamp(y + 1, 0, h - 1)) * w;
      for (int x = 0; x < w; ++x) {
        const int l = Clamp(x - 1, 0, w - 1), r = Clamp(x + 1, 0, w - 1);
        const float dx = (up[r] + 2 * mid[r] + dn[r]) - (up[l] + 2 * mid[l] + dn[l]);
        const float dy = (dn[l] + 2 * dn[x] + dn[r]) - (up[l] + 2 * up[x] + up[r]);
        const size_t i = static_cast<size_t>(y) * w + x;
        gx[i] = dx;
        gy[i] = dy;
        mag[i] = o.l2 ? std::sqrt(dx * dx + dy * dy) : std::fabs(dx) + std::fabs(dy);
      }
    }
  });

  // Non-maximum suppression along the gradient direction, quantised to 0/45/90/135 degrees;
  // classify survivors as strong (2) or weak (1).
  const float tan22 = 0.41421356f, tan67 = 2.41421356f;
  const float lo = static_cast<float>(std::min(o.low, o.high)), hi = static_cast<float>(std::max(o.low, o.high));
  std::vector<uint8_t> cls(n, 0);
  ParallelFor(h, threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < w; ++x) {
        const size_t i = static_cast<size_t>(y) * w + x;
        const float m = mag[i];
        if (m <= lo) continue;
        const float ax = std::fabs(gx[i]), ay = std::fabs(gy[i]);
        int dx1, dy1;
        if (ay <= tan22 * ax) { dx1 = 1; dy1 = 0; }
        else if (ay >= tan67 * ax) { dx1 = 0; dy1 = 1; }
        else { dx1 = 1; dy1 = (gx[i] > 0) == (gy[i] > 0) ? 1 : -1; }
        const int xa = Clamp(x + dx1, 0, w - 1), ya = Clamp(y + dy1, 0, h - 1);
        const int xb = Clamp(x - dx1, 0, w - 1), yb = Clamp(y - dy1, 0, h - 1);
        const float ma = mag[static_cast<size_t>(ya) * w + xa], mb = mag[static_cast<size_t>(yb) * w + xb];
        // Ties go to one side only (> on one neighbour, >= on the other) so plateaus stay one pixel thin.
        if (m > ma && m >= mb) cls[i] = m > hi ? 2 : 1;
      }
    }
  });

  // Hysteresis: keep weak pixels 8-connected to a strong one.
  std::vector<uint8_t> out(n, 0);
  std::vector<int> stack;
  for (size_t start = 0; start < n; ++start) {
    if (cls[start] != 2 || out[start]) continue;
    out[start] = 255;
    stack.push_back(static_cast<int>(start));
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      const int y = i / w, x = i % w;
      for (int yy = std::max(0, y - 1); yy <= std::min(h - 1, y + 1); ++yy) {
        for (int xx = std::max(0, x - 1); xx <= std::min(w - 1, x + 1); ++xx) {
          const size_t j = static_cast<size_t>(yy) * w + xx;
          if (cls[j] && !out[j]) { out[j] = 255; stack.push_back(static_cast<int>(j)); }
        }
      }
    }
  }
  return out;
}

}  // namespace rr
