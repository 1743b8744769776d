// Motion-edge sharpening. Coarse-to-fine estimation blurs a motion boundary into a band where the two
// motions are mixed (the patches and the smoothness term both straddle it, and each upsampling widens
// the band): pixels there carry a vector that neither side has, and on fast motion that band holds
// most of the error (real frames warped by a field with a disc moving 30 px across it: 8 px mean
// error within 6 px of the disc's edge against 0.5 px elsewhere). Vectors taken a few pixels away
// belong to one side or the other, and the image decides which one each pixel follows.
#include "flow/motion_edges.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/parallel.h"

namespace rr::flow {
namespace {

constexpr int kMaxWindow = 3;
constexpr int kProbes = 8;
// Candidates closer than this (squared, px) count as the same vector.
constexpr float kSame2 = 1.f;
// A candidate replaces the pixel's own vector only when it explains the window clearly better:
// below this fraction of the own vector's cost, and by at least kMinGain grey levels per pixel (in
// flat areas every vector explains the window about as well, and noise would decide).
constexpr float kRelativeGain = 0.8f;
constexpr float kMinGain = 0.75f;
// Cost of a window sample whose displaced position falls outside `to` (grey levels).
constexpr float kOutsideCost = 24.f;

// Mean absolute difference, brightness offset removed, between the window of `from` around (x, y)
// and `to` displaced by (cu, cv), sampled bilinearly with one set of weights for the whole window.
float WindowCost(const Plane& from, const Plane& to, int x, int y, int r, float cu, float cv) {
  float d[(2 * kMaxWindow + 1) * (2 * kMaxWindow + 1)];
  const float fxFloor = std::floor(cu), fyFloor = std::floor(cv);
  const int ox = int(fxFloor), oy = int(fyFloor);
  const float fx = cu - fxFloor, fy = cv - fyFloor;
  const float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
  int n = 0, outside = 0;
  float sum = 0.f;
  if (x - r >= 0 && y - r >= 0 && x + r < from.w && y + r < from.h && x - r + ox >= 0 && y - r + oy >= 0 &&
      x + r + ox + 1 < to.w && y + r + oy + 1 < to.h) {
    const int side = 2 * r + 1;
    for (int j = 0; j < side; ++j) {
      const float* f = from.row(y - r + j) + x - r;
      const float* t0 = to.row(y - r + j + oy) + x - r + ox;
      const float* t1 = t0 + to.w;
      for (int i = 0; i < side; ++i) {
        const float e = w00 * t0[i] + w10 * t0[i + 1] + w01 * t1[i] + w11 * t1[i + 1] - f[i];
        d[n++] = e;
        sum += e;
      }
    }
  } else {
    const int x0 = std::max(0, x - r), x1 = std::min(from.w - 1, x + r);
    const int y0 = std::max(0, y - r), y1 = std::min(from.h - 1, y + r);
    for (int j = y0; j <= y1; ++j) {
      const int ty = j + oy;
      if (ty < 0 || ty + 1 >= to.h) { outside += x1 - x0 + 1; continue; }
      const float* f = from.row(j);
      const float* t0 = to.row(ty);
      const float* t1 = t0 + to.w;
      for (int i = x0; i <= x1; ++i) {
        const int tx = i + ox;
        if (tx < 0 || tx + 1 >= to.w) { ++outside; continue; }
        const float e = w00 * t0[tx] + w10 * t0[tx + 1] + w01 * t1[tx] + w11 * t1[tx + 1] - f[i];
        d[n++] = e;
        sum += e;
      }
    }
    if (n == 0) return kOutsideCost;
  }
  const float mean = sum / float(n);
  float cost = 0.f;
  for (int k = 0; k < n; ++k) cost += std::fabs(d[k] - mean);
  return (cost + kOutsideCost * float(outside)) / float(n + outside);
}

// |to(x + u, y + v) - from(x, y)| along one row of the interleaved flow.
RR_AVX2_CLONE void ResidualRow(const Plane& from, const Plane& to, const float* flow, int y, float* out) {
  const int w = from.w;
  const float* f = from.row(y);
  for (int x = 0; x < w; ++x) {
    const float sx = float(x) + flow[2 * x], sy = float(y) + flow[2 * x + 1];
    const int ix = int(sx), iy = int(sy);
    if (sx >= 0.f && sy >= 0.f && ix + 1 < to.w && iy + 1 < to.h) {
      const float fx = sx - float(ix), fy = sy - float(iy);
      const float* t0 = to.row(iy) + ix;
      const float* t1 = t0 + to.w;
      const float top = t0[0] + fx * (t0[1] - t0[0]), bottom = t1[0] + fx * (t1[1] - t1[0]);
      out[x] = std::fabs(top + fy * (bottom - top) - f[x]);
    } else {
      out[x] = std::fabs(SampleBilinear(to, sx, sy) - f[x]);
    }
  }
}

}  // namespace

void SharpenMotionEdges(const Plane& from, const Plane& to, float* flow, const MotionEdgeParams& p, int threads) {
  const int w = from.w, h = from.h;
  if (!p.enabled || w < 2 || h < 2) return;
  const int r = std::clamp(p.window, 1, kMaxWindow);
  const float jump2 = p.minJump * p.minJump;
  const int nearD = std::max(1, p.nearProbe), farD = std::max(nearD + 1, p.farProbe);
  const int probes[kProbes][2] = {{nearD, 0}, {-nearD, 0}, {0, nearD}, {0, -nearD}, {farD, 0}, {-farD, 0}, {0, farD}, {0, -farD}};
  const int rowThreads = ThreadsFor(w * h, threads);

  // How badly each pixel's own vector explains its 5×5 neighbourhood (mean absolute residual): where
  // it explains it well, no other vector can do clearly better, and the candidates are not tried.
  Plane resid = Plane::Uninitialised(w, h), gate = Plane::Uninitialised(w, h);
  ParallelFor(h, rowThreads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) ResidualRow(from, to, flow + size_t(y) * w * 2, y, resid.row(y));
  });
  ParallelFor(h, rowThreads, [&](int y0, int y1) {
    std::vector<float> col(size_t(w) + 4);
    for (int y = y0; y < y1; ++y) {
      // Column sums of five rows (replicated at the top and bottom), then five columns (likewise).
      const float* rows[5];
      for (int j = 0; j < 5; ++j) rows[j] = resid.row(std::clamp(y + j - 2, 0, h - 1));
      for (int x = 0; x < w; ++x) col[x + 2] = (rows[0][x] + rows[1][x]) + rows[2][x] + (rows[3][x] + rows[4][x]);
      col[0] = col[1] = col[2];
      col[w + 2] = col[w + 3] = col[w + 1];
      float* g = gate.row(y);
      for (int x = 0; x < w; ++x) g[x] = ((col[x] + col[x + 1]) + col[x + 2] + (col[x + 3] + col[x + 4])) * (1.f / 25.f);
    }
  });
  resid = Plane();

  // Every row band collects its changes and they are applied once all are chosen: each pixel's
  // choice depends on the field as it came in, never on another choice.
  struct Change { int index; float u, v; };
  const int chunks = std::max(1, (h + 15) / 16);
  std::vector<std::vector<Change>> changes(chunks);
  ParallelFor(chunks, std::min(rowThreads, chunks), [&](int c0, int c1) {
    for (int c = c0; c < c1; ++c) {
      for (int y = c * 16; y < std::min(h, c * 16 + 16); ++y) {
        const float* g = gate.row(y);
        for (int x = 0; x < w; ++x) {
          if (g[x] < p.gate) continue;
          const float ou = flow[2 * (size_t(y) * w + x)], ov = flow[2 * (size_t(y) * w + x) + 1];
          float cand[kProbes][2];
          int n = 0;
          for (const auto& o : probes) {
            const int qx = std::clamp(x + o[0], 0, w - 1), qy = std::clamp(y + o[1], 0, h - 1);
            const float cu = flow[2 * (size_t(qy) * w + qx)], cv = flow[2 * (size_t(qy) * w + qx) + 1];
            const float eu = cu - ou, ev = cv - ov;
            if (eu * eu + ev * ev <= jump2) continue;
            bool seen = false;
            for (int k = 0; k < n && !seen; ++k) {
              const float a = cu - cand[k][0], b = cv - cand[k][1];
              seen = a * a + b * b <= kSame2;
            }
            if (!seen) { cand[n][0] = cu; cand[n][1] = cv; ++n; }
          }
          if (n == 0) continue;  // no motion edge within reach
          const float own = WindowCost(from, to, x, y, r, ou, ov);
          float best = own, bu = ou, bv = ov;
          for (int k = 0; k < n; ++k) {
            const float cost = WindowCost(from, to, x, y, r, cand[k][0], cand[k][1]);
            if (cost < best) { best = cost; bu = cand[k][0]; bv = cand[k][1]; }
          }
          if (best < kRelativeGain * own && own - best >= kMinGain) changes[c].push_back({y * w + x, bu, bv});
        }
      }
    }
  });
  for (const auto& list : changes) {
    for (const Change& ch : list) { flow[2 * size_t(ch.index)] = ch.u; flow[2 * size_t(ch.index) + 1] = ch.v; }
  }
}

}  // namespace rr::flow
