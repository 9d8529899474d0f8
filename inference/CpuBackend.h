// The optimised CPU forward pass: multi-threaded, vectorised kernels (Kernels.h), a KV cache per
// sequence, prefill of a prompt and decode of a batch of sequences. MoE layers group the tokens
// by expert and read only the experts some token chose.
#pragma once

#include "inference/ThreadPool.h"
#include "inference/Weights.h"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace crossroads::inference {

// One sequence's KV cache (F32): per layer, [positions x kv width] for keys and for values.
struct Sequence {
    std::vector<std::vector<float>> keys, values;
    int64_t length = 0; // positions cached so far (= the next position)
};

// What one forward call touched, for achieved-bandwidth figures.
struct StepStats {
    double weightBytes = 0; // distinct weight bytes read (active experts only)
    double kvBytes = 0;     // KV cache bytes read by attention
    double flops = 0;       // multiply-adds x 2 of the matmuls and attention
};

class CpuBackend {
  public:
    // threads <= 0: one per hardware thread.
    explicit CpuBackend(const Model& model, int threads = 0);
    ~CpuBackend();

    const Model& model() const { return model_; }
    ThreadPool& pool() { return *pool_; }

    Sequence newSequence() const;
    // Feeds `tokens` after what the sequence holds. Returns the logits of the last position
    // [vocab], or of every fed position [tokens x vocab] when allPositions.
    std::vector<float> prefill(Sequence& sequence, std::span<const int32_t> tokens,
                               bool allPositions = false);
    // One token per sequence (distinct sequences). Returns [batch x vocab].
    std::vector<float> decode(std::span<Sequence* const> sequences,
                              std::span<const int32_t> tokens);

    const StepStats& lastStats() const { return stats_; }

  private:
    struct Row {
        Sequence* sequence;
        int64_t position;
        int32_t token;
    };
    std::vector<float> forward(const std::vector<Row>& rows, const std::vector<int64_t>& logitRows);
    void attentionLayer(std::size_t layerIndex, const std::vector<Row>& rows);
    void mlpLayer(std::size_t layerIndex, int64_t tokens);
    // y = W x for `tokens` rows, split over the pool.
    void matmul(const Matrix& w, const float* x, int64_t xStride, int64_t tokens, float* y,
                int64_t yStride);

    const Model& model_;
    std::unique_ptr<ThreadPool> pool_;
    std::vector<float> cos_, sin_; // RoPE tables [position x headDim/2], grown on demand
    StepStats stats_;
    // Scratch, reused between calls.
    std::vector<float> hidden_, normed_, q_, k_, v_, attention_, projected_;
};

} // namespace crossroads::inference
