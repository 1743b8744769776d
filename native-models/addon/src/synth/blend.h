// Blending the forward and backward syntheses of a frame (docs/METHOD.md §4.2): error-based mask,
// histogram-preserving Lab blend, and gradient-domain fusion. Plain C++, images interleaved RGB.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rr {

// sRGB (D65) <-> CIE Lab, L in 0..100; three floats per pixel.
std::vector<float> RgbToLab(const uint8_t* rgb, size_t pixels, int threads);
std::vector<uint8_t> LabToRgb(const float* lab, size_t pixels, int threads);

// Masks are 8-bit, 255 where B is taken and 0 where A is; a warped (interpolated) mask counts as B
// from 128 up.
inline bool TakesB(uint8_t maskValue) { return maskValue >= 128; }

// 255 where B is taken: weightB * errorA >= (1 - weightB) * errorB, OR-ed with `previous` (may be null),
// the previous frame's mask warped into this frame, so a pixel never switches back from B to A.
std::vector<uint8_t> BlendMask(const float* errorA, const float* errorB, const uint8_t* previous, size_t pixels, float weightB);

// Lab result: A and B standardised per channel, mixed (1 - weightB, weightB), then given the mean and
// standard deviation of the composite select(A, B, mask).
std::vector<float> HistogramBlendLab(const float* labA, const float* labB, const uint8_t* mask, size_t pixels, float weightB);

// Per Lab channel, x minimising |w (grad x - g)|^2 + |x - base|^2 with g the gradients of A where
// mask = 0 and of B where mask = 1 (clipped to +-100); w per channel (L, a, b).
std::vector<float> GradientFusionLab(const float* labA, const float* labB, const uint8_t* mask, const float* baseLab, int width,
                                     int height, const float weights[3], int threads);

}  // namespace rr
