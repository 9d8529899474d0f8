// The dense BF16 matmul rate of this device through cuBLAS, the ceiling prefill's expert GEMMs
// are compared with: TFLOP/s of cublasGemmEx on N x N x N (BF16 in and out, F32 accumulate),
// best of the repetitions after a warm-up. The measurement is gpu::measureMatmulRate, the same
// code as CudaBackend::measureMatmulTflops; when the device lacks the memory for N, a smaller N
// is measured and the output says which.
//   crossroads-cublas-rate [N=8192] [REPETITIONS=10]
// Prints "CUBLAS_BF16_N <n>" and, on its last line for scripts, "CUBLAS_BF16_TFLOPS <best>".
#include "inference/cuda/CudaBackend.h"
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace crossroads::inference;

int main(int argc, char** argv) {
    try {
        const int n = argc > 1 ? std::atoi(argv[1]) : 8192;
        const int repetitions = argc > 2 ? std::atoi(argv[2]) : 10;
        if (n < 256 || repetitions <= 0) {
            std::fprintf(stderr, "usage: crossroads-cublas-rate [N >= 256] [REPETITIONS >= 1]\n");
            return 2;
        }
        std::string why;
        if (!cudaDeviceStatus(&why)) {
            std::fprintf(stderr, "crossroads-cublas-rate: %s\n", why.c_str());
            return 1;
        }
        cublasHandle_t handle = nullptr;
        CUBLAS_CHECK(cublasCreate(&handle));
        gpu::MatmulRate rate;
        try {
            rate = gpu::measureMatmulRate(handle, n, repetitions, nullptr);
        } catch (...) {
            cublasDestroy(handle);
            throw;
        }
        cublasDestroy(handle);
        cudaDeviceProp properties{};
        CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
        if (rate.n != rate.requestedN)
            std::printf("not enough free device memory for %d^3 operands: measured N = %d\n",
                        rate.requestedN, rate.n);
        std::printf(
            "cublasGemmEx BF16 %d^3 on %s: best %.1f TFLOP/s, mean %.1f TFLOP/s (%d runs)\n",
            rate.n, properties.name, rate.bestTflops, rate.meanTflops, rate.repetitions);
        std::printf("CUBLAS_BF16_N %d\n", rate.n);
        std::printf("CUBLAS_BF16_TFLOPS %.2f\n", rate.bestTflops);
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "crossroads-cublas-rate: %s\n", error.what());
        return 1;
    }
}
