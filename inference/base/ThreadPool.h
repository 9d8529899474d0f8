// A small fork-join pool: parallelFor hands out task indices dynamically to the workers and the
// calling thread. Decode issues a few dispatches per layer, so workers spin briefly before
// sleeping (wake-up latency would otherwise dominate small models).
//
// A dispatch completes when its tasks are done, not when every worker has checked in: on a
// machine shared with other processes a worker is often descheduled for a whole scheduler slice
// (milliseconds), and waiting for it at every one of a decode step's dozens of dispatches made
// batch-1 decode several times slower. A late worker finds the tasks claimed and goes back to
// waiting; the caller runs whatever nobody else took.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
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
    // fn(task) for every task in [0, tasks); returns when all are done. The first exception a
    // task throws is rethrown here once every claimed task has finished. Not reentrant.
    void parallelFor(int64_t tasks, const std::function<void(int64_t)>& fn);

private:
    using Task = std::function<void(int64_t)>;
    // What a dispatch runs. Two slots, by generation parity: a worker that read generation g's
    // slot claims a task only by a compare-exchange that still sees g, and slot g % 2 is only
    // rewritten for g + 2, after g + 1 has been published, so the claim fails.
    struct Slot {
        std::atomic<const Task*> fn{nullptr};
        std::atomic<int64_t> tasks{0};
    };

    void workerLoop();
    // Claims and runs tasks of `generation` until none are left or a newer one is published.
    void runTasks(uint32_t generation);

    std::vector<std::thread> workers_;
    Slot slots_[2];
    // (generation << 32) | next unclaimed task index.
    std::atomic<uint64_t> work_{0};
    std::atomic<int64_t> done_{0}; // tasks of the current generation finished
    std::atomic<int> sleepers_{0};
    std::atomic<bool> stop_{false};
    std::mutex mutex_; // guards sleeping and error_
    std::condition_variable wake_;
    std::exception_ptr error_;
};

} // namespace crossroads::inference
