// A small fork-join pool: parallelFor hands out task indices dynamically to the workers and the
// calling thread. Decode issues a few dispatches per layer, so workers spin briefly before
// sleeping (wake-up latency would otherwise dominate small models).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace crossroads::inference {

class ThreadPool {
  public:
    // threads <= 0: one per hardware thread. The caller counts as one of them.
    explicit ThreadPool(int threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }
    // fn(task) for every task in [0, tasks); returns when all are done. Not reentrant.
    void parallelFor(int64_t tasks, const std::function<void(int64_t)>& fn);

  private:
    void workerLoop();
    void runTasks();

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int64_t> next_{0};
    std::atomic<int> busy_{0};
    int64_t tasks_ = 0;
    const std::function<void(int64_t)>* fn_ = nullptr;
    std::atomic<bool> stop_{false};
};

} // namespace crossroads::inference
