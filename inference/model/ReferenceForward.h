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
    // With Bf16 every product with BF16 weights first rounds its input (the F32 value) to BF16,
    // as the optimised paths that compute in BF16 do; everything else stays in double.
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

} // namespace crossroads::inference
