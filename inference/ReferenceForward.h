// The plain reference forward pass: one sequence, every position recomputed from the weights,
// straightforward loops in double precision, no cache, no threads. Slow on purpose; the
// optimised backend is held to it by tests.
#pragma once

#include "inference/Weights.h"

#include <cstdint>
#include <span>
#include <vector>

namespace crossroads::inference {

// Logits [position][vocab] for every position of `tokens`.
std::vector<std::vector<float>> referenceForward(const Model& model,
                                                 std::span<const int32_t> tokens);

// Routing shared by both paths: softmax over all experts, top-k (ties go to the lower index),
// renormalised iff normTopk. Returns (expert, weight) pairs in descending weight order.
std::vector<std::pair<int64_t, double>> routeTopK(std::span<const double> routerLogits, int64_t k,
                                                  bool normTopk);

// RoPE inverse frequencies theta^(-2i/d), i < d/2 (the rotate-half convention of all four
// families).
std::vector<double> ropeInverseFrequencies(int64_t headDim, double theta);

} // namespace crossroads::inference
