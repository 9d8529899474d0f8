#include "inference/cpu/KernelsIsa.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace crossroads::inference::kernels {

namespace {

// ---------------------------------------------------------------------------------------------
// AVX-512: 16 lanes, 32 registers, so 4 rows x 4 tokens.

template <WeightType Type>
CROSSROADS_AVX512 inline __m512 loadWeights16(const std::byte* row, int64_t c) {
    if constexpr (Type == WeightType::F32)
        return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + c);
    const __m256i half = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(reinterpret_cast<const uint16_t*>(row) + c));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
}

template <WeightType Type, int R, int T>
CROSSROADS_AVX512 void microAvx512(const Matrix& w, int64_t r0, const float* x, int64_t xStride,
                                   float* y, int64_t yStride) {
    __m512 acc[R][T];
    for (int i = 0; i < R; ++i)
        for (int t = 0; t < T; ++t)
            acc[i][t] = _mm512_setzero_ps();
    const std::byte* rows[R];
    for (int i = 0; i < R; ++i)
        rows[i] = w.row(r0 + i);
    const int64_t cols = w.cols;
    const int64_t vectorCols = cols & ~int64_t{15};
    for (int64_t c = 0; c < vectorCols; c += 16) {
        __m512 xs[T];
        for (int t = 0; t < T; ++t)
            xs[t] = _mm512_loadu_ps(x + t * xStride + c);
        for (int i = 0; i < R; ++i) {
            const __m512 wv = loadWeights16<Type>(rows[i], c);
            for (int t = 0; t < T; ++t)
                acc[i][t] = _mm512_fmadd_ps(wv, xs[t], acc[i][t]);
        }
    }
    for (int i = 0; i < R; ++i)
        for (int t = 0; t < T; ++t) {
            float sum = reduce512(acc[i][t]);
            for (int64_t c = vectorCols; c < cols; ++c)
                sum += weightAt(w, rows[i], c) * x[t * xStride + c];
            y[t * yStride + r0 + i] = sum;
        }
}

template <WeightType Type, int T>
CROSSROADS_AVX512 void rowsAvx512(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                                  int64_t xStride, float* y, int64_t yStride) {
    int64_t r = rowBegin;
    if constexpr (T == 1)
        for (; r + 8 <= rowEnd; r += 8)
            microAvx512<Type, 8, 1>(w, r, x, xStride, y, yStride);
    for (; r + 4 <= rowEnd; r += 4)
        microAvx512<Type, 4, T>(w, r, x, xStride, y, yStride);
    for (; r < rowEnd; ++r)
        microAvx512<Type, 1, T>(w, r, x, xStride, y, yStride);
}

template <WeightType Type>
CROSSROADS_AVX512 void matmulAvx512Typed(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                         const float* x, int64_t xStride, int64_t tokens, float* y,
                                         int64_t yStride) {
    for (int64_t rb = rowBegin; rb < rowEnd; rb += kRowBlock) {
        const int64_t re = std::min(rowEnd, rb + kRowBlock);
        int64_t t = 0;
        for (; t + 4 <= tokens; t += 4)
            rowsAvx512<Type, 4>(w, rb, re, x + t * xStride, xStride, y + t * yStride, yStride);
        for (; t < tokens; ++t)
            rowsAvx512<Type, 1>(w, rb, re, x + t * xStride, xStride, y + t * yStride, yStride);
    }
}

} // namespace

void matmulAvx512(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                  int64_t xStride, int64_t tokens, float* y, int64_t yStride) {
    if (w.type == WeightType::F32)
        matmulAvx512Typed<WeightType::F32>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    else
        matmulAvx512Typed<WeightType::BF16>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
}

} // namespace crossroads::inference::kernels
