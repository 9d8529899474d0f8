#include "inference/cpu/KernelsIsa.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace crossroads::inference::kernels {

namespace {

// ---------------------------------------------------------------------------------------------
// AVX-512-BF16: vdpbf16ps multiplies BF16 pairs into F32 accumulators, doubling the multiply
// rate and reading BF16 weights without widening them. x is rounded to BF16 once per call, for
// every number of tokens: were decode kept in F32 (it is memory-bound either way), prefill and
// decode of one sequence would compute different functions, and a routing decision near a tie
// could differ between them (matmulActivationRounding).

template <int R, int T>
CROSSROADS_AVX512BF16 void microBf16(const Matrix& w, int64_t r0, const uint16_t* x,
                                     int64_t xStride, float* y, int64_t yStride) {
    __m512 acc[R][T];
    for (int i = 0; i < R; ++i)
        for (int t = 0; t < T; ++t)
            acc[i][t] = _mm512_setzero_ps();
    const uint16_t* rows[R];
    for (int i = 0; i < R; ++i)
        rows[i] = reinterpret_cast<const uint16_t*>(w.row(r0 + i));
    const int64_t cols = w.cols;
    const int64_t vectorCols = cols & ~int64_t{31};
    for (int64_t c = 0; c < vectorCols; c += 32) {
        __m512bh xs[T];
        for (int t = 0; t < T; ++t)
            xs[t] = (__m512bh)_mm512_loadu_si512(x + t * xStride + c);
        for (int i = 0; i < R; ++i) {
            const __m512bh wv = (__m512bh)_mm512_loadu_si512(rows[i] + c);
            for (int t = 0; t < T; ++t)
                acc[i][t] = _mm512_dpbf16_ps(acc[i][t], wv, xs[t]);
        }
    }
    for (int i = 0; i < R; ++i)
        for (int t = 0; t < T; ++t) {
            float sum = reduce512(acc[i][t]);
            for (int64_t c = vectorCols; c < cols; ++c)
                sum += bf16ToFloat(rows[i][c]) * bf16ToFloat(x[t * xStride + c]);
            y[t * yStride + r0 + i] = sum;
        }
}

template <int T>
CROSSROADS_AVX512BF16 void rowsBf16(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                    const uint16_t* x, int64_t xStride, float* y, int64_t yStride) {
    int64_t r = rowBegin;
    for (; r + 4 <= rowEnd; r += 4)
        microBf16<4, T>(w, r, x, xStride, y, yStride);
    for (; r < rowEnd; ++r)
        microBf16<1, T>(w, r, x, xStride, y, yStride);
}

// One token against BF16 rows r0, r0 + rowStride, ... (decode): one load and one dot-product
// instruction per 32 weights and row, the row tail by a masked load (zeros add nothing), in
// kDecodeStreams sequential streams as on AVX2.
template <int R>
CROSSROADS_AVX512BF16 void decodeBf16(const Matrix& w, int64_t r0, int64_t rowStride,
                                      const uint16_t* x, float* y) {
    const int64_t prefetch = decodePrefetchBytes();
    __m512 acc[R];
    const uint16_t* rows[R];
    for (int i = 0; i < R; ++i) {
        acc[i] = _mm512_setzero_ps();
        rows[i] = reinterpret_cast<const uint16_t*>(w.row(r0 + i * rowStride));
    }
    const int64_t cols = w.cols;
    const int64_t vectorCols = cols & ~int64_t{31};
    for (int64_t c = 0; c < vectorCols; c += 32) {
        const auto xs = (__m512bh)_mm512_loadu_si512(x + c);
        for (int i = 0; i < R; ++i) {
            prefetchAhead(rows[i] + c, prefetch);
            acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)_mm512_loadu_si512(rows[i] + c), xs);
        }
    }
    if (vectorCols < cols) {
        const auto mask = static_cast<__mmask32>((uint64_t{1} << (cols - vectorCols)) - 1);
        const auto xs = (__m512bh)_mm512_maskz_loadu_epi16(mask, x + vectorCols);
        for (int i = 0; i < R; ++i)
            acc[i] = _mm512_dpbf16_ps(
                acc[i], (__m512bh)_mm512_maskz_loadu_epi16(mask, rows[i] + vectorCols), xs);
    }
    for (int i = 0; i < R; ++i)
        y[r0 + i * rowStride] = reduce512(acc[i]);
}

} // namespace

CROSSROADS_AVX512BF16 void matmulAvx512Bf16(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                            const float* x, int64_t xStride, int64_t tokens,
                                            float* y, int64_t yStride) {
    if (tokens >= packedGemmMinTokens()) {
        // The F32 FMAs of the packed GEMM on the inputs rounded as the family rounds them: each
        // product of two BF16 values is exact in F32, so this computes the function the
        // dot-product instruction does, at the rate of two FMA ports.
        thread_local std::vector<float> widened;
        widened.resize(static_cast<std::size_t>(tokens * w.cols));
        for (int64_t t = 0; t < tokens; ++t)
            roundToBf16Values(x + t * xStride, w.cols, widened.data() + t * w.cols);
        return gemmPackedAvx512(w, rowBegin, rowEnd, widened.data(), w.cols, tokens, y, yStride);
    }
    thread_local std::vector<uint16_t> rounded;
    rounded.resize(static_cast<std::size_t>(tokens * w.cols));
    for (int64_t t = 0; t < tokens; ++t)
        roundToBf16Avx512(x + t * xStride, w.cols, rounded.data() + t * w.cols);
    if (tokens == 1) {
        const int64_t run = (rowEnd - rowBegin) / kDecodeStreams;
        for (int64_t k = 0; k < run; ++k)
            decodeBf16<kDecodeStreams>(w, rowBegin + k, run, rounded.data(), y);
        for (int64_t r = rowBegin + kDecodeStreams * run; r < rowEnd; ++r)
            decodeBf16<1>(w, r, 1, rounded.data(), y);
        return;
    }
    for (int64_t rb = rowBegin; rb < rowEnd; rb += kRowBlock) {
        const int64_t re = std::min(rowEnd, rb + kRowBlock);
        int64_t t = 0;
        for (; t + 4 <= tokens; t += 4)
            rowsBf16<4>(w, rb, re, rounded.data() + t * w.cols, w.cols, y + t * yStride, yStride);
        for (; t < tokens; ++t)
            rowsBf16<1>(w, rb, re, rounded.data() + t * w.cols, w.cols, y + t * yStride, yStride);
    }
}

} // namespace crossroads::inference::kernels
