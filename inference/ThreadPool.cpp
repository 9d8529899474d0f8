#include "inference/ThreadPool.h"

#include <immintrin.h>

namespace crossroads::inference {

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i < threads; ++i)
        workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& worker : workers_)
        worker.join();
}

void ThreadPool::runTasks() {
    for (;;) {
        const int64_t task = next_.fetch_add(1, std::memory_order_relaxed);
        if (task >= tasks_)
            return;
        (*fn_)(task);
    }
}

void ThreadPool::workerLoop() {
    uint64_t seen = 0;
    for (;;) {
        // Spin ~tens of microseconds for the next dispatch, then sleep.
        for (int spin = 0; spin < 20000 && generation_.load(std::memory_order_acquire) == seen;
             ++spin)
            _mm_pause();
        if (generation_.load(std::memory_order_acquire) == seen) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return generation_.load() != seen; });
        }
        seen = generation_.load(std::memory_order_acquire);
        if (stop_)
            return;
        runTasks();
        if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard lock(mutex_);
            done_.notify_one();
        }
    }
}

void ThreadPool::parallelFor(int64_t tasks, const std::function<void(int64_t)>& fn) {
    if (tasks <= 0)
        return;
    if (workers_.empty() || tasks == 1) {
        for (int64_t task = 0; task < tasks; ++task)
            fn(task);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        fn_ = &fn;
        tasks_ = tasks;
        next_.store(0, std::memory_order_relaxed);
        busy_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    runTasks();
    for (int spin = 0; spin < 20000 && busy_.load(std::memory_order_acquire) != 0; ++spin)
        _mm_pause();
    if (busy_.load(std::memory_order_acquire) != 0) {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return busy_.load() == 0; });
    }
}

} // namespace crossroads::inference
