// Coarse-to-fine driver of the flow estimator and its presets.
#include "flow/estimator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/parallel.h"

namespace rr::flow {

FlowParams FlowPreset(const char* name, bool* known) {
  FlowParams p;
  if (known) *known = true;
  if (std::strcmp(name, "fast") == 0) {
    p.patch = {8, 6, 6};
    p.variational.outerIterations = 2;
    p.variational.innerIterations = 4;
  } else if (std::strcmp(name, "accurate") == 0) {
    p.patch = {8, 3, 12};
    p.variational.outerIterations = 6;
    p.fullResolutionIterations = 2;
  } else if (std::strcmp(name, "balanced") != 0 && known) {
    *known = false;
  }
  // The fast preset keeps its speed; the others sharpen motion edges (the flow bench's three
  // fast-motion pairs: end-point error 0.86 → 0.73 px, for about a quarter more CPU on them and
  // almost none on ordinary motion).
  p.edges.enabled = std::strcmp(name, "fast") != 0;
  return p;
}

int PyramidLevels(int w, int h, int patchSize) {
  // Coarsest level about four patches across its long side, but never thinner than half a patch.
  int longSide = std::max(w, h), shortSide = std::min(w, h);
  int byLong = int(std::lround(std::log2(std::max(1.0, double(longSide) / (4.0 * patchSize)))));
  int byShort = int(std::floor(std::log2(std::max(1.0, double(shortSide) / (0.5 * patchSize)))));
  return 1 + std::clamp(std::min(byLong, byShort), 0, 10);
}

FramePyramid BuildPyramid(const uint8_t* pixels, int w, int h, int channels, int levels, int firstGradientLevel, int threads) {
  FramePyramid pyr;
  pyr.grey.push_back(ToGrey(pixels, w, h, channels, threads));
  for (int k = 1; k < levels; ++k) pyr.grey.push_back(Downsample(pyr.grey.back(), threads));
  // Decimated levels carry detail up to their Nyquist limit, where bilinear sampling errs most and
  // pulls sub-pixel matches toward whole pixels; a light blur removes that bias.
  for (int k = 1; k < levels; ++k) pyr.grey[k] = Smooth(pyr.grey[k], threads);
  pyr.dx.resize(levels);
  pyr.dy.resize(levels);
  for (int k = firstGradientLevel; k < levels; ++k) Gradients(pyr.grey[k], pyr.dx[k], pyr.dy[k], threads);
  return pyr;
}

int FirstGradientLevel(const FlowParams& params, int levels) {
  if (params.fullResolutionIterations > 0) return 0;
  return std::clamp(params.finestLevel, 0, levels - 1);
}

void EstimateFlow(const FramePyramid& from, const FramePyramid& to, const FlowParams& params, int threads, float* out) {
  int levels = int(from.grey.size());
  int finest = std::clamp(params.finestLevel, 0, levels - 1);
  Plane u, v;
  for (int k = levels - 1; k >= finest; --k) {
    const Plane& a = from.grey[k];
    if (k == levels - 1) {
      u = Plane(a.w, a.h);
      v = Plane(a.w, a.h);
    } else {
      Plane fu, fv;
      UpsampleFlow(u, v, a.w, a.h, fu, fv, threads);
      u = std::move(fu);
      v = std::move(fv);
    }
    PatchSearchLevel(a, from.dx[k], from.dy[k], to.grey[k], u, v, params.patch, threads);
    // Refining every searched level, not only the finest, carries motion from textured areas into
    // flat ones while the levels are small enough for the smoothness term to reach far, and hands
    // the next level a cleaner start (end-point error on real frames warped by known fields:
    // 0.22 → 0.18 px; at motion edges too). The coarse levels add about a third of one refinement.
    RefineFlow(a, from.dx[k], from.dy[k], to.grey[k], u, v, params.variational, threads);
  }
  for (int k = finest - 1; k >= 1; --k) {
    Plane fu, fv;
    UpsampleFlow(u, v, from.grey[k].w, from.grey[k].h, fu, fv, threads);
    u = std::move(fu);
    v = std::move(fv);
  }
  const int w = from.grey[0].w, h = from.grey[0].h;
  if (finest > 0 && params.fullResolutionIterations > 0) {
    Plane fu, fv;
    UpsampleFlow(u, v, w, h, fu, fv, threads);
    u = std::move(fu);
    v = std::move(fv);
    VariationalParams vp = params.variational;
    vp.outerIterations = params.fullResolutionIterations;
    RefineFlow(from.grey[0], from.dx[0], from.dy[0], to.grey[0], u, v, vp, threads);
  }
  if (u.w == w) {
    ParallelFor(h, ThreadsFor(w * h, threads), [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        const float *pu = u.row(y), *pv = v.row(y);
        float* o = out + size_t(y) * w * 2;
        for (int x = 0; x < w; ++x) { o[2 * x] = pu[x]; o[2 * x + 1] = pv[x]; }
      }
    });
  } else {
    UpsampleFlowInterleaved(u, v, w, h, out, threads);
  }
  SharpenMotionEdges(from.grey[0], to.grey[0], out, params.edges, threads);
}

}  // namespace rr::flow
