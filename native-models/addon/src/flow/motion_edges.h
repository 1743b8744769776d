// Motion edges made sharp again after coarse-to-fine estimation: near a place where the flow jumps,
// a pixel whose vector explains the image around it badly picks, among its own vector and those
// found a few pixels away on each side, the one that explains a small window around it best.
#pragma once
#include "flow/planes.h"

namespace rr::flow {

struct MotionEdgeParams {
  bool enabled = false;
  int window = 1;                   // half side of the square window compared (3×3)
  int nearProbe = 3, farProbe = 10; // distances (px) left, right, above and below where vectors are taken
  // A vector found at the near (far) probes is a candidate when it differs from the pixel's own by more
  // than minJump (farJump) px; the far threshold is higher so that a strong smooth field (a zoom, a
  // fast pan) does not make every far vector a candidate.
  float minJump = 1.f, farJump = 3.f;
  float tileJump = 3.f;  // an 8×8 tile whose flow spans less than this (px) holds no motion edge
  float gate = 2.f;      // mean residual (grey levels, 5×5) below which a pixel is left alone
};

// Sharpens the motion edges of `flow` (interleaved dx, dy; the flow of `from` towards `to`, all the
// same size) in place. Deterministic for any thread count: every pixel reads the field as it was.
void SharpenMotionEdges(const Plane& from, const Plane& to, float* flow, const MotionEdgeParams& params, int threads);

}  // namespace rr::flow
