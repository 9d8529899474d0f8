#include "Check.h"
#include "inference/Analytic.h"
#include "inference/CpuBackend.h"
#include "inference/Kernels.h"
#include "inference/ReferenceForward.h"

using namespace crossroads::inference;

namespace {

using check::kFamilies;
using check::kTokens;
using check::rowError;

std::string label(ModelFamily family, WeightType type, Isa isa) {
    return std::string(familyName(family)) + "/" + std::string(weightTypeName(type)) + "/" +
           std::string(isaName(isa));
}

void optimisedMatchesReference(ModelFamily family, WeightType type, Isa isa) {
    const Model model = synthesizeModel(check::tinyConfig(family), type, 21);
    const int64_t vocab = model.config.vocabSize;
    const auto reference = referenceForward(model, kTokens);
    // F32 accumulation against double; the AVX-512-BF16 prefill also rounds activations to BF16.
    const double prefillTolerance =
        isa == Isa::Avx512Bf16 && type == WeightType::BF16 ? 3e-2 : 2e-4;
    const double tolerance = 2e-4;
    for (const int threads : {1, 3}) {
        CpuBackend backend(model, threads);
        // 1. Prefill of the whole prompt, every position.
        const SequenceId full = backend.newSequence();
        const auto all = backend.prefill(full, kTokens, true);
        double worst = 0.0;
        for (std::size_t t = 0; t < kTokens.size(); ++t)
            worst = std::max(worst, rowError(all.data() + t * vocab, reference[t]));
        if (worst > prefillTolerance)
            check::fail(__FILE__, __LINE__,
                        label(family, type, isa) + " prefill error " + std::to_string(worst));
        // 2. Prefill of 4 tokens, then decode one at a time: each step equals the full pass.
        const SequenceId split = backend.newSequence();
        const auto last = backend.prefill(split, std::span(kTokens).first(4));
        worst = rowError(last.data(), reference[3]);
        for (std::size_t t = 4; t < kTokens.size(); ++t) {
            const auto logits = backend.decode(std::span<const SequenceId>(&split, 1),
                                               std::span(kTokens).subspan(t, 1));
            worst = std::max(worst, rowError(logits.data(), reference[t]));
        }
        CHECK(backend.sequenceLength(split) == static_cast<int64_t>(kTokens.size()));
        CHECK(backend.sequenceLength(full) == static_cast<int64_t>(kTokens.size()));
        if (worst > prefillTolerance)
            check::fail(__FILE__, __LINE__,
                        label(family, type, isa) + " prefill+decode error " +
                            std::to_string(worst));
        // 3. A decode batch of sequences at different lengths equals each one alone.
        std::vector<SequenceId> sequences;
        for (const std::size_t length : {2u, 5u, 3u}) {
            sequences.push_back(backend.newSequence());
            backend.prefill(sequences.back(), std::span(kTokens).first(length));
        }
        const std::vector<int32_t> next = {kTokens[2], kTokens[5], kTokens[3]};
        const auto batched = backend.decode(sequences, next);
        worst = std::max({rowError(batched.data(), reference[2]),
                          rowError(batched.data() + vocab, reference[5]),
                          rowError(batched.data() + 2 * vocab, reference[3])});
        if (worst > std::max(prefillTolerance, tolerance))
            check::fail(__FILE__, __LINE__,
                        label(family, type, isa) + " batched decode error " +
                            std::to_string(worst));
    }
}

// A prompt long enough that the projections and the busiest experts take the packed GEMM
// (Kernels.cpp, from 20 tokens on) in prefill, then one decode step after it.
void longPromptMatchesReference(ModelFamily family, Isa isa) {
    const Model model = synthesizeModel(check::tinyConfig(family), WeightType::BF16, 33);
    const int64_t vocab = model.config.vocabSize;
    std::vector<int32_t> prompt;
    for (int32_t i = 0; i < 61; ++i)
        prompt.push_back(static_cast<int32_t>((i * 37 + 11) % vocab));
    const auto reference = referenceForward(model, prompt);
    const double tolerance = isa == Isa::Avx512Bf16 ? 3e-2 : 2e-4;
    CpuBackend backend(model, 2);
    const SequenceId sequence = backend.newSequence();
    const auto prefix = std::span<const int32_t>(prompt).first(prompt.size() - 1);
    const auto all = backend.prefill(sequence, prefix, true);
    double worst = 0.0;
    for (std::size_t t = 0; t < prefix.size(); ++t)
        worst = std::max(worst, rowError(all.data() + t * vocab, reference[t]));
    const auto last = backend.decode(std::span<const SequenceId>(&sequence, 1),
                                     std::span<const int32_t>(prompt).last(1));
    worst = std::max(worst, rowError(last.data(), reference.back()));
    if (worst > tolerance)
        check::fail(__FILE__, __LINE__,
                    label(family, WeightType::BF16, isa) + " 61-token prompt error " +
                        std::to_string(worst));
}

// Decode after a context long enough that attention splits each row's context into parts
// (CpuBackend: from 256 positions a part, when there are fewer (token, KV head) pairs than
// threads), combined from their maxima and sums; then batched with a short sequence.
void longContextDecodeMatchesReference(ModelFamily family) {
    const Model model = synthesizeModel(check::tinyConfig(family), WeightType::BF16, 44);
    const int64_t vocab = model.config.vocabSize;
    std::vector<int32_t> text;
    for (int32_t i = 0; i < 701; ++i)
        text.push_back(static_cast<int32_t>((i * 53 + 7) % vocab));
    const auto reference = referenceForward(model, text);
    const auto shortReference = referenceForward(model, std::span(text).first(4));
    CpuBackend backend(model, 4);
    const SequenceId longOne = backend.newSequence();
    const SequenceId shortOne = backend.newSequence();
    backend.prefill(longOne, std::span(text).first(700));
    backend.prefill(shortOne, std::span(text).first(3));
    const double tolerance = activeIsa() == Isa::Avx512Bf16 ? 3e-2 : 2e-4;
    const auto alone =
        backend.decode(std::span<const SequenceId>(&longOne, 1), std::span(text).subspan(700, 1));
    double worst = rowError(alone.data(), reference[700]);
    // Both again, one step back: a batch of two (fewer parts), at 700 and 3 positions.
    const SequenceId again = backend.newSequence();
    backend.prefill(again, std::span(text).first(700));
    const SequenceId ids[] = {again, shortOne};
    const int32_t next[] = {text[700], text[3]};
    const auto batched = backend.decode(ids, next);
    worst = std::max({worst, rowError(batched.data(), reference[700]),
                      rowError(batched.data() + vocab, shortReference[3])});
    if (worst > tolerance)
        check::fail(__FILE__, __LINE__,
                    std::string(familyName(family)) + " long-context decode error " +
                        std::to_string(worst));
}

// Decode reads the chosen experts' weights and nothing else of the MoE layers.
void decodeTouchesOnlyActiveExperts() {
    const ModelConfig config = check::tinyConfig(ModelFamily::Qwen3Moe);
    const Model model = synthesizeModel(config, WeightType::BF16, 2);
    CpuBackend backend(model, 1);
    const SequenceId sequence = backend.newSequence();
    backend.prefill(sequence, std::span(kTokens).first(3));
    const int32_t token = 9;
    backend.decode(std::span<const SequenceId>(&sequence, 1), std::span<const int32_t>(&token, 1));
    const StepStats stats = backend.lastStats();
    const StepCost analytic = decodeStepCost(config, 2.0, 1, 4);
    // Batch 1 touches exactly k experts per layer, so the analytic count is exact here.
    CHECK_NEAR(stats.weightBytes, analytic.weightBytes, 1.0);
    CHECK_NEAR(stats.kvBytes, analytic.kvBytes, 1.0);
    CHECK_NEAR(stats.flops, analytic.flops, analytic.flops * 1e-9);
    const double allExperts = static_cast<double>(config.numLayers * config.numExperts) *
                              static_cast<double>(model.weights.layers[0].experts[0].bytes());
    CHECK(stats.weightBytes < allExperts);
}

void badInputsAreErrors() {
    const Model model = synthesizeModel(check::tinyConfig(ModelFamily::Mixtral), WeightType::F32);
    CpuBackend backend(model, 1);
    const SequenceId sequence = backend.newSequence();
    const std::vector<int32_t> outside = {1, 96};
    CHECK_THROWS_WITH(backend.prefill(sequence, outside), "token id 96 is outside the vocabulary");
    CHECK(backend.sequenceLength(sequence) == 0); // a refused call leaves the cache alone
    CHECK_THROWS_WITH(backend.prefill(sequence, std::vector<int32_t>{}), "at least one token");
    CHECK_THROWS_WITH(referenceForward(model, std::vector<int32_t>{-1}), "outside the vocabulary");
    const SequenceId twice[] = {sequence, sequence};
    const int32_t tokens[] = {1, 2};
    CHECK_THROWS_WITH(backend.decode(twice, tokens), "same sequence twice");
    CHECK_THROWS_WITH(
        backend.decode(std::span<const SequenceId>(twice, 1), std::span<const int32_t>(tokens, 2)),
        "one token per sequence");
    // Handles: unknown ones are errors, released ones are gone, new ones never reuse an id.
    const SequenceId unknown = sequence + 1000;
    CHECK_THROWS_WITH(backend.prefill(unknown, std::vector<int32_t>{1}), "unknown sequence id");
    CHECK_THROWS_WITH(backend.sequenceLength(unknown), "unknown sequence id");
    backend.releaseSequence(sequence);
    CHECK_THROWS_WITH(backend.releaseSequence(sequence), "unknown sequence id");
    CHECK_THROWS_WITH(backend.decode(std::span<const SequenceId>(&sequence, 1),
                                     std::span<const int32_t>(tokens, 1)),
                      "unknown sequence id");
    CHECK(backend.newSequence() != sequence);
}

} // namespace

int main() {
    try {
        const Isa original = activeIsa();
        for (const Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16}) {
            if (!isaSupported(isa))
                continue;
            setActiveIsa(isa);
            for (const auto family : kFamilies) {
                for (const auto type : {WeightType::F32, WeightType::BF16})
                    optimisedMatchesReference(family, type, isa);
                longPromptMatchesReference(family, isa);
            }
        }
        setActiveIsa(original);
        for (const auto family : kFamilies)
            longContextDecodeMatchesReference(family);
        decodeTouchesOnlyActiveExperts();
        badInputsAreErrors();
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_forward_test");
}
