// The flow estimator's parked helper threads (workers.h).
#include "flow/workers.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "common/parallel.h"

namespace rr::flow {

struct ScopedWorkers::Pool {
  std::mutex mutex;
  std::condition_variable wake, done;
  std::vector<std::thread> helpers;
  // The loop being run: helper i runs chunk i + 1 (the owner runs chunk 0).
  const std::function<void(int, int)>* fn = nullptr;
  int count = 0, chunk = 0;
  long generation = 0;
  int pending = 0;
  bool stop = false;
  std::exception_ptr error;

  void RunChunk(int index) {
    int b = index * chunk, e = std::min(count, b + chunk);
    if (b >= e) return;
    try {
      (*fn)(b, e);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
    }
  }

  void Helper(int index) {
    long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return stop || generation != seen; });
        if (stop) return;
        seen = generation;
      }
      RunChunk(index + 1);
      std::lock_guard<std::mutex> lock(mutex);
      if (--pending == 0) done.notify_one();
    }
  }
};

namespace {
thread_local ScopedWorkers::Pool* current = nullptr;
}

ScopedWorkers::ScopedWorkers(int threads) {
  if (threads < 2 || current) return;
  auto* pool = new Pool;
  try {
    for (int i = 0; i < threads - 1; ++i) pool->helpers.emplace_back([pool, i] { pool->Helper(i); });
  } catch (...) {
    // No thread to be had (std::system_error): keep the helpers that started, or none.
  }
  if (pool->helpers.empty()) { delete pool; return; }
  pool_ = current = pool;
}

ScopedWorkers::~ScopedWorkers() {
  if (!pool_) return;
  {
    std::lock_guard<std::mutex> lock(pool_->mutex);
    pool_->stop = true;
  }
  pool_->wake.notify_all();
  for (auto& t : pool_->helpers) t.join();
  current = nullptr;
  delete pool_;
}

void ParallelFor(int count, int threads, const std::function<void(int, int)>& fn) {
  if (count <= 0) return;
  threads = std::max(1, std::min(threads, count));
  if (threads == 1) { fn(0, count); return; }
  ScopedWorkers::Pool* pool = current;
  if (!pool || int(pool->helpers.size()) + 1 < threads) { rr::ParallelFor(count, threads, fn); return; }
  // The chunks of rr::ParallelFor for `threads`: the same split whichever threads run them.
  int chunk = (count + threads - 1) / threads;
  {
    std::lock_guard<std::mutex> lock(pool->mutex);
    pool->fn = &fn;
    pool->count = count;
    pool->chunk = chunk;
    pool->pending = int(pool->helpers.size());
    pool->error = nullptr;
    ++pool->generation;
  }
  pool->wake.notify_all();
  pool->RunChunk(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(pool->mutex);
    pool->done.wait(lock, [&] { return pool->pending == 0; });
    error = pool->error;
    pool->fn = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace rr::flow
