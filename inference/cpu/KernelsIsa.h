// The CPU kernels of each instruction-set family, one file per family (KernelsScalar.cpp,
// KernelsAvx2.cpp, KernelsAvx512.cpp, KernelsAvx512Bf16.cpp), behind the dispatch in
// Kernels.cpp. Internal to cpu/: the public entry points and their references are Kernels.h.
#pragma once

#include "inference/cpu/Kernels.h"
#include "inference/cpu/Simd.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace crossroads::inference::kernels {

// One token (decode) is a pure stream of the weights, so the order of the reads is what counts.
// The rows split into kDecodeStreams runs of adjacent rows, walked in step, one row of each at a
// time: every run is one long sequential stream the hardware prefetcher follows, and eight of
// them keep enough loads in flight. Eight adjacent rows at a time instead restart eight short
// streams every few kilobytes: on the 2-core EPYC that read 768-column expert rows at ~60% of
// the bandwidth, against ~90% this way (and long rows a few percent faster).
constexpr int kDecodeStreams = 8;

// Decode streams its weights from memory once, and its kernels spend a few dependent
// instructions per line read (a dot-product chain, or a widening and two FMAs). On the 2-core
// Xeon (AVX-512-BF16) the out-of-order window then filled before enough loads were in flight:
// the vdpbf16ps stream read the LM head at 86-88% of the bandwidth kernel's rate, a plain add of
// the same loads at 100-102%, and with a prefetch 512 B to 2 KB ahead on every stream 99-101%.
// On AMD's cores the same prefetches cost instead of helping (their own prefetchers already run
// ahead, and the extra loads compete for the load ports): on the 2-core EPYC with AVX-512-BF16,
// Qwen3 decode read at 76% (avx512-bf16) and 66% (avx2) of the bandwidth with them, 97% and 94%
// without. So the distance is a setting (decodePrefetchBytes, Kernels.h), 0 meaning none, read
// once per kernel call.
inline void prefetchAhead(const void* line, int64_t distance) {
    if (distance > 0)
        _mm_prefetch(static_cast<const char*>(line) + distance, _MM_HINT_T0);
}

// FP8 products of fewer tokens than this (more than one) build each row's weights once for
// all of them (fewTokensFp8Avx2) instead of packing panels for the GEMM, on every vector ISA.
constexpr int64_t kFp8DotMaxTokens = 8;

// Rows in blocks that stay in L2 while every token pair streams past them.
constexpr int64_t kRowBlock = 16;

inline float weightAt(const Matrix& w, const std::byte* row, int64_t c) {
    if (w.type == WeightType::F32)
        return reinterpret_cast<const float*>(row)[c];
    return bf16ToFloat(reinterpret_cast<const uint16_t*>(row)[c]);
}

// FP8 E4M3 (Fp8.h) widens through F16: the sign-extended byte shifted left by 7 has the sign in
// bit 15 (and a copy in bit 14, cleared by the mask) and the magnitude bits where an F16 keeps
// them, so the F16 is the value x 2^-8 exactly, subnormals included, and vcvtph2ps makes it F32.
// The 2^8 goes into the block scale, applied once per block to the block's partial sum. The
// NaN pattern (S.1111.111) reads as 480 here, where Matrix::at and the scalar kernels give NaN:
// saturating quantisers (DeepSeek-V3's included) never write it. On the 2-core EPYC this
// widening outran an F32 rebuild by shifts and a multiply by 2^120 (11.0 against 9.8 GB/s of
// weights per core from L2), but vcvtph2ps throughput bounds it there: the AVX2 decode kernel
// (decodeFp8Avx2) builds the F32s by integer shifts and masks instead, with no multiply (its
// comment), and so does the AVX-512 one (decodeFp8Avx512); the panel packing of the GEMMs
// still goes through F16.
constexpr float kFp8HalfScale = 256.0f;

// The integer-built FP8 kernels (decodeFp8Avx2, decodeFp8Avx512) multiply E4M3 x 2^-120 with x
// x 2^s: the largest s <= 120 for which no |x| 2^s overflows (s = 0 for inf or NaN in x).
inline int fp8InputShift(const float* x, int64_t n) {
    uint32_t maxBits = 0;
    for (int64_t c = 0; c < n; ++c) {
        uint32_t bits;
        std::memcpy(&bits, x + c, sizeof bits);
        maxBits = std::max(maxBits, bits & 0x7fffffffu);
    }
    const int exponent = static_cast<int>(maxBits >> 23); // biased; 255 for inf and NaN
    return std::clamp(250 - exponent, 0, 120);
}

// Sum of W[r][c] x[c] over c in [c0, c1), scaled by the block's scale: the scalar tails.
inline float fp8PartialDot(const uint8_t* row, const float* x, int64_t c0, int64_t c1) {
    float sum = 0.0f;
    for (int64_t c = c0; c < c1; ++c)
        sum += fp8E4M3ToFloat(row[c]) * x[c];
    return sum;
}

CROSSROADS_AVX2 inline __m256i fp8ToHalves16(const uint8_t* bytes) {
    const __m256i wide =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)));
    return _mm256_and_si256(_mm256_slli_epi16(wide, 7),
                            _mm256_set1_epi16(static_cast<short>(0xbf80)));
}
CROSSROADS_AVX2 inline __m128i fp8ToHalves8(const uint8_t* bytes) {
    const __m128i wide =
        _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes)));
    return _mm_and_si128(_mm_slli_epi16(wide, 7), _mm_set1_epi16(static_cast<short>(0xbf80)));
}

CROSSROADS_AVX2 inline float horizontalSum(__m256 v) {
    const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
    return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
}

// _mm512_reduce_add_ps trips GCC 12's -Wmaybe-uninitialized inside its own header.
CROSSROADS_AVX512 inline float reduce512(__m512 v) {
    const __m256 low = _mm512_castps512_ps256(v);
    const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return horizontalSum(_mm256_add_ps(low, high));
}

// r[i][j] -> r[j][i] for an 8 x 8 block of floats (or of any 32-bit lanes, cast).
CROSSROADS_AVX2 inline void transpose8x8(__m256 (&r)[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// r[i][j] -> r[j][i] for a 16 x 16 block of floats (or of any 32-bit lanes, cast).
CROSSROADS_AVX512 inline void transpose16x16(__m512 (&r)[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
    }
    for (int h = 0; h < 2; ++h)
        for (int i = 0; i < 4; ++i) {
            t[8 * h + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + i + 4], 0x88);
            t[8 * h + i + 4] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + i + 4], 0xdd);
        }
    for (int i = 0; i < 8; ++i) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

// floatToBf16 (Tensor.h: round to nearest even, NaN stays NaN) for 16 lanes, bit for bit, as
// F32 values (the packed GEMM's inputs) or as BF16 (the dot-product kernels'). A scalar loop of
// it cost more than the product itself on a 64-row task of 16 tokens.
CROSSROADS_AVX512 inline __m512i roundedBits(__m512 v) {
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    const __m512i high = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
    const __m512i rounded = _mm512_and_si512(
        _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), high);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(
        _mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    return _mm512_mask_mov_epi32(
        rounded, nan, _mm512_or_si512(_mm512_and_si512(bits, high), _mm512_set1_epi32(0x400000)));
}
// out[i] = bf16ToFloat(floatToBf16(x[i])), i < n.
CROSSROADS_AVX512 inline void roundToBf16Values(const float* x, int64_t n, float* out) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, _mm512_castsi512_ps(roundedBits(_mm512_loadu_ps(x + i))));
    for (; i < n; ++i)
        out[i] = bf16ToFloat(floatToBf16(x[i]));
}
// out[i] = floatToBf16(x[i]), i < n.
CROSSROADS_AVX512 inline void roundToBf16Avx512(const float* x, int64_t n, uint16_t* out) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256(
            reinterpret_cast<__m256i*>(out + i),
            _mm512_cvtepi32_epi16(_mm512_srli_epi32(roundedBits(_mm512_loadu_ps(x + i)), 16)));
    for (; i < n; ++i)
        out[i] = floatToBf16(x[i]);
}

// Each family's matmulRows (same contract as Kernels.h).
void matmulScalar(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                  int64_t xStride, int64_t tokens, float* y, int64_t yStride);
void matmulAvx2(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x, int64_t xStride,
                int64_t tokens, float* y, int64_t yStride);
void matmulAvx512(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                  int64_t xStride, int64_t tokens, float* y, int64_t yStride);
// The packed GEMM at 512 bits (any token count; matmulAvx512 takes it from
// packedGemmMinTokens() tokens on), for the AVX-512-BF16 family too, on inputs it has rounded.
void gemmPackedAvx512(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                      int64_t xStride, int64_t tokens, float* y, int64_t yStride);
void matmulAvx512Bf16(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                      int64_t xStride, int64_t tokens, float* y, int64_t yStride);
// matmulRowsBf16Input (Kernels.h) for BF16 and FP8 weights.
void matmulAvx512Bf16Rounded(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const uint16_t* x,
                             int64_t xStride, int64_t tokens, float* y, int64_t yStride);

// gemmPairPanels (Kernels.h) on strips [stripBegin, stripEnd).
void gemmPairPanelsAvx512Bf16(const uint16_t* panels, int64_t rows, int64_t cols,
                              int64_t stripBegin, int64_t stripEnd, const uint16_t* x,
                              int64_t xStride, int64_t tokens, float* y, int64_t yStride);

// attendPart (Kernels.h) without and with AVX2 (which every vector family has).
void attendPartScalar(const float* q, int64_t group, int64_t headDim, const float* keys,
                      const float* values, int64_t stride, int64_t begin, int64_t end, float scale,
                      float* scores, float* maxScore, float* sumExp, float* out);
void attendPartAvx2(const float* q, int64_t group, int64_t headDim, const float* keys,
                    const float* values, int64_t stride, int64_t begin, int64_t end, float scale,
                    float* scores, float* maxScore, float* sumExp, float* out);
// matmulRowsTransposed (Kernels.h) with AVX2 (which every vector family has).
void matmulRowsTransposedAvx2(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                              int64_t xStride, int64_t tokens, float* y, int64_t yStride);
void swigluAvx2(const float* gate, const float* up, int64_t n, float* out);
float softmaxExpRowAvx2(float* row, int64_t n, float scale);
float dotAvx2(const float* a, const float* b, int64_t n);
void axpyAvx2(float alpha, const float* x, float* y, int64_t n);

} // namespace crossroads::inference::kernels
