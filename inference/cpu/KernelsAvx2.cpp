#include "inference/cpu/KernelsIsa.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace crossroads::inference::kernels {

namespace {

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA: 8 lanes. A micro-kernel computes R rows x T tokens, reading each weight vector
// once for all T tokens; BF16 widens to F32 by a 16-bit shift (exact).

template <WeightType Type>
CROSSROADS_AVX2 inline __m256 loadWeights8(const std::byte* row, int64_t c) {
    if constexpr (Type == WeightType::F32)
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c);
    const __m128i half = _mm_loadu_si128(
        reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + c));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}

// Rows r0, r0 + rowStride, ..., r0 + (R - 1) rowStride.
template <WeightType Type, int R, int T>
CROSSROADS_AVX2 void microAvx2(const Matrix& w, int64_t r0, int64_t rowStride, const float* x,
                               int64_t xStride, float* y, int64_t yStride) {
    [[maybe_unused]] const int64_t prefetch = T == 1 ? decodePrefetchBytes() : 0;
    __m256 acc[R][T];
    for (int i = 0; i < R; ++i)
        for (int t = 0; t < T; ++t)
            acc[i][t] = _mm256_setzero_ps();
    const std::byte* rows[R];
    for (int i = 0; i < R; ++i)
        rows[i] = w.row(r0 + i * rowStride);
    const int64_t cols = w.cols;
    const int64_t vectorCols = cols & ~int64_t{7};
    for (int64_t c = 0; c < vectorCols; c += 8) {
        __m256 xs[T];
        for (int t = 0; t < T; ++t)
            xs[t] = _mm256_loadu_ps(x + t * xStride + c);
        for (int i = 0; i < R; ++i) {
            if constexpr (T == 1) // decode: one prefetch per 64-byte line
                if ((c * static_cast<int64_t>(weightTypeBytes(Type)) & 63) == 0)
                    prefetchAhead(rows[i] + c * static_cast<int64_t>(weightTypeBytes(Type)),
                                  prefetch);
            const __m256 wv = loadWeights8<Type>(rows[i], c);
            for (int t = 0; t < T; ++t)
                acc[i][t] = _mm256_fmadd_ps(wv, xs[t], acc[i][t]);
        }
    }
    for (int i = 0; i < R; ++i)
        for (int t = 0; t < T; ++t) {
            float sum = horizontalSum(acc[i][t]);
            for (int64_t c = vectorCols; c < cols; ++c)
                sum += weightAt(w, rows[i], c) * x[t * xStride + c];
            y[t * yStride + r0 + i * rowStride] = sum;
        }
}

template <WeightType Type, int T>
CROSSROADS_AVX2 void rowsAvx2(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                              int64_t xStride, float* y, int64_t yStride) {
    int64_t r = rowBegin;
    // A lone token row is memory-bound: more rows in flight keep more loads outstanding.
    if constexpr (T == 1)
        for (; r + 8 <= rowEnd; r += 8)
            microAvx2<Type, 8, 1>(w, r, 1, x, xStride, y, yStride);
    for (; r + 4 <= rowEnd; r += 4)
        microAvx2<Type, 4, T>(w, r, 1, x, xStride, y, yStride);
    for (; r < rowEnd; ++r)
        microAvx2<Type, 1, T>(w, r, 1, x, xStride, y, yStride);
}

// One token against BF16 rows r0, r0 + rowStride, ... The widening conversion (a zero-extending
// load and a shift per 8 weights) cannot keep up with the memory: ~20 GB/s of weights per core
// even from L2. A 32-bit lane of 16 loaded BF16 values holds an even-indexed one in its low half
// and the next odd one in its high half, so a shift gives the even weights as F32 and a mask the
// odd ones: one load, a shift, an AND and two FMAs per 16 weights, ~36 GB/s per core from L2.
// x is split into its even and odd elements once per 16 columns for all R rows.
template <int R>
CROSSROADS_AVX2 void decodeBf16Avx2(const Matrix& w, int64_t r0, int64_t rowStride, const float* x,
                                    float* y) {
    const int64_t prefetch = decodePrefetchBytes();
    const __m256i highHalves = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
    __m256 acc[R];
    const uint16_t* rows[R];
    for (int i = 0; i < R; ++i) {
        acc[i] = _mm256_setzero_ps();
        rows[i] = reinterpret_cast<const uint16_t*>(w.row(r0 + i * rowStride));
    }
    const int64_t cols = w.cols;
    const int64_t vectorCols = cols & ~int64_t{15};
    for (int64_t c = 0; c < vectorCols; c += 16) {
        const __m256 low = _mm256_loadu_ps(x + c);                // x0..x7
        const __m256 high = _mm256_loadu_ps(x + c + 8);           // x8..x15
        const __m256 a = _mm256_permute2f128_ps(low, high, 0x20); // x0..x3 | x8..x11
        const __m256 b = _mm256_permute2f128_ps(low, high, 0x31); // x4..x7 | x12..x15
        const __m256 even = _mm256_shuffle_ps(a, b, 0x88);        // x0 x2 .. x14
        const __m256 odd = _mm256_shuffle_ps(a, b, 0xdd);         // x1 x3 .. x15
        for (int i = 0; i < R; ++i) {
            if ((c & 31) == 0) // one prefetch per 64-byte line
                prefetchAhead(rows[i] + c, prefetch);
            const __m256i pairs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i] + c));
            acc[i] =
                _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(pairs, 16)), even, acc[i]);
            acc[i] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(pairs, highHalves)), odd,
                                     acc[i]);
        }
    }
    for (int i = 0; i < R; ++i) {
        float sum = horizontalSum(acc[i]);
        for (int64_t c = vectorCols; c < cols; ++c)
            sum += bf16ToFloat(rows[i][c]) * x[c];
        y[r0 + i * rowStride] = sum;
    }
}

// FP8 decode builds its F32s by integer shifts and masks, not through F16 (kFp8HalfScale), whose
// vcvtph2ps throughput bounds it on the 2-core EPYC. In a 16-bit lane an arithmetic shift right
// by 4 leaves the high byte's sign in bit 15 (copies in 14..11) and its other seven bits in
// 10..4, where a BF16 keeps its exponent's low four bits and its mantissa's top three. In the
// high half of a 32-bit lane, with the rest masked off (0x87f00000), that is an F32 equal to the
// E4M3 value x 2^-120 exactly; E4M3 subnormals become F32 subnormals, also exact (FMA takes them
// at full speed on Zen 2, and nothing here sets DAZ), and S.1111.111 reads as 480, as through
// F16. A 32-bit lane holds bytes 0..3: the shift gives byte 3 in place and byte 1 in the low
// half, which a vpshufb moves up; a 16-bit shift left by 8 first does the same for bytes 2 and 0
// (a 32-bit shift moving the low half up). So 32 weights cost one load, four shifts, a vpshufb,
// four ANDs and four FMAs, and vector k holds the weights 4j + k (j < 8): x is reordered to
// match once per call. The 2^120 goes into that copy of x as 2^s (s <= 120, chosen from the
// largest |x| so that nothing overflows), the products being w x exactly when s = 120, and
// 2^(120 - s) into each row's sum at the end. On the 2-core EPYC this read 25-27 GB/s of weights
// in bench_engine_decode_bandwidth --fp8 (72-77% of the read pass), against 19-20 GB/s (53-60%)
// through F16; a vpmovsxbw and vpunpck{l,h}wd BF16 build ran ~3% slower from L2 in a
// microbenchmark, vpshufb or vpmulhw in place of the shifts within a few percent.
struct Fp8DecodeInput {
    const float* x = nullptr;  // x, for the scalar tails
    const float* xs = nullptr; // per full 32 columns of a block: x[c + 4j + k] 2^s at c + 8k + j
    float rescale = 1.0f;      // 2^(120 - s)
};

// x reordered and scaled into xs (w.cols floats).
CROSSROADS_AVX2 Fp8DecodeInput prepareFp8DecodeInto(const Matrix& w, const float* x, float* xs) {
    const int64_t cols = w.cols;
    const int s = fp8InputShift(x, cols);
    const float up = std::ldexp(1.0f, s);
    for (int64_t c0 = 0; c0 < cols; c0 += w.blockCols) {
        const int64_t c1 = std::min(cols, c0 + w.blockCols);
        const int64_t vectorEnd = c0 + ((c1 - c0) & ~int64_t{31});
        for (int64_t c = c0; c < vectorEnd; c += 32)
            for (int k = 0; k < 4; ++k)
                for (int j = 0; j < 8; ++j)
                    xs[c + 8 * k + j] = x[c + 4 * j + k] * up;
    }
    return {x, xs, std::ldexp(1.0f, 120 - s)};
}

CROSSROADS_AVX2 Fp8DecodeInput prepareFp8Decode(const Matrix& w, const float* x) {
    thread_local std::vector<float> buffer;
    if (static_cast<int64_t>(buffer.size()) < w.cols)
        buffer.resize(static_cast<size_t>(w.cols));
    return prepareFp8DecodeInto(w, x, buffer.data());
}

// The F32 in the high half of each 32-bit lane of v (the shifted bytes above), rest cleared.
CROSSROADS_AVX2 inline __m256 fp8Magnitude(__m256i v, __m256i magnitude) {
    return _mm256_castsi256_ps(_mm256_and_si256(v, magnitude));
}

// 32 FP8 weights (bytes) as four vectors of F32s x 2^-120, by the shifts and masks above:
// vector k holds the weights 4j + k (j < 8).
struct Fp8Weights32 {
    __m256 w0, w1, w2, w3;
};

CROSSROADS_AVX2 inline Fp8Weights32 fp8Weights32(const uint8_t* bytes) {
    const __m256i magnitude = _mm256_set1_epi32(static_cast<int>(0x87f00000u));
    const __m256i lowHalfUp =
        _mm256_setr_epi8(-128, -128, 0, 1, -128, -128, 4, 5, -128, -128, 8, 9, -128, -128, 12, 13,
                         -128, -128, 0, 1, -128, -128, 4, 5, -128, -128, 8, 9, -128, -128, 12, 13);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes));
    const __m256i odd = _mm256_srai_epi16(v, 4);                        // bytes 3 and 1
    const __m256i even = _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 4); // 2, 0
    return {fp8Magnitude(_mm256_slli_epi32(even, 16), magnitude),
            fp8Magnitude(_mm256_shuffle_epi8(odd, lowHalfUp), magnitude),
            fp8Magnitude(even, magnitude), fp8Magnitude(odd, magnitude)};
}

// One token against FP8 rows r0, r0 + rowStride, ...: per block of columns a partial sum per
// row, scaled once when the block ends.
// Prefetch: whether fp8DecodePrefetchBytes() is set (its test and branch per row cost ~2-3% of
// the bandwidth where it is not).
template <int R, bool Prefetch>
CROSSROADS_AVX2 void decodeFp8Avx2(const Matrix& w, int64_t r0, int64_t rowStride,
                                   const Fp8DecodeInput& in, float* y) {
    const int64_t prefetch = fp8DecodePrefetchBytes();
    __m256 acc[R];
    float tails[R];
    const uint8_t* rows[R];
    const float* scales[R];
    for (int i = 0; i < R; ++i) {
        acc[i] = _mm256_setzero_ps();
        tails[i] = 0.0f;
        rows[i] = reinterpret_cast<const uint8_t*>(w.row(r0 + i * rowStride));
        scales[i] = w.scaleRow(r0 + i * rowStride);
    }
    const float* x = in.x;
    const float* xs = in.xs;
    const int64_t cols = w.cols;
    const int64_t blocks = w.scaleCols();
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * w.blockCols;
        const int64_t c1 = std::min(cols, c0 + w.blockCols);
        const int64_t vectorEnd = c0 + ((c1 - c0) & ~int64_t{31});
        __m256 part[R];
        for (int i = 0; i < R; ++i)
            part[i] = _mm256_setzero_ps();
        for (int64_t c = c0; c < vectorEnd; c += 32) {
            const __m256 x0 = _mm256_loadu_ps(xs + c), x1 = _mm256_loadu_ps(xs + c + 8);
            const __m256 x2 = _mm256_loadu_ps(xs + c + 16), x3 = _mm256_loadu_ps(xs + c + 24);
            for (int i = 0; i < R; ++i) {
                if (Prefetch && (c & 63) == 0)
                    prefetchAhead(rows[i] + c, prefetch);
                const Fp8Weights32 f = fp8Weights32(rows[i] + c);
                part[i] = _mm256_fmadd_ps(f.w3, x3, part[i]);
                part[i] = _mm256_fmadd_ps(f.w1, x1, part[i]);
                part[i] = _mm256_fmadd_ps(f.w2, x2, part[i]);
                part[i] = _mm256_fmadd_ps(f.w0, x0, part[i]);
            }
        }
        // Two loops: with the tails' call in the same one, GCC kept acc and part in memory.
        for (int i = 0; i < R; ++i)
            acc[i] = _mm256_fmadd_ps(part[i], _mm256_set1_ps(scales[i][b]), acc[i]);
        if (vectorEnd < c1)
            for (int i = 0; i < R; ++i)
                tails[i] += fp8PartialDot(rows[i], x, vectorEnd, c1) * scales[i][b];
    }
    for (int i = 0; i < R; ++i)
        y[r0 + i * rowStride] = horizontalSum(acc[i]) * in.rescale + tails[i];
}

// matvecAvx2's FP8 rows: kDecodeStreams runs of run rows from rowBegin, then tail..rowEnd.
template <bool Prefetch>
CROSSROADS_AVX2 void decodeFp8RowsAvx2(const Matrix& w, int64_t rowBegin, int64_t run, int64_t tail,
                                       int64_t rowEnd, const Fp8DecodeInput& in, float* y) {
    for (int64_t k = 0; k < run; ++k)
        decodeFp8Avx2<kDecodeStreams, Prefetch>(w, rowBegin + k, run, in, y);
    for (int64_t r = tail; r < rowEnd; ++r)
        decodeFp8Avx2<1, Prefetch>(w, r, 1, in, y);
}

// A few tokens (2 to kFp8DotMaxTokens - 1: batched decode, small experts in prefill) against
// FP8 rows: each row's weights are built into F32 once, as the decode kernel builds them, and
// multiplied with T <= 4 tokens' reordered inputs; the packed GEMM would widen and transpose a
// whole panel for each call, more work than two or three tokens' products.
template <int T>
CROSSROADS_AVX2 void fewTokensFp8Avx2(const Matrix& w, int64_t r, const Fp8DecodeInput* in,
                                      float* y, int64_t yStride) {
    const auto* row = reinterpret_cast<const uint8_t*>(w.row(r));
    const float* scales = w.scaleRow(r);
    __m256 acc[T];
    float tails[T];
    for (int t = 0; t < T; ++t) {
        acc[t] = _mm256_setzero_ps();
        tails[t] = 0.0f;
    }
    const int64_t cols = w.cols;
    const int64_t blocks = w.scaleCols();
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * w.blockCols;
        const int64_t c1 = std::min(cols, c0 + w.blockCols);
        const int64_t vectorEnd = c0 + ((c1 - c0) & ~int64_t{31});
        __m256 part[T];
        for (int t = 0; t < T; ++t)
            part[t] = _mm256_setzero_ps();
        for (int64_t c = c0; c < vectorEnd; c += 32) {
            const auto [w0, w1, w2, w3] = fp8Weights32(row + c);
            for (int t = 0; t < T; ++t) {
                const float* xs = in[t].xs + c;
                part[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xs), part[t]);
                part[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xs + 8), part[t]);
                part[t] = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xs + 16), part[t]);
                part[t] = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xs + 24), part[t]);
            }
        }
        for (int t = 0; t < T; ++t) {
            acc[t] = _mm256_fmadd_ps(part[t], _mm256_set1_ps(scales[b]), acc[t]);
            if (vectorEnd < c1)
                tails[t] += fp8PartialDot(row, in[t].x, vectorEnd, c1) * scales[b];
        }
    }
    for (int t = 0; t < T; ++t)
        y[t * yStride + r] = horizontalSum(acc[t]) * in[t].rescale + tails[t];
}

CROSSROADS_AVX2 void fewTokensFp8RowsAvx2(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                          const float* x, int64_t xStride, int64_t tokens, float* y,
                                          int64_t yStride) {
    thread_local std::vector<float> buffer;
    buffer.resize(static_cast<std::size_t>(tokens * w.cols));
    std::vector<Fp8DecodeInput> in(static_cast<std::size_t>(tokens));
    for (int64_t t = 0; t < tokens; ++t)
        in[static_cast<std::size_t>(t)] =
            prepareFp8DecodeInto(w, x + t * xStride, buffer.data() + t * w.cols);
    for (int64_t t0 = 0; t0 < tokens; t0 += 4) {
        const Fp8DecodeInput* group = in.data() + t0;
        float* out = y + t0 * yStride;
        for (int64_t r = rowBegin; r < rowEnd; ++r)
            switch (std::min<int64_t>(4, tokens - t0)) {
            case 1:
                fewTokensFp8Avx2<1>(w, r, group, out, yStride);
                break;
            case 2:
                fewTokensFp8Avx2<2>(w, r, group, out, yStride);
                break;
            case 3:
                fewTokensFp8Avx2<3>(w, r, group, out, yStride);
                break;
            default:
                fewTokensFp8Avx2<4>(w, r, group, out, yStride);
                break;
            }
    }
}

template <WeightType Type>
CROSSROADS_AVX2 void matvecAvx2(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                                float* y) {
    const int64_t run = (rowEnd - rowBegin) / kDecodeStreams;
    const int64_t tail = rowBegin + kDecodeStreams * run;
    if constexpr (Type == WeightType::FP8E4M3) {
        const Fp8DecodeInput in = prepareFp8Decode(w, x);
        if (fp8DecodePrefetchBytes() > 0)
            decodeFp8RowsAvx2<true>(w, rowBegin, run, tail, rowEnd, in, y);
        else
            decodeFp8RowsAvx2<false>(w, rowBegin, run, tail, rowEnd, in, y);
    } else if constexpr (Type == WeightType::BF16) {
        for (int64_t k = 0; k < run; ++k)
            decodeBf16Avx2<kDecodeStreams>(w, rowBegin + k, run, x, y);
        for (int64_t r = tail; r < rowEnd; ++r)
            decodeBf16Avx2<1>(w, r, 1, x, y);
    } else {
        for (int64_t k = 0; k < run; ++k)
            microAvx2<Type, kDecodeStreams, 1>(w, rowBegin + k, run, x, 0, y, 0);
        for (int64_t r = tail; r < rowEnd; ++r)
            microAvx2<Type, 1, 1>(w, r, 1, x, 0, y, 0);
    }
}

template <WeightType Type>
CROSSROADS_AVX2 void matmulAvx2Typed(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                     const float* x, int64_t xStride, int64_t tokens, float* y,
                                     int64_t yStride) {
    for (int64_t rb = rowBegin; rb < rowEnd; rb += kRowBlock) {
        const int64_t re = std::min(rowEnd, rb + kRowBlock);
        int64_t t = 0;
        for (; t + 2 <= tokens; t += 2)
            rowsAvx2<Type, 2>(w, rb, re, x + t * xStride, xStride, y + t * yStride, yStride);
        if (t < tokens)
            rowsAvx2<Type, 1>(w, rb, re, x + t * xStride, xStride, y + t * yStride, yStride);
    }
}

// Prefill (many tokens per weight) is compute-bound, and the dot-product form above spends as
// many instructions widening BF16 and loading as it spends on FMAs. So, as BLIS does, a block
// of kPanelRows rows by kPanelDepth columns is first packed once, widened to F32 and transposed
// (panel[k][row]), and reused by every group of kTileTokens tokens: an outer-product micro-tile
// keeps 6 tokens x 16 rows of sums in 12 registers and does 12 FMAs per 2 panel loads and 6
// broadcasts of x. Packing costs about one instruction per weight, against tokens / 8 FMAs.
constexpr int64_t kPanelRows = 16;   // two vectors of outputs
constexpr int64_t kPanelDepth = 256; // 16 KiB of F32: the panel stays in L1
constexpr int kTileTokens = 6;
// From about this many tokens on, the packed GEMM beats the dot-product kernels: on the 2-core
// EPYC (bench_engine_prefill_gemm, BF16 expert shapes, share of the FMA peak) the dot-product
// kernels reach 34-48% at 8 tokens against 27-32% packed, both ~45-55% at 16, and 43-58%
// against 55-62% at 24-32 tokens; packed reaches 70-83% from 128 tokens on.
constexpr int64_t kPackedMinTokens = 20;

// panel[k * kPanelRows + j] = W[r0 + j][c0 + k] for j < rows; rows past the end are zero.
template <WeightType Type>
CROSSROADS_AVX2 void packPanelAvx2(const Matrix& w, int64_t r0, int64_t rows, int64_t c0,
                                   int64_t depth, float* panel) {
    int64_t k = 0;
    // A short strip (a task's last) packs by vectors too, its missing rows zero.
    for (; k + 8 <= depth; k += 8)
        for (int64_t half = 0; half < kPanelRows; half += 8) {
            __m256 block[8];
            for (int j = 0; j < 8; ++j)
                block[j] = half + j < rows ? loadWeights8<Type>(w.row(r0 + half + j), c0 + k)
                                           : _mm256_setzero_ps();
            transpose8x8(block);
            for (int i = 0; i < 8; ++i)
                _mm256_storeu_ps(panel + (k + i) * kPanelRows + half, block[i]);
        }
    for (; k < depth; ++k)
        for (int64_t j = 0; j < kPanelRows; ++j)
            panel[k * kPanelRows + j] = j < rows ? weightAt(w, w.row(r0 + j), c0 + k) : 0.0f;
}

// The same for FP8: widened, scaled (one multiply per weight, once per call and shared by every
// token) and transposed 8 x 8 where 8 columns lie in one block, element by element elsewhere.
CROSSROADS_AVX2 void packPanelFp8Avx2(const Matrix& w, int64_t r0, int64_t rows, int64_t c0,
                                      int64_t depth, float* panel) {
    int64_t k = 0;
    if (w.blockCols % 8 == 0) {
        // Each row's scales looked up once per panel (Matrix::scaleAt divides three times); a
        // short strip's missing rows are zero.
        const float* rowScales[kPanelRows];
        for (int64_t j = 0; j < rows; ++j)
            rowScales[j] = w.scaleRow(r0 + j);
        for (; k + 8 <= depth; k += 8) {
            const int64_t scaleBlock = (c0 + k) / w.blockCols;
            for (int64_t half = 0; half < kPanelRows; half += 8) {
                __m256 block[8];
                for (int j = 0; j < 8; ++j) {
                    if (half + j >= rows) {
                        block[j] = _mm256_setzero_ps();
                        continue;
                    }
                    const int64_t r = r0 + half + j;
                    const auto* bytes = reinterpret_cast<const uint8_t*>(w.row(r)) + c0 + k;
                    block[j] = _mm256_mul_ps(
                        _mm256_cvtph_ps(fp8ToHalves8(bytes)),
                        _mm256_set1_ps(rowScales[half + j][scaleBlock] * kFp8HalfScale));
                }
                transpose8x8(block);
                for (int i = 0; i < 8; ++i)
                    _mm256_storeu_ps(panel + (k + i) * kPanelRows + half, block[i]);
            }
        }
    }
    for (; k < depth; ++k)
        for (int64_t j = 0; j < kPanelRows; ++j)
            panel[k * kPanelRows + j] = j < rows ? w.at(r0 + j, c0 + k) : 0.0f;
}

// y[t][0..rows) += sum_k panel[k][.] x[t][k] for T tokens. The sums are named variables, not an
// array: GCC 12 keeps a stack copy of an array of vectors up to date inside the loop (12 stores
// per step, a third of the speed).
template <int T>
CROSSROADS_AVX2 void tileAvx2(const float* panel, int64_t depth, const float* x, int64_t xStride,
                              float* y, int64_t yStride, int64_t rows) {
    static_assert(T >= 1 && T <= kTileTokens);
    __m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0,
           a4 = a0, b4 = a0, a5 = a0, b5 = a0;
    const float* x0 = x;
    const float* x1 = x + xStride;
    const float* x2 = x + 2 * xStride;
    const float* x3 = x + 3 * xStride;
    const float* x4 = x + 4 * xStride;
    const float* x5 = x + 5 * xStride;
#define CROSSROADS_TILE_TOKEN(i)                                                                   \
    if constexpr (T > i) {                                                                         \
        const __m256 xt = _mm256_broadcast_ss(x##i + k);                                           \
        a##i = _mm256_fmadd_ps(w0, xt, a##i);                                                      \
        b##i = _mm256_fmadd_ps(w1, xt, b##i);                                                      \
    }
    for (int64_t k = 0; k < depth; ++k) {
        const __m256 w0 = _mm256_loadu_ps(panel + k * kPanelRows);
        const __m256 w1 = _mm256_loadu_ps(panel + k * kPanelRows + 8);
        CROSSROADS_TILE_TOKEN(0)
        CROSSROADS_TILE_TOKEN(1)
        CROSSROADS_TILE_TOKEN(2)
        CROSSROADS_TILE_TOKEN(3)
        CROSSROADS_TILE_TOKEN(4)
        CROSSROADS_TILE_TOKEN(5)
    }
#undef CROSSROADS_TILE_TOKEN
    alignas(32) float sums[kTileTokens][kPanelRows];
    const __m256 as[kTileTokens] = {a0, a1, a2, a3, a4, a5};
    const __m256 bs[kTileTokens] = {b0, b1, b2, b3, b4, b5};
    for (int t = 0; t < T; ++t) {
        _mm256_store_ps(sums[t], as[t]);
        _mm256_store_ps(sums[t] + 8, bs[t]);
    }
    for (int t = 0; t < T; ++t)
        for (int64_t j = 0; j < rows; ++j)
            y[t * yStride + j] += sums[t][j];
}

template <int T>
CROSSROADS_AVX2 void tileStripsAvx2(const float* panels, int64_t strips, int64_t depth,
                                    const float* x, int64_t xStride, float* y, int64_t yStride,
                                    int64_t rows) {
    for (int64_t s = 0; s < strips; ++s)
        tileAvx2<T>(panels + s * kPanelDepth * kPanelRows, depth, x, xStride, y + s * kPanelRows,
                    yStride, std::min(kPanelRows, rows - s * kPanelRows));
}

// Per block of kPanelDepth columns: every strip of 16 rows is packed, then each group of tokens
// runs over all the strips while its slice of x stays in L1.
template <WeightType Type>
CROSSROADS_AVX2 void gemmPackedAvx2(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                    const float* x, int64_t xStride, int64_t tokens, float* y,
                                    int64_t yStride) {
    for (int64_t t = 0; t < tokens; ++t)
        std::fill(y + t * yStride + rowBegin, y + t * yStride + rowEnd, 0.0f);
    const int64_t rows = rowEnd - rowBegin;
    const int64_t strips = (rows + kPanelRows - 1) / kPanelRows;
    thread_local std::vector<float> packed;
    packed.resize(static_cast<std::size_t>(strips * kPanelDepth * kPanelRows));
    float* panels = packed.data();
    for (int64_t c0 = 0; c0 < w.cols; c0 += kPanelDepth) {
        const int64_t depth = std::min(kPanelDepth, w.cols - c0);
        for (int64_t s = 0; s < strips; ++s)
            if constexpr (Type == WeightType::FP8E4M3)
                packPanelFp8Avx2(w, rowBegin + s * kPanelRows,
                                 std::min(kPanelRows, rows - s * kPanelRows), c0, depth,
                                 panels + s * kPanelDepth * kPanelRows);
            else
                packPanelAvx2<Type>(w, rowBegin + s * kPanelRows,
                                    std::min(kPanelRows, rows - s * kPanelRows), c0, depth,
                                    panels + s * kPanelDepth * kPanelRows);
        const float* xs = x + c0;
        float* ys = y + rowBegin;
        int64_t t = 0;
        for (; t + kTileTokens <= tokens; t += kTileTokens)
            tileStripsAvx2<kTileTokens>(panels, strips, depth, xs + t * xStride, xStride,
                                        ys + t * yStride, yStride, rows);
        using Tail = void (*)(const float*, int64_t, int64_t, const float*, int64_t, float*,
                              int64_t, int64_t);
        static constexpr Tail kTails[kTileTokens] = {nullptr,           tileStripsAvx2<1>,
                                                     tileStripsAvx2<2>, tileStripsAvx2<3>,
                                                     tileStripsAvx2<4>, tileStripsAvx2<5>};
        if (t < tokens)
            kTails[tokens - t](panels, strips, depth, xs + t * xStride, xStride, ys + t * yStride,
                               yStride, rows);
    }
}

} // namespace

void matmulAvx2(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x, int64_t xStride,
                int64_t tokens, float* y, int64_t yStride) {
    // FP8: the decode kernel for one token, the packed GEMM (weights widened and scaled once
    // per panel) for any more; no dot-product form, which would widen every weight per pair of
    // tokens.
    if (w.type == WeightType::FP8E4M3) {
        if (tokens == 1)
            matvecAvx2<WeightType::FP8E4M3>(w, rowBegin, rowEnd, x, y);
        else if (tokens < kFp8DotMaxTokens)
            fewTokensFp8RowsAvx2(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
        else
            gemmPackedAvx2<WeightType::FP8E4M3>(w, rowBegin, rowEnd, x, xStride, tokens, y,
                                                yStride);
        return;
    }
    if (tokens == 1) {
        if (w.type == WeightType::F32)
            matvecAvx2<WeightType::F32>(w, rowBegin, rowEnd, x, y);
        else
            matvecAvx2<WeightType::BF16>(w, rowBegin, rowEnd, x, y);
        return;
    }
    if (tokens >= kPackedMinTokens) {
        if (w.type == WeightType::F32)
            gemmPackedAvx2<WeightType::F32>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
        else
            gemmPackedAvx2<WeightType::BF16>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
        return;
    }
    if (w.type == WeightType::F32)
        matmulAvx2Typed<WeightType::F32>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    else
        matmulAvx2Typed<WeightType::BF16>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
}

// The product with W's transpose, row by row: 8 weights of a row widened at a time (FP8
// through F16 with the block's scale, BF16 by a shift, F32 as they are), added scaled to each
// token's output, which stays in L1 for the few tokens this serves (MLA's absorbed decode).
CROSSROADS_AVX2 void matmulRowsTransposedAvx2(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                              const float* x, int64_t xStride, int64_t tokens,
                                              float* y, int64_t yStride) {
    const int64_t cols = w.cols;
    for (int64_t t = 0; t < tokens; ++t)
        std::fill(y + t * yStride, y + t * yStride + cols, 0.0f);
    // FP8 blocks narrower than 8 columns, or not a multiple of 8, take the scalar loop.
    const bool vector = w.type != WeightType::FP8E4M3 || w.blockCols % 8 == 0;
    const int64_t vectorCols = vector ? cols & ~int64_t{7} : 0;
    for (int64_t r = rowBegin; r < rowEnd; ++r) {
        const std::byte* row = w.row(r);
        const float* rowScales = w.type == WeightType::FP8E4M3 ? w.scaleRow(r) : nullptr;
        const int64_t k = r - rowBegin;
        for (int64_t c = 0; c < vectorCols; c += 8) {
            __m256 wv;
            if (w.type == WeightType::FP8E4M3)
                wv = _mm256_mul_ps(
                    _mm256_cvtph_ps(fp8ToHalves8(reinterpret_cast<const uint8_t*>(row) + c)),
                    _mm256_set1_ps(rowScales[c / w.blockCols] * kFp8HalfScale));
            else if (w.type == WeightType::BF16)
                wv = _mm256_castsi256_ps(
                    _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(
                                          reinterpret_cast<const __m128i*>(row) + c / 8)),
                                      16));
            else
                wv = _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c);
            for (int64_t t = 0; t < tokens; ++t) {
                float* out = y + t * yStride + c;
                _mm256_storeu_ps(out, _mm256_fmadd_ps(_mm256_set1_ps(x[t * xStride + k]), wv,
                                                      _mm256_loadu_ps(out)));
            }
        }
        for (int64_t c = vectorCols; c < cols; ++c) {
            const float value = w.type == WeightType::FP8E4M3 ? w.at(r, c) : weightAt(w, row, c);
            for (int64_t t = 0; t < tokens; ++t)
                y[t * yStride + c] += x[t * xStride + k] * value;
        }
    }
}

CROSSROADS_AVX2 float dotAvx2(const float* a, const float* b, int64_t n) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    float sum = horizontalSum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i)
        sum += a[i] * b[i];
    return sum;
}

CROSSROADS_AVX2 void axpyAvx2(float alpha, const float* x, float* y, int64_t n) {
    const __m256 a = _mm256_set1_ps(alpha);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; ++i)
        y[i] += alpha * x[i];
}

namespace {

// e^x in F32 for 8 lanes: 2^n e^r with n = round(x / ln 2) and |r| <= ln(2) / 2, ln 2 split in
// two so r is exact, e^r by the usual degree-7 polynomial (Cephes' expf coefficients): within
// 2 ulp of expf over the range used. Below -87 the result is 0 (softmax weights that small are).
CROSSROADS_AVX2 inline __m256 expAvx2(__m256 x) {
    const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i scale =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(scale)));
}

// Four dot products of one query head against four key rows, sharing the query's loads.
CROSSROADS_AVX2 inline __m128 dot4Avx2(const float* q, const float* k0, const float* k1,
                                       const float* k2, const float* k3, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t d = 0;
    for (; d + 8 <= n; d += 8) {
        const __m256 x = _mm256_loadu_ps(q + d);
        a0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(k0 + d), a0);
        a1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(k1 + d), a1);
        a2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(k2 + d), a2);
        a3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(k3 + d), a3);
    }
    // [a0 a1 a2 a3] lanes summed: two horizontal adds, then the 128-bit halves.
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    __m128 sums = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    if (d < n) {
        alignas(16) float tail[4] = {0, 0, 0, 0};
        for (; d < n; ++d) {
            tail[0] += q[d] * k0[d];
            tail[1] += q[d] * k1[d];
            tail[2] += q[d] * k2[d];
            tail[3] += q[d] * k3[d];
        }
        sums = _mm_add_ps(sums, _mm_load_ps(tail));
    }
    return sums;
}

} // namespace

CROSSROADS_AVX2 void swigluAvx2(const float* gate, const float* up, int64_t n, float* out) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 e = expAvx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
        const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; ++i)
        out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

namespace {

// row[i] = e^(row[i] - best) for i < n, 8 at a time; returns their sum. The softmax numerators
// of decode's attention parts and of prefill's score rows.
CROSSROADS_AVX2 inline float expShiftedSumAvx2(float* row, int64_t n, float best) {
    const __m256 shift = _mm256_set1_ps(best);
    __m256 sums = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = expAvx2(_mm256_sub_ps(_mm256_loadu_ps(row + i), shift));
        _mm256_storeu_ps(row + i, e);
        sums = _mm256_add_ps(sums, e);
    }
    float total = horizontalSum(sums);
    for (; i < n; ++i)
        total += row[i] = std::exp(row[i] - best);
    return total;
}

} // namespace

CROSSROADS_AVX2 float softmaxExpRowAvx2(float* row, int64_t n, float scale) {
    const __m256 s = _mm256_set1_ps(scale);
    __m256 best8 = _mm256_set1_ps(-INFINITY);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 x = _mm256_mul_ps(_mm256_loadu_ps(row + j), s);
        _mm256_storeu_ps(row + j, x);
        best8 = _mm256_max_ps(best8, x);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, best8);
    float best = *std::max_element(lanes, lanes + 8);
    for (; j < n; ++j)
        best = std::max(best, row[j] *= scale);
    return expShiftedSumAvx2(row, n, best);
}

CROSSROADS_AVX2 void attendPartAvx2(const float* q, int64_t group, int64_t headDim,
                                    const float* keys, const float* values, int64_t stride,
                                    int64_t begin, int64_t end, float scale, float* scores,
                                    float* maxScore, float* sumExp, float* out) {
    const int64_t count = end - begin;
    const float* base = keys + begin * stride;
    // Scores, four keys at a time for every head of the group (the keys stay in L1).
    int64_t j = 0;
    for (; j + 4 <= count; j += 4) {
        const float* k = base + j * stride;
        for (int64_t g = 0; g < group; ++g)
            _mm_storeu_ps(scores + g * count + j,
                          _mm_mul_ps(dot4Avx2(q + g * headDim, k, k + stride, k + 2 * stride,
                                              k + 3 * stride, headDim),
                                     _mm_set1_ps(scale)));
    }
    for (; j < count; ++j)
        for (int64_t g = 0; g < group; ++g) {
            float dot = 0.0f;
            for (int64_t d = 0; d < headDim; ++d)
                dot += q[g * headDim + d] * base[j * stride + d];
            scores[g * count + j] = dot * scale;
        }
    // Softmax numerators and their sums, 8 scores at a time.
    for (int64_t g = 0; g < group; ++g) {
        float* row = scores + g * count;
        float best = -INFINITY;
        for (int64_t i = 0; i < count; ++i)
            best = std::max(best, row[i]);
        maxScore[g] = best;
        sumExp[g] = expShiftedSumAvx2(row, count, best);
    }
    // Weighted values, four rows at a time into every head's sums (in L1): a load and a store
    // of the sums per four FMAs.
    std::fill(out, out + group * headDim, 0.0f);
    const float* vbase = values + begin * stride;
    j = 0;
    for (; j + 4 <= count; j += 4) {
        const float* v0 = vbase + j * stride;
        const float* v1 = v0 + stride;
        const float* v2 = v1 + stride;
        const float* v3 = v2 + stride;
        for (int64_t g = 0; g < group; ++g) {
            const float* p = scores + g * count + j;
            const __m256 p0 = _mm256_set1_ps(p[0]), p1 = _mm256_set1_ps(p[1]),
                         p2 = _mm256_set1_ps(p[2]), p3 = _mm256_set1_ps(p[3]);
            float* o = out + g * headDim;
            int64_t d = 0;
            for (; d + 8 <= headDim; d += 8) {
                __m256 sum = _mm256_loadu_ps(o + d);
                sum = _mm256_fmadd_ps(p0, _mm256_loadu_ps(v0 + d), sum);
                sum = _mm256_fmadd_ps(p1, _mm256_loadu_ps(v1 + d), sum);
                sum = _mm256_fmadd_ps(p2, _mm256_loadu_ps(v2 + d), sum);
                sum = _mm256_fmadd_ps(p3, _mm256_loadu_ps(v3 + d), sum);
                _mm256_storeu_ps(o + d, sum);
            }
            for (; d < headDim; ++d)
                o[d] += p[0] * v0[d] + p[1] * v1[d] + p[2] * v2[d] + p[3] * v3[d];
        }
    }
    for (; j < count; ++j) {
        const float* value = vbase + j * stride;
        for (int64_t g = 0; g < group; ++g) {
            const float weight = scores[g * count + j];
            float* o = out + g * headDim;
            for (int64_t d = 0; d < headDim; ++d)
                o[d] += weight * value[d];
        }
    }
}

} // namespace crossroads::inference::kernels
