// The dense BF16 matmul rate of this device through cuBLAS: the compute ceiling prefill's
// achieved TFLOP/s are compared with, as the read kernel (Bandwidth.cu) is decode's. One copy,
// used by CudaBackend::measureMatmulTflops and the crossroads-cublas-rate tool.
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"
#include "inference/cuda/DeviceMath.cuh"

#include <algorithm>
#include <string>

namespace crossroads::inference::gpu {

namespace {

constexpr int kSmallestN = 256;

// Uniform in [-1, 1) from a hash of the index: random operands (tensor cores draw less power,
// and may clock higher, on zeros or repeated patterns), made on the device so that filling
// 2 x 8192^2 values costs milliseconds, not a second of host time.
__global__ void fillRandomKernel(bf16* data, std::size_t count, uint32_t seed) {
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        uint32_t x =
            (static_cast<uint32_t>(i) * 2654435761u) ^ static_cast<uint32_t>(i >> 32) ^ seed;
        x ^= x >> 16;
        x *= 0x7feb352du;
        x ^= x >> 15;
        x *= 0x846ca68bu;
        x ^= x >> 16;
        data[i] = __float2bfloat16(static_cast<float>(x >> 8) * (2.0f / 16777216.0f) - 1.0f);
    }
}

void fillRandom(bf16* data, std::size_t count, uint32_t seed, cudaStream_t stream) {
    fillRandomKernel<<<1024, 256, 0, stream>>>(data, count, seed);
    CUDA_CHECK_LAUNCH("fillRandomKernel");
}

std::size_t operandBytes(int n) {
    return static_cast<std::size_t>(n) * static_cast<std::size_t>(n) * sizeof(bf16);
}

} // namespace

MatmulRate measureMatmulRate(cublasHandle_t cublas, int n, int repetitions, cudaStream_t stream) {
    if (n < kSmallestN || repetitions < 1)
        throw EngineError("the matmul rate needs N >= " + std::to_string(kSmallestN) +
                          " and at least one repetition, got N = " + std::to_string(n) + " and " +
                          std::to_string(repetitions));
    MatmulRate rate;
    rate.requestedN = n;
    // Three N x N operands and room for cuBLAS's workspace: halve N until they fit in what is
    // free, and again if the allocation itself fails.
    constexpr std::size_t kHeadroomBytes = std::size_t{256} << 20;
    std::size_t freeBytes = 0, totalBytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&freeBytes, &totalBytes));
    while (n > kSmallestN && 3 * operandBytes(n) + kHeadroomBytes > freeBytes)
        n /= 2;
    DeviceBuffer<bf16> a, b, c;
    for (;;) {
        try {
            const auto elements = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
            a.resize(elements, "the matmul-rate operand A");
            b.resize(elements, "the matmul-rate operand B");
            c.resize(elements, "the matmul-rate product");
            break;
        } catch (const EngineError&) {
            if (n / 2 < kSmallestN)
                throw;
            a.release();
            b.release();
            c.release();
            n /= 2;
        }
    }
    rate.n = n;
    rate.repetitions = repetitions;
    fillRandom(a.get(), a.size(), 1, stream);
    fillRandom(b.get(), b.size(), 2, stream);

    CUBLAS_CHECK(cublasSetStream(cublas, stream));
    const float alpha = 1.0f, beta = 0.0f;
    Event start, stop;
    // The engine's projection layout ("TN": row-major weights times row-major activations).
    const auto timedProduct = [&] {
        CUDA_CHECK(cudaEventRecord(start.event, stream));
        CUBLAS_CHECK(cublasGemmEx(cublas, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, a.get(),
                                  CUDA_R_16BF, n, b.get(), CUDA_R_16BF, n, &beta, c.get(),
                                  CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        CUDA_CHECK(cudaEventRecord(stop.event, stream));
        CUDA_CHECK(cudaEventSynchronize(stop.event));
        float milliseconds = 0.0f;
        CUDA_CHECK(cudaEventElapsedTime(&milliseconds, start.event, stop.event));
        return static_cast<double>(milliseconds) * 1e-3;
    };
    // Warm-up: cuBLAS picks its kernel and the clocks leave idle; at least three products and a
    // quarter of a second of them (a 8192^3 product takes under 2 ms on an H100).
    double warmSeconds = 0.0;
    for (int run = 0; run < 3 || (warmSeconds < 0.25 && run < 1000); ++run)
        warmSeconds += timedProduct();
    const double flops = 2.0 * n * static_cast<double>(n) * n;
    double sum = 0.0;
    for (int run = 0; run < repetitions; ++run) {
        const double seconds = timedProduct();
        const double tflops = seconds > 0.0 ? flops / seconds / 1e12 : 0.0;
        rate.bestTflops = std::max(rate.bestTflops, tflops);
        sum += tflops;
    }
    rate.meanTflops = sum / repetitions;
    return rate;
}

} // namespace crossroads::inference::gpu
