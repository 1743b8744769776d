// Helper threads kept for the length of one flow computation: the estimator runs some hundred
// short parallel loops per frame pair, and starting threads for each cost more CPU than the loops
// saved (about a fifth of a 512² flow on two cores). Waking a parked helper costs far less.
#pragma once
#include <functional>

namespace rr::flow {

// While one is alive, rr::flow::ParallelFor on the thread that made it runs its chunks on these
// helpers (and that thread). Nested scopes and other threads are unaffected.
class ScopedWorkers {
 public:
  explicit ScopedWorkers(int threads);
  ~ScopedWorkers();
  ScopedWorkers(const ScopedWorkers&) = delete;
  ScopedWorkers& operator=(const ScopedWorkers&) = delete;

  struct Pool;

 private:
  Pool* pool_ = nullptr;  // null when this scope added nothing (one thread, or a scope already active)
};

// rr::ParallelFor's contract (fn(begin, end) on contiguous chunks of [0, count) fixed by `threads`
// alone, so results never depend on scheduling; the first exception rethrown once all are done),
// on the calling thread's helpers when it has enough of them, else on threads started for the call.
void ParallelFor(int count, int threads, const std::function<void(int, int)>& fn);

}  // namespace rr::flow
