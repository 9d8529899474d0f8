// Error handling and memory for the CUDA backend: every failing CUDA or cuBLAS call becomes an
// EngineError naming the call (never an abort), and device buffers free themselves. Plain C++:
// the backend's host code and the GPU test include it without nvcc.
#pragma once

#include "inference/model/Tensor.h"

#include <algorithm>
#include <cstddef>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <utility>

namespace crossroads::inference::gpu {

[[noreturn]] void throwCudaError(cudaError_t error, const char* call, const char* file, int line);
[[noreturn]] void throwCublasError(cublasStatus_t status, const char* call, const char* file,
                                   int line);

} // namespace crossroads::inference::gpu

#define CUDA_CHECK(call)                                                                           \
    do {                                                                                           \
        const cudaError_t cuda_check_error = (call);                                               \
        if (cuda_check_error != cudaSuccess)                                                       \
            ::crossroads::inference::gpu::throwCudaError(cuda_check_error, #call, __FILE__,        \
                                                         __LINE__);                                \
    } while (0)

#define CUBLAS_CHECK(call)                                                                         \
    do {                                                                                           \
        const cublasStatus_t cublas_check_status = (call);                                         \
        if (cublas_check_status != CUBLAS_STATUS_SUCCESS)                                          \
            ::crossroads::inference::gpu::throwCublasError(cublas_check_status, #call, __FILE__,   \
                                                           __LINE__);                              \
    } while (0)

// After a kernel launch: a bad launch configuration surfaces here, named, not at the next sync.
#define CUDA_CHECK_LAUNCH(kernelName)                                                              \
    do {                                                                                           \
        const cudaError_t cuda_launch_error = cudaGetLastError();                                  \
        if (cuda_launch_error != cudaSuccess)                                                      \
            ::crossroads::inference::gpu::throwCudaError(                                          \
                cuda_launch_error, "launch of " kernelName, __FILE__, __LINE__);                   \
    } while (0)

namespace crossroads::inference::gpu {

// cudaMalloc that names what the memory is for; out of memory throws EngineError with the
// device's free and total memory.
void* deviceAllocate(std::size_t bytes, const char* what);
void deviceFree(void* pointer) noexcept;
void* pinnedAllocate(std::size_t bytes, const char* what);
void pinnedFree(void* pointer) noexcept;

// Device bytes a backend holds and the most it has held: every device Buffer allocated while a
// CountDeviceMemory is alive on the thread adds its bytes, and takes them off again when it is
// freed (wherever and whenever that happens, so the counter must outlive those buffers). Buffers
// allocated outside such a scope (the measurement kernels' scratch, the tests' data) are not
// counted. Not thread-safe: one backend is driven by one thread at a time.
struct MemoryCounter {
    std::size_t currentBytes = 0;
    std::size_t peakBytes = 0;
};

class CountDeviceMemory {
public:
    explicit CountDeviceMemory(MemoryCounter& counter);
    ~CountDeviceMemory();
    CountDeviceMemory(const CountDeviceMemory&) = delete;
    CountDeviceMemory& operator=(const CountDeviceMemory&) = delete;

private:
    MemoryCounter* previous_;
};

// The counter of the innermost CountDeviceMemory alive on this thread, or null.
MemoryCounter* activeMemoryCounter() noexcept;

// A timing event (cudaEventCreate); destroyed also when a CUDA call throws in between.
struct Event {
    cudaEvent_t event = nullptr;
    Event() { CUDA_CHECK(cudaEventCreate(&event)); }
    ~Event() { cudaEventDestroy(event); }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
};

// An owning, move-only array in device (or pinned host) memory. Resizing discards the contents.
template <typename T, bool Pinned = false> class Buffer {
public:
    Buffer() = default;
    Buffer(std::size_t count, const char* what) { resize(count, what); }
    ~Buffer() { release(); }
    Buffer(Buffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
          counter_(std::exchange(other.counter_, nullptr)) {}
    Buffer& operator=(Buffer&& other) noexcept {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
            counter_ = std::exchange(other.counter_, nullptr);
        }
        return *this;
    }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    void resize(std::size_t count, const char* what) {
        if (count == size_)
            return;
        release();
        if (count == 0)
            return;
        void* memory = Pinned ? pinnedAllocate(count * sizeof(T), what)
                              : deviceAllocate(count * sizeof(T), what);
        data_ = static_cast<T*>(memory);
        size_ = count;
        counter_ = Pinned ? nullptr : activeMemoryCounter();
        if (counter_ != nullptr) {
            counter_->currentBytes += bytes();
            counter_->peakBytes = std::max(counter_->peakBytes, counter_->currentBytes);
        }
    }
    // Grows, never shrinks; true when the storage moved (kernels holding the old address, such
    // as captured CUDA graphs, must be rebuilt).
    bool reserve(std::size_t count, const char* what) {
        if (count <= size_)
            return false;
        resize(count, what);
        return true;
    }
    void release() noexcept {
        if (data_ != nullptr) {
            if (Pinned)
                pinnedFree(data_);
            else
                deviceFree(data_);
        }
        if (counter_ != nullptr)
            counter_->currentBytes -= bytes();
        data_ = nullptr;
        size_ = 0;
        counter_ = nullptr;
    }

    T* get() const { return data_; }
    std::size_t size() const { return size_; }
    std::size_t bytes() const { return size_ * sizeof(T); }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
    MemoryCounter* counter_ = nullptr; // where the bytes were counted, if anywhere
};

template <typename T> using DeviceBuffer = Buffer<T, false>;
template <typename T> using PinnedBuffer = Buffer<T, true>;

} // namespace crossroads::inference::gpu
