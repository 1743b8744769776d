// Limits every image entering the native engine is held to, checked at the binding boundary on the JS
// thread before anything is allocated. The same limit as video frames (main/engine/media/probe.ts:
// MAX_SIDE, so at most 8192x8192 pixels) and as images read from files (native-models/src/image.ts).
#pragma once
#include <napi.h>

#include <string>

namespace rr {

constexpr int kMaxImageSide = 8192;
// The pixel limit: a frame of 8192x8192. Strips (a 1-row image of many pixels) are fine within it.
constexpr long long kMaxImagePixels = static_cast<long long>(kMaxImageSide) * kMaxImageSide;

// Throws a RangeError naming `what` when a side is below 1 or the image has more than kMaxImagePixels.
inline void CheckImageSize(Napi::Env env, int width, int height, const char* what) {
  const long long pixels = static_cast<long long>(width) * height;
  if (width < 1 || height < 1 || pixels > kMaxImagePixels) {
    throw Napi::RangeError::New(env, std::string(what) + " is " + std::to_string(width) + "x" + std::to_string(height) + " (" +
                                         std::to_string(width < 1 || height < 1 ? 0 : pixels) + " pixels); images may have 1 to " +
                                         std::to_string(kMaxImagePixels) + " pixels (" + std::to_string(kMaxImageSide) + "x" +
                                         std::to_string(kMaxImageSide) + ")");
  }
}

// Threads a caller may ask for: at least one, at most a few per core (a huge count would fail to start).
inline int ClampThreads(int requested, int cores) {
  const int most = cores * 4 < 1 ? 1 : cores * 4;
  return requested < 1 ? cores : requested > most ? most : requested;
}

}  // namespace rr
