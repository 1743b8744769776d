// Dense inverse search: per-patch inverse-compositional alignment on a grid of overlapping
// patches, then densification into a per-pixel flow (one pyramid level at a time).
#pragma once
#include "flow/planes.h"

namespace rr::flow {

struct PatchSearchParams {
  int size = 8;         // patch side in pixels (at most 16)
  int stride = 5;       // grid spacing of patches; smaller = more overlap, slower, smoother
  int iterations = 8;   // Gauss-Newton steps per patch in the first pass (half in the second)
};

// Refines the dense flow (u, v) of `from` towards `to` at one level: the incoming flow seeds every
// patch, neighbours propagate better candidates, and the result is written back densely.
// fromDx/fromDy are the derivatives of `from`. Deterministic for any thread count.
void PatchSearchLevel(const Plane& from, const Plane& fromDx, const Plane& fromDy, const Plane& to,
                      Plane& u, Plane& v, const PatchSearchParams& params, int threads);

}  // namespace rr::flow
