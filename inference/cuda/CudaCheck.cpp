#include "inference/cuda/CudaCheck.h"

#include <string>

namespace crossroads::inference::gpu {

namespace {

std::string where(const char* file, int line) {
    std::string path = file;
    const auto slash = path.find_last_of('/');
    return (slash == std::string::npos ? path : path.substr(slash + 1)) + ":" +
           std::to_string(line);
}

std::string mebibytes(std::size_t bytes) {
    return std::to_string((bytes + (std::size_t{1} << 19)) >> 20) + " MiB";
}

} // namespace

void throwCudaError(cudaError_t error, const char* call, const char* file, int line) {
    // Clears the error when it is not sticky, so the next call does not report it again.
    cudaGetLastError();
    std::string message =
        error == cudaErrorMemoryAllocation ? "out of device memory in " : "CUDA error in ";
    message += std::string(call) + " (" + where(file, line) + "): " + cudaGetErrorName(error) +
               ": " + cudaGetErrorString(error);
    throw EngineError(message);
}

void throwCublasError(cublasStatus_t status, const char* call, const char* file, int line) {
    std::string message =
        status == CUBLAS_STATUS_ALLOC_FAILED ? "out of device memory in " : "cuBLAS error in ";
    message += std::string(call) + " (" + where(file, line) + "): " + cublasGetStatusName(status) +
               ": " + cublasGetStatusString(status);
    throw EngineError(message);
}

void* deviceAllocate(std::size_t bytes, const char* what) {
    void* pointer = nullptr;
    const cudaError_t error = cudaMalloc(&pointer, bytes);
    if (error == cudaSuccess)
        return pointer;
    cudaGetLastError(); // an allocation failure is not sticky: clear it for the next launch check
    std::size_t freeBytes = 0, totalBytes = 0;
    const bool known = cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess;
    cudaGetLastError();
    std::string message =
        error == cudaErrorMemoryAllocation ? "out of device memory: " : "CUDA error: ";
    message += "cudaMalloc of " + mebibytes(bytes) + " for " + what + " failed (" +
               cudaGetErrorString(error) + ")";
    if (known)
        message += "; " + mebibytes(freeBytes) + " free of " + mebibytes(totalBytes);
    throw EngineError(message);
}

void deviceFree(void* pointer) noexcept {
    if (pointer != nullptr)
        cudaFree(pointer);
}

void* pinnedAllocate(std::size_t bytes, const char* what) {
    void* pointer = nullptr;
    const cudaError_t error = cudaMallocHost(&pointer, bytes);
    if (error == cudaSuccess)
        return pointer;
    cudaGetLastError();
    throw EngineError("cudaMallocHost of " + mebibytes(bytes) + " for " + what + " failed (" +
                      cudaGetErrorString(error) + ")");
}

void pinnedFree(void* pointer) noexcept {
    if (pointer != nullptr)
        cudaFreeHost(pointer);
}

namespace {
thread_local MemoryCounter* activeCounter = nullptr;
} // namespace

CountDeviceMemory::CountDeviceMemory(MemoryCounter& counter) : previous_(activeCounter) {
    activeCounter = &counter;
}

CountDeviceMemory::~CountDeviceMemory() {
    activeCounter = previous_;
}

MemoryCounter* activeMemoryCounter() noexcept {
    return activeCounter;
}

} // namespace crossroads::inference::gpu
