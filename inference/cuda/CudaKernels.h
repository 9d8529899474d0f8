// Launchers of the CUDA backend's kernels (defined in the .cu files beside this header), callable
// from plain C++ so the backend and the GPU test share them. Every optimised kernel has a plain
// reference (a naive kernel here, or the CPU reference forward) that inference_cuda_test holds it
// to. Pointers are device pointers; each launcher enqueues on `stream` and returns at once, and
// none of them synchronises with the host, so a decode step can be captured into a CUDA graph.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>
#include <vector>

// Small helpers both sides use; plain functions to the C++ compiler.
#ifdef __CUDACC__
#define CROSSROADS_HOST_DEVICE __host__ __device__
#else
#define CROSSROADS_HOST_DEVICE
#endif

namespace crossroads::inference::gpu {

using bf16 = __nv_bfloat16;

// ---------------------------------------------------------------------------------------------
// Tables the kernels read instead of host arguments, so that one captured graph serves every
// decode step: where each token sits, and where each sequence keeps its KV cache.

struct TokenTable {
    const int* position; // [tokens] position of the token in its sequence
    const int* slot;     // [tokens] index into the KvTable
};

// The KV cache of slot s is one BF16 block [layers][2 (K, V)][capacity[s]][kvDim].
struct KvTable {
    bf16* const* kv;
    const int* capacity;
};

struct AttentionShape {
    int heads = 0;
    int kvHeads = 0;
    int headDim = 0;
    CROSSROADS_HOST_DEVICE int qDim() const { return heads * headDim; }
    CROSSROADS_HOST_DEVICE int kvDim() const { return kvHeads * headDim; }
};

// ---------------------------------------------------------------------------------------------
// LayerKernels.cu: the per-token work around the matrix products.

// out[r] = F32(table[tokens[r]]).
void embedRows(const bf16* table, int cols, const int* tokens, int rows, float* out,
               cudaStream_t stream);

// out[r] = BF16(x[r] / rms(x[r]) * weight), F32 statistics.
void rmsNormRows(const float* x, const float* weight, int cols, float eps, int rows, bf16* out,
                 cudaStream_t stream);

struct QkvParams {
    AttentionShape shape;
    const float* bias = nullptr;  // [qDim + 2 kvDim] (Qwen2-MoE), null otherwise
    const float* qNorm = nullptr; // null: no q/k norm
    const float* kNorm = nullptr;
    bool perHeadNorm = false; // Qwen3: over head_dim; OLMoE: over the whole projection
    float eps = 1e-6f;
    float clip = 0.0f;                        // OLMoE clip_qkv, 0 = none
    const double* inverseFrequency = nullptr; // [headDim / 2] RoPE theta^(-2i/d)
};

// qkv [rows x (qDim + 2 kvDim)] F32 from the fused projection: adds the bias, normalises q and k,
// clips, rotates (RoPE at each token's position), writes q as BF16 [rows x qDim] and k, v into
// the token's KV cache at its position. Same order of steps as the CPU reference.
void qkvPostprocess(float* qkv, int rows, const QkvParams& params, TokenTable tokens, KvTable kv,
                    int layer, bf16* q, cudaStream_t stream);

// gateUp [rows x 2 inter] (gate half first) -> act [rows x inter] = BF16(silu(gate) * up).
void siluMulRows(const bf16* gateUp, int rows, int inter, bf16* act, cudaStream_t stream);

// x[r] += bias for every row.
void addBiasRows(float* x, const float* bias, int rows, int cols, cudaStream_t stream);

// The MoE layer's output added to the residual stream, in a fixed order per token (so results
// do not depend on how tokens were grouped): hidden[t] += sum_slot weight * expertOut[pairRow]
// (+ sharedGate[t] * sharedOut[t]). When nextNorm is given, also normed[t] = rmsnorm(hidden[t])
// for the next layer (one launch less per layer).
struct CombineParams {
    int k = 0;
    const int* pairRow = nullptr;      // [rows * k] row of each (token, slot) in expertOut
    const float* weight = nullptr;     // [rows * k] routing weights
    const bf16* expertOut = nullptr;   // [rows * k x cols]
    const float* sharedGate = nullptr; // [rows], null without a shared expert
    const float* sharedOut = nullptr;  // [rows x cols] F32
};
void combineExperts(float* hidden, int rows, int cols, const CombineParams& params,
                    const float* nextNorm, float eps, bf16* normed, cudaStream_t stream);

// ---------------------------------------------------------------------------------------------
// Moe.cu: routing and grouping of (token, slot) pairs by expert, on the device.

// What groupByExpert leaves on the device. A pair is token * k + slot.
struct ExpertGroups {
    int* counts = nullptr;      // [experts] pairs per expert
    int* offsets = nullptr;     // [experts + 1] exclusive prefix sum of counts
    int* active = nullptr;      // [experts] experts with pairs, increasing id
    int* activeCount = nullptr; // [1]
    int* sortedPair = nullptr;  // [pairs] pairs ordered by expert
    int* pairRow = nullptr;     // [pairs] inverse: row of the pair in sorted order
};

// The largest expert count the grouping kernels take (one block scans the counts).
constexpr int kMaxExperts = 1024;

// Softmax over the first `experts` logits of each row, top-k (ties to the lower index),
// renormalised when `normalize`. When sharedGate is given, logits column `experts` is the shared
// expert's gate: sharedGate[r] = sigmoid(logit).
void routerTopK(const float* logits, int ld, int rows, int experts, int k, bool normalize,
                float* sharedGate, int* ids, float* weights, cudaStream_t stream);

// Counts pairs per expert, prefix-sums them, lists the active experts and scatters the pairs into
// expert order, in one single-block launch. activeCountRecord (optional) receives a copy of the
// active count, for statistics read back after the step.
void groupByExpert(const int* ids, int pairs, int experts, const ExpertGroups& groups,
                   int* activeCountRecord, cudaStream_t stream);

// Decode: routerTopK and groupByExpert fused in one single-block launch (few tokens).
void routeAndGroup(const float* logits, int ld, int rows, int experts, int k, bool normalize,
                   float* sharedGate, int* ids, float* weights, const ExpertGroups& groups,
                   int* activeCountRecord, cudaStream_t stream);

// out[row] = x[sortedPair[row] / k]: each expert's input rows made contiguous for its GEMM.
void gatherRows(const bf16* x, int cols, const int* sortedPair, int k, int rows, bf16* out,
                cudaStream_t stream);

// Pointer arrays for cuBLAS's grouped GEMM, one entry per active expert g (in `active` order):
// a[g] = weights + e * expertStride, b[g] = x + offsets[e] * ldx, c[g] = y + offsets[e] * ldy.
void groupedGemmPointers(const ExpertGroups& groups, int experts, const bf16* weights,
                         int64_t expertStride, const bf16* x, int ldx, bf16* y, int ldy,
                         const void** a, const void** b, void** c, cudaStream_t stream);

// The routed experts' GEMMs through cuBLAS (GroupedGemm.cpp): y[rows of e] = x[rows of e] W_e^T
// for every expert with rows, x and y in expert order (ldx = cols, ldy = outRows), BF16 in and
// out, F32 accumulation. cuBLAS takes the row counts on the host (hostCounts, [experts]), so the
// caller has copied them back: the one sync of a prefill MoE layer. Grouped mode makes one
// cublasGemmGroupedBatchedEx call (every active expert its own group, pointers built on the device
// by groupedGemmPointers into a/b/c) and returns its status untouched, so the caller can fall
// back to Loop mode (one cublasGemmEx per active expert) when cuBLAS refuses it.
enum class ExpertGemmMode { Grouped, Loop };
struct ExpertGemmHostArrays { // kept alive by the caller until the GEMMs have been issued again
    std::vector<int> m, n, k, lda, ldb, ldc, groupSize;
    std::vector<cublasOperation_t> transA, transB;
    std::vector<float> alpha, beta;
};
cublasStatus_t expertGemm(cublasHandle_t cublas, ExpertGemmMode mode, const int* hostCounts,
                          int experts, const ExpertGroups& groups, const bf16* weights,
                          int64_t expertStride, int outRows, int cols, const bf16* x, bf16* y,
                          const void** a, const void** b, void** c, ExpertGemmHostArrays& arrays,
                          cudaStream_t stream);

// Plain reference of the grouped expert GEMM: y[row] = W_e x[row] for the rows of each expert e
// (offsets on the device), one thread per output, F32.
void groupedGemmReference(const bf16* weights, int64_t expertStride, int outRows, int cols,
                          const bf16* x, const int* offsets, int experts, int rows, float* y,
                          cudaStream_t stream);

// ---------------------------------------------------------------------------------------------
// Gemv.cu: decode's matrix-vector products. One warp per weight row, 16-byte BF16 loads, F32
// accumulation, warp-shuffle reductions; each weight row is read once for up to
// kGemvMaxTokens tokens.

constexpr int kGemvMaxTokens = 8;

// y[t * ldy + r] (=, or += when accumulate) sum_c w[r][c] x[t][c]. cols % 8 == 0.
void gemv(const bf16* w, int rows, int cols, const bf16* x, int tokens, float* y, int ldy,
          bool accumulate, cudaStream_t stream);

// A dense SwiGLU's first half: w [2 inter x cols] (gate rows, then up rows) ->
// act[t][i] = BF16(silu(gate_i . x_t) * (up_i . x_t)).
void gemvGateUp(const bf16* w, int inter, int cols, const bf16* x, int tokens, bf16* act,
                cudaStream_t stream);

// The routed experts' SwiGLU, reading only the active experts' weights (the grid covers
// maxActive experts; blocks past the device-side active count return at once).
// gate_up: w [experts][2 inter][cols], x [tokens x cols] -> act[sorted row] [pairs x inter].
void expertGemvGateUp(const bf16* w, int inter, int cols, const bf16* x, int k,
                      const ExpertGroups& groups, int maxActive, int maxTokensPerExpert, bf16* act,
                      cudaStream_t stream);
// down: w [experts][rows][cols], act [pairs x cols] -> out[sorted row] [pairs x rows] BF16.
void expertGemvDown(const bf16* w, int rows, int cols, const bf16* act, const ExpertGroups& groups,
                    int maxActive, int maxTokensPerExpert, bf16* out, cudaStream_t stream);

// Plain reference: one thread per output, sequential F32 sum.
void gemvReference(const bf16* w, int rows, int cols, const bf16* x, int tokens, float* y,
                   cudaStream_t stream);

// ---------------------------------------------------------------------------------------------
// Attention.cu

// Decode attention (flash-decoding): token t attends to positions [0, position[t]] of its
// sequence's cache. The context is cut into `splits` chunks of kAttentionChunk positions, one
// block each, merged by a second kernel; splits comes from a context-length bucket so a captured
// graph serves every step whose context fits the bucket (blocks past the end return at once).
constexpr int kAttentionChunk = 256;
constexpr int kMaxHeadDim = 256;
int attentionSplits(int maxContext);
std::size_t attentionPartialFloats(int tokens, const AttentionShape& shape, int splits);
void decodeAttention(const bf16* q, int tokens, TokenTable tokenTable, KvTable kv, int layer,
                     const AttentionShape& shape, int splits, float* partial, bf16* out,
                     cudaStream_t stream);

// Prefill attention of `rows` new tokens at positions [start, start + rows) of one sequence,
// through cuBLAS: per chunk of queries S = K Q^T (F32), causal softmax -> P (BF16), O = P V.
// keys/values: the layer's K and V blocks of the sequence ([capacity x kvDim] each).
struct PrefillAttentionScratch {
    float* scores = nullptr;
    bf16* probs = nullptr;
    std::size_t elements = 0; // of each
};
std::size_t prefillAttentionChunkRows(int rows, int context, const AttentionShape& shape,
                                      std::size_t scratchElements);
void prefillAttention(cublasHandle_t cublas, const bf16* q, int rows, int start, const bf16* keys,
                      const bf16* values, const AttentionShape& shape,
                      const PrefillAttentionScratch& scratch, bf16* out, cudaStream_t stream);

// Plain reference: one thread per (token, head), two passes over the context, F32 out
// [tokens x qDim].
void attentionReference(const bf16* q, int tokens, TokenTable tokenTable, KvTable kv, int layer,
                        const AttentionShape& shape, float* out, cudaStream_t stream);

// ---------------------------------------------------------------------------------------------
// Bandwidth.cu: the device read-bandwidth kernel (not a copy: every thread reads 16-byte vectors
// of a large buffer, grid-stride, and reduces them so the loads stay alive).

struct ReadBandwidth {
    double bestGbPerS = 0;
    double meanGbPerS = 0;
    uint32_t checksum = 0; // XOR of every 32-bit word; equals readChecksumReference
};
ReadBandwidth measureDeviceReadBandwidth(std::size_t bytes, int repetitions, cudaStream_t stream);
// The XOR the read kernel must find over the pattern it fills `words` 32-bit words with.
uint32_t readChecksumReference(std::size_t words);

// ---------------------------------------------------------------------------------------------
// MatmulRate.cu: the dense BF16 matmul rate through cuBLAS (CudaBackend::measureMatmulTflops and
// the crossroads-cublas-rate tool): cublasGemmEx of N x N x N, BF16 in and out, F32 accumulation,
// random operands; a warm-up, then the best of `repetitions` timed products (CUDA events), in
// TFLOP/s. When three N x N BF16 operands do not fit in the free device memory, N halves until
// they do (n says which N was measured); below N = 256 it throws EngineError.

struct MatmulRate {
    int requestedN = 0;
    int n = 0; // the N measured: requestedN, or smaller when the device lacked the memory
    int repetitions = 0;
    double bestTflops = 0;
    double meanTflops = 0;
};
MatmulRate measureMatmulRate(cublasHandle_t cublas, int n, int repetitions, cudaStream_t stream);

} // namespace crossroads::inference::gpu
