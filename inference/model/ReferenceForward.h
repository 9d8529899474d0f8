// The plain reference forward pass: one sequence, every position recomputed from the weights,
// straightforward loops in double precision, no cache, no threads. Every family, DeepSeek's MLA
// (in its expanded form) and DeepSeekMoE routing included. Slow on purpose; the
// optimised backend is held to it by tests.
#pragma once

#include "inference/model/Weights.h"

#include <cstdint>
#include <span>
#include <vector>

namespace crossroads::inference {

// The experts each row was routed to, per layer: choices[layer][row], best first (empty for
// dense layers). What a backend reports of its last call, and what the reference can be told.
using ExpertChoices = std::vector<std::vector<std::vector<int32_t>>>;

struct ReferenceOptions {
    // With Bf16 every product with BF16 or FP8 weights first rounds its input (the F32 value) to
    // BF16 (roundsInput), as the optimised paths that compute in BF16 do; everything else stays in
    // double.
    ActivationRounding rounding = ActivationRounding::None;
    // When set ([layer][position]): route each position to these experts instead of the
    // reference's own top-k, with the reference's own weights for them. A routing decision is
    // discrete, so a pass whose activations differ by a rounding may pick another expert at a
    // near-tie; forcing its choices compares everything else exactly.
    const ExpertChoices* forcedExperts = nullptr;
    // When set: receives the reference's router probabilities (softmax over all experts),
    // [layer][position][expert] (empty for dense layers), to judge a differing choice's margin.
    // DeepSeek reports the scores its selection compares: softmax (V2) or sigmoid (V3) plus
    // e_score_correction_bias where the layer has one, before group masking.
    std::vector<std::vector<std::vector<double>>>* routerProbabilities = nullptr;
};

// Logits [position][vocab] for every position of `tokens`.
std::vector<std::vector<float>> referenceForward(const Model& model,
                                                 std::span<const int32_t> tokens,
                                                 const ReferenceOptions& options = {});

// Routing shared by both paths: softmax over all experts, top-k (ties go to the lower index),
// renormalised iff normTopk. Returns (expert, weight) pairs in descending weight order.
std::vector<std::pair<int64_t, double>> routeTopK(std::span<const double> routerLogits, int64_t k,
                                                  bool normTopk);

// RoPE inverse frequencies theta^(-2i/d), i < d/2 (the rotate-half convention of all four
// families).
std::vector<double> ropeInverseFrequencies(int64_t headDim, double theta);

// DeepSeekMoE routing (HF MoEGate), shared by the reference and the CPU backend: the selection
// scores (softmax (V2) or sigmoid (V3) of the router logits, plus e_score_correction_bias where
// the layer has one), the experts they select (greedy, or group-limited: the topk_group best of
// n_group groups), or `forced` ones instead, weighted by their unbiased scores, normalised when
// norm_topk_prob (k > 1) and scaled by routed_scaling_factor as V2 or V3 does.
struct DeepseekRouting {
    std::vector<std::pair<int64_t, double>> chosen; // (expert, weight), selection order
    std::vector<double> choice;                     // the scores the selection compares
};
DeepseekRouting routeDeepseek(const ModelConfig& config, const LayerWeights& layer,
                              std::span<const double> routerLogits,
                              const std::vector<int32_t>* forced = nullptr);

// DeepSeek's RoPE of the qk_rope_head_dim dims, shared by the reference and the CPU backend:
// inverse frequencies (YaRN-blended when rope_scaling is yarn), the factor YaRN multiplies cos
// and sin by, and the softmax scale (1/sqrt(q head dim), times mscale^2 with mscale_all_dim).
// The rotation acts on interleaved pairs (2i, 2i + 1) at frequency i.
struct DeepseekRope {
    std::vector<double> inverseFrequency;
    double cosSinScale = 1.0;
    double softmaxScale = 1.0;
};
DeepseekRope deepseekRope(const ModelConfig& config);

// The q_a_layernorm and kv_a_layernorm of HF's DeepSeek code are built without the config's
// eps, so they use DeepseekV3RMSNorm's default.
inline constexpr double kLatentNormEps = 1e-6;

} // namespace crossroads::inference
