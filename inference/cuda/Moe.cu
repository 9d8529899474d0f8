// Routing and grouping on the device. Router: softmax, top-k, renormalisation, one warp per
// token. Grouping (as vLLM's moe_align_block_size / llama.cpp's mul_mat_id): count the (token,
// slot) pairs per expert, prefix-sum the counts, list the active experts, scatter the pairs into
// expert order, all in one block's shared memory so a decode step pays one launch for it.
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"
#include "inference/cuda/DeviceMath.cuh"

#include <cfloat>
#include <climits>
#include <cub/block/block_scan.cuh>

namespace crossroads::inference::gpu {

namespace {

// Top-k is chosen by k passes over the logits; the chosen ids live in registers (an array
// indexed only by unrolled loop counters, so it stays out of local memory).
constexpr int kMaxTopK = 16;
constexpr int kRouterWarpsPerBlock = 4;
constexpr int kGroupThreads = kMaxExperts; // one thread per expert in the scan

// One token's routing by one warp. Probabilities are exp(logit - max) / sum, compared in F32;
// ties go to the lower expert index, as in the CPU reference.
__device__ void warpRoute(const float* __restrict__ row, int experts, int k, bool normalize,
                          int* __restrict__ ids, float* __restrict__ weights,
                          float* __restrict__ sharedGate) {
    const int lane = threadIdx.x % kWarp;
    float maxLogit = -FLT_MAX;
    for (int e = lane; e < experts; e += kWarp)
        maxLogit = fmaxf(maxLogit, row[e]);
    maxLogit = warpMax(maxLogit);
    float total = 0.0f;
    for (int e = lane; e < experts; e += kWarp)
        total += expf(row[e] - maxLogit);
    total = warpSum(total);

    int chosen[kMaxTopK];
    float chosenWeight[kMaxTopK];
    float chosenTotal = 0.0f;
#pragma unroll
    for (int s = 0; s < kMaxTopK; ++s) {
        chosen[s] = -1;
        chosenWeight[s] = 0.0f;
        if (s >= k)
            continue;
        float best = -1.0f;
        int bestIndex = INT_MAX;
        for (int e = lane; e < experts; e += kWarp) { // increasing e: ties keep the lower index
            bool taken = false;
#pragma unroll
            for (int j = 0; j < kMaxTopK; ++j)
                taken |= j < s && chosen[j] == e;
            // A NaN (a diverged activation, an inf logit) counts as 0, so that every slot still
            // names a real expert: an id past the experts would index the grouping's shared
            // counts out of bounds and poison the CUDA context. Its weight stays NaN.
            float probability = expf(row[e] - maxLogit);
            if (!(probability >= 0.0f))
                probability = 0.0f;
            if (!taken && probability > best) {
                best = probability;
                bestIndex = e;
            }
        }
#pragma unroll
        for (int offset = 16; offset > 0; offset >>= 1) {
            const float otherBest = __shfl_xor_sync(kFullMask, best, offset);
            const int otherIndex = __shfl_xor_sync(kFullMask, bestIndex, offset);
            if (otherBest > best || (otherBest == best && otherIndex < bestIndex)) {
                best = otherBest;
                bestIndex = otherIndex;
            }
        }
        chosen[s] = bestIndex;
        chosenWeight[s] = best / total;
        chosenTotal += chosenWeight[s];
    }
    if (lane != 0)
        return;
#pragma unroll
    for (int s = 0; s < kMaxTopK; ++s)
        if (s < k) {
            ids[s] = chosen[s];
            weights[s] = normalize ? chosenWeight[s] / chosenTotal : chosenWeight[s];
        }
    if (sharedGate != nullptr)
        *sharedGate = 1.0f / (1.0f + expf(-row[experts]));
}

__global__ void routerTopKKernel(const float* __restrict__ logits, int ld, int rows, int experts,
                                 int k, bool normalize, float* __restrict__ sharedGate,
                                 int* __restrict__ ids, float* __restrict__ weights) {
    const int t = blockIdx.x * kRouterWarpsPerBlock + static_cast<int>(threadIdx.x) / kWarp;
    if (t >= rows)
        return;
    warpRoute(logits + static_cast<int64_t>(t) * ld, experts, k, normalize, ids + t * k,
              weights + t * k, sharedGate != nullptr ? sharedGate + t : nullptr);
}

// Count, scan and scatter in one block (kGroupThreads threads, thread e owns expert e). The order
// of pairs within an expert follows the atomics and may vary from run to run; nothing downstream
// depends on it (each row's GEMM result is its own, and combine sums in slot order).
// `ids` may have been written earlier in the same kernel: no __restrict__, so it is not read
// through the non-coherent cache.
__device__ void blockGroup(const int* ids, int pairs, int experts, ExpertGroups g,
                           int* __restrict__ activeCountRecord) {
    using Scan = cub::BlockScan<int, kGroupThreads>;
    __shared__ typename Scan::TempStorage scanStorage;
    __shared__ int counts[kMaxExperts]; // then the scatter cursors
    const int e = threadIdx.x;
    if (e < experts)
        counts[e] = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < pairs; i += blockDim.x)
        atomicAdd(&counts[ids[i]], 1);
    __syncthreads();
    const int count = e < experts ? counts[e] : 0;
    int offset = 0, activeIndex = 0;
    Scan(scanStorage).ExclusiveSum(count, offset);
    __syncthreads(); // scanStorage is reused
    Scan(scanStorage).ExclusiveSum(count > 0 ? 1 : 0, activeIndex);
    if (e < experts) {
        g.counts[e] = count;
        g.offsets[e] = offset;
        if (count > 0)
            g.active[activeIndex] = e;
        counts[e] = offset;
    }
    if (e == experts - 1) {
        const int active = activeIndex + (count > 0 ? 1 : 0);
        g.offsets[experts] = offset + count;
        *g.activeCount = active;
        if (activeCountRecord != nullptr)
            *activeCountRecord = active;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < pairs; i += blockDim.x) {
        const int row = atomicAdd(&counts[ids[i]], 1);
        g.sortedPair[row] = i;
        g.pairRow[i] = row;
    }
}

__global__ void __launch_bounds__(kGroupThreads)
    groupKernel(const int* ids, int pairs, int experts, ExpertGroups g,
                int* __restrict__ activeCountRecord) {
    blockGroup(ids, pairs, experts, g, activeCountRecord);
}

__global__ void __launch_bounds__(kGroupThreads)
    routeAndGroupKernel(const float* __restrict__ logits, int ld, int rows, int experts, int k,
                        bool normalize, float* __restrict__ sharedGate, int* ids,
                        float* __restrict__ weights, ExpertGroups g,
                        int* __restrict__ activeCountRecord) {
    for (int t = static_cast<int>(threadIdx.x) / kWarp; t < rows;
         t += static_cast<int>(blockDim.x) / kWarp)
        warpRoute(logits + static_cast<int64_t>(t) * ld, experts, k, normalize, ids + t * k,
                  weights + t * k, sharedGate != nullptr ? sharedGate + t : nullptr);
    __syncthreads(); // the ids written above are read by the whole block
    blockGroup(ids, rows * k, experts, g, activeCountRecord);
}

__global__ void gatherKernel(const bf16* __restrict__ x, int cols,
                             const int* __restrict__ sortedPair, int k, bf16* __restrict__ out) {
    const int64_t token = sortedPair[blockIdx.x] / k;
    const auto* source = reinterpret_cast<const uint4*>(x + token * cols);
    auto* target = reinterpret_cast<uint4*>(out + static_cast<int64_t>(blockIdx.x) * cols);
    for (int i = threadIdx.x; i < cols / 8; i += blockDim.x)
        target[i] = source[i];
}

__global__ void pointersKernel(ExpertGroups g, int experts, const bf16* weights,
                               int64_t expertStride, const bf16* x, int ldx, bf16* y, int ldy,
                               const void** a, const void** b, void** c) {
    const int slot = blockIdx.x * blockDim.x + threadIdx.x;
    if (slot >= experts || slot >= *g.activeCount)
        return;
    const int e = g.active[slot];
    const int64_t first = g.offsets[e];
    a[slot] = weights + e * expertStride;
    b[slot] = x + first * ldx;
    c[slot] = y + first * ldy;
}

__global__ void groupedGemmReferenceKernel(const bf16* weights, int64_t expertStride, int outRows,
                                           int cols, const bf16* x, const int* offsets, int experts,
                                           int rows, float* y) {
    const int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    if (index >= static_cast<int64_t>(rows) * outRows)
        return;
    const int row = static_cast<int>(index / outRows), out = static_cast<int>(index % outRows);
    int e = 0;
    while (e + 1 < experts && offsets[e + 1] <= row)
        ++e;
    const bf16* w = weights + e * expertStride + static_cast<int64_t>(out) * cols;
    const bf16* input = x + static_cast<int64_t>(row) * cols;
    float sum = 0.0f;
    for (int c = 0; c < cols; ++c)
        sum += __bfloat162float(w[c]) * __bfloat162float(input[c]);
    y[index] = sum;
}

} // namespace

void routerTopK(const float* logits, int ld, int rows, int experts, int k, bool normalize,
                float* sharedGate, int* ids, float* weights, cudaStream_t stream) {
    routerTopKKernel<<<blocksFor(rows, kRouterWarpsPerBlock), kRouterWarpsPerBlock * kWarp, 0,
                       stream>>>(logits, ld, rows, experts, k, normalize, sharedGate, ids, weights);
    CUDA_CHECK_LAUNCH("routerTopKKernel");
}

void groupByExpert(const int* ids, int pairs, int experts, const ExpertGroups& groups,
                   int* activeCountRecord, cudaStream_t stream) {
    groupKernel<<<1, kGroupThreads, 0, stream>>>(ids, pairs, experts, groups, activeCountRecord);
    CUDA_CHECK_LAUNCH("groupKernel");
}

void routeAndGroup(const float* logits, int ld, int rows, int experts, int k, bool normalize,
                   float* sharedGate, int* ids, float* weights, const ExpertGroups& groups,
                   int* activeCountRecord, cudaStream_t stream) {
    routeAndGroupKernel<<<1, kGroupThreads, 0, stream>>>(logits, ld, rows, experts, k, normalize,
                                                         sharedGate, ids, weights, groups,
                                                         activeCountRecord);
    CUDA_CHECK_LAUNCH("routeAndGroupKernel");
}

void gatherRows(const bf16* x, int cols, const int* sortedPair, int k, int rows, bf16* out,
                cudaStream_t stream) {
    if (rows == 0)
        return;
    gatherKernel<<<rows, 128, 0, stream>>>(x, cols, sortedPair, k, out);
    CUDA_CHECK_LAUNCH("gatherKernel");
}

void groupedGemmPointers(const ExpertGroups& groups, int experts, const bf16* weights,
                         int64_t expertStride, const bf16* x, int ldx, bf16* y, int ldy,
                         const void** a, const void** b, void** c, cudaStream_t stream) {
    pointersKernel<<<blocksFor(experts, 256), 256, 0, stream>>>(
        groups, experts, weights, expertStride, x, ldx, y, ldy, a, b, c);
    CUDA_CHECK_LAUNCH("pointersKernel");
}

void groupedGemmReference(const bf16* weights, int64_t expertStride, int outRows, int cols,
                          const bf16* x, const int* offsets, int experts, int rows, float* y,
                          cudaStream_t stream) {
    const int64_t outputs = static_cast<int64_t>(rows) * outRows;
    if (outputs == 0)
        return;
    groupedGemmReferenceKernel<<<blocksFor(outputs, 256), 256, 0, stream>>>(
        weights, expertStride, outRows, cols, x, offsets, experts, rows, y);
    CUDA_CHECK_LAUNCH("groupedGemmReferenceKernel");
}

} // namespace crossroads::inference::gpu
