// The dense optical-flow estimator: coarse-to-fine dense inverse search, then variational
// refinement of the finest searched level, on grey pyramids shared by both flow directions.
#pragma once
#include <cstdint>
#include <vector>

#include "flow/motion_edges.h"
#include "flow/patch_search.h"
#include "flow/planes.h"
#include "flow/variational.h"

namespace rr::flow {

struct FlowParams {
  PatchSearchParams patch;
  VariationalParams variational;
  // Finest pyramid level searched (0 = full resolution). Finer levels only get the flow upsampled
  // and, when fullResolutionIterations > 0, a last variational pass at full resolution.
  int finestLevel = 1;
  int fullResolutionIterations = 0;
  MotionEdgeParams edges;
};

// Named speed/accuracy trade-offs; "balanced" is the default.
FlowParams FlowPreset(const char* name, bool* known = nullptr);

// Grey image pyramid of one frame (levels ≥ 1 lightly blurred for matching) with derivatives.
struct FramePyramid {
  std::vector<Plane> grey, dx, dy;
};

int PyramidLevels(int w, int h, int patchSize);
// Derivatives are computed from `firstGradientLevel` up (see FirstGradientLevel).
FramePyramid BuildPyramid(const uint8_t* pixels, int w, int h, int channels, int levels, int firstGradientLevel, int threads);
// The finest level whose derivatives EstimateFlow reads with these parameters.
int FirstGradientLevel(const FlowParams& params, int levels);

// Flow from `from` to `to` (pixel p of `from` moves to p + flow(p) in `to`), written interleaved
// (dx, dy) per pixel into `out` (w*h*2 floats).
void EstimateFlow(const FramePyramid& from, const FramePyramid& to, const FlowParams& params, int threads, float* out);

}  // namespace rr::flow
