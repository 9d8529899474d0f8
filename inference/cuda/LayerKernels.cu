// The per-token work around the matrix products: embedding, RMSNorm, the q/k/v post-processing
// (bias, q/k norm, clip, RoPE, KV-cache write), SwiGLU and the MoE combine. Each is one block
// per token row; the rows are short (hidden <= 8k) and these kernels move little data next to
// the projections, so they favour being easy to check against the CPU reference.
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"
#include "inference/cuda/DeviceMath.cuh"

#include <algorithm>

namespace crossroads::inference::gpu {

namespace {

constexpr int kRowThreads = 256;

__global__ void embedKernel(const bf16* __restrict__ table, int cols,
                            const int* __restrict__ tokens, float* __restrict__ out) {
    const bf16* row = table + static_cast<int64_t>(tokens[blockIdx.x]) * cols;
    float* target = out + static_cast<int64_t>(blockIdx.x) * cols;
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        target[i] = __bfloat162float(row[i]);
}

__global__ void rmsNormKernel(const float* __restrict__ x, const float* __restrict__ weight,
                              int cols, float eps, bf16* __restrict__ out) {
    const float* row = x + static_cast<int64_t>(blockIdx.x) * cols;
    float squares = 0.0f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        squares += row[i] * row[i];
    const float scale = rsqrtf(blockSum(squares) / static_cast<float>(cols) + eps);
    bf16* target = out + static_cast<int64_t>(blockIdx.x) * cols;
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        target[i] = __float2bfloat16(row[i] * scale * weight[i]);
}

// One block per token, phases separated by barriers (each phase maps elements to threads its own
// way).
__global__ void qkvPostKernel(float* __restrict__ qkv, QkvParams p, TokenTable tokens, KvTable kv,
                              int layer, bf16* __restrict__ q) {
    __shared__ float cosines[kMaxHeadDim / 2], sines[kMaxHeadDim / 2];
    const int qDim = p.shape.qDim(), kvDim = p.shape.kvDim(), headDim = p.shape.headDim;
    const int half = headDim / 2;
    float* row = qkv + static_cast<int64_t>(blockIdx.x) * (qDim + 2 * kvDim);
    const int position = tokens.position[blockIdx.x];

    if (p.bias != nullptr)
        for (int i = threadIdx.x; i < qDim + 2 * kvDim; i += blockDim.x)
            row[i] += p.bias[i];
    __syncthreads();
    if (p.qNorm != nullptr && !p.perHeadNorm) {
        // OLMoE: one RMS over the whole q projection, one over the whole k projection.
        float qSquares = 0.0f, kSquares = 0.0f;
        for (int i = threadIdx.x; i < qDim; i += blockDim.x)
            qSquares += row[i] * row[i];
        for (int i = threadIdx.x; i < kvDim; i += blockDim.x)
            kSquares += row[qDim + i] * row[qDim + i];
        const float qScale = rsqrtf(blockSum(qSquares) / static_cast<float>(qDim) + p.eps);
        const float kScale = rsqrtf(blockSum(kSquares) / static_cast<float>(kvDim) + p.eps);
        for (int i = threadIdx.x; i < qDim; i += blockDim.x)
            row[i] *= qScale * p.qNorm[i];
        for (int i = threadIdx.x; i < kvDim; i += blockDim.x)
            row[qDim + i] *= kScale * p.kNorm[i];
    } else if (p.qNorm != nullptr) {
        // Qwen3: RMS over each head, one warp per head (q heads, then k heads).
        const int lane = threadIdx.x % kWarp;
        for (int h = threadIdx.x / kWarp; h < p.shape.heads + p.shape.kvHeads;
             h += blockDim.x / kWarp) {
            const bool isQ = h < p.shape.heads;
            float* head = row + (isQ ? h * headDim : qDim + (h - p.shape.heads) * headDim);
            const float* weight = isQ ? p.qNorm : p.kNorm;
            float squares = 0.0f;
            for (int i = lane; i < headDim; i += kWarp)
                squares += head[i] * head[i];
            const float scale = rsqrtf(warpSum(squares) / static_cast<float>(headDim) + p.eps);
            for (int i = lane; i < headDim; i += kWarp)
                head[i] *= scale * weight[i];
        }
    }
    __syncthreads();
    if (p.clip > 0.0f)
        for (int i = threadIdx.x; i < qDim + 2 * kvDim; i += blockDim.x)
            row[i] = fminf(fmaxf(row[i], -p.clip), p.clip);

    __syncthreads();
    // RoPE angles in double, rounded once, as the CPU backend's tables are: position * theta^-x
    // in F32 loses ~1e-4 rad at position 4096.
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        double s, c;
        sincos(static_cast<double>(position) * p.inverseFrequency[i], &s, &c);
        cosines[i] = static_cast<float>(c);
        sines[i] = static_cast<float>(s);
    }
    __syncthreads();
    for (int pair = threadIdx.x; pair < (p.shape.heads + p.shape.kvHeads) * half;
         pair += blockDim.x) {
        const int h = pair / half, i = pair % half;
        float* head =
            row + (h < p.shape.heads ? h * headDim : qDim + (h - p.shape.heads) * headDim);
        const float x1 = head[i], x2 = head[i + half];
        head[i] = x1 * cosines[i] - x2 * sines[i];
        head[i + half] = x2 * cosines[i] + x1 * sines[i];
    }
    __syncthreads();

    bf16* qOut = q + static_cast<int64_t>(blockIdx.x) * qDim;
    for (int i = threadIdx.x; i < qDim; i += blockDim.x)
        qOut[i] = __float2bfloat16(row[i]);
    const int slot = tokens.slot[blockIdx.x];
    const int64_t capacity = kv.capacity[slot];
    bf16* keys = kv.kv[slot] + ((2 * layer) * capacity + position) * kvDim;
    bf16* values = kv.kv[slot] + ((2 * layer + 1) * capacity + position) * kvDim;
    for (int i = threadIdx.x; i < kvDim; i += blockDim.x) {
        keys[i] = __float2bfloat16(row[qDim + i]);
        values[i] = __float2bfloat16(row[qDim + kvDim + i]);
    }
}

__global__ void siluMulKernel(const bf16* __restrict__ gateUp, int64_t total, int inter,
                              bf16* __restrict__ act) {
    for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
         index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t r = index / inter, i = index % inter;
        const float gate = __bfloat162float(gateUp[r * 2 * inter + i]);
        const float up = __bfloat162float(gateUp[r * 2 * inter + inter + i]);
        act[index] = __float2bfloat16(silu(gate) * up);
    }
}

__global__ void addBiasKernel(float* __restrict__ x, const float* __restrict__ bias, int cols) {
    float* row = x + static_cast<int64_t>(blockIdx.x) * cols;
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        row[i] += bias[i];
}

__global__ void combineKernel(float* __restrict__ hidden, int cols, CombineParams p,
                              const float* __restrict__ nextNorm, float eps,
                              bf16* __restrict__ normed) {
    const int t = blockIdx.x;
    float* row = hidden + static_cast<int64_t>(t) * cols;
    const float gate = p.sharedGate != nullptr ? p.sharedGate[t] : 0.0f;
    float squares = 0.0f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
        float sum = 0.0f;
        for (int s = 0; s < p.k; ++s) {
            const int64_t source = p.pairRow[t * p.k + s];
            sum += p.weight[t * p.k + s] * __bfloat162float(p.expertOut[source * cols + i]);
        }
        if (p.sharedOut != nullptr)
            sum += gate * p.sharedOut[static_cast<int64_t>(t) * cols + i];
        const float value = row[i] + sum;
        row[i] = value;
        squares += value * value;
    }
    if (nextNorm == nullptr)
        return;
    const float scale = rsqrtf(blockSum(squares) / static_cast<float>(cols) + eps);
    bf16* target = normed + static_cast<int64_t>(t) * cols;
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        target[i] = __float2bfloat16(row[i] * scale * nextNorm[i]);
}

} // namespace

void embedRows(const bf16* table, int cols, const int* tokens, int rows, float* out,
               cudaStream_t stream) {
    embedKernel<<<rows, kRowThreads, 0, stream>>>(table, cols, tokens, out);
    CUDA_CHECK_LAUNCH("embedKernel");
}

void rmsNormRows(const float* x, const float* weight, int cols, float eps, int rows, bf16* out,
                 cudaStream_t stream) {
    rmsNormKernel<<<rows, kRowThreads, 0, stream>>>(x, weight, cols, eps, out);
    CUDA_CHECK_LAUNCH("rmsNormKernel");
}

void qkvPostprocess(float* qkv, int rows, const QkvParams& params, TokenTable tokens, KvTable kv,
                    int layer, bf16* q, cudaStream_t stream) {
    qkvPostKernel<<<rows, kRowThreads, 0, stream>>>(qkv, params, tokens, kv, layer, q);
    CUDA_CHECK_LAUNCH("qkvPostKernel");
}

void siluMulRows(const bf16* gateUp, int rows, int inter, bf16* act, cudaStream_t stream) {
    const int64_t total = static_cast<int64_t>(rows) * inter;
    const unsigned blocks = total > 0 ? std::min(blocksFor(total, kRowThreads), 65535u) : 1u;
    siluMulKernel<<<blocks, kRowThreads, 0, stream>>>(gateUp, total, inter, act);
    CUDA_CHECK_LAUNCH("siluMulKernel");
}

void addBiasRows(float* x, const float* bias, int rows, int cols, cudaStream_t stream) {
    addBiasKernel<<<rows, kRowThreads, 0, stream>>>(x, bias, cols);
    CUDA_CHECK_LAUNCH("addBiasKernel");
}

void combineExperts(float* hidden, int rows, int cols, const CombineParams& params,
                    const float* nextNorm, float eps, bf16* normed, cudaStream_t stream) {
    combineKernel<<<rows, kRowThreads, 0, stream>>>(hidden, cols, params, nextNorm, eps, normed);
    CUDA_CHECK_LAUNCH("combineKernel");
}

} // namespace crossroads::inference::gpu
