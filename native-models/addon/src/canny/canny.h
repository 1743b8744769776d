// Canny edge detection (Gaussian blur, Sobel, non-maximum suppression, double threshold + hysteresis)
// for ControlNet's canny conditioning: a plain function on 8-bit images, no Node types.
#pragma once
#include <cstdint>
#include <vector>

namespace rr {

struct CannyOptions {
  double low = 100;        // gradient magnitude below this is never an edge
  double high = 200;       // magnitude above this always starts an edge
  double blurSigma = 1.0;  // Gaussian pre-blur; 0 disables it
  bool l2 = false;         // L2 gradient magnitude instead of |gx| + |gy| (the usual threshold units)
  int threads = 0;         // 0 = every core
};

// Edges of an image with `channels` interleaved channels (RGB is converted to luma first):
// returns width*height bytes, 255 on edge pixels, 0 elsewhere.
std::vector<uint8_t> CannyEdges(const uint8_t* pixels, int width, int height, int channels, const CannyOptions& options);

}  // namespace rr
