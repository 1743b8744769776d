// Blending of the two propagation directions: colour conversions, statistics and the fusion solve.
#include "synth/blend.h"

#include <algorithm>
#include <cmath>

#include "common/parallel.h"
#include "synth/dct.h"

namespace rr {
namespace {

// D65 white point of the sRGB primaries.
constexpr float kWhite[3] = {0.95047f, 1.0f, 1.08883f};

float SrgbToLinear(float c) { return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f); }
float LabF(float t) { return t > 216.f / 24389.f ? std::cbrt(t) : (24389.f / 27.f * t + 16.f) / 116.f; }
float LabFInv(float f) { return f * f * f > 216.f / 24389.f ? f * f * f : (116.f * f - 16.f) * 27.f / 24389.f; }

struct Stats { double mean[3], std[3]; };

Stats ChannelStats(const float* lab, size_t pixels) {
  Stats s{};
  for (int c = 0; c < 3; ++c) {
    double sum = 0, sq = 0;
    for (size_t i = 0; i < pixels; ++i) { double v = lab[i * 3 + c]; sum += v; sq += v * v; }
    s.mean[c] = sum / static_cast<double>(pixels);
    s.std[c] = std::sqrt(std::max(0.0, sq / static_cast<double>(pixels) - s.mean[c] * s.mean[c]));
  }
  return s;
}

}  // namespace

std::vector<float> RgbToLab(const uint8_t* rgb, size_t pixels, int threads) {
  float table[256];
  for (int v = 0; v < 256; ++v) table[v] = SrgbToLinear(v / 255.f);
  std::vector<float> lab(pixels * 3);
  ParallelFor(static_cast<int>((pixels + 4095) / 4096), threads, [&](int b0, int b1) {
    for (size_t i = static_cast<size_t>(b0) * 4096; i < std::min(pixels, static_cast<size_t>(b1) * 4096); ++i) {
      const float r = table[rgb[i * 3]], g = table[rgb[i * 3 + 1]], b = table[rgb[i * 3 + 2]];
      const float x = (0.4124564f * r + 0.3575761f * g + 0.1804375f * b) / kWhite[0];
      const float y = (0.2126729f * r + 0.7151522f * g + 0.0721750f * b) / kWhite[1];
      const float z = (0.0193339f * r + 0.1191920f * g + 0.9503041f * b) / kWhite[2];
      const float fx = LabF(x), fy = LabF(y), fz = LabF(z);
      lab[i * 3] = 116.f * fy - 16.f;
      lab[i * 3 + 1] = 500.f * (fx - fy);
      lab[i * 3 + 2] = 200.f * (fy - fz);
    }
  });
  return lab;
}

std::vector<uint8_t> LabToRgb(const float* lab, size_t pixels, int threads) {
  // 8-bit sRGB code v covers linear values between the decodings of v - 0.5 and v + 0.5: a binary
  // search over those 255 thresholds rounds exactly like encoding with pow, at a fraction of the cost.
  float thresholds[255];
  for (int v = 0; v < 255; ++v) thresholds[v] = SrgbToLinear((v + 0.5f) / 255.f);
  std::vector<uint8_t> rgb(pixels * 3);
  ParallelFor(static_cast<int>((pixels + 4095) / 4096), threads, [&](int b0, int b1) {
    for (size_t i = static_cast<size_t>(b0) * 4096; i < std::min(pixels, static_cast<size_t>(b1) * 4096); ++i) {
      const float fy = (lab[i * 3] + 16.f) / 116.f, fx = fy + lab[i * 3 + 1] / 500.f, fz = fy - lab[i * 3 + 2] / 200.f;
      const float x = LabFInv(fx) * kWhite[0], y = LabFInv(fy) * kWhite[1], z = LabFInv(fz) * kWhite[2];
      const float lin[3] = {3.2404542f * x - 1.5371385f * y - 0.4985314f * z, -0.9692660f * x + 1.8760108f * y + 0.0415560f * z,
                            0.0556434f * x - 0.2040259f * y + 1.0572252f * z};
      for (int c = 0; c < 3; ++c)
        rgb[i * 3 + c] = static_cast<uint8_t>(std::upper_bound(thresholds, thresholds + 255, lin[c]) - thresholds);
    }
  });
  return rgb;
}

std::vector<uint8_t> BlendMask(const float* errorA, const float* errorB, const uint8_t* previous, size_t pixels, float weightB) {
  std::vector<uint8_t> mask(pixels);
  for (size_t i = 0; i < pixels; ++i) {
    const bool takeB = weightB * errorA[i] >= (1.f - weightB) * errorB[i];
    mask[i] = (takeB || (previous != nullptr && TakesB(previous[i]))) ? 255 : 0;
  }
  return mask;
}

std::vector<float> HistogramBlendLab(const float* labA, const float* labB, const uint8_t* mask, size_t pixels, float weightB) {
  std::vector<float> out(pixels * 3);
  for (size_t i = 0; i < pixels * 3; ++i) out[i] = TakesB(mask[i / 3]) ? labB[i] : labA[i];
  const Stats sa = ChannelStats(labA, pixels), sb = ChannelStats(labB, pixels), sc = ChannelStats(out.data(), pixels);
  // A flat channel has no spread to standardise; it then contributes its deviation unscaled (zero).
  auto inv = [](double s) { return s > 1e-6 ? 1.0 / s : 0.0; };
  for (size_t i = 0; i < pixels; ++i)
    for (int c = 0; c < 3; ++c)
      out[i * 3 + c] = static_cast<float>((1.0 - weightB) * (labA[i * 3 + c] - sa.mean[c]) * inv(sa.std[c]) +
                                          weightB * (labB[i * 3 + c] - sb.mean[c]) * inv(sb.std[c]));
  const Stats sm = ChannelStats(out.data(), pixels);
  for (size_t i = 0; i < pixels; ++i)
    for (int c = 0; c < 3; ++c)
      out[i * 3 + c] = static_cast<float>((out[i * 3 + c] - sm.mean[c]) * inv(sm.std[c]) * sc.std[c] + sc.mean[c]);
  return out;
}

std::vector<float> GradientFusionLab(const float* labA, const float* labB, const uint8_t* mask, const float* baseLab, int width,
                                     int height, const float weights[3], int threads) {
  const size_t pixels = static_cast<size_t>(width) * height;
  std::vector<float> out(pixels * 3), base(pixels), gx(pixels, 0.f), gy(pixels, 0.f);
  for (int c = 0; c < 3; ++c) {
    for (size_t i = 0; i < pixels; ++i) {
      // The mask is B's share of the gradient (0 = A's, 255 = B's; soft values mix the two).
      const float wb = mask[i] / 255.f;
      const int x = static_cast<int>(i % width), y = static_cast<int>(i / width);
      const auto grad = [&](size_t j) { return (1.f - wb) * (labA[j * 3 + c] - labA[i * 3 + c]) + wb * (labB[j * 3 + c] - labB[i * 3 + c]); };
      base[i] = baseLab[i * 3 + c];
      gx[i] = x + 1 < width ? std::clamp(grad(i + 1), -100.f, 100.f) : 0.f;
      gy[i] = y + 1 < height ? std::clamp(grad(i + width), -100.f, 100.f) : 0.f;
    }
    const std::vector<float> x = SolveScreenedPoisson(base.data(), gx.data(), gy.data(), width, height, weights[c], threads);
    for (size_t i = 0; i < pixels; ++i) out[i * 3 + c] = x[i];
  }
  return out;
}

}  // namespace rr
