// One pyramid level of guided patch-based synthesis: the match field, PatchMatch with the occupancy
// (uniformity) penalty, and voting. Each pixel's features are [style..., guides..., zero padding to a
// multiple of 4] scaled by sqrt(weight), so a patch energy is a plain sum of squared differences over
// one contiguous run of floats per patch row, with no scalar tail.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "synth/patch_synthesis.h"
#include "synth/simd_distance.h"

namespace rr {

// An interleaved float image.
struct Plane {
  int w = 0, h = 0, c = 0;
  std::vector<float> v;
};

// What the PatchMatch scans did (for RR_SYNTH_PROFILE): pixels searched, candidates offered, patch
// distances computed, matches moved.
struct ScanCounts {
  uint64_t searched = 0, offered = 0, distances = 0, moves = 0;
  void Add(const ScanCounts& o) { searched += o.searched; offered += o.offered; distances += o.distances; moves += o.moves; }
};

class LevelSolver {
 public:
  // `coarsest`: this level starts the pyramid (searches the whole exemplar).
  LevelSolver(const Plane& srcStyle, const Plane& srcGuide, const Plane& tgtGuide, const std::vector<float>& styleScale,
              const std::vector<float>& guideScale, const SynthesisParams& p, int level, bool coarsest);

  void InitRandom(uint32_t seed);
  // From full-resolution matches: target pixel (x, y) here is (x, y) << level there.
  void InitFromFullResolution(const std::vector<int32_t>& full, int fullW, int fullH);
  void InitFromCoarser(const std::vector<int32_t>& coarse, int cw, int ch);
  // A second match per target pixel that every PatchMatch scan offers besides its neighbours' and the
  // random ones (e.g. the previous frame's matches carried along the flow, at this level's scale).
  void SetAlternative(std::vector<int32_t> alt) { alt_ = std::move(alt); }
  // Sub-pixel copies: `positions` holds a source position (x, y, in pixels, between pixel centres) per
  // target pixel; where a pixel's match is one of the whole pixels next to it (less than a pixel away
  // on each axis), the final Vote takes its patch from that position instead (Lanczos, radius 3).
  void SetSubpixel(std::vector<float> positions) { subPos_ = std::move(positions); }
  // Each current match's offset to the position the vote copied it from (0 where none; empty without SetSubpixel).
  std::vector<float> CurrentOffsets() const;
  // Full-resolution matches at this level's scale (target pixel (x, y) here is (x, y) << level there).
  std::vector<int32_t> ScaledFromFullResolution(const std::vector<int32_t>& full, int fullW, int fullH) const;

  // Returns how much the voted style changed: the mean absolute change over every target pixel and
  // style channel, in the style's units (0-255). `last`: the level's last vote, over every pixel, with
  // the sub-pixel copies of SetSubpixel and each pixel weighted towards its own patch (the search rounds
  // vote whole pixels, plain averages; see Synthesize).
  double Vote(bool last = false);
  void ComputePatchErrors(bool afterVote);
  void RefreshOccupancy();
  void PatchMatchIteration(int round, int iter);
  void Settle();

  const std::vector<int32_t>& Matches() const { return nnf_; }
  // Totals of every scan so far on this level.
  ScanCounts Counts() const {
    ScanCounts c;
    for (const OccupancyView& v : views_) c.Add(v.counts);
    return c;
  }
  const std::vector<float>& TargetStyle() const { return tgtStyle_; }
  const std::vector<float>& PatchErrors() const { return patchErr_; }
  int TargetWidth() const { return tw_; }
  int TargetHeight() const { return th_; }

 private:
  int MinX() const { return r_; }
  int MaxX() const { return sw_ - 1 - r_; }
  int MinY() const { return r_; }
  int MaxY() const { return sh_ - 1 - r_; }
  int ClampX(int x) const { return std::min(std::max(x, MinX()), MaxX()); }
  int ClampY(int y) const { return std::min(std::max(y, MinY()), MaxY()); }

  // Weighted SSD over the part of the target patch inside the target; stops early past `limit`.
  float Distance(int tx, int ty, int sx, int sy, float limit) const {
    const int x0 = std::max(-r_, -tx), x1 = std::min(r_, tw_ - 1 - tx);
    const int y0 = std::max(-r_, -ty), y1 = std::min(r_, th_ - 1 - ty);
    const int n = (x1 - x0 + 1) * c_;
    float sum = 0.f;
    for (int dy = y0; dy <= y1; ++dy) {
      const float* t = &tgtFeat_[(static_cast<size_t>(ty + dy) * tw_ + (tx + x0)) * c_];
      const float* s = &srcFeat_[(static_cast<size_t>(sy + dy) * sw_ + (sx + x0)) * c_];
      sum += SumSquaredDiff(t, s, n);
      if (sum >= limit) return sum;
    }
    return sum;
  }

  // Occupancy as one block sees it while scanning: the shared map, frozen for the phase, plus the
  // block's own moves so far. Pixels of a block thus never pile into the same source patch at once,
  // which the frozen map alone lets happen (they then all move away again, iteration after iteration).
  struct OccupancyView {
    std::vector<float> delta;   // source size, zero outside this block's moves
    std::vector<int32_t> moves;  // (from, to) source indices of the block's match moves, in order
    std::vector<int32_t> changed;  // target indices of the block's pixels whose match changed
    // Source rectangle [x0, x1] x [y0, y1] that `delta` may be non-zero in (empty when x0 > x1).
    int x0 = 0, x1 = -1, y0 = 0, y1 = -1;
    mutable ScanCounts counts;  // diagnostics only
  };

  // One block's moves of the last phase, to be merged into the shared map: either the moves themselves
  // (two tents each) or, where that is cheaper, the block's summed delta over its rectangle (copied out
  // of the view, which is then cleared by zeroing that rectangle instead of undoing every move).
  struct BlockMoves {
    std::vector<int32_t> moves;  // as OccupancyView::moves; empty when `compact`
    bool compact = false;
    int x0 = 0, y0 = 0, w = 0, h = 0;
    std::vector<float> delta;  // w x h, when `compact`
  };
  // Hands the view's moves to `out` and leaves the view all zero for the next block.
  void TakeBlockMoves(OccupancyView& view, BlockMoves& out) const;
  void MergeBlockMoves(const BlockMoves& b);

  float Occupancy(const OccupancyView& view, int sx, int sy) const {
    const size_t j = static_cast<size_t>(sy) * sw_ + sx;
    return occupancy_[j] + view.delta[j];
  }

  // Penalty of matching a pixel whose current match is (ox, oy) to source patch (sx, sy): its own
  // coverage moves with it, so the occupancy it would see excludes the old patch and includes the new.
  float Penalty(const OccupancyView& view, int ox, int oy, int sx, int sy) const {
    const int p = p_.patchSize;
    const int ax = std::max(0, p - std::abs(sx - ox)), ay = std::max(0, p - std::abs(sy - oy));
    return penaltyScale_ * (Occupancy(view, sx, sy) - static_cast<float>(ax * ay) + static_cast<float>(p * p));
  }

  // A candidate that fits no better than the current match (its patch error is not lower) must lower
  // the energy by this share to replace it. Where many source patches fit equally well (flat regions),
  // the occupancy penalty otherwise keeps pixels trading places for hardly any gain, and every move keeps
  // its neighbours searching (see Settle): on flat synthetic content about half the pixels stayed active
  // to the last iteration. A 5 % margin made a 256×448 segment propagate 1.8x faster at 0.02 dB lower
  // PSNR against the ground truth; 10 % (after the rounds of a level learnt to stop once the voted image
  // settles) took another 15 % of CPU off the speed bench's flat content and 8 % off the sample, at +0.11
  // and +0.005 dB (9 frames, keys 0 and 8; 20 % lost 0.11 dB on flat).
  static constexpr float kPenaltyOnlyGain = 0.1f;
  // A better-fitting candidate must still lower the energy by this much smaller share: a move that gains
  // less is a tie (the two patches fit as well as each other), and every move sends its 3x3 neighbours
  // searching again. At the finest level of the speed bench's flat content two thirds of the moves gained
  // under 1 % of the energy (the sample's: 15 %). 0.5 % took 24 % of CPU off flat content end to end and
  // 5-8 % off the sample, real and fast clips, at -0.02, -0.01, -0.07 and +0.03 dB PSNR to the known
  // answer (speed bench, keys 0/8/16); a 5 % margin here lost 0.15 dB on flat.
  static constexpr float kBetterFitGain = 0.005f;

  // The candidates one pixel's turn has tried so far. One tried again in the same turn needs no new
  // distance: it was rejected (else it would be the current match), and within a turn its penalty and
  // patch error stay as they were while the energy to beat and the pixel's patch error only fall, so it
  // would be rejected again; skipping it changes no result. At fine levels the smallest random radii
  // often land on a candidate already tried.
  struct Tried {
    static constexpr int kMax = 48;  // 2 propagation candidates + one per halving of any radius
    int32_t xy[2 * kMax];
    int n = 0;
    bool Seen(int sx, int sy) {
      for (int k = 0; k < n; ++k)
        if (xy[2 * k] == sx && xy[2 * k + 1] == sy) return true;
      if (n < kMax) { xy[2 * n] = sx; xy[2 * n + 1] = sy; ++n; }
      return false;
    }
  };

  // Tries source patch (sx, sy) for target pixel (x, y) whose match was (ox, oy) when its turn began;
  // `best` is the energy (patch error + penalty) of its current match.
  void TryCandidate(const OccupancyView& view, int x, int y, size_t i, int ox, int oy, int sx, int sy, float& best, Tried& tried) {
    int32_t* m = &nnf_[i * 2];
    ++view.counts.offered;
    if (sx == m[0] && sy == m[1]) return;
    if (tried.Seen(sx, sy)) return;
    const float pen = Penalty(view, ox, oy, sx, sy);
    if (pen >= best) return;
    ++view.counts.distances;
    const float d = Distance(x, y, sx, sy, best - pen);
    const float needed = best * (1.f - (d < patchErr_[i] ? kBetterFitGain : kPenaltyOnlyGain));
    if (d + pen < needed) {
      m[0] = sx;
      m[1] = sy;
      patchErr_[i] = d;
      best = d + pen;
    }
  }

  // Adds (sign +1) or removes (-1) one match centre's coverage: box(box(delta)) is a (2p-1)^2 tent.
  void AddCentre(std::vector<float>& map, int cx, int cy, float sign) const;

  void ScanRow(int y, bool forward, int round, int iter, OccupancyView& view);
  // Patch errors of rows [y0, y1): every pixel, or those flagged in `todo`; with `reactivate`, pixels
  // whose error grew are searched again.
  void ErrorRows(int y0, int y1, const uint8_t* todo, bool reactivate);
  std::vector<float> BoxFilter(const std::vector<float>& in) const;

  const SynthesisParams& p_;
  int level_;
  // The coarsest level searches the whole exemplar; finer levels start from upsampled matches that are
  // right to within a pixel or two, so their random search only ranges over about two patches.
  bool coarsest_;
  int r_, sw_, sh_, tw_, th_, cs_, cg_, c_;
  int cs4_;  // style channels padded to a multiple of 4 (for the vote)
  std::vector<float> srcStyle_, srcFeat_, tgtFeat_, tgtStyle_, styleScale_;
  std::vector<int32_t> nnf_;
  std::vector<int32_t> alt_;  // empty, or target size x 2 (see SetAlternative)
  std::vector<float> subPos_;  // empty, or target size x 2 (see SetSubpixel)
  // One patch centre's sub-pixel copy: whether it has one, the offset from its match to the first of its
  // taps, and the tap weights along x and y (Lanczos, see level_solver.cc).
  struct SubpixelTaps {
    bool on = false;
    int x = 0, y = 0;
    const float* wx = nullptr;
    const float* wy = nullptr;
  };
  // Adds the source style interpolated with `t` around whole-pixel position (mx, my) to the vote's sum `a`.
  void AddInterpolated(float* a, const SubpixelTaps& t, int mx, int my, float scale) const;
  // The offset from match (mx, my) of target pixel i to its sub-pixel position, when it has one.
  bool SubpixelOffset(size_t i, int mx, int my, float& dx, float& dy) const {
    dx = subPos_[i * 2] - static_cast<float>(mx);
    dy = subPos_[i * 2 + 1] - static_cast<float>(my);
    return std::abs(dx) < 1.f && std::abs(dy) < 1.f && (dx != 0.f || dy != 0.f);
  }
  std::vector<float> patchErr_, occupancy_;
  std::vector<uint8_t> active_;
  // Per block of the last PatchMatch iteration: the target pixels whose match changed (see Settle).
  std::vector<std::vector<int32_t>> changedByBlock_;
  // One occupancy view per worker thread, allocated once per level; every block leaves its view's
  // delta all zero again.
  std::vector<OccupancyView> views_;
  std::vector<BlockMoves> blockMoves_;  // per block, kept between iterations for their buffers
  // Incremental vote and errors: a pixel's vote depends only on the matches within r of it, and its
  // patch error only on its match and the voted style within r. `moved_` marks matches changed since
  // the last vote, `restyled_` pixels whose voted style changed since the last error pass; the passes
  // after the first redo only what those touch, so their results are the same as full passes.
  std::vector<uint8_t> moved_, restyled_;
  bool voted_ = false;
  // `flags` dilated by the patch radius (a box of side p), into `out`.
  void DilateByRadius(const std::vector<uint8_t>& flags, std::vector<uint8_t>& out) const;
  float penaltyScale_ = 0.f;
  std::vector<float> tent_;  // p - |k| for k in [-(p-1), p-1]: one row of a match's coverage tent
};

}  // namespace rr
