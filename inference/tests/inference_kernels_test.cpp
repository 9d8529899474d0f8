#include "Check.h"
#include "IsaCheck.h"
#include "inference/base/LargeBuffer.h"
#include "inference/base/ThreadPool.h"
#include "inference/cpu/Bandwidth.h"
#include "inference/cpu/ComputePeak.h"
#include "inference/cpu/Kernels.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <tuple>

using namespace crossroads::inference;

namespace {

struct TestMatrix {
    std::vector<float> f32;
    std::vector<uint16_t> bf16;
    Matrix matrix(WeightType type, int64_t rows, int64_t cols) const {
        return Matrix{type, rows, cols,
                      type == WeightType::F32 ? static_cast<const void*>(f32.data()) : bf16.data()};
    }
};

// matmulRowsBf16Input on x rounded by the caller gives matmulRows' y bit for bit where the active
// ISA rounds w's inputs (the same kernels on the same BF16 inputs), at x's stride and at an even
// one (the FP8 pair GEMM reads inputs in pairs); elsewhere it refuses with the reason.
void checkBf16Input(const Matrix& w, int64_t begin, int64_t end, const std::vector<float>& x,
                    int64_t xStride, int64_t tokens, const std::vector<float>& y, int64_t yStride,
                    const std::string& what) {
    std::vector<float> got(y.size(), -7.0f);
    if (matmulActivationRounding(w.type) != ActivationRounding::Bf16) {
        std::vector<uint16_t> rounded(x.size());
        CHECK_THROWS_WITH(matmulRowsBf16Input(w, begin, end, rounded.data(), xStride, tokens,
                                              got.data(), yStride),
                          "does not round");
        return;
    }
    for (const int64_t stride : {xStride, xStride + xStride % 2}) {
        std::vector<uint16_t> rounded(static_cast<std::size_t>(tokens * stride));
        for (int64_t t = 0; t < tokens; ++t)
            roundToBf16(x.data() + t * xStride, w.cols, rounded.data() + t * stride);
        std::fill(got.begin(), got.end(), -7.0f);
        matmulRowsBf16Input(w, begin, end, rounded.data(), stride, tokens, got.data(), yStride);
        if (std::memcmp(got.data(), y.data(), y.size() * sizeof(float)) != 0)
            check::fail(__FILE__, __LINE__,
                        what + ": matmulRowsBf16Input differs from matmulRows at x stride " +
                            std::to_string(stride));
    }
}

// matmulRows holds to its double-accumulating reference on every ISA, dtype, tail and stride,
// with the decode kernels' software prefetch off and on (the default differs by CPU vendor).
// Runs under the ISA the caller made active.
void matmulMatchesReference() {
    std::mt19937 random(3);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const Isa isa = activeIsa();
    for (const int64_t prefetch : {int64_t{0}, int64_t{1024}}) {
        setDecodePrefetchBytes(prefetch);
        for (const auto type : {WeightType::F32, WeightType::BF16}) {
            for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1},
                                                                                     {5, 7},
                                                                                     {37, 64},
                                                                                     {64, 200},
                                                                                     {130, 33},
                                                                                     {16, 1024},
                                                                                     {203, 48},
                                                                                     {41, 1040},
                                                                                     {48, 600}}) {
                for (const int64_t tokens : {1, 2, 3, 5, 9, 16, 23, 37}) {
                    TestMatrix storage;
                    for (int64_t i = 0; i < rows * cols; ++i) {
                        storage.bf16.push_back(floatToBf16(uniform(random)));
                        storage.f32.push_back(bf16ToFloat(storage.bf16.back()) +
                                              uniform(random) * 1e-3f);
                    }
                    const Matrix w = storage.matrix(type, rows, cols);
                    const int64_t xStride = cols + 3;
                    const int64_t yStride = rows + 2;
                    std::vector<float> x(static_cast<std::size_t>(tokens * xStride));
                    for (auto& value : x)
                        value = uniform(random);
                    std::vector<float> rounded = x;
                    if (matmulActivationRounding(w.type) == ActivationRounding::Bf16)
                        for (auto& value : rounded)
                            value = bf16ToFloat(floatToBf16(value));
                    std::vector<float> y(static_cast<std::size_t>(tokens * yStride), -7.0f);
                    std::vector<float> expected = y;
                    // Only rows [1, rows) are asked for: row 0 must stay untouched.
                    const int64_t first = rows > 1 ? 1 : 0;
                    matmulRows(w, first, rows, x.data(), xStride, tokens, y.data(), yStride);
                    matmulRowsReference(w, first, rows, rounded.data(), xStride, tokens,
                                        expected.data(), yStride);
                    checkBf16Input(w, first, rows, x, xStride, tokens, y, yStride,
                                   std::string(isaName(isa)) + " " +
                                       std::string(weightTypeName(type)) + " " +
                                       std::to_string(rows) + "x" + std::to_string(cols) + " t" +
                                       std::to_string(tokens));
                    // The unrounding entry point against the reference on x itself.
                    std::vector<float> yF32Input(y.size(), -7.0f), expectedF32Input = yF32Input;
                    matmulRowsF32Input(w, first, rows, x.data(), xStride, tokens, yF32Input.data(),
                                       yStride);
                    matmulRowsReference(w, first, rows, x.data(), xStride, tokens,
                                        expectedF32Input.data(), yStride);
                    double worst = 0.0;
                    for (std::size_t i = 0; i < y.size(); ++i)
                        worst = std::max(
                            {worst, std::fabs(static_cast<double>(y[i]) - expected[i]),
                             std::fabs(static_cast<double>(yF32Input[i]) - expectedF32Input[i])});
                    // F32 accumulation of |terms| <= 1: error grows like sqrt(cols) x 2^-24.
                    const double tolerance = 1e-5 * std::sqrt(static_cast<double>(cols)) + 1e-6;
                    if (worst > tolerance)
                        check::fail(
                            __FILE__, __LINE__,
                            std::string(isaName(isa)) + " prefetch " + std::to_string(prefetch) +
                                " " + std::string(weightTypeName(type)) + " " +
                                std::to_string(rows) + "x" + std::to_string(cols) + " t" +
                                std::to_string(tokens) + ": error " + std::to_string(worst));
                }
            }
        }
        std::vector<float> a(301), b(301), y(301), yRef(301);
        for (std::size_t i = 0; i < a.size(); ++i) {
            a[i] = uniform(random);
            b[i] = uniform(random);
            y[i] = yRef[i] = uniform(random);
        }
        CHECK_NEAR(dotF32(a.data(), b.data(), 301), dotF32Reference(a.data(), b.data(), 301), 1e-4);
        axpyF32(0.37f, a.data(), y.data(), 301);
        axpyF32Reference(0.37f, a.data(), yRef.data(), 301);
        for (std::size_t i = 0; i < y.size(); ++i)
            CHECK_NEAR(y[i], yRef[i], 1e-6);
        std::vector<float> buffer(100003);
        for (auto& value : buffer)
            value = uniform(random);
        CHECK_NEAR(readSum(buffer.data(), buffer.size()),
                   readSumReference(buffer.data(), buffer.size()), 1e-2);
        // The FMA-peak chains compute what their scalar reference computes, bit for bit.
        CHECK(fmaChains(1000) == fmaChainsReference(1000, fmaLanes()));
    }
    setDecodePrefetchBytes(defaultDecodePrefetchBytes());
    std::printf("kernels checked on %s\n", std::string(isaName(isa)).c_str());
}

// SwiGLU's elementwise step holds to its double reference (F32 within 5e-6 relative: the vector
// exp is good to about 2e-6 where e^-g is large; BF16 within one BF16 ulp of the reference), tails,
// in place, and extremes where e^-g overflows or vanishes, on the ISA the caller made active.
void swigluMatchesReference() {
    std::mt19937 random(23);
    std::uniform_real_distribution<float> uniform(-12.0f, 12.0f);
    for (const int64_t n : {1, 7, 8, 37, 300, 1000}) {
        std::vector<float> gate(static_cast<std::size_t>(n)), up(gate.size());
        for (std::size_t i = 0; i < gate.size(); ++i) {
            gate[i] = uniform(random);
            up[i] = uniform(random) / 4.0f;
        }
        gate[0] = n > 1 ? -100.0f : 100.0f;
        if (n > 2)
            gate[1] = 95.0f;
        std::vector<float> got(gate.size()), expected(gate.size());
        std::vector<uint16_t> rounded(gate.size());
        swiglu(gate.data(), up.data(), n, got.data());
        swigluToBf16(gate.data(), up.data(), n, rounded.data());
        swigluReference(gate.data(), up.data(), n, expected.data());
        double worst = 0.0, worstBf16 = 0.0;
        for (std::size_t i = 0; i < gate.size(); ++i) {
            const double scale = std::max(1e-30, std::fabs(static_cast<double>(expected[i])));
            worst = std::max(worst, std::fabs(got[i] - expected[i]) / scale);
            worstBf16 = std::max(worstBf16, std::fabs(bf16ToFloat(rounded[i]) - expected[i]) /
                                                std::max(scale, 1e-20));
        }
        if (worst > 5e-6 || worstBf16 > 1.0 / 128)
            check::fail(__FILE__, __LINE__,
                        std::string(isaName(activeIsa())) + " swiglu n" + std::to_string(n) +
                            ": relative error " + std::to_string(worst) + ", BF16 " +
                            std::to_string(worstBf16));
        std::vector<float> inPlace = gate;
        swiglu(inPlace.data(), up.data(), n, inPlace.data());
        CHECK(inPlace == got);
    }
}

// A softmax row's exponentials and their sum hold to the double reference (within 5e-6 relative
// each, 1e-5 the sum; weights under ~1e-37, which the vector exp flushes to zero, within 1e-37),
// over tails, a row of one, and a row whose maximum leaves the rest below the F32 range, on the
// ISA the caller made active.
void softmaxExpRowMatchesReference() {
    std::mt19937 random(29);
    std::uniform_real_distribution<float> uniform(-40.0f, 40.0f);
    for (const int64_t n : {1, 7, 8, 37, 300, 1000}) {
        for (const bool extreme : {false, true}) {
            std::vector<float> row(static_cast<std::size_t>(n));
            for (float& x : row)
                x = uniform(random);
            if (extreme)
                row[static_cast<std::size_t>(n / 2)] = 3000.0f;
            std::vector<float> got = row, expected = row;
            const float scale = 0.0883883f; // 1/sqrt(128)
            const double sum = softmaxExpRow(got.data(), n, scale);
            const double expectedSum = softmaxExpRowReference(expected.data(), n, scale);
            double worst = 0.0;
            for (std::size_t j = 0; j < row.size(); ++j) {
                const double e = expected[j];
                const double error = std::fabs(got[j] - e);
                if (error > 5e-6 * e + 1e-37)
                    worst = std::max(worst, error / std::max(e, 1e-37));
            }
            if (worst > 0.0 || std::fabs(sum - expectedSum) > 1e-5 * expectedSum)
                check::fail(__FILE__, __LINE__,
                            std::string(isaName(activeIsa())) + " softmaxExpRow n" +
                                std::to_string(n) + (extreme ? " extreme" : "") +
                                ": relative error " + std::to_string(worst) + ", sum " +
                                std::to_string(sum) + " against " + std::to_string(expectedSum));
        }
    }
}

// The pair-panel GEMM (AVX-512-BF16 prefill) holds to the reference on BF16-rounded inputs,
// over stacked matrices, partial strips, odd widths, token tails, strip ranges and a row stride;
// the strips asked for are written, the others untouched. Runs under avx512-bf16 only.
void pairPanelsMatchReference() {
    std::mt19937 random(11);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (const auto& [rowsA, rowsB, cols] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
             {32, 0, 64}, {5, 0, 7}, {40, 24, 600}, {64, 64, 513}, {37, 11, 1040}}) {
        for (const int64_t tokens : {1, 3, 12, 13, 25, 40}) {
            std::vector<uint16_t> a, b;
            for (int64_t i = 0; i < rowsA * cols; ++i)
                a.push_back(floatToBf16(uniform(random)));
            for (int64_t i = 0; i < rowsB * cols; ++i)
                b.push_back(floatToBf16(uniform(random)));
            const Matrix ma{WeightType::BF16, rowsA, cols, a.data()};
            const Matrix mb{WeightType::BF16, rowsB, cols, b.data()};
            std::vector<const Matrix*> stacked{&ma};
            if (rowsB > 0)
                stacked.push_back(&mb);
            const int64_t rows = rowsA + rowsB;
            std::vector<uint16_t> panels(pairPanelElements(rows, cols));
            packPairPanels(stacked, panels.data());
            const int64_t xStride = cols + (cols % 2 == 0 ? 2 : 1); // even; the pad stays zero
            std::vector<uint16_t> x(static_cast<std::size_t>(tokens * xStride), 0);
            std::vector<float> xf(x.size(), 0.0f);
            for (int64_t t = 0; t < tokens; ++t)
                for (int64_t c = 0; c < cols; ++c) {
                    const auto i = static_cast<std::size_t>(t * xStride + c);
                    x[i] = floatToBf16(uniform(random));
                    xf[i] = bf16ToFloat(x[i]);
                }
            const int64_t strips = (rows + kPairPanelRows - 1) / kPairPanelRows;
            const int64_t firstStrip = strips > 1 ? 1 : 0;
            const int64_t yStride = rows + 5;
            std::vector<float> y(static_cast<std::size_t>(tokens * yStride), -7.0f);
            std::vector<float> expected = y;
            gemmPairPanels(panels.data(), rows, cols, firstStrip, strips, x.data(), xStride, tokens,
                           y.data(), yStride);
            const int64_t firstRow = firstStrip * kPairPanelRows;
            if (firstRow < rowsA)
                matmulRowsReference(ma, firstRow, rowsA, xf.data(), xStride, tokens,
                                    expected.data(), yStride);
            if (rowsB > 0)
                matmulRowsReference(mb, std::max<int64_t>(0, firstRow - rowsA), rowsB, xf.data(),
                                    xStride, tokens, expected.data() + rowsA, yStride);
            double worst = 0.0;
            for (std::size_t i = 0; i < y.size(); ++i)
                worst = std::max(worst, std::fabs(static_cast<double>(y[i]) - expected[i]));
            const double tolerance = 1e-5 * std::sqrt(static_cast<double>(cols)) + 1e-6;
            if (worst > tolerance)
                check::fail(__FILE__, __LINE__,
                            "pair panels " + std::to_string(rowsA) + "+" + std::to_string(rowsB) +
                                "x" + std::to_string(cols) + " t" + std::to_string(tokens) +
                                ": error " + std::to_string(worst));
        }
    }
    CHECK_THROWS_WITH(gemmPairPanels(nullptr, 1, 2, 0, 1, nullptr, 3, 1, nullptr, 1),
                      "even input stride");
    std::printf("pair panels checked\n");
}

// float8_e4m3fn decoded from its definition: (-1)^s x 2^(e-7) x (1 + m/8), subnormals
// 2^-6 x m/8, S.1111.111 NaN.
double fp8Definition(uint8_t bits) {
    const int sign = bits >> 7, exponent = (bits >> 3) & 15, mantissa = bits & 7;
    if (exponent == 15 && mantissa == 7)
        return NAN;
    const double magnitude = exponent == 0 ? std::ldexp(mantissa / 8.0, -6)
                                           : std::ldexp(1.0 + mantissa / 8.0, exponent - 7);
    return sign ? -magnitude : magnitude;
}

// Every one of the 256 patterns decodes exactly; the encoder rounds to nearest even, saturates
// at +-448 and inverts the decoder on every finite pattern.
void fp8DecodesAndEncodesExactly() {
    int wrong = 0;
    for (int bits = 0; bits < 256; ++bits) {
        const double expected = fp8Definition(static_cast<uint8_t>(bits));
        const float decoded = fp8E4M3ToFloat(static_cast<uint8_t>(bits));
        if (std::isnan(expected)) {
            wrong += std::isnan(decoded) ? 0 : 1;
            continue;
        }
        wrong += static_cast<double>(decoded) == expected &&
                         std::signbit(decoded) == std::signbit(expected)
                     ? 0
                     : 1;
        wrong += floatToFp8E4M3(decoded) == bits ? 0 : 1;
    }
    CHECK(wrong == 0);
    CHECK(fp8E4M3ToFloat(0x7e) == 448.0f && fp8E4M3ToFloat(0x01) == 0x1p-9f);
    CHECK(floatToFp8E4M3(1000.0f) == 0x7e && floatToFp8E4M3(-1e30f) == 0xfe);
    CHECK(floatToFp8E4M3(NAN) == 0x7f && floatToFp8E4M3(-0.0f) == 0x80);
    // Ties to even: 1 + 1/16 lies between 1 (even mantissa) and 1 + 1/8; 1 + 3/16 between
    // 1 + 1/8 and 1 + 2/8 (even); half the smallest subnormal rounds to zero.
    CHECK(floatToFp8E4M3(1.0625f) == 0x38 && floatToFp8E4M3(1.1875f) == 0x3a);
    CHECK(floatToFp8E4M3(0x1p-10f) == 0x00 && floatToFp8E4M3(0x1.8p-10f) == 0x01);
    CHECK(floatToFp8E4M3(464.0f) == 0x7e); // beyond 448 saturates rather than rounding up
    // The largest subnormal and the smallest normal border each other.
    CHECK(floatToFp8E4M3(0x1.cp-7f) == 0x07 && floatToFp8E4M3(0x1p-6f) == 0x08);
}

// An FP8 matrix with DeepSeek-V3's layout at a small size: weights over every finite pattern
// (zeros and subnormals included), one F32 scale per block, the scales of neighbouring blocks
// far apart (powers of two from 2^-6 to 2^6) so a scale read from the wrong block shows.
struct Fp8TestMatrix {
    std::vector<uint8_t> bytes;
    std::vector<float> scales;
    int64_t rows, cols, blockRows, blockCols;
    // `rareExponentZero`: as trained weights, bytes of exponent 0 (zeros and subnormals) only
    // about one in 300, so most 64-byte lines have none (the dot-product decode's fast path)
    // and some do (its exact path); otherwise uniformly random bytes, exponent 0 one in 16.
    Fp8TestMatrix(int64_t rows_, int64_t cols_, int64_t blockRows_, int64_t blockCols_,
                  std::mt19937& random, bool rareExponentZero = false)
        : rows(rows_), cols(cols_), blockRows(blockRows_), blockCols(blockCols_) {
        for (int64_t i = 0; i < rows * cols; ++i) {
            auto bits = static_cast<uint8_t>(random());
            if ((bits & 0x7f) == 0x7f)
                bits = static_cast<uint8_t>(bits & 0x80); // NaN -> signed zero
            if (rareExponentZero && (bits & 0x78) == 0 && random() % 20 != 0)
                bits = static_cast<uint8_t>(bits | 0x08);
            bytes.push_back(bits);
        }
        const int64_t count =
            ((rows + blockRows - 1) / blockRows) * ((cols + blockCols - 1) / blockCols);
        for (int64_t i = 0; i < count; ++i)
            scales.push_back(std::ldexp(1.0f + static_cast<float>(random() % 8) / 8.0f,
                                        static_cast<int>(random() % 13) - 6) /
                             448.0f);
    }
    Matrix matrix() const {
        Matrix m{WeightType::FP8E4M3, rows, cols, bytes.data()};
        m.scales = scales.data();
        m.blockRows = blockRows;
        m.blockCols = blockCols;
        return m;
    }
    // Dequantised from the arrays themselves, in double (no Matrix helpers).
    double weight(int64_t r, int64_t c) const {
        const int64_t scaleCols = (cols + blockCols - 1) / blockCols;
        return fp8Definition(bytes[static_cast<std::size_t>(r * cols + c)]) *
               scales[static_cast<std::size_t>((r / blockRows) * scaleCols + c / blockCols)];
    }
};

// matmulRows on FP8 matrices with edge blocks holds to a double dequantise-then-multiply of the
// raw arrays (and so does the reference), for whole matrices, row ranges not starting at 0 and
// row views starting inside a block; prefetch off and on. Runs under the active ISA.
void fp8MatmulMatchesDequantised() {
    std::mt19937 random(11);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const Isa isa = activeIsa();
    struct Shape {
        int64_t rows, cols, blockRows, blockCols;
    };
    for (const auto& [prefetch, kernel] :
         std::vector<std::pair<int64_t, Fp8DecodeKernel>>{{0, Fp8DecodeKernel::Widen512},
                                                          {1024, Fp8DecodeKernel::Widen512},
                                                          {0, Fp8DecodeKernel::Widen256},
                                                          {1024, Fp8DecodeKernel::Widen256},
                                                          {0, Fp8DecodeKernel::Bf16Dot},
                                                          {1024, Fp8DecodeKernel::Bf16Dot}}) {
        setFp8DecodePrefetchBytes(prefetch);
        setFp8DecodeKernel(kernel);
        // Where the active ISA rounds FP8 products' inputs, the definition takes them rounded.
        const bool rounds =
            matmulActivationRounding(WeightType::FP8E4M3) == ActivationRounding::Bf16;
        for (const auto& [shape, rareExponentZero] :
             std::vector<std::pair<Shape, bool>>{{Shape{300, 200, 128, 128}, false},
                                                 {Shape{130, 448, 128, 128}, false},
                                                 {Shape{77, 300, 16, 48}, false},
                                                 {Shape{40, 100, 8, 7}, false},
                                                 {Shape{29, 600, 64, 256}, false},
                                                 {Shape{300, 200, 128, 128}, true},
                                                 {Shape{130, 448, 128, 128}, true}}) {
            const Fp8TestMatrix storage(shape.rows, shape.cols, shape.blockRows, shape.blockCols,
                                        random, rareExponentZero);
            const Matrix whole = storage.matrix();
            CHECK(whole.bytes() == static_cast<std::size_t>(shape.rows * shape.cols));
            CHECK(whole.scaleBytes() == storage.scales.size() * sizeof(float));
            for (const int64_t tokens : {1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 25, 64}) {
                const int64_t xStride = shape.cols + 5;
                std::vector<float> x(static_cast<std::size_t>(tokens * xStride));
                for (auto& value : x)
                    value = uniform(random);
                std::vector<float> definitionX = x;
                if (rounds)
                    for (auto& value : definitionX)
                        value = bf16ToFloat(floatToBf16(value));
                // (view first row, range begin, range end) within the view.
                const int64_t viewFirst = shape.rows > 100 ? 100 : 3;
                for (const auto& [first, begin, end] :
                     std::vector<std::tuple<int64_t, int64_t, int64_t>>{
                         {0, 0, shape.rows},
                         {0, 1, shape.rows},
                         {viewFirst, 5, shape.rows - viewFirst}}) {
                    const Matrix w = first == 0 ? whole : whole.rowsView(first, shape.rows - first);
                    const int64_t yStride = w.rows + 2;
                    std::vector<float> y(static_cast<std::size_t>(tokens * yStride), -7.0f);
                    std::vector<float> ref = y;
                    matmulRows(w, begin, end, x.data(), xStride, tokens, y.data(), yStride);
                    matmulRowsReference(w, begin, end, definitionX.data(), xStride, tokens,
                                        ref.data(), yStride);
                    double worst = 0.0, worstRef = 0.0;
                    bool untouched = true;
                    for (int64_t t = 0; t < tokens; ++t)
                        for (int64_t r = 0; r < w.rows; ++r) {
                            const float got = y[static_cast<std::size_t>(t * yStride + r)];
                            if (r < begin || r >= end) {
                                untouched = untouched && got == -7.0f;
                                continue;
                            }
                            double expected = 0.0, magnitude = 0.0;
                            for (int64_t c = 0; c < shape.cols; ++c) {
                                const double term =
                                    storage.weight(first + r, c) *
                                    definitionX[static_cast<std::size_t>(t * xStride + c)];
                                expected += term;
                                magnitude += std::fabs(term);
                            }
                            // F32 accumulation: error within a few ulp of the sum of |terms|.
                            const double scale = magnitude + 1e-30;
                            worst = std::max(worst, std::fabs(got - expected) / scale);
                            worstRef = std::max(
                                worstRef, std::fabs(ref[static_cast<std::size_t>(t * yStride + r)] -
                                                    expected) /
                                              scale);
                        }
                    const std::string what =
                        std::string(isaName(isa)) + " prefetch " + std::to_string(prefetch) + " " +
                        std::string(fp8DecodeKernelName(kernel)) +
                        (fp8DecodeKernelRuns(kernel, isa) ? "" : " (as widen512)") +
                        (rareExponentZero ? " fp8 (rare exponent 0) " : " fp8 ") +
                        std::to_string(shape.rows) + "x" + std::to_string(shape.cols) + " view " +
                        std::to_string(first) + " rows " + std::to_string(begin) + ".." +
                        std::to_string(end) + " t" + std::to_string(tokens);
                    checkBf16Input(w, begin, end, x, xStride, tokens, y, yStride, what);
                    if (worst > 1e-5 || worstRef > 1e-6 || !untouched)
                        check::fail(__FILE__, __LINE__,
                                    what + ": relative error " + std::to_string(worst) +
                                        " (reference " + std::to_string(worstRef) + ")" +
                                        (untouched ? "" : ", rows outside the range written"));
                }
            }
        }
    }
    setFp8DecodePrefetchBytes(defaultFp8DecodePrefetchBytes());
    setFp8DecodeKernel(defaultFp8DecodeKernel());
}

// Matrix's FP8 bookkeeping: at() dequantises with the right block's scale, row views that start
// inside a block keep the scales right, NaN and zero patterns read as themselves.
void fp8MatrixViews() {
    std::mt19937 random(13);
    const Fp8TestMatrix storage(300, 200, 128, 128, random);
    const Matrix whole = storage.matrix();
    CHECK(whole.scaleCols() == 2 && whole.scaleRowCount() == 3);
    bool exact = true;
    for (int64_t r = 0; r < 300; ++r)
        for (int64_t c = 0; c < 200; ++c)
            exact = exact && static_cast<double>(whole.at(r, c)) ==
                                 static_cast<double>(static_cast<float>(storage.weight(r, c)));
    CHECK(exact);
    for (const int64_t first : {int64_t{0}, int64_t{1}, int64_t{127}, int64_t{128}, int64_t{200}}) {
        const Matrix view = whole.rowsView(first, 300 - first);
        bool same = true;
        for (int64_t r = 0; r < view.rows; ++r)
            for (int64_t c = 0; c < 200; c += 7)
                same = same && view.at(r, c) == whole.at(first + r, c);
        CHECK(same);
        CHECK(view.blockRowOffset == first % 128);
        // The view reads the block rows its rows lie in: 200 -> rows 200..299, block rows 1..2.
        CHECK(view.scaleRowCount() == (299 / 128) - (first / 128) + 1);
    }
    std::vector<uint8_t> special = {0x00, 0x80, 0x7f, 0xff, 0x01, 0x81};
    std::vector<float> scale = {2.0f};
    Matrix m{WeightType::FP8E4M3, 1, 6, special.data()};
    m.scales = scale.data();
    m.blockRows = m.blockCols = 128;
    CHECK(m.at(0, 0) == 0.0f && !std::signbit(m.at(0, 0)) && std::signbit(m.at(0, 1)));
    CHECK(std::isnan(m.at(0, 2)) && std::isnan(m.at(0, 3)));
    CHECK(m.at(0, 4) == 0x1p-8f && m.at(0, 5) == -0x1p-8f);
    CHECK(weightTypeName(WeightType::FP8E4M3) == "fp8-e4m3" &&
          weightTypeBytes(WeightType::FP8E4M3) == 1);
}

// The product with the transpose (MLA's absorbed decode) holds to its reference for F32, BF16
// and FP8 (blocks of 128, 16 x 48, and 8 x 7: narrower than a vector), row ranges, tails and
// strides, on the ISA the caller made active.
void transposedMatchesReference() {
    std::mt19937 random(17);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const Isa isa = activeIsa();
    struct Shape {
        int64_t rows, cols, blockRows, blockCols;
    };
    for (const Shape shape : {Shape{128, 512, 128, 128}, Shape{77, 300, 16, 48},
                              Shape{40, 101, 8, 7}, Shape{5, 3, 8, 8}}) {
        TestMatrix plain;
        for (int64_t i = 0; i < shape.rows * shape.cols; ++i) {
            plain.bf16.push_back(floatToBf16(uniform(random)));
            plain.f32.push_back(uniform(random));
        }
        const Fp8TestMatrix fp8(shape.rows, shape.cols, shape.blockRows, shape.blockCols, random);
        for (const auto type : {WeightType::F32, WeightType::BF16, WeightType::FP8E4M3}) {
            const Matrix w = type == WeightType::FP8E4M3
                                 ? fp8.matrix()
                                 : plain.matrix(type, shape.rows, shape.cols);
            for (const int64_t tokens : {1, 2, 5}) {
                const int64_t begin = shape.rows > 4 ? 3 : 0;
                const int64_t xStride = shape.rows + 1;
                const int64_t yStride = shape.cols + 3;
                std::vector<float> x(static_cast<std::size_t>(tokens * xStride));
                for (auto& value : x)
                    value = uniform(random);
                std::vector<float> y(static_cast<std::size_t>(tokens * yStride), -7.0f);
                std::vector<float> expected = y;
                matmulRowsTransposed(w, begin, shape.rows, x.data(), xStride, tokens, y.data(),
                                     yStride);
                matmulRowsTransposedReference(w, begin, shape.rows, x.data(), xStride, tokens,
                                              expected.data(), yStride);
                double worst = 0.0, scale = 1e-30;
                for (std::size_t i = 0; i < y.size(); ++i) {
                    worst = std::max(worst, std::fabs(static_cast<double>(y[i]) - expected[i]));
                    scale = std::max(scale, std::fabs(static_cast<double>(expected[i])));
                }
                const double tolerance =
                    1e-5 * std::sqrt(static_cast<double>(shape.rows)) * std::max(1.0, scale);
                if (worst > tolerance)
                    check::fail(__FILE__, __LINE__,
                                std::string(isaName(isa)) + " transposed " +
                                    std::string(weightTypeName(type)) + " " +
                                    std::to_string(shape.rows) + "x" + std::to_string(shape.cols) +
                                    " t" + std::to_string(tokens) + ": error " +
                                    std::to_string(worst));
            }
        }
    }
}

// attendPart holds to its reference on every ISA: maxima, sums and outputs of a part, for
// groups of 1 to 8 heads, head sizes with and without a vector tail, and empty parts.
void attentionMatchesReference() {
    std::mt19937 random(5);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    {
        for (const int64_t group : {1, 4, 8})
            for (const int64_t headDim : {64, 128, 72, 36}) {
                const int64_t kvHeads = 2, stride = kvHeads * headDim + 5, positions = 300;
                std::vector<float> q(static_cast<std::size_t>(group * headDim));
                std::vector<float> keys(static_cast<std::size_t>(positions * stride));
                std::vector<float> values(keys.size());
                for (auto* v : {&q, &keys, &values})
                    for (auto& x : *v)
                        x = 3.0f * uniform(random);
                const float scale = 1.0f / std::sqrt(static_cast<float>(headDim));
                for (const auto& [begin, end] : std::vector<std::pair<int64_t, int64_t>>{
                         {0, 1}, {0, 300}, {17, 160}, {40, 40}}) {
                    const auto g = static_cast<std::size_t>(group);
                    std::vector<float> scores(g * static_cast<std::size_t>(end - begin + 1));
                    std::vector<float> maxScore(g), sumExp(g), out(g * headDim, 9.0f);
                    std::vector<float> refMax(g), refSum(g), refOut(g * headDim);
                    // The second KV head: rows start headDim floats in.
                    attendPart(q.data(), group, headDim, keys.data() + headDim,
                               values.data() + headDim, stride, begin, end, scale, scores.data(),
                               maxScore.data(), sumExp.data(), out.data());
                    attendPartReference(q.data(), group, headDim, keys.data() + headDim,
                                        values.data() + headDim, stride, begin, end, scale,
                                        refMax.data(), refSum.data(), refOut.data());
                    for (std::size_t h = 0; h < g; ++h) {
                        if (begin == end) {
                            CHECK(std::isinf(maxScore[h]) && sumExp[h] == 0.0f);
                            for (int64_t d = 0; d < headDim; ++d)
                                CHECK(out[h * headDim + d] == 0.0f);
                            continue;
                        }
                        CHECK_NEAR(maxScore[h], refMax[h], 1e-5);
                        CHECK_NEAR(sumExp[h] / refSum[h], 1.0, 1e-5);
                        for (int64_t d = 0; d < headDim; ++d)
                            CHECK_NEAR(out[h * headDim + d] / sumExp[h],
                                       refOut[h * headDim + d] / refSum[h], 1e-5);
                    }
                }
            }
    }
}

// The vector rounding to BF16 is floatToBf16 bit for bit: ties to even both ways, NaN, both
// infinities, the largest finite values (which round to infinity), denormals and zeros.
void bf16RoundingIsExact() {
    std::vector<float> x;
    std::mt19937 random(9);
    for (int i = 0; i < 4000; ++i) {
        uint32_t bits = static_cast<uint32_t>(random());
        if (i % 4 == 0)
            bits = (bits & 0xffff0000u) | 0x8000u; // exactly halfway
        float value;
        std::memcpy(&value, &bits, sizeof value);
        x.push_back(value);
    }
    for (const float special : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 3.4028235e38f, 1e-40f,
                                -1e-40f, 1.0f, 1.00390625f, 1.01171875f})
        x.push_back(special);
    std::vector<uint16_t> out(x.size());
    roundToBf16(x.data(), static_cast<int64_t>(x.size()), out.data());
    int wrong = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
        wrong += out[i] != floatToBf16(x[i]) ? 1 : 0;
    CHECK(wrong == 0);
}

void threadPoolRunsEveryTaskOnce() {
    ThreadPool pool(3);
    CHECK(pool.size() == 3);
    for (int round = 0; round < 200; ++round) {
        const int64_t tasks = round % 17;
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(tasks));
        pool.parallelFor(tasks, [&](int64_t t) { hits[static_cast<std::size_t>(t)]++; });
        for (auto& hit : hits)
            CHECK(hit.load() == 1);
    }
}

// A task that throws does not stop the others; its exception reaches the caller once every
// claimed task is done, and the pool keeps working.
void threadPoolPassesExceptionsOn() {
    ThreadPool pool(3);
    for (int round = 0; round < 20; ++round) {
        std::vector<std::atomic<int>> hits(40);
        bool threw = false;
        try {
            pool.parallelFor(40, [&](int64_t t) {
                hits[static_cast<std::size_t>(t)]++;
                if (t == round)
                    throw EngineError("task " + std::to_string(t) + " failed");
            });
        } catch (const EngineError& error) {
            threw = std::string(error.what()) == "task " + std::to_string(round) + " failed";
        }
        CHECK(threw);
        for (auto& hit : hits)
            CHECK(hit.load() == 1);
    }
    std::atomic<int64_t> sum{0};
    pool.parallelFor(100, [&](int64_t t) { sum += t; });
    CHECK(sum.load() == 4950);
}

// More threads than cores (workers get descheduled mid-dispatch, arrive late or not at all),
// dispatches back to back and after the workers fell asleep: every task runs exactly once and
// never under a later dispatch's function.
void threadPoolUnderOversubscription() {
    ThreadPool pool(static_cast<int>(std::thread::hardware_concurrency()) + 3);
    std::atomic<int> current{-1};
    std::atomic<int> outOfTurn{0};
    bool everyTaskOnce = true;
    for (int round = 0; round < 3000; ++round) {
        const int64_t tasks = round % 64 + 1;
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(tasks));
        current = round;
        pool.parallelFor(tasks, [&, round](int64_t t) {
            // A stale worker running an earlier dispatch's function would see a newer round.
            if (current.load() != round)
                outOfTurn++;
            hits[static_cast<std::size_t>(t)]++;
        });
        for (auto& hit : hits)
            everyTaskOnce = everyTaskOnce && hit.load() == 1;
    }
    CHECK(everyTaskOnce);
    CHECK(outOfTurn.load() == 0);
    for (int round = 0; round < 3; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30)); // the workers fall asleep
        std::atomic<int> count{0};
        pool.parallelFor(1000, [&](int64_t) { count++; });
        CHECK(count.load() == 1000);
    }
}

void computePeakRuns() {
    ThreadPool pool(2);
    const ComputePeakResult result = measureFmaPeak(pool, 100'000, 2);
    CHECK(result.tflops > 0.0 && result.threads == 2 && result.lanes == fmaLanes());
    CHECK(result.checksum == fmaChainsReference(100'000, result.lanes));
}

void bandwidthKernelRuns() {
    ThreadPool pool(2);
    const BandwidthResult result = measureReadBandwidth(pool, std::size_t{16} << 20, 2);
    CHECK(result.gbPerS > 0.0 && result.threads == 2);
    CHECK_NEAR(result.checksum, static_cast<double>(result.bytes / sizeof(float)), 1.0);
    ReadBandwidthProbe probe(pool, (std::size_t{8} << 20) + 44); // not a whole number of slices
    CHECK(probe.passGbPerS() > 0.0 && probe.passGbPerS() > 0.0);
    CHECK_NEAR(probe.checksum(), static_cast<double>(probe.bytes() / sizeof(float)), 1.0);
}

// Large buffers: zeroed, writable to the last byte, aligned for vectors and, from a huge page
// up, for huge pages.
void largeBuffers() {
    for (const std::size_t bytes : {std::size_t{0}, std::size_t{100}, std::size_t{1} << 20,
                                    kHugePageBytes, (std::size_t{5} << 20) + 123}) {
        const auto buffer = allocateLargeBuffer(bytes);
        CHECK(buffer != nullptr);
        const auto address = reinterpret_cast<std::uintptr_t>(buffer.get());
        CHECK(address % 64 == 0);
        if (bytes >= kHugePageBytes)
            CHECK(address % kHugePageBytes == 0);
        bool zero = true;
        for (std::size_t i = 0; i < bytes; ++i)
            zero = zero && buffer[i] == std::byte{0};
        CHECK(zero);
        if (bytes > 0) {
            buffer[0] = std::byte{1};
            buffer[bytes - 1] = std::byte{2};
            CHECK(buffer[bytes - 1] == std::byte{2});
        }
    }
}

} // namespace

// inference_kernels_test ISA: the kernels of one instruction set against their references;
// exits 77 (CTest: skipped) with the reason when this CPU lacks it. inference_kernels_test
// common: thread pool, probes and buffers. No argument: all of it, on every ISA this CPU has.
int main(int argc, char** argv) {
    const std::string what = argc > 1 ? argv[1] : "";
    try {
        std::vector<Isa> isas;
        if (const auto stop = check::isasFromArgument(what, isas))
            return *stop;
        const Isa original = activeIsa();
        for (const Isa isa : isas) {
            setActiveIsa(isa);
            matmulMatchesReference();
            fp8MatmulMatchesDequantised();
            attentionMatchesReference();
            transposedMatchesReference();
            swigluMatchesReference();
            softmaxExpRowMatchesReference();
            if (isa == Isa::Avx512Bf16)
                pairPanelsMatchReference();
        }
        setActiveIsa(original);
        if (what.empty() || what == "common") {
            bf16RoundingIsExact();
            fp8DecodesAndEncodesExactly();
            fp8MatrixViews();
            threadPoolRunsEveryTaskOnce();
            threadPoolPassesExceptionsOn();
            threadPoolUnderOversubscription();
            computePeakRuns();
            bandwidthKernelRuns();
            largeBuffers();
            CHECK_THROWS_WITH(
                [] {
                    for (const Isa isa : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2})
                        if (!isaSupported(isa))
                            setActiveIsa(isa);
                    throw EngineError("this CPU does not support anything missing");
                }(),
                "this CPU does not support");
        }
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_kernels_test");
}
