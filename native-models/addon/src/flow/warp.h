// Uses of a flow field: forward-backward occlusion, backward warping of images and float maps,
// and the soft dilated mask built from an occlusion mask.
#pragma once
#include <cstdint>

namespace rr::flow {

// Pixel p of the second frame is occluded (255) when it is not seen in the first frame:
// |b(p) + f(p + b(p))| > 0.01 (|f(p + b(p))| + |b(p)|) + 0.5, or p + b(p) lies outside the frame.
// `forward` is first→second, `backward` second→first, both interleaved (dx, dy), w*h*2 floats.
void OcclusionMask(const float* forward, const float* backward, int w, int h, uint8_t* out, int threads);

// out(p) = src(p + flow(p)) for every pixel p of the flow's grid (the source has the same size);
// nearest or bilinear sampling, the border replicated outside the frame.
void WarpBackward(const uint8_t* src, int w, int h, int channels, const float* flow, bool bilinear, uint8_t* out, int threads);
void WarpBackward(const float* src, int w, int h, int channels, const float* flow, bool bilinear, float* out, int threads);

// m = clamp(blur(maxpool(O)) + O, 0, 1) with O in {0, 1} from a 0/255 mask: a max filter of side
// `dilate`, then a Gaussian of side `blurSize` and deviation `sigma` (mirrored borders).
void SoftMask(const uint8_t* mask, int w, int h, int dilate, int blurSize, float sigma, float* out, int threads);

}  // namespace rr::flow
