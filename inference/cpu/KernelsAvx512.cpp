#include "inference/cpu/KernelsIsa.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <utility>
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
    const int64_t prefetch = decodePrefetchBytes();
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
                prefetchAhead(line, prefetch);
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
                prefetchAhead(line, prefetch);
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

// 16 FP8 weights -> 16 F16 in the low half (the packing reads no further than its 16 columns).
CROSSROADS_AVX512 inline __m512i fp8ToHalves32Low(const uint8_t* bytes) {
    return _mm512_castsi256_si512(fp8ToHalves16(bytes));
}

// One token against FP8 rows r0, r0 + rowStride, ...: the AVX2 decode kernel's integer build
// of the F32s (its comment in KernelsAvx2.cpp: shifts and masks, no F16, x reordered and scaled
// by 2^s once per call) at 512 bits, 64 weights (one line) per row and step, vector k holding
// the weights 4j + k (j < 16) of each 64 columns; per block a partial sum per row, scaled once.
// Half the instructions per weight of the AVX2 kernel, the same operations; the widening
// through F16 it replaces (four vcvtph2ps per line) read 50-53% of the bandwidth on the 2-core
// Zen 4, this 57-64% (Kernels.h Fp8DecodeKernel).
struct Fp8Input512 {
    const float* x = nullptr;  // x, for the scalar tails
    const float* xs = nullptr; // per full 64 columns of a block: x[c + 4j + k] 2^s at c + 16k + j
    float rescale = 1.0f;      // 2^(120 - s)
};

CROSSROADS_AVX512 Fp8Input512 prepareFp8Input512(const Matrix& w, const float* x) {
    thread_local std::vector<float> buffer;
    const int64_t cols = w.cols;
    if (static_cast<int64_t>(buffer.size()) < cols)
        buffer.resize(static_cast<std::size_t>(cols));
    const int shift = fp8InputShift(x, cols);
    const float up = std::ldexp(1.0f, shift);
    float* xs = buffer.data();
    for (int64_t c0 = 0; c0 < cols; c0 += w.blockCols) {
        const int64_t c1 = std::min(cols, c0 + w.blockCols);
        const int64_t vectorEnd = c0 + ((c1 - c0) & ~int64_t{63});
        for (int64_t c = c0; c < vectorEnd; c += 64)
            for (int k = 0; k < 4; ++k)
                for (int j = 0; j < 16; ++j)
                    xs[c + 16 * k + j] = x[c + 4 * j + k] * up;
    }
    return {x, xs, std::ldexp(1.0f, 120 - shift)};
}

// The F32 in the high half of each 32-bit lane of v, rest cleared (fp8Magnitude at 512 bits).
CROSSROADS_AVX512 inline __m512 fp8Magnitude512(__m512i v, __m512i magnitude) {
    return _mm512_castsi512_ps(_mm512_and_si512(v, magnitude));
}

template <int R>
CROSSROADS_AVX512 void decodeFp8Avx512(const Matrix& w, int64_t r0, int64_t rowStride,
                                       const Fp8Input512& in, float* y) {
    const int64_t prefetch = fp8DecodePrefetchBytes();
    const __m512i magnitude = _mm512_set1_epi32(static_cast<int>(0x87f00000u));
    const __m512i lowHalfUp = _mm512_broadcast_i32x4(
        _mm_setr_epi8(-128, -128, 0, 1, -128, -128, 4, 5, -128, -128, 8, 9, -128, -128, 12, 13));
    __m512 acc[R];
    float tails[R];
    const uint8_t* rows[R];
    const float* scales[R];
    for (int i = 0; i < R; ++i) {
        acc[i] = _mm512_setzero_ps();
        tails[i] = 0.0f;
        rows[i] = reinterpret_cast<const uint8_t*>(w.row(r0 + i * rowStride));
        scales[i] = w.scaleRow(r0 + i * rowStride);
    }
    const float* xs = in.xs;
    const int64_t cols = w.cols;
    const int64_t blocks = w.scaleCols();
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * w.blockCols;
        const int64_t c1 = std::min(cols, c0 + w.blockCols);
        const int64_t vectorEnd = c0 + ((c1 - c0) & ~int64_t{63});
        __m512 part[R];
        for (int i = 0; i < R; ++i)
            part[i] = _mm512_setzero_ps();
        for (int64_t c = c0; c < vectorEnd; c += 64) {
            const __m512 x0 = _mm512_loadu_ps(xs + c), x1 = _mm512_loadu_ps(xs + c + 16);
            const __m512 x2 = _mm512_loadu_ps(xs + c + 32), x3 = _mm512_loadu_ps(xs + c + 48);
            for (int i = 0; i < R; ++i) {
                prefetchAhead(rows[i] + c, prefetch);
                const __m512i bytes = _mm512_loadu_si512(rows[i] + c);
                const __m512i odd = _mm512_srai_epi16(bytes, 4); // bytes 3 and 1
                const __m512i even = _mm512_srai_epi16(_mm512_slli_epi16(bytes, 8), 4); // 2, 0
                part[i] = _mm512_fmadd_ps(fp8Magnitude512(odd, magnitude), x3, part[i]);
                part[i] = _mm512_fmadd_ps(
                    fp8Magnitude512(_mm512_shuffle_epi8(odd, lowHalfUp), magnitude), x1, part[i]);
                part[i] = _mm512_fmadd_ps(fp8Magnitude512(even, magnitude), x2, part[i]);
                part[i] = _mm512_fmadd_ps(fp8Magnitude512(_mm512_slli_epi32(even, 16), magnitude),
                                          x0, part[i]);
            }
        }
        // Two loops: with the tails' call in the same one, GCC kept acc and part in memory.
        for (int i = 0; i < R; ++i)
            acc[i] = _mm512_fmadd_ps(part[i], _mm512_set1_ps(scales[i][b]), acc[i]);
        if (vectorEnd < c1)
            for (int i = 0; i < R; ++i)
                tails[i] += fp8PartialDot(rows[i], in.x, vectorEnd, c1) * scales[i][b];
    }
    for (int i = 0; i < R; ++i)
        y[r0 + i * rowStride] = reduce512(acc[i]) * in.rescale + tails[i];
}

CROSSROADS_AVX512 void matvecFp8Avx512(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                       const float* x, float* y) {
    const Fp8Input512 in = prepareFp8Input512(w, x);
    const int64_t run = (rowEnd - rowBegin) / kDecodeStreams;
    for (int64_t k = 0; k < run; ++k)
        decodeFp8Avx512<kDecodeStreams>(w, rowBegin + k, run, in, y);
    for (int64_t r = rowBegin + kDecodeStreams * run; r < rowEnd; ++r)
        decodeFp8Avx512<1>(w, r, 1, in, y);
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

// Prefill: the packed GEMM of the AVX2 file at 512 bits. A block of kPanelRows rows by
// kPanelDepth columns is widened to F32 and transposed once (panel[k][row]), then reused by
// every group of kTileTokens tokens: the micro-tile keeps 12 tokens x 32 rows of sums in 24
// registers and does 24 FMAs per 2 panel loads and 12 broadcasts of x. On the 2-core Xeon the
// F32 FMAs run at the rate of vdpbf16ps (two 512-bit FMA ports, one BF16 dot port), so this
// beats both the dot-product kernels and oneDNN's AVX-512-BF16 brgemm there
// (bench_engine_prefill_gemm).
constexpr int64_t kPanelRows = 32;   // two vectors of outputs
constexpr int64_t kPanelDepth = 256; // 32 KiB of F32: the panel stays in L1
constexpr int kTileTokens = 12;

// panel[k * kPanelRows + j] = W[r0 + j][c0 + k] for j < rows; rows past the end are zero.
template <WeightType Type>
CROSSROADS_AVX512 void packPanelAvx512(const Matrix& w, int64_t r0, int64_t rows, int64_t c0,
                                       int64_t depth, float* panel) {
    int64_t k = 0;
    // A strip short of kPanelRows rows (a task's last) packs by vectors too, its missing rows
    // zero: element by element, short strips took as long as the GEMM over the full ones.
    for (; k + 16 <= depth; k += 16)
        for (int64_t half = 0; half < kPanelRows; half += 16) {
            __m512 block[16];
            for (int j = 0; j < 16; ++j)
                block[j] = half + j < rows ? loadWeights16<Type>(w.row(r0 + half + j), c0 + k)
                                           : _mm512_setzero_ps();
            transpose16x16(block);
            for (int i = 0; i < 16; ++i)
                _mm512_storeu_ps(panel + (k + i) * kPanelRows + half, block[i]);
        }
    for (; k < depth; ++k)
        for (int64_t j = 0; j < kPanelRows; ++j)
            panel[k * kPanelRows + j] = j < rows ? weightAt(w, w.row(r0 + j), c0 + k) : 0.0f;
}

// The same for FP8: widened, scaled once per weight and call, transposed 16 x 16 where 16
// columns lie in one block, element by element elsewhere.
CROSSROADS_AVX512 void packPanelFp8Avx512(const Matrix& w, int64_t r0, int64_t rows, int64_t c0,
                                          int64_t depth, float* panel) {
    int64_t k = 0;
    if (w.blockCols % 16 == 0) {
        // Each row's scales looked up once per panel (Matrix::scaleAt divides three times); a
        // short strip's missing rows are zero.
        const float* rowScales[kPanelRows];
        for (int64_t j = 0; j < rows; ++j)
            rowScales[j] = w.scaleRow(r0 + j);
        for (; k + 16 <= depth; k += 16) {
            const int64_t scaleBlock = (c0 + k) / w.blockCols;
            for (int64_t half = 0; half < kPanelRows; half += 16) {
                __m512 block[16];
                for (int j = 0; j < 16; ++j) {
                    if (half + j >= rows) {
                        block[j] = _mm512_setzero_ps();
                        continue;
                    }
                    const int64_t r = r0 + half + j;
                    const auto* bytes = reinterpret_cast<const uint8_t*>(w.row(r)) + c0 + k;
                    block[j] = _mm512_mul_ps(
                        _mm512_cvtph_ps(_mm512_castsi512_si256(fp8ToHalves32Low(bytes))),
                        _mm512_set1_ps(rowScales[half + j][scaleBlock] * kFp8HalfScale));
                }
                transpose16x16(block);
                for (int i = 0; i < 16; ++i)
                    _mm512_storeu_ps(panel + (k + i) * kPanelRows + half, block[i]);
            }
        }
    }
    for (; k < depth; ++k)
        for (int64_t j = 0; j < kPanelRows; ++j)
            panel[k * kPanelRows + j] = j < rows ? w.at(r0 + j, c0 + k) : 0.0f;
}

// y[t][0..rows) += sum_k panel[k][.] x[t][k] for T tokens. Named sums, not an array (GCC 12
// keeps a stack copy of an array of vectors up to date inside the loop).
template <int T>
CROSSROADS_AVX512 void tileAvx512(const float* panel, int64_t depth, const float* x,
                                  int64_t xStride, float* y, int64_t yStride, int64_t rows) {
    static_assert(T >= 1 && T <= kTileTokens);
    __m512 a0 = _mm512_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0,
           a4 = a0, b4 = a0, a5 = a0, b5 = a0, a6 = a0, b6 = a0, a7 = a0, b7 = a0, a8 = a0, b8 = a0,
           a9 = a0, b9 = a0, a10 = a0, b10 = a0, a11 = a0, b11 = a0;
#define CROSSROADS_TILE_TOKEN(i)                                                                   \
    if constexpr (T > i) {                                                                         \
        const __m512 xt = _mm512_set1_ps(x[i * xStride + k]);                                      \
        a##i = _mm512_fmadd_ps(w0, xt, a##i);                                                      \
        b##i = _mm512_fmadd_ps(w1, xt, b##i);                                                      \
    }
    for (int64_t k = 0; k < depth; ++k) {
        const __m512 w0 = _mm512_loadu_ps(panel + k * kPanelRows);
        const __m512 w1 = _mm512_loadu_ps(panel + k * kPanelRows + 16);
        CROSSROADS_TILE_TOKEN(0)
        CROSSROADS_TILE_TOKEN(1)
        CROSSROADS_TILE_TOKEN(2)
        CROSSROADS_TILE_TOKEN(3)
        CROSSROADS_TILE_TOKEN(4)
        CROSSROADS_TILE_TOKEN(5)
        CROSSROADS_TILE_TOKEN(6)
        CROSSROADS_TILE_TOKEN(7)
        CROSSROADS_TILE_TOKEN(8)
        CROSSROADS_TILE_TOKEN(9)
        CROSSROADS_TILE_TOKEN(10)
        CROSSROADS_TILE_TOKEN(11)
    }
#undef CROSSROADS_TILE_TOKEN
    const __m512 as[kTileTokens] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11};
    const __m512 bs[kTileTokens] = {b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11};
    const auto low = static_cast<__mmask16>(rows >= 16 ? 0xffff : (1u << rows) - 1);
    const auto high = static_cast<__mmask16>(rows >= 32   ? 0xffff
                                             : rows <= 16 ? 0
                                                          : (1u << (rows - 16)) - 1);
    for (int t = 0; t < T; ++t) {
        float* out = y + t * yStride;
        _mm512_mask_storeu_ps(out, low, _mm512_add_ps(_mm512_maskz_loadu_ps(low, out), as[t]));
        _mm512_mask_storeu_ps(out + 16, high,
                              _mm512_add_ps(_mm512_maskz_loadu_ps(high, out + 16), bs[t]));
    }
}

template <int T>
CROSSROADS_AVX512 void tileStripsAvx512(const float* panels, int64_t strips, int64_t depth,
                                        const float* x, int64_t xStride, float* y, int64_t yStride,
                                        int64_t rows) {
    for (int64_t s = 0; s < strips; ++s)
        tileAvx512<T>(panels + s * kPanelDepth * kPanelRows, depth, x, xStride, y + s * kPanelRows,
                      yStride, std::min(kPanelRows, rows - s * kPanelRows));
}

template <std::size_t... I> constexpr auto tileTails(std::index_sequence<I...>) {
    using Tail =
        void (*)(const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, int64_t);
    return std::array<Tail, sizeof...(I)>{
        (I == 0 ? nullptr : &tileStripsAvx512<static_cast<int>(I == 0 ? 1 : I)>)...};
}

// Per block of kPanelDepth columns: every strip of 32 rows is packed, then each group of tokens
// runs over all the strips while its slice of x stays in L1.
template <WeightType Type>
CROSSROADS_AVX512 void gemmPackedAvx512Typed(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                             const float* x, int64_t xStride, int64_t tokens,
                                             float* y, int64_t yStride) {
    for (int64_t t = 0; t < tokens; ++t)
        std::fill(y + t * yStride + rowBegin, y + t * yStride + rowEnd, 0.0f);
    const int64_t rows = rowEnd - rowBegin;
    const int64_t strips = (rows + kPanelRows - 1) / kPanelRows;
    thread_local std::vector<float> packed;
    packed.resize(static_cast<std::size_t>(strips * kPanelDepth * kPanelRows));
    float* panels = packed.data();
    static constexpr auto kTails = tileTails(std::make_index_sequence<kTileTokens>{});
    for (int64_t c0 = 0; c0 < w.cols; c0 += kPanelDepth) {
        const int64_t depth = std::min(kPanelDepth, w.cols - c0);
        for (int64_t s = 0; s < strips; ++s)
            if constexpr (Type == WeightType::FP8E4M3)
                packPanelFp8Avx512(w, rowBegin + s * kPanelRows,
                                   std::min(kPanelRows, rows - s * kPanelRows), c0, depth,
                                   panels + s * kPanelDepth * kPanelRows);
            else
                packPanelAvx512<Type>(w, rowBegin + s * kPanelRows,
                                      std::min(kPanelRows, rows - s * kPanelRows), c0, depth,
                                      panels + s * kPanelDepth * kPanelRows);
        const float* xs = x + c0;
        float* ys = y + rowBegin;
        int64_t t = 0;
        for (; t + kTileTokens <= tokens; t += kTileTokens)
            tileStripsAvx512<kTileTokens>(panels, strips, depth, xs + t * xStride, xStride,
                                          ys + t * yStride, yStride, rows);
        if (t < tokens)
            kTails[static_cast<std::size_t>(tokens - t)](panels, strips, depth, xs + t * xStride,
                                                         xStride, ys + t * yStride, yStride, rows);
    }
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

void gemmPackedAvx512(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                      int64_t xStride, int64_t tokens, float* y, int64_t yStride) {
    if (w.type == WeightType::FP8E4M3)
        gemmPackedAvx512Typed<WeightType::FP8E4M3>(w, rowBegin, rowEnd, x, xStride, tokens, y,
                                                   yStride);
    else if (w.type == WeightType::F32)
        gemmPackedAvx512Typed<WeightType::F32>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    else
        gemmPackedAvx512Typed<WeightType::BF16>(w, rowBegin, rowEnd, x, xStride, tokens, y,
                                                yStride);
}

void matmulAvx512(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                  int64_t xStride, int64_t tokens, float* y, int64_t yStride) {
    // FP8 (the AVX-512-BF16 family comes here too, with its inputs rounded, for all but its
    // dot-product decode and, with VBMI, its pair-panel GEMM): decode for one token, the packed
    // GEMM for more (as on AVX2).
    if (w.type == WeightType::FP8E4M3) {
        if ((tokens == 1 && fp8DecodeKernel() == Fp8DecodeKernel::Widen256) ||
            (tokens > 1 && tokens < kFp8DotMaxTokens))
            matmulAvx2(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
        else if (tokens == 1)
            matvecFp8Avx512(w, rowBegin, rowEnd, x, y);
        else
            gemmPackedAvx512(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
        return;
    }
    if (tokens >= packedGemmMinTokens())
        return gemmPackedAvx512(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
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
