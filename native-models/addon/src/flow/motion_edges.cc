// Motion-edge sharpening. Coarse-to-fine estimation blurs a motion boundary into a band where the two
// motions are mixed (the patches and the smoothness term both straddle it, and each upsampling widens
// the band): pixels there carry a vector that neither side has, and on fast motion that band holds
// most of the error (real frames warped by a field with a disc moving 30 px across it: 8 px mean
// error within 6 px of the disc's edge against 0.5 px elsewhere). Vectors taken a few pixels away
// belong to one side or the other, and the image decides which one each pixel follows.
#include "flow/motion_edges.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/parallel.h"

namespace rr::flow {
namespace {

constexpr int kMaxWindow = 3;
constexpr int kProbes = 8;
// Side of the square tiles in which the field is first checked for a jump.
constexpr int kTile = 8;
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
template <int kR>
inline float WindowCostT(const Plane& from, const Plane& to, int x, int y, float cu, float cv) {
  constexpr int r = kR;
  float d[(2 * kR + 1) * (2 * kR + 1)];
  const float fxFloor = std::floor(cu), fyFloor = std::floor(cv);
  const int ox = int(fxFloor), oy = int(fyFloor);
  const float fx = cu - fxFloor, fy = cv - fyFloor;
  const float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
  int n = 0, outside = 0;
  float sum = 0.f;
  if (x - r >= 0 && y - r >= 0 && x + r < from.w && y + r < from.h && x - r + ox >= 0 && y - r + oy >= 0 &&
      x + r + ox + 1 < to.w && y + r + oy + 1 < to.h) {
    constexpr int side = 2 * kR + 1;
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

inline float WindowCost(const Plane& from, const Plane& to, int x, int y, int r, float cu, float cv) {
  switch (r) {
    case 1: return WindowCostT<1>(from, to, x, y, cu, cv);
    case 2: return WindowCostT<2>(from, to, x, y, cu, cv);
    default: return WindowCostT<kMaxWindow>(from, to, x, y, cu, cv);
  }
}

// |to(x + u, y + v) - from(x, y)| for pixels [x0, x1) of row y of the interleaved flow.
void ResidualRun(const Plane& from, const Plane& to, const float* flow, int y, int x0, int x1, float* out) {
  const float* f = from.row(y);
  for (int x = x0; x < x1; ++x) {
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

RR_AVX2_CLONE void ColumnSums(const float* const* rows, int x0, int x1, float* col) {
  for (int x = x0; x < x1; ++x) col[x] = (rows[0][x] + rows[1][x]) + rows[2][x] + (rows[3][x] + rows[4][x]);
}

struct Change { int index; float u, v; };

struct RowArgs {
  const Plane& from;
  const Plane& to;
  const float* flow;
  int w, h, r;
  float jump2, farJump2, gate;
  const int (*probes)[2];
};

// The choices of one row: the pixels whose vector should change, with their new vectors.
RR_AVX2_CLONE void ChooseRow(const RowArgs& a, const float* g, int y, std::vector<Change>& out) {
  const int w = a.w, h = a.h;
  const float* flow = a.flow;
  for (int x = 0; x < w; ++x) {
    if (g[x] < a.gate) continue;
    const float ou = flow[2 * (size_t(y) * w + x)], ov = flow[2 * (size_t(y) * w + x) + 1];
    float cand[kProbes][2];
    int n = 0;
    for (int k = 0; k < kProbes; ++k) {
      const int qx = std::clamp(x + a.probes[k][0], 0, w - 1), qy = std::clamp(y + a.probes[k][1], 0, h - 1);
      const float cu = flow[2 * (size_t(qy) * w + qx)], cv = flow[2 * (size_t(qy) * w + qx) + 1];
      const float eu = cu - ou, ev = cv - ov;
      if (eu * eu + ev * ev <= (k < kProbes / 2 ? a.jump2 : a.farJump2)) continue;
      bool seen = false;
      for (int m = 0; m < n && !seen; ++m) {
        const float du = cu - cand[m][0], dv = cv - cand[m][1];
        seen = du * du + dv * dv <= kSame2;
      }
      if (!seen) { cand[n][0] = cu; cand[n][1] = cv; ++n; }
    }
    if (n == 0) continue;  // no motion edge within reach
    const float own = WindowCost(a.from, a.to, x, y, a.r, ou, ov);
    float best = own, bu = ou, bv = ov;
    for (int k = 0; k < n; ++k) {
      const float cost = WindowCost(a.from, a.to, x, y, a.r, cand[k][0], cand[k][1]);
      if (cost < best) { best = cost; bu = cand[k][0]; bv = cand[k][1]; }
    }
    if (best < kRelativeGain * own && own - best >= kMinGain) out.push_back({y * w + x, bu, bv});
  }
}

}  // namespace

void SharpenMotionEdges(const Plane& from, const Plane& to, float* flow, const MotionEdgeParams& p, int threads) {
  const int w = from.w, h = from.h;
  if (!p.enabled || w < 2 || h < 2) return;
  const int r = std::clamp(p.window, 1, kMaxWindow);
  const float jump2 = p.minJump * p.minJump;
  const float farJump2 = p.farJump * p.farJump;
  const int nearD = std::max(1, p.nearProbe), farD = std::max(nearD + 1, p.farProbe);
  const int probes[kProbes][2] = {{nearD, 0}, {-nearD, 0}, {0, nearD}, {0, -nearD}, {farD, 0}, {-farD, 0}, {0, farD}, {0, -farD}};
  const int rowThreads = ThreadsFor(w * h, threads);

  // Where a motion edge can be at all: tiles whose flow (with a one-pixel border) spans more than
  // tileJump, widened by the farthest probe. Ordinary smooth motion leaves most of a frame out of it.
  const float tileJump2 = p.tileJump * p.tileJump;
  const int tw = (w + kTile - 1) / kTile, th = (h + kTile - 1) / kTile;
  std::vector<uint8_t> edgeTile(size_t(tw) * th, 0);
  ParallelFor(th, std::min(rowThreads, th), [&](int t0, int t1) {
    for (int ty = t0; ty < t1; ++ty) {
      const int ya = ty * kTile, yb = std::min(h, ya + kTile + 1);
      for (int tx = 0; tx < tw; ++tx) {
        const int xa = tx * kTile, xb = std::min(w, xa + kTile + 1);
        float minU = flow[2 * (size_t(ya) * w + xa)], maxU = minU, minV = flow[2 * (size_t(ya) * w + xa) + 1], maxV = minV;
        for (int y = ya; y < yb; ++y) {
          const float* f = flow + 2 * (size_t(y) * w);
          for (int x = xa; x < xb; ++x) {
            minU = std::min(minU, f[2 * x]); maxU = std::max(maxU, f[2 * x]);
            minV = std::min(minV, f[2 * x + 1]); maxV = std::max(maxV, f[2 * x + 1]);
          }
        }
        const float du = maxU - minU, dv = maxV - minV;
        edgeTile[size_t(ty) * tw + tx] = du * du + dv * dv > tileJump2;
      }
    }
  });
  // Tiles within reach of an edge tile (probes), and one tile more for the 5×5 residual sums.
  const int reach = (farD + kTile - 1) / kTile;
  auto dilate = [&](const std::vector<uint8_t>& in, int by) {
    std::vector<uint8_t> out(in.size(), 0);
    for (int ty = 0; ty < th; ++ty) for (int tx = 0; tx < tw; ++tx) {
      if (!in[size_t(ty) * tw + tx]) continue;
      for (int j = std::max(0, ty - by); j <= std::min(th - 1, ty + by); ++j)
        for (int i = std::max(0, tx - by); i <= std::min(tw - 1, tx + by); ++i) out[size_t(j) * tw + i] = 1;
    }
    return out;
  };
  const std::vector<uint8_t> near = dilate(edgeTile, reach), nearer = dilate(edgeTile, reach + 1);
  if (std::find(near.begin(), near.end(), 1) == near.end()) return;

  // How badly each pixel's own vector explains its 5×5 neighbourhood (mean absolute residual): where
  // it explains it well, no other vector can do clearly better, and the candidates are not tried.
  // Zero outside the tiles within reach of an edge (those pixels are left alone).
  Plane resid = Plane::Uninitialised(w, h), gate(w, h);
  ParallelFor(h, rowThreads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const uint8_t* tiles = nearer.data() + size_t(y / kTile) * tw;
      for (int tx = 0; tx < tw; ++tx) {
        if (!tiles[tx]) continue;
        const int xa = tx * kTile, xb = std::min(w, xa + kTile);
        ResidualRun(from, to, flow + size_t(y) * w * 2, y, xa, xb, resid.row(y));
      }
    }
  });
  ParallelFor(h, rowThreads, [&](int y0, int y1) {
    std::vector<float> col(size_t(w) + 4);
    for (int y = y0; y < y1; ++y) {
      const uint8_t* tiles = near.data() + size_t(y / kTile) * tw;
      if (std::find(tiles, tiles + tw, 1) == tiles + tw) continue;
      // Sums down five rows (replicated past the top and bottom; zero where no residual was needed),
      // then across five columns (likewise).
      const float* rows[5];
      for (int j = 0; j < 5; ++j) rows[j] = resid.row(std::clamp(y + j - 2, 0, h - 1));
      const uint8_t* wide = nearer.data() + size_t(y / kTile) * tw;
      for (int tx = 0; tx < tw; ++tx) {
        const int xa = tx * kTile, xb = std::min(w, xa + kTile);
        if (!wide[tx]) { std::fill(col.begin() + xa + 2, col.begin() + xb + 2, 0.f); continue; }
        ColumnSums(rows, xa, xb, col.data() + 2);
      }
      col[0] = col[1] = col[2];
      col[w + 2] = col[w + 3] = col[w + 1];
      float* g = gate.row(y);
      for (int tx = 0; tx < tw; ++tx) {
        if (!tiles[tx]) continue;
        const int xa = tx * kTile, xb = std::min(w, xa + kTile);
        for (int x = xa; x < xb; ++x) g[x] = ((col[x] + col[x + 1]) + col[x + 2] + (col[x + 3] + col[x + 4])) * (1.f / 25.f);
      }
    }
  });
  resid = Plane();

  // Every row band collects its changes and they are applied once all are chosen: each pixel's
  // choice depends on the field as it came in, never on another choice.
  const int chunks = std::max(1, (h + 15) / 16);
  std::vector<std::vector<Change>> changes(chunks);
  RowArgs args{from, to, flow, w, h, r, jump2, farJump2, p.gate, probes};
  ParallelFor(chunks, std::min(rowThreads, chunks), [&](int c0, int c1) {
    for (int c = c0; c < c1; ++c)
      for (int y = c * 16; y < std::min(h, c * 16 + 16); ++y) ChooseRow(args, gate.row(y), y, changes[c]);
  });
  for (const auto& list : changes) {
    for (const Change& ch : list) { flow[2 * size_t(ch.index)] = ch.u; flow[2 * size_t(ch.index) + 1] = ch.v; }
  }
}

}  // namespace rr::flow
