// The routed experts' GEMMs through cuBLAS; see expertGemm in CudaKernels.h. cuBLAS is
// column-major: a row-major weight [outRows x cols] is, to it, a [cols x outRows] matrix, so
// every product is the "TN" layout y^T = W^T' x^T with op T on the weights.
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"

namespace crossroads::inference::gpu {

cublasStatus_t expertGemm(cublasHandle_t cublas, ExpertGemmMode mode, const int* hostCounts,
                          int experts, const ExpertGroups& groups, const bf16* weights,
                          int64_t expertStride, int outRows, int cols, const bf16* x, bf16* y,
                          const void** a, const void** b, void** c, ExpertGemmHostArrays& arrays,
                          cudaStream_t stream) {
    CUBLAS_CHECK(cublasSetStream(cublas, stream));
    const float one = 1.0f, zero = 0.0f;
    if (mode == ExpertGemmMode::Loop) {
        int64_t first = 0;
        for (int e = 0; e < experts; ++e) {
            if (hostCounts[e] > 0)
                CUBLAS_CHECK(cublasGemmEx(cublas, CUBLAS_OP_T, CUBLAS_OP_N, outRows, hostCounts[e],
                                          cols, &one, weights + e * expertStride, CUDA_R_16BF, cols,
                                          x + first * cols, CUDA_R_16BF, cols, &zero,
                                          y + first * outRows, CUDA_R_16BF, outRows,
                                          CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
            first += hostCounts[e];
        }
        return CUBLAS_STATUS_SUCCESS;
    }
    // Groups in `active` order (increasing expert id), the order groupedGemmPointers fills a/b/c.
    arrays.n.clear();
    for (int e = 0; e < experts; ++e)
        if (hostCounts[e] > 0)
            arrays.n.push_back(hostCounts[e]);
    const std::size_t count = arrays.n.size();
    if (count == 0)
        return CUBLAS_STATUS_SUCCESS;
    groupedGemmPointers(groups, experts, weights, expertStride, x, cols, y, outRows, a, b, c,
                        stream);
    arrays.transA.assign(count, CUBLAS_OP_T);
    arrays.transB.assign(count, CUBLAS_OP_N);
    arrays.m.assign(count, outRows);
    arrays.k.assign(count, cols);
    arrays.lda.assign(count, cols);
    arrays.ldb.assign(count, cols);
    arrays.ldc.assign(count, outRows);
    arrays.groupSize.assign(count, 1);
    arrays.alpha.assign(count, 1.0f);
    arrays.beta.assign(count, 0.0f);
    return cublasGemmGroupedBatchedEx(
        cublas, arrays.transA.data(), arrays.transB.data(), arrays.m.data(), arrays.n.data(),
        arrays.k.data(), arrays.alpha.data(), a, CUDA_R_16BF, arrays.lda.data(), b, CUDA_R_16BF,
        arrays.ldb.data(), arrays.beta.data(), c, CUDA_R_16BF, arrays.ldc.data(),
        static_cast<int>(count), arrays.groupSize.data(), CUBLAS_COMPUTE_32F);
}

} // namespace crossroads::inference::gpu
