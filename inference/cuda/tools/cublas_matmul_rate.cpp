// The dense BF16 matmul rate of this device through cuBLAS, the ceiling prefill's expert GEMMs
// are compared with: TFLOP/s of cublasGemmEx on N x N x N (BF16 in and out, F32 accumulate),
// best of the repetitions.
//   crossroads-cublas-rate [N=8192] [REPETITIONS=10]
// Prints "CUBLAS_BF16_TFLOPS <best>" on its last line for scripts.
#include "inference/cuda/CudaCheck.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace crossroads::inference;

int main(int argc, char** argv) {
    try {
        const int n = argc > 1 ? std::atoi(argv[1]) : 8192;
        const int repetitions = argc > 2 ? std::atoi(argv[2]) : 10;
        if (n <= 0 || repetitions <= 0) {
            std::fprintf(stderr, "usage: crossroads-cublas-rate [N] [REPETITIONS]\n");
            return 2;
        }
        const auto elements = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
        // Random operands: tensor cores draw less power (and may clock higher) on zeros.
        std::vector<uint16_t> host(elements);
        std::mt19937 random(7);
        std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
        for (auto& value : host)
            value = floatToBf16(uniform(random));
        gpu::DeviceBuffer<uint16_t> a(elements, "A"), b(elements, "B"), c(elements, "C");
        CUDA_CHECK(cudaMemcpy(a.get(), host.data(), elements * 2, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(b.get(), host.data(), elements * 2, cudaMemcpyHostToDevice));
        cublasHandle_t handle = nullptr;
        CUBLAS_CHECK(cublasCreate(&handle));
        cudaEvent_t start = nullptr, stop = nullptr;
        CUDA_CHECK(cudaEventCreate(&start));
        CUDA_CHECK(cudaEventCreate(&stop));
        const float alpha = 1.0f, beta = 0.0f;
        const auto multiply = [&] {
            CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, a.get(),
                                      CUDA_R_16BF, n, b.get(), CUDA_R_16BF, n, &beta, c.get(),
                                      CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        };
        for (int i = 0; i < 3; ++i)
            multiply();
        double best = 0.0, sum = 0.0;
        for (int i = 0; i < repetitions; ++i) {
            CUDA_CHECK(cudaEventRecord(start));
            multiply();
            CUDA_CHECK(cudaEventRecord(stop));
            CUDA_CHECK(cudaEventSynchronize(stop));
            float milliseconds = 0.0f;
            CUDA_CHECK(cudaEventElapsedTime(&milliseconds, start, stop));
            const double tflops =
                2.0 * n * static_cast<double>(n) * n / (milliseconds * 1e-3) / 1e12;
            best = std::max(best, tflops);
            sum += tflops;
        }
        cudaDeviceProp properties{};
        CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
        std::printf(
            "cublasGemmEx BF16 %d^3 on %s: best %.1f TFLOP/s, mean %.1f TFLOP/s (%d runs)\n", n,
            properties.name, best, sum / repetitions, repetitions);
        std::printf("CUBLAS_BF16_TFLOPS %.2f\n", best);
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
        cublasDestroy(handle);
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "crossroads-cublas-rate: %s\n", error.what());
        return 1;
    }
}
