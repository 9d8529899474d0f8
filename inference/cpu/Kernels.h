// The CPU kernels behind the optimised forward pass, each with its plain reference beside it
// (inference_kernels_test holds them together on every instruction set this CPU has).
// Instruction sets are chosen at run time (__builtin_cpu_supports), so one binary runs
// everywhere and uses AVX-512 / AVX-512-BF16 where present.
#pragma once

#include "inference/model/Tensor.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace crossroads::inference {

enum class Isa { Scalar, Avx2, Avx512, Avx512Bf16 };

std::string_view isaName(Isa isa);
Isa bestSupportedIsa();
bool isaSupported(Isa isa);
// The ISA the kernels use now (default: the best supported). Tests lower it to cover each path.
Isa activeIsa();
void setActiveIsa(Isa isa); // throws EngineError when this CPU lacks it

// y[t * yStride + r] = sum_c W[r][c] * x[t * xStride + c] for rows [rowBegin, rowEnd) and
// tokens [0, tokens). F32 accumulation; x is rounded to BF16 first where
// matmulActivationRounding says so (Avx512Bf16 with BF16 or FP8 weights, for any number of
// tokens).
void matmulRows(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x, int64_t xStride,
                int64_t tokens, float* y, int64_t yStride);
// matmulRows with x never rounded, whatever the ISA and weights (F32 activations, as on the
// families that do not round): for products the reference takes unrounded, such as MLA's absorbed
// W_UV applied to the attention's latent output in decode.
void matmulRowsF32Input(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                        int64_t xStride, int64_t tokens, float* y, int64_t yStride);
// matmulRows on x already rounded to BF16 (roundToBf16), for weights whose inputs the active ISA
// rounds (matmulActivationRounding(w.type) is Bf16; EngineError otherwise): the same function,
// with the rounding done once per product by the caller instead of once per row range by every
// task (a 256-token prefill's 256 x 7,168 inputs were rounded again for each of a product's
// tasks: 5% of a DeepSeek-V3 prefill's samples).
void matmulRowsBf16Input(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const uint16_t* x,
                         int64_t xStride, int64_t tokens, float* y, int64_t yStride);
// The plain reference: straightforward loops, double accumulation.
void matmulRowsReference(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                         int64_t xStride, int64_t tokens, float* y, int64_t yStride);
// y[t * yStride + c] = sum_{r in [rowBegin, rowEnd)} W[r][c] x[t * xStride + r - rowBegin] for
// every column c and tokens [0, tokens): the product with W's transpose, for few tokens (MLA's
// absorbed decode, q_lat = W_UK^T q_nope), reading each row of W once. F32 accumulation; x is
// never rounded (the reference does not round q_nope), on every ISA.
void matmulRowsTransposed(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                          int64_t xStride, int64_t tokens, float* y, int64_t yStride);
void matmulRowsTransposedReference(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                   const float* x, int64_t xStride, int64_t tokens, float* y,
                                   int64_t yStride);
// From how many tokens a product takes the AVX-512 families' packed GEMM instead of their
// dot-product kernels. A tuning knob for benchmarks, which compare the two in one run.
int64_t packedGemmMinTokens();
void setPackedGemmMinTokens(int64_t tokens);
// How far ahead (bytes) the decode kernels prefetch each stream of weights; 0: no software
// prefetch. The default is the CPU's (defaultDecodePrefetchBytes): 1,024 on Intel, where it lifts
// decode to the read bandwidth, 0 on AMD and others, where it costs (KernelsIsa.h). A knob for
// benchmarks, which compare settings in one run; negative values count as 0.
int64_t decodePrefetchBytes();
void setDecodePrefetchBytes(int64_t bytes);
int64_t defaultDecodePrefetchBytes();
// The same for the FP8 decode kernels (DeepSeek-V3's weights), which spend more instructions per
// byte widening the weights and so keep fewer loads in flight on their own: 256 on AMD, on Intel
// the BF16 kernels' 1,024 (not measured for FP8). On the 2-core Zen 4
// (bench_engine_decode_bandwidth --fp8, the AVX-512 kernel at DeepSeek-V3's four shapes) 256
// against none gained 5-13 points of the read bandwidth in one run, -7 to +7 in another (the AVX2
// kernel: -14 to +12); the whole deepseek-v3?layers=2 decode moved within the noise (84.8% and
// 80.2% against 82.1% and 81.2%). A shared machine's read rate swinging between 31 and 48 GB/s
// makes these figures loose; a quiet machine should settle the default.
int64_t fp8DecodePrefetchBytes();
void setFp8DecodePrefetchBytes(int64_t bytes);
int64_t defaultFp8DecodePrefetchBytes();

// Prefill's BF16 weights prepared once for the dot-product instruction of AVX-512-BF16
// (vdpbf16ps): "pair panels", strips of kPairPanelRows rows, each strip the column pairs of its
// rows in turn (pair p of row r: W[r][2p] and W[r][2p + 1] side by side, one 32-bit lane), rows
// past the last and an odd last column zero. Matrices of one width stack, the rows of each in
// turn (an expert's gate and up in one product).
inline constexpr int64_t kPairPanelRows = 64;
// uint16 elements of the panels of `rows` x `cols`.
std::size_t pairPanelElements(int64_t rows, int64_t cols);
// Packs BF16 matrices of one width, stacked (throws EngineError for another type or width).
void packPairPanels(const std::vector<const Matrix*>& stacked, uint16_t* panels);
// y[t * yStride + r] = sum_c W[r][c] x[t * xStride + c] for the rows of strips
// [stripBegin, stripEnd) and tokens [0, tokens): x is BF16 (rounded by the caller), xStride even
// and, where cols is odd, x[t * xStride + cols] readable and finite. Each product of two BF16
// values is exact in F32, the sums F32 (in another order than matmulRows'). Needs AVX-512-BF16
// (throws EngineError without it).
void gemmPairPanels(const uint16_t* panels, int64_t rows, int64_t cols, int64_t stripBegin,
                    int64_t stripEnd, const uint16_t* x, int64_t xStride, int64_t tokens, float* y,
                    int64_t yStride);

// The kernel the AVX-512 families decode FP8 (one token) with:
// - Widen256: the AVX2 kernel, which builds F32s from the bytes by integer shifts and masks
//   (KernelsAvx2.cpp) and multiplies them with F32 FMAs;
// - Widen512: the same build at 512 bits (KernelsAvx512.cpp);
// - Bf16Dot: under avx512-bf16 on a CPU with AVX-512-VBMI, the same shifts build BF16s instead,
//   multiplied in pairs by vdpbf16ps with the input rounded to BF16 (five integer operations
//   and two dot products per 64 weights, against nine and four FMAs); a line holding an
//   exponent-0 byte, which the instruction would flush, goes through byte tables (vpermt2b)
//   exactly (KernelsAvx512Bf16.cpp). Elsewhere it runs as Widen512.
// On avx512-bf16 every FP8 product takes its input rounded to BF16, whichever kernel and
// however many tokens (matmulActivationRounding), as a BF16 model's do; so the choice changes
// the order of the F32 sums, not the function. Bf16Dot is the default where it runs
// (defaultFp8DecodeKernel): on the 2-core Zen 4, L2-resident 64 x 7168 it read 30 GB/s per core
// against Widen512's 24, at 2048 columns the same (20-23), and on DeepSeek-V3's shapes from
// memory (bench_engine_decode_bandwidth --fp8) the two were within the run's noise. A knob for
// tests and benchmarks, which run each kernel.
enum class Fp8DecodeKernel { Widen256, Widen512, Bf16Dot };
std::string_view fp8DecodeKernelName(Fp8DecodeKernel kernel);
// Whether `kernel` runs as itself under `isa` on this CPU (Bf16Dot: avx512-bf16 and VBMI;
// the widening kernels: the AVX-512 families).
bool fp8DecodeKernelRuns(Fp8DecodeKernel kernel, Isa isa);
Fp8DecodeKernel fp8DecodeKernel();
void setFp8DecodeKernel(Fp8DecodeKernel kernel);
Fp8DecodeKernel defaultFp8DecodeKernel();
// What decodes FP8 under the active ISA now: the chosen kernel's name where it runs as itself,
// "widen512" where the AVX-512 family runs Bf16Dot as that, "widen256" on AVX2, "scalar".
std::string_view fp8DecodeKernelInEffect();

// out[i] = floatToBf16(x[i]) for i < n (Tensor.h), vectorised where the CPU has AVX-512.
void roundToBf16(const float* x, int64_t n, uint16_t* out);

// What matmulRows does to x for weights of this type on the active ISA: the rule the whole CPU
// forward pass follows, so referenceForward(..., rounding) computes the same function.
ActivationRounding matmulActivationRounding(WeightType type);

// One part of the attention of `group` query heads that share a KV head (GQA), over cached
// positions [begin, end) whose key and value rows lie `stride` floats apart from keys/values:
// per head g (q + g * headDim), with s_j = scale * q_g . k_j,
//   maxScore[g] = max_j s_j, sumExp[g] = sum_j exp(s_j - maxScore[g]),
//   out[g * headDim + d] = sum_j exp(s_j - maxScore[g]) v_j[d]   (not yet divided by sumExp).
// Parts over disjoint ranges combine exactly (split-K, as flash-decoding does). Each key and
// value row is read once for all heads of the group. `scores` is scratch of group x (end - begin)
// floats. An empty range gives maxScore -inf, sumExp 0 and out 0.
void attendPart(const float* q, int64_t group, int64_t headDim, const float* keys,
                const float* values, int64_t stride, int64_t begin, int64_t end, float scale,
                float* scores, float* maxScore, float* sumExp, float* out);
// The plain reference: the same definition in double, one head and one position at a time.
void attendPartReference(const float* q, int64_t group, int64_t headDim, const float* keys,
                         const float* values, int64_t stride, int64_t begin, int64_t end,
                         float scale, float* maxScore, float* sumExp, float* out);

// SwiGLU's elementwise step: out[i] = silu(gate[i]) up[i], silu(g) = g / (1 + e^-g); out may be
// gate. The BF16 form rounds each result (floatToBf16), the input of a down projection that
// computes in BF16. Vectorised (AVX2's exp) on every vector ISA.
void swiglu(const float* gate, const float* up, int64_t n, float* out);
void swigluToBf16(const float* gate, const float* up, int64_t n, uint16_t* out);
// The plain reference, in double.
void swigluReference(const float* gate, const float* up, int64_t n, float* out);

// A softmax row's exponentials, in place: with m = max_{j<n} scale row[j],
// row[j] = e^(scale row[j] - m); returns their sum (the caller divides by it once, later, as
// prefill attention does after its product with the values). Vectorised (AVX2's exp) on every
// vector ISA; n >= 1.
float softmaxExpRow(float* row, int64_t n, float scale);
// The plain reference: std::exp in double, the sum too.
double softmaxExpRowReference(float* row, int64_t n, float scale);

// Attention helpers over F32 vectors.
float dotF32(const float* a, const float* b, int64_t n);
double dotF32Reference(const float* a, const float* b, int64_t n);
void axpyF32(float alpha, const float* x, float* y, int64_t n); // y += alpha x
void axpyF32Reference(float alpha, const float* x, float* y, int64_t n);

} // namespace crossroads::inference
