// Guided patch-based synthesis (docs/METHOD.md §4.1): one target image from a styled exemplar and guides.
// Plain C++ with no Node types, so the algorithm can be read and tested on its own.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace rr {

struct SynthesisParams {
  int patchSize = 5;           // odd, >= 3
  float uniformity = 3500.f;   // lambda of the occupancy penalty
  int pyramidLevels = -1;      // -1: as many as keep the coarsest short side >= 2p+1
  int searchVoteIters = 6;     // N: PatchMatch-then-vote rounds per level
  int patchMatchIters = 4;     // M: PatchMatch iterations per round
  uint32_t seed = 0;
  int threads = 1;
};

// Images are interleaved, row-major. Style is 8-bit; guides are floats in 0-255 units.
struct SynthesisInput {
  int sourceWidth = 0, sourceHeight = 0, targetWidth = 0, targetHeight = 0;
  int styleChannels = 0;
  std::vector<uint8_t> sourceStyle;   // source size x styleChannels
  std::vector<float> styleWeights;    // one per style channel
  int guideChannels = 0;
  std::vector<float> sourceGuide;     // source size x guideChannels
  std::vector<float> targetGuide;     // target size x guideChannels
  std::vector<float> guideWeights;    // one per guide channel
  std::vector<int32_t> initialMatches;  // empty, or target size x 2 (source x, y of each patch centre)
  // Empty, or target size x 2 with initialMatches: the fraction of a pixel (x, y in [-1, 1]) by which
  // each initial match lies off its whole-pixel centre. Where a pixel's final match is a whole pixel next
  // to that sub-pixel position (less than a pixel away on each axis), its patch is copied from the
  // position itself (bilinear) at full resolution.
  std::vector<float> initialOffsets;
};

struct SynthesisOutput {
  std::vector<uint8_t> image;    // target size x styleChannels
  std::vector<float> error;      // target size: final patch error (weighted SSD, 0-255 units)
  std::vector<int32_t> matches;  // target size x 2: source x, y of each target patch centre
  std::vector<float> offsets;    // with initialOffsets: target size x 2, each final match's offset (-1, 1) to where it was copied from (0: its whole pixel)
};

// Number of pyramid levels actually used for these sizes and parameters.
int SynthesisLevelCount(const SynthesisInput& in, const SynthesisParams& p);

// Returns false when `cancelled` reported true between iterations (the output is then unspecified).
// Deterministic for given inputs and seed, whatever the thread count.
bool Synthesize(const SynthesisInput& in, const SynthesisParams& p, SynthesisOutput& out,
                const std::function<bool()>& cancelled);

}  // namespace rr
