// The weights of a model, as views the kernels read (memory-mapped checkpoint tensors where the
// layout allows, owned buffers otherwise), loaded from safetensors or synthesised at real shapes.
#pragma once

#include "inference/model/ModelConfig.h"
#include "inference/model/Tensor.h"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::inference {

class ThreadPool;

// One SwiGLU MLP: down(silu(gate x) * up x). gate/up [I x H], down [H x I].
struct MlpWeights {
    Matrix gate, up, down;
    std::size_t bytes() const { return gate.bytes() + up.bytes() + down.bytes(); }
};

// DeepSeek multi-head latent attention (AttentionKind::Latent); empty for the other families.
// q comes from LayerWeights::q [heads*qHeadDim x H] when q_lora_rank is null (V2-Lite), else from
// qA [qLoraRank x H] -> RMSNorm qANorm -> qB [heads*qHeadDim x qLoraRank]. kvA
// (kv_a_proj_with_mqa) [kvLoraRank + qkRopeHeadDim x H] gives the latent and the shared RoPE key;
// kvB [heads*(qkNopeHeadDim + vHeadDim) x kvLoraRank] expands the normed latent into each head's
// no-RoPE key and value. LayerWeights::o is [H x heads*vHeadDim].
struct LatentAttentionWeights {
    Matrix qA, qB;
    std::vector<float> qANorm; // [qLoraRank]
    Matrix kvA, kvB;
    std::vector<float> kvANorm; // [kvLoraRank]
};

struct LayerWeights {
    std::vector<float> inputNorm, postAttentionNorm; // [H]
    Matrix q, k, v, o;
    std::vector<float> qBias, kBias, vBias, oBias; // empty when the family has none
    std::vector<float> qNorm, kNorm;               // [head_dim] (Qwen3) or [q/kv width] (OLMoE)
    LatentAttentionWeights mla;                    // DeepSeek
    bool moe = true;
    Matrix router;                 // [E x H]
    std::vector<float> routerBias; // DeepSeek-V3 e_score_correction_bias [E] (selection only)
    std::vector<MlpWeights> experts;
    MlpWeights sharedExpert; // Qwen2-MoE (gated), DeepSeek (n_shared_experts summed, ungated)
    Matrix sharedExpertGate; // [1 x H], Qwen2-MoE only
    MlpWeights denseMlp;     // layers that are not MoE
};

struct ModelWeights {
    Matrix embed;  // [V x H]
    Matrix lmHead; // [V x H] (the embedding when tied)
    std::vector<float> finalNorm;
    std::vector<LayerWeights> layers;
    WeightType type = WeightType::BF16;         // of the large matrices
    std::vector<std::shared_ptr<void>> storage; // mappings and owned buffers behind the views
};

struct Model {
    std::string name; // "preset:...", or the folder
    ModelConfig config;
    ModelWeights weights;
};

// Loads config.json + safetensors from a folder. layers > 0 keeps only the first layers. Every
// family loads, DeepSeek included (F32/F16/BF16; FP8 checkpoints are refused by tensor name).
Model loadCheckpoint(const std::filesystem::path& folder, int64_t layers = 0);

// Deterministic random weights at the config's shapes (same seed -> same bits on any machine,
// any thread count). The scales keep activations of order one through the layers.
Model synthesizeModel(const ModelConfig& config, WeightType type = WeightType::BF16,
                      uint64_t seed = 1, ThreadPool* pool = nullptr);

// Which forward pass a loaded model is for. The optimised backends cannot run every family yet
// (requireForwardSupport); loading for them refuses such a model before it synthesises or maps
// anything (a full-size synthetic DeepSeek-V3 would be 1.3 TB).
enum class ForwardPath { Optimised, Reference };

// --model: "preset:NAME[?layers=N]" (synthetic BF16) or a checkpoint folder.
Model loadModel(std::string_view spec, ThreadPool* pool = nullptr,
                ForwardPath path = ForwardPath::Optimised);

// Expert tensor layouts a checkpoint may use.
enum class ExpertLayout {
    Classic,       // one tensor per expert and projection
    FusedOutMajor, // mlp.experts.gate_up_proj [E, 2I, H], down_proj [E, H, I] (transformers v5)
    FusedInMajor,  // [E, H, 2I] and [E, I, H] (earlier fused layout)
};

struct SaveOptions {
    ExpertLayout layout = ExpertLayout::Classic;
    int shards = 1;     // > 1 writes model-0000i-of-0000n.safetensors + index.json
    bool asF16 = false; // write F16 instead of the weights' own type
};

// Writes config.json and safetensors with the real tensor names of the model's family.
void saveCheckpoint(const Model& model, const std::filesystem::path& folder,
                    const SaveOptions& options = {});

// Bytes of the weights the model holds (all experts).
std::size_t totalWeightBytes(const ModelWeights& weights);

// Elements of every tensor the model holds (norms and biases included; a tied LM head once).
int64_t parameterCount(const ModelWeights& weights);

} // namespace crossroads::inference
