// Minimal parallel-for over row ranges: the native hot loops split work by rows across threads.
#pragma once
#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace rr {

inline int DefaultThreadCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// A thread whose exception is not lost: an exception escaping a std::thread ends the process, so the
// body's exception is kept and Join() rethrows it on the joining thread (the binding turns it into a
// JS error). The destructor joins too, so unwinding past a Thread never terminates.
class Thread {
 public:
  explicit Thread(std::function<void()> body)
      : thread_([this, body = std::move(body)] {
          try {
            body();
          } catch (...) {
            error_ = std::current_exception();
          }
        }) {}
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  ~Thread() { if (thread_.joinable()) thread_.join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  std::exception_ptr error_;  // declared before thread_: set up before the thread can write it
  std::thread thread_;
};

// Calls fn(begin, end) on disjoint chunks of [0, count) from up to `threads` threads.
// Chunks are contiguous and assigned deterministically, so results do not depend on scheduling.
// An exception in any chunk is rethrown here once every thread has finished (the first one wins).
inline void ParallelFor(int count, int threads, const std::function<void(int, int)>& fn) {
  if (count <= 0) return;
  threads = std::max(1, std::min(threads, count));
  if (threads == 1) { fn(0, count); return; }
  std::exception_ptr first;
  std::mutex guard;
  auto run = [&](int b, int e) {
    try {
      fn(b, e);
    } catch (...) {
      std::lock_guard<std::mutex> lock(guard);
      if (!first) first = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  int chunk = (count + threads - 1) / threads;
  for (int t = 1; t < threads; ++t) {
    int b = t * chunk, e = std::min(count, b + chunk);
    if (b >= e) break;
    try {
      pool.emplace_back([&run, b, e] { run(b, e); });
    } catch (...) {
      run(b, e);  // no thread to be had (std::system_error): do this chunk here instead
    }
  }
  run(0, std::min(count, chunk));
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}

// Calls fn(worker, index) for every index in [0, count) from up to `threads` workers (worker in
// [0, threads)), each worker taking the next index as it finishes one, so uneven items balance out.
// Which worker runs which index depends on scheduling: fn's effect must not depend on `worker` (use it
// only to pick per-worker scratch space that every item leaves as it found it).
inline void ParallelForDynamic(int count, int threads, const std::function<void(int, int)>& fn) {
  if (count <= 0) return;
  threads = std::max(1, std::min(threads, count));
  std::atomic<int> next{0};
  ParallelFor(threads, threads, [&](int w0, int w1) {
    for (int w = w0; w < w1; ++w)
      for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) fn(w, i);
  });
}

}  // namespace rr
