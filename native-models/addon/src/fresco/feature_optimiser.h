// FRESCO-aware feature optimisation (docs/METHOD.md §6): Adam on the decoder up-block input features of a
// batch of frames, minimising an occlusion-masked L1 warp loss between neighbouring frames plus an L1 loss
// between the features' and the input frames' cosine self-similarity matrices; gradients are analytic.
#pragma once
#include <cstdint>
#include <vector>

namespace rr {

struct FeatureBatch {
  int frames = 0, channels = 0, tokens = 0;
  // The input frames' features at the same place [frames, guideChannels, tokens]: their cosine
  // self-similarity is the target structure.
  const float* guide = nullptr;
  int guideChannels = 0;
  // For frame f ≥ 1: the token of frame f−1 that token p shows (−1: none), [frames, tokens] (row 0 unused).
  const int32_t* source = nullptr;
  // Weight of token p of frame f in the warp loss (0 where occluded), [frames, tokens].
  const float* visible = nullptr;
};

struct OptimiserOptions {
  int iterations = 20;
  double learningRate = 0.01;
  double warpWeight = 1.0;
  double similarityWeight = 100.0;
  bool renormalise = true;
  int threads = 0;
};

struct FeatureLosses {
  double warp = 0, similarity = 0;
};

struct OptimiseResult {
  FeatureLosses before, optimised, final;
};

// Optimises x [frames, channels, tokens] in place.
OptimiseResult OptimiseFeatures(float* x, const FeatureBatch& batch, const OptimiserOptions& options);

// The two losses of x without optimising (for tests and reports).
FeatureLosses MeasureFeatureLosses(const float* x, const FeatureBatch& batch, int threads);

}  // namespace rr
