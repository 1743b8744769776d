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
constexpr float kEpsilon2 = 1e-6f;  // Charbonnier epsilon², small: close to an L1 penalty
constexpr float kZeta2 = 1.f;  // keeps the normalisation finite on flat areas

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
        for (int x = 0; x < w; ++x) {
          int xr = x + 1 < w ? x + 1 : x;
          float ux = (pu[xr] + qu[xr]) - (pu[x] + qu[x]);
          float vx = (pv[xr] + qv[xr]) - (pv[x] + qv[x]);
          float uy = (puD[x] + quD[x]) - (pu[x] + qu[x]);
          float vy = (pvD[x] + qvD[x]) - (pv[x] + qv[x]);
          s[x] = alpha / std::sqrt(ux * ux + uy * uy + vx * vx + vy * vy + kEpsilon2);
        }
      }
    });
    // Robust data weights, and the per-pixel 2×2 system of the linearised Euler-Lagrange equations.
    ParallelFor(h, rowThreads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        const float *ax = ix.row(y), *ay = iy.row(y), *az = iz.row(y), *axz = ixz.row(y), *ayz = iyz.row(y);
        const float *axx = ixx.row(y), *axy = ixy.row(y), *ayy = iyy.row(y), *nd = normD.row(y), *ng = normG.row(y);
        const float *qu = du.row(y), *qv = dv.row(y), *pu = u.row(y), *pv = v.row(y);
        const float* s = smooth.row(y);
        const float* sUp = y > 0 ? smooth.row(y - 1) : nullptr;
        const float* sDn = y + 1 < h ? smooth.row(y + 1) : nullptr;
        const float *puUp = y > 0 ? u.row(y - 1) : pu, *pvUp = y > 0 ? v.row(y - 1) : pv;
        const float *puDn = y + 1 < h ? u.row(y + 1) : pu, *pvDn = y + 1 < h ? v.row(y + 1) : pv;
        float *wr = wRight.row(y), *wd = wDown.row(y);
        float *i00 = inv00.row(y), *i01 = inv01.row(y), *i11 = inv11.row(y), *ru = rhsU.row(y), *rv = rhsV.row(y);
        for (int x = 0; x < w; ++x) {
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
          // Neighbour weights are means of the two pixels' robust weights; none across the border.
          float wl = x > 0 ? 0.5f * (s[x - 1] + s[x]) : 0.f;
          float wrr = x + 1 < w ? 0.5f * (s[x] + s[x + 1]) : 0.f;
          float wup = sUp ? 0.5f * (sUp[x] + s[x]) : 0.f;
          float wdn = sDn ? 0.5f * (s[x] + sDn[x]) : 0.f;
          wr[x] = wrr;
          wd[x] = wdn;
          // Smoothness acts on the total flow u + du: its base part is constant during SOR.
          int xl = x > 0 ? x - 1 : x, xr = x + 1 < w ? x + 1 : x;
          ru[x] = b1 + wl * (pu[xl] - pu[x]) + wrr * (pu[xr] - pu[x]) + wup * (puUp[x] - pu[x]) + wdn * (puDn[x] - pu[x]);
          rv[x] = b2 + wl * (pv[xl] - pv[x]) + wrr * (pv[xr] - pv[x]) + wup * (pvUp[x] - pv[x]) + wdn * (pvDn[x] - pv[x]);
          float sum = wl + wrr + wup + wdn;
          float m11 = a11 + sum + 1e-6f, m22 = a22 + sum + 1e-6f;
          float inv = 1.f / (m11 * m22 - a12 * a12);
          i00[x] = m22 * inv; i01[x] = -a12 * inv; i11[x] = m11 * inv;
        }
      }
    });

    duStart.px = du.px;
    dvStart.px = dv.px;
    int bands = (h + kBandRows - 1) / kBandRows;
    ParallelFor(bands, std::min(rowThreads, bands), [&](int b0, int b1) {
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
              for (; x < w - 1; x += 2) {
                float r1 = ru[x] + wr[x - 1] * qu[x - 1] + wr[x] * qu[x + 1] + wu[x] * upU[x] + wd[x] * dnU[x];
                float r2 = rv[x] + wr[x - 1] * qv[x - 1] + wr[x] * qv[x + 1] + wu[x] * upV[x] + wd[x] * dnV[x];
                update(x, r1, r2);
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
