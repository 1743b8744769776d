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
  Plane ix(w, h), iy(w, h), iz(w, h), ixz(w, h), iyz(w, h), valid(w, h);
  {
    Plane warped(w, h);
    ParallelFor(h, rowThreads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        const float* pu = u.row(y);
        const float* pv = v.row(y);
        float* o = warped.row(y);
        float* m = valid.row(y);
        for (int x = 0; x < w; ++x) {
          float sx = float(x) + pu[x], sy = float(y) + pv[x];
          // Bicubic here (bilinear in the patch search): the refinement has the last word on
          // sub-pixel accuracy, and bilinear resampling biases it toward whole pixels.
          o[x] = SampleBicubic(to, sx, sy);
          // Points that left the frame carry no data; smoothness fills them in.
          m[x] = (sx >= 0.f && sy >= 0.f && sx <= float(w - 1) && sy <= float(h - 1)) ? 1.f : 0.f;
        }
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
  Plane normD(w, h), normG(w, h);
  for (size_t k = 0; k < ix.px.size(); ++k) {
    float m = valid.px[k];
    normD.px[k] = m / (ix.px[k] * ix.px[k] + iy.px[k] * iy.px[k] + kZeta2);
    normG.px[k] = m / (ixx.px[k] * ixx.px[k] + 2.f * ixy.px[k] * ixy.px[k] + iyy.px[k] * iyy.px[k] + kZeta2);
  }
  valid = Plane();

  Plane du(w, h), dv(w, h), duStart(w, h), dvStart(w, h);
  Plane inv00(w, h), inv01(w, h), inv11(w, h), rhsU(w, h), rhsV(w, h);
  Plane smooth(w, h), wRight(w, h), wDown(w, h);
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
        SmoothRow<false>(pu, pv, qu, qv, puD, pvD, quD, qvD, s, alpha, 0, last, w);
        SmoothRow<true>(pu, pv, qu, qv, puD, pvD, quD, qvD, s, alpha, last, w, w);
      }
    });
    // Robust data weights, and the per-pixel 2×2 system of the linearised Euler-Lagrange equations.
    ParallelFor(h, rowThreads, [&](int y0, int y1) {
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
        r.wr = wRight.row(y); r.wd = wDown.row(y);
        r.i00 = inv00.row(y); r.i01 = inv01.row(y); r.i11 = inv11.row(y); r.ru = rhsU.row(y); r.rv = rhsV.row(y);
        r.delta = delta; r.gamma = gamma;
        SystemRow<true>(r, 0, 1, w);
        if (w > 2) SystemRow<false>(r, 1, w - 1, w);
        if (w > 1) SystemRow<true>(r, w - 1, w, w);
      }
    });

    duStart.px = du.px;
    dvStart.px = dv.px;
    int bands = (h + kBandRows - 1) / kBandRows;
    ParallelFor(bands, std::min(rowThreads, bands), [&](int b0, int b1) {
      std::vector<float> nextRowU(w), nextRowV(w);
      float *nextU = nextRowU.data(), *nextV = nextRowV.data();
      for (int band = b0; band < b1; ++band) {
        int yBegin = band * kBandRows, yEnd = std::min(h, yBegin + kBandRows);
        for (int inner = 0; inner < innerIterations; ++inner) {
          // Red-black order: pixels of one colour do not depend on each other, which keeps the
          // pipeline full (lexicographic Gauss-Seidel is one long dependency chain).
          for (int colour = 0; colour < 2; ++colour) {
            for (int y = yBegin; y < yEnd; ++y) {
              // Rows of other bands come from the snapshot: they are being updated concurrently.
              const float* upU = y == 0 ? zeros.data() : (y - 1 < yBegin ? duStart.row(y - 1) : du.row(y - 1));
              const float* upV = y == 0 ? zeros.data() : (y - 1 < yBegin ? dvStart.row(y - 1) : dv.row(y - 1));
              const float* dnU = y + 1 >= h ? zeros.data() : (y + 1 >= yEnd ? duStart.row(y + 1) : du.row(y + 1));
              const float* dnV = y + 1 >= h ? zeros.data() : (y + 1 >= yEnd ? dvStart.row(y + 1) : dv.row(y + 1));
              const float* wu = y > 0 ? wDown.row(y - 1) : zeros.data();
              float *qu = du.row(y), *qv = dv.row(y);
              const float *wr = wRight.row(y), *wd = wDown.row(y);
              const float *i00 = inv00.row(y), *i01 = inv01.row(y), *i11 = inv11.row(y), *ru = rhsU.row(y), *rv = rhsV.row(y);
              auto update = [&](int x, float r1, float r2) {
                float nu = i00[x] * r1 + i01[x] * r2;
                float nv = i01[x] * r1 + i11[x] * r2;
                qu[x] += omega * (nu - qu[x]);
                qv[x] += omega * (nv - qv[x]);
              };
              int first = (y + colour) & 1;
              int x = first;
              if (x == 0) {
                float r1 = ru[0] + wu[0] * upU[0] + wd[0] * dnU[0], r2 = rv[0] + wu[0] * upV[0] + wd[0] * dnV[0];
                if (w > 1) { r1 += wr[0] * qu[1]; r2 += wr[0] * qv[1]; }
                update(0, r1, r2);
                x = 2;
              }
              // The interior: every pixel of the row computed branch-free (vectorised), then only
              // this colour's pixels kept. Each reads only the other colour, so this is exact.
              if (x < w - 1) {
                RR_NO_ALIAS
                for (int k = 1; k < w - 1; ++k) {
                  float r1 = ru[k] + wr[k - 1] * qu[k - 1] + wr[k] * qu[k + 1] + wu[k] * upU[k] + wd[k] * dnU[k];
                  float r2 = rv[k] + wr[k - 1] * qv[k - 1] + wr[k] * qv[k + 1] + wu[k] * upV[k] + wd[k] * dnV[k];
                  float nu = i00[k] * r1 + i01[k] * r2;
                  float nv = i01[k] * r1 + i11[k] * r2;
                  nextU[k] = qu[k] + omega * (nu - qu[k]);
                  nextV[k] = qv[k] + omega * (nv - qv[k]);
                }
                for (; x < w - 1; x += 2) { qu[x] = nextU[x]; qv[x] = nextV[x]; }
              }
              if (x == w - 1 && w > 1) {
                float r1 = ru[x] + wr[x - 1] * qu[x - 1] + wu[x] * upU[x] + wd[x] * dnU[x];
                float r2 = rv[x] + wr[x - 1] * qv[x - 1] + wu[x] * upV[x] + wd[x] * dnV[x];
                update(x, r1, r2);
              }
            }
          }
        }
      }
    });
  }
  for (size_t k = 0; k < u.px.size(); ++k) {
    u.px[k] += du.px[k];
    v.px[k] += dv.px[k];
  }
}

}  // namespace rr::flow
