// DeepSeek-V2/V3 in the plain reference forward: its routing options (forced experts, the scores
// it reports), its refusals, and which backends run it (the CPU; the CUDA backend refuses). Its
// semantics against Hugging Face are held by tests/oracle/hf_oracle_deepseek.py.
#include "Check.h"
#include "inference/engine/Engine.h"
#include "inference/model/ReferenceForward.h"
#include "inference/model/Weights.h"

#include <numeric>

using namespace crossroads::inference;

namespace {

const std::vector<int32_t> kPrompt = {3, 71, 9, 40, 2, 55};

// Indices of the k largest, ties to the lower index.
std::vector<int32_t> best(const std::vector<double>& values, int64_t k) {
    std::vector<int32_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return values[a] > values[b]; });
    order.resize(static_cast<std::size_t>(k));
    return order;
}

// The experts MoEGate picks from the selection scores the reference reports: the topk_group best
// groups (by their best expert, or the sum of their best two for noaux_tc), then the top k.
std::vector<int32_t> selectFromReported(const ModelConfig& c, const std::vector<double>& choice) {
    const int64_t perGroup = c.numExperts / c.numExpertGroups;
    std::vector<double> groupScores;
    for (int64_t g = 0; g < c.numExpertGroups; ++g) {
        std::vector<double> members(choice.begin() + g * perGroup,
                                    choice.begin() + (g + 1) * perGroup);
        std::sort(members.rbegin(), members.rend());
        groupScores.push_back(c.topkMethod == "noaux_tc" ? members[0] + members[1] : members[0]);
    }
    std::vector<double> masked(choice.size(), 0.0);
    for (const int32_t g : best(groupScores, c.topkGroups))
        for (int64_t e = g * perGroup; e < (g + 1) * perGroup; ++e)
            masked[static_cast<std::size_t>(e)] = choice[static_cast<std::size_t>(e)];
    return best(masked, c.numExpertsPerToken);
}

// Forcing the reference's own choices reproduces its logits exactly: the weights under forcing
// are the ones its own routing gives. Forcing other experts changes them.
void forcedExpertsAndReportedScores() {
    for (const auto family : {ModelFamily::DeepseekV2, ModelFamily::DeepseekV3}) {
        const Model model = synthesizeModel(check::tinyDeepseek(family), WeightType::F32, 9);
        const ModelConfig& c = model.config;
        std::vector<std::vector<std::vector<double>>> scores;
        ReferenceOptions report;
        report.routerProbabilities = &scores;
        const auto own = referenceForward(model, kPrompt, report);
        CHECK(own == referenceForward(model, kPrompt));
        CHECK(scores.size() == static_cast<std::size_t>(c.numLayers));
        CHECK(scores[0].empty()); // the dense first layer
        ExpertChoices choices(scores.size()), others(scores.size());
        bool biasMatters = false;
        for (std::size_t l = 1; l < scores.size(); ++l) {
            const auto& layerWeights = model.weights.layers[l];
            CHECK(scores[l].size() == kPrompt.size());
            for (const auto& row : scores[l]) {
                CHECK(row.size() == static_cast<std::size_t>(c.numExperts));
                if (family == ModelFamily::DeepseekV2) {
                    // Softmax: a distribution.
                    CHECK_NEAR(std::accumulate(row.begin(), row.end(), 0.0), 1.0, 1e-12);
                } else {
                    // sigmoid + bias: each score minus its bias is a probability, and the bias
                    // changes the selection somewhere.
                    std::vector<double> unbiased(row.size());
                    for (std::size_t e = 0; e < row.size(); ++e) {
                        unbiased[e] = row[e] - layerWeights.routerBias[e];
                        CHECK(unbiased[e] > 0.0 && unbiased[e] < 1.0);
                    }
                    biasMatters = biasMatters ||
                                  selectFromReported(c, unbiased) != selectFromReported(c, row);
                }
                choices[l].push_back(selectFromReported(c, row));
                std::vector<int32_t> shifted = choices[l].back();
                for (auto& e : shifted)
                    e = static_cast<int32_t>((e + 1) % c.numExperts);
                others[l].push_back(shifted);
            }
        }
        if (family == ModelFamily::DeepseekV3)
            CHECK(biasMatters);
        ReferenceOptions forced;
        forced.forcedExperts = &choices;
        CHECK(referenceForward(model, kPrompt, forced) == own);
        ReferenceOptions elsewhere;
        elsewhere.forcedExperts = &others;
        CHECK(referenceForward(model, kPrompt, elsewhere) != own);

        ExpertChoices outside = choices;
        outside[1][0][0] = static_cast<int32_t>(c.numExperts);
        ReferenceOptions bad;
        bad.forcedExperts = &outside;
        CHECK_THROWS_WITH(referenceForward(model, kPrompt, bad), "outside the layer's 8");
    }
}

// Each option the routing and the rope read changes the logits (none is silently ignored).
void everyOptionMatters() {
    const Model base =
        synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV3), WeightType::F32);
    const auto reference = referenceForward(base, kPrompt);
    const auto differs = [&](auto edit) {
        Model changed =
            synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV3), WeightType::F32);
        edit(changed.config);
        return referenceForward(changed, kPrompt) != reference;
    };
    CHECK(differs([](ModelConfig& c) { c.yarn.factor = 8; }));
    CHECK(differs([](ModelConfig& c) { c.yarn.mscale = 0.5; }));
    CHECK(differs([](ModelConfig& c) { c.yarn.mscaleAllDim = 0.0; }));
    CHECK(differs([](ModelConfig& c) { c.yarn.betaFast = 2; }));
    CHECK(differs([](ModelConfig& c) { c.ropeScaling.clear(); }));
    CHECK(differs([](ModelConfig& c) { c.routedScalingFactor = 1.0; }));
    CHECK(differs([](ModelConfig& c) { c.normTopkProb = false; }));
    CHECK(differs([](ModelConfig& c) { c.topkGroups = 4; }));
    CHECK(differs([](ModelConfig& c) { c.topkMethod = "greedy"; }));
    CHECK(differs([](ModelConfig& c) { c.scoringFunc = "softmax"; }));

    Model linear = synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV3), WeightType::F32);
    linear.config.ropeScaling = "linear";
    CHECK_THROWS_WITH(referenceForward(linear, kPrompt), "unsupported RoPE scaling 'linear'");
    Model method = synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV2), WeightType::F32);
    method.config.topkMethod = "sinkhorn";
    CHECK_THROWS_WITH(referenceForward(method, kPrompt), "unsupported topk_method 'sinkhorn'");
    ModelConfig biased = check::tinyDeepseek(ModelFamily::DeepseekV2);
    biased.attentionBias = true;
    CHECK_THROWS_WITH(synthesizeModel(biased), "attention_bias");
}

// The reference and the CPU backend run DeepSeek (inference_forward_test holds them together);
// the CUDA backend refuses it by name until it has MLA, and Auto takes the CPU for it.
void backendsRun() {
    const Model model = synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV2));
    CHECK(makeBackend(BackendKind::Cpu, model, 1)->device().backend == "cpu");
    CHECK(makeBackend(BackendKind::Auto, model, 1)->device().backend == "cpu");
    CHECK_THROWS_WITH(
        makeBackend(BackendKind::Cuda, model, 1),
        "the CUDA backend does not run DeepSeek (MLA) yet (model_type 'deepseek_v2')");
    CHECK(!referenceForward(model, kPrompt).empty());
}

} // namespace

int main() {
    try {
        forcedExpertsAndReportedScores();
        everyOptionMatters();
        backendsRun();
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_deepseek_test");
}
