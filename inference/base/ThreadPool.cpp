#include "inference/base/ThreadPool.h"

#include <algorithm>
#include <immintrin.h>

namespace crossroads::inference {

namespace {

// Tasks per dispatch are counted in 32 bits of the work word.
constexpr int64_t kMaxTasksPerDispatch = int64_t{1} << 31;

uint32_t generationOf(uint64_t work) {
    return static_cast<uint32_t>(work >> 32);
}

} // namespace

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
        // A new generation with no tasks wakes every worker, which then sees stop_.
        const uint32_t next = generationOf(work_.load()) + 1;
        work_.store(static_cast<uint64_t>(next) << 32);
    }
    wake_.notify_all();
    for (auto& worker : workers_)
        worker.join();
}

void ThreadPool::runTasks(uint32_t generation) {
    const Slot& slot = slots_[generation & 1];
    const Task* fn = slot.fn.load(std::memory_order_relaxed);
    const int64_t tasks = slot.tasks.load(std::memory_order_relaxed);
    uint64_t work = work_.load(std::memory_order_acquire);
    for (;;) {
        if (generationOf(work) != generation)
            return;
        const auto task = static_cast<int64_t>(work & 0xffffffffu);
        if (task >= tasks)
            return;
        // On failure `work` is reloaded and the generation checked again.
        if (!work_.compare_exchange_weak(work, work + 1, std::memory_order_acquire,
                                         std::memory_order_acquire))
            continue;
        try {
            (*fn)(task);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!error_)
                error_ = std::current_exception();
        }
        done_.fetch_add(1, std::memory_order_release);
        work = work_.load(std::memory_order_acquire);
    }
}

void ThreadPool::workerLoop() {
    uint32_t seen = 0;
    for (;;) {
        // Spin ~tens of microseconds for the next dispatch, then sleep.
        for (int spin = 0;
             spin < 20000 && generationOf(work_.load(std::memory_order_acquire)) == seen; ++spin)
            _mm_pause();
        if (generationOf(work_.load(std::memory_order_acquire)) == seen) {
            // sleepers_ before the check under the lock, paired with the dispatcher publishing
            // before it reads sleepers_: one of the two sees the other, so no wake-up is lost.
            sleepers_.fetch_add(1);
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return generationOf(work_.load()) != seen; });
            sleepers_.fetch_sub(1);
        }
        if (stop_.load())
            return;
        seen = generationOf(work_.load(std::memory_order_acquire));
        runTasks(seen);
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
    // Larger dispatches go in pieces that fit the 32-bit task index.
    if (tasks > kMaxTasksPerDispatch) {
        for (int64_t first = 0; first < tasks; first += kMaxTasksPerDispatch)
            parallelFor(std::min(kMaxTasksPerDispatch, tasks - first),
                        [&](int64_t task) { fn(first + task); });
        return;
    }
    // Only this thread publishes, and the previous generation is complete: its workers can no
    // longer claim anything, so the slot of the generation before it is free to rewrite.
    const uint32_t generation = generationOf(work_.load(std::memory_order_relaxed)) + 1;
    Slot& slot = slots_[generation & 1];
    slot.fn.store(&fn, std::memory_order_relaxed);
    slot.tasks.store(tasks, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    work_.store(static_cast<uint64_t>(generation) << 32); // seq_cst: see workerLoop
    if (sleepers_.load() > 0) {
        std::lock_guard lock(mutex_);
        wake_.notify_all();
    }
    runTasks(generation);
    // Wait only for tasks other threads claimed. Yielding after a while lets a worker that was
    // descheduled in the middle of a task back onto this core.
    for (int spin = 0; done_.load(std::memory_order_acquire) != tasks; ++spin) {
        if (spin < 4096)
            _mm_pause();
        else
            std::this_thread::yield();
    }
    if (error_) {
        std::exception_ptr error;
        std::swap(error, error_);
        std::rethrow_exception(error);
    }
}

} // namespace crossroads::inference
