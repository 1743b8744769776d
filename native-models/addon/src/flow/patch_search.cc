// Dense inverse search at one pyramid level. Patches are aligned with a translation-only
// inverse-compositional Gauss-Newton (the Hessian is the template's, computed once per patch),
// on mean-normalised intensities so that a global brightness change does not bias the match.
#include "flow/patch_search.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/parallel.h"

namespace rr::flow {
namespace {

constexpr int kMaxPatch = 16;
constexpr int kMaxPixels = kMaxPatch * kMaxPatch;
// Patch rows per independent stripe: fixed so that results never depend on the thread count.
constexpr int kStripeRows = 6;
constexpr float kOutsideWeight = 0.02f;
// Candidate displacements closer than this (squared, in pixels) count as the same.
constexpr float kSameFlow2 = 1e-4f;
// The incoming flow a patch away is offered as a candidate when it differs from the flow at the
// patch by more than this (squared, in pixels: half a pixel), as it does at motion edges.
constexpr float kEdgeFlow2 = 0.25f;

// Grid of patch top-left corners covering [0, extent): the last patch is flush with the border.
std::vector<int> GridPositions(int extent, int size, int stride) {
  std::vector<int> pos;
  if (extent <= size) return {0};
  for (int p = 0;; p += stride) {
    if (p >= extent - size) { pos.push_back(extent - size); break; }
    pos.push_back(p);
  }
  return pos;
}

// Samples a size×size block of `img` whose top-left corner is at (x, y), bilinearly. All samples
// share one set of weights, so the inner loop is four multiply-adds over contiguous floats.
// Returns false when part of the block falls outside the frame; `valid` then marks the samples inside.
bool SampleBlock(const Plane& img, float x, float y, int size, float* out, uint8_t* valid) {
  float fxFloor = std::floor(x), fyFloor = std::floor(y);
  int ix = int(fxFloor), iy = int(fyFloor);
  float fx = x - fxFloor, fy = y - fyFloor;
  float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
  if (ix >= 0 && iy >= 0 && ix + size < img.w && iy + size < img.h) {
    for (int j = 0; j < size; ++j) {
      const float* r0 = img.row(iy + j) + ix;
      const float* r1 = r0 + img.w;
      float* o = out + j * size;
      for (int i = 0; i < size; ++i) o[i] = w00 * r0[i] + w10 * r0[i + 1] + w01 * r1[i] + w11 * r1[i + 1];
    }
    return true;
  }
  float maxX = float(img.w - 1), maxY = float(img.h - 1);
  for (int j = 0; j < size; ++j) {
    for (int i = 0; i < size; ++i) {
      float sx = x + float(i), sy = y + float(j);
      out[j * size + i] = SampleBilinear(img, sx, sy);
      valid[j * size + i] = sx >= 0.f && sy >= 0.f && sx <= maxX && sy <= maxY;
    }
  }
  return false;
}

// Four floats computed lane by lane: a vector register where the compiler has vector extensions,
// the same arithmetic (so the same bits) in a plain struct where it has not.
#if defined(__GNUC__) || defined(__clang__)
typedef float F4 __attribute__((vector_size(16)));
typedef float F8 __attribute__((vector_size(32)));
#if defined(__GNUC__) && !defined(__clang__)
// Eight-lane values only ever live inside inlined code, so no call passes one: GCC's note that
// returning them without AVX changes the calling convention does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
inline F4 Splat(float x) { return F4{x, x, x, x}; }
inline F8 Splat8(float x) { return F8{x, x, x, x, x, x, x, x}; }
inline float Lane(F4 a, int i) { return a[i]; }
// The low and high halves of eight lanes added: (l0 + l4, l1 + l5, l2 + l6, l3 + l7).
inline F4 Fold(const F8& a) { return F4{a[0] + a[4], a[1] + a[5], a[2] + a[6], a[3] + a[7]}; }
#define RR_HAVE_F8 1
#else
struct F4 { float l[4]; };
inline F4 operator+(F4 a, F4 b) { return {{a.l[0] + b.l[0], a.l[1] + b.l[1], a.l[2] + b.l[2], a.l[3] + b.l[3]}}; }
inline F4 operator-(F4 a, F4 b) { return {{a.l[0] - b.l[0], a.l[1] - b.l[1], a.l[2] - b.l[2], a.l[3] - b.l[3]}}; }
inline F4 operator*(F4 a, F4 b) { return {{a.l[0] * b.l[0], a.l[1] * b.l[1], a.l[2] * b.l[2], a.l[3] * b.l[3]}}; }
inline F4& operator+=(F4& a, F4 b) { return a = a + b; }
inline F4 Splat(float x) { return {{x, x, x, x}}; }
inline float Lane(F4 a, int i) { return a.l[i]; }
#endif
inline F4 Load4(const float* p) { F4 v; std::memcpy(&v, p, sizeof v); return v; }
#ifdef RR_HAVE_F8
inline F8 Load8(const float* p) { F8 v; std::memcpy(&v, p, sizeof v); return v; }
#endif
inline void Store4(float* p, F4 v) { std::memcpy(p, &v, sizeof v); }
inline float Total(F4 a) { return (Lane(a, 0) + Lane(a, 1)) + (Lane(a, 2) + Lane(a, 3)); }

// The reference patch of `from` with its mean, its mean-normalised gradients and their inverse Hessian.
struct Template {
  int n = 0;
  float t[kMaxPixels], gx[kMaxPixels], gy[kMaxPixels];
  float i00 = 0, i01 = 0, i11 = 0;  // inverse of the 2×2 Gauss-Newton Hessian
  float mean = 0;
};

// A small ridge keeps flat or one-directional patches (aperture problem) from exploding.
inline void InvertHessian(float h00, float h01, float h11, int n, float& i00, float& i01, float& i11) {
  float ridge = 1e-2f * float(n);
  h00 += ridge; h11 += ridge;
  float det = h00 * h11 - h01 * h01;
  i00 = h11 / det; i01 = -h01 / det; i11 = h00 / det;
}

void MakeTemplate(const Plane& from, const Plane& dx, const Plane& dy, int px, int py, int size, Template& tp) {
  tp.n = size * size;
  if (size % 4 == 0 && px + size <= from.w && py + size <= from.h) {
    F4 st = Splat(0.f), sx = Splat(0.f), sy = Splat(0.f);
    for (int j = 0; j < size; ++j) {
      const float *t = from.row(py + j) + px, *gx = dx.row(py + j) + px, *gy = dy.row(py + j) + px;
      float *ot = tp.t + j * size, *ox = tp.gx + j * size, *oy = tp.gy + j * size;
      for (int i = 0; i < size; i += 4) {
        F4 a = Load4(t + i), b = Load4(gx + i), c = Load4(gy + i);
        Store4(ot + i, a); Store4(ox + i, b); Store4(oy + i, c);
        st += a; sx += b; sy += c;
      }
    }
    float inv = 1.f / float(tp.n);
    tp.mean = Total(st) * inv;
    F4 mx = Splat(Total(sx) * inv), my = Splat(Total(sy) * inv);
    F4 h00 = Splat(0.f), h01 = Splat(0.f), h11 = Splat(0.f);
    for (int k = 0; k < tp.n; k += 4) {
      F4 gx = Load4(tp.gx + k) - mx, gy = Load4(tp.gy + k) - my;
      Store4(tp.gx + k, gx); Store4(tp.gy + k, gy);
      h00 += gx * gx; h01 += gx * gy; h11 += gy * gy;
    }
    InvertHessian(Total(h00), Total(h01), Total(h11), tp.n, tp.i00, tp.i01, tp.i11);
    return;
  }
  // A patch larger than the frame: rows and columns past the border repeat the last ones.
  float st = 0, sx = 0, sy = 0;
  for (int j = 0; j < size; ++j) {
    int y = std::min(py + j, from.h - 1);
    for (int i = 0; i < size; ++i) {
      int x = std::min(px + i, from.w - 1);
      int k = j * size + i;
      tp.t[k] = from.row(y)[x];
      tp.gx[k] = dx.row(y)[x];
      tp.gy[k] = dy.row(y)[x];
      st += tp.t[k]; sx += tp.gx[k]; sy += tp.gy[k];
    }
  }
  float inv = 1.f / float(tp.n);
  tp.mean = st * inv;
  float mx = sx * inv, my = sy * inv;
  float h00 = 0, h01 = 0, h11 = 0;
  for (int k = 0; k < tp.n; ++k) {
    tp.gx[k] -= mx;
    tp.gy[k] -= my;
    h00 += tp.gx[k] * tp.gx[k];
    h01 += tp.gx[k] * tp.gy[k];
    h11 += tp.gy[k] * tp.gy[k];
  }
  InvertHessian(h00, h01, h11, tp.n, tp.i00, tp.i01, tp.i11);
}

constexpr float kUnmatchable = 1e30f;
// Mean squared residual (8-bit grey levels²) at which a patch's say in densification halves.
constexpr float kConfidentCost = 16.f;

struct BlockSums { float sum, sq, b0, b1; };

// For a size×size block of `img` wholly inside it (size a multiple of 4), top-left corner at
// (ix + fx, iy + fy), sampled bilinearly: the sums over the patch of d = sample - template, d²,
// d·gx and d·gy. Two sets of four-lane partial sums (alternate groups of four columns), reduced in
// a fixed order.
inline BlockSums InsideSums(const Plane& img, int ix, int iy, float fx, float fy, const Template& tp, int size) {
  const F4 w00 = Splat((1 - fx) * (1 - fy)), w10 = Splat(fx * (1 - fy)), w01 = Splat((1 - fx) * fy), w11 = Splat(fx * fy);
  F4 sum[2] = {Splat(0.f), Splat(0.f)}, sq[2] = {Splat(0.f), Splat(0.f)}, b0[2] = {Splat(0.f), Splat(0.f)}, b1[2] = {Splat(0.f), Splat(0.f)};
  for (int j = 0; j < size; ++j) {
    const float* r0 = img.row(iy + j) + ix;
    const float* r1 = r0 + img.w;
    const int k0 = j * size;
    for (int i = 0; i < size; i += 4) {
      const int g = (i >> 2) & 1;
      F4 sample = w00 * Load4(r0 + i) + w10 * Load4(r0 + i + 1) + w01 * Load4(r1 + i) + w11 * Load4(r1 + i + 1);
      F4 d = sample - Load4(tp.t + k0 + i);
      sum[g] += d;
      sq[g] += d * d;
      b0[g] += d * Load4(tp.gx + k0 + i);
      b1[g] += d * Load4(tp.gy + k0 + i);
    }
  }
  return {Total(sum[0] + sum[1]), Total(sq[0] + sq[1]), Total(b0[0] + b0[1]), Total(b1[0] + b1[1])};
}

#ifdef RR_HAVE_F8
// The same sums for a size that is a multiple of 8, eight lanes at a time: lanes l and l + 4 hold
// what the two four-lane sets of InsideSums hold, and are added the same way (the same bits).
inline BlockSums InsideSums8(const Plane& img, int ix, int iy, float fx, float fy, const Template& tp, int size) {
  const F8 w00 = Splat8((1 - fx) * (1 - fy)), w10 = Splat8(fx * (1 - fy)), w01 = Splat8((1 - fx) * fy), w11 = Splat8(fx * fy);
  F8 sum = Splat8(0.f), sq = Splat8(0.f), b0 = Splat8(0.f), b1 = Splat8(0.f);
  for (int j = 0; j < size; ++j) {
    const float* r0 = img.row(iy + j) + ix;
    const float* r1 = r0 + img.w;
    const int k0 = j * size;
    for (int i = 0; i < size; i += 8) {
      F8 sample = w00 * Load8(r0 + i) + w10 * Load8(r0 + i + 1) + w01 * Load8(r1 + i) + w11 * Load8(r1 + i + 1);
      F8 d = sample - Load8(tp.t + k0 + i);
      sum += d;
      sq += d * d;
      b0 += d * Load8(tp.gx + k0 + i);
      b1 += d * Load8(tp.gy + k0 + i);
    }
  }
  return {Total(Fold(sum)), Total(Fold(sq)), Total(Fold(b0)), Total(Fold(b1))};
}
#endif

// Mean-normalised mean squared difference of the template against `to` displaced by (u, v),
// the brightness offset between them, and the Gauss-Newton step (du, dv) to subtract from (u, v).
// Samples that fall outside the frame are left out: a patch half out of view still matches.
RR_AVX2_CLONE float Residual(const Plane& to, const Template& tp, int px, int py, int size, float u, float v,
               float& offset, float& du, float& dv) {
  float warped[kMaxPixels];
  uint8_t valid[kMaxPixels];
  const float x = float(px) + u, y = float(py) + v;
  const float xFloor = std::floor(x), yFloor = std::floor(y);
  const int ix = int(xFloor), iy = int(yFloor);
  if (size % 4 == 0 && ix >= 0 && iy >= 0 && ix + size < to.w && iy + size < to.h) {
    // One pass over d = warped - template: the mean of d is the brightness offset, and since the
    // template's gradients have zero mean, the step and the mean-normalised cost follow from Σd,
    // Σd², Σd·gx and Σd·gy.
#ifdef RR_HAVE_F8
    BlockSums b = size % 8 == 0 ? InsideSums8(to, ix, iy, x - xFloor, y - yFloor, tp, size) : InsideSums(to, ix, iy, x - xFloor, y - yFloor, tp, size);
#else
    BlockSums b = InsideSums(to, ix, iy, x - xFloor, y - yFloor, tp, size);
#endif
    offset = b.sum / float(tp.n);
    du = tp.i00 * b.b0 + tp.i01 * b.b1;
    dv = tp.i01 * b.b0 + tp.i11 * b.b1;
    return std::max(0.f, b.sq - b.sum * offset) / float(tp.n);
  }
  if (SampleBlock(to, x, y, size, warped, valid)) {  // a size that is not a multiple of 4
    float sum = 0, sq = 0, b0 = 0, b1 = 0;
    for (int k = 0; k < tp.n; ++k) {
      float d = warped[k] - tp.t[k];
      sum += d; sq += d * d; b0 += d * tp.gx[k]; b1 += d * tp.gy[k];
    }
    offset = sum / float(tp.n);
    du = tp.i00 * b0 + tp.i01 * b1;
    dv = tp.i01 * b0 + tp.i11 * b1;
    return std::max(0.f, sq - sum * offset) / float(tp.n);
  }
  int count = 0;
  float sw = 0, st = 0, sx = 0, sy = 0;
  for (int k = 0; k < tp.n; ++k) {
    if (!valid[k]) continue;
    ++count; sw += warped[k]; st += tp.t[k]; sx += tp.gx[k]; sy += tp.gy[k];
  }
  if (count * 4 < tp.n) { offset = 0; du = dv = 0; return kUnmatchable; }
  float inv = 1.f / float(count);
  float mw = sw * inv, mt = st * inv, mx = sx * inv, my = sy * inv;
  offset = mw - mt;
  float cost = 0, b0 = 0, b1 = 0, h00 = 0, h01 = 0, h11 = 0;
  for (int k = 0; k < tp.n; ++k) {
    if (!valid[k]) continue;
    float r = (warped[k] - mw) - (tp.t[k] - mt);
    float gx = tp.gx[k] - mx, gy = tp.gy[k] - my;
    cost += r * r; b0 += r * gx; b1 += r * gy;
    h00 += gx * gx; h01 += gx * gy; h11 += gy * gy;
  }
  float i00, i01, i11;
  InvertHessian(h00, h01, h11, count, i00, i01, i11);
  du = i00 * b0 + i01 * b1;
  dv = i01 * b0 + i11 * b1;
  return cost * inv;
}

struct PatchState {
  float u = 0, v = 0, cost = 0, offset = 0;
  float confidence = 1;  // weight of this patch in densification
};

// Picks the best of the candidate displacements, then descends from it.
void AlignPatch(const Plane& to, const Template& tp, int px, int py, int size, int iterations,
                float (*candidates)[2], int candidateCount, PatchState& st) {
  float offset, du, dv;
  float bestU = candidates[0][0], bestV = candidates[0][1];
  float bestCost = Residual(to, tp, px, py, size, bestU, bestV, offset, du, dv);
  float bestOffset = offset, bestDu = du, bestDv = dv;
  for (int c = 1; c < candidateCount; ++c) {
    float cost = Residual(to, tp, px, py, size, candidates[c][0], candidates[c][1], offset, du, dv);
    if (cost < bestCost) {
      bestCost = cost; bestU = candidates[c][0]; bestV = candidates[c][1];
      bestOffset = offset; bestDu = du; bestDv = dv;
    }
  }
  float startU = bestU, startV = bestV;
  float u = bestU, v = bestV;
  du = bestDu; dv = bestDv;
  float maxShift2 = float(size * size);
  for (int it = 0; it < iterations && bestCost < kUnmatchable; ++it) {
    u -= du; v -= dv;
    // A patch that wanders farther than its own size has locked onto something else.
    float su = u - startU, sv = v - startV;
    if (su * su + sv * sv > maxShift2) break;
    float step2 = du * du + dv * dv;
    float cost = Residual(to, tp, px, py, size, u, v, offset, du, dv);
    if (cost < bestCost) { bestCost = cost; bestU = u; bestV = v; bestOffset = offset; }
    if (step2 < 1e-4f) break;
  }
  st.u = bestU; st.v = bestV; st.cost = bestCost; st.offset = bestOffset;
  // A patch that matches nowhere well (it straddles a motion edge, or leaves the frame) should not
  // outvote the clean patches around it when the flow is densified.
  st.confidence = bestCost < kUnmatchable ? 1.f / (1.f + bestCost / kConfidentCost) : kOutsideWeight;
}

// One patch's vote over n pixels of a row whose displaced samples t0/t1 (the two rows around them)
// lie inside `to`: each pixel weighs the displacement by how well it explains that pixel
// (robust to patches straddling motion edges) times the patch's confidence.
RR_AVX2_CLONE void DensifyRun(const float* t0, const float* t1, const float* ref, float w00, float w10, float w01, float w11,
                              const PatchState& p, int n, float* accU, float* accV, float* accW) {
  const float pu = p.u, pv = p.v, offset = p.offset, confidence = p.confidence;
  for (int i = 0; i < n; ++i) {
    float s = w00 * t0[i] + w10 * t0[i + 1] + w01 * t1[i] + w11 * t1[i + 1];
    float weight = 1.f / std::max(1.f, std::fabs(s - ref[i] - offset));
    weight *= confidence;
    accU[i] += weight * pu;
    accV[i] += weight * pv;
    accW[i] += weight;
  }
}

}  // namespace

void PatchSearchLevel(const Plane& from, const Plane& fromDx, const Plane& fromDy, const Plane& to,
                      Plane& u, Plane& v, const PatchSearchParams& params, int threads) {
  int size = std::max(2, std::min(params.size, kMaxPatch));
  int stride = std::max(1, params.stride);
  std::vector<int> xs = GridPositions(from.w, size, stride);
  std::vector<int> ys = GridPositions(from.h, size, stride);
  int nx = int(xs.size()), ny = int(ys.size());
  std::vector<PatchState> patches(size_t(nx) * ny);
  // Offsets of a patch's centre from its corner (patches may be larger than a tiny frame).
  float halfX = 0.5f * float(std::min(size, from.w) - 1), halfY = 0.5f * float(std::min(size, from.h) - 1);
  int stripes = (ny + kStripeRows - 1) / kStripeRows;
  ParallelFor(stripes, ThreadsFor(from.w * from.h, threads), [&](int s0, int s1) {
    Template tp;
    for (int s = s0; s < s1; ++s) {
      int r0 = s * kStripeRows, r1 = std::min(ny, r0 + kStripeRows);
      // Pass 1 in scan order takes candidates from the left and above (and the incoming flow around
      // the patch); pass 2 in reverse order from the right and below, so good matches spread both ways.
      for (int r = r0; r < r1; ++r) {
        for (int c = 0; c < nx; ++c) {
          MakeTemplate(from, fromDx, fromDy, xs[c], ys[r], size, tp);
          float cx = float(xs[c]) + halfX, cy = float(ys[r]) + halfY;
          float cand[7][2];
          int n = 0;
          cand[n][0] = SampleBilinear(u, cx, cy); cand[n][1] = SampleBilinear(v, cx, cy); ++n;
          auto offer = [&](float pu, float pv) {
            for (int q = 0; q < n; ++q) {
              float du = pu - cand[q][0], dv = pv - cand[q][1];
              if (du * du + dv * dv <= kSameFlow2) return;
            }
            cand[n][0] = pu; cand[n][1] = pv; ++n;
          };
          if (c > 0) offer(patches[size_t(r) * nx + c - 1].u, patches[size_t(r) * nx + c - 1].v);
          if (r > r0) offer(patches[size_t(r - 1) * nx + c].u, patches[size_t(r - 1) * nx + c].v);
          // The incoming flow one patch away on each side, where it differs from the flow here: at a
          // motion edge the coarser level has blurred the two motions together, and the side the
          // patch belongs to may lie beyond the neighbours already searched (right and below).
          const float d = float(size);
          const float around[4][2] = {{-d, 0.f}, {d, 0.f}, {0.f, -d}, {0.f, d}};
          for (const auto& o : around) {
            float pu = SampleBilinear(u, cx + o[0], cy + o[1]), pv = SampleBilinear(v, cx + o[0], cy + o[1]);
            float du = pu - cand[0][0], dv = pv - cand[0][1];
            if (du * du + dv * dv > kEdgeFlow2) offer(pu, pv);
          }
          AlignPatch(to, tp, xs[c], ys[r], size, params.iterations, cand, n, patches[size_t(r) * nx + c]);
        }
      }
      for (int r = r1 - 1; r >= r0; --r) {
        for (int c = nx - 1; c >= 0; --c) {
          PatchState& self = patches[size_t(r) * nx + c];
          float cand[3][2];
          int n = 0;
          cand[n][0] = self.u; cand[n][1] = self.v; ++n;
          // Only neighbours that disagree with this patch are worth a look.
          auto offer = [&](const PatchState& p) {
            float du = p.u - self.u, dv = p.v - self.v;
            if (du * du + dv * dv > kSameFlow2) { cand[n][0] = p.u; cand[n][1] = p.v; ++n; }
          };
          if (c + 1 < nx) offer(patches[size_t(r) * nx + c + 1]);
          if (r + 1 < r1) offer(patches[size_t(r + 1) * nx + c]);
          if (n == 1) continue;  // already converged from the same start
          MakeTemplate(from, fromDx, fromDy, xs[c], ys[r], size, tp);
          AlignPatch(to, tp, xs[c], ys[r], size, params.iterations / 2, cand, n, self);
        }
      }
    }
  });

  // Densify: every pixel averages the displacements of the patches covering it, each weighted by
  // how well that displacement explains this pixel (robust to patches straddling motion edges).
  int w = from.w, h = from.h;
  ParallelFor(h, ThreadsFor(w * h, threads), [&](int y0, int y1) {
    std::vector<float> accU(w), accV(w), accW(w);
    for (int y = y0; y < y1; ++y) {
      std::fill(accU.begin(), accU.end(), 0.f);
      std::fill(accV.begin(), accV.end(), 0.f);
      std::fill(accW.begin(), accW.end(), 0.f);
      const float* ref = from.row(y);
      for (int r = 0; r < ny; ++r) {
        if (ys[r] > y || ys[r] + size <= y) continue;
        for (int c = 0; c < nx; ++c) {
          const PatchState& p = patches[size_t(r) * nx + c];
          int xBegin = xs[c], xEnd = std::min(w, xs[c] + size);
          float sy = float(y) + p.v;
          float sx0 = float(xBegin) + p.u;
          float fxFloor = std::floor(sx0), fyFloor = std::floor(sy);
          int ix = int(fxFloor), iy = int(fyFloor);
          float fx = sx0 - fxFloor, fy = sy - fyFloor;
          bool inside = ix >= 0 && iy >= 0 && ix + (xEnd - xBegin) < to.w && iy + 1 < to.h;
          if (inside) {
            const float* t0 = to.row(iy) + ix;
            float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
            DensifyRun(t0, t0 + to.w, ref + xBegin, w00, w10, w01, w11, p, xEnd - xBegin, accU.data() + xBegin, accV.data() + xBegin, accW.data() + xBegin);
            continue;
          }
          for (int x = xBegin; x < xEnd; ++x) {
            float sx = float(x) + p.u;
            bool seen = sx >= 0.f && sy >= 0.f && sx <= float(to.w - 1) && sy <= float(to.h - 1);
            // A displacement that leaves the frame cannot be checked here: trust it only a little.
            float weight = seen ? 1.f / std::max(1.f, std::fabs(SampleBilinear(to, sx, sy) - ref[x] - p.offset)) : kOutsideWeight;
            weight *= p.confidence;
            accU[x] += weight * p.u;
            accV[x] += weight * p.v;
            accW[x] += weight;
          }
        }
      }
      float* du = u.row(y);
      float* dv = v.row(y);
      for (int x = 0; x < w; ++x) {
        if (accW[x] > 0) { du[x] = accU[x] / accW[x]; dv[x] = accV[x] / accW[x]; }
      }
    }
  });
}

}  // namespace rr::flow
