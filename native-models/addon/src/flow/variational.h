// Variational refinement of a dense flow at one level: brightness and gradient constancy with a
// robust (Charbonnier) penalty, plus robust smoothness, solved by fixed-point iterations and SOR.
#pragma once
#include "flow/planes.h"

namespace rr::flow {

struct VariationalParams {
  int outerIterations = 6;  // fixed-point linearisations of the robust penalties (4 left fast motion short)
  int innerIterations = 5;  // SOR sweeps per linearisation
  float alpha = 20.f;       // smoothness weight
  float delta = 10.f;       // brightness-constancy weight (gradient-normalised)
  float gamma = 10.f;       // gradient-constancy weight (normalised likewise)
  float omega = 1.8f;       // over-relaxation factor: few sweeps per step, so converge fast
};

// Improves (u, v), the flow from `from` to `to`, in place. fromDx/fromDy are derivatives of `from`.
// Deterministic for any thread count (the image is split into fixed bands of rows).
void RefineFlow(const Plane& from, const Plane& fromDx, const Plane& fromDy, const Plane& to,
                Plane& u, Plane& v, const VariationalParams& params, int threads);

}  // namespace rr::flow
