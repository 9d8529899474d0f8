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
    for (; r + 4 <= rowEnd; r += 4)
        microAvx512<Type, 4, T>(w, r, x, xStride, y, yStride);
    for (; r < rowEnd; ++r)
        microAvx512<Type, 1, T>(w, r, x, xStride, y, yStride);
}

// One token against rows r0, r0 + rowStride, ... (decode), in kDecodeStreams sequential
// streams as on AVX2. BF16: a 32-bit lane of 32 loaded weights holds an even-indexed one in its
// low half and the next odd one in its high half, so a shift and a mask give both as F32 (two
// FMAs per 64 bytes, against x split into its even and odd elements once per 32 columns for all
// R rows). F32: one FMA per 64 bytes. Row tails by masked loads.
template <WeightType Type, int R>
CROSSROADS_AVX512 void decodeAvx512(const Matrix& w, int64_t r0, int64_t rowStride, const float* x,
                                    float* y) {
    __m512 acc[R];
    const std::byte* rows[R];
    for (int i = 0; i < R; ++i) {
        acc[i] = _mm512_setzero_ps();
        rows[i] = w.row(r0 + i * rowStride);
    }
    const int64_t cols = w.cols;
    if constexpr (Type == WeightType::BF16) {
        const __m512i highHalves = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
        const __m512i evenIndex =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i oddIndex =
            _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        const int64_t vectorCols = cols & ~int64_t{31};
        for (int64_t c = 0; c < vectorCols; c += 32) {
            const __m512 low = _mm512_loadu_ps(x + c);
            const __m512 high = _mm512_loadu_ps(x + c + 16);
            const __m512 even = _mm512_permutex2var_ps(low, evenIndex, high);
            const __m512 odd = _mm512_permutex2var_ps(low, oddIndex, high);
            for (int i = 0; i < R; ++i) {
                const std::byte* line = rows[i] + 2 * c;
                prefetchAhead(line);
                const __m512i pairs = _mm512_loadu_si512(line);
                acc[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(pairs, 16)), even,
                                         acc[i]);
                acc[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(pairs, highHalves)),
                                         odd, acc[i]);
            }
        }
        for (int i = 0; i < R; ++i) {
            float sum = reduce512(acc[i]);
            for (int64_t c = vectorCols; c < cols; ++c)
                sum += weightAt(w, rows[i], c) * x[c];
            y[r0 + i * rowStride] = sum;
        }
    } else {
        const int64_t vectorCols = cols & ~int64_t{15};
        for (int64_t c = 0; c < vectorCols; c += 16) {
            const __m512 xs = _mm512_loadu_ps(x + c);
            for (int i = 0; i < R; ++i) {
                const auto* line = reinterpret_cast<const float*>(rows[i]) + c;
                prefetchAhead(line);
                acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(line), xs, acc[i]);
            }
        }
        if (vectorCols < cols) {
            const auto mask = static_cast<__mmask16>((1u << (cols - vectorCols)) - 1);
            const __m512 xs = _mm512_maskz_loadu_ps(mask, x + vectorCols);
            for (int i = 0; i < R; ++i)
                acc[i] =
                    _mm512_fmadd_ps(_mm512_maskz_loadu_ps(
                                        mask, reinterpret_cast<const float*>(rows[i]) + vectorCols),
                                    xs, acc[i]);
        }
        for (int i = 0; i < R; ++i)
            y[r0 + i * rowStride] = reduce512(acc[i]);
    }
}

template <WeightType Type>
CROSSROADS_AVX512 void matvecAvx512(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                    const float* x, float* y) {
    const int64_t run = (rowEnd - rowBegin) / kDecodeStreams;
    for (int64_t k = 0; k < run; ++k)
        decodeAvx512<Type, kDecodeStreams>(w, rowBegin + k, run, x, y);
    for (int64_t r = rowBegin + kDecodeStreams * run; r < rowEnd; ++r)
        decodeAvx512<Type, 1>(w, r, 1, x, y);
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
    if (tokens == 1) {
        if (w.type == WeightType::F32)
            matvecAvx512<WeightType::F32>(w, rowBegin, rowEnd, x, y);
        else
            matvecAvx512<WeightType::BF16>(w, rowBegin, rowEnd, x, y);
        return;
    }
    if (w.type == WeightType::F32)
        matmulAvx512Typed<WeightType::F32>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    else
        matmulAvx512Typed<WeightType::BF16>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
}

} // namespace crossroads::inference::kernels
