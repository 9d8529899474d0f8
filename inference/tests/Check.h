// A tiny check helper for the engine's plain C++ tests (no Qt: they run on GPU machines without
// it). Failures print file:line and the expression; main returns checkFinish().
#pragma once

#include "inference/model/ModelConfig.h"
#include "inference/model/Tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace check {

// The families and the prompt every forward-pass test runs.
inline constexpr crossroads::inference::ModelFamily kFamilies[] = {
    crossroads::inference::ModelFamily::Mixtral, crossroads::inference::ModelFamily::Qwen2Moe,
    crossroads::inference::ModelFamily::Qwen3Moe, crossroads::inference::ModelFamily::Olmoe};
inline const std::vector<int32_t> kTokens = {5, 17, 3, 88, 41, 0, 95, 23, 60, 12, 7};

// Largest |a - b| over a row, relative to the row's scale.
inline double rowError(const float* a, const std::vector<float>& b) {
    double worst = 0.0, scale = 1.0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
    }
    return worst / scale;
}

// A test that cannot run here says why and exits with the code CTest counts as skipped.
inline constexpr int kSkipCode = 77;
inline int skip(const std::string& why) {
    std::printf("SKIPPED: %s\n", why.c_str());
    return kSkipCode;
}

inline int& failures() {
    static int count = 0;
    return count;
}

inline void fail(const char* file, int line, const std::string& message) {
    std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, message.c_str());
    ++failures();
}

inline int finish(const char* name) {
    if (failures() == 0)
        std::printf("%s: all checks passed\n", name);
    else
        std::printf("%s: %d check(s) failed\n", name, failures());
    return failures() == 0 ? 0 : 1;
}

// A fresh folder under the temp dir, removed at exit.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("crossroads-engine-test-" + std::to_string(::getpid()) + "-" +
                std::to_string(counter()++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
};

} // namespace check

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            check::fail(__FILE__, __LINE__, #cond);                                                \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        const double check_a = (a), check_b = (b);                                                 \
        if (!(std::fabs(check_a - check_b) <= (tol)))                                              \
            check::fail(__FILE__, __LINE__,                                                        \
                        std::string(#a " ~ " #b ": ") + std::to_string(check_a) + " vs " +         \
                            std::to_string(check_b));                                              \
    } while (0)

// The expression must throw EngineError whose message contains `needle`.
#define CHECK_THROWS_WITH(expr, needle)                                                            \
    do {                                                                                           \
        try {                                                                                      \
            (void)(expr);                                                                          \
            check::fail(__FILE__, __LINE__, std::string(#expr " did not throw"));                  \
        } catch (const crossroads::inference::EngineError& check_error) {                          \
            if (std::string(check_error.what()).find(needle) == std::string::npos)                 \
                check::fail(__FILE__, __LINE__,                                                    \
                            std::string(#expr " threw \"") + check_error.what() +                  \
                                "\", expected it to mention \"" + (needle) + "\"");                \
        } catch (const std::exception& check_error) {                                              \
            check::fail(__FILE__, __LINE__,                                                        \
                        std::string(#expr " threw a non-engine error: ") + check_error.what());    \
        }                                                                                          \
    } while (0)

// Small models of each family exercising its features, shared by the weight and forward tests.
namespace check {

inline crossroads::inference::ModelConfig tinyConfig(crossroads::inference::ModelFamily family) {
    using namespace crossroads::inference;
    ModelConfig c;
    c.family = family;
    c.modelType = std::string(familyName(family));
    c.hiddenSize = 64;
    c.numLayers = 2;
    c.numHeads = 4;
    c.numKvHeads = 2;
    c.headDim = 16;
    c.vocabSize = 96;
    c.rmsNormEps = 1e-5;
    c.ropeTheta = 10000.0;
    c.numExperts = 6;
    c.numExpertsPerToken = 2;
    c.expertIntermediateSize = 40;
    switch (family) {
    case ModelFamily::Mixtral:
        c.normTopkProb = true;
        break;
    case ModelFamily::Qwen2Moe:
        c.numKvHeads = 4;
        c.attentionBias = true;
        c.sharedExpertIntermediateSize = 48;
        c.denseIntermediateSize = 56;
        c.numLayers = 3;
        c.mlpOnlyLayers = {1}; // one dense layer between two MoE layers
        break;
    case ModelFamily::Qwen3Moe:
        c.headDim = 24; // head_dim independent of hidden / heads, as in Qwen3
        c.numHeads = 4;
        c.numKvHeads = 1;
        c.qkNorm = QkNorm::PerHead;
        c.normTopkProb = true;
        c.numExpertsPerToken = 3;
        c.ropeTheta = 1e6;
        break;
    case ModelFamily::Olmoe:
        c.numKvHeads = 4;
        c.qkNorm = QkNorm::WholeProj;
        c.clipQkv = 1.5;
        c.expertIntermediateSize = 32; // hidden == 2 x intermediate: fused shapes are ambiguous
        break;
    case ModelFamily::DeepseekV2: // MLA: see tinyDeepseek
    case ModelFamily::DeepseekV3:
        break;
    }
    return c;
}

// V2-Lite's structure (q_lora_rank null, softmax, group_limited_greedy, one dense layer first)
// and V3's (q_lora_rank, sigmoid + e_score_correction_bias noaux_tc, YaRN) at a tiny width.
inline crossroads::inference::ModelConfig tinyDeepseek(crossroads::inference::ModelFamily family) {
    using namespace crossroads::inference;
    ModelConfig c;
    c.family = family;
    c.modelType = std::string(familyName(family));
    c.hiddenSize = 64;
    c.numLayers = 3;
    c.numHeads = 4;
    c.numKvHeads = 4;
    c.vocabSize = 96;
    c.rmsNormEps = 1e-6;
    c.attention = AttentionKind::Latent;
    c.mla.kvLoraRank = 32;
    c.mla.qkNopeHeadDim = 16;
    c.mla.qkRopeHeadDim = 8;
    c.mla.vHeadDim = 12;
    c.headDim = c.mla.qHeadDim();
    c.numExperts = 8;
    c.expertIntermediateSize = 24;
    c.denseIntermediateSize = 80;
    c.firstKDenseReplace = 1;
    c.numExpertGroups = 4;
    c.topkGroups = 2;
    if (family == ModelFamily::DeepseekV2) {
        c.numSharedExperts = 2;
        c.numExpertsPerToken = 3;
        c.scoringFunc = "softmax";
        c.topkMethod = "group_limited_greedy";
        c.routedScalingFactor = 1.5;
    } else {
        c.mla.qLoraRank = 48;
        c.numSharedExperts = 1;
        c.numExpertsPerToken = 4;
        c.scoringFunc = "sigmoid";
        c.topkMethod = "noaux_tc";
        c.normTopkProb = true;
        c.routedScalingFactor = 2.5;
        c.ropeScaling = "yarn";
        c.yarn.factor = 40;
        c.yarn.mscaleAllDim = 0.8;
    }
    c.sharedExpertIntermediateSize = c.numSharedExperts * c.expertIntermediateSize;
    return c;
}

} // namespace check
