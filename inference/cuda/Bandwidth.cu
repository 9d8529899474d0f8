// The device read-bandwidth kernel: the ceiling decode is compared with. Not a copy (a copy's
// figure counts reads and writes, and nvbandwidth-style device copies are not an HBM read
// roofline): every thread reads 16-byte vectors of a buffer far larger than L2, grid-stride,
// four in flight, and XORs them so the compiler keeps the loads.
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"
#include "inference/cuda/DeviceMath.cuh"

#include <algorithm>

namespace crossroads::inference::gpu {

namespace {

__host__ __device__ inline uint32_t fillPattern(std::size_t word) {
    return static_cast<uint32_t>(word * 2654435761u) ^ 0x9e3779b9u;
}

__global__ void fillKernel(uint32_t* data, std::size_t words) {
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < words;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
        data[i] = fillPattern(i);
}

__global__ void readKernel(const uint4* __restrict__ data, std::size_t vectors,
                           uint32_t* __restrict__ result) {
    const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
    std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
    uint32_t x = 0;
    for (; i + 3 * stride < vectors; i += 4 * stride) {
        const uint4 a = __ldcs(data + i), b = __ldcs(data + i + stride);
        const uint4 c = __ldcs(data + i + 2 * stride), d = __ldcs(data + i + 3 * stride);
        x ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w;
        x ^= c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^ d.w;
    }
    for (; i < vectors; i += stride) {
        const uint4 a = __ldcs(data + i);
        x ^= a.x ^ a.y ^ a.z ^ a.w;
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        x ^= __shfl_xor_sync(kFullMask, x, offset);
    if (threadIdx.x % kWarp == 0)
        atomicXor(result, x);
}

} // namespace

uint32_t readChecksumReference(std::size_t words) {
    uint32_t x = 0;
    for (std::size_t i = 0; i < words; ++i)
        x ^= fillPattern(i);
    return x;
}

ReadBandwidth measureDeviceReadBandwidth(std::size_t bytes, int repetitions, cudaStream_t stream) {
    const std::size_t vectors = std::max<std::size_t>(bytes / sizeof(uint4), 1);
    DeviceBuffer<uint4> buffer(vectors, "the read-bandwidth buffer");
    DeviceBuffer<uint32_t> result(1, "the read-bandwidth checksum");
    int device = 0, multiprocessors = 0, threadsPerMultiprocessor = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device));
    CUDA_CHECK(cudaDeviceGetAttribute(&threadsPerMultiprocessor,
                                      cudaDevAttrMaxThreadsPerMultiProcessor, device));
    constexpr int kThreads = 256;
    // A full wave of resident threads: enough loads in flight to cover HBM latency.
    const unsigned blocks =
        static_cast<unsigned>(multiprocessors * (threadsPerMultiprocessor / kThreads));
    fillKernel<<<blocks, kThreads, 0, stream>>>(reinterpret_cast<uint32_t*>(buffer.get()),
                                                vectors * 4);
    CUDA_CHECK_LAUNCH("fillKernel");

    ReadBandwidth measured;
    Event start, stop;
    double sum = 0.0;
    const int runs = std::max(1, repetitions);
    for (int run = -1; run < runs; ++run) { // run -1 warms up
        CUDA_CHECK(cudaMemsetAsync(result.get(), 0, sizeof(uint32_t), stream));
        CUDA_CHECK(cudaEventRecord(start.event, stream));
        readKernel<<<blocks, kThreads, 0, stream>>>(buffer.get(), vectors, result.get());
        CUDA_CHECK_LAUNCH("readKernel");
        CUDA_CHECK(cudaEventRecord(stop.event, stream));
        CUDA_CHECK(cudaEventSynchronize(stop.event));
        float milliseconds = 0.0f;
        CUDA_CHECK(cudaEventElapsedTime(&milliseconds, start.event, stop.event));
        if (run < 0 || milliseconds <= 0.0f)
            continue;
        const double gbPerS =
            static_cast<double>(vectors * sizeof(uint4)) / (milliseconds * 1e-3) / 1e9;
        measured.bestGbPerS = std::max(measured.bestGbPerS, gbPerS);
        sum += gbPerS;
    }
    measured.meanGbPerS = sum / runs;
    CUDA_CHECK(cudaMemcpyAsync(&measured.checksum, result.get(), sizeof(uint32_t),
                               cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    return measured;
}

} // namespace crossroads::inference::gpu
