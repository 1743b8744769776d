// Minimal parallel-for over row ranges: the native hot loops split work by rows across threads.
#pragma once
#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

namespace rr {

inline int DefaultThreadCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// Calls fn(begin, end) on disjoint chunks of [0, count) from up to `threads` threads.
// Chunks are contiguous and assigned deterministically, so results do not depend on scheduling.
inline void ParallelFor(int count, int threads, const std::function<void(int, int)>& fn) {
  if (count <= 0) return;
  threads = std::max(1, std::min(threads, count));
  if (threads == 1) { fn(0, count); return; }
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  int chunk = (count + threads - 1) / threads;
  for (int t = 1; t < threads; ++t) {
    int b = t * chunk, e = std::min(count, b + chunk);
    if (b >= e) break;
    pool.emplace_back([&fn, b, e] { fn(b, e); });
  }
  fn(0, std::min(count, chunk));
  for (auto& th : pool) th.join();
}

}  // namespace rr
