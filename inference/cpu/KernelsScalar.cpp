#include "inference/cpu/KernelsIsa.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace crossroads::inference::kernels {

// ---------------------------------------------------------------------------------------------
// Scalar (portable) path: float accumulation, the fallback on CPUs without AVX2.

void matmulScalar(const Matrix& w, int64_t rowBegin, int64_t rowEnd, const float* x,
                  int64_t xStride, int64_t tokens, float* y, int64_t yStride) {
    for (int64_t t = 0; t < tokens; ++t)
        for (int64_t r = rowBegin; r < rowEnd; ++r) {
            float sum = 0.0f;
            for (int64_t c = 0; c < w.cols; ++c)
                sum += w.at(r, c) * x[t * xStride + c];
            y[t * yStride + r] = sum;
        }
}

void attendPartScalar(const float* q, int64_t group, int64_t headDim, const float* keys,
                      const float* values, int64_t stride, int64_t begin, int64_t end, float scale,
                      float* scores, float* maxScore, float* sumExp, float* out) {
    const int64_t count = end - begin;
    for (int64_t g = 0; g < group; ++g) {
        float* row = scores + g * count;
        float best = -INFINITY;
        for (int64_t j = 0; j < count; ++j) {
            float dot = 0.0f;
            for (int64_t d = 0; d < headDim; ++d)
                dot += q[g * headDim + d] * keys[(begin + j) * stride + d];
            row[j] = dot * scale;
            best = std::max(best, row[j]);
        }
        float total = 0.0f;
        for (int64_t j = 0; j < count; ++j)
            total += row[j] = std::exp(row[j] - best);
        maxScore[g] = best;
        sumExp[g] = total;
        float* o = out + g * headDim;
        std::fill(o, o + headDim, 0.0f);
        for (int64_t j = 0; j < count; ++j)
            for (int64_t d = 0; d < headDim; ++d)
                o[d] += row[j] * values[(begin + j) * stride + d];
    }
}

} // namespace crossroads::inference::kernels
