// Variational flow refinement. The linear system of each fixed-point step is solved by SOR on
// fixed bands of rows: Gauss-Seidel inside a band, the neighbouring bands' edge rows held at
// their values from the start of the step. Bands are independent, so they run in parallel, and
// since they never depend on the thread count the result is the same on any machine.
#include "flow/variational.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/parallel.h"

namespace rr::flow {
namespace {

constexpr int kBandRows = 32;

// The rows a loop reads and writes never overlap: lets the compiler vectorise loops over many
// arrays without run-time overlap checks (it gives up above ten of them).
#if defined(__clang__)
#define RR_NO_ALIAS _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define RR_NO_ALIAS _Pragma("GCC ivdep")
#else
#define RR_NO_ALIAS
#endif
constexpr float kEpsilon2 = 1e-6f;  // Charbonnier epsilon², small: close to an L1 penalty
constexpr float kZeta2 = 1.f;  // keeps the normalisation finite on flat areas

// One row of the per-pixel 2×2 systems for pixels [x0, x1): robust data weights, neighbour weights
// (means of two pixels' robust smoothness weights; fUp/fDn are 0 on the top/bottom row, 0.5
// elsewhere) and the right-hand sides. `edge` handles a pixel whose left or right neighbour is
// missing; interior runs take the branch-free path, which the compiler vectorises.
struct SystemRowArgs {
  const float *ax, *ay, *az, *axz, *ayz, *axx, *axy, *ayy, *nd, *ng, *qu, *qv, *pu, *pv, *s, *sUp, *sDn, *puUp, *pvUp, *puDn, *pvDn;
  float *wr, *wd, *i00, *i01, *i11, *ru, *rv;
  float fUp, fDn, delta, gamma;
};

template <bool kEdge>
inline void SystemRow(const SystemRowArgs& a, int x0, int x1, int w) {
  const float *ax = a.ax, *ay = a.ay, *az = a.az, *axz = a.axz, *ayz = a.ayz, *axx = a.axx, *axy = a.axy, *ayy = a.ayy;
  const float *nd = a.nd, *ng = a.ng, *qu = a.qu, *qv = a.qv, *pu = a.pu, *pv = a.pv, *s = a.s, *sUp = a.sUp, *sDn = a.sDn;
  const float *puUp = a.puUp, *pvUp = a.pvUp, *puDn = a.puDn, *pvDn = a.pvDn;
  float *wr = a.wr, *wd = a.wd, *i00 = a.i00, *i01 = a.i01, *i11 = a.i11, *ru = a.ru, *rv = a.rv;
  const float fUp = a.fUp, fDn = a.fDn, delta = a.delta, gamma = a.gamma;
  RR_NO_ALIAS
  for (int x = x0; x < x1; ++x) {
    float rd = az[x] + ax[x] * qu[x] + ay[x] * qv[x];
    float wData = delta * nd[x] / std::sqrt(nd[x] * rd * rd + kEpsilon2);
    float gx = axz[x] + axx[x] * qu[x] + axy[x] * qv[x];
    float gy = ayz[x] + axy[x] * qu[x] + ayy[x] * qv[x];
    float wGrad = gamma * ng[x] / std::sqrt(ng[x] * (gx * gx + gy * gy) + kEpsilon2);
    float a11 = wData * ax[x] * ax[x] + wGrad * (axx[x] * axx[x] + axy[x] * axy[x]);
    float a12 = wData * ax[x] * ay[x] + wGrad * (axx[x] * axy[x] + axy[x] * ayy[x]);
    float a22 = wData * ay[x] * ay[x] + wGrad * (axy[x] * axy[x] + ayy[x] * ayy[x]);
    float b1 = -(wData * ax[x] * az[x] + wGrad * (axx[x] * axz[x] + axy[x] * ayz[x]));
    float b2 = -(wData * ay[x] * az[x] + wGrad * (axy[x] * axz[x] + ayy[x] * ayz[x]));
    int xl = x - 1, xr = x + 1;
    float wl, wrr;
    if (kEdge) {
      wl = x > 0 ? 0.5f * (s[x - 1] + s[x]) : 0.f;
      wrr = x + 1 < w ? 0.5f * (s[x] + s[x + 1]) : 0.f;
      xl = x > 0 ? x - 1 : x;
      xr = x + 1 < w ? x + 1 : x;
    } else {
      wl = 0.5f * (s[x - 1] + s[x]);
      wrr = 0.5f * (s[x] + s[x + 1]);
    }
    float wup = fUp * (sUp[x] + s[x]);
    float wdn = fDn * (s[x] + sDn[x]);
    wr[x] = wrr;
    wd[x] = wdn;
    // Smoothness acts on the total flow u + du: its base part is constant during SOR.
    ru[x] = b1 + wl * (pu[xl] - pu[x]) + wrr * (pu[xr] - pu[x]) + wup * (puUp[x] - pu[x]) + wdn * (puDn[x] - pu[x]);
    rv[x] = b2 + wl * (pv[xl] - pv[x]) + wrr * (pv[xr] - pv[x]) + wup * (pvUp[x] - pv[x]) + wdn * (pvDn[x] - pv[x]);
    float sum = wl + wrr + wup + wdn;
    float m11 = a11 + sum + 1e-6f, m22 = a22 + sum + 1e-6f;
    float inv = 1.f / (m11 * m22 - a12 * a12);
    i00[x] = m22 * inv; i01[x] = -a12 * inv; i11[x] = m11 * inv;
  }
}

// Robust smoothness weight of pixels [x0, x1) of one row at the current estimate u + du (forward
// differences; the last column and row repeat themselves, as `*D` rows do at the bottom).
template <bool kEdge>
inline void SmoothRow(const float* pu, const float* pv, const float* qu, const float* qv, const float* puD, const float* pvD,
                      const float* quD, const float* qvD, float* s, float alpha, int x0, int x1, int w) {
  RR_NO_ALIAS
  for (int x = x0; x < x1; ++x) {
    int xr = kEdge ? (x + 1 < w ? x + 1 : x) : x + 1;
    float ux = (pu[xr] + qu[xr]) - (pu[x] + qu[x]);
    float vx = (pv[xr] + qv[xr]) - (pv[x] + qv[x]);
    float uy = (puD[x] + quD[x]) - (pu[x] + qu[x]);
    float vy = (pvD[x] + qvD[x]) - (pv[x] + qv[x]);
    s[x] = alpha / std::sqrt(ux * ux + uy * uy + vx * vx + vy * vy + kEpsilon2);
  }
}

// A row split by colour for red-black SOR: the even columns first, then the odd ones.
RR_AVX2_CLONE void SplitRow(const float* src, float* dst, int w) {
  const int half = (w + 1) / 2;
  for (int k = 0; k < half; ++k) dst[k] = src[2 * k];
  for (int k = 0; k < w / 2; ++k) dst[half + k] = src[2 * k + 1];
}

RR_AVX2_CLONE void MergeRow(const float* src, float* dst, int w) {
  const int half = (w + 1) / 2;
  for (int k = 0; k < half; ++k) dst[2 * k] = src[k];
  for (int k = 0; k < w / 2; ++k) dst[2 * k + 1] = src[half + k];
}

// Row y of `to` pulled back by the flow (pu, pv): o = to(x + u, y + v) by SampleBicubic, and m = 1
// where that point lies inside the frame, 0 where it left (it carries no data; smoothness fills it in).
void WarpRowBicubic(const Plane& to, const float* pu, const float* pv, int y, float* o, float* m) {
  const int w = to.w, h = to.h;
  const float maxX = float(w - 1), maxY = float(h - 1);
  for (int x = 0; x < w; ++x) {
    const float sx = float(x) + pu[x], sy = float(y) + pv[x];
    m[x] = (sx >= 0.f && sy >= 0.f && sx <= maxX && sy <= maxY) ? 1.f : 0.f;
    const int ix = int(sx), iy = int(sy);
    if (!(sx >= 1.f && sy >= 1.f && ix + 2 < w && iy + 2 < h)) {
      o[x] = SampleBicubic(to, sx, sy);  // near or past the border: clamped taps
      continue;
    }
    // The interior case of SampleBicubic, written out: the same weights and sums.
    const float tx = sx - float(ix), ty = sy - float(iy);
    const float tx2 = tx * tx, tx3 = tx2 * tx, ty2 = ty * ty, ty3 = ty2 * ty;
    const float wx0 = 0.5f * (-tx3 + 2.f * tx2 - tx), wx1 = 0.5f * (3.f * tx3 - 5.f * tx2 + 2.f);
    const float wx2 = 0.5f * (-3.f * tx3 + 4.f * tx2 + tx), wx3 = 0.5f * (tx3 - tx2);
    const float wy[4] = {0.5f * (-ty3 + 2.f * ty2 - ty), 0.5f * (3.f * ty3 - 5.f * ty2 + 2.f),
                         0.5f * (-3.f * ty3 + 4.f * ty2 + ty), 0.5f * (ty3 - ty2)};
    const float* r = to.row(iy - 1) + ix - 1;
    float acc = 0.f;
    for (int j = 0; j < 4; ++j, r += w) acc += wy[j] * (wx0 * r[0] + wx1 * r[1] + wx2 * r[2] + wx3 * r[3]);
    o[x] = acc;
  }
}

RR_AVX2_CLONE void SystemInterior(const SystemRowArgs& a, int x0, int x1, int w) { SystemRow<false>(a, x0, x1, w); }

RR_AVX2_CLONE void SmoothInterior(const float* pu, const float* pv, const float* qu, const float* qv, const float* puD,
                                  const float* pvD, const float* quD, const float* qvD, float* s, float alpha, int x0, int x1, int w) {
  SmoothRow<false>(pu, pv, qu, qv, puD, pvD, quD, qvD, s, alpha, x0, x1, w);
}

// The SOR update of entries [k0, k1) of one colour's half-row, every one with both neighbours in
// the row: q += omega (M⁻¹ r - q), r the right-hand side plus the neighbours' pull (left and right
// from the other colour's half `o`, shifted by one so that entry k reads ol[k] and or[k]).
struct SorRowArgs {
  const float *ru, *rv, *wl, *olu, *olv, *wr, *oru, *orv, *wu, *upU, *upV, *wd, *dnU, *dnV, *i00, *i01, *i11;
  float *qu, *qv;
  float omega;
};

RR_AVX2_CLONE void SorInterior(const SorRowArgs& a, int k0, int k1) {
  const float *ru = a.ru, *rv = a.rv, *wl = a.wl, *olu = a.olu, *olv = a.olv, *wr = a.wr, *oru = a.oru, *orv = a.orv;
  const float *wu = a.wu, *upU = a.upU, *upV = a.upV, *wd = a.wd, *dnU = a.dnU, *dnV = a.dnV, *i00 = a.i00, *i01 = a.i01, *i11 = a.i11;
  float *qu = a.qu, *qv = a.qv;
  const float omega = a.omega;
  RR_NO_ALIAS
  for (int k = k0; k < k1; ++k) {
    float r1 = ru[k] + wl[k] * olu[k] + wr[k] * oru[k] + wu[k] * upU[k] + wd[k] * dnU[k];
    float r2 = rv[k] + wl[k] * olv[k] + wr[k] * orv[k] + wu[k] * upV[k] + wd[k] * dnV[k];
    float nu = i00[k] * r1 + i01[k] * r2;
    float nv = i01[k] * r1 + i11[k] * r2;
    qu[k] += omega * (nu - qu[k]);
    qv[k] += omega * (nv - qv[k]);
  }
}

}  // namespace

void RefineFlow(const Plane& from, const Plane& fromDx, const Plane& fromDy, const Plane& to,
                Plane& u, Plane& v, const VariationalParams& p, int threads) {
  const int w = from.w, h = from.h;
  if (p.outerIterations <= 0 || w < 2 || h < 2) return;
  const int rowThreads = ThreadsFor(w * h, threads);
  // Local copies: loops that store floats would otherwise reload these through the reference.
  const float alpha = p.alpha, delta = p.delta, gamma = p.gamma, omega = p.omega;
  const int innerIterations = p.innerIterations;

  // Linearisation point: `to` pulled back by the current flow, and the derivatives of both.
  // Every plane below is written in full before it is read, except du and dv (zero: no update yet).
  Plane ix = Plane::Uninitialised(w, h), iy = Plane::Uninitialised(w, h), iz = Plane::Uninitialised(w, h), ixz = Plane::Uninitialised(w, h), iyz = Plane::Uninitialised(w, h), valid = Plane::Uninitialised(w, h);
  {
    Plane warped = Plane::Uninitialised(w, h);
    ParallelFor(h, rowThreads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        const float* pu = u.row(y);
        const float* pv = v.row(y);
        float* o = warped.row(y);
        float* m = valid.row(y);
        // Bicubic here (bilinear in the patch search): the refinement has the last word on
        // sub-pixel accuracy, and bilinear resampling biases it toward whole pixels.
        WarpRowBicubic(to, pu, pv, y, o, m);
      }
    });
    Plane wdx, wdy;
    Gradients(warped, wdx, wdy, rowThreads);
    for (size_t k = 0; k < ix.px.size(); ++k) {
      ix.px[k] = 0.5f * (fromDx.px[k] + wdx.px[k]);
      iy.px[k] = 0.5f * (fromDy.px[k] + wdy.px[k]);
      iz.px[k] = warped.px[k] - from.px[k];
      ixz.px[k] = wdx.px[k] - fromDx.px[k];
      iyz.px[k] = wdy.px[k] - fromDy.px[k];
    }
  }
  Plane ixx, ixy, iyy;
  {
    Plane iyx;
    Gradients(ix, ixx, ixy, rowThreads);
    Gradients(iy, iyx, iyy, rowThreads);
    for (size_t k = 0; k < ixy.px.size(); ++k) ixy.px[k] = 0.5f * (ixy.px[k] + iyx.px[k]);
  }
  // Each constancy term is normalised by its own gradient magnitude, so strongly textured pixels
  // do not outvote smoothness (the flow would copy the texture). The out-of-frame mask is folded in.
  Plane normD = Plane::Uninitialised(w, h), normG = Plane::Uninitialised(w, h);
  for (size_t k = 0; k < ix.px.size(); ++k) {
    float m = valid.px[k];
    normD.px[k] = m / (ix.px[k] * ix.px[k] + iy.px[k] * iy.px[k] + kZeta2);
    normG.px[k] = m / (ixx.px[k] * ixx.px[k] + 2.f * ixy.px[k] * ixy.px[k] + iyy.px[k] * iyy.px[k] + kZeta2);
  }
  valid = Plane();

  Plane du(w, h), dv(w, h);
  Plane inv00 = Plane::Uninitialised(w, h), inv01 = Plane::Uninitialised(w, h), inv11 = Plane::Uninitialised(w, h), rhsU = Plane::Uninitialised(w, h), rhsV = Plane::Uninitialised(w, h);
  Plane smooth = Plane::Uninitialised(w, h), wRight = Plane::Uninitialised(w, h), wDown = Plane::Uninitialised(w, h), sdu = Plane::Uninitialised(w, h), sdv = Plane::Uninitialised(w, h);
  const int bands = (h + kBandRows - 1) / kBandRows;
  // Each band's first and last rows as they were at the start of a step (rows 2b and 2b + 1 for
  // band b): the neighbouring bands read these while the band itself is updated.
  Plane edgeU = Plane::Uninitialised(w, 2 * bands), edgeV = Plane::Uninitialised(w, 2 * bands);
  const int half = (w + 1) / 2;
  // Stand-ins for the rows beyond the top and bottom edges: zero weights, so no branches are needed.
  std::vector<float> zeros(w, 0.f);

  for (int outer = 0; outer < p.outerIterations; ++outer) {
    // Robust smoothness weight per pixel at the current estimate u + du.
    ParallelFor(h, rowThreads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        int yDown = y + 1 < h ? y + 1 : y;
        const float *pu = u.row(y), *pv = v.row(y), *qu = du.row(y), *qv = dv.row(y);
        const float *puD = u.row(yDown), *pvD = v.row(yDown), *quD = du.row(yDown), *qvD = dv.row(yDown);
        float* s = smooth.row(y);
        int last = w - 1;
        SmoothInterior(pu, pv, qu, qv, puD, pvD, quD, qvD, s, alpha, 0, last, w);
        SmoothRow<true>(pu, pv, qu, qv, puD, pvD, quD, qvD, s, alpha, last, w, w);
      }
    });
    // Robust data weights, and the per-pixel 2×2 system of the linearised Euler-Lagrange equations.
    ParallelFor(h, rowThreads, [&](int y0, int y1) {
      std::vector<float> rows(size_t(w) * 7);
      float* tmp[7];
      for (int i = 0; i < 7; ++i) tmp[i] = rows.data() + size_t(i) * w;
      for (int y = y0; y < y1; ++y) {
        SystemRowArgs r;
        r.ax = ix.row(y); r.ay = iy.row(y); r.az = iz.row(y); r.axz = ixz.row(y); r.ayz = iyz.row(y);
        r.axx = ixx.row(y); r.axy = ixy.row(y); r.ayy = iyy.row(y); r.nd = normD.row(y); r.ng = normG.row(y);
        r.qu = du.row(y); r.qv = dv.row(y); r.pu = u.row(y); r.pv = v.row(y);
        r.s = smooth.row(y);
        // No neighbour beyond the top and bottom rows: weight 0 (the row itself stands in).
        r.sUp = y > 0 ? smooth.row(y - 1) : r.s;
        r.sDn = y + 1 < h ? smooth.row(y + 1) : r.s;
        r.fUp = y > 0 ? 0.5f : 0.f;
        r.fDn = y + 1 < h ? 0.5f : 0.f;
        r.puUp = y > 0 ? u.row(y - 1) : r.pu; r.pvUp = y > 0 ? v.row(y - 1) : r.pv;
        r.puDn = y + 1 < h ? u.row(y + 1) : r.pu; r.pvDn = y + 1 < h ? v.row(y + 1) : r.pv;
        r.wr = tmp[0]; r.wd = tmp[1]; r.i00 = tmp[2]; r.i01 = tmp[3]; r.i11 = tmp[4]; r.ru = tmp[5]; r.rv = tmp[6];
        r.delta = delta; r.gamma = gamma;
        SystemRow<true>(r, 0, 1, w);
        if (w > 2) SystemInterior(r, 1, w - 1, w);
        if (w > 1) SystemRow<true>(r, w - 1, w, w);
        // Stored split by colour for the SOR.
        Plane* split[7] = {&wRight, &wDown, &inv00, &inv01, &inv11, &rhsU, &rhsV};
        for (int i = 0; i < 7; ++i) SplitRow(tmp[i], split[i]->row(y), w);
      }
    });

    // The SOR below works on rows split by colour (SplitRow): each pixel's neighbours left and right
    // are the other colour, above and below the same, so every access is contiguous and a sweep of
    // one colour touches only that colour's pixels.
    ParallelFor(h, rowThreads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        SplitRow(du.row(y), sdu.row(y), w);
        SplitRow(dv.row(y), sdv.row(y), w);
      }
    });
    for (int b = 0; b < bands; ++b) {
      int first = b * kBandRows, last = std::min(h, first + kBandRows) - 1;
      std::copy(sdu.row(first), sdu.row(first) + w, edgeU.row(2 * b));
      std::copy(sdu.row(last), sdu.row(last) + w, edgeU.row(2 * b + 1));
      std::copy(sdv.row(first), sdv.row(first) + w, edgeV.row(2 * b));
      std::copy(sdv.row(last), sdv.row(last) + w, edgeV.row(2 * b + 1));
    }
    ParallelFor(bands, std::min(rowThreads, bands), [&](int b0, int b1) {
      for (int band = b0; band < b1; ++band) {
        int yBegin = band * kBandRows, yEnd = std::min(h, yBegin + kBandRows);
        for (int inner = 0; inner < innerIterations; ++inner) {
          // Red-black order: pixels of one colour do not depend on each other, which keeps the
          // pipeline full (lexicographic Gauss-Seidel is one long dependency chain).
          for (int colour = 0; colour < 2; ++colour) {
            for (int y = yBegin; y < yEnd; ++y) {
              // Pixel x = 2k + c of this row's colour c is entry k of the row's half `own`; its left
              // and right neighbours are entries k - 1 + c and k + c of the other half.
              const int c = (y + colour) & 1;
              const int own = c ? half : 0, other = c ? 0 : half, count = c ? w / 2 : half;
              // Rows of other bands come from the snapshot: they are being updated concurrently.
              const float* upU = (y == 0 ? zeros.data() : (y - 1 < yBegin ? edgeU.row(2 * band - 1) : sdu.row(y - 1))) + own;
              const float* upV = (y == 0 ? zeros.data() : (y - 1 < yBegin ? edgeV.row(2 * band - 1) : sdv.row(y - 1))) + own;
              const float* dnU = (y + 1 >= h ? zeros.data() : (y + 1 >= yEnd ? edgeU.row(2 * band + 2) : sdu.row(y + 1))) + own;
              const float* dnV = (y + 1 >= h ? zeros.data() : (y + 1 >= yEnd ? edgeV.row(2 * band + 2) : sdv.row(y + 1))) + own;
              const float* wu = (y > 0 ? wDown.row(y - 1) : zeros.data()) + own;
              float *qu = sdu.row(y) + own, *qv = sdv.row(y) + own;
              const float *ou = sdu.row(y) + other, *ov = sdv.row(y) + other;
              const float *wr = wRight.row(y) + own, *wl = wRight.row(y) + other, *wd = wDown.row(y) + own;
              const float *i00 = inv00.row(y) + own, *i01 = inv01.row(y) + own, *i11 = inv11.row(y) + own;
              const float *ru = rhsU.row(y) + own, *rv = rhsV.row(y) + own;
              auto update = [&](int k, float r1, float r2) {
                float nu = i00[k] * r1 + i01[k] * r2;
                float nv = i01[k] * r1 + i11[k] * r2;
                qu[k] += omega * (nu - qu[k]);
                qv[k] += omega * (nv - qv[k]);
              };
              int kBegin = 0, kEnd = count;
              if (c == 0) {  // x = 0: no left neighbour
                float r1 = ru[0] + wu[0] * upU[0] + wd[0] * dnU[0], r2 = rv[0] + wu[0] * upV[0] + wd[0] * dnV[0];
                r1 += wr[0] * ou[0]; r2 += wr[0] * ov[0];
                update(0, r1, r2);
                kBegin = 1;
              }
              const bool lastHere = ((w - 1) & 1) == c;  // x = w - 1 (no right neighbour) is k = count - 1
              if (lastHere) kEnd = count - 1;
              const float *wlc = wl + c - 1, *olu = ou + c - 1, *olv = ov + c - 1, *oru = ou + c, *orv = ov + c;
              SorInterior({ru, rv, wlc, olu, olv, wr, oru, orv, wu, upU, upV, wd, dnU, dnV, i00, i01, i11, qu, qv, omega}, kBegin, kEnd);
              if (lastHere && count - 1 >= kBegin) {
                int k = count - 1;
                float r1 = ru[k] + wlc[k] * olu[k] + wu[k] * upU[k] + wd[k] * dnU[k];
                float r2 = rv[k] + wlc[k] * olv[k] + wu[k] * upV[k] + wd[k] * dnV[k];
                update(k, r1, r2);
              }
            }
          }
        }
      }
    });
    ParallelFor(h, rowThreads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        MergeRow(sdu.row(y), du.row(y), w);
        MergeRow(sdv.row(y), dv.row(y), w);
      }
    });
  }
  for (size_t k = 0; k < u.px.size(); ++k) {
    u.px[k] += du.px[k];
    v.px[k] += dv.px[k];
  }
}

}  // namespace rr::flow
