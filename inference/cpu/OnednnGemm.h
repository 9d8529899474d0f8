// Prefill products through oneDNN, where the build found it (CROSSROADS_HAVE_ONEDNN) and the CPU
// runs its BF16 matmul (AVX-512-BF16, or AMX): the library dispatches to the best kernel the
// machine has (brgemm on AVX-512-BF16, AMX tiles where present), which a hand-written kernel
// must beat to be kept.
//
// A weight matrix is prepared once, at load, in the blocked layout oneDNN's kernel wants, in
// slices of output rows: the pool's threads split one product by slices, and each
// slice is multiplied single-threaded inside a pool task (oneDNN's own OpenMP threads would
// compete with the pool for the same cores). Activations go in as BF16, as on every BF16 path
// (matmulActivationRounding). Decode keeps the engine's own kernels: they stream the row-major
// weights at the memory's rate, and the prepared copy is for prefill only.
#pragma once

#include "inference/model/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace crossroads::inference {

// Whether this build has oneDNN and this CPU runs its BF16 matmul; the reason in `why` if not.
bool onednnAvailable(std::string* why = nullptr);
// The kernel oneDNN picks for a BF16 prefill product here ("brg:avx512_core_bf16",
// "brg:avx512_core_amx_bf16"); empty when unavailable.
std::string onednnKernelName();
// Whether the CPU has AMX (BF16 tiles) and the kernel oneDNN picks uses it.
bool onednnUsesAmx();
// Keeps oneDNN off AMX for the rest of the process (AVX-512-BF16 at most): tests and benchmarks
// compare the two. Must come before the first oneDNN product; false when too late or unavailable.
bool limitOnednnToAvx512Bf16();

// The OpenMP threads oneDNN runs a product on when called from this thread (benchmarks run the
// library threaded beside the backend, whose products set one thread for themselves).
void setOnednnThreads(int threads);

// The machine's BF16 matrix rate: oneDNN's BF16 GEMM of n x n x n (its weights prepared, on
// `threads` OpenMP threads, AMX where the kernel uses it), TFLOP/s, best of the repetitions.
// Throws EngineError when oneDNN is unavailable.
double onednnBf16GemmTflops(int threads, int64_t n = 2048, int repetitions = 3);

// Whether this build has oneDNN: its F32 GEMM (onednnSgemm) runs on every x86 CPU it supports,
// AVX2 included, unlike its BF16 matmul (onednnAvailable).
bool onednnSgemmAvailable();
// C [m x n] = A [m x k] op(B), F32, row-major with the leading dimensions given: op(B) = B [k x n]
// or, transposed, B^T of B [n x k]. oneDNN's sgemm, single-threaded on the calling thread (see
// the header's first lines). Prefill attention's two products run on it straight from the KV
// cache's rows (CpuBackend.cpp). Throws EngineError when the build lacks oneDNN.
void onednnSgemm(bool transposeB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float* c, int64_t ldc);

class OnednnWeights {
public:
    // A BF16 matrix in slices of sliceRows rows (the last one shorter); throws EngineError for
    // another type or when oneDNN is unavailable.
    OnednnWeights(const Matrix& w, int64_t sliceRows);
    // BF16 matrices of one width stacked, the rows of each in turn, as one product: an expert's
    // gate and up, or a layer's q, k and v, in one call of their summed width (fewer, wider
    // calls of oneDNN's kernel; see CpuBackend).
    OnednnWeights(const std::vector<const Matrix*>& stacked, int64_t sliceRows);
    ~OnednnWeights();
    OnednnWeights(OnednnWeights&&) noexcept;
    OnednnWeights& operator=(OnednnWeights&&) noexcept;

    int64_t rows() const { return rows_; }
    int64_t cols() const { return cols_; }
    int64_t slices() const { return (rows_ + sliceRows_ - 1) / sliceRows_; }
    int64_t sliceBegin(int64_t slice) const { return slice * sliceRows_; }
    int64_t sliceEnd(int64_t slice) const;
    std::size_t bytes() const; // of the prepared copy

    // y[t * yStride + r] = sum_c W[r][c] x[t * cols + c] for the rows r of `slice` and tokens
    // t < tokens; x is BF16, [tokens x cols].
    void multiplySlice(int64_t slice, const uint16_t* x, int64_t tokens, float* y,
                       int64_t yStride) const;
    // The same product, its output [tokens x slice rows] (contiguous, the calling thread's) handed
    // to `consume` instead of copied out: a fused gate and up becomes SwiGLU in one pass.
    void multiplySlice(int64_t slice, const uint16_t* x, int64_t tokens,
                       const std::function<void(const float* out)>& consume) const;

private:
    struct Slice;
    void prepare(const std::byte* rowMajor); // rows_ x cols_ BF16
    int64_t rows_ = 0, cols_ = 0, sliceRows_ = 0;
    std::unique_ptr<Slice[]> slices_;
};

} // namespace crossroads::inference
