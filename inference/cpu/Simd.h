// The x86 vector intrinsics, for the files that hold vector kernels.
// GCC 12's AVX-512 headers build results from _mm512_undefined_*() and then warn about it
// (GCC PR 105593) wherever they are inlined; the warning is about the header, not our code, so
// it is off for the rest of a file that includes this one.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

// Per-function targets (F16C for the FP8 widening, which goes through F16; every AVX2 CPU has it),
// so one binary carries every family and dispatches at run time.
#define CROSSROADS_AVX2 __attribute__((target("avx2,fma,f16c")))
#define CROSSROADS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define CROSSROADS_AVX512BF16                                                                      \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,f16c")))
// The FP8 dot-product decode (vpermt2b byte tables): AVX-512-BF16 with VBMI.
#define CROSSROADS_AVX512BF16_VBMI                                                                 \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx512vbmi,avx2,fma,f16c")))
