#include "inference/cpu/Kernels.h"

#include "inference/cpu/KernelsIsa.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cpuid.h>

namespace crossroads::inference {

using namespace kernels;

namespace {

std::atomic<int> g_activeIsa{-1};
// From 32 tokens on the packed GEMM beats the dot-product kernels of both AVX-512 families on
// the 2-core Xeon (bench_engine_prefill_gemm, BF16 expert shapes, one run: at 16 tokens packed
// 66-74 GFLOP/s against 76-90 dot, at 32 97-107 against 87-97, at 256 138-151 against 89-110):
// packing costs about as much as the FMAs of 16 tokens.
std::atomic<int64_t> g_packedMinTokens{32};
std::atomic<int64_t> g_decodePrefetchBytes{defaultDecodePrefetchBytes()};

// F16C (vcvtph2ps, used by the FP8 panel packing): CPUID leaf 1, ECX bit 29. clang 14's
// __builtin_cpu_supports has no "f16c".
bool cpuHasF16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

// AVX-512-VBMI (vpermt2b), which the FP8 dot-product decode kernel's byte tables need.
bool cpuHasVbmi() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vbmi");
}

bool cpuHas(Isa isa) {
    __builtin_cpu_init();
    switch (isa) {
    case Isa::Scalar:
        return true;
    case Isa::Avx2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpuHasF16c();
    case Isa::Avx512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
    case Isa::Avx512Bf16:
        return cpuHas(Isa::Avx512) && __builtin_cpu_supports("avx512bf16");
    }
    return false;
}

} // namespace

void attendPart(const float* q, int64_t group, int64_t headDim, const float* keys,
                const float* values, int64_t stride, int64_t begin, int64_t end, float scale,
                float* scores, float* maxScore, float* sumExp, float* out) {
    if (activeIsa() != Isa::Scalar)
        return attendPartAvx2(q, group, headDim, keys, values, stride, begin, end, scale, scores,
                              maxScore, sumExp, out);
    attendPartScalar(q, group, headDim, keys, values, stride, begin, end, scale, scores, maxScore,
                     sumExp, out);
}

void attendPartReference(const float* q, int64_t group, int64_t headDim, const float* keys,
                         const float* values, int64_t stride, int64_t begin, int64_t end,
                         float scale, float* maxScore, float* sumExp, float* out) {
    for (int64_t g = 0; g < group; ++g) {
        std::vector<double> score;
        double best = -INFINITY;
        for (int64_t j = begin; j < end; ++j) {
            double dot = 0.0;
            for (int64_t d = 0; d < headDim; ++d)
                dot += static_cast<double>(q[g * headDim + d]) * keys[j * stride + d];
            score.push_back(dot * scale);
            best = std::max(best, score.back());
        }
        double total = 0.0;
        std::vector<double> sums(static_cast<std::size_t>(headDim), 0.0);
        for (int64_t j = begin; j < end; ++j) {
            const double weight = std::exp(score[static_cast<std::size_t>(j - begin)] - best);
            total += weight;
            for (int64_t d = 0; d < headDim; ++d)
                sums[static_cast<std::size_t>(d)] += weight * values[j * stride + d];
        }
        maxScore[g] = static_cast<float>(best);
        sumExp[g] = static_cast<float>(total);
        for (int64_t d = 0; d < headDim; ++d)
            out[g * headDim + d] = static_cast<float>(sums[static_cast<std::size_t>(d)]);
    }
}

void roundToBf16(const float* x, int64_t n, uint16_t* out) {
    if (isaSupported(Isa::Avx512))
        return roundToBf16Avx512(x, n, out);
    for (int64_t i = 0; i < n; ++i)
        out[i] = floatToBf16(x[i]);
}

int64_t packedGemmMinTokens() {
    return g_packedMinTokens.load(std::memory_order_relaxed);
}

void setPackedGemmMinTokens(int64_t tokens) {
    g_packedMinTokens.store(std::max<int64_t>(1, tokens), std::memory_order_relaxed);
}

int64_t defaultDecodePrefetchBytes() {
    __builtin_cpu_init();
    return __builtin_cpu_is("intel") ? 1024 : 0;
}

int64_t defaultFp8DecodePrefetchBytes() {
    __builtin_cpu_init();
    return __builtin_cpu_is("intel") ? 1024 : 256;
}

namespace {
std::atomic<int64_t> g_fp8DecodePrefetchBytes{defaultFp8DecodePrefetchBytes()};
} // namespace

int64_t fp8DecodePrefetchBytes() {
    return g_fp8DecodePrefetchBytes.load(std::memory_order_relaxed);
}

void setFp8DecodePrefetchBytes(int64_t bytes) {
    g_fp8DecodePrefetchBytes.store(std::max<int64_t>(0, bytes), std::memory_order_relaxed);
}

std::string_view fp8DecodeKernelName(Fp8DecodeKernel kernel) {
    switch (kernel) {
    case Fp8DecodeKernel::Widen256:
        return "widen256";
    case Fp8DecodeKernel::Widen512:
        return "widen512";
    case Fp8DecodeKernel::Bf16Dot:
        return "bf16-dot";
    }
    return "?";
}

bool fp8DecodeKernelRuns(Fp8DecodeKernel kernel, Isa isa) {
    if (isa != Isa::Avx512 && isa != Isa::Avx512Bf16)
        return false;
    if (!cpuHas(isa))
        return false;
    return kernel != Fp8DecodeKernel::Bf16Dot || (isa == Isa::Avx512Bf16 && cpuHasVbmi());
}

Fp8DecodeKernel defaultFp8DecodeKernel() {
    return fp8DecodeKernelRuns(Fp8DecodeKernel::Bf16Dot, Isa::Avx512Bf16)
               ? Fp8DecodeKernel::Bf16Dot
               : Fp8DecodeKernel::Widen512;
}

std::string_view fp8DecodeKernelInEffect() {
    const Isa isa = activeIsa();
    if (isa == Isa::Scalar)
        return "scalar";
    if (isa == Isa::Avx2)
        return fp8DecodeKernelName(Fp8DecodeKernel::Widen256);
    return fp8DecodeKernelName(fp8DecodeKernelRuns(fp8DecodeKernel(), isa)
                                   ? fp8DecodeKernel()
                                   : Fp8DecodeKernel::Widen512);
}

namespace {
std::atomic<Fp8DecodeKernel> g_fp8DecodeKernel{defaultFp8DecodeKernel()};
} // namespace

Fp8DecodeKernel fp8DecodeKernel() {
    return g_fp8DecodeKernel.load(std::memory_order_relaxed);
}

void setFp8DecodeKernel(Fp8DecodeKernel kernel) {
    g_fp8DecodeKernel.store(kernel, std::memory_order_relaxed);
}

int64_t decodePrefetchBytes() {
    return g_decodePrefetchBytes.load(std::memory_order_relaxed);
}

void setDecodePrefetchBytes(int64_t bytes) {
    g_decodePrefetchBytes.store(std::max<int64_t>(0, bytes), std::memory_order_relaxed);
}

std::string_view isaName(Isa isa) {
    switch (isa) {
    case Isa::Scalar:
        return "scalar";
    case Isa::Avx2:
        return "avx2";
    case Isa::Avx512:
        return "avx512";
    case Isa::Avx512Bf16:
        return "avx512-bf16";
    }
    return "?";
}

bool isaSupported(Isa isa) {
    return cpuHas(isa);
}

Isa bestSupportedIsa() {
    for (const Isa isa : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2})
        if (cpuHas(isa))
            return isa;
    return Isa::Scalar;
}

Isa activeIsa() {
    int isa = g_activeIsa.load(std::memory_order_relaxed);
    if (isa < 0) {
        isa = static_cast<int>(bestSupportedIsa());
        g_activeIsa.store(isa, std::memory_order_relaxed);
    }
    return static_cast<Isa>(isa);
}

void setActiveIsa(Isa isa) {
    if (!cpuHas(isa))
        throw EngineError("this CPU does not support " + std::string(isaName(isa)));
    g_activeIsa.store(static_cast<int>(isa), std::memory_order_relaxed);
}

ActivationRounding matmulActivationRounding(WeightType type) {
    return activeIsa() == Isa::Avx512Bf16 && type != WeightType::F32 ? ActivationRounding::Bf16
                                                                     : ActivationRounding::None;
}

void matmulRows(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x, int64_t xStride,
                int64_t tokens, float* y, int64_t yStride) {
    switch (activeIsa()) {
    case Isa::Avx512Bf16:
        if (matmulActivationRounding(w.type) == ActivationRounding::Bf16)
            return matmulAvx512Bf16(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
        [[fallthrough]];
    case Isa::Avx512:
        return matmulAvx512(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    case Isa::Avx2:
        return matmulAvx2(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    case Isa::Scalar:
        break;
    }
    matmulScalar(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
}

void matmulRowsBf16Input(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const uint16_t* x,
                         int64_t xStride, int64_t tokens, float* y, int64_t yStride) {
    if (matmulActivationRounding(w.type) != ActivationRounding::Bf16)
        throw EngineError("matmulRowsBf16Input: " + std::string(isaName(activeIsa())) +
                          " does not round the inputs of " + std::string(weightTypeName(w.type)) +
                          " weights to BF16");
    matmulAvx512Bf16Rounded(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
}

void matmulRowsF32Input(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                        int64_t xStride, int64_t tokens, float* y, int64_t yStride) {
    switch (activeIsa()) {
    case Isa::Avx512Bf16:
    case Isa::Avx512:
        return matmulAvx512(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    case Isa::Avx2:
        return matmulAvx2(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
    case Isa::Scalar:
        break;
    }
    matmulScalar(w, rowBegin, rowEnd, x, xStride, tokens, y, yStride);
}

std::size_t pairPanelElements(int64_t rows, int64_t cols) {
    const int64_t strips = (rows + kPairPanelRows - 1) / kPairPanelRows;
    return static_cast<std::size_t>(strips * kPairPanelRows * ((cols + 1) / 2) * 2);
}

void packPairPanels(const std::vector<const Matrix*>& stacked, uint16_t* panels) {
    int64_t rows = 0;
    const int64_t cols = stacked.empty() ? 0 : stacked.front()->cols;
    for (const Matrix* m : stacked) {
        if (m->type != WeightType::BF16 || m->cols != cols)
            throw EngineError("pair panels take BF16 matrices of one width, found " +
                              std::string(weightTypeName(m->type)) + " of " +
                              std::to_string(m->cols) + " columns");
        rows += m->rows;
    }
    const int64_t pairs = (cols + 1) / 2;
    std::fill_n(panels, pairPanelElements(rows, cols), uint16_t{0});
    int64_t r = 0;
    for (const Matrix* m : stacked)
        for (int64_t i = 0; i < m->rows; ++i, ++r) {
            const auto* row = reinterpret_cast<const uint16_t*>(m->row(i));
            uint16_t* strip = panels + (r / kPairPanelRows) * kPairPanelRows * pairs * 2;
            const int64_t lane = r % kPairPanelRows;
            for (int64_t c = 0; c < cols; ++c)
                strip[(c / 2) * 2 * kPairPanelRows + lane * 2 + c % 2] = row[c];
        }
}

void gemmPairPanels(const uint16_t* panels, int64_t rows, int64_t cols, int64_t stripBegin,
                    int64_t stripEnd, const uint16_t* x, int64_t xStride, int64_t tokens, float* y,
                    int64_t yStride) {
    if (!cpuHas(Isa::Avx512Bf16))
        throw EngineError("pair-panel GEMM needs AVX-512-BF16, which this CPU does not have");
    if (xStride % 2 != 0)
        throw EngineError("pair-panel GEMM needs an even input stride, got " +
                          std::to_string(xStride));
    kernels::gemmPairPanelsAvx512Bf16(panels, rows, cols, stripBegin, stripEnd, x, xStride, tokens,
                                      y, yStride);
}

namespace {

// FP8 dequantised in double: the product of the FP8 value and its block scale, unrounded.
double referenceWeight(const Matrix& w, int64_t r, int64_t c) {
    if (w.type == WeightType::FP8E4M3)
        return static_cast<double>(
                   fp8E4M3ToFloat(static_cast<const uint8_t*>(w.data)[r * w.cols + c])) *
               w.scaleAt(r, c);
    return w.at(r, c);
}

} // namespace

void matmulRowsReference(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                         int64_t xStride, int64_t tokens, float* y, int64_t yStride) {
    for (int64_t t = 0; t < tokens; ++t)
        for (int64_t r = rowBegin; r < rowEnd; ++r) {
            double sum = 0.0;
            for (int64_t c = 0; c < w.cols; ++c)
                sum += referenceWeight(w, r, c) * x[t * xStride + c];
            y[t * yStride + r] = static_cast<float>(sum);
        }
}

void matmulRowsTransposed(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                          int64_t xStride, int64_t tokens, float* y, int64_t yStride) {
    if (activeIsa() != Isa::Scalar)
        return kernels::matmulRowsTransposedAvx2(w, rowBegin, rowEnd, x, xStride, tokens, y,
                                                 yStride);
    for (int64_t t = 0; t < tokens; ++t)
        for (int64_t c = 0; c < w.cols; ++c) {
            float sum = 0.0f;
            for (int64_t r = rowBegin; r < rowEnd; ++r)
                sum += w.at(r, c) * x[t * xStride + r - rowBegin];
            y[t * yStride + c] = sum;
        }
}

void matmulRowsTransposedReference(const Matrix& w, int64_t rowBegin, int64_t rowEnd,
                                   const float* x, int64_t xStride, int64_t tokens, float* y,
                                   int64_t yStride) {
    for (int64_t t = 0; t < tokens; ++t)
        for (int64_t c = 0; c < w.cols; ++c) {
            double sum = 0.0;
            for (int64_t r = rowBegin; r < rowEnd; ++r)
                sum += referenceWeight(w, r, c) * x[t * xStride + r - rowBegin];
            y[t * yStride + c] = static_cast<float>(sum);
        }
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
    if (activeIsa() != Isa::Scalar)
        return kernels::swigluAvx2(gate, up, n, out);
    for (int64_t i = 0; i < n; ++i)
        out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void swigluToBf16(const float* gate, const float* up, int64_t n, uint16_t* out) {
    float values[256];
    for (int64_t i0 = 0; i0 < n; i0 += 256) {
        const int64_t count = std::min<int64_t>(256, n - i0);
        swiglu(gate + i0, up + i0, count, values);
        roundToBf16(values, count, out + i0);
    }
}

void swigluReference(const float* gate, const float* up, int64_t n, float* out) {
    for (int64_t i = 0; i < n; ++i) {
        const double g = gate[i];
        out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
    }
}

float softmaxExpRow(float* row, int64_t n, float scale) {
    if (activeIsa() != Isa::Scalar)
        return kernels::softmaxExpRowAvx2(row, n, scale);
    float best = -INFINITY;
    for (int64_t j = 0; j < n; ++j)
        best = std::max(best, row[j] *= scale);
    float total = 0.0f;
    for (int64_t j = 0; j < n; ++j)
        total += row[j] = std::exp(row[j] - best);
    return total;
}

double softmaxExpRowReference(float* row, int64_t n, float scale) {
    double best = -INFINITY;
    for (int64_t j = 0; j < n; ++j)
        best = std::max(best, static_cast<double>(scale) * row[j]);
    double total = 0.0;
    for (int64_t j = 0; j < n; ++j) {
        const double e = std::exp(static_cast<double>(scale) * row[j] - best);
        row[j] = static_cast<float>(e);
        total += e;
    }
    return total;
}

float dotF32(const float* a, const float* b, int64_t n) {
    if (activeIsa() != Isa::Scalar)
        return dotAvx2(a, b, n);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i)
        sum += a[i] * b[i];
    return sum;
}

double dotF32Reference(const float* a, const float* b, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i)
        sum += static_cast<double>(a[i]) * b[i];
    return sum;
}

void axpyF32(float alpha, const float* x, float* y, int64_t n) {
    if (activeIsa() != Isa::Scalar)
        return axpyAvx2(alpha, x, y, n);
    for (int64_t i = 0; i < n; ++i)
        y[i] += alpha * x[i];
}

void axpyF32Reference(float alpha, const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        y[i] = static_cast<float>(static_cast<double>(y[i]) + static_cast<double>(alpha) * x[i]);
}

} // namespace crossroads::inference
