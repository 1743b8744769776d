// FRESCO-aware feature optimisation: losses, their analytic gradients, Adam and the renormalisation to the
// original per-channel statistics. Work splits by token rows (similarity) and by channels (warp) so
// threads never write the same element, and sums are reduced per row in a fixed order (deterministic).
#include "fresco/feature_optimiser.h"

#include <algorithm>
#include <cmath>

#include "common/parallel.h"

namespace rr {
namespace {

constexpr float kNormEps = 1e-6f;

// Token-major unit vectors of one frame's channel-major features, and their norms.
void UnitTokens(const float* x, int channels, int tokens, float* unit, float* norms) {
  for (int p = 0; p < tokens; ++p) {
    double s = 0;
    for (int c = 0; c < channels; ++c) { const float v = x[c * tokens + p]; s += double(v) * v; }
    const float n = std::max(float(std::sqrt(s)), kNormEps);
    norms[p] = n;
    for (int c = 0; c < channels; ++c) unit[p * channels + c] = x[c * tokens + p] / n;
  }
}

inline float Dot(const float* a, const float* b, int n) {
  float s = 0;
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

class Problem {
 public:
  Problem(const FeatureBatch& b, int threads) : b_(b), threads_(threads > 0 ? threads : DefaultThreadCount()) {
    const int n = b.tokens;
    target_.assign(size_t(b.frames) * n * n, 0.f);
    std::vector<float> unit(size_t(n) * b.guideChannels), norms(n);
    for (int f = 0; f < b.frames; ++f) {
      UnitTokens(b.guide + size_t(f) * b.guideChannels * n, b.guideChannels, n, unit.data(), norms.data());
      float* t = target_.data() + size_t(f) * n * n;
      ParallelFor(n, threads_, [&](int p0, int p1) {
        for (int p = p0; p < p1; ++p)
          for (int q = 0; q < n; ++q) t[size_t(p) * n + q] = Dot(&unit[size_t(p) * b.guideChannels], &unit[size_t(q) * b.guideChannels], b.guideChannels);
      });
    }
  }

  // Losses of x; with `grad`, also d(warpWeight·warp + similarityWeight·similarity)/dx.
  FeatureLosses Evaluate(const float* x, float* grad, double warpWeight, double similarityWeight) const {
    const int F = b_.frames, C = b_.channels, N = b_.tokens;
    if (grad) std::fill(grad, grad + size_t(F) * C * N, 0.f);
    FeatureLosses loss;
    loss.similarity = Similarity(x, grad, similarityWeight);
    loss.warp = Warp(x, grad, warpWeight);
    return loss;
  }

 private:
  double Similarity(const float* x, float* grad, double weight) const {
    const int F = b_.frames, C = b_.channels, N = b_.tokens;
    const double scale = 1.0 / (double(F) * N * N);
    std::vector<float> unit(size_t(F) * N * C), norms(size_t(F) * N), sign(grad ? size_t(F) * N * N : 0);
    std::vector<double> rowLoss(size_t(F) * N, 0.0);
    ParallelFor(F, threads_, [&](int f0, int f1) {
      for (int f = f0; f < f1; ++f) UnitTokens(x + size_t(f) * C * N, C, N, &unit[size_t(f) * N * C], &norms[size_t(f) * N]);
    });
    ParallelFor(F * N, threads_, [&](int r0, int r1) {
      for (int r = r0; r < r1; ++r) {
        const int f = r / N, p = r % N;
        const float* u = &unit[size_t(f) * N * C];
        const float* t = target_.data() + (size_t(f) * N + p) * N;
        double acc = 0;
        for (int q = 0; q < N; ++q) {
          const float d = Dot(&u[size_t(p) * C], &u[size_t(q) * C], C) - t[q];
          acc += std::fabs(d);
          if (grad) sign[(size_t(f) * N + p) * N + q] = d > 0 ? 1.f : d < 0 ? -1.f : 0.f;
        }
        rowLoss[r] = acc;
      }
    });
    if (grad) {
      // S = UᵀU is symmetric and so is sign(S − T): dL/du_p = 2·k·Σ_q sign_pq·u_q; then back through
      // u = x/‖x‖: dL/dx_p = (g − u·(u·g))/‖x_p‖.
      const float k = float(2.0 * weight * scale);
      ParallelFor(F * N, threads_, [&](int r0, int r1) {
        std::vector<float> g(C);
        for (int r = r0; r < r1; ++r) {
          const int f = r / N, p = r % N;
          const float* u = &unit[size_t(f) * N * C];
          const float* s = &sign[(size_t(f) * N + p) * N];
          std::fill(g.begin(), g.end(), 0.f);
          for (int q = 0; q < N; ++q) {
            if (s[q] == 0.f) continue;
            const float a = k * s[q];
            const float* uq = &u[size_t(q) * C];
            for (int c = 0; c < C; ++c) g[c] += a * uq[c];
          }
          const float* up = &u[size_t(p) * C];
          const float along = Dot(up, g.data(), C);
          const float inv = 1.f / norms[size_t(f) * N + p];
          float* gx = grad + size_t(f) * C * N;
          for (int c = 0; c < C; ++c) gx[size_t(c) * N + p] += (g[c] - up[c] * along) * inv;
        }
      });
    }
    double total = 0;
    for (double v : rowLoss) total += v;
    return total * scale;
  }

  double Warp(const float* x, float* grad, double weight) const {
    const int F = b_.frames, C = b_.channels, N = b_.tokens;
    if (F < 2) return 0;
    const double scale = 1.0 / (double(F - 1) * C * N);
    const float k = float(weight * scale);
    std::vector<double> channelLoss(C, 0.0);
    ParallelFor(C, threads_, [&](int c0, int c1) {
      for (int c = c0; c < c1; ++c) {
        double acc = 0;
        for (int f = 1; f < F; ++f) {
          const float* cur = x + (size_t(f) * C + c) * N;
          const float* prev = x + (size_t(f - 1) * C + c) * N;
          const int32_t* src = b_.source + size_t(f) * N;
          const float* vis = b_.visible + size_t(f) * N;
          for (int p = 0; p < N; ++p) {
            if (src[p] < 0 || vis[p] <= 0.f) continue;
            const float d = cur[p] - prev[src[p]];
            acc += vis[p] * std::fabs(d);
            if (grad && d != 0.f) {
              const float g = k * vis[p] * (d > 0 ? 1.f : -1.f);
              grad[(size_t(f) * C + c) * N + p] += g;
              grad[(size_t(f - 1) * C + c) * N + src[p]] -= g;
            }
          }
        }
        channelLoss[c] = acc;
      }
    });
    double total = 0;
    for (double v : channelLoss) total += v;
    return total * scale;
  }

  const FeatureBatch& b_;
  int threads_;
  std::vector<float> target_;
};

// Per frame and channel: mean and standard deviation over tokens.
void ChannelStats(const float* x, int planes, int tokens, std::vector<double>& mean, std::vector<double>& stdev) {
  mean.assign(planes, 0);
  stdev.assign(planes, 0);
  for (int i = 0; i < planes; ++i) {
    const float* v = x + size_t(i) * tokens;
    double s = 0, s2 = 0;
    for (int p = 0; p < tokens; ++p) s += v[p];
    const double m = s / tokens;
    for (int p = 0; p < tokens; ++p) s2 += (v[p] - m) * (v[p] - m);
    mean[i] = m;
    stdev[i] = std::sqrt(s2 / tokens);
  }
}

}  // namespace

FeatureLosses MeasureFeatureLosses(const float* x, const FeatureBatch& batch, int threads) {
  Problem problem(batch, threads);
  return problem.Evaluate(x, nullptr, 1.0, 1.0);
}

OptimiseResult OptimiseFeatures(float* x, const FeatureBatch& b, const OptimiserOptions& o) {
  const size_t count = size_t(b.frames) * b.channels * b.tokens;
  const int threads = o.threads > 0 ? o.threads : DefaultThreadCount();
  Problem problem(b, threads);
  OptimiseResult result;
  result.before = problem.Evaluate(x, nullptr, 1.0, 1.0);
  std::vector<double> mean0, std0;
  ChannelStats(x, b.frames * b.channels, b.tokens, mean0, std0);

  std::vector<float> grad(count), m(count, 0.f), v(count, 0.f);
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  for (int it = 1; it <= o.iterations; ++it) {
    problem.Evaluate(x, grad.data(), o.warpWeight, o.similarityWeight);
    const double c1 = 1 - std::pow(beta1, it), c2 = 1 - std::pow(beta2, it);
    const float step = float(o.learningRate / c1);
    const int blocks = int((count + 4095) / 4096);
    ParallelFor(blocks, threads, [&](int k0, int k1) {
      const size_t end = std::min(count, size_t(k1) * 4096);
      for (size_t i = size_t(k0) * 4096; i < end; ++i) {
        m[i] = float(beta1 * m[i] + (1 - beta1) * grad[i]);
        v[i] = float(beta2 * v[i] + (1 - beta2) * double(grad[i]) * grad[i]);
        x[i] -= step * m[i] / float(std::sqrt(v[i] / c2) + eps);
      }
    });
  }
  result.optimised = problem.Evaluate(x, nullptr, 1.0, 1.0);

  if (o.renormalise) {
    // The optimisation may shift each channel's level and spread; the decoder expects the originals.
    std::vector<double> mean1, std1;
    ChannelStats(x, b.frames * b.channels, b.tokens, mean1, std1);
    for (int i = 0; i < b.frames * b.channels; ++i) {
      const double gain = std0[i] / std::max(std1[i], 1e-12);
      float* p = x + size_t(i) * b.tokens;
      for (int t = 0; t < b.tokens; ++t) p[t] = float((p[t] - mean1[i]) * gain + mean0[i]);
    }
  }
  result.final = problem.Evaluate(x, nullptr, 1.0, 1.0);
  return result;
}

}  // namespace rr
