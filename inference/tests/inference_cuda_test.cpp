// The CUDA backend held to its references: every optimised kernel against its plain version (a
// naive kernel or the same math on the CPU), then the whole forward pass against the CPU
// reference forward for each family. Without a device it prints "SKIP: <reason>" and exits 77
// (CTest: skipped), never passing silently.
//
// Tolerances: kernels with BF16 outputs 1e-2 relative (BF16 keeps 8 bits: 2^-9 per rounding);
// the forward pass 5e-2 of each logits row's scale (BF16 weights, activations, KV cache and
// attention probabilities, against a double-precision reference); paths that compute the same
// sums in the same order (batched vs single decode: 1e-5; graphs vs plain launches: 0).
#include "Check.h"
#include "inference/cuda/CudaBackend.h"
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaEngine.h"
#include "inference/cuda/CudaKernels.h"
#include "inference/model/Cost.h"
#include "inference/model/ReferenceForward.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <set>

using namespace crossroads::inference;
using gpu::bf16;
using gpu::DeviceBuffer;

namespace {

constexpr double kBf16Tolerance = 1e-2;
constexpr double kForwardTolerance = 5e-2;

// ---- host <-> device ----------------------------------------------------------------------

template <typename T> DeviceBuffer<T> toDevice(const std::vector<T>& values) {
    DeviceBuffer<T> buffer(std::max<std::size_t>(values.size(), 1), "test data");
    CUDA_CHECK(
        cudaMemcpy(buffer.get(), values.data(), values.size() * sizeof(T), cudaMemcpyHostToDevice));
    return buffer;
}

template <typename T> std::vector<T> toHost(const T* device, std::size_t count) {
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> values(count);
    CUDA_CHECK(cudaMemcpy(values.data(), device, count * sizeof(T), cudaMemcpyDeviceToHost));
    return values;
}

bf16* bf(DeviceBuffer<uint16_t>& buffer) {
    return reinterpret_cast<bf16*>(buffer.get());
}

std::vector<uint16_t> randomBf16(std::size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> uniform(-scale, scale);
    std::vector<uint16_t> values(n);
    for (auto& v : values)
        v = floatToBf16(uniform(random));
    return values;
}

std::vector<float> randomF32(std::size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> uniform(-scale, scale);
    std::vector<float> values(n);
    for (auto& v : values)
        v = uniform(random);
    return values;
}

float asFloat(uint16_t bits) {
    return bf16ToFloat(bits);
}

// max |a - b| / max(1, max |b|): error relative to the data's scale.
template <typename A> double relativeError(const std::vector<A>& a, const std::vector<double>& b) {
    double worst = 0.0, scale = 1.0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        const double value = std::is_same_v<A, uint16_t> ? asFloat(static_cast<uint16_t>(a[i]))
                                                         : static_cast<double>(a[i]);
        worst = std::max(worst, std::fabs(value - b[i]));
        scale = std::max(scale, std::fabs(b[i]));
    }
    return worst / scale;
}

void expectClose(double error, double tolerance, const std::string& what) {
    std::printf("  %-48s error %.2e (tolerance %.0e)\n", what.c_str(), error, tolerance);
    if (!(error <= tolerance))
        check::fail(__FILE__, __LINE__, what + ": error " + std::to_string(error));
}

double silu(double x) {
    return x / (1.0 + std::exp(-x));
}

// ---- kernels ------------------------------------------------------------------------------

void rmsNormMatchesCpu() {
    for (const int cols : {64, 4096}) {
        const int rows = 3;
        const auto x = randomF32(static_cast<std::size_t>(rows * cols), 1, 3.0f);
        const auto weight = randomF32(static_cast<std::size_t>(cols), 2);
        auto dx = toDevice(x);
        auto dw = toDevice(weight);
        DeviceBuffer<uint16_t> out(static_cast<std::size_t>(rows * cols), "out");
        gpu::rmsNormRows(dx.get(), dw.get(), cols, 1e-5f, rows, bf(out), nullptr);
        std::vector<double> expected;
        for (int r = 0; r < rows; ++r) {
            double squares = 0.0;
            for (int i = 0; i < cols; ++i)
                squares += double(x[r * cols + i]) * x[r * cols + i];
            const double scale = 1.0 / std::sqrt(squares / cols + 1e-5);
            for (int i = 0; i < cols; ++i)
                expected.push_back(x[r * cols + i] * scale * weight[i]);
        }
        expectClose(relativeError(toHost(out.get(), out.size()), expected), kBf16Tolerance,
                    "rmsNorm cols=" + std::to_string(cols));
    }
}

// qkvPostprocess (bias, q/k norm both ways, clip, RoPE, KV write) against the same steps in
// double, in the reference forward's order.
void qkvPostprocessMatchesCpu() {
    const gpu::AttentionShape shape{4, 2, 16};
    const int qDim = shape.qDim(), kvDim = shape.kvDim(), width = qDim + 2 * kvDim;
    const int layers = 2, layer = 1, capacity = 512, rows = 3;
    const std::vector<int> positions = {0, 5, 300};
    const auto inverse = ropeInverseFrequencies(shape.headDim, 1e6);
    enum Mode { Plain, PerHead, Whole };
    for (const Mode mode : {Plain, PerHead, Whole}) {
        const auto qkv = randomF32(static_cast<std::size_t>(rows * width), 3, 2.0f);
        const auto bias = randomF32(static_cast<std::size_t>(width), 4, 0.5f);
        const int normWidthQ = mode == PerHead ? shape.headDim : qDim;
        const int normWidthK = mode == PerHead ? shape.headDim : kvDim;
        const auto qNorm = randomF32(static_cast<std::size_t>(normWidthQ), 5);
        const auto kNorm = randomF32(static_cast<std::size_t>(normWidthK), 6);
        const float clip = mode == Whole ? 0.8f : 0.0f;

        auto dQkv = toDevice(qkv);
        auto dBias = toDevice(bias);
        auto dQNorm = toDevice(qNorm);
        auto dKNorm = toDevice(kNorm);
        auto dInverse = toDevice(inverse);
        auto dPositions = toDevice(positions);
        auto dSlots = toDevice(std::vector<int>(rows, 0));
        DeviceBuffer<uint16_t> cache(2 * layers * capacity * kvDim, "cache");
        CUDA_CHECK(cudaMemset(cache.get(), 0, cache.bytes()));
        auto dPointers = toDevice(std::vector<bf16*>{bf(cache)});
        auto dCapacity = toDevice(std::vector<int>{capacity});
        DeviceBuffer<uint16_t> q(static_cast<std::size_t>(rows * qDim), "q");

        gpu::QkvParams params;
        params.shape = shape;
        params.bias = mode == Plain ? dBias.get() : nullptr;
        params.qNorm = mode == Plain ? nullptr : dQNorm.get();
        params.kNorm = mode == Plain ? nullptr : dKNorm.get();
        params.perHeadNorm = mode == PerHead;
        params.eps = 1e-6f;
        params.clip = clip;
        params.inverseFrequency = dInverse.get();
        gpu::qkvPostprocess(dQkv.get(), rows, params, {dPositions.get(), dSlots.get()},
                            {dPointers.get(), dCapacity.get()}, layer, bf(q), nullptr);

        std::vector<double> expectedQ, expectedK, expectedV;
        for (int t = 0; t < rows; ++t) {
            std::vector<double> row(qkv.begin() + t * width, qkv.begin() + (t + 1) * width);
            if (params.bias != nullptr)
                for (int i = 0; i < width; ++i)
                    row[i] += bias[i];
            const auto norm = [&](int offset, int n, const std::vector<float>& w) {
                double squares = 0.0;
                for (int i = 0; i < n; ++i)
                    squares += row[offset + i] * row[offset + i];
                const double scale = 1.0 / std::sqrt(squares / n + 1e-6);
                for (int i = 0; i < n; ++i)
                    row[offset + i] *= scale * w[i];
            };
            if (mode == Whole) {
                norm(0, qDim, qNorm);
                norm(qDim, kvDim, kNorm);
            } else if (mode == PerHead) {
                for (int h = 0; h < shape.heads; ++h)
                    norm(h * shape.headDim, shape.headDim, qNorm);
                for (int h = 0; h < shape.kvHeads; ++h)
                    norm(qDim + h * shape.headDim, shape.headDim, kNorm);
            }
            if (clip > 0)
                for (double& v : row)
                    v = std::clamp(v, -double(clip), double(clip));
            const int half = shape.headDim / 2;
            for (int h = 0; h < shape.heads + shape.kvHeads; ++h) {
                double* head = row.data() + h * shape.headDim;
                for (int i = 0; i < half; ++i) {
                    const double angle = positions[t] * inverse[i];
                    const double x1 = head[i], x2 = head[i + half];
                    head[i] = x1 * std::cos(angle) - x2 * std::sin(angle);
                    head[i + half] = x2 * std::cos(angle) + x1 * std::sin(angle);
                }
            }
            expectedQ.insert(expectedQ.end(), row.begin(), row.begin() + qDim);
            expectedK.insert(expectedK.end(), row.begin() + qDim, row.begin() + qDim + kvDim);
            expectedV.insert(expectedV.end(), row.begin() + qDim + kvDim, row.end());
        }
        const auto cached = toHost(cache.get(), cache.size());
        std::vector<uint16_t> gotK, gotV;
        for (int t = 0; t < rows; ++t)
            for (int i = 0; i < kvDim; ++i) {
                gotK.push_back(cached[((2 * layer) * capacity + positions[t]) * kvDim + i]);
                gotV.push_back(cached[((2 * layer + 1) * capacity + positions[t]) * kvDim + i]);
            }
        const std::string name = mode == Plain ? "bias" : mode == PerHead ? "per-head" : "whole";
        expectClose(relativeError(toHost(q.get(), q.size()), expectedQ), kBf16Tolerance,
                    "qkvPostprocess q (" + name + ")");
        expectClose(relativeError(gotK, expectedK), kBf16Tolerance,
                    "qkvPostprocess k (" + name + ")");
        expectClose(relativeError(gotV, expectedV), kBf16Tolerance,
                    "qkvPostprocess v (" + name + ")");
    }
}

// Grouping invariants: counts, their exclusive scan, the active list, and sortedPair/pairRow a
// permutation putting every expert's pairs together.
void checkGroups(const std::vector<int>& ids, int experts, const gpu::ExpertGroups& groups,
                 const std::string& what) {
    const auto pairs = ids.size();
    const auto counts = toHost(groups.counts, static_cast<std::size_t>(experts));
    const auto offsets = toHost(groups.offsets, static_cast<std::size_t>(experts) + 1);
    const auto active = toHost(groups.active, static_cast<std::size_t>(experts));
    const int activeCount = toHost(groups.activeCount, 1)[0];
    const auto sorted = toHost(groups.sortedPair, pairs);
    const auto pairRow = toHost(groups.pairRow, pairs);
    std::vector<int> expectedCounts(static_cast<std::size_t>(experts), 0);
    for (const int id : ids)
        ++expectedCounts[static_cast<std::size_t>(id)];
    bool good = counts == expectedCounts && offsets[0] == 0;
    std::vector<int> expectedActive;
    for (int e = 0; e < experts; ++e) {
        good = good && offsets[e + 1] == offsets[e] + expectedCounts[e];
        if (expectedCounts[e] > 0)
            expectedActive.push_back(e);
    }
    good = good && activeCount == static_cast<int>(expectedActive.size()) &&
           std::equal(expectedActive.begin(), expectedActive.end(), active.begin());
    std::set<int> seen;
    for (int e = 0; e < experts && good; ++e)
        for (int row = offsets[e]; row < offsets[e + 1]; ++row) {
            const int pair = sorted[static_cast<std::size_t>(row)];
            good = good && pair >= 0 && pair < static_cast<int>(pairs) &&
                   ids[static_cast<std::size_t>(pair)] == e &&
                   pairRow[static_cast<std::size_t>(pair)] == row && seen.insert(pair).second;
        }
    std::printf("  %-48s %s\n", ("grouping " + what).c_str(), good ? "ok" : "WRONG");
    if (!good)
        check::fail(__FILE__, __LINE__, "grouping " + what);
}

struct Groups {
    DeviceBuffer<int> counts, offsets, active, activeCount, sortedPair, pairRow;
    Groups(int experts, int pairs)
        : counts(experts, "g"), offsets(experts + 1, "g"), active(experts, "g"),
          activeCount(1, "g"), sortedPair(std::max(pairs, 1), "g"),
          pairRow(std::max(pairs, 1), "g") {}
    gpu::ExpertGroups view() {
        return {counts.get(),      offsets.get(),    active.get(),
                activeCount.get(), sortedPair.get(), pairRow.get()};
    }
};

// The small per-row kernels around the projections: embedding rows, bias, SwiGLU, the gather of
// expert inputs, and the MoE combine (with and without a shared expert and the fused next norm).
void rowKernelsMatchCpu() {
    { // embedRows: an exact widening of the table's rows
        const int vocab = 50, cols = 72;
        const auto table = randomBf16(static_cast<std::size_t>(vocab * cols), 51);
        const std::vector<int> tokens = {3, 0, 49, 3, 17};
        const int rows = static_cast<int>(tokens.size());
        auto dTable = toDevice(table);
        auto dTokens = toDevice(tokens);
        DeviceBuffer<float> out(rows * cols, "out");
        gpu::embedRows(bf(dTable), cols, dTokens.get(), rows, out.get(), nullptr);
        std::vector<double> expected;
        for (const int token : tokens)
            for (int i = 0; i < cols; ++i)
                expected.push_back(asFloat(table[static_cast<std::size_t>(token * cols + i)]));
        expectClose(relativeError(toHost(out.get(), out.size()), expected), 0.0, "embedRows");
    }
    { // addBiasRows
        const int rows = 3, cols = 300;
        const auto x = randomF32(static_cast<std::size_t>(rows * cols), 52);
        const auto bias = randomF32(static_cast<std::size_t>(cols), 53);
        auto dx = toDevice(x);
        auto dBias = toDevice(bias);
        gpu::addBiasRows(dx.get(), dBias.get(), rows, cols, nullptr);
        std::vector<double> expected;
        for (int r = 0; r < rows; ++r)
            for (int i = 0; i < cols; ++i)
                expected.push_back(double(x[r * cols + i]) + bias[i]);
        expectClose(relativeError(toHost(dx.get(), dx.size()), expected), 1e-6, "addBiasRows");
    }
    { // siluMulRows: [rows x 2 inter], gate half first
        const int rows = 7, inter = 40;
        const auto gateUp = randomBf16(static_cast<std::size_t>(rows * 2 * inter), 54, 4.0f);
        auto dGateUp = toDevice(gateUp);
        DeviceBuffer<uint16_t> act(rows * inter, "act");
        gpu::siluMulRows(bf(dGateUp), rows, inter, bf(act), nullptr);
        std::vector<double> expected;
        for (int r = 0; r < rows; ++r)
            for (int i = 0; i < inter; ++i)
                expected.push_back(silu(asFloat(gateUp[r * 2 * inter + i])) *
                                   asFloat(gateUp[r * 2 * inter + inter + i]));
        expectClose(relativeError(toHost(act.get(), act.size()), expected), kBf16Tolerance,
                    "siluMulRows");
    }
    // A routing of 4 tokens to 2 of 5 experts each, grouped on the device, for the gather and
    // the combine.
    const int tokens = 4, k = 2, experts = 5, cols = 64, pairs = tokens * k;
    const std::vector<int> ids = {4, 1, 1, 0, 2, 4, 1, 3};
    auto dIds = toDevice(ids);
    Groups groups(experts, pairs);
    gpu::groupByExpert(dIds.get(), pairs, experts, groups.view(), nullptr, nullptr);
    const auto sortedPair = toHost(groups.sortedPair.get(), pairs);
    const auto pairRow = toHost(groups.pairRow.get(), pairs);
    { // gatherRows: row r of the output is the input row of the token of sorted pair r
        const auto x = randomBf16(static_cast<std::size_t>(tokens * cols), 55);
        auto dx = toDevice(x);
        DeviceBuffer<uint16_t> out(pairs * cols, "out");
        gpu::gatherRows(bf(dx), cols, groups.sortedPair.get(), k, pairs, bf(out), nullptr);
        const auto got = toHost(out.get(), out.size());
        bool exact = true;
        for (int row = 0; row < pairs; ++row)
            for (int i = 0; i < cols; ++i)
                exact = exact && got[row * cols + i] == x[(sortedPair[row] / k) * cols + i];
        std::printf("  %-48s %s\n", "gatherRows", exact ? "ok" : "WRONG");
        CHECK(exact);
    }
    for (const bool shared : {true, false}) { // combineExperts, fused next norm when shared
        const auto hidden = randomF32(static_cast<std::size_t>(tokens * cols), 56);
        const auto weight = randomF32(static_cast<std::size_t>(pairs), 57);
        const auto expertOut = randomBf16(static_cast<std::size_t>(pairs * cols), 58);
        const auto gate = randomF32(static_cast<std::size_t>(tokens), 59);
        const auto sharedOut = randomF32(static_cast<std::size_t>(tokens * cols), 60);
        const auto norm = randomF32(static_cast<std::size_t>(cols), 61);
        auto dHidden = toDevice(hidden);
        auto dWeight = toDevice(weight);
        auto dExpertOut = toDevice(expertOut);
        auto dGate = toDevice(gate);
        auto dSharedOut = toDevice(sharedOut);
        auto dNorm = toDevice(norm);
        const std::vector<uint16_t> untouched(static_cast<std::size_t>(tokens * cols), 0x7fc0);
        auto normed = toDevice(untouched);
        gpu::CombineParams params;
        params.k = k;
        params.pairRow = groups.pairRow.get();
        params.weight = dWeight.get();
        params.expertOut = bf(dExpertOut);
        if (shared) {
            params.sharedGate = dGate.get();
            params.sharedOut = dSharedOut.get();
        }
        gpu::combineExperts(dHidden.get(), tokens, cols, params, shared ? dNorm.get() : nullptr,
                            1e-6f, bf(normed), nullptr);
        std::vector<double> expectedHidden, expectedNormed;
        for (int t = 0; t < tokens; ++t) {
            double squares = 0.0;
            std::vector<double> row(static_cast<std::size_t>(cols));
            for (int i = 0; i < cols; ++i) {
                double value = hidden[t * cols + i];
                for (int slot = 0; slot < k; ++slot)
                    value += double(weight[t * k + slot]) *
                             asFloat(expertOut[pairRow[t * k + slot] * cols + i]);
                if (shared)
                    value += double(gate[t]) * sharedOut[t * cols + i];
                row[i] = value;
                squares += value * value;
            }
            const double scale = 1.0 / std::sqrt(squares / cols + 1e-6);
            for (int i = 0; i < cols; ++i) {
                expectedHidden.push_back(row[i]);
                expectedNormed.push_back(row[i] * scale * norm[i]);
            }
        }
        const std::string name = shared ? " (shared expert, next norm)" : " (routed only)";
        expectClose(relativeError(toHost(dHidden.get(), dHidden.size()), expectedHidden), 1e-5,
                    "combineExperts hidden" + name);
        const auto gotNormed = toHost(normed.get(), normed.size());
        if (shared)
            expectClose(relativeError(gotNormed, expectedNormed), kBf16Tolerance,
                        "combineExperts normed" + name);
        else
            CHECK(gotNormed == untouched); // no next norm: normed is left alone
    }
}

// Router top-k against routeTopK (the CPU reference's routing), alone and fused with grouping.
void routingMatchesCpu() {
    struct Case {
        int rows, experts, k;
        bool normalize, shared;
    };
    for (const Case c : {Case{5, 6, 2, true, false}, Case{7, 60, 4, false, true},
                         Case{64, 128, 8, true, false}, Case{3, 1024, 8, false, false}}) {
        const int ld = c.experts + (c.shared ? 1 : 0);
        const auto logits = randomF32(static_cast<std::size_t>(c.rows * ld), 11, 4.0f);
        auto dLogits = toDevice(logits);
        for (const bool fused : {false, true}) {
            DeviceBuffer<int> ids(c.rows * c.k, "ids");
            DeviceBuffer<float> weights(c.rows * c.k, "weights"), gate(c.rows, "gate");
            Groups groups(c.experts, c.rows * c.k);
            if (fused)
                gpu::routeAndGroup(dLogits.get(), ld, c.rows, c.experts, c.k, c.normalize,
                                   c.shared ? gate.get() : nullptr, ids.get(), weights.get(),
                                   groups.view(), nullptr, nullptr);
            else
                gpu::routerTopK(dLogits.get(), ld, c.rows, c.experts, c.k, c.normalize,
                                c.shared ? gate.get() : nullptr, ids.get(), weights.get(), nullptr);
            const auto gotIds = toHost(ids.get(), ids.size());
            const auto gotWeights = toHost(weights.get(), weights.size());
            const auto gotGate = toHost(gate.get(), gate.size());
            bool idsMatch = true;
            double worst = 0.0;
            for (int t = 0; t < c.rows; ++t) {
                std::vector<double> row(logits.begin() + t * ld,
                                        logits.begin() + t * ld + c.experts);
                const auto chosen = routeTopK(row, c.k, c.normalize);
                for (int s = 0; s < c.k; ++s) {
                    idsMatch = idsMatch && gotIds[t * c.k + s] == chosen[s].first;
                    worst = std::max(worst, std::fabs(gotWeights[t * c.k + s] - chosen[s].second));
                }
                if (c.shared)
                    worst = std::max(
                        worst,
                        std::fabs(gotGate[t] -
                                  1.0 / (1.0 + std::exp(-double(logits[t * ld + c.experts])))));
            }
            const std::string name = std::string(fused ? "routeAndGroup" : "routerTopK") +
                                     " E=" + std::to_string(c.experts) +
                                     " k=" + std::to_string(c.k);
            CHECK(idsMatch);
            expectClose(worst, 1e-5, name + " weights");
            if (fused)
                checkGroups(gotIds, c.experts, groups.view(), name);
        }
    }
    // Grouping alone on a prefill-sized batch (many pairs per thread of the single block).
    const int experts = 128, pairs = 4096 * 8;
    std::mt19937 random(5);
    std::vector<int> ids(pairs);
    for (auto& id : ids)
        id = static_cast<int>(random() % 100); // experts 100..127 stay idle
    auto dIds = toDevice(ids);
    Groups groups(experts, pairs);
    DeviceBuffer<int> record(1, "record");
    gpu::groupByExpert(dIds.get(), pairs, experts, groups.view(), record.get(), nullptr);
    checkGroups(ids, experts, groups.view(), "groupByExpert 32768 pairs");
    CHECK(toHost(record.get(), 1)[0] == 100);

    // A row of NaN logits (a diverged activation) still routes to real experts, so the grouping
    // stays in bounds and the NaN reaches the logits instead of a device fault.
    {
        const int nanExperts = 40, k = 4, rows = 2;
        std::vector<float> logits = randomF32(static_cast<std::size_t>(rows * nanExperts), 14);
        for (int e = 0; e < nanExperts; ++e)
            logits[static_cast<std::size_t>(e)] = std::nanf("");
        auto dLogits = toDevice(logits);
        DeviceBuffer<int> nanIds(rows * k, "ids");
        DeviceBuffer<float> nanWeights(rows * k, "weights");
        Groups nanGroups(nanExperts, rows * k);
        gpu::routeAndGroup(dLogits.get(), nanExperts, rows, nanExperts, k, true, nullptr,
                           nanIds.get(), nanWeights.get(), nanGroups.view(), nullptr, nullptr);
        const auto got = toHost(nanIds.get(), nanIds.size());
        bool inRange = true;
        for (const int id : got)
            inRange = inRange && id >= 0 && id < nanExperts;
        std::printf("  %-48s %s\n", "routeAndGroup with NaN logits", inRange ? "ok" : "WRONG");
        CHECK(inRange);
        checkGroups(got, nanExperts, nanGroups.view(), "with NaN logits");
    }
}

// The cuBLAS expert GEMMs (grouped API and loop) against the naive grouped kernel.
void expertGemmMatchesReference() {
    const int experts = 8, tokens = 300, k = 2, outRows = 96, cols = 128;
    const int pairs = tokens * k;
    std::mt19937 random(9);
    std::vector<int> ids;
    for (int t = 0; t < tokens; ++t) {
        const int first = static_cast<int>(random() % 5); // experts 6, 7 unused
        ids.push_back(first);
        ids.push_back(first + 1);
    }
    auto dIds = toDevice(ids);
    Groups groups(experts, pairs);
    gpu::groupByExpert(dIds.get(), pairs, experts, groups.view(), nullptr, nullptr);
    auto weights =
        toDevice(randomBf16(static_cast<std::size_t>(experts * outRows * cols), 12, 0.2f));
    auto x = toDevice(randomBf16(static_cast<std::size_t>(pairs * cols), 13));
    DeviceBuffer<float> reference(pairs * outRows, "reference");
    gpu::groupedGemmReference(bf(weights), static_cast<int64_t>(outRows) * cols, outRows, cols,
                              bf(x), groups.offsets.get(), experts, pairs, reference.get(),
                              nullptr);
    const auto expectedF = toHost(reference.get(), reference.size());
    const std::vector<double> expected(expectedF.begin(), expectedF.end());
    const auto counts = toHost(groups.counts.get(), experts);
    cublasHandle_t cublas = nullptr;
    CUBLAS_CHECK(cublasCreate(&cublas));
    DeviceBuffer<const void*> a(experts, "a"), b(experts, "b");
    DeviceBuffer<void*> c(experts, "c");
    gpu::ExpertGemmHostArrays arrays;
    for (const auto mode : {gpu::ExpertGemmMode::Grouped, gpu::ExpertGemmMode::Loop}) {
        DeviceBuffer<uint16_t> y(pairs * outRows, "y");
        CUDA_CHECK(cudaMemset(y.get(), 0, y.bytes()));
        const cublasStatus_t status =
            gpu::expertGemm(cublas, mode, counts.data(), experts, groups.view(), bf(weights),
                            static_cast<int64_t>(outRows) * cols, outRows, cols, bf(x), bf(y),
                            a.get(), b.get(), c.get(), arrays, nullptr);
        const std::string name = mode == gpu::ExpertGemmMode::Grouped ? "cublasGemmGroupedBatchedEx"
                                                                      : "cublasGemmEx loop";
        if (status != CUBLAS_STATUS_SUCCESS) {
            // The backend falls back to the loop in this case; say so loudly.
            std::printf("  %-48s refused: %s (the backend uses the loop)\n", name.c_str(),
                        cublasGetStatusName(status));
            continue;
        }
        expectClose(relativeError(toHost(y.get(), y.size()), expected), kBf16Tolerance,
                    "expert GEMM " + name);
    }
    cublasDestroy(cublas);
}

// Decode GEMVs against the naive kernel (dense) and the CPU (SwiGLU, experts).
void gemvMatchesReference() {
    for (const int cols : {40, 2048, 1000 * 8 + 8}) {
        for (const int tokens : {1, 3, 8, 11}) {
            const int rows = 37;
            auto w = toDevice(randomBf16(static_cast<std::size_t>(rows * cols), 21, 0.1f));
            auto x = toDevice(randomBf16(static_cast<std::size_t>(tokens * cols), 22));
            DeviceBuffer<float> y(tokens * rows, "y"), reference(tokens * rows, "ref");
            const auto start = randomF32(static_cast<std::size_t>(tokens * rows), 23);
            CUDA_CHECK(cudaMemcpy(y.get(), start.data(), y.bytes(), cudaMemcpyHostToDevice));
            gpu::gemv(bf(w), rows, cols, bf(x), tokens, y.get(), rows, true, nullptr);
            gpu::gemvReference(bf(w), rows, cols, bf(x), tokens, reference.get(), nullptr);
            const auto ref = toHost(reference.get(), reference.size());
            std::vector<double> expected(ref.size());
            for (std::size_t i = 0; i < ref.size(); ++i)
                expected[i] = double(ref[i]) + start[i];
            expectClose(relativeError(toHost(y.get(), y.size()), expected), 1e-5,
                        "gemv (accumulate) cols=" + std::to_string(cols) +
                            " tokens=" + std::to_string(tokens));
        }
    }
    // Dense SwiGLU and the routed experts, on the CPU from the same BF16 data.
    const int hidden = 256, inter = 72, experts = 6, k = 2, tokens = 5;
    const auto wHost = randomBf16(static_cast<std::size_t>(experts * 2 * inter * hidden), 31, 0.1f);
    const auto downHost = randomBf16(static_cast<std::size_t>(experts * hidden * inter), 32, 0.1f);
    const auto xHost = randomBf16(static_cast<std::size_t>(tokens * hidden), 33);
    auto w = toDevice(wHost);
    auto down = toDevice(downHost);
    auto x = toDevice(xHost);
    const auto dot = [](const std::vector<uint16_t>& a, std::size_t aOffset,
                        const std::vector<uint16_t>& b, std::size_t bOffset, int n) {
        double sum = 0.0;
        for (int i = 0; i < n; ++i)
            sum += double(asFloat(a[aOffset + i])) * asFloat(b[bOffset + i]);
        return sum;
    };
    {
        DeviceBuffer<uint16_t> act(tokens * inter, "act");
        gpu::gemvGateUp(bf(w), inter, hidden, bf(x), tokens, bf(act), nullptr);
        std::vector<double> expected;
        for (int t = 0; t < tokens; ++t)
            for (int i = 0; i < inter; ++i)
                expected.push_back(silu(dot(wHost, std::size_t(i) * hidden, xHost,
                                            std::size_t(t) * hidden, hidden)) *
                                   dot(wHost, std::size_t(inter + i) * hidden, xHost,
                                       std::size_t(t) * hidden, hidden));
        expectClose(relativeError(toHost(act.get(), act.size()), expected), kBf16Tolerance,
                    "gemvGateUp");
    }
    const std::vector<int> ids = {0, 3, 3, 5, 1, 0, 5, 2, 3, 4}; // tokens x k, expert 3 shared
    auto dIds = toDevice(ids);
    Groups groups(experts, tokens * k);
    gpu::groupByExpert(dIds.get(), tokens * k, experts, groups.view(), nullptr, nullptr);
    DeviceBuffer<uint16_t> act(tokens * k * inter, "act"), out(tokens * k * hidden, "out");
    gpu::expertGemvGateUp(bf(w), inter, hidden, bf(x), k, groups.view(),
                          std::min(tokens * k, experts), tokens, bf(act), nullptr);
    gpu::expertGemvDown(bf(down), hidden, inter, bf(act), groups.view(),
                        std::min(tokens * k, experts), tokens, bf(out), nullptr);
    const auto pairRow = toHost(groups.pairRow.get(), tokens * k);
    const auto gotAct = toHost(act.get(), act.size());
    std::vector<double> expectedAct(gotAct.size()), expectedOut(out.size());
    for (int p = 0; p < tokens * k; ++p) {
        const int e = ids[p], t = p / k, row = pairRow[p];
        const std::size_t base = std::size_t(e) * 2 * inter * hidden;
        for (int i = 0; i < inter; ++i)
            expectedAct[std::size_t(row) * inter + i] =
                silu(dot(wHost, base + std::size_t(i) * hidden, xHost, std::size_t(t) * hidden,
                         hidden)) *
                dot(wHost, base + std::size_t(inter + i) * hidden, xHost, std::size_t(t) * hidden,
                    hidden);
        // The down product from the kernel's own (BF16) activations, so the check is of the GEMV.
        for (int r = 0; r < hidden; ++r)
            expectedOut[std::size_t(row) * hidden + r] =
                dot(downHost, std::size_t(e) * hidden * inter + std::size_t(r) * inter, gotAct,
                    std::size_t(row) * inter, inter);
    }
    expectClose(relativeError(gotAct, expectedAct), kBf16Tolerance, "expertGemvGateUp");
    expectClose(relativeError(toHost(out.get(), out.size()), expectedOut), kBf16Tolerance,
                "expertGemvDown");
}

// Decode attention (one and several chunks) and the cuBLAS prefill attention (in chunks of
// queries) against the naive kernel.
void attentionMatchesReference() {
    const gpu::AttentionShape shape{8, 2, 64};
    const int qDim = shape.qDim(), kvDim = shape.kvDim(), layers = 2, layer = 1, capacity = 1024;
    std::vector<DeviceBuffer<uint16_t>> caches;
    std::vector<bf16*> pointers;
    for (int s = 0; s < 2; ++s) {
        caches.push_back(
            toDevice(randomBf16(static_cast<std::size_t>(2 * layers * capacity * kvDim),
                                static_cast<uint32_t>(40 + s))));
        pointers.push_back(bf(caches.back()));
    }
    auto dPointers = toDevice(pointers);
    auto dCapacity = toDevice(std::vector<int>{capacity, capacity});
    const gpu::KvTable kv{dPointers.get(), dCapacity.get()};

    const std::vector<int> positions = {0, 100, 700, 255};
    const std::vector<int> slots = {0, 1, 0, 1};
    const int tokens = static_cast<int>(positions.size());
    auto dPositions = toDevice(positions);
    auto dSlots = toDevice(slots);
    auto q = toDevice(randomBf16(static_cast<std::size_t>(tokens * qDim), 44, 2.0f));
    DeviceBuffer<float> reference(tokens * qDim, "reference");
    gpu::attentionReference(bf(q), tokens, {dPositions.get(), dSlots.get()}, kv, layer, shape,
                            reference.get(), nullptr);
    const auto ref = toHost(reference.get(), reference.size());
    const std::vector<double> expected(ref.begin(), ref.end());
    for (const int splits : {gpu::attentionSplits(701), 8}) {
        DeviceBuffer<float> partial(gpu::attentionPartialFloats(tokens, shape, splits), "partial");
        DeviceBuffer<uint16_t> out(tokens * qDim, "out");
        gpu::decodeAttention(bf(q), tokens, {dPositions.get(), dSlots.get()}, kv, layer, shape,
                             splits, partial.get(), bf(out), nullptr);
        expectClose(relativeError(toHost(out.get(), out.size()), expected), kBf16Tolerance,
                    "decodeAttention splits=" + std::to_string(splits));
    }
    { // short contexts in one chunk: the kernel finishes without the merge
        const std::vector<int> shortPositions = {0, 3, 200};
        auto dShort = toDevice(shortPositions);
        auto dShortSlots = toDevice(std::vector<int>{0, 1, 1});
        DeviceBuffer<float> shortRef(3 * qDim, "ref");
        gpu::attentionReference(bf(q), 3, {dShort.get(), dShortSlots.get()}, kv, layer, shape,
                                shortRef.get(), nullptr);
        DeviceBuffer<uint16_t> out(3 * qDim, "out");
        gpu::decodeAttention(bf(q), 3, {dShort.get(), dShortSlots.get()}, kv, layer, shape, 1,
                             nullptr, bf(out), nullptr);
        const auto r = toHost(shortRef.get(), shortRef.size());
        expectClose(
            relativeError(toHost(out.get(), out.size()), std::vector<double>(r.begin(), r.end())),
            kBf16Tolerance, "decodeAttention one chunk");
    }

    // Prefill: 50 queries at positions [37, 87) of slot 0, scratch for 7 query rows per chunk.
    const int start = 37, rows = 50;
    std::vector<int> prefillPositions(rows), prefillSlots(rows, 0);
    std::iota(prefillPositions.begin(), prefillPositions.end(), start);
    auto dPrefillPositions = toDevice(prefillPositions);
    auto dPrefillSlots = toDevice(prefillSlots);
    auto pq = toDevice(randomBf16(static_cast<std::size_t>(rows * qDim), 45, 2.0f));
    DeviceBuffer<float> prefillRef(rows * qDim, "ref");
    gpu::attentionReference(bf(pq), rows, {dPrefillPositions.get(), dPrefillSlots.get()}, kv, layer,
                            shape, prefillRef.get(), nullptr);
    const std::size_t elements = std::size_t(7) * shape.heads * (start + rows);
    DeviceBuffer<float> scores(elements, "scores");
    DeviceBuffer<uint16_t> probs(elements, "probs"), out(rows * qDim, "out");
    cublasHandle_t cublas = nullptr;
    CUBLAS_CHECK(cublasCreate(&cublas));
    const bf16* keys = pointers[0] + std::size_t(2 * layer) * capacity * kvDim;
    gpu::prefillAttention(cublas, bf(pq), rows, start, keys, keys + std::size_t(capacity) * kvDim,
                          shape, {scores.get(), bf(probs), elements}, bf(out), nullptr);
    const auto pr = toHost(prefillRef.get(), prefillRef.size());
    expectClose(
        relativeError(toHost(out.get(), out.size()), std::vector<double>(pr.begin(), pr.end())),
        2 * kBf16Tolerance, "prefillAttention (cuBLAS, 8 chunks)");
    cublasDestroy(cublas);
}

void readBandwidthKernel() {
    const std::size_t bytes = std::size_t{64} << 20;
    const auto measured = gpu::measureDeviceReadBandwidth(bytes, 2, nullptr);
    std::printf("  %-48s %.0f GB/s (64 MiB, checksum %08x)\n", "read-bandwidth kernel",
                measured.bestGbPerS, measured.checksum);
    CHECK(measured.checksum == gpu::readChecksumReference(bytes / 4));
    CHECK(measured.bestGbPerS > 0.0);
}

// ---- the whole forward --------------------------------------------------------------------

using check::kFamilies;
using check::kTokens;
using check::rowError;

double maxDifference(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = a.size() == b.size() ? 0.0 : INFINITY;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
    return worst;
}

void forwardMatchesReference(ModelFamily family, WeightType type) {
    const Model model = synthesizeModel(check::tinyConfig(family), type, 21);
    const int64_t vocab = model.config.vocabSize;
    const auto reference = referenceForward(model, kTokens);
    const std::string name =
        std::string(familyName(family)) + "/" + std::string(weightTypeName(type));
    CudaBackend backend(model);

    // 1. Prefill of the whole prompt, every position.
    const SequenceId full = backend.newSequence();
    const auto all = backend.prefill(full, kTokens, true);
    double worst = 0.0;
    for (std::size_t t = 0; t < kTokens.size(); ++t)
        worst = std::max(worst, rowError(all.data() + t * vocab, reference[t]));
    expectClose(worst, kForwardTolerance, name + " prefill vs reference");

    // 2. Prefill of 4, then decode one at a time: each step equals the reference and the full
    // prefill's row.
    const SequenceId split = backend.newSequence();
    const auto last = backend.prefill(split, std::span(kTokens).first(4));
    worst = rowError(last.data(), reference[3]);
    double againstPrefill = 0.0;
    for (std::size_t t = 4; t < kTokens.size(); ++t) {
        const auto logits = backend.decode(std::span(&split, 1), std::span(kTokens).subspan(t, 1));
        worst = std::max(worst, rowError(logits.data(), reference[t]));
        againstPrefill =
            std::max(againstPrefill,
                     rowError(logits.data(), std::vector<float>(all.begin() + t * vocab,
                                                                all.begin() + (t + 1) * vocab)));
    }
    CHECK(backend.sequenceLength(split) == static_cast<int64_t>(kTokens.size()));
    expectClose(worst, kForwardTolerance, name + " prefill+decode vs reference");
    expectClose(againstPrefill, kForwardTolerance, name + " prefill+decode vs full prefill");

    // 2b. Chunked prefill: 4 tokens, then the other 7 after them (RoPE positions, the causal
    // mask over the cached positions), every position of the second chunk.
    const SequenceId chunked = backend.newSequence();
    backend.prefill(chunked, std::span(kTokens).first(4));
    const auto rest = backend.prefill(chunked, std::span(kTokens).subspan(4), true);
    CHECK(rest.size() == (kTokens.size() - 4) * static_cast<std::size_t>(vocab));
    worst = 0.0;
    for (std::size_t t = 4; t < kTokens.size(); ++t)
        worst = std::max(worst, rowError(rest.data() + (t - 4) * vocab, reference[t]));
    expectClose(worst, kForwardTolerance, name + " chunked prefill vs reference");
    CHECK(backend.sequenceLength(chunked) == static_cast<int64_t>(kTokens.size()));
    backend.releaseSequence(chunked);

    // 3. A decode batch of sequences at different lengths equals each one decoded alone, and
    // graphs change nothing.
    const std::vector<std::size_t> lengths = {2, 5, 3};
    const std::vector<int32_t> next = {kTokens[2], kTokens[5], kTokens[3]};
    const auto prepare = [&] {
        std::vector<SequenceId> ids;
        for (const std::size_t length : lengths) {
            ids.push_back(backend.newSequence());
            backend.prefill(ids.back(), std::span(kTokens).first(length));
        }
        return ids;
    };
    const auto batchedIds = prepare();
    const auto batched = backend.decode(batchedIds, next);
    const auto singleIds = prepare();
    std::vector<float> single;
    for (std::size_t b = 0; b < lengths.size(); ++b) {
        const auto logits = backend.decode(std::span(&singleIds[b], 1), std::span(&next[b], 1));
        single.insert(single.end(), logits.begin(), logits.end());
    }
    expectClose(maxDifference(batched, single), 1e-5, name + " batched decode vs single");
    worst = std::max({rowError(batched.data(), reference[2]),
                      rowError(batched.data() + vocab, reference[5]),
                      rowError(batched.data() + 2 * vocab, reference[3])});
    expectClose(worst, kForwardTolerance, name + " batched decode vs reference");
    backend.setUseGraphs(false);
    const auto ungraphedIds = prepare();
    const auto ungraphed = backend.decode(ungraphedIds, next);
    backend.setUseGraphs(true);
    expectClose(maxDifference(batched, ungraphed), 0.0, name + " decode graph vs launches");
    CHECK(backend.capturedGraphs() >= 2); // batch 1 and batch 3

    // 4. The cuBLAS loop computes what the grouped call does.
    backend.setGroupedGemmPath(GroupedGemmPath::Loop);
    const SequenceId looped = backend.newSequence();
    const auto loopLogits = backend.prefill(looped, kTokens, true);
    backend.setGroupedGemmPath(GroupedGemmPath::Auto);
    double loopError = 0.0;
    for (std::size_t t = 0; t < kTokens.size(); ++t)
        loopError = std::max(
            loopError,
            rowError(loopLogits.data() + t * vocab,
                     std::vector<float>(all.begin() + t * vocab, all.begin() + (t + 1) * vocab)));
    expectClose(loopError, 1e-2, name + " expert GEMM loop vs grouped");

    CHECK(backend.kvBytesPerToken() == kvBytesPerToken(model.config, 2.0));
    for (const SequenceId id : {full, split, looped})
        backend.releaseSequence(id);
}

// Long enough to grow the KV cache (256 -> 512 positions), split decode attention in chunks and
// cross many prefill attention rows.
void longContextMatchesReference() {
    const Model model =
        synthesizeModel(check::tinyConfig(ModelFamily::Qwen3Moe), WeightType::BF16, 3);
    std::vector<int32_t> tokens;
    for (int i = 0; i < 302; ++i)
        tokens.push_back(static_cast<int32_t>((i * 37 + 11) % model.config.vocabSize));
    const auto reference = referenceForward(model, tokens);
    CudaBackend backend(model);
    const SequenceId sequence = backend.newSequence();
    const auto first = backend.prefill(sequence, std::span(tokens).first(300));
    double worst = rowError(first.data(), reference[299]);
    for (std::size_t t = 300; t < tokens.size(); ++t) {
        const auto logits =
            backend.decode(std::span(&sequence, 1), std::span(tokens).subspan(t, 1));
        worst = std::max(worst, rowError(logits.data(), reference[t]));
    }
    expectClose(worst, kForwardTolerance, "qwen3_moe 302 positions (cache growth, 2 chunks)");
}

// Parameters of a matrix: on the device every one is a BF16 element, whatever the checkpoint
// stores, so the bytes a call reads are twice its parameters.
double parameters(const Matrix& matrix) {
    return static_cast<double>(matrix.rows) * static_cast<double>(matrix.cols);
}

double parameters(const MlpWeights& mlp) {
    return parameters(mlp.gate) + parameters(mlp.up) + parameters(mlp.down);
}

// What a call must read and compute, summed from the model's matrices (not from the cost model)
// for rows attending to `contexts` positions each and `logitRows` rows of logits: every byte but
// the routed experts', whose count only the routing knows, and the bytes of one routed expert.
struct ExpectedRead {
    double bytesBesideExperts = 0;
    double bytesPerExpert = 0;
    double kvBytes = 0;
    double flops = 0;
    int64_t moeLayers = 0;
};

ExpectedRead expectedRead(const Model& model, const std::vector<int64_t>& contexts,
                          int64_t logitRows) {
    const ModelConfig& config = model.config;
    const ModelWeights& w = model.weights;
    const auto rows = static_cast<double>(contexts.size());
    const double attended =
        static_cast<double>(std::accumulate(contexts.begin(), contexts.end(), int64_t{0}));
    ExpectedRead e;
    // One embedding row per row; the LM head once, multiplied by every logit row.
    double read = rows * static_cast<double>(w.embed.cols) + parameters(w.lmHead);
    e.flops = 2.0 * static_cast<double>(logitRows) * parameters(w.lmHead);
    for (const LayerWeights& layer : w.layers) {
        const double attention =
            parameters(layer.q) + parameters(layer.k) + parameters(layer.v) + parameters(layer.o);
        read += attention;
        // QK^T and PV: per row, each query head's width against every position it attends to.
        e.flops += 2.0 * rows * attention + 4.0 * static_cast<double>(config.qDim()) * attended;
        if (!layer.moe) {
            read += parameters(layer.denseMlp);
            e.flops += 2.0 * rows * parameters(layer.denseMlp);
            continue;
        }
        ++e.moeLayers;
        double beside = parameters(layer.router);
        if (!layer.sharedExpert.gate.empty())
            beside += parameters(layer.sharedExpert) + parameters(layer.sharedExpertGate);
        read += beside;
        const double expert = parameters(layer.experts[0]); // every expert is of one shape
        e.bytesPerExpert = 2.0 * expert;
        e.flops += 2.0 * rows * (beside + static_cast<double>(config.numExpertsPerToken) * expert);
    }
    e.bytesBesideExperts = 2.0 * read;
    // K and V rows of every position attended to, every layer, BF16.
    e.kvBytes = attended * static_cast<double>(config.numLayers) * 2.0 *
                static_cast<double>(config.kvDim()) * 2.0;
    return e;
}

// The last call's statistics against what it read: everything beside the routed experts
// exactly, and a whole number of routed experts within what the rows could have chosen (k to
// min(rows k, E) per MoE layer), which an expectation such as expectedExpertsTouched is not.
// Returns the number of routed experts read.
int64_t checkStatistics(const CudaBackend& backend, const std::vector<int64_t>& contexts,
                        int64_t logitRows, const std::string& what) {
    const Model& model = backend.model();
    const ModelConfig& config = model.config;
    const StepStats stats = backend.lastStats();
    const ExpectedRead e = expectedRead(model, contexts, logitRows);
    const double experts = (stats.weightBytes - e.bytesBesideExperts) / e.bytesPerExpert;
    const auto read = static_cast<int64_t>(std::llround(experts));
    const int64_t k = config.numExpertsPerToken;
    const int64_t most = std::min(static_cast<int64_t>(contexts.size()) * k,
                                  static_cast<int64_t>(config.numExperts));
    std::printf("  %-48s %lld routed experts read (%lld to %lld)\n", ("statistics " + what).c_str(),
                static_cast<long long>(read), static_cast<long long>(e.moeLayers * k),
                static_cast<long long>(e.moeLayers * most));
    CHECK_NEAR(experts, static_cast<double>(read), 1e-9);
    CHECK(read >= e.moeLayers * k && read <= e.moeLayers * most);
    CHECK_NEAR(stats.kvBytes, e.kvBytes, 0.5);
    CHECK_NEAR(stats.flops, e.flops, e.flops * 1e-12);
    return read;
}

// The cost a call reports is what it read: prefills (from an empty cache and after one, last
// row's logits and every row's), a decode of one sequence and of two at different lengths; on a
// family with a dense layer and a shared expert, F32 weights (the device holds them as BF16) and
// BF16 ones.
void statisticsCountWhatIsRead() {
    for (const auto& [family, type] : {std::pair{ModelFamily::Qwen2Moe, WeightType::F32},
                                       std::pair{ModelFamily::Qwen3Moe, WeightType::BF16}}) {
        const ModelConfig config = check::tinyConfig(family);
        const Model model = synthesizeModel(config, type, 2);
        const std::string name =
            std::string(familyName(family)) + (type == WeightType::F32 ? " F32" : " BF16") + " ";
        CudaBackend backend(model);
        const SequenceId first = backend.newSequence(), second = backend.newSequence();
        backend.prefill(first, std::span(kTokens).first(3));
        checkStatistics(backend, {1, 2, 3}, 1, name + "prefill 3");
        backend.prefill(second, std::span(kTokens).first(4));
        backend.prefill(second, std::span(kTokens).subspan(4, 2), true);
        checkStatistics(backend, {5, 6}, 2, name + "prefill 2 after 4");

        const int32_t next[] = {9, 4};
        backend.decode(std::span(&first, 1), std::span(next, 1));
        const int64_t alone = checkStatistics(backend, {4}, 1, name + "decode 1");
        // One row reads exactly its k experts a MoE layer, which the analytic count says too.
        int64_t moeLayers = 0;
        for (const LayerWeights& layer : model.weights.layers)
            moeLayers += layer.moe ? 1 : 0;
        CHECK(alone == moeLayers * config.numExpertsPerToken);
        const StepCost analytic = decodeStepCost(config, 2.0, 1, 4, 2.0);
        const StepStats stats = backend.lastStats();
        CHECK_NEAR(stats.weightBytes, analytic.weightBytes, 1.0);
        CHECK_NEAR(stats.kvBytes, analytic.kvBytes, 1.0);
        CHECK_NEAR(stats.flops, analytic.flops, analytic.flops * 1e-9);

        const SequenceId both[] = {first, second};
        backend.decode(both, next);
        checkStatistics(backend, {5, 7}, 2, name + "decode 2, 4 and 6 cached");
    }

    const Model model =
        synthesizeModel(check::tinyConfig(ModelFamily::Qwen3Moe), WeightType::BF16, 2);
    CudaBackend backend(model);
    const DeviceInfo info = backend.device();
    std::printf("  device: %s, %s, %s, %.1f GiB\n", info.name.c_str(), info.isa.c_str(),
                info.driver.c_str(), info.memoryBytes / double(1u << 30));
    CHECK(info.backend == "cuda");
    CHECK(info.isa.rfind("sm_", 0) == 0);
    CHECK(!info.name.empty() && info.memoryBytes > 0);
}

// The matmul rate (the library function the tool and the backend share) and the backend's own
// device-memory accounting.
void matmulRateAndMemory() {
    cublasHandle_t cublas = nullptr;
    CUBLAS_CHECK(cublasCreate(&cublas));
    gpu::MatmulRate rate;
    try {
        rate = gpu::measureMatmulRate(cublas, 1024, 3, nullptr);
    } catch (...) {
        cublasDestroy(cublas);
        throw;
    }
    cublasDestroy(cublas);
    std::printf("  %-48s %.1f TFLOP/s best, %.1f mean\n", "matmul rate 1024^3", rate.bestTflops,
                rate.meanTflops);
    CHECK(rate.n == 1024 && rate.requestedN == 1024 && rate.repetitions == 3);
    CHECK(rate.bestTflops > 0.0 && rate.meanTflops > 0.0 && rate.meanTflops <= rate.bestTflops);

    const Model model =
        synthesizeModel(check::tinyConfig(ModelFamily::Qwen2Moe), WeightType::BF16, 5);
    CudaBackend backend(model);
    const double tflops = backend.measureMatmulTflops();
    std::printf("  %-48s %.1f TFLOP/s (N = %d)\n", "CudaBackend::measureMatmulTflops", tflops,
                backend.matmulN());
    CHECK(tflops > 0.0);
    CHECK(backend.matmulN() >= 256 && backend.matmulN() <= 8192);

    // Weights only; the measurement's scratch is not the backend's.
    const double weightsPeak = backend.peakDeviceMemoryBytes().value_or(0.0);
    CHECK(weightsPeak >= static_cast<double>(totalWeightBytes(model.weights)));
    CHECK(static_cast<double>(backend.deviceBytes()) == weightsPeak);
    const SequenceId sequence = backend.newSequence();
    const auto withCache = static_cast<double>(backend.deviceBytes());
    CHECK(withCache >= weightsPeak + 256 * backend.kvBytesPerToken()); // 256 positions to start
    backend.prefill(sequence, std::vector<int32_t>(300, 7)); // grows the cache to 512 positions
    const double peak = backend.peakDeviceMemoryBytes().value_or(0.0);
    // During the call the old and the new cache were both held.
    CHECK(peak >= withCache + 512 * backend.kvBytesPerToken());
    backend.releaseSequence(sequence);
    CHECK(static_cast<double>(backend.deviceBytes()) < peak);
    CHECK(backend.peakDeviceMemoryBytes().value_or(0.0) == peak);
    std::printf("  %-48s %.1f MiB (weights %.1f MiB)\n", "peak device memory", peak / (1 << 20),
                weightsPeak / (1 << 20));
}

void errorsAreEngineErrors() {
    const Model model = synthesizeModel(check::tinyConfig(ModelFamily::Mixtral), WeightType::F32);
    auto backend = makeCudaBackend(model);
    const SequenceId sequence = backend->newSequence();
    CHECK_THROWS_WITH(backend->prefill(sequence, std::vector<int32_t>{1, 96}),
                      "token id 96 is outside the vocabulary");
    CHECK_THROWS_WITH(backend->prefill(sequence, std::vector<int32_t>{}), "at least one token");
    const SequenceId twice[] = {sequence, sequence};
    const int32_t tokens[] = {1, 2};
    CHECK_THROWS_WITH(backend->decode(twice, tokens), "same sequence twice");
    CHECK_THROWS_WITH(backend->prefill(12345, std::vector<int32_t>{1}), "unknown sequence");

    // Out of memory: sequences of 32 MiB of cache each until the device is full. The failure is
    // an EngineError naming it; releasing the sequences makes the backend usable again.
    ModelConfig big = check::tinyConfig(ModelFamily::Mixtral);
    big.numLayers = 8;
    big.numHeads = 16;
    big.numKvHeads = 16;
    big.headDim = 256;
    const Model bigModel = synthesizeModel(big, WeightType::BF16, 4);
    CudaBackend bigBackend(bigModel);
    std::vector<SequenceId> held;
    std::string message;
    try {
        for (int i = 0; i < 200000; ++i)
            held.push_back(bigBackend.newSequence());
    } catch (const EngineError& error) {
        message = error.what();
    }
    std::printf("  out of memory after %zu sequences: %s\n", held.size(), message.c_str());
    CHECK(message.find("out of device memory") != std::string::npos);
    for (const SequenceId id : held)
        bigBackend.releaseSequence(id);
    const SequenceId after = bigBackend.newSequence();
    CHECK(bigBackend.prefill(after, std::vector<int32_t>{1, 2, 3}).size() ==
          static_cast<std::size_t>(big.vocabSize));
}

} // namespace

int main() {
    std::string why;
    if (!cudaDeviceStatus(&why)) {
        std::printf("SKIP: %s\n", why.c_str());
        return 77;
    }
    try {
        std::printf("kernels against their references:\n");
        rmsNormMatchesCpu();
        rowKernelsMatchCpu();
        qkvPostprocessMatchesCpu();
        routingMatchesCpu();
        expertGemmMatchesReference();
        gemvMatchesReference();
        attentionMatchesReference();
        readBandwidthKernel();
        std::printf("the CUDA forward against the CPU reference forward:\n");
        for (const ModelFamily family : kFamilies)
            for (const WeightType type : {WeightType::BF16, WeightType::F32})
                forwardMatchesReference(family, type);
        longContextMatchesReference();
        statisticsCountWhatIsRead();
        matmulRateAndMemory();
        errorsAreEngineErrors();
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_cuda_test");
}
