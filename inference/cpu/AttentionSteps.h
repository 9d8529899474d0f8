// Steps the CPU backend's attention paths share (grouped attention in CpuBackend.cpp, MLA in
// LatentAttention.cpp): the causal softmax of a block of prefill scores, and the merge of a
// decode row's context parts (split-K). Internal to cpu/.
#pragma once

#include "inference/cpu/Kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace crossroads::inference {

// Rows r < rows of `scores` (row stride `span`) are queries of token r / group of a block whose
// first token sees `firstVisible` positions: row r sees firstVisible + r / group of them. Each
// visible score is scaled, exponentiated after subtracting the row's maximum, the rest zeroed;
// inverse[r] = 1 / the row's sum (the caller divides once its product with the values is done).
inline void causalSoftmaxRows(float* scores, int64_t rows, int64_t span, int64_t firstVisible,
                              int64_t group, float scale, float* inverse) {
    for (int64_t r = 0; r < rows; ++r) {
        float* row = scores + r * span;
        const int64_t visible = firstVisible + r / group;
        const float total = softmaxExpRow(row, visible, scale);
        std::fill(row + visible, row + span, 0.0f);
        inverse[r] = 1.0f / total;
    }
}

// One head's parts of a decode row (attendPart, Kernels.h): part p's maximum and sum at
// maxes[p * stride] and sums[p * stride], its unnormalised output (width floats) at
// outs + p * stride * width. out = their softmax-weighted combination, normalised; a part with
// a zero sum (a context shorter than the parts) counts for nothing.
inline void mergeAttentionParts(const float* maxes, const float* sums, const float* outs,
                                int64_t parts, int64_t stride, int64_t width, float* out) {
    float best = -INFINITY;
    for (int64_t p = 0; p < parts; ++p)
        best = std::max(best, maxes[p * stride]);
    std::fill(out, out + width, 0.0f);
    float total = 0.0f;
    for (int64_t p = 0; p < parts; ++p) {
        if (sums[p * stride] == 0.0f)
            continue;
        const float weight = std::exp(maxes[p * stride] - best);
        total += weight * sums[p * stride];
        axpyF32(weight, outs + p * stride * width, out, width);
    }
    const float inverse = 1.0f / total;
    for (int64_t d = 0; d < width; ++d)
        out[d] *= inverse;
}

} // namespace crossroads::inference
