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
// AVX-512-BF16: vdpbf16ps multiplies BF16 pairs into F32 accumulators, doubling the multiply
// rate and reading BF16 weights without widening them. x is rounded to BF16 once per call, for
// every number of tokens: were decode kept in F32 (it is memory-bound either way), prefill and
// decode of one sequence would compute different functions, and a routing decision near a tie
// could differ between them (matmulActivationRounding).

// x's tokens rounded to BF16, `cols` apart, in the thread's buffer (valid until its next call).
CROSSROADS_AVX512BF16 const uint16_t* tokensToBf16(const float* x, int64_t xStride, int64_t tokens,
                                                   int64_t cols) {
    thread_local std::vector<uint16_t> rounded;
    rounded.resize(static_cast<std::size_t>(tokens * cols));
    for (int64_t t = 0; t < tokens; ++t)
        roundToBf16Avx512(x + t * xStride, cols, rounded.data() + t * cols);
    return rounded.data();
}

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

// Prefill on pair panels (Kernels.h, packPairPanels): the micro-tile keeps 64 rows x T <= 6
// tokens of sums in 4T registers; per column pair it loads four vectors of weights (64 rows, two
// columns each) and broadcasts each token's pair of inputs as one 32-bit lane, then does 4T
// dot-product instructions of 32 multiplies each: twice the multiplies per instruction of the F32
// FMA tile, and no widening or transposing per call (the panels were prepared at load). On the
// 2-core EPYC (Zen 4) 64 x 6 outran 32 x 12 by 1.2-1.6x on expert shapes (10 loads per 24
// products against 14) and reached oneDNN's brgemm: 0.72-0.92 of its time at 8-16 tokens,
// 0.96-1.04 at 32-256 (bench_engine_gemm_shapes). Named sums, not an array, for the reason
// tileAvx512 gives.
constexpr int kPairTileTokens = 6;
constexpr int64_t kPairDepth = 128; // pairs per block: 32 KiB of a strip, 512 B of x per token

// With rowScales (64, one per row of the strip), y = y (or 0) + rowScales x the sums: FP8's
// block scales (gemmFp8Pairs).
template <int T>
CROSSROADS_AVX512BF16 void pairTile(const uint16_t* strip, int64_t pairs, const uint16_t* x,
                                    int64_t xStride, float* y, int64_t yStride, int64_t rows,
                                    bool accumulate, const float* rowScales) {
    static_assert(T >= 1 && T <= kPairTileTokens);
    static_assert(kPairPanelRows == 64);
    __m512 a0 = _mm512_setzero_ps(), b0 = a0, c0 = a0, d0 = a0, a1 = a0, b1 = a0, c1 = a0, d1 = a0,
           a2 = a0, b2 = a0, c2 = a0, d2 = a0, a3 = a0, b3 = a0, c3 = a0, d3 = a0, a4 = a0, b4 = a0,
           c4 = a0, d4 = a0, a5 = a0, b5 = a0, c5 = a0, d5 = a0;
    const auto* xPairs = reinterpret_cast<const int32_t*>(x);
    const int64_t pairStride = xStride / 2;
#define CROSSROADS_PAIR_TOKEN(i)                                                                   \
    if constexpr (T > i) {                                                                         \
        const auto xt = (__m512bh)_mm512_set1_epi32(xPairs[i * pairStride + p]);                   \
        a##i = _mm512_dpbf16_ps(a##i, w0, xt);                                                     \
        b##i = _mm512_dpbf16_ps(b##i, w1, xt);                                                     \
        c##i = _mm512_dpbf16_ps(c##i, w2, xt);                                                     \
        d##i = _mm512_dpbf16_ps(d##i, w3, xt);                                                     \
    }
    for (int64_t p = 0; p < pairs; ++p) {
        const uint16_t* w = strip + p * 2 * kPairPanelRows;
        const auto w0 = (__m512bh)_mm512_loadu_si512(w);
        const auto w1 = (__m512bh)_mm512_loadu_si512(w + 32);
        const auto w2 = (__m512bh)_mm512_loadu_si512(w + 64);
        const auto w3 = (__m512bh)_mm512_loadu_si512(w + 96);
        CROSSROADS_PAIR_TOKEN(0)
        CROSSROADS_PAIR_TOKEN(1)
        CROSSROADS_PAIR_TOKEN(2)
        CROSSROADS_PAIR_TOKEN(3)
        CROSSROADS_PAIR_TOKEN(4)
        CROSSROADS_PAIR_TOKEN(5)
    }
#undef CROSSROADS_PAIR_TOKEN
    const __m512 sums[4][kPairTileTokens] = {{a0, a1, a2, a3, a4, a5},
                                             {b0, b1, b2, b3, b4, b5},
                                             {c0, c1, c2, c3, c4, c5},
                                             {d0, d1, d2, d3, d4, d5}};
    for (int v = 0; v < 4; ++v) {
        const int64_t left = rows - 16 * v;
        if (left <= 0)
            break;
        const auto mask = static_cast<__mmask16>(left >= 16 ? 0xffff : (1u << left) - 1);
        const __m512 scale =
            rowScales != nullptr ? _mm512_loadu_ps(rowScales + 16 * v) : _mm512_set1_ps(1.0f);
        for (int t = 0; t < T; ++t) {
            float* out = y + t * yStride + 16 * v;
            const __m512 before =
                accumulate ? _mm512_maskz_loadu_ps(mask, out) : _mm512_setzero_ps();
            const __m512 sum = rowScales != nullptr ? _mm512_fmadd_ps(sums[v][t], scale, before)
                                                    : _mm512_add_ps(before, sums[v][t]);
            _mm512_mask_storeu_ps(out, mask, sum);
        }
    }
}

using PairTileFn = void (*)(const uint16_t*, int64_t, const uint16_t*, int64_t, float*, int64_t,
                            int64_t, bool, const float*);

template <std::size_t... I> constexpr auto pairTiles(std::index_sequence<I...>) {
    return std::array<PairTileFn, sizeof...(I)>{
        (I == 0 ? nullptr : &pairTile<static_cast<int>(I == 0 ? 1 : I)>)...};
}

} // namespace

CROSSROADS_AVX512BF16 void gemmPairPanelsAvx512Bf16(const uint16_t* panels, int64_t rows,
                                                    int64_t cols, int64_t stripBegin,
                                                    int64_t stripEnd, const uint16_t* x,
                                                    int64_t xStride, int64_t tokens, float* y,
                                                    int64_t yStride) {
    // Strip by strip, a block of kPairDepth pairs of the strip (32 KiB) stays in L1 while every
    // group of tokens passes over it, their inputs streaming from L2: the weights are read from
    // memory once, whatever the number of tokens.
    const int64_t pairs = (cols + 1) / 2;
    const int64_t stripElements = pairs * 2 * kPairPanelRows;
    static constexpr auto kTiles = pairTiles(std::make_index_sequence<kPairTileTokens + 1>{});
    for (int64_t s = stripBegin; s < stripEnd; ++s) {
        const int64_t stripRows = std::min(kPairPanelRows, rows - s * kPairPanelRows);
        for (int64_t p0 = 0; p0 < pairs; p0 += kPairDepth) {
            const int64_t depth = std::min(kPairDepth, pairs - p0);
            const uint16_t* block = panels + s * stripElements + p0 * 2 * kPairPanelRows;
            const uint16_t* xs = x + 2 * p0;
            float* ys = y + s * kPairPanelRows;
            for (int64_t t = 0; t < tokens; t += kPairTileTokens) {
                const auto group = std::min<int64_t>(kPairTileTokens, tokens - t);
                kTiles[static_cast<std::size_t>(group)](block, depth, xs + t * xStride, xStride,
                                                        ys + t * yStride, yStride, stripRows,
                                                        p0 > 0, nullptr);
            }
        }
    }
}

namespace {

// FP8 decode on the dot-product instruction (Kernels.h, Fp8DecodeKernel::Bf16Dot). E4M3 moved
// into BF16's bit positions (sign to bit 15, the 4 exponent bits to the low 4 of BF16's 8, the 3
// mantissa bits to the top of its 7) is the value x 2^-120, exactly, for every normal E4M3; in
// each 16-bit lane (bytes b1:b0) an arithmetic shift right by 4 puts b1 there, a shift left by 8
// and then right by 4 puts b0, and one mask clears the rest (as the widening kernels build F32s,
// KernelsIsa.h fp8InputShift). The input, rounded to BF16 and scaled by 2^s, is split to match:
// per 64 columns c, the 32 inputs x[c + 2j] and the 32 x[c + 2j + 1]. Per 64 weights and row: one
// load, five integer operations, one test and two vdpbf16ps, against nine and four FMAs for
// Widen512. vdpbf16ps treats subnormal inputs as zero, and E4M3's subnormals (exponent 0) would
// be BF16 subnormals here, so a 64-byte line with any exponent-0 byte (zeros included) takes the
// exact path instead: the BF16 of each byte's value x 2^-112 (normal for every E4M3) from two
// 128-entry byte tables (vpermt2b, VBMI), multiplied with the input scaled by a further 2^-8.
// Trained weights rarely have such bytes (a block's largest maps to 448, and exponent 0 means
// below 2^-6); uniformly random bytes do on almost every line. The NaN pattern (S.1111.111)
// reads as 480, as in the widening kernels. Products below F32's normal range, of inputs
// 2^-130 of the largest, flush to zero.
constexpr int kFp8SlowShift = 8; // the exact path's weights x 2^(kFp8SlowShift - 120)

// The BF16 of each E4M3 magnitude m (byte & 0x7f) times 2^exponent, split into its high and low
// bytes (vpermt2b looks up 128 entries by the low 7 bits of each byte): exact for every E4M3,
// the NaN pattern as 480.
struct Fp8Bf16Tables {
    alignas(64) uint8_t high[128];
    alignas(64) uint8_t low[128];
    explicit Fp8Bf16Tables(int exponent) {
        for (int m = 0; m < 128; ++m) {
            const float value = std::ldexp(fp8E4M3ToFloat(static_cast<uint8_t>(m)), exponent);
            const uint16_t bits = floatToBf16(m == 0x7f ? std::ldexp(480.0f, exponent) : value);
            high[m] = static_cast<uint8_t>(bits >> 8);
            low[m] = static_cast<uint8_t>(bits & 0xff);
        }
    }
};

const Fp8Bf16Tables& fp8Bf16Tables() {
    static const Fp8Bf16Tables tables(kFp8SlowShift - 120);
    return tables;
}

struct Fp8DotInput {
    const uint16_t* fast =
        nullptr; // per full 64 columns of a block: x[c + 2j] 2^s, x[c + 2j + 1] 2^s
    const uint16_t* slow = nullptr; // the same x 2^-kFp8SlowShift, for the exact path
    const float* x = nullptr;       // x rounded to BF16, as F32, for the scalar tails
    float rescale = 1.0f;           // 2^(120 - s)
};

// 64 inputs (BF16 values as F32) times a power of two as BF16s, the even columns then the odd.
// Exact: the scale keeps them in range (fp8InputShift), so the products' top halves are their
// BF16s.
CROSSROADS_AVX512BF16 void splitEvenOdd(const float* values, __m512 scale, uint16_t* out) {
    const __m512i evens =
        _mm512_set_epi16(62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32, 30, 28, 26,
                         24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odds = _mm512_add_epi16(evens, _mm512_set1_epi16(1));
    __m256i ordered[4];
    for (int q = 0; q < 4; ++q)
        ordered[q] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(
            _mm512_castps_si512(_mm512_mul_ps(_mm512_loadu_ps(values + 16 * q), scale)), 16));
    const __m512i first = _mm512_inserti64x4(_mm512_castsi256_si512(ordered[0]), ordered[1], 1);
    const __m512i second = _mm512_inserti64x4(_mm512_castsi256_si512(ordered[2]), ordered[3], 1);
    _mm512_storeu_si512(out, _mm512_permutex2var_epi16(first, evens, second));
    _mm512_storeu_si512(out + 32, _mm512_permutex2var_epi16(first, odds, second));
}

constexpr int kFp8DotTokens = 4; // inputs prepared at once (fewTokensFp8Dot)

// Into the thread's buffers number `slot` (< kFp8DotTokens), valid until that slot is reused.
CROSSROADS_AVX512BF16 Fp8DotInput prepareFp8DotInput(const Matrix& w, const float* x, int slot) {
    // Vectorised where it counts: a row task of decode is a few hundred microseconds of
    // weights, and a scalar pass over a 7,168-wide input takes tens of them.
    struct Buffers {
        std::vector<uint16_t> fast, slow;
        std::vector<float> rounded;
    };
    thread_local std::array<Buffers, kFp8DotTokens> buffers;
    auto& [fast, slow, rounded] = buffers[static_cast<std::size_t>(slot)];
    const int64_t cols = w.cols;
    fast.resize(static_cast<std::size_t>(cols));
    slow.resize(static_cast<std::size_t>(cols));
    rounded.resize(static_cast<std::size_t>(cols));
    roundToBf16Values(x, cols, rounded.data());
    const int shift = fp8InputShift(rounded.data(), cols);
    const __m512 up = _mm512_set1_ps(std::ldexp(1.0f, shift));
    const __m512 down = _mm512_set1_ps(std::ldexp(1.0f, shift - kFp8SlowShift));
    for (int64_t c0 = 0; c0 < cols; c0 += w.blockCols) {
        const int64_t c1 = std::min(cols, c0 + w.blockCols);
        const int64_t vectorEnd = c0 + ((c1 - c0) & ~int64_t{63});
        for (int64_t c = c0; c < vectorEnd; c += 64) {
            splitEvenOdd(rounded.data() + c, up, fast.data() + c);
            splitEvenOdd(rounded.data() + c, down, slow.data() + c);
        }
    }
    return {fast.data(), slow.data(), rounded.data(), std::ldexp(1.0f, 120 - shift)};
}

// The exact path of one line: each byte's BF16 (x 2^(kFp8SlowShift - 120)) from the tables,
// the sign onto the high byte, then the even and odd bytes' 16-bit values side by side.
CROSSROADS_AVX512BF16_VBMI __attribute__((noinline)) __m512 fp8DotExact(__m512 part, __m512i bytes,
                                                                        const uint16_t* x) {
    const Fp8Bf16Tables& tables = fp8Bf16Tables();
    const __m512i high = _mm512_ternarylogic_epi32(
        _mm512_permutex2var_epi8(_mm512_load_si512(tables.high), bytes,
                                 _mm512_load_si512(tables.high + 64)),
        bytes, _mm512_set1_epi8(static_cast<char>(0x80)), 0xf8); // high | (bytes & sign)
    const __m512i low = _mm512_permutex2var_epi8(_mm512_load_si512(tables.low), bytes,
                                                 _mm512_load_si512(tables.low + 64));
    constexpr __mmask64 kOddBytes = 0xaaaaaaaaaaaaaaaaull;
    const __m512i even = _mm512_mask_blend_epi8(kOddBytes, low, _mm512_slli_epi16(high, 8));
    const __m512i odd = _mm512_mask_blend_epi8(kOddBytes, _mm512_srli_epi16(low, 8), high);
    part = _mm512_dpbf16_ps(part, (__m512bh)even, (__m512bh)_mm512_loadu_si512(x));
    return _mm512_dpbf16_ps(part, (__m512bh)odd, (__m512bh)_mm512_loadu_si512(x + 32));
}

// R rows r0, r0 + rowStride, ... against T tokens' inputs (decode: T = 1, R = kDecodeStreams
// sequential streams; a few tokens of prefill or batched decode: R x T = kDecodeStreams), each
// line's BF16s built once for all T; y[t * yStride + r].
template <int R, int T>
CROSSROADS_AVX512BF16_VBMI void decodeFp8Dot(const Matrix& w, int64_t r0, int64_t rowStride,
                                             const Fp8DotInput* in, float* y, int64_t yStride) {
    const int64_t prefetch = fp8DecodePrefetchBytes();
    const __m512i magnitude = _mm512_set1_epi16(static_cast<short>(0x87f0));
    const __m512i exponent = _mm512_set1_epi8(0x78);
    __m512 acc[R][T];
    float tails[R][T];
    const uint8_t* rows[R];
    const float* scales[R];
    const uint16_t* fast[T];
    for (int t = 0; t < T; ++t)
        fast[t] = in[t].fast;
    for (int i = 0; i < R; ++i) {
        for (int t = 0; t < T; ++t) {
            acc[i][t] = _mm512_setzero_ps();
            tails[i][t] = 0.0f;
        }
        rows[i] = reinterpret_cast<const uint8_t*>(w.row(r0 + i * rowStride));
        scales[i] = w.scaleRow(r0 + i * rowStride);
    }
    const int64_t cols = w.cols;
    const int64_t blocks = w.scaleCols();
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * w.blockCols;
        const int64_t c1 = std::min(cols, c0 + w.blockCols);
        const int64_t vectorEnd = c0 + ((c1 - c0) & ~int64_t{63});
        __m512 part[R][T];
        for (int i = 0; i < R; ++i)
            for (int t = 0; t < T; ++t)
                part[i][t] = _mm512_setzero_ps();
        for (int64_t c = c0; c < vectorEnd; c += 64) {
            // Each token's inputs loaded once for the R rows (R x T = 8: 16 sums, 2T inputs).
            __m512bh xEven[T], xOdd[T];
            for (int t = 0; t < T; ++t) {
                xEven[t] = (__m512bh)_mm512_loadu_si512(fast[t] + c);
                xOdd[t] = (__m512bh)_mm512_loadu_si512(fast[t] + c + 32);
            }
            for (int i = 0; i < R; ++i) {
                prefetchAhead(rows[i] + c, prefetch);
                const __m512i bytes = _mm512_loadu_si512(rows[i] + c);
                if (_mm512_testn_epi8_mask(bytes, exponent) != 0) [[unlikely]] {
                    for (int t = 0; t < T; ++t)
                        part[i][t] = fp8DotExact(part[i][t], bytes, in[t].slow + c);
                    continue;
                }
                const __m512i odd = _mm512_and_si512(_mm512_srai_epi16(bytes, 4), magnitude);
                const __m512i even =
                    _mm512_and_si512(_mm512_srai_epi16(_mm512_slli_epi16(bytes, 8), 4), magnitude);
                for (int t = 0; t < T; ++t) {
                    part[i][t] = _mm512_dpbf16_ps(part[i][t], (__m512bh)even, xEven[t]);
                    part[i][t] = _mm512_dpbf16_ps(part[i][t], (__m512bh)odd, xOdd[t]);
                }
            }
        }
        // Two loops: with the tails' call in the same one, GCC kept acc and part in memory.
        for (int i = 0; i < R; ++i)
            for (int t = 0; t < T; ++t)
                acc[i][t] = _mm512_fmadd_ps(part[i][t], _mm512_set1_ps(scales[i][b]), acc[i][t]);
        if (vectorEnd < c1)
            for (int i = 0; i < R; ++i)
                for (int t = 0; t < T; ++t)
                    tails[i][t] += fp8PartialDot(rows[i], in[t].x, vectorEnd, c1) * scales[i][b];
    }
    for (int i = 0; i < R; ++i)
        for (int t = 0; t < T; ++t)
            y[t * yStride + r0 + i * rowStride] =
                reduce512(acc[i][t]) * in[t].rescale + tails[i][t];
}

// Rows [rowBegin, rowEnd) for T tokens, in kDecodeStreams / T sequential streams.
template <int T>
CROSSROADS_AVX512BF16_VBMI void rowsFp8Dot(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                           const Fp8DotInput* in, float* y, int64_t yStride) {
    constexpr int kStreams = kDecodeStreams / T > 0 ? kDecodeStreams / T : 1;
    const int64_t run = (rowEnd - rowBegin) / kStreams;
    for (int64_t k = 0; k < run; ++k)
        decodeFp8Dot<kStreams, T>(w, rowBegin + k, run, in, y, yStride);
    for (int64_t r = rowBegin + kStreams * run; r < rowEnd; ++r)
        decodeFp8Dot<1, T>(w, r, 1, in, y, yStride);
}

CROSSROADS_AVX512BF16_VBMI void matvecFp8Dot(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                             const float* x, float* y) {
    const Fp8DotInput in = prepareFp8DotInput(w, x, 0);
    rowsFp8Dot<1>(w, rowBegin, rowEnd, &in, y, 0);
}

// FP8 prefill on the dot-product instruction: a strip of 64 rows by one scale block of columns
// is converted to BF16 pair panels per call (exact: every E4M3 is a normal BF16), into a
// 16 KiB buffer that stays in L1 while every group of tokens passes over it on pairTile, whose
// epilogue applies each row's block scale. No BF16 copy of the weights outlives the call. Per
// 64 weights of a row: one load, five byte-table operations (vpermt2b), a quarter of two 16 x 16
// transposes; then a dot-product instruction per 32 multiplies and 4 rows of 16, twice the
// multiplies of the F32 packed GEMM's FMAs, on a panel a quarter of its F32 panel's size.
const Fp8Bf16Tables& fp8PanelTables() {
    static const Fp8Bf16Tables tables(0);
    return tables;
}

constexpr int64_t kFp8PairGroup = 64; // columns converted per load: 32 pairs

// vpermt2b indices that interleave the low and high bytes of 64 BF16s (table a: low, b: high)
// into their 16-bit words, the first 32 then the last 32.
struct Fp8PairOrder {
    alignas(64) uint8_t index[2][64];
    constexpr Fp8PairOrder() : index{} {
        for (int half = 0; half < 2; ++half)
            for (int i = 0; i < 32; ++i) {
                index[half][2 * i] = static_cast<uint8_t>(32 * half + i);
                index[half][2 * i + 1] = static_cast<uint8_t>(64 + 32 * half + i);
            }
    }
    const uint8_t* operator[](int half) const { return index[half]; }
};
constexpr Fp8PairOrder kFp8PairOrder;

// 64 E4M3 bytes to their 64 BF16s (exact), the first 32 and the last 32 in column order: each
// byte's high and low BF16 bytes from the tables, the sign onto the high one, then the two
// interleaved into 16-bit words. The tables and indices stay in registers across calls.
struct Fp8LineToBf16 {
    __m512i high0, high1, low0, low1, first, second, sign;
    CROSSROADS_AVX512BF16_VBMI Fp8LineToBf16() {
        const Fp8Bf16Tables& tables = fp8PanelTables();
        high0 = _mm512_load_si512(tables.high);
        high1 = _mm512_load_si512(tables.high + 64);
        low0 = _mm512_load_si512(tables.low);
        low1 = _mm512_load_si512(tables.low + 64);
        first = _mm512_load_si512(kFp8PairOrder[0]);
        second = _mm512_load_si512(kFp8PairOrder[1]);
        sign = _mm512_set1_epi8(static_cast<char>(0x80));
    }
    CROSSROADS_AVX512BF16_VBMI void operator()(__m512i bytes, __m512i& firstHalf,
                                               __m512i& secondHalf) const {
        const __m512i high = _mm512_ternarylogic_epi32(
            _mm512_permutex2var_epi8(high0, bytes, high1), bytes, sign, 0xf8);
        const __m512i low = _mm512_permutex2var_epi8(low0, bytes, low1);
        firstHalf = _mm512_permutex2var_epi8(low, first, high);
        secondHalf = _mm512_permutex2var_epi8(low, second, high);
    }
};
// From this many tokens FP8 products take gemmFp8Lanes (then gemmFp8Pairs beyond kFp8LaneTokens);
// fewer take fewTokensFp8Dot, which builds each line's BF16s once for up to four tokens without a
// transpose. Single-threaded on the 2-core Zen 4, expert shapes 2048 x 7168 and 7168 x 2048
// streaming from memory: the few-token kernel 1.1 ms at 2 tokens, 1.7-2.4 at 3, 2.4-2.8 at 4;
// gemmFp8Pairs 2.8-2.9 ms at 5 tokens and at 8 (packing is most of it there), 40-41 at 256 (186
// GFLOP/s). Before, the AVX2 few-token kernel took 2.6-2.8 ms at 2 tokens and 5.2-6.2 at 5, the
// F32 packed GEMM 7.2-8.6 at 8 and 82-89 at 256.
constexpr int64_t kFp8PairsMinTokens = 5;

// 2 to kFp8PairsMinTokens - 1 tokens: each token's input prepared as for decode.
CROSSROADS_AVX512BF16_VBMI void fewTokensFp8Dot(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                                const float* x, int64_t xStride, int64_t tokens,
                                                float* y, int64_t yStride) {
    static_assert(kFp8PairsMinTokens - 1 <= kFp8DotTokens);
    Fp8DotInput in[kFp8DotTokens];
    for (int64_t t = 0; t < tokens; ++t)
        in[t] = prepareFp8DotInput(w, x + t * xStride, static_cast<int>(t));
    switch (tokens) {
    case 2:
        return rowsFp8Dot<2>(w, rowBegin, rowEnd, in, y, yStride);
    case 3:
        return rowsFp8Dot<3>(w, rowBegin, rowEnd, in, y, yStride);
    default:
        return rowsFp8Dot<4>(w, rowBegin, rowEnd, in, y, yStride);
    }
}

// strip[p * 128 + 2 j + h] = BF16 of W[r0 + j][c0 + 2 p + h], for j < 64 and p below depth / 2
// rounded up to 32 pairs; zero past `rows` rows and past `depth` columns. Each line read
// prefetches the one `ahead` bytes on in its row (the next block's): 64 rows stream at once, more
// than the hardware prefetchers follow. One block ahead took an 8-token expert product from 4.7
// to 2.9 ms, 256 tokens from 42-49 to 40-41 ms (single-threaded, 2-core Zen 4); two blocks
// measured the same.
CROSSROADS_AVX512BF16_VBMI void packFp8PairStrip(const Matrix& w, int64_t r0, int64_t rows,
                                                 int64_t c0, int64_t depth, uint16_t* strip,
                                                 int64_t ahead) {
    const Fp8LineToBf16 convert;
    for (int64_t g = 0; g < depth; g += kFp8PairGroup) {
        const int64_t width = std::min(kFp8PairGroup, depth - g);
        const auto columns = width == 64 ? ~__mmask64{0} : (__mmask64{1} << width) - 1;
        for (int64_t h = 0; h < kPairPanelRows; h += 16) {
            __m512 pairs0[16], pairs1[16]; // pairs 0..15 and 16..31 of the group, row by row
            for (int j = 0; j < 16; ++j) {
                if (h + j >= rows) {
                    pairs0[j] = pairs1[j] = _mm512_setzero_ps();
                    continue;
                }
                const auto* row = reinterpret_cast<const uint8_t*>(w.row(r0 + h + j));
                const __m512i bytes = _mm512_maskz_loadu_epi8(columns, row + c0 + g);
                _mm_prefetch(reinterpret_cast<const char*>(row + c0 + g + ahead), _MM_HINT_T0);
                __m512i firstHalf, secondHalf;
                convert(bytes, firstHalf, secondHalf);
                pairs0[j] = _mm512_castsi512_ps(firstHalf);
                pairs1[j] = _mm512_castsi512_ps(secondHalf);
            }
            transpose16x16(pairs0);
            transpose16x16(pairs1);
            float* out = reinterpret_cast<float*>(strip) + (g / 2) * kPairPanelRows + h;
            for (int i = 0; i < 16; ++i) {
                _mm512_storeu_ps(out + i * kPairPanelRows, pairs0[i]);
                _mm512_storeu_ps(out + (16 + i) * kPairPanelRows, pairs1[i]);
            }
        }
    }
}

// Whether gemmFp8Pairs takes w (on a CPU with VBMI): pairs of columns that no scale block splits.
bool fp8PairsTake(const Matrix& w) {
    return w.cols % 2 == 0 && w.blockCols % 2 == 0 && w.blockCols > 0;
}

// y[t][rowBegin..rowEnd) = W x[t] for FP8 W, x rounded to BF16 (xStride elements per token).
CROSSROADS_AVX512BF16_VBMI void gemmFp8Pairs(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                             const uint16_t* x, int64_t xStride, int64_t tokens,
                                             float* y, int64_t yStride) {
    static constexpr auto kTiles = pairTiles(std::make_index_sequence<kPairTileTokens + 1>{});
    const int64_t blocks = w.scaleCols();
    const int64_t groups = (w.blockCols + kFp8PairGroup - 1) / kFp8PairGroup;
    thread_local std::vector<uint16_t> strip;
    strip.resize(static_cast<std::size_t>(groups * kFp8PairGroup * kPairPanelRows));
    alignas(64) float scales[kPairPanelRows] = {};
    const float* rowScales[kPairPanelRows];
    for (int64_t r0 = rowBegin; r0 < rowEnd; r0 += kPairPanelRows) {
        const int64_t rows = std::min(kPairPanelRows, rowEnd - r0);
        for (int64_t j = 0; j < rows; ++j)
            rowScales[j] = w.scaleRow(r0 + j);
        for (int64_t b = 0; b < blocks; ++b) {
            const int64_t c0 = b * w.blockCols;
            const int64_t depth = std::min(w.blockCols, w.cols - c0);
            packFp8PairStrip(w, r0, rows, c0, depth, strip.data(),
                             b + 1 < blocks ? w.blockCols : 0);
            for (int64_t j = 0; j < rows; ++j)
                scales[j] = rowScales[j][b];
            for (int64_t t = 0; t < tokens; t += kPairTileTokens) {
                const auto group = std::min<int64_t>(kPairTileTokens, tokens - t);
                kTiles[static_cast<std::size_t>(group)](
                    strip.data(), depth / 2, x + t * xStride + c0, xStride, y + t * yStride + r0,
                    yStride, rows, b > 0, scales);
            }
        }
    }
}

// x's BF16 tokens (xStride apart) as F32 values, `cols` apart, in the thread's buffer (valid
// until its next call): the input of the kernels that take F32, on which rounding again is the
// identity.
CROSSROADS_AVX512BF16 const float* tokensToF32(const uint16_t* x, int64_t xStride, int64_t tokens,
                                               int64_t cols) {
    thread_local std::vector<float> widened;
    widened.resize(static_cast<std::size_t>(tokens * cols));
    const int64_t vectorCols = cols & ~int64_t{15};
    for (int64_t t = 0; t < tokens; ++t) {
        const uint16_t* in = x + t * xStride;
        float* out = widened.data() + t * cols;
        for (int64_t c = 0; c < vectorCols; c += 16) {
            const __m512i bits =
                _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + c)));
            _mm512_storeu_ps(out + c, _mm512_castsi512_ps(_mm512_slli_epi32(bits, 16)));
        }
        for (int64_t c = vectorCols; c < cols; ++c)
            out[c] = bf16ToFloat(in[c]);
    }
    return widened.data();
}

// FP8 products of kFp8PairsMinTokens to kFp8LaneTokens tokens (a MoE prefill's experts: 256
// tokens over DeepSeek-V3's 256 experts, top 8, give each about 8), the tokens across the lanes
// of one vector (256 bits up to 8 tokens, 512 up to 16): each row's block is converted to BF16
// in place (the byte tables, exact) with no transpose, and each of its column pairs broadcast
// against the tokens' input pairs (one 32-bit lane per token, transposed once per call): a
// dot-product instruction per pair and row, kFp8LaneRows rows at once for independent sums, each
// row's block scale applied per block. Per 64 weights of a row: one load and four byte-table
// operations, against gemmFp8Pairs' five and a quarter of two 16 x 16 transposes. Single-threaded
// on the 2-core Zen 4, expert shapes 2048 x 7168 and 7168 x 2048 streaming from memory, against
// gemmFp8Pairs in one run: 1.99 against 2.41 ms and 2.48 against 2.68 at 6 tokens, 1.99 / 2.64
// and 2.50 / 2.99 at 8; 2.90 / 2.91 and 3.39 / 3.24 at 10, 2.89 / 3.85 and 3.41 / 4.12 at 16.
// At 2 to 4 tokens fewTokensFp8Dot stays faster (1.0 against 1.9 ms at 2, 1.9 against 2.0 at 4).
constexpr int64_t kFp8LaneTokens = 16;
constexpr int kFp8LaneRows = 12;
constexpr int64_t kFp8LaneChunk = 128; // columns converted at once, a multiple of kFp8PairGroup

// The vector of L token lanes (8: 256 bits, 16: 512) and its operations.
template <int L> struct LaneVector;
template <> struct LaneVector<8> {
    using F = __m256;
    using X = __m256bh;
    static CROSSROADS_AVX512BF16 F zero() { return _mm256_setzero_ps(); }
    static CROSSROADS_AVX512BF16 X load(const uint32_t* x) {
        return (__m256bh)_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    }
    static CROSSROADS_AVX512BF16 F dot(F acc, int32_t pair, X x) {
        return _mm256_dpbf16_ps(acc, (__m256bh)_mm256_set1_epi32(pair), x);
    }
    static CROSSROADS_AVX512BF16 F scaleAdd(F part, float scale, F acc) {
        return _mm256_fmadd_ps(part, _mm256_set1_ps(scale), acc);
    }
    static CROSSROADS_AVX512BF16 void store(float* out, F v) { _mm256_storeu_ps(out, v); }
    // The first n (<= 8) 32-bit pairs at x, the rest zero.
    static CROSSROADS_AVX512BF16 F loadPairs(const uint16_t* x, int64_t n) {
        return _mm256_castsi256_ps(
            _mm256_maskz_loadu_epi32(static_cast<__mmask8>((1u << n) - 1), x));
    }
    static CROSSROADS_AVX512BF16 void transpose(F (&v)[8]) { transpose8x8(v); }
};
template <> struct LaneVector<16> {
    using F = __m512;
    using X = __m512bh;
    static CROSSROADS_AVX512BF16 F zero() { return _mm512_setzero_ps(); }
    static CROSSROADS_AVX512BF16 X load(const uint32_t* x) {
        return (__m512bh)_mm512_loadu_si512(x);
    }
    static CROSSROADS_AVX512BF16 F dot(F acc, int32_t pair, X x) {
        return _mm512_dpbf16_ps(acc, (__m512bh)_mm512_set1_epi32(pair), x);
    }
    static CROSSROADS_AVX512BF16 F scaleAdd(F part, float scale, F acc) {
        return _mm512_fmadd_ps(part, _mm512_set1_ps(scale), acc);
    }
    static CROSSROADS_AVX512BF16 void store(float* out, F v) { _mm512_storeu_ps(out, v); }
    static CROSSROADS_AVX512BF16 F loadPairs(const uint16_t* x, int64_t n) {
        return _mm512_castsi512_ps(
            _mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << n) - 1), x));
    }
    static CROSSROADS_AVX512BF16 void transpose(F (&v)[16]) { transpose16x16(v); }
};

// out[p * L + t] = x[t][2p], x[t][2p + 1] as one 32-bit lane (zero past `tokens`), p < cols / 2;
// in the thread's buffer, valid until its next call.
template <int L>
CROSSROADS_AVX512BF16 const uint32_t* tokenLanePairs(const uint16_t* x, int64_t xStride,
                                                     int64_t tokens, int64_t cols) {
    using V = LaneVector<L>;
    thread_local std::vector<uint32_t> lanes;
    const int64_t pairs = cols / 2;
    lanes.resize(static_cast<std::size_t>((pairs + L - 1) / L * L * L));
    for (int64_t p0 = 0; p0 < pairs; p0 += L) {
        const int64_t n = std::min<int64_t>(L, pairs - p0);
        typename V::F v[L];
        for (int t = 0; t < L; ++t)
            v[t] = t < tokens ? V::loadPairs(x + t * xStride + 2 * p0, n) : V::zero();
        V::transpose(v);
        for (int p = 0; p < L; ++p)
            V::store(reinterpret_cast<float*>(lanes.data() + (p0 + p) * L), v[p]);
    }
    return lanes.data();
}

// R rows from r0 against the token lanes: y[t * yStride + r0 + i] for t < tokens.
template <int L, int R>
CROSSROADS_AVX512BF16_VBMI void fp8LaneRows(const Matrix& w, int64_t r0, const uint32_t* lanes,
                                            int64_t tokens, float* y, int64_t yStride) {
    const Fp8LineToBf16 convert;
    alignas(64) uint16_t converted[R][kFp8LaneChunk]; // a row's columns of one chunk
    const uint8_t* rows[R];
    const float* scales[R];
    using V = LaneVector<L>;
    typename V::F acc[R];
    for (int i = 0; i < R; ++i) {
        rows[i] = reinterpret_cast<const uint8_t*>(w.row(r0 + i));
        scales[i] = w.scaleRow(r0 + i);
        acc[i] = V::zero();
    }
    const int64_t blocks = w.scaleCols();
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * w.blockCols;
        const int64_t depth = std::min(w.blockCols, w.cols - c0);
        const int64_t ahead = b + 1 < blocks ? w.blockCols : 0;
        typename V::F part[R];
        for (int i = 0; i < R; ++i)
            part[i] = V::zero();
        for (int64_t chunk = 0; chunk < depth; chunk += kFp8LaneChunk) {
            const int64_t span = std::min(kFp8LaneChunk, depth - chunk);
            const int64_t c = c0 + chunk;
            for (int64_t g = 0; g < span; g += kFp8PairGroup) {
                const int64_t width = std::min(kFp8PairGroup, span - g);
                const auto columns = width == 64 ? ~__mmask64{0} : (__mmask64{1} << width) - 1;
                for (int i = 0; i < R; ++i) {
                    const __m512i bytes = _mm512_maskz_loadu_epi8(columns, rows[i] + c + g);
                    _mm_prefetch(reinterpret_cast<const char*>(rows[i] + c + g + ahead),
                                 _MM_HINT_T0);
                    __m512i firstHalf, secondHalf;
                    convert(bytes, firstHalf, secondHalf);
                    _mm512_store_si512(converted[i] + g, firstHalf);
                    _mm512_store_si512(converted[i] + g + 32, secondHalf);
                }
            }
            const uint32_t* xs = lanes + (c / 2) * L;
            for (int64_t p = 0; p < span / 2; ++p) {
                const auto xv = V::load(xs + p * L);
                for (int i = 0; i < R; ++i) {
                    int32_t pair;
                    std::memcpy(&pair, converted[i] + 2 * p, sizeof pair);
                    part[i] = V::dot(part[i], pair, xv);
                }
            }
        }
        for (int i = 0; i < R; ++i)
            acc[i] = V::scaleAdd(part[i], scales[i][b], acc[i]);
    }
    float sums[R][L];
    for (int i = 0; i < R; ++i)
        V::store(sums[i], acc[i]);
    for (int64_t t = 0; t < tokens; ++t)
        for (int i = 0; i < R; ++i)
            y[t * yStride + r0 + i] = sums[i][t];
}

using Fp8LaneRowsFn = void (*)(const Matrix&, int64_t, const uint32_t*, int64_t, float*, int64_t);
template <int L, std::size_t... I> constexpr auto fp8LaneRowFns(std::index_sequence<I...>) {
    return std::array<Fp8LaneRowsFn, sizeof...(I)>{
        (I == 0 ? nullptr : &fp8LaneRows<L, static_cast<int>(I == 0 ? 1 : I)>)...};
}

// y[t][rowBegin..rowEnd) = W x[t] for FP8 W, x rounded to BF16, up to L tokens.
template <int L>
CROSSROADS_AVX512BF16_VBMI void gemmFp8Lanes(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                             const uint16_t* x, int64_t xStride, int64_t tokens,
                                             float* y, int64_t yStride) {
    static constexpr auto kRows = fp8LaneRowFns<L>(std::make_index_sequence<kFp8LaneRows + 1>{});
    const uint32_t* lanes = tokenLanePairs<L>(x, xStride, tokens, w.cols);
    for (int64_t r = rowBegin; r < rowEnd; r += kFp8LaneRows) {
        const auto n = std::min<int64_t>(kFp8LaneRows, rowEnd - r);
        kRows[static_cast<std::size_t>(n)](w, r, lanes, tokens, y, yStride);
    }
}

// From kFp8PairsMinTokens tokens (VBMI, fp8PairsTake): the token lanes up to kFp8LaneTokens, the
// pair panels beyond.
CROSSROADS_AVX512BF16_VBMI void gemmFp8Rounded(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                               const uint16_t* x, int64_t xStride, int64_t tokens,
                                               float* y, int64_t yStride) {
    if (tokens <= 8)
        return gemmFp8Lanes<8>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    if (tokens <= kFp8LaneTokens)
        return gemmFp8Lanes<16>(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    gemmFp8Pairs(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
}

// FP8 products under avx512-bf16: the dot-product decode where it is chosen and runs, otherwise
// the AVX-512 family's FP8 kernels on the inputs rounded to BF16 as F32 values (each product of
// an FP8 and a BF16 value is exact in F32, so every path computes one function).
CROSSROADS_AVX512BF16 void matmulFp8Avx512Bf16(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                               const float* x, int64_t xStride, int64_t tokens,
                                               float* y, int64_t yStride) {
    static const bool dotRuns = fp8DecodeKernelRuns(Fp8DecodeKernel::Bf16Dot, Isa::Avx512Bf16);
    if (tokens == 1 && dotRuns && fp8DecodeKernel() == Fp8DecodeKernel::Bf16Dot)
        return matvecFp8Dot(w, rowBegin, rowEnd, x, y);
    if (tokens > 1 && tokens < kFp8PairsMinTokens && dotRuns)
        return fewTokensFp8Dot(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    if (tokens >= kFp8PairsMinTokens && dotRuns && fp8PairsTake(w))
        return gemmFp8Rounded(w, rowBegin, rowEnd, tokensToBf16(x, xStride, tokens, w.cols), w.cols,
                              tokens, y, yStride);
    thread_local std::vector<float> rounded;
    rounded.resize(static_cast<std::size_t>(tokens * w.cols));
    for (int64_t t = 0; t < tokens; ++t)
        roundToBf16Values(x + t * xStride, w.cols, rounded.data() + t * w.cols);
    matmulAvx512(w, rowBegin, rowEnd, rounded.data(), w.cols, tokens, y, yStride);
}

// BF16 weights against x already rounded to BF16 (xStride elements per token), below
// packedGemmMinTokens() tokens: the decode kernel's sequential streams for one token, micro-tiles
// of four tokens for more.
CROSSROADS_AVX512BF16 void dotBf16Rounded(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                          const uint16_t* x, int64_t xStride, int64_t tokens,
                                          float* y, int64_t yStride) {
    if (tokens == 1) {
        const int64_t run = (rowEnd - rowBegin) / kDecodeStreams;
        for (int64_t k = 0; k < run; ++k)
            decodeBf16<kDecodeStreams>(w, rowBegin + k, run, x, y);
        for (int64_t r = rowBegin + kDecodeStreams * run; r < rowEnd; ++r)
            decodeBf16<1>(w, r, 1, x, y);
        return;
    }
    for (int64_t rb = rowBegin; rb < rowEnd; rb += kRowBlock) {
        const int64_t re = std::min(rowEnd, rb + kRowBlock);
        int64_t t = 0;
        for (; t + 4 <= tokens; t += 4)
            rowsBf16<4>(w, rb, re, x + t * xStride, xStride, y + t * yStride, yStride);
        for (; t < tokens; ++t)
            rowsBf16<1>(w, rb, re, x + t * xStride, xStride, y + t * yStride, yStride);
    }
}

} // namespace

CROSSROADS_AVX512BF16 void matmulAvx512Bf16(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                            const float* x, int64_t xStride, int64_t tokens,
                                            float* y, int64_t yStride) {
    if (w.type == WeightType::FP8E4M3)
        return matmulFp8Avx512Bf16(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
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
    dotBf16Rounded(w, rowBegin, rowEnd, tokensToBf16(x, xStride, tokens, w.cols), w.cols, tokens, y,
                   yStride);
}

CROSSROADS_AVX512BF16 void matmulAvx512Bf16Rounded(const Matrix& w, int64_t rowBegin,
                                                   int64_t rowEnd, const uint16_t* x,
                                                   int64_t xStride, int64_t tokens, float* y,
                                                   int64_t yStride) {
    // Only the kernels that read BF16 inputs take x as it is; the rest take its F32 values.
    static const bool dotRuns = fp8DecodeKernelRuns(Fp8DecodeKernel::Bf16Dot, Isa::Avx512Bf16);
    const bool fp8 = w.type == WeightType::FP8E4M3;
    if (fp8 && tokens >= kFp8PairsMinTokens && dotRuns && xStride % 2 == 0 && fp8PairsTake(w))
        return gemmFp8Rounded(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    if (!fp8 && tokens < packedGemmMinTokens())
        return dotBf16Rounded(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    if (fp8)
        return matmulFp8Avx512Bf16(w, rowBegin, rowEnd, tokensToF32(x, xStride, tokens, w.cols),
                                   w.cols, tokens, y, yStride);
    gemmPackedAvx512(w, rowBegin, rowEnd, tokensToF32(x, xStride, tokens, w.cols), w.cols, tokens,
                     y, yStride);
}

} // namespace crossroads::inference::kernels
