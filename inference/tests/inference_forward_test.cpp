#include "Check.h"
#include "IsaCheck.h"
#include "inference/cpu/CpuBackend.h"
#include "inference/cpu/Kernels.h"
#include "inference/model/Cost.h"
#include "inference/model/ReferenceForward.h"

#include <numeric>
#include <set>

using namespace crossroads::inference;

namespace {

using check::kFamilies;
using check::kTokens;
using check::rowError;

// How the backends of the ISA passes multiply in prefill: the default, or oneDNN for every
// product (the onednn and amx parts, which run on the avx512-bf16 kernels otherwise), or
// prefill attention on the packed GEMM instead of oneDNN's sgemm (packed-attention).
CpuBackendOptions g_options;
std::string g_variant;

std::string label(ModelFamily family, WeightType type, Isa isa) {
    return std::string(familyName(family)) + "/" + std::string(weightTypeName(type)) + "/" +
           std::string(isaName(isa)) + g_variant;
}

// The optimised pass is held to the reference that computes the same function: activations
// rounded to BF16 before each product where the ISA does that (matmulActivationRounding), and
// each row routed to the experts the pass chose (a routing decision is discrete: at a near-tie a
// rounding of 2^-9 moves it, and the row, with every later row that attends to it, then differs
// by a quarter of the logit scale; on the 61-token Mixtral prompt below, token 31 of layer 1
// picks expert 4 instead of 0, whose routing weights differ by 0.0005). The choices are checked
// on their own: each must be the reference's own top-k unless that sits on a near-tie.
//
// What is left is F32 against double arithmetic: ~1e-7 of the logit scale on a row. A pass that
// rounds activations also has rare discrete events: it rounds a value lying within ~1e-7 of a
// BF16 rounding boundary the other way, moving one activation by one BF16 step (in these 64-wide
// models up to ~4e-3 of the logit scale on that row and after it).
constexpr double kTolerance = 2e-5;
constexpr double kRoundingEventTolerance = 1e-2;
// Largest gap between the reference's k-th and (k+1)-th router probabilities at which the pass
// may choose otherwise: F32 against double, or one BF16 step of an input, moves them by less.
constexpr double kExactTieGap = 1e-5;
constexpr double kRoundingTieGap = 5e-3;

// What one sequence was routed to, position by position, from the calls that fed it.
struct RoutingLog {
    ExpertChoices perPosition; // [layer][position]
    void append(const ExpertChoices& call, std::size_t row) {
        perPosition.resize(call.size());
        for (std::size_t l = 0; l < call.size(); ++l)
            perPosition[l].push_back(call[l].empty() ? std::vector<int32_t>{} : call[l].at(row));
    }
    void appendRows(const ExpertChoices& call, std::size_t rows) {
        for (std::size_t r = 0; r < rows; ++r)
            append(call, r);
    }
};

// Indices of the k largest, ties to the lower index, and the lead of the k-th over the next.
std::vector<int32_t> largest(const std::vector<double>& values, std::size_t k, double* lead) {
    std::vector<int32_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return values[a] > values[b]; });
    *lead = values[order[k - 1]] - (k < values.size() ? values[order[k]] : 0.0);
    order.resize(k);
    std::sort(order.begin(), order.end());
    return order;
}

// DeepSeekMoE's choice from the selection scores the reference reports (MoEGate, written out
// here on its own): the topk_group best groups (a group scored by its best expert, or its best
// two for noaux_tc), then the top k of their experts. The pass may choose otherwise only at a
// near-tie of either step.
void checkDeepseekChoice(const ModelConfig& c, const std::vector<double>& choice,
                         std::vector<int32_t> mine, double allowedGap, const std::string& what,
                         std::size_t layer, std::size_t position) {
    const int64_t perGroup = c.numExperts / c.numExpertGroups;
    double groupLead = INFINITY, expertLead = 0.0;
    std::vector<double> masked = choice;
    if (c.topkMethod != "greedy") {
        std::vector<double> groupScores;
        for (int64_t g = 0; g < c.numExpertGroups; ++g) {
            std::vector<double> members(choice.begin() + g * perGroup,
                                        choice.begin() + (g + 1) * perGroup);
            std::sort(members.rbegin(), members.rend());
            groupScores.push_back(c.topkMethod == "noaux_tc" ? members[0] + members[1]
                                                             : members[0]);
        }
        std::fill(masked.begin(), masked.end(), 0.0);
        for (const int32_t g :
             largest(groupScores, static_cast<std::size_t>(c.topkGroups), &groupLead))
            for (int64_t e = g * perGroup; e < (g + 1) * perGroup; ++e)
                masked[static_cast<std::size_t>(e)] = choice[static_cast<std::size_t>(e)];
    }
    const std::vector<int32_t> theirs =
        largest(masked, static_cast<std::size_t>(c.numExpertsPerToken), &expertLead);
    std::sort(mine.begin(), mine.end());
    const double gap = std::min(groupLead, expertLead);
    if (mine != theirs && gap > allowedGap)
        check::fail(__FILE__, __LINE__,
                    what + ": layer " + std::to_string(layer) + " position " +
                        std::to_string(position) +
                        " routed otherwise than the reference, whose choice leads by " +
                        std::to_string(gap));
}

// The reference for one sequence under the pass's routing, and the routing checked.
struct Reference {
    std::vector<std::vector<float>> logits;
    ActivationRounding rounding;
};

Reference matchedReference(const Model& model, std::span<const int32_t> tokens,
                           const RoutingLog& log, const std::string& what) {
    Reference reference;
    reference.rounding = matmulActivationRounding(model.weights.type);
    std::vector<std::vector<std::vector<double>>> probabilities;
    ReferenceOptions options;
    options.rounding = reference.rounding;
    options.forcedExperts = &log.perPosition;
    options.routerProbabilities = &probabilities;
    reference.logits = referenceForward(model, tokens, options);
    const double allowedGap =
        reference.rounding == ActivationRounding::Bf16 ? kRoundingTieGap : kExactTieGap;
    const auto k = static_cast<std::size_t>(model.config.numExpertsPerToken);
    for (std::size_t l = 0; l < probabilities.size(); ++l)
        for (std::size_t t = 0; t < probabilities[l].size(); ++t) {
            if (model.config.deepseek()) {
                checkDeepseekChoice(model.config, probabilities[l][t], log.perPosition[l][t],
                                    allowedGap, what, l, t);
                continue;
            }
            const std::vector<double>& p = probabilities[l][t];
            std::vector<int32_t> order(p.size());
            std::iota(order.begin(), order.end(), 0);
            std::stable_sort(order.begin(), order.end(),
                             [&](int32_t a, int32_t b) { return p[a] > p[b]; });
            std::vector<int32_t> mine = log.perPosition[l][t];
            std::vector<int32_t> theirs(order.begin(), order.begin() + static_cast<long>(k));
            std::sort(mine.begin(), mine.end());
            std::sort(theirs.begin(), theirs.end());
            const double gap = p[order[k - 1]] - (k < p.size() ? p[order[k]] : 0.0);
            if (mine != theirs && gap > allowedGap)
                check::fail(__FILE__, __LINE__,
                            what + ": layer " + std::to_string(l) + " position " +
                                std::to_string(t) + " routed otherwise than the reference, " +
                                "whose top-k leads by " + std::to_string(gap));
        }
    return reference;
}

// Row errors of one comparison, judged by the tolerance of the reference's rounding.
struct RowErrors {
    ActivationRounding rounding;
    double worst = 0.0;
    explicit RowErrors(const Reference& reference) : rounding(reference.rounding) {}
    void add(const float* row, const std::vector<float>& expected) {
        worst = std::max(worst, rowError(row, expected));
    }
    void check(const std::string& what, const char* file, int line) const {
        const double tolerance =
            rounding == ActivationRounding::Bf16 ? kRoundingEventTolerance : kTolerance;
        if (worst > tolerance)
            check::fail(file, line, what + " error " + std::to_string(worst));
    }
};

void optimisedMatchesReference(ModelFamily family, WeightType type, Isa isa) {
    if (g_options.prefill == PrefillGemm::Onednn && type != WeightType::BF16)
        return; // oneDNN multiplies BF16 weights only
    const Model model = synthesizeModel(check::tinyConfig(family), type, 21);
    const int64_t vocab = model.config.vocabSize;
    const std::string what = label(family, type, isa);
    for (const int threads : {1, 3}) {
        CpuBackend backend(model, threads, g_options);
        // The pair-panels variant must take them wherever the model has experts enough.
        if (g_variant == "+pair panels" && type == WeightType::BF16 &&
            model.config.numExperts >= 2 * threads)
            CHECK(backend.prefillKernel().find("pair panels") != std::string::npos);
        // 1. Prefill of the whole prompt, every position.
        const SequenceId full = backend.newSequence();
        const auto all = backend.prefill(full, kTokens, true);
        RoutingLog fullLog;
        fullLog.appendRows(backend.lastRouting(), kTokens.size());
        const Reference reference = matchedReference(model, kTokens, fullLog, what + " prefill");
        RowErrors prefill(reference);
        for (std::size_t t = 0; t < kTokens.size(); ++t)
            prefill.add(all.data() + t * vocab, reference.logits[t]);
        prefill.check(what + " prefill", __FILE__, __LINE__);
        // 2. Prefill of 4 tokens, then decode one at a time: each step equals the full pass.
        const SequenceId split = backend.newSequence();
        const auto last = backend.prefill(split, std::span(kTokens).first(4));
        RoutingLog splitLog;
        splitLog.appendRows(backend.lastRouting(), 4);
        std::vector<std::vector<float>> steps{last};
        for (std::size_t t = 4; t < kTokens.size(); ++t) {
            steps.push_back(backend.decode(std::span<const SequenceId>(&split, 1),
                                           std::span(kTokens).subspan(t, 1)));
            splitLog.append(backend.lastRouting(), 0);
        }
        CHECK(backend.sequenceLength(split) == static_cast<int64_t>(kTokens.size()));
        CHECK(backend.sequenceLength(full) == static_cast<int64_t>(kTokens.size()));
        const Reference stepReference =
            matchedReference(model, kTokens, splitLog, what + " prefill+decode");
        RowErrors stepwise(stepReference);
        for (std::size_t i = 0; i < steps.size(); ++i)
            stepwise.add(steps[i].data(), stepReference.logits[3 + i]);
        stepwise.check(what + " prefill+decode", __FILE__, __LINE__);
        // 3. A decode batch of sequences at different lengths equals each one alone.
        const std::size_t lengths[] = {2, 5, 3};
        std::vector<SequenceId> sequences;
        std::vector<RoutingLog> logs(std::size(lengths));
        for (std::size_t i = 0; i < std::size(lengths); ++i) {
            sequences.push_back(backend.newSequence());
            backend.prefill(sequences.back(), std::span(kTokens).first(lengths[i]));
            logs[i].appendRows(backend.lastRouting(), lengths[i]);
        }
        std::vector<int32_t> next;
        for (const std::size_t length : lengths)
            next.push_back(kTokens[length]);
        const auto batched = backend.decode(sequences, next);
        for (std::size_t i = 0; i < std::size(lengths); ++i) {
            logs[i].append(backend.lastRouting(), i);
            const auto tokens = std::span(kTokens).first(lengths[i] + 1);
            const Reference batchReference =
                matchedReference(model, tokens, logs[i], what + " batched decode");
            RowErrors batch(batchReference);
            batch.add(batched.data() + i * vocab, batchReference.logits[lengths[i]]);
            batch.check(what + " batched decode", __FILE__, __LINE__);
        }
    }
}

// A prompt long enough that the projections and the busiest experts take the packed GEMM
// (Kernels.cpp, from 20 tokens on) and attention the prefill GEMMs, then one decode step.
void longPromptMatchesReference(ModelFamily family, Isa isa) {
    const Model model = synthesizeModel(check::tinyConfig(family), WeightType::BF16, 33);
    const int64_t vocab = model.config.vocabSize;
    const std::string what = label(family, WeightType::BF16, isa) + " 61-token prompt";
    std::vector<int32_t> prompt;
    for (int32_t i = 0; i < 61; ++i)
        prompt.push_back(static_cast<int32_t>((i * 37 + 11) % vocab));
    CpuBackend backend(model, 2, g_options);
    const SequenceId sequence = backend.newSequence();
    const auto prefix = std::span<const int32_t>(prompt).first(prompt.size() - 1);
    const auto all = backend.prefill(sequence, prefix, true);
    RoutingLog log;
    log.appendRows(backend.lastRouting(), prefix.size());
    const auto last = backend.decode(std::span<const SequenceId>(&sequence, 1),
                                     std::span<const int32_t>(prompt).last(1));
    log.append(backend.lastRouting(), 0);
    const Reference reference = matchedReference(model, prompt, log, what);
    RowErrors errors(reference);
    for (std::size_t t = 0; t < prefix.size(); ++t)
        errors.add(all.data() + t * vocab, reference.logits[t]);
    errors.add(last.data(), reference.logits.back());
    errors.check(what, __FILE__, __LINE__);
}

// Pair panels with experts of whole strips (kPairPanelRows): the gate and up products and the
// down split into row ranges over the threads (CpuBackend::mlpLayer), held to the reference on a
// 61-token prompt; hidden and intermediate widths of two and three strips.
void pairPanelSplitsMatchReference(Isa isa) {
    ModelConfig config = check::tinyConfig(ModelFamily::Mixtral);
    config.hiddenSize = 2 * kPairPanelRows;
    config.expertIntermediateSize = 3 * kPairPanelRows;
    const Model model = synthesizeModel(config, WeightType::BF16, 55);
    const int64_t vocab = model.config.vocabSize;
    const std::string what = label(ModelFamily::Mixtral, WeightType::BF16, isa) + " split panels";
    std::vector<int32_t> prompt;
    for (int32_t i = 0; i < 61; ++i)
        prompt.push_back(static_cast<int32_t>((i * 29 + 5) % vocab));
    for (const int threads : {2, 3}) {
        CpuBackend backend(model, threads, g_options);
        CHECK(backend.prefillKernel().find("pair panels") != std::string::npos);
        const SequenceId sequence = backend.newSequence();
        const auto all = backend.prefill(sequence, prompt, true);
        RoutingLog log;
        log.appendRows(backend.lastRouting(), prompt.size());
        const Reference reference = matchedReference(model, prompt, log, what);
        RowErrors errors(reference);
        for (std::size_t t = 0; t < prompt.size(); ++t)
            errors.add(all.data() + t * vocab, reference.logits[t]);
        errors.check(what, __FILE__, __LINE__);
    }
}

// Decode after a context long enough that attention splits each row's context into parts
// (CpuBackend: from 256 positions a part, when there are fewer (token, KV head) pairs than
// threads), combined from their maxima and sums; then batched with a short sequence.
void longContextDecodeMatchesReference(ModelFamily family, Isa isa) {
    const Model model = synthesizeModel(check::tinyConfig(family), WeightType::BF16, 44);
    const int64_t vocab = model.config.vocabSize;
    const std::string what = label(family, WeightType::BF16, isa) + " long-context decode";
    std::vector<int32_t> text;
    for (int32_t i = 0; i < 701; ++i)
        text.push_back(static_cast<int32_t>((i * 53 + 7) % vocab));
    CpuBackend backend(model, 4, g_options);
    const SequenceId longOne = backend.newSequence();
    const SequenceId shortOne = backend.newSequence();
    RoutingLog longLog, shortLog;
    backend.prefill(longOne, std::span(text).first(700));
    longLog.appendRows(backend.lastRouting(), 700);
    backend.prefill(shortOne, std::span(text).first(3));
    shortLog.appendRows(backend.lastRouting(), 3);
    const auto alone =
        backend.decode(std::span<const SequenceId>(&longOne, 1), std::span(text).subspan(700, 1));
    RoutingLog aloneLog = longLog;
    aloneLog.append(backend.lastRouting(), 0);
    const Reference reference = matchedReference(model, text, aloneLog, what);
    RowErrors errors(reference);
    errors.add(alone.data(), reference.logits[700]);
    // Both again, one step back: a batch of two (fewer parts), at 700 and 3 positions.
    const SequenceId again = backend.newSequence();
    backend.prefill(again, std::span(text).first(700));
    RoutingLog againLog;
    againLog.appendRows(backend.lastRouting(), 700);
    const SequenceId ids[] = {again, shortOne};
    const int32_t next[] = {text[700], text[3]};
    const auto batched = backend.decode(ids, next);
    againLog.append(backend.lastRouting(), 0);
    shortLog.append(backend.lastRouting(), 1);
    const Reference againReference = matchedReference(model, text, againLog, what);
    const Reference shortReference =
        matchedReference(model, std::span(text).first(4), shortLog, what);
    errors.add(batched.data(), againReference.logits[700]);
    errors.add(batched.data() + vocab, shortReference.logits[3]);
    errors.check(what, __FILE__, __LINE__);
}

// The cost a step reports is the weights it actually reads, summed here from the matrices
// themselves: the embedding rows, every layer's projections and router, the experts its
// routing chose (and nothing else of the MoE layers), the shared expert, the LM head; and the
// KV rows each row attends to. Batched (rows sharing an expert read it once) and alone, on a
// family with dense layers and a shared expert.
void statsCountWhatIsRead(ModelFamily family) {
    const ModelConfig config = check::tinyConfig(family);
    const Model model = synthesizeModel(config, WeightType::BF16, 2);
    const ModelWeights& w = model.weights;
    CpuBackend backend(model, 1);
    std::vector<SequenceId> sequences;
    for (const std::size_t length : {3u, 6u}) {
        sequences.push_back(backend.newSequence());
        backend.prefill(sequences.back(), std::span(kTokens).first(length));
    }
    const std::vector<int32_t> next = {9, 4};
    for (const std::size_t batch : {1u, 2u}) {
        backend.decode(std::span(sequences).first(batch), std::span(next).first(batch));
        const StepStats stats = backend.lastStats();
        const ExpertChoices& routing = backend.lastRouting();
        double bytes = static_cast<double>(batch * w.embed.rowBytes() + w.lmHead.bytes());
        double kv = 0.0;
        int64_t expertsRead = 0;
        for (std::size_t l = 0; l < w.layers.size(); ++l) {
            const LayerWeights& layer = w.layers[l];
            bytes += static_cast<double>(layer.q.bytes() + layer.k.bytes() + layer.v.bytes() +
                                         layer.o.bytes());
            if (!layer.moe) {
                bytes += static_cast<double>(layer.denseMlp.bytes());
                continue;
            }
            std::set<int32_t> chosen;
            for (const auto& row : routing[l])
                chosen.insert(row.begin(), row.end());
            CHECK(routing[l].size() == batch);
            expertsRead += static_cast<int64_t>(chosen.size());
            for (const int32_t e : chosen)
                bytes += static_cast<double>(layer.experts[static_cast<std::size_t>(e)].bytes());
            bytes += static_cast<double>(layer.router.bytes());
            if (!layer.sharedExpert.gate.empty())
                bytes += static_cast<double>(layer.sharedExpert.bytes() +
                                             layer.sharedExpertGate.bytes());
        }
        for (std::size_t b = 0; b < batch; ++b)
            kv += static_cast<double>(backend.sequenceLength(sequences[b]) * 2 * config.kvDim() *
                                      config.numLayers) *
                  sizeof(float);
        CHECK_NEAR(stats.weightBytes, bytes, 0.5);
        CHECK_NEAR(stats.kvBytes, kv, 0.5);
        // Batch 1 reads exactly k experts a MoE layer; the analytic expectation says so too.
        if (batch == 1) {
            int64_t moeLayers = 0;
            for (const auto& layer : w.layers)
                moeLayers += layer.moe ? 1 : 0;
            CHECK(expertsRead == moeLayers * config.numExpertsPerToken);
            const StepCost analytic = decodeStepCost(config, 2.0, 1, 4);
            CHECK_NEAR(stats.flops, analytic.flops, analytic.flops * 1e-12);
        }
    }
}

// DeepSeek-V2-Lite's structure (q_lora_rank null, softmax, group_limited_greedy) and V3's
// (q_lora_rank, sigmoid + bias noaux_tc, YaRN), tiny (check::tinyDeepseek), with a latent rank
// that is no multiple of 16 (V2: 36, so a cached row is 44 floats; V3: q rank 48, v head 12).
ModelConfig deepseekConfig(ModelFamily family) {
    ModelConfig c = check::tinyDeepseek(family);
    if (family == ModelFamily::DeepseekV2)
        c.mla.kvLoraRank = 36;
    return c;
}

// MLA in the CPU backend (absorbed attention over the latent cache) and DeepSeekMoE routing
// against the reference (expanded MLA), under the pass's routing: prefill of a short prompt
// (every position), of a prompt long enough for the prefill GEMMs (40 tokens), of one that
// continues a cached sequence, prefill then decode step by step, and several batched decode steps
// of three sequences of different lengths; then a decode after 600 positions, whose context is
// split into parts.
void deepseekMatchesReference(ModelFamily family, WeightType type, Isa isa) {
    if (g_options.prefill == PrefillGemm::Onednn && type != WeightType::BF16)
        return; // oneDNN multiplies BF16 weights only
    const Model model = synthesizeModel(deepseekConfig(family), type, 23);
    const int64_t vocab = model.config.vocabSize;
    const std::string what = label(family, type, isa);
    std::vector<int32_t> text;
    for (int32_t i = 0; i < 601; ++i)
        text.push_back(static_cast<int32_t>((i * 37 + 11) % vocab));
    for (const int threads : {1, 3}) {
        CpuBackend backend(model, threads, g_options);
        // 1. Prefill of whole prompts, every position: 11 tokens (row-wise attention) and 40
        //    (the packed products).
        for (const std::size_t length : {kTokens.size(), std::size_t{40}}) {
            const auto prompt = length == kTokens.size() ? std::span<const int32_t>(kTokens)
                                                         : std::span(text).first(length);
            const SequenceId full = backend.newSequence();
            const auto all = backend.prefill(full, prompt, true);
            RoutingLog log;
            log.appendRows(backend.lastRouting(), length);
            CHECK(log.perPosition.size() == static_cast<std::size_t>(model.config.numLayers));
            CHECK(log.perPosition[0][0].empty()); // the dense first layer
            const Reference reference = matchedReference(model, prompt, log, what + " prefill");
            RowErrors errors(reference);
            for (std::size_t t = 0; t < length; ++t)
                errors.add(all.data() + t * vocab, reference.logits[t]);
            errors.check(what + " prefill of " + std::to_string(length), __FILE__, __LINE__);
            backend.releaseSequence(full);
        }
        // A prompt that continues a cached one: 35 tokens (the packed products) after 5, whose
        //    cached latents the second call's attention reads.
        const SequenceId continued = backend.newSequence();
        backend.prefill(continued, std::span(text).first(5));
        RoutingLog continuedLog;
        continuedLog.appendRows(backend.lastRouting(), 5);
        const auto rest = backend.prefill(continued, std::span(text).subspan(5, 35), true);
        continuedLog.appendRows(backend.lastRouting(), 35);
        const Reference continuedReference = matchedReference(
            model, std::span(text).first(40), continuedLog, what + " continued prefill");
        RowErrors continuedErrors(continuedReference);
        for (std::size_t t = 0; t < 35; ++t)
            continuedErrors.add(rest.data() + t * vocab, continuedReference.logits[5 + t]);
        continuedErrors.check(what + " continued prefill", __FILE__, __LINE__);
        // 2. Prefill of 4 tokens, then decode one at a time.
        const SequenceId split = backend.newSequence();
        std::vector<std::vector<float>> steps{backend.prefill(split, std::span(kTokens).first(4))};
        RoutingLog splitLog;
        splitLog.appendRows(backend.lastRouting(), 4);
        for (std::size_t t = 4; t < kTokens.size(); ++t) {
            steps.push_back(backend.decode(std::span<const SequenceId>(&split, 1),
                                           std::span(kTokens).subspan(t, 1)));
            splitLog.append(backend.lastRouting(), 0);
        }
        const Reference stepReference =
            matchedReference(model, kTokens, splitLog, what + " prefill+decode");
        RowErrors stepwise(stepReference);
        for (std::size_t i = 0; i < steps.size(); ++i)
            stepwise.add(steps[i].data(), stepReference.logits[3 + i]);
        stepwise.check(what + " prefill+decode", __FILE__, __LINE__);
        // 3. Three sequences of different lengths, prefilled, then four batched decode steps.
        const std::size_t lengths[] = {2, 6, 3};
        constexpr std::size_t kSteps = 4;
        std::vector<SequenceId> sequences;
        std::vector<RoutingLog> logs(std::size(lengths));
        std::vector<std::vector<std::vector<float>>> rows(std::size(lengths));
        for (std::size_t i = 0; i < std::size(lengths); ++i) {
            sequences.push_back(backend.newSequence());
            backend.prefill(sequences.back(), std::span(kTokens).first(lengths[i]));
            logs[i].appendRows(backend.lastRouting(), lengths[i]);
        }
        for (std::size_t step = 0; step < kSteps; ++step) {
            std::vector<int32_t> next;
            for (const std::size_t length : lengths)
                next.push_back(kTokens[length + step]);
            const auto batched = backend.decode(sequences, next);
            for (std::size_t i = 0; i < std::size(lengths); ++i) {
                logs[i].append(backend.lastRouting(), i);
                rows[i].emplace_back(batched.begin() + static_cast<long>(i * vocab),
                                     batched.begin() + static_cast<long>((i + 1) * vocab));
            }
        }
        for (std::size_t i = 0; i < std::size(lengths); ++i) {
            CHECK(backend.sequenceLength(sequences[i]) ==
                  static_cast<int64_t>(lengths[i] + kSteps));
            const auto tokens = std::span(kTokens).first(lengths[i] + kSteps);
            const Reference reference =
                matchedReference(model, tokens, logs[i], what + " batched decode");
            RowErrors batch(reference);
            for (std::size_t step = 0; step < kSteps; ++step)
                batch.add(rows[i][step].data(), reference.logits[lengths[i] + step]);
            batch.check(what + " batched decode", __FILE__, __LINE__);
        }
    }
    // 4. A decode after 600 positions on 4 threads: the context splits into parts.
    CpuBackend backend(model, 4, g_options);
    const SequenceId longOne = backend.newSequence();
    backend.prefill(longOne, std::span(text).first(600));
    RoutingLog log;
    log.appendRows(backend.lastRouting(), 600);
    const auto last =
        backend.decode(std::span<const SequenceId>(&longOne, 1), std::span(text).subspan(600, 1));
    log.append(backend.lastRouting(), 0);
    const Reference reference = matchedReference(model, text, log, what + " long-context decode");
    RowErrors errors(reference);
    errors.add(last.data(), reference.logits[600]);
    errors.check(what + " long-context decode", __FILE__, __LINE__);
}

// The MLA cache holds per position and layer the latent and the RoPE key only (kvLoraRank +
// qkRopeHeadDim F32), which kvBytesPerToken reports; a step's cost counts MLA's matrices (q or
// qA/qB, kvA, kvB, o), the routed experts its routing read, the ungated shared experts, the dense
// first layer, and the latent rows each row attends to.
void deepseekCacheAndStats(ModelFamily family) {
    const ModelConfig config = deepseekConfig(family);
    const Model model = synthesizeModel(config, WeightType::BF16, 5);
    const ModelWeights& w = model.weights;
    CpuBackend backend(model, 1);
    const int64_t width = config.mla.kvLoraRank + config.mla.qkRopeHeadDim;
    CHECK(backend.kvBytesPerToken() ==
          static_cast<double>(config.numLayers * width) * sizeof(float));
    std::vector<SequenceId> sequences;
    for (const std::size_t length : {3u, 7u}) {
        sequences.push_back(backend.newSequence());
        backend.prefill(sequences.back(), std::span(kTokens).first(length));
    }
    const std::vector<int32_t> next = {9, 4};
    backend.decode(sequences, next);
    for (const SequenceId id : sequences) {
        const Sequence& cache = backend.cache(id);
        CHECK(cache.latent.size() == static_cast<std::size_t>(config.numLayers));
        for (std::size_t l = 0; l < cache.latent.size(); ++l) {
            CHECK(cache.latent[l].size() ==
                  static_cast<std::size_t>(backend.sequenceLength(id) * width));
            CHECK(cache.keys[l].empty() && cache.values[l].empty()); // nothing expanded
        }
    }
    const StepStats stats = backend.lastStats();
    const ExpertChoices& routing = backend.lastRouting();
    double bytes = static_cast<double>(2 * w.embed.rowBytes() + w.lmHead.bytes());
    for (std::size_t l = 0; l < w.layers.size(); ++l) {
        const LayerWeights& layer = w.layers[l];
        CHECK(layer.k.empty() && layer.v.empty());
        bytes +=
            static_cast<double>(layer.q.bytes() + layer.mla.qA.bytes() + layer.mla.qB.bytes() +
                                layer.mla.kvA.bytes() + layer.mla.kvB.bytes() + layer.o.bytes());
        if (!layer.moe) {
            bytes += static_cast<double>(layer.denseMlp.bytes());
            continue;
        }
        std::set<int32_t> chosen;
        for (const auto& row : routing[l])
            chosen.insert(row.begin(), row.end());
        CHECK(routing[l].size() == 2);
        CHECK(routing[l][0].size() == static_cast<std::size_t>(config.numExpertsPerToken));
        for (const int32_t e : chosen)
            bytes += static_cast<double>(layer.experts[static_cast<std::size_t>(e)].bytes());
        bytes += static_cast<double>(layer.router.bytes() + layer.sharedExpert.bytes()) +
                 static_cast<double>(layer.routerBias.size()) * 2.0; // counted at 2 B
        CHECK(layer.sharedExpertGate.empty());
    }
    CHECK_NEAR(stats.weightBytes, bytes, 0.5);
    const double kv = static_cast<double>(backend.sequenceLength(sequences[0]) +
                                          backend.sequenceLength(sequences[1])) *
                      static_cast<double>(config.numLayers * width) * sizeof(float);
    CHECK_NEAR(stats.kvBytes, kv, 0.5);
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

// inference_forward_test ISA: the passes of one instruction set (scalar, avx2, avx512,
// avx512-bf16) against the reference; exits 77 (CTest: skipped) with the reason when this CPU
// lacks it. inference_forward_test common: the checks that do not depend on the ISA. No
// argument: both, on every ISA this CPU has.
int main(int argc, char** argv) {
    const std::string what = argc > 1 ? argv[1] : "";
    try {
        std::vector<Isa> isas;
        if (what == "onednn" || what == "amx") {
            // oneDNN for every product of BF16 weights, from one token on: AVX-512-BF16 at most,
            // or with AMX where the CPU has it.
            // The limit must come before oneDNN's first primitive, the availability probe's too.
            const bool limited = what == "onednn" && limitOnednnToAvx512Bf16();
            std::string why;
            if (!onednnAvailable(&why))
                return check::skip(why);
            if (what == "onednn" && !limited)
                return check::skip("oneDNN could not be kept off AMX");
            if (what == "amx" && !onednnUsesAmx())
                return check::skip("oneDNN has no AMX kernel on this CPU (" + onednnKernelName() +
                                   ")");
            g_options.prefill = PrefillGemm::Onednn;
            g_options.onednnMinTokens = 1;
            g_options.expertPairPanels = false; // oneDNN for the experts too
            g_variant = "+oneDNN " + onednnKernelName();
            isas.push_back(Isa::Avx512Bf16);
            std::printf("oneDNN kernel: %s\n", onednnKernelName().c_str());
        } else if (what == "pair-panels") {
            // Routed experts on pair panels from one token on (the rest as Auto has it).
            if (!isaSupported(Isa::Avx512Bf16))
                return check::skip("pair panels need AVX-512-BF16, which this CPU lacks");
            g_options.onednnMinTokens = 1;
            g_options.pairMinTokens = 1;
            g_options.expertPairPanels = true;
            g_variant = "+pair panels";
            isas.push_back(Isa::Avx512Bf16);
        } else if (what == "packed-attention") {
            // Prefill attention on the packed F32 GEMM, as a build without oneDNN has it, on
            // every ISA this CPU has (the other parts take oneDNN's sgemm where the build has it).
            if (!onednnSgemmAvailable())
                return check::skip("this build has no oneDNN: every part runs prefill attention "
                                   "on the packed GEMM");
            g_options.onednnAttention = false;
            g_variant = "+packed attention";
            if (const auto stop = check::isasFromArgument("", isas))
                return *stop;
        } else if (const auto stop = check::isasFromArgument(what, isas)) {
            return *stop;
        }
        const Isa original = activeIsa();
        for (const Isa isa : isas) {
            setActiveIsa(isa);
            for (const auto family : kFamilies) {
                for (const auto type : {WeightType::F32, WeightType::BF16})
                    optimisedMatchesReference(family, type, isa);
                longPromptMatchesReference(family, isa);
                longContextDecodeMatchesReference(family, isa);
            }
            for (const auto family : {ModelFamily::DeepseekV2, ModelFamily::DeepseekV3})
                for (const auto type : {WeightType::F32, WeightType::BF16, WeightType::FP8E4M3})
                    deepseekMatchesReference(family, type, isa);
            if (g_variant == "+pair panels")
                pairPanelSplitsMatchReference(isa);
        }
        setActiveIsa(original);
        if (what.empty() || what == "common") {
            for (const auto family : kFamilies)
                statsCountWhatIsRead(family);
            for (const auto family : {ModelFamily::DeepseekV2, ModelFamily::DeepseekV3})
                deepseekCacheAndStats(family);
            badInputsAreErrors();
        }
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_forward_test");
}
