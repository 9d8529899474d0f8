// Decode's matrix-vector products. Batch-1 decode is bound by reading the weights once, so the
// kernels are built around that read: one warp per weight row, each lane streaming 16-byte BF16
// vectors (four in flight before the first use), F32 accumulation, a warp-shuffle reduction, and
// every row read once for up to kGemvMaxTokens tokens. The expert kernels take the active experts
// from the device-side grouping, so a step never waits for the host to learn the routing.
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"
#include "inference/cuda/DeviceMath.cuh"

namespace crossroads::inference::gpu {

namespace {

constexpr int kGemvWarps = 8; // rows per block
constexpr int kUnroll = 4;    // 16-byte weight loads in flight per lane

// sums[j] = w . x[j] for j < tokens, in every lane of the warp. cols % 8 == 0; rows 16-byte
// aligned. Weights are streamed (__ldcs: read once, do not keep); activations are re-read by
// every warp, so they go through the read-only cache (__ldg).
template <int MaxTokens>
__device__ __forceinline__ void rowDots(const bf16* __restrict__ w,
                                        const bf16* const (&x)[MaxTokens], int tokens, int cols,
                                        float (&sums)[MaxTokens]) {
    const int lane = threadIdx.x % kWarp;
    const auto* w4 = reinterpret_cast<const uint4*>(w);
    const int vectors = cols / 8;
#pragma unroll
    for (int j = 0; j < MaxTokens; ++j)
        sums[j] = 0.0f;
    int v = lane;
    for (; v + (kUnroll - 1) * kWarp < vectors; v += kUnroll * kWarp) {
        uint4 wv[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
            wv[u] = __ldcs(w4 + v + u * kWarp);
#pragma unroll
        for (int j = 0; j < MaxTokens; ++j) {
            if (j >= tokens)
                break;
            const auto* x4 = reinterpret_cast<const uint4*>(x[j]);
#pragma unroll
            for (int u = 0; u < kUnroll; ++u)
                sums[j] = dot8(wv[u], __ldg(x4 + v + u * kWarp), sums[j]);
        }
    }
    for (; v < vectors; v += kWarp) {
        const uint4 wv = __ldcs(w4 + v);
#pragma unroll
        for (int j = 0; j < MaxTokens; ++j) {
            if (j >= tokens)
                break;
            sums[j] = dot8(wv, __ldg(reinterpret_cast<const uint4*>(x[j]) + v), sums[j]);
        }
    }
#pragma unroll
    for (int j = 0; j < MaxTokens; ++j)
        sums[j] = warpSum(sums[j]);
}

// Row pointers of tokens [first, first + count) (entries past count repeat the last row, so
// every pointer is valid).
template <int MaxTokens>
__device__ __forceinline__ void tokenRows(const bf16* x, int cols, int first, int count,
                                          const bf16* (&rows)[MaxTokens]) {
#pragma unroll
    for (int j = 0; j < MaxTokens; ++j)
        rows[j] = x + static_cast<int64_t>(first + min(j, count - 1)) * cols;
}

template <int MaxTokens>
__global__ void __launch_bounds__(kGemvWarps* kWarp)
    gemvKernel(const bf16* __restrict__ w, int rows, int cols, const bf16* __restrict__ x,
               int tokens, float* __restrict__ y, int ldy, bool accumulate) {
    const int row = blockIdx.x * kGemvWarps + static_cast<int>(threadIdx.x) / kWarp;
    if (row >= rows)
        return;
    for (int first = 0; first < tokens; first += MaxTokens) {
        const int count = min(MaxTokens, tokens - first);
        const bf16* xs[MaxTokens];
        tokenRows<MaxTokens>(x, cols, first, count, xs);
        float sums[MaxTokens];
        rowDots<MaxTokens>(w + static_cast<int64_t>(row) * cols, xs, count, cols, sums);
        if (threadIdx.x % kWarp == 0)
#pragma unroll
            for (int j = 0; j < MaxTokens; ++j)
                if (j < count) {
                    float* out = y + static_cast<int64_t>(first + j) * ldy + row;
                    *out = accumulate ? *out + sums[j] : sums[j];
                }
    }
}

template <int MaxTokens>
__global__ void __launch_bounds__(kGemvWarps* kWarp)
    gemvGateUpKernel(const bf16* __restrict__ w, int inter, int cols, const bf16* __restrict__ x,
                     int tokens, bf16* __restrict__ act) {
    const int i = blockIdx.x * kGemvWarps + static_cast<int>(threadIdx.x) / kWarp;
    if (i >= inter)
        return;
    for (int first = 0; first < tokens; first += MaxTokens) {
        const int count = min(MaxTokens, tokens - first);
        const bf16* xs[MaxTokens];
        tokenRows<MaxTokens>(x, cols, first, count, xs);
        float gate[MaxTokens], up[MaxTokens];
        rowDots<MaxTokens>(w + static_cast<int64_t>(i) * cols, xs, count, cols, gate);
        rowDots<MaxTokens>(w + static_cast<int64_t>(inter + i) * cols, xs, count, cols, up);
        if (threadIdx.x % kWarp == 0)
#pragma unroll
            for (int j = 0; j < MaxTokens; ++j)
                if (j < count)
                    act[static_cast<int64_t>(first + j) * inter + i] =
                        __float2bfloat16(silu(gate[j]) * up[j]);
    }
}

// blockIdx.y: the active expert's slot; blockIdx.x * kGemvWarps + warp: the output row. The rows
// of expert e in sorted order are [offsets[e], offsets[e + 1]). GateUp reads the tokens' inputs
// (x indexed by token) and writes SwiGLU activations; down reads those activations (indexed by
// sorted row) and writes each pair's output.
template <int MaxTokens, bool GateUp>
__global__ void __launch_bounds__(kGemvWarps* kWarp)
    expertGemvKernel(const bf16* __restrict__ w, int outRows, int cols, const bf16* __restrict__ x,
                     int k, ExpertGroups g, bf16* __restrict__ out) {
    const int slot = blockIdx.y;
    if (slot >= *g.activeCount)
        return;
    const int row = blockIdx.x * kGemvWarps + static_cast<int>(threadIdx.x) / kWarp;
    if (row >= outRows)
        return;
    const int e = g.active[slot];
    const int first = g.offsets[e], last = g.offsets[e + 1];
    const bf16* expert = w + static_cast<int64_t>(e) * (GateUp ? 2 : 1) * outRows * cols;
    for (int begin = first; begin < last; begin += MaxTokens) {
        const int count = min(MaxTokens, last - begin);
        const bf16* xs[MaxTokens];
#pragma unroll
        for (int j = 0; j < MaxTokens; ++j) {
            const int sorted = begin + min(j, count - 1);
            const int64_t input = GateUp ? g.sortedPair[sorted] / k : sorted;
            xs[j] = x + input * cols;
        }
        float dots[MaxTokens], upDots[MaxTokens];
        rowDots<MaxTokens>(expert + static_cast<int64_t>(row) * cols, xs, count, cols, dots);
        if (GateUp)
            rowDots<MaxTokens>(expert + static_cast<int64_t>(outRows + row) * cols, xs, count, cols,
                               upDots);
        if (threadIdx.x % kWarp == 0)
#pragma unroll
            for (int j = 0; j < MaxTokens; ++j)
                if (j < count) {
                    const float value = GateUp ? silu(dots[j]) * upDots[j] : dots[j];
                    out[static_cast<int64_t>(begin + j) * outRows + row] = __float2bfloat16(value);
                }
    }
}

__global__ void gemvReferenceKernel(const bf16* w, int rows, int cols, const bf16* x, int tokens,
                                    float* y) {
    const int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    if (index >= static_cast<int64_t>(rows) * tokens)
        return;
    const int64_t t = index / rows, r = index % rows;
    float sum = 0.0f;
    for (int c = 0; c < cols; ++c)
        sum += __bfloat162float(w[r * cols + c]) * __bfloat162float(x[t * cols + c]);
    y[index] = sum;
}

// The launchers pick the smallest token width that holds the batch (1, 2, 4 or 8), so batch-1
// decode keeps one accumulator per lane.
template <template <int> class Launch, typename... Args>
void dispatchTokens(int tokens, Args... args) {
    if (tokens <= 1)
        Launch<1>::run(args...);
    else if (tokens <= 2)
        Launch<2>::run(args...);
    else if (tokens <= 4)
        Launch<4>::run(args...);
    else
        Launch<8>::run(args...);
}

template <int N> struct GemvLaunch {
    static void run(const bf16* w, int rows, int cols, const bf16* x, int tokens, float* y, int ldy,
                    bool accumulate, cudaStream_t stream) {
        gemvKernel<N><<<blocksFor(rows, kGemvWarps), kGemvWarps * kWarp, 0, stream>>>(
            w, rows, cols, x, tokens, y, ldy, accumulate);
    }
};

template <int N> struct GateUpLaunch {
    static void run(const bf16* w, int inter, int cols, const bf16* x, int tokens, bf16* act,
                    cudaStream_t stream) {
        gemvGateUpKernel<N><<<blocksFor(inter, kGemvWarps), kGemvWarps * kWarp, 0, stream>>>(
            w, inter, cols, x, tokens, act);
    }
};

template <int N> struct ExpertGateUpLaunch {
    static void run(const bf16* w, int inter, int cols, const bf16* x, int k, const ExpertGroups& g,
                    int maxActive, bf16* act, cudaStream_t stream) {
        const dim3 grid(blocksFor(inter, kGemvWarps), static_cast<unsigned>(maxActive));
        expertGemvKernel<N, true>
            <<<grid, kGemvWarps * kWarp, 0, stream>>>(w, inter, cols, x, k, g, act);
    }
};

template <int N> struct ExpertDownLaunch {
    static void run(const bf16* w, int rows, int cols, const bf16* act, const ExpertGroups& g,
                    int maxActive, bf16* out, cudaStream_t stream) {
        const dim3 grid(blocksFor(rows, kGemvWarps), static_cast<unsigned>(maxActive));
        expertGemvKernel<N, false>
            <<<grid, kGemvWarps * kWarp, 0, stream>>>(w, rows, cols, act, 1, g, out);
    }
};

} // namespace

void gemv(const bf16* w, int rows, int cols, const bf16* x, int tokens, float* y, int ldy,
          bool accumulate, cudaStream_t stream) {
    dispatchTokens<GemvLaunch>(tokens, w, rows, cols, x, tokens, y, ldy, accumulate, stream);
    CUDA_CHECK_LAUNCH("gemvKernel");
}

void gemvGateUp(const bf16* w, int inter, int cols, const bf16* x, int tokens, bf16* act,
                cudaStream_t stream) {
    dispatchTokens<GateUpLaunch>(tokens, w, inter, cols, x, tokens, act, stream);
    CUDA_CHECK_LAUNCH("gemvGateUpKernel");
}

void expertGemvGateUp(const bf16* w, int inter, int cols, const bf16* x, int k,
                      const ExpertGroups& groups, int maxActive, int maxTokensPerExpert, bf16* act,
                      cudaStream_t stream) {
    dispatchTokens<ExpertGateUpLaunch>(maxTokensPerExpert, w, inter, cols, x, k, groups, maxActive,
                                       act, stream);
    CUDA_CHECK_LAUNCH("expertGemvKernel<gate_up>");
}

void expertGemvDown(const bf16* w, int rows, int cols, const bf16* act, const ExpertGroups& groups,
                    int maxActive, int maxTokensPerExpert, bf16* out, cudaStream_t stream) {
    dispatchTokens<ExpertDownLaunch>(maxTokensPerExpert, w, rows, cols, act, groups, maxActive, out,
                                     stream);
    CUDA_CHECK_LAUNCH("expertGemvKernel<down>");
}

void gemvReference(const bf16* w, int rows, int cols, const bf16* x, int tokens, float* y,
                   cudaStream_t stream) {
    const int64_t outputs = static_cast<int64_t>(rows) * tokens;
    gemvReferenceKernel<<<blocksFor(outputs, 256), 256, 0, stream>>>(w, rows, cols, x, tokens, y);
    CUDA_CHECK_LAUNCH("gemvReferenceKernel");
}

} // namespace crossroads::inference::gpu
