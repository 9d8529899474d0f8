// The weights of a model, as views the kernels read (memory-mapped checkpoint tensors where the
// layout allows, owned buffers otherwise), loaded from safetensors or synthesised at real shapes.
#pragma once

#include "inference/model/Cost.h"
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
    // What a product reads: the weights and, for FP8, their block scales.
    std::size_t bytes() const {
        return gate.bytes() + gate.scaleBytes() + up.bytes() + up.scaleBytes() + down.bytes() +
               down.scaleBytes();
    }
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
    // Of the large matrices: the projections (attention, experts, shared experts, dense MLPs).
    // FP8E4M3 when they are FP8, even though the embedding, the LM head and the routers of an
    // FP8 checkpoint (as DeepSeek-V3 ships) stay BF16.
    WeightType type = WeightType::BF16;
    std::vector<std::shared_ptr<void>> storage; // mappings and owned buffers behind the views
};

struct Model {
    std::string name; // "preset:...", or the folder
    ModelConfig config;
    ModelWeights weights;
};

// Loads config.json + safetensors from a folder. layers > 0 keeps only the first layers. Every
// family loads, DeepSeek included. Tensors F32, F16 (widened to F32) or BF16; weight matrices
// also F8_E4M3 with block scales (DeepSeek-V3's format: `<name>_scale_inv`, F32 or BF16, of
// [ceil(rows/br), ceil(cols/bc)] for the config's quantization_config weight_block_size), kept
// FP8E4M3 and mapped, never widened; F8_E5M2 and FP8 without an fp8 quantization_config are
// refused by tensor name.
Model loadCheckpoint(const std::filesystem::path& folder, int64_t layers = 0);

// Deterministic random weights at the config's shapes (same seed -> same bits on any machine,
// any thread count). The scales keep activations of order one through the layers. FP8E4M3 makes
// the projections FP8 with F32 scales per block (the config's weight_block_size, 128 x 128 when
// it has none; edge blocks partial) and keeps the embedding, the LM head and the routers BF16 (as
// DeepSeek-V3 ships), bit for bit those of the BF16 synthesis of the same seed; the returned
// config's quantization describes the weights (fp8 e4m3 with the block size, or none).
Model synthesizeModel(const ModelConfig& config, WeightType type = WeightType::BF16,
                      uint64_t seed = 1, ThreadPool* pool = nullptr);

// The mean bytes per parameter of synthesizeModel(config, type): FP8 projections (1 B and an F32
// scale per block) with BF16 for the rest (embedding, LM head, routers, norms), or one size for
// all (what loadModel checks against memory, and what the benchmark panel estimates).
double synthesisBytesPerParameter(const ModelConfig& config, WeightType type);

// Which forward pass a loaded model is for. Loading for the optimised backends refuses what
// none of them runs (requireForwardSupport for the CPU, which runs every family) before it maps
// anything; makeBackend refuses what the chosen backend does not (CUDA: DeepSeek). A preset whose
// synthetic weights would not fit in memory is refused before synthesis (requireSynthesisFits:
// a full-size synthetic DeepSeek-V3 would be 1.3 TB).
enum class ForwardPath { Optimised, Reference };

// --model: "preset:NAME[?layers=N][&dtype=bf16|f32|fp8]" (synthetic: FP8 when the preset's
// config is fp8-quantised, as DeepSeek-V3's is, else BF16; dtype= overrides) or a checkpoint
// folder.
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

// Writes config.json and safetensors with the real tensor names of the model's family. FP8
// matrices are written as F8_E4M3 with their F32 `<name>_scale_inv` (DeepSeek-V3's format, classic
// layout only) and config.json gets the matching quantization_config; a model without FP8
// matrices (or written asF16) is written without one.
void saveCheckpoint(const Model& model, const std::filesystem::path& folder,
                    const SaveOptions& options = {});

// Bytes of the weights the model holds (all experts): each matrix at its type's size, FP8 block
// scales included.
std::size_t totalWeightBytes(const ModelWeights& weights);

// The bytes per parameter a step reads, as the cost model (Cost.h) splits them: the projections
// (FP8 with their block scales, BF16 or F32) and the rest (embedding, LM head, routers, Qwen2-MoE's
// shared-expert gate), each the mean over the matrices the model holds.
WeightBytes weightBytesPerParameter(const ModelWeights& weights);

// Elements of every tensor the model holds (norms and biases included; a tied LM head once).
int64_t parameterCount(const ModelWeights& weights);

} // namespace crossroads::inference
