// The optimised CPU forward pass: multi-threaded, vectorised kernels (Kernels.h), a KV cache per
// sequence, prefill of a prompt and decode of a batch of sequences. MoE layers group the tokens
// by expert and read only the experts some token chose.
#pragma once

#include "inference/backend/Backend.h"
#include "inference/base/ThreadPool.h"
#include "inference/cpu/OnednnGemm.h"
#include "inference/model/Cost.h"
#include "inference/model/ReferenceForward.h"
#include "inference/model/Weights.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace crossroads::inference {

// How the CPU backend multiplies in prefill (OnednnGemm.h). Auto: oneDNN where this build has
// it, the active ISA computes in BF16 (AVX-512-BF16) and the prepared copy of the weights fits
// in half the memory available; else the native kernels. Native: our kernels only, no oneDNN
// (prefill attention included, see onednnAttention).
enum class PrefillGemm { Auto, Native, Onednn };

struct CpuBackendOptions {
    PrefillGemm prefill = PrefillGemm::Auto;
    // Products with fewer tokens (decode, small experts) keep the native kernels: they stream
    // the weights at the memory's rate, and oneDNN's per-product cost does not pay there.
    int64_t onednnMinTokens = 8;
    // Routed experts' products of pairMinTokens tokens and more (prefill, and batched decode)
    // on pair panels, our vdpbf16ps GEMM on weights prepared at load (Kernels.h), in place of
    // oneDNN's and the native kernels, where the kernels are AVX-512-BF16's. On the 2-core EPYC
    // (Zen 4, bench_engine_gemm_shapes) it took 0.72-0.92 of oneDNN's time on expert shapes at
    // 8-16 tokens, 0.96-1.03 at 32-256, and 0.39-0.66 of the native kernels' at 2-16 (at one
    // token, 0.84-1.21: decode keeps the native stream). False: oneDNN for them too.
    bool expertPairPanels = true;
    int64_t pairMinTokens = 2;
    // Prefill attention's products (scores = Q K^T, then P V; MLA's over the latent cache) on
    // oneDNN's sgemm where the build has oneDNN and prefill is not Native (our kernels only);
    // otherwise the packed F32 GEMM (Kernels.h) on gathered copies of the keys and values.
    bool onednnAttention = true;
};

// One sequence's KV cache (F32): per layer, [positions x kv width] for keys and for values; for
// DeepSeek's MLA layers (AttentionKind::Latent) only `latent`, [positions x (kvLoraRank +
// qkRopeHeadDim)]: the normed latent c_KV then the RoPE'd shared key (LatentAttention.cpp).
struct Sequence {
    std::vector<std::vector<float>> keys, values;
    std::vector<std::vector<float>> latent;
    int64_t length = 0; // positions cached so far (= the next position)
};

class CpuBackend final : public Backend {
public:
    // threads <= 0: one per hardware thread.
    // Onednn when oneDNN is unavailable throws EngineError with the reason.
    explicit CpuBackend(const Model& model, int threads = 0, CpuBackendOptions options = {});
    ~CpuBackend() override;

    const Model& model() const override { return model_; }
    // backend "cpu", the CPU's model name, the kernels' active ISA and the pool's threads.
    DeviceInfo device() const override;
    ThreadPool& pool() { return *pool_; }

    SequenceId newSequence() override;
    void releaseSequence(SequenceId id) override;
    int64_t sequenceLength(SequenceId id) const override;
    // The cache of a sequence, as it is stored (tests check what it holds).
    const Sequence& cache(SequenceId id) const;

    std::vector<float> prefill(SequenceId id, std::span<const int32_t> tokens,
                               bool allPositions = false) override;
    std::vector<float> decode(std::span<const SequenceId> ids,
                              std::span<const int32_t> tokens) override;

    const StepStats& lastStats() const override { return stats_; }
    // What prefill multiplies with: "oneDNN brg:avx512_core_bf16", "native avx512-bf16", ...
    std::string prefillKernel() const;
    // The experts each row of the last call was routed to ([layer][row], rows in call order):
    // tests hold the reference to the same discrete choices (ReferenceOptions::forcedExperts).
    const ExpertChoices& lastRouting() const { return routing_; }
    double measureReadBandwidthGbPerS(std::size_t bytes) override;
    // ReadBandwidthProbe (Bandwidth.h) on the backend's own threads.
    std::unique_ptr<ReadProbe> makeReadProbe(std::size_t bytes) override;
    // The FMA peak of the pool's threads (ComputePeak.h).
    double measureMatmulTflops() override;
    std::string matmulRateMethod() const override;
    // The cache holds F32 keys and values (MLA: the latent and the RoPE key, F32).
    double kvBytesPerToken() const override;

private:
    struct Row {
        Sequence* sequence;
        int64_t position;
        int32_t token;
    };
    Sequence& sequence(SequenceId id);
    std::vector<float> forward(const std::vector<Row>& rows, const std::vector<int64_t>& logitRows);
    void attentionLayer(std::size_t layerIndex, const std::vector<Row>& rows);
    bool isPrefillOfOneSequence(const std::vector<Row>& rows) const;
    bool attentionOnSgemm() const; // options_.onednnAttention, and the build has oneDNN
    void prefillAttention(std::size_t layerIndex, const std::vector<Row>& rows);
    void decodeAttention(std::size_t layerIndex, const std::vector<Row>& rows);
    // DeepSeek's multi-head latent attention (LatentAttention.cpp).
    void latentAttentionLayer(std::size_t layerIndex, const std::vector<Row>& rows);
    void latentPrefillAttention(std::size_t layerIndex, const std::vector<Row>& rows);
    void latentDecodeAttention(std::size_t layerIndex, const std::vector<Row>& rows);
    void mlpLayer(std::size_t layerIndex, int64_t tokens);
    // y = W x for `tokens` rows, split over the pool.
    void matmul(const Matrix& w, const float* x, int64_t xStride, int64_t tokens, float* y,
                int64_t yStride);
    // The prepared copy of w when this product of `tokens` rows goes through oneDNN, else null.
    const OnednnWeights* onednnFor(const Matrix& w, int64_t tokens) const;
    // A routed expert's gate and up, stacked and prepared as one product, when its tokens take
    // oneDNN; else null.
    const OnednnWeights* onednnGateUpFor(const MlpWeights& mlp, int64_t tokens) const;
    // A layer's q, k and v stacked and prepared as one product, likewise.
    const OnednnWeights* onednnQkvFor(const LayerWeights& layer, int64_t tokens) const;
    // A routed expert's gate and up stacked, and its down, on pair panels (Kernels.h).
    struct PairPanels {
        std::shared_ptr<std::byte[]> storage;
        int64_t rows = 0, cols = 0;
        const uint16_t* data() const { return reinterpret_cast<const uint16_t*>(storage.get()); }
    };
    // The expert's pair panels when its `tokens` rows take them, else null.
    const PairPanels* pairGateUpFor(const MlpWeights& mlp, int64_t tokens) const;
    const PairPanels* pairDownFor(const MlpWeights& mlp) const;
    void prepareOnednn(PrefillGemm prefill);
    bool onednnComputesHere() const;

    const Model& model_;
    std::unique_ptr<ThreadPool> pool_;
    CpuBackendOptions options_;
    // What a step reads per parameter, as the model holds its matrices (an FP8 model's
    // projections at one byte and their block scales, the rest in BF16): Cost.h's split.
    WeightBytes weightBytes_;
    std::string rateMethod_;                                      // of the last measureMatmulTflops
    std::unordered_map<const void*, OnednnWeights> onednn_;       // by the matrix's data
    std::unordered_map<const void*, OnednnWeights> onednnGateUp_; // by the gate's data
    std::unordered_map<const void*, OnednnWeights> onednnQkv_;    // by q's data
    std::unordered_map<const void*, PairPanels> pairGateUp_, pairDown_; // by the gate's data
    std::unordered_map<SequenceId, Sequence> sequences_;
    SequenceId nextSequence_ = 1;
    std::vector<float> cos_, sin_; // RoPE tables [position x headDim/2], grown on demand
    // MLA: DeepSeek's RoPE tables [position x qkRopeHeadDim/2] (YaRN's factor included), its
    // softmax scale, and scratch: the queries absorbed into latent space and the attention's
    // latent outputs, [tokens x heads x (kvLoraRank + qkRopeHeadDim)].
    std::vector<float> latentCos_, latentSin_;
    float latentScale_ = 0.0f;
    std::vector<float> qLatent_, outLatent_, kvLatent_;
    StepStats stats_;
    ExpertChoices routing_;
    // Scratch, reused between calls.
    std::vector<float> hidden_, normed_, q_, k_, v_, attention_, projected_;
    std::vector<float> partMax_, partSum_, partOut_; // attention parts (split context)
    std::vector<float> kvScratch_;      // prefill attention: keys and transposed values per KV head
    std::vector<uint16_t> bf16Scratch_; // inputs of oneDNN products, rounded
    std::vector<uint16_t> gatheredBf16_, actBf16_; // the MoE layer's, for oneDNN
};

} // namespace crossroads::inference
