// Parallel-for over row ranges on a persistent thread pool: the native hot loops split work by rows across threads.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
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

// Worker threads kept for the life of the process: the hot loops run hundreds of parallel passes per
// synthesis (every PatchMatch phase, vote and error pass of every level), and starting threads for
// each pass cost more than small passes share out. Several callers (two chains, a flow, a blend) may
// run jobs at once; each caller works on its own job too, so a job always finishes, even when every
// worker is busy elsewhere or none could be started, and a job started from inside a job cannot block.
// Which thread runs a task never changes what the task computes (ParallelFor's chunks are fixed).
class ThreadPool {
 public:
  // One pool per process, never destroyed: its threads wait on a condition variable and end with the
  // process (joining them from a static destructor would wait on work still running at exit).
  static ThreadPool& Shared() {
    static ThreadPool* pool = new ThreadPool();
    return *pool;
  }

  // Calls task(k) once for every k in [0, count), on this thread and up to count - 1 workers, and returns
  // when all have returned. An exception in a task is rethrown here once every task has finished (the
  // first one caught wins; the other tasks still run).
  void Run(int count, const std::function<void(int)>& task) {
    if (count <= 0) return;
    auto job = std::make_shared<Job>(task, count);
    if (count > 1) {
      Grow(count - 1);
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(job);
    }
    if (count > 1) wake_.notify_all();
    job->Work();
    {
      std::unique_lock<std::mutex> lock(job->mutex);
      job->finished.wait(lock, [&] { return job->done == job->count; });
    }
    if (count > 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = queue_.begin(); it != queue_.end(); ++it)
        if (*it == job) { queue_.erase(it); break; }
    }
    if (job->error) std::rethrow_exception(job->error);
  }

 private:
  struct Job {
    Job(const std::function<void(int)>& t, int n) : task(&t), count(n) {}
    // Runs tasks until none is left to take. `task` is only called for an index below `count`, which
    // the caller of Run is still waiting on, so the function it points to is alive.
    void Work() {
      for (int k = next.fetch_add(1); k < count; k = next.fetch_add(1)) {
        try {
          (*task)(k);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex);
          if (!error) error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mutex);
        if (++done == count) finished.notify_all();
      }
    }
    const std::function<void(int)>* task;
    const int count;
    std::atomic<int> next{0};
    int done = 0;  // guarded by mutex
    std::exception_ptr error;  // guarded by mutex
    std::mutex mutex;
    std::condition_variable finished;
  };

  ThreadPool() = default;

  // Starts workers until there are `wanted` (at most kMaxWorkers); a thread that cannot be started
  // (std::system_error) leaves the pool smaller, and callers do the work themselves.
  void Grow(int wanted) {
    wanted = std::min(wanted, kMaxWorkers);
    std::lock_guard<std::mutex> lock(mutex_);
    while (started_ < wanted) {
      try {
        std::thread([this] { Serve(); }).detach();
      } catch (...) {
        return;
      }
      ++started_;
    }
  }

  void Serve() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return !queue_.empty(); });
        job = queue_.front();
        if (job->next.load() >= job->count) {  // every task taken: nothing left here for anyone
          queue_.pop_front();
          continue;
        }
      }
      job->Work();
    }
  }

  static constexpr int kMaxWorkers = 256;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  int started_ = 0;
};

// Calls fn(begin, end) on disjoint chunks of [0, count) from up to `threads` threads (the pool's).
// Chunks are contiguous and assigned deterministically, so results do not depend on scheduling.
// An exception in any chunk is rethrown here once every chunk has finished (the first one wins).
inline void ParallelFor(int count, int threads, const std::function<void(int, int)>& fn) {
  if (count <= 0) return;
  threads = std::max(1, std::min(threads, count));
  if (threads == 1) { fn(0, count); return; }
  const int chunk = (count + threads - 1) / threads;
  const int chunks = (count + chunk - 1) / chunk;
  ThreadPool::Shared().Run(chunks, [&](int t) { fn(t * chunk, std::min(count, (t + 1) * chunk)); });
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
