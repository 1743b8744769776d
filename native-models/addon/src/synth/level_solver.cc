// PatchMatch, occupancy and voting on one pyramid level (see level_solver.h).
#include "synth/level_solver.h"

#include <cmath>
#include <limits>

#include "common/parallel.h"

namespace rr {
namespace {

// Uniform integer in [0, n) without a division (the random search draws two per candidate).
inline int Below(uint64_t bits, int n) { return static_cast<int>(((bits >> 32) * static_cast<uint64_t>(n)) >> 32); }

inline uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A random stream per (seed, level, round, iteration, row): independent of thread scheduling.
uint64_t RowSeed(uint32_t seed, int level, int round, int iter, int row) {
  uint64_t s = seed;
  s = s * 0x100000001B3ull ^ static_cast<uint64_t>(level + 1);
  s = s * 0x100000001B3ull ^ static_cast<uint64_t>(round + 1);
  s = s * 0x100000001B3ull ^ static_cast<uint64_t>(iter + 1);
  s = s * 0x100000001B3ull ^ static_cast<uint64_t>(row + 1);
  SplitMix(s);
  return s;
}

// a[k] += s[k] for k < n (a multiple of 4), four lanes at a time: the same single-precision additions
// in the same order as the scalar loop, so the same sums (the vote's per-pixel sum of 25 source pixels).
inline void AddStyle(float* __restrict a, const float* __restrict s, int n) {
#if defined(RR_SSE2)
  for (int k = 0; k < n; k += 4) _mm_storeu_ps(a + k, _mm_add_ps(_mm_loadu_ps(a + k), _mm_loadu_ps(s + k)));
#elif defined(RR_NEON)
  for (int k = 0; k < n; k += 4) vst1q_f32(a + k, vaddq_f32(vld1q_f32(a + k), vld1q_f32(s + k)));
#else
  for (int k = 0; k < n; ++k) a[k] += s[k];
#endif
}

// a[k] += w * s[k] for k < n (a multiple of 4): one tap of a sub-pixel copy, the same single-precision
// operations in the same order as the scalar loop.
inline void AddStyleScaled(float* __restrict a, const float* __restrict s, float w, int n) {
#if defined(RR_SSE2)
  const __m128 wv = _mm_set1_ps(w);
  for (int k = 0; k < n; k += 4) _mm_storeu_ps(a + k, _mm_add_ps(_mm_loadu_ps(a + k), _mm_mul_ps(wv, _mm_loadu_ps(s + k))));
#elif defined(RR_NEON)
  const float32x4_t wv = vdupq_n_f32(w);
  for (int k = 0; k < n; k += 4) vst1q_f32(a + k, vaddq_f32(vld1q_f32(a + k), vmulq_f32(wv, vld1q_f32(s + k))));
#else
  for (int k = 0; k < n; ++k) a[k] += w * s[k];
#endif
}

// Sub-pixel copies resample the source with a Lanczos kernel of radius 3: kTaps taps per axis from
// kTaps/2 - 1 pixels before the point, weights normalised to sum to 1. They depend only on the point's
// fraction of a pixel, which for carried matches is a multiple of 1/kFractionSteps px (the offsets'
// steps, OFFSET_STEPS in synthesis.ts): kept in a table, other fractions take the nearest entry.
constexpr int kTaps = 6;
constexpr int kFractionSteps = 64;

struct LanczosTable {
  float w[kFractionSteps + 1][kTaps];
  LanczosTable() {
    const double pi = 3.14159265358979323846;
    for (int f = 0; f <= kFractionSteps; ++f) {
      const double t = static_cast<double>(f) / kFractionSteps;
      double v[kTaps], sum = 0;
      for (int k = 0; k < kTaps; ++k) {
        const double d = t - (k - (kTaps / 2 - 1));
        v[k] = std::abs(d) < 1e-12 ? 1.0 : std::abs(d) >= 3 ? 0.0 : 3.0 * std::sin(pi * d) * std::sin(pi * d / 3) / (pi * pi * d * d);
        sum += v[k];
      }
      for (int k = 0; k < kTaps; ++k) w[f][k] = static_cast<float>(v[k] / sum);
    }
  }
};

inline const float* KernelWeights(float t) {
  static const LanczosTable table;
  return table.w[std::min(kFractionSteps, std::max(0, static_cast<int>(std::lround(t * kFractionSteps))))];
}

// Sub-pixel copies of points closer than this (in pixels, on each axis) share one interpolated sample in
// the vote (see Vote): the copies of a region moving as one then cost one interpolation per pixel instead
// of one per patch over it. Measured (9-frame segments at 512²): with 1/4 px, warp error, sharpness and
// fidelity within noise of 1/32 px, for 0.3 s less CPU per synthesis.
constexpr float kSameSample = 1.f / 4.f;

// The final vote of a chain's synthesis (the last at the finest level, with the carried sub-pixel matches;
// see Synthesize) weighs each of the p^2 patches covering a pixel by
// exp(-d^2 / 2 sigma^2), d the distance of the patch's centre from the pixel: with 0.3 px the pixel's own
// patch gives nearly all of it (its four neighbours 0.4 % each), so the image keeps the detail of the
// matches themselves instead of an average of 25 copies that drift apart along a chain. Measured on the
// propagation-flicker bench (9 frames, keys 0 and 8; forward chain alone, sample): the plain average lost
// up to 4 % of sharpness per frame away from the key (4.20 to 3.59 by frame 7; mean 3.84), sigma 1 px 3.90,
// 0.5 px 4.00, 0.3 px 4.10 (frame 7: 4.00), at 0.26 dB less fidelity and 33 % more warp error for that
// chain alone, which the blend of the two directions then smooths (docs/METHOD.md §4.1). The search
// rounds' votes stay plain averages: they are what the patch errors are measured against.
constexpr float kFinalVoteSigma = 0.3f;

// Rows per block of the parallel PatchMatch scan: blocks of one parity run concurrently while the
// other parity stays frozen, so every neighbour read is deterministic. Fixed, so the thread count
// never changes the result.
constexpr int kBlockRows = 16;

// Blocks that scan at once, each against the shared occupancy as it was when they started: at most this
// many, the blocks of a parity taken in groups, merged after each group. Blocks that scan at once cannot
// see each other's moves, so where many target rows fit the same source patches (flat, low-texture
// content: the same colours lie along lines across the whole frame) all of a parity's blocks moved
// pixels into the same under-used patches at once, found them crowded after the merge, and all moved
// out again: at the finest level of the speed bench's flat content 5.35 moves per pixel, 64 % of the
// pixels searched again every iteration, 3 rounds before the voted image stopped settling, and a mean
// penalty 4.5x the uniform one. Scanned one block at a time the same synthesis moved 0.64 per pixel;
// four at a time 0.62 (two 0.63), with 33 % less CPU and the sample's work unchanged. Fixed, so the
// result stays the same for any thread count (up to four threads share a group's blocks).
constexpr int kConcurrentBlocks = 4;

// A converged pixel is searched again after a vote when its patch error grew at all (beyond rounding);
// letting it grow 5 % first saves another 15 % of time but costs visible accuracy.
constexpr float kReactivateRatio = 1.f;
constexpr float kReactivateFloor = 1e-3f;

}  // namespace

LevelSolver::LevelSolver(const Plane& srcStyle, const Plane& srcGuide, const Plane& tgtGuide, const std::vector<float>& styleScale,
            const std::vector<float>& guideScale, const SynthesisParams& p, int level, bool coarsest)
    : p_(p), level_(level), coarsest_(coarsest), r_(p.patchSize / 2), sw_(srcStyle.w), sh_(srcStyle.h), tw_(tgtGuide.w), th_(tgtGuide.h),
      cs_(srcStyle.c), cg_(srcGuide.c), c_((srcStyle.c + srcGuide.c + 3) / 4 * 4), cs4_((srcStyle.c + 3) / 4 * 4) {
  // The vote sums source style pixels: padded to 4 floats each so the sum is one vector add per pixel.
  srcStyle_.assign(static_cast<size_t>(sw_) * sh_ * cs4_, 0.f);
  for (size_t i = 0; i < static_cast<size_t>(sw_) * sh_; ++i)
    for (int k = 0; k < cs_; ++k) srcStyle_[i * cs4_ + k] = srcStyle.v[i * cs_ + k];
  srcFeat_.resize(static_cast<size_t>(sw_) * sh_ * c_);
  for (size_t i = 0; i < static_cast<size_t>(sw_) * sh_; ++i) {
    for (int k = 0; k < cs_; ++k) srcFeat_[i * c_ + k] = srcStyle.v[i * cs_ + k] * styleScale[k];
    for (int k = 0; k < cg_; ++k) srcFeat_[i * c_ + cs_ + k] = srcGuide.v[i * cg_ + k] * guideScale[k];
  }
  tgtFeat_.assign(static_cast<size_t>(tw_) * th_ * c_, 0.f);
  for (size_t i = 0; i < static_cast<size_t>(tw_) * th_; ++i)
    for (int k = 0; k < cg_; ++k) tgtFeat_[i * c_ + cs_ + k] = tgtGuide.v[i * cg_ + k] * guideScale[k];
  styleScale_ = styleScale;
  tgtStyle_.assign(static_cast<size_t>(tw_) * th_ * cs_, 0.f);
  nnf_.assign(static_cast<size_t>(tw_) * th_ * 2, 0);
  patchErr_.assign(static_cast<size_t>(tw_) * th_, 0.f);
  moved_.assign(static_cast<size_t>(tw_) * th_, 0);
  restyled_.assign(static_cast<size_t>(tw_) * th_, 0);
  for (int k = -(p.patchSize - 1); k <= p.patchSize - 1; ++k) tent_.push_back(static_cast<float>(p.patchSize - std::abs(k)));
  const float p2 = static_cast<float>(p.patchSize * p.patchSize);
  const float uniformCoverage = static_cast<float>(tw_) * th_ / (static_cast<float>(sw_) * sh_) * p2;
  penaltyScale_ = p.uniformity / (p2 * uniformCoverage);
}

void LevelSolver::InitRandom(uint32_t seed) {
  for (int y = 0; y < th_; ++y) {
    uint64_t s = RowSeed(seed, level_, -1, -1, y);
    for (int x = 0; x < tw_; ++x) {
      int32_t* m = &nnf_[(static_cast<size_t>(y) * tw_ + x) * 2];
      m[0] = MinX() + Below(SplitMix(s), MaxX() - MinX() + 1);
      m[1] = MinY() + Below(SplitMix(s), MaxY() - MinY() + 1);
    }
  }
}

std::vector<int32_t> LevelSolver::ScaledFromFullResolution(const std::vector<int32_t>& full, int fullW, int fullH) const {
  std::vector<int32_t> out(static_cast<size_t>(tw_) * th_ * 2);
  for (int y = 0; y < th_; ++y) {
    for (int x = 0; x < tw_; ++x) {
      int fx = std::min(x << level_, fullW - 1), fy = std::min(y << level_, fullH - 1);
      const int32_t* f = &full[(static_cast<size_t>(fy) * fullW + fx) * 2];
      int32_t* m = &out[(static_cast<size_t>(y) * tw_ + x) * 2];
      m[0] = ClampX(f[0] >> level_);
      m[1] = ClampY(f[1] >> level_);
    }
  }
  return out;
}

// From full-resolution matches: target pixel (x, y) here is (x, y) << level there.
void LevelSolver::InitFromFullResolution(const std::vector<int32_t>& full, int fullW, int fullH) {
  nnf_ = ScaledFromFullResolution(full, fullW, fullH);
}

void LevelSolver::InitFromCoarser(const std::vector<int32_t>& coarse, int cw, int ch) {
  for (int y = 0; y < th_; ++y) {
    for (int x = 0; x < tw_; ++x) {
      int cx = std::min(x / 2, cw - 1), cy = std::min(y / 2, ch - 1);
      const int32_t* c = &coarse[(static_cast<size_t>(cy) * cw + cx) * 2];
      int32_t* m = &nnf_[(static_cast<size_t>(y) * tw_ + x) * 2];
      m[0] = ClampX(2 * c[0] + (x - 2 * cx));
      m[1] = ClampY(2 * c[1] + (y - 2 * cy));
    }
  }
}

// Each target pixel's style = the average of the p^2 source pixels that overlapping patches assign it
// (in the final vote, weighted towards the pixel's own patch).
double LevelSolver::Vote(bool last) {
  std::vector<double> rowChange(th_, 0.0);  // summed in row order afterwards: the same for any thread count
  // After the first vote only pixels with a moved match within r can get another value.
  const bool sub = last && !subPos_.empty();
  const bool all = !voted_ || last;
  std::vector<uint8_t> todo;
  if (!all) DilateByRadius(moved_, todo);
  // Sub-pixel copies: per patch centre, the whole-pixel corner of its copy's first tap and the kernel's
  // weights (the same for every pixel of the patch: they shift by whole pixels).
  std::vector<SubpixelTaps> taps;
  // The final vote weighs each covering patch by how far its centre lies from the pixel (kFinalVoteSigma).
  std::vector<float> weight;
  if (last) {
    const float s2 = 2.f * kFinalVoteSigma * kFinalVoteSigma;
    for (int oy = -r_; oy <= r_; ++oy)
      for (int ox = -r_; ox <= r_; ++ox) weight.push_back(std::exp(-static_cast<float>(ox * ox + oy * oy) / s2));
  }
  const bool weighted = !weight.empty();
  if (sub) {
    taps.resize(static_cast<size_t>(tw_) * th_);
    ParallelFor(th_, p_.threads, [&](int y0, int y1) {
      for (size_t i = static_cast<size_t>(y0) * tw_; i < static_cast<size_t>(y1) * tw_; ++i) {
        float dx, dy;
        SubpixelTaps& t = taps[i];
        t.on = SubpixelOffset(i, nnf_[i * 2], nnf_[i * 2 + 1], dx, dy);
        if (!t.on) continue;
        const float fx = static_cast<float>(nnf_[i * 2]) + dx, fy = static_cast<float>(nnf_[i * 2 + 1]) + dy;
        const float bx = std::floor(fx), by = std::floor(fy);
        t.x = static_cast<int>(bx) - (kTaps / 2 - 1) - nnf_[i * 2];
        t.y = static_cast<int>(by) - (kTaps / 2 - 1) - nnf_[i * 2 + 1];
        t.wx = KernelWeights(fx - bx);
        t.wy = KernelWeights(fy - by);
      }
    });
  }
  ParallelFor(th_, p_.threads, [&](int y0, int y1) {
    std::vector<float> acc(cs4_), ownTap(cs4_);
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < tw_; ++x) {
        if (!all && !todo[static_cast<size_t>(y) * tw_ + x]) continue;
        std::fill(acc.begin(), acc.end(), 0.f);
        float* a = acc.data();
        float n = 0.f;
        const size_t i0 = static_cast<size_t>(y) * tw_ + x;
        const bool own = sub && taps[i0].on;
        bool ownDone = false;
        const float ownX = own ? subPos_[i0 * 2] : 0.f, ownY = own ? subPos_[i0 * 2 + 1] : 0.f;
        for (int oy = -r_; oy <= r_; ++oy) {
          int cy = y - oy;
          if (cy < 0 || cy >= th_) continue;
          for (int ox = -r_; ox <= r_; ++ox) {
            int cx = x - ox;
            if (cx < 0 || cx >= tw_) continue;
            const size_t ci = static_cast<size_t>(cy) * tw_ + cx;
            const int32_t* m = &nnf_[ci * 2];
            const float w = weighted ? weight[(oy + r_) * p_.patchSize + (ox + r_)] : 1.f;
            if (sub && taps[ci].on) {
              // Where the patch copies this pixel from (nearly) the point its own patch does (a region
              // moving as one), that sample is interpolated once for all of them.
              const float px = static_cast<float>(m[0] + ox) + subPos_[ci * 2] - static_cast<float>(m[0]);
              const float py = static_cast<float>(m[1] + oy) + subPos_[ci * 2 + 1] - static_cast<float>(m[1]);
              if (own && std::abs(px - ownX) < kSameSample && std::abs(py - ownY) < kSameSample) {
                if (!ownDone) {
                  std::fill(ownTap.begin(), ownTap.end(), 0.f);
                  AddInterpolated(ownTap.data(), taps[i0], nnf_[i0 * 2], nnf_[i0 * 2 + 1], 1.f);
                  ownDone = true;
                }
                if (weighted) AddStyleScaled(a, ownTap.data(), w, cs4_);
                else AddStyle(a, ownTap.data(), cs4_);
              } else {
                AddInterpolated(a, taps[ci], m[0] + ox, m[1] + oy, w);
              }
            } else {
              const float* src = &srcStyle_[(static_cast<size_t>(m[1] + oy) * sw_ + (m[0] + ox)) * cs4_];
              if (weighted) AddStyleScaled(a, src, w, cs4_);
              else AddStyle(a, src, cs4_);
            }
            n += w;
          }
        }
        size_t i = static_cast<size_t>(y) * tw_ + x;
        bool changed = all;
        for (int k = 0; k < cs_; ++k) {
          float v = acc[k] / n;
          changed |= tgtStyle_[i * cs_ + k] != v;
          rowChange[y] += std::abs(tgtStyle_[i * cs_ + k] - v);
          tgtStyle_[i * cs_ + k] = v;
          tgtFeat_[i * c_ + k] = v * styleScale_[k];
        }
        if (changed) restyled_[i] = 1;
      }
    }
  });
  voted_ = true;
  std::fill(moved_.begin(), moved_.end(), 0);
  double total = 0;
  for (double r : rowChange) total += r;
  return total / (static_cast<double>(tw_) * th_ * cs_);
}


// Lanczos (radius 3) rather than Catmull-Rom or bilinear: measured on the propagation bench (9-frame
// segments at 512²), bilinear copies cost 13-16 % of the output's sharpness (mean |Laplacian|), Catmull-Rom
// 6-10 %, Lanczos 3-5 %, each also flickering a little less than the one before, fidelity within 0.2 dB.
void LevelSolver::AddInterpolated(float* a, const SubpixelTaps& t, int mx, int my, float scale) const {
  const int x0 = mx + t.x, y0 = my + t.y;
  if (x0 >= 0 && y0 >= 0 && x0 + kTaps - 1 < sw_ && y0 + kTaps - 1 < sh_) {
    for (int j = 0; j < kTaps; ++j) {
      const float* row = &srcStyle_[(static_cast<size_t>(y0 + j) * sw_ + x0) * cs4_];
      for (int i = 0; i < kTaps; ++i) AddStyleScaled(a, row + i * cs4_, scale * (t.wx[i] * t.wy[j]), cs4_);
    }
    return;
  }
  // At the border: taps outside repeat the edge pixel.
  for (int j = 0; j < kTaps; ++j) {
    const size_t row = static_cast<size_t>(std::min(std::max(y0 + j, 0), sh_ - 1)) * sw_;
    for (int i = 0; i < kTaps; ++i) AddStyleScaled(a, &srcStyle_[(row + std::min(std::max(x0 + i, 0), sw_ - 1)) * cs4_], scale * (t.wx[i] * t.wy[j]), cs4_);
  }
}

std::vector<float> LevelSolver::CurrentOffsets() const {
  std::vector<float> out;
  if (subPos_.empty()) return out;
  out.assign(nnf_.size(), 0.f);
  for (size_t i = 0; i < nnf_.size() / 2; ++i) {
    float dx, dy;
    if (SubpixelOffset(i, nnf_[i * 2], nnf_[i * 2 + 1], dx, dy)) { out[i * 2] = dx; out[i * 2 + 1] = dy; }
  }
  return out;
}

void LevelSolver::DilateByRadius(const std::vector<uint8_t>& flags, std::vector<uint8_t>& out) const {
  std::vector<uint8_t> wide(flags.size());
  out.assign(flags.size(), 0);
  ParallelFor(th_, p_.threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const uint8_t* f = &flags[static_cast<size_t>(y) * tw_];
      uint8_t* o = &wide[static_cast<size_t>(y) * tw_];
      // Running count of set flags in the window [x - r, x + r].
      int count = 0;
      for (int x = 0; x < std::min(r_, tw_); ++x) count += f[x] != 0;
      for (int x = 0; x < tw_; ++x) {
        if (x + r_ < tw_) count += f[x + r_] != 0;
        if (x - r_ - 1 >= 0) count -= f[x - r_ - 1] != 0;
        o[x] = count > 0;
      }
    }
  });
  ParallelFor(th_, p_.threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      uint8_t* o = &out[static_cast<size_t>(y) * tw_];
      for (int k = std::max(0, y - r_); k <= std::min(th_ - 1, y + r_); ++k) {
        const uint8_t* w = &wide[static_cast<size_t>(k) * tw_];
        for (int x = 0; x < tw_; ++x) o[x] |= w[x];
      }
    }
  });
}

// Errors of the current matches against the current target style. After a vote, pixels whose error
// rose noticeably are searched again; the others stay converged (see Settle).
void LevelSolver::ComputePatchErrors(bool afterVote) {
  const bool first = active_.empty();
  if (first) active_.assign(static_cast<size_t>(tw_) * th_, 1);
  // Otherwise only errors whose patch saw its voted style change can differ (moved matches got their
  // exact error when they moved).
  std::vector<uint8_t> todo;
  if (!first) DilateByRadius(restyled_, todo);
  ParallelFor(th_, p_.threads, [&](int y0, int y1) { ErrorRows(y0, y1, first ? nullptr : todo.data(), afterVote && !first); });
  std::fill(restyled_.begin(), restyled_.end(), 0);
}

RR_SYNTH_AVX2_CLONE void LevelSolver::ErrorRows(int y0, int y1, const uint8_t* todo, bool reactivate) {
  for (int y = y0; y < y1; ++y)
    for (int x = 0; x < tw_; ++x) {
      const size_t i = static_cast<size_t>(y) * tw_ + x;
      if (todo && !todo[i]) continue;
      const int32_t* m = &nnf_[i * 2];
      const float before = patchErr_[i];
      patchErr_[i] = Distance(x, y, m[0], m[1], std::numeric_limits<float>::infinity());
      if (reactivate && patchErr_[i] > before * kReactivateRatio + kReactivateFloor) active_[i] = 1;
    }
}

// A pixel is searched in the next iteration only if its match or a neighbour's changed in this one:
// otherwise propagation would retry the same candidates and a converged random search rarely wins
// (about 1 % of candidates are accepted late in a level). This is most of the speed-up.
void LevelSolver::Settle() {
  // 3x3 dilation of the changed pixels: a few per cent of the level late in a round, so marked one by one.
  std::fill(active_.begin(), active_.end(), 0);
  for (std::vector<int32_t>& list : changedByBlock_) {
    for (const int32_t i : list) {
      const int x = i % tw_, y = i / tw_;
      for (int yy = std::max(0, y - 1); yy <= std::min(th_ - 1, y + 1); ++yy) {
        uint8_t* row = &active_[static_cast<size_t>(yy) * tw_];
        for (int xx = std::max(0, x - 1); xx <= std::min(tw_ - 1, x + 1); ++xx) row[xx] = 1;
      }
    }
    list.clear();
  }
}

// Occupancy of every source patch by the current matches: box(box(centre counts)). PatchMatch then
// keeps it up to date move by move, exactly: every value is a whole number far below 2^24, so the
// incremental map always equals a fresh one and one refresh per level is enough.
void LevelSolver::RefreshOccupancy() {
  std::vector<float> counts(static_cast<size_t>(sw_) * sh_, 0.f);
  for (size_t i = 0; i < static_cast<size_t>(tw_) * th_; ++i) counts[static_cast<size_t>(nnf_[2 * i + 1]) * sw_ + nnf_[2 * i]] += 1.f;
  occupancy_ = BoxFilter(BoxFilter(counts));
}

void LevelSolver::AddCentre(std::vector<float>& map, int cx, int cy, float sign) const {
  // Row dy of the tent is (p - |dy|) * tent_; every product and sum is a whole number far below 2^24, so
  // the result is exact whatever the order (the loop is left to the vectoriser).
  const int p = p_.patchSize;
  const int x0 = std::max(0, cx - (p - 1)), x1 = std::min(sw_ - 1, cx + p - 1);
  const float* tent = &tent_[x0 - (cx - (p - 1))];
  const int n = x1 - x0 + 1;
  for (int y = std::max(0, cy - (p - 1)); y <= std::min(sh_ - 1, cy + p - 1); ++y) {
    const float wy = sign * static_cast<float>(p - std::abs(y - cy));
    float* __restrict row = &map[static_cast<size_t>(y) * sw_ + x0];
    for (int k = 0; k < n; ++k) row[k] += wy * tent[k];
  }
}

// Blocks of one parity scan concurrently, a group at a time, each seeing the shared occupancy plus its
// own moves; after each group its blocks' moves are merged in block order, so later groups and the
// other parity see them all.
void LevelSolver::PatchMatchIteration(int round, int iter) {
  const bool forward = (iter % 2) == 0;
  const int blocks = (th_ + kBlockRows - 1) / kBlockRows;
  if (static_cast<int>(blockMoves_.size()) < blocks) blockMoves_.resize(blocks);
  changedByBlock_.resize(blocks);
  const int workers = std::max(1, p_.threads);
  if (static_cast<int>(views_.size()) < workers) {
    views_.resize(workers);
    for (OccupancyView& v : views_) v.delta.assign(occupancy_.size(), 0.f);
  }
  for (int parity = 0; parity < 2; ++parity) {
    const int count = (blocks - parity + 1) / 2;
    // A parity's blocks in groups of at most kConcurrentBlocks, each group's blocks spread over the
    // frame (group g takes the parity's blocks g, g + groups, g + 2 groups, ...).
    const int groups = (count + kConcurrentBlocks - 1) / kConcurrentBlocks;
    for (int g = 0; g < groups; ++g) {
    const int inGroup = (count - g + groups - 1) / groups;
    // Blocks are handed out as workers free up (active pixels cluster where the frame changes); each
    // block starts from the shared map and an all-zero delta, so which worker runs it does not matter.
    ParallelForDynamic(inGroup, workers, [&](int worker, int b) {
      OccupancyView& view = views_[worker];
      const int block = 2 * (g + b * groups) + parity;
      const int ya = block * kBlockRows, yb = std::min(th_, ya + kBlockRows);
      if (forward) {
        for (int y = ya; y < yb; ++y) ScanRow(y, true, round, iter, view);
      } else {
        for (int y = yb - 1; y >= ya; --y) ScanRow(y, false, round, iter, view);
      }
      TakeBlockMoves(view, blockMoves_[block]);
      changedByBlock_[block].swap(view.changed);
      view.changed.clear();
    });
    for (int b = 0; b < inGroup; ++b) MergeBlockMoves(blockMoves_[2 * (g + b * groups) + parity]);
    }
  }
}

// Every value involved is a whole number far below 2^24 (see RefreshOccupancy), so both ways give the
// same map exactly, whatever the order of the additions.
void LevelSolver::TakeBlockMoves(OccupancyView& view, BlockMoves& out) const {
  const size_t side = 2 * static_cast<size_t>(p_.patchSize) - 1;
  // Undoing and merging cost four tents per move; copying out, zeroing and adding the rectangle three
  // passes over it (far less late in a level, when many short moves stay in one source region).
  const size_t tentCost = view.moves.size() * 2 * side * side;
  const int w = view.x1 - view.x0 + 1, h = view.y1 - view.y0 + 1;
  const size_t boxCost = view.x0 > view.x1 ? 0 : 3 * static_cast<size_t>(w) * h;
  out.compact = boxCost < tentCost;
  if (out.compact) {
    out.x0 = view.x0;
    out.y0 = view.y0;
    out.w = w;
    out.h = h;
    out.delta.resize(static_cast<size_t>(w) * h);
    for (int y = 0; y < h; ++y) {
      float* row = &view.delta[static_cast<size_t>(view.y0 + y) * sw_ + view.x0];
      std::copy(row, row + w, &out.delta[static_cast<size_t>(y) * w]);
      std::fill(row, row + w, 0.f);
    }
    out.moves.clear();
    view.moves.clear();
  } else {
    for (size_t k = 0; k < view.moves.size(); k += 2) {
      AddCentre(view.delta, view.moves[k] % sw_, view.moves[k] / sw_, 1.f);
      AddCentre(view.delta, view.moves[k + 1] % sw_, view.moves[k + 1] / sw_, -1.f);
    }
    out.moves.swap(view.moves);
    view.moves.clear();
  }
  view.x0 = 0;
  view.x1 = -1;
  view.y0 = 0;
  view.y1 = -1;
}

void LevelSolver::MergeBlockMoves(const BlockMoves& b) {
  if (b.compact) {
    for (int y = 0; y < b.h; ++y) {
      float* __restrict row = &occupancy_[static_cast<size_t>(b.y0 + y) * sw_ + b.x0];
      const float* d = &b.delta[static_cast<size_t>(y) * b.w];
      for (int x = 0; x < b.w; ++x) row[x] += d[x];
    }
    return;
  }
  for (size_t k = 0; k < b.moves.size(); k += 2) {
    AddCentre(occupancy_, b.moves[k] % sw_, b.moves[k] / sw_, -1.f);
    AddCentre(occupancy_, b.moves[k + 1] % sw_, b.moves[k + 1] / sw_, 1.f);
  }
}

// Sum over the p x p window around each source pixel (clipped at the borders).
std::vector<float> LevelSolver::BoxFilter(const std::vector<float>& in) const {
  std::vector<float> tmp(in.size()), out(in.size());
  ParallelFor(sh_, p_.threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* row = &in[static_cast<size_t>(y) * sw_];
      float* o = &tmp[static_cast<size_t>(y) * sw_];
      for (int x = 0; x < sw_; ++x) {
        float s = 0.f;
        for (int k = std::max(0, x - r_); k <= std::min(sw_ - 1, x + r_); ++k) s += row[k];
        o[x] = s;
      }
    }
  });
  ParallelFor(sh_, p_.threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      float* o = &out[static_cast<size_t>(y) * sw_];
      std::fill(o, o + sw_, 0.f);
      for (int k = std::max(0, y - r_); k <= std::min(sh_ - 1, y + r_); ++k) {
        const float* row = &tmp[static_cast<size_t>(k) * sw_];
        for (int x = 0; x < sw_; ++x) o[x] += row[x];
      }
    }
  });
  return out;
}

RR_SYNTH_AVX2_CLONE void LevelSolver::ScanRow(int y, bool forward, int round, int iter, OccupancyView& view) {
  uint64_t rng = RowSeed(p_.seed, level_, round, iter, y);
  const int step = forward ? 1 : -1;
  const int maxRadius = coarsest_ ? std::max(sw_, sh_) : std::min(std::max(sw_, sh_), 2 * p_.patchSize);
  for (int k = 0; k < tw_; ++k) {
    const int x = forward ? k : tw_ - 1 - k;
    const size_t i = static_cast<size_t>(y) * tw_ + x;
    if (!active_[i]) continue;
    ++view.counts.searched;
    int32_t* m = &nnf_[i * 2];
    const int ox = m[0], oy = m[1];
    float best = patchErr_[i] + penaltyScale_ * Occupancy(view, ox, oy);
    Tried tried;
    // Propagation: the neighbour already visited in this scan direction, shifted by one pixel.
    const int nx = x - step, ny = y - step;
    if (nx >= 0 && nx < tw_) {
      const int32_t* n = &nnf_[(static_cast<size_t>(y) * tw_ + nx) * 2];
      TryCandidate(view, x, y, i, ox, oy, ClampX(n[0] + step), n[1], best, tried);
    }
    if (ny >= 0 && ny < th_) {
      const int32_t* n = &nnf_[(static_cast<size_t>(ny) * tw_ + x) * 2];
      TryCandidate(view, x, y, i, ox, oy, n[0], ClampY(n[1] + step), best, tried);
    }
    if (!alt_.empty()) TryCandidate(view, x, y, i, ox, oy, alt_[i * 2], alt_[i * 2 + 1], best, tried);
    // Random search around the best match with halving radii.
    for (int radius = maxRadius; radius >= 1; radius /= 2) {
      const int span = 2 * radius + 1;
      const uint64_t bits = SplitMix(rng);
      const int sx = ClampX(m[0] + Below(bits << 32, span) - radius);
      const int sy = ClampY(m[1] + Below(bits, span) - radius);
      TryCandidate(view, x, y, i, ox, oy, sx, sy, best, tried);
    }
    if (m[0] != ox || m[1] != oy) {
      ++view.counts.moves;
      view.changed.push_back(static_cast<int32_t>(i));
      moved_[i] = 1;
      AddCentre(view.delta, ox, oy, -1.f);
      AddCentre(view.delta, m[0], m[1], 1.f);
      const int reach = p_.patchSize - 1;
      view.x0 = std::max(0, std::min({view.x0 > view.x1 ? sw_ : view.x0, ox - reach, m[0] - reach}));
      view.x1 = std::min(sw_ - 1, std::max({view.x1, ox + reach, m[0] + reach}));
      view.y0 = std::max(0, std::min({view.y0 > view.y1 ? sh_ : view.y0, oy - reach, m[1] - reach}));
      view.y1 = std::min(sh_ - 1, std::max({view.y1, oy + reach, m[1] + reach}));
      view.moves.push_back(oy * sw_ + ox);
      view.moves.push_back(m[1] * sw_ + m[0]);
    }
  }
}

}  // namespace rr
