// Attention over the BF16 KV cache. Decode: flash-decoding, one block per (head, token, chunk of
// kAttentionChunk positions) with an online softmax per warp, merged across warps in shared
// memory and across chunks by a second kernel. Prefill: the two matrix products go to cuBLAS
// (tensor cores; a CUDA-core loop over n^2 scores would dominate a 4k-token prefill) with a
// causal softmax kernel between them, a chunk of queries at a time so the scores fit.
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"
#include "inference/cuda/DeviceMath.cuh"

#include <algorithm>
#include <cmath>

namespace crossroads::inference::gpu {

namespace {

constexpr int kAttentionWarps = 4;
constexpr int kLaneDims = kMaxHeadDim / kWarp; // head dimensions per lane

// Start of layer `layer`'s keys (values follow after capacity * kvDim) in slot `slot`'s cache.
__device__ __forceinline__ const bf16* layerKeys(const KvTable& kv, int slot, int layer,
                                                 int kvDim) {
    return kv.kv[slot] + static_cast<int64_t>(2 * layer) * kv.capacity[slot] * kvDim;
}

__global__ void __launch_bounds__(kAttentionWarps* kWarp)
    decodeAttentionKernel(const bf16* __restrict__ q, TokenTable tokens, KvTable kv, int layer,
                          AttentionShape shape, float scale, float* __restrict__ partial,
                          bf16* __restrict__ out) {
    __shared__ float warpMaxima[kAttentionWarps], warpTotals[kAttentionWarps];
    __shared__ float warpAcc[kAttentionWarps][kMaxHeadDim];
    const int h = blockIdx.x, t = blockIdx.y, split = blockIdx.z;
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    const int headDim = shape.headDim, kvDim = shape.kvDim();
    const int context = tokens.position[t] + 1;
    const int begin = split * kAttentionChunk, end = min(begin + kAttentionChunk, context);
    const int slot = tokens.slot[t];
    const int64_t capacity = kv.capacity[slot];
    const bf16* keys =
        layerKeys(kv, slot, layer, kvDim) + (h / (shape.heads / shape.kvHeads)) * headDim;
    const bf16* values = keys + capacity * kvDim;

    float qv[kLaneDims], acc[kLaneDims];
#pragma unroll
    for (int i = 0; i < kLaneDims; ++i) {
        const int d = lane + i * kWarp;
        qv[i] = d < headDim
                    ? __bfloat162float(q[static_cast<int64_t>(t) * shape.qDim() + h * headDim + d])
                    : 0.0f;
        acc[i] = 0.0f;
    }
    // Online softmax: m is the running maximum, total the running sum of exp(score - m).
    float m = -INFINITY, total = 0.0f;
    for (int p = begin + warp; p < end; p += kAttentionWarps) {
        const bf16* key = keys + static_cast<int64_t>(p) * kvDim;
        float dot = 0.0f;
#pragma unroll
        for (int i = 0; i < kLaneDims; ++i) {
            const int d = lane + i * kWarp;
            if (d < headDim)
                dot += qv[i] * __bfloat162float(key[d]);
        }
        const float score = warpSum(dot) * scale;
        const float newMax = fmaxf(m, score);
        const float correction = expf(m - newMax); // 0 on the first position (m = -inf)
        const float weight = expf(score - newMax);
        total = total * correction + weight;
        const bf16* value = values + static_cast<int64_t>(p) * kvDim;
#pragma unroll
        for (int i = 0; i < kLaneDims; ++i) {
            const int d = lane + i * kWarp;
            if (d < headDim)
                acc[i] = acc[i] * correction + weight * __bfloat162float(value[d]);
        }
        m = newMax;
    }
    if (lane == 0) {
        warpMaxima[warp] = m;
        warpTotals[warp] = total;
    }
#pragma unroll
    for (int i = 0; i < kLaneDims; ++i)
        if (lane + i * kWarp < headDim)
            warpAcc[warp][lane + i * kWarp] = acc[i];
    __syncthreads();

    float blockMax = -INFINITY;
    for (int w = 0; w < kAttentionWarps; ++w)
        blockMax = fmaxf(blockMax, warpMaxima[w]);
    float warpScale[kAttentionWarps];
    float blockTotal = 0.0f;
#pragma unroll
    for (int w = 0; w < kAttentionWarps; ++w) {
        warpScale[w] = warpMaxima[w] == -INFINITY ? 0.0f : expf(warpMaxima[w] - blockMax);
        blockTotal += warpTotals[w] * warpScale[w];
    }
    const int64_t head = static_cast<int64_t>(t) * shape.heads + h;
    if (gridDim.z == 1) { // one chunk holds the whole context: finish here
        for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
            float o = 0.0f;
#pragma unroll
            for (int w = 0; w < kAttentionWarps; ++w)
                o += warpAcc[w][d] * warpScale[w];
            out[static_cast<int64_t>(t) * shape.qDim() + h * headDim + d] =
                __float2bfloat16(o / blockTotal);
        }
        return;
    }
    // Partial result of this chunk: unnormalised output relative to blockMax, then max and total.
    float* target = partial + (head * gridDim.z + split) * (headDim + 2);
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float o = 0.0f;
#pragma unroll
        for (int w = 0; w < kAttentionWarps; ++w)
            o += warpAcc[w][d] * warpScale[w];
        target[d] = o;
    }
    if (threadIdx.x == 0) {
        target[headDim] = blockMax;
        target[headDim + 1] = blockTotal;
    }
}

__global__ void mergeSplitsKernel(const float* __restrict__ partial, int splits,
                                  AttentionShape shape, bf16* __restrict__ out) {
    const int h = blockIdx.x, t = blockIdx.y, headDim = shape.headDim;
    const float* chunks =
        partial + (static_cast<int64_t>(t) * shape.heads + h) * splits * (headDim + 2);
    float maxScore = -INFINITY;
    for (int s = 0; s < splits; ++s)
        maxScore = fmaxf(maxScore, chunks[s * (headDim + 2) + headDim]);
    float total = 0.0f;
    for (int s = 0; s < splits; ++s) {
        const float chunkMax = chunks[s * (headDim + 2) + headDim];
        if (chunkMax != -INFINITY)
            total += chunks[s * (headDim + 2) + headDim + 1] * expf(chunkMax - maxScore);
    }
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float o = 0.0f;
        for (int s = 0; s < splits; ++s) {
            const float chunkMax = chunks[s * (headDim + 2) + headDim];
            if (chunkMax != -INFINITY)
                o += chunks[s * (headDim + 2) + d] * expf(chunkMax - maxScore);
        }
        out[static_cast<int64_t>(t) * shape.qDim() + h * headDim + d] = __float2bfloat16(o / total);
    }
}

// One block per (query row, head): softmax over the keys the query may see (positions up to its
// own), zeros after, so the following P V product can run over the whole chunk's context.
__global__ void causalSoftmaxKernel(const float* __restrict__ scores, int rows, int context,
                                    int firstPosition, bf16* __restrict__ probs) {
    const int i = blockIdx.x, h = blockIdx.y;
    const int64_t offset = (static_cast<int64_t>(h) * rows + i) * context;
    const float* row = scores + offset;
    bf16* target = probs + offset;
    const int visible = firstPosition + i + 1;
    float maxScore = -INFINITY;
    for (int j = threadIdx.x; j < visible; j += blockDim.x)
        maxScore = fmaxf(maxScore, row[j]);
    __shared__ float maxima[32];
    maxScore = warpMax(maxScore);
    if (threadIdx.x % kWarp == 0)
        maxima[threadIdx.x / kWarp] = maxScore;
    __syncthreads();
    maxScore = -INFINITY;
    for (int w = 0; w < static_cast<int>(blockDim.x) / kWarp; ++w)
        maxScore = fmaxf(maxScore, maxima[w]);
    float total = 0.0f;
    for (int j = threadIdx.x; j < visible; j += blockDim.x)
        total += expf(row[j] - maxScore);
    const float inverse = 1.0f / blockSum(total);
    for (int j = threadIdx.x; j < context; j += blockDim.x)
        target[j] = __float2bfloat16(j < visible ? expf(row[j] - maxScore) * inverse : 0.0f);
}

__global__ void attentionReferenceKernel(const bf16* q, int tokens, TokenTable tokenTable,
                                         KvTable kv, int layer, AttentionShape shape, float scale,
                                         float* out) {
    const int index = blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= tokens * shape.heads)
        return;
    const int t = index / shape.heads, h = index % shape.heads;
    const int headDim = shape.headDim, kvDim = shape.kvDim();
    const int slot = tokenTable.slot[t];
    const int context = tokenTable.position[t] + 1;
    const bf16* keys =
        layerKeys(kv, slot, layer, kvDim) + (h / (shape.heads / shape.kvHeads)) * headDim;
    const bf16* values = keys + static_cast<int64_t>(kv.capacity[slot]) * kvDim;
    const bf16* query = q + static_cast<int64_t>(t) * shape.qDim() + h * headDim;
    float* o = out + static_cast<int64_t>(t) * shape.qDim() + h * headDim;
    const auto score = [&](int p) {
        float dot = 0.0f;
        for (int d = 0; d < headDim; ++d)
            dot += __bfloat162float(query[d]) *
                   __bfloat162float(keys[static_cast<int64_t>(p) * kvDim + d]);
        return dot * scale;
    };
    float maxScore = -INFINITY;
    for (int p = 0; p < context; ++p)
        maxScore = fmaxf(maxScore, score(p));
    for (int d = 0; d < headDim; ++d)
        o[d] = 0.0f;
    float total = 0.0f;
    for (int p = 0; p < context; ++p) {
        const float weight = expf(score(p) - maxScore);
        total += weight;
        for (int d = 0; d < headDim; ++d)
            o[d] += weight * __bfloat162float(values[static_cast<int64_t>(p) * kvDim + d]);
    }
    for (int d = 0; d < headDim; ++d)
        o[d] /= total;
}

float attentionScale(const AttentionShape& shape) {
    return static_cast<float>(1.0 / std::sqrt(static_cast<double>(shape.headDim)));
}

} // namespace

int attentionSplits(int maxContext) {
    int bucket = kAttentionChunk;
    while (bucket < maxContext)
        bucket *= 2;
    return bucket / kAttentionChunk;
}

std::size_t attentionPartialFloats(int tokens, const AttentionShape& shape, int splits) {
    return static_cast<std::size_t>(tokens) * static_cast<std::size_t>(shape.heads) *
           static_cast<std::size_t>(splits) * static_cast<std::size_t>(shape.headDim + 2);
}

void decodeAttention(const bf16* q, int tokens, TokenTable tokenTable, KvTable kv, int layer,
                     const AttentionShape& shape, int splits, float* partial, bf16* out,
                     cudaStream_t stream) {
    const dim3 grid(static_cast<unsigned>(shape.heads), static_cast<unsigned>(tokens),
                    static_cast<unsigned>(splits));
    decodeAttentionKernel<<<grid, kAttentionWarps * kWarp, 0, stream>>>(
        q, tokenTable, kv, layer, shape, attentionScale(shape), partial, out);
    CUDA_CHECK_LAUNCH("decodeAttentionKernel");
    if (splits == 1)
        return;
    mergeSplitsKernel<<<dim3(static_cast<unsigned>(shape.heads), static_cast<unsigned>(tokens)),
                        128, 0, stream>>>(partial, splits, shape, out);
    CUDA_CHECK_LAUNCH("mergeSplitsKernel");
}

std::size_t prefillAttentionChunkRows(int rows, int context, const AttentionShape& shape,
                                      std::size_t scratchElements) {
    const std::size_t perRow =
        static_cast<std::size_t>(shape.heads) * static_cast<std::size_t>(context);
    return std::clamp<std::size_t>(scratchElements / perRow, 1, static_cast<std::size_t>(rows));
}

void prefillAttention(cublasHandle_t cublas, const bf16* q, int rows, int start, const bf16* keys,
                      const bf16* values, const AttentionShape& shape,
                      const PrefillAttentionScratch& scratch, bf16* out, cudaStream_t stream) {
    const int group = shape.heads / shape.kvHeads, headDim = shape.headDim;
    const int qDim = shape.qDim(), kvDim = shape.kvDim();
    const int chunk =
        static_cast<int>(prefillAttentionChunkRows(rows, start + rows, shape, scratch.elements));
    const float scale = attentionScale(shape), one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasSetStream(cublas, stream));
    for (int first = 0; first < rows; first += chunk) {
        const int n = std::min(chunk, rows - first);
        const int context = start + first + n; // the keys the chunk's last query sees
        const int64_t perHead = static_cast<int64_t>(n) * context;
        // Column-major view: S_h^T [context x n] = K_g [kvDim-strided] x Q_h^T. The batch runs over
        // kv heads g; the loop over j picks query head g * group + j of each.
        for (int j = 0; j < group; ++j)
            CUBLAS_CHECK(cublasGemmStridedBatchedEx(
                cublas, CUBLAS_OP_T, CUBLAS_OP_N, context, n, headDim, &scale, keys, CUDA_R_16BF,
                kvDim, headDim, q + static_cast<int64_t>(first) * qDim + j * headDim, CUDA_R_16BF,
                qDim, static_cast<int64_t>(group) * headDim, &zero, scratch.scores + j * perHead,
                CUDA_R_32F, context, group * perHead, shape.kvHeads, CUBLAS_COMPUTE_32F,
                CUBLAS_GEMM_DEFAULT));
        causalSoftmaxKernel<<<dim3(static_cast<unsigned>(n), static_cast<unsigned>(shape.heads)),
                              256, 0, stream>>>(scratch.scores, n, context, start + first,
                                                scratch.probs);
        CUDA_CHECK_LAUNCH("causalSoftmaxKernel");
        // O_h^T [headDim x n] = V_g^T [headDim x context] x P_h^T [context x n].
        for (int j = 0; j < group; ++j)
            CUBLAS_CHECK(cublasGemmStridedBatchedEx(
                cublas, CUBLAS_OP_N, CUBLAS_OP_N, headDim, n, context, &one, values, CUDA_R_16BF,
                kvDim, headDim, scratch.probs + j * perHead, CUDA_R_16BF, context, group * perHead,
                &zero, out + static_cast<int64_t>(first) * qDim + j * headDim, CUDA_R_16BF, qDim,
                static_cast<int64_t>(group) * headDim, shape.kvHeads, CUBLAS_COMPUTE_32F,
                CUBLAS_GEMM_DEFAULT));
    }
}

void attentionReference(const bf16* q, int tokens, TokenTable tokenTable, KvTable kv, int layer,
                        const AttentionShape& shape, float* out, cudaStream_t stream) {
    const int threads = tokens * shape.heads;
    attentionReferenceKernel<<<blocksFor(threads, 128), 128, 0, stream>>>(
        q, tokens, tokenTable, kv, layer, shape, attentionScale(shape), out);
    CUDA_CHECK_LAUNCH("attentionReferenceKernel");
}

} // namespace crossroads::inference::gpu
