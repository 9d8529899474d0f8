#include "Check.h"
#include "inference/base/ThreadPool.h"
#include "inference/model/Cost.h"
#include "inference/model/Presets.h"
#include "inference/model/ReferenceForward.h"
#include "inference/model/Safetensors.h"
#include "inference/model/Weights.h"

#include <fstream>
#include <nlohmann/json.hpp>

using namespace crossroads::inference;

namespace {

constexpr ModelFamily kFamilies[] = {ModelFamily::Mixtral, ModelFamily::Qwen2Moe,
                                     ModelFamily::Qwen3Moe, ModelFamily::Olmoe};

double maxDifference(const Matrix& a, const Matrix& b) {
    if (a.rows != b.rows || a.cols != b.cols)
        return INFINITY;
    double worst = 0.0;
    for (int64_t r = 0; r < a.rows; ++r)
        for (int64_t c = 0; c < a.cols; ++c)
            worst = std::max(worst, std::fabs(static_cast<double>(a.at(r, c)) - b.at(r, c)));
    return worst;
}

double maxDifference(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size())
        return INFINITY;
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
    return worst;
}

double maxDifference(const MlpWeights& a, const MlpWeights& b) {
    return std::max(
        {maxDifference(a.gate, b.gate), maxDifference(a.up, b.up), maxDifference(a.down, b.down)});
}

// Every tensor of `loaded` equals the one `original` was saved from (within `tol`).
double modelDifference(const Model& original, const Model& loaded) {
    const ModelWeights& a = original.weights;
    const ModelWeights& b = loaded.weights;
    double worst = std::max({maxDifference(a.embed, b.embed), maxDifference(a.lmHead, b.lmHead),
                             maxDifference(a.finalNorm, b.finalNorm)});
    if (a.layers.size() != b.layers.size())
        return INFINITY;
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
        const LayerWeights& x = a.layers[l];
        const LayerWeights& y = b.layers[l];
        worst = std::max({worst, maxDifference(x.inputNorm, y.inputNorm),
                          maxDifference(x.postAttentionNorm, y.postAttentionNorm),
                          maxDifference(x.q, y.q), maxDifference(x.k, y.k), maxDifference(x.v, y.v),
                          maxDifference(x.o, y.o), maxDifference(x.qBias, y.qBias),
                          maxDifference(x.kBias, y.kBias), maxDifference(x.vBias, y.vBias),
                          maxDifference(x.qNorm, y.qNorm), maxDifference(x.kNorm, y.kNorm),
                          maxDifference(x.mla.qA, y.mla.qA), maxDifference(x.mla.qB, y.mla.qB),
                          maxDifference(x.mla.qANorm, y.mla.qANorm),
                          maxDifference(x.mla.kvA, y.mla.kvA), maxDifference(x.mla.kvB, y.mla.kvB),
                          maxDifference(x.mla.kvANorm, y.mla.kvANorm),
                          maxDifference(x.routerBias, y.routerBias)});
        if (x.moe != y.moe || x.experts.size() != y.experts.size())
            return INFINITY;
        if (!x.moe) {
            worst = std::max(worst, maxDifference(x.denseMlp, y.denseMlp));
            continue;
        }
        worst = std::max(worst, maxDifference(x.router, y.router));
        for (std::size_t e = 0; e < x.experts.size(); ++e)
            worst = std::max(worst, maxDifference(x.experts[e], y.experts[e]));
        if (!x.sharedExpert.gate.empty())
            worst = std::max({worst, maxDifference(x.sharedExpert, y.sharedExpert),
                              maxDifference(x.sharedExpertGate, y.sharedExpertGate)});
        if (x.sharedExpert.gate.empty() != y.sharedExpert.gate.empty() ||
            x.sharedExpertGate.empty() != y.sharedExpertGate.empty())
            return INFINITY;
    }
    return worst;
}

void everyLayoutLoadsBack() {
    for (const auto family : kFamilies) {
        for (const auto type : {WeightType::F32, WeightType::BF16}) {
            const Model original = synthesizeModel(check::tinyConfig(family), type, 11);
            for (const auto layout :
                 {ExpertLayout::Classic, ExpertLayout::FusedOutMajor, ExpertLayout::FusedInMajor}) {
                for (const int shards : {1, 3}) {
                    check::TempDir dir;
                    saveCheckpoint(original, dir.path, {layout, shards, false});
                    CHECK(std::filesystem::exists(
                        dir.path /
                        (shards == 1 ? "model.safetensors" : "model.safetensors.index.json")));
                    const Model loaded = loadCheckpoint(dir.path);
                    CHECK(loaded.config.family == family);
                    const double difference = modelDifference(original, loaded);
                    if (difference != 0.0)
                        check::fail(__FILE__, __LINE__,
                                    std::string(familyName(family)) + " layout " +
                                        std::to_string(static_cast<int>(layout)) + " shards " +
                                        std::to_string(shards) + " differs by " +
                                        std::to_string(difference));
                    CHECK(loaded.weights.layers.front().q.type == type);
                }
            }
            // F16 checkpoints widen to F32 at load.
            check::TempDir dir;
            saveCheckpoint(original, dir.path, {ExpertLayout::FusedInMajor, 1, true});
            const Model loaded = loadCheckpoint(dir.path);
            CHECK(loaded.weights.layers.front().experts.front().gate.type == WeightType::F32);
            CHECK(modelDifference(original, loaded) < 2e-3);
        }
    }
}

void classicNamesAreTheRealOnes() {
    check::TempDir mixtral, qwen;
    saveCheckpoint(synthesizeModel(check::tinyConfig(ModelFamily::Mixtral), WeightType::F32),
                   mixtral.path);
    saveCheckpoint(synthesizeModel(check::tinyConfig(ModelFamily::Qwen2Moe), WeightType::F32),
                   qwen.path);
    const Checkpoint a(mixtral.path), b(qwen.path);
    CHECK(a.find("model.layers.1.block_sparse_moe.experts.5.w2.weight").info != nullptr);
    CHECK(a.find("model.layers.0.block_sparse_moe.gate.weight").info != nullptr);
    CHECK(b.find("model.layers.2.mlp.experts.3.down_proj.weight").info != nullptr);
    CHECK(b.find("model.layers.0.mlp.shared_expert_gate.weight").info != nullptr);
    CHECK(b.find("model.layers.1.mlp.gate_proj.weight").info != nullptr); // the dense layer
    CHECK(b.find("model.layers.0.self_attn.q_proj.bias").info != nullptr);
    CHECK(b.find("lm_head.weight").info != nullptr);
}

// Rewrites model.safetensors of `dir` through `edit` (tensor list in, tensor list out).
template <typename Edit> void rewrite(const std::filesystem::path& dir, Edit edit) {
    const SafetensorsFile file(dir / "model.safetensors");
    std::vector<TensorToWrite> tensors;
    for (const auto& info : file.header().tensors) {
        const TensorView view = file.view(info);
        tensors.push_back({info.name, info.dtype, info.shape,
                           std::vector<std::byte>(view.data, view.data + (info.end - info.begin))});
    }
    edit(tensors);
    writeSafetensors(dir / "model.safetensors.tmp", tensors);
    std::filesystem::rename(dir / "model.safetensors.tmp", dir / "model.safetensors");
}

void badCheckpointsAreClearErrors() {
    const Model original =
        synthesizeModel(check::tinyConfig(ModelFamily::Qwen3Moe), WeightType::BF16);
    const auto fresh = [&](ExpertLayout layout) {
        auto dir = std::make_unique<check::TempDir>();
        saveCheckpoint(original, dir->path, {layout, 1, false});
        return dir;
    };
    {
        auto dir = fresh(ExpertLayout::Classic);
        rewrite(dir->path, [](auto& t) {
            std::erase_if(
                t, [](auto& x) { return x.name == "model.layers.1.mlp.experts.4.up_proj.weight"; });
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "missing tensor \"model.layers.1.mlp.experts.4.up_proj.weight\"");
    }
    {
        auto dir = fresh(ExpertLayout::Classic);
        rewrite(dir->path, [](auto& t) {
            for (auto& x : t)
                if (x.name == "model.layers.0.self_attn.k_proj.weight")
                    x.shape = {x.shape[1], x.shape[0]};
        });
        CHECK_THROWS_WITH(
            loadCheckpoint(dir->path),
            "\"model.layers.0.self_attn.k_proj.weight\" has shape [64, 24], expected [24, 64]");
    }
    {
        auto dir = fresh(ExpertLayout::Classic);
        rewrite(dir->path, [](auto& t) {
            for (auto& x : t)
                if (x.name == "model.norm.weight") {
                    x.dtype = DType::I32; // same byte count as F32
                    x.bytes.resize(64 * 4);
                }
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path), "unsupported dtype I32");
    }
    {
        auto dir = fresh(ExpertLayout::FusedOutMajor);
        rewrite(dir->path, [](auto& t) {
            for (auto& x : t)
                if (x.name == "model.layers.0.mlp.experts.gate_up_proj")
                    x.shape = {6, 40, 128}; // same element count, fits neither orientation
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path), "fits neither [6, 80, 64] nor [6, 64, 80]");
    }
    {
        auto dir = fresh(ExpertLayout::FusedOutMajor);
        rewrite(dir->path, [](auto& t) {
            std::erase_if(t,
                          [](auto& x) { return x.name == "model.layers.1.mlp.experts.down_proj"; });
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "missing tensor \"model.layers.1.mlp.experts.down_proj\"");
    }
    {
        auto dir = fresh(ExpertLayout::Classic);
        rewrite(dir->path, [](auto& t) {
            std::erase_if(t, [](auto& x) { return x.name == "lm_head.weight"; });
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path), "missing tensor \"lm_head.weight\"");
    }
    {
        auto dir = fresh(ExpertLayout::Classic);
        std::filesystem::remove(dir->path / "config.json");
        CHECK_THROWS_WITH(loadCheckpoint(dir->path), "config.json");
    }
    {
        // A corrupt byte in the header length of a real checkpoint file.
        auto dir = fresh(ExpertLayout::Classic);
        std::fstream file(dir->path / "model.safetensors",
                          std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(5);
        file.put('\x7f');
        file.close();
        CHECK_THROWS_WITH(loadCheckpoint(dir->path), "exceeds the 100,000,000-byte limit");
    }
    // Tied embeddings: no lm_head tensor needed.
    ModelConfig tied = check::tinyConfig(ModelFamily::Olmoe);
    tied.tieWordEmbeddings = true;
    check::TempDir dir;
    saveCheckpoint(synthesizeModel(tied, WeightType::F32), dir.path);
    CHECK(Checkpoint(dir.path).find("lm_head.weight").info == nullptr);
    const Model loaded = loadCheckpoint(dir.path, 1);
    CHECK(loaded.weights.lmHead.data == loaded.weights.embed.data);
    CHECK(loaded.config.truncated() && loaded.weights.layers.size() == 1);
}

void synthesisIsDeterministic() {
    const ModelConfig config = check::tinyConfig(ModelFamily::Qwen2Moe);
    ThreadPool pool(3);
    const Model a = synthesizeModel(config, WeightType::BF16, 5);
    const Model b = synthesizeModel(config, WeightType::BF16, 5, &pool);
    const Model c = synthesizeModel(config, WeightType::BF16, 6);
    CHECK(modelDifference(a, b) == 0.0);
    CHECK(modelDifference(a, c) > 0.0);
    CHECK(std::memcmp(a.weights.embed.data, b.weights.embed.data, a.weights.embed.bytes()) == 0);
    // Real shapes at a preset's depth: check shapes without paying for the big tensors by
    // shrinking only the vocabulary and the expert count.
    ModelConfig preset = presetConfig("qwen3-30b-a3b", 1);
    preset.vocabSize = 128;
    preset.numExperts = 8;
    const Model real = synthesizeModel(preset, WeightType::BF16, 1, &pool);
    const LayerWeights& layer = real.weights.layers.front();
    CHECK(layer.q.rows == 4096 && layer.q.cols == 2048 && layer.k.rows == 512);
    CHECK(layer.experts[0].gate.rows == 768 && layer.experts[0].down.rows == 2048);
    CHECK(layer.qNorm.size() == 128 && real.config.truncated());
}

// ---------------------------------------------------------------------------------------------
// DeepSeek-V2/V3

constexpr ModelFamily kDeepseeks[] = {ModelFamily::DeepseekV2, ModelFamily::DeepseekV3};

void deepseekLoadsBack() {
    const std::vector<int32_t> tokens = {3, 71, 9, 40, 2};
    for (const auto family : kDeepseeks) {
        for (const auto type : {WeightType::F32, WeightType::BF16}) {
            const Model original = synthesizeModel(check::tinyDeepseek(family), type, 4);
            const auto expected = referenceForward(original, tokens);
            for (const auto layout : {ExpertLayout::Classic, ExpertLayout::FusedOutMajor}) {
                for (const int shards : {1, 3}) {
                    check::TempDir dir;
                    saveCheckpoint(original, dir.path, {layout, shards, false});
                    const Model loaded = loadCheckpoint(dir.path);
                    CHECK(loaded.config.family == family && loaded.config.deepseek());
                    CHECK(loaded.config.ropeScaling == original.config.ropeScaling);
                    CHECK(loaded.config.yarn.mscaleAllDim == original.config.yarn.mscaleAllDim);
                    const double difference = modelDifference(original, loaded);
                    if (difference != 0.0)
                        check::fail(__FILE__, __LINE__,
                                    std::string(familyName(family)) + " layout " +
                                        std::to_string(static_cast<int>(layout)) + " differs by " +
                                        std::to_string(difference));
                    // The saved checkpoint computes the same logits, bit for bit.
                    CHECK(referenceForward(loaded, tokens) == expected);
                }
            }
            // F16 checkpoints widen to F32 at load, the MLA matrices and the router bias too.
            check::TempDir dir;
            saveCheckpoint(original, dir.path, {ExpertLayout::Classic, 1, true});
            const Model loaded = loadCheckpoint(dir.path);
            CHECK(loaded.weights.layers.back().mla.kvB.type == WeightType::F32);
            CHECK(modelDifference(original, loaded) < 2e-3);
        }
    }
}

void deepseekNamesAreTheRealOnes() {
    check::TempDir v2, v3;
    saveCheckpoint(synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV2), WeightType::F32),
                   v2.path);
    saveCheckpoint(synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV3), WeightType::BF16),
                   v3.path);
    const Checkpoint a(v2.path), b(v3.path);
    const auto shape = [](const Checkpoint& c, const std::string& name) {
        const TensorView view = c.find(name);
        return view.info ? view.info->shape : std::vector<int64_t>{};
    };
    // V2: q_proj (q_lora_rank null), no router bias, a dense first layer, two shared experts.
    CHECK(shape(a, "model.layers.0.self_attn.q_proj.weight") == (std::vector<int64_t>{96, 64}));
    CHECK(a.find("model.layers.0.self_attn.q_a_proj.weight").info == nullptr);
    CHECK(shape(a, "model.layers.0.mlp.gate_proj.weight") == (std::vector<int64_t>{80, 64}));
    CHECK(a.find("model.layers.0.mlp.gate.weight").info == nullptr);
    CHECK(a.find("model.layers.1.mlp.gate.e_score_correction_bias").info == nullptr);
    CHECK(shape(a, "model.layers.1.mlp.shared_experts.up_proj.weight") ==
          (std::vector<int64_t>{48, 64}));
    CHECK(a.find("model.layers.1.mlp.shared_expert_gate.weight").info == nullptr);
    // V3: the q bottleneck, the latent, the router bias (F32, as the release stores it).
    const std::string attn = "model.layers.2.self_attn.";
    CHECK(b.find(attn + "q_proj.weight").info == nullptr);
    CHECK(shape(b, attn + "q_a_proj.weight") == (std::vector<int64_t>{48, 64}));
    CHECK(shape(b, attn + "q_a_layernorm.weight") == (std::vector<int64_t>{48}));
    CHECK(shape(b, attn + "q_b_proj.weight") == (std::vector<int64_t>{96, 48}));
    CHECK(shape(b, attn + "kv_a_proj_with_mqa.weight") == (std::vector<int64_t>{40, 64}));
    CHECK(shape(b, attn + "kv_a_layernorm.weight") == (std::vector<int64_t>{32}));
    CHECK(shape(b, attn + "kv_b_proj.weight") == (std::vector<int64_t>{4 * (16 + 12), 32}));
    CHECK(shape(b, attn + "o_proj.weight") == (std::vector<int64_t>{64, 4 * 12}));
    CHECK(shape(b, "model.layers.2.mlp.gate.e_score_correction_bias") == (std::vector<int64_t>{8}));
    CHECK(b.find("model.layers.2.mlp.gate.e_score_correction_bias").info->dtype == DType::F32);
    CHECK(shape(b, "model.layers.2.mlp.experts.7.down_proj.weight") ==
          (std::vector<int64_t>{64, 24}));
    CHECK(shape(b, "model.layers.2.mlp.shared_experts.gate_proj.weight") ==
          (std::vector<int64_t>{24, 64}));
    // The config round-trips with the YaRN fields.
    const ModelConfig back = loadModelConfig(v3.path / "config.json");
    CHECK(back.ropeScaling == "yarn" && back.yarn.factor == 40 && back.yarn.mscaleAllDim == 0.8);
    CHECK(back.mla.qLoraRank == 48 && back.topkMethod == "noaux_tc");
}

void deepseekBadCheckpointsAreClearErrors() {
    const Model original =
        synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV3), WeightType::BF16, 2);
    const auto without = [&](const std::string& name) {
        auto dir = std::make_unique<check::TempDir>();
        saveCheckpoint(original, dir->path);
        rewrite(dir->path,
                [&](auto& t) { std::erase_if(t, [&](auto& x) { return x.name == name; }); });
        return dir;
    };
    for (const std::string name :
         {"model.layers.1.self_attn.q_a_proj.weight",
          "model.layers.1.self_attn.q_a_layernorm.weight",
          "model.layers.2.self_attn.q_b_proj.weight",
          "model.layers.0.self_attn.kv_a_proj_with_mqa.weight",
          "model.layers.2.self_attn.kv_a_layernorm.weight",
          "model.layers.1.self_attn.kv_b_proj.weight", "model.layers.1.self_attn.o_proj.weight",
          "model.layers.0.mlp.down_proj.weight", "model.layers.1.mlp.gate.weight",
          "model.layers.2.mlp.gate.e_score_correction_bias",
          "model.layers.1.mlp.experts.6.up_proj.weight",
          "model.layers.2.mlp.shared_experts.down_proj.weight"}) {
        auto dir = without(name);
        CHECK_THROWS_WITH(loadCheckpoint(dir->path), "missing tensor \"" + name + "\"");
    }
    {
        // V2-Lite's direct q_proj.
        const Model v2 =
            synthesizeModel(check::tinyDeepseek(ModelFamily::DeepseekV2), WeightType::F32);
        check::TempDir dir;
        saveCheckpoint(v2, dir.path);
        rewrite(dir.path, [](auto& t) {
            std::erase_if(
                t, [](auto& x) { return x.name == "model.layers.2.self_attn.q_proj.weight"; });
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir.path),
                          "missing tensor \"model.layers.2.self_attn.q_proj.weight\"");
    }
    {
        // A kv_b_proj of the wrong width is named with both shapes.
        auto dir = std::make_unique<check::TempDir>();
        saveCheckpoint(original, dir->path);
        rewrite(dir->path, [](auto& t) {
            for (auto& x : t)
                if (x.name == "model.layers.1.self_attn.kv_b_proj.weight")
                    x.shape = {56, 64}; // heads x (nope + v) swapped against the latent
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "\"model.layers.1.self_attn.kv_b_proj.weight\" has shape [56, 64], "
                          "expected [112, 32]");
    }
    {
        // FP8 in a checkpoint whose config has no fp8 quantization_config: refused by name
        // (inference_fp8_test loads real FP8 checkpoints).
        auto dir = std::make_unique<check::TempDir>();
        saveCheckpoint(original, dir->path);
        rewrite(dir->path, [](auto& t) {
            for (auto& x : t)
                if (x.name == "model.layers.1.self_attn.q_b_proj.weight") {
                    x.dtype = DType::F8_E4M3;
                    x.bytes.resize(x.bytes.size() / 2);
                }
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "tensor \"model.layers.1.self_attn.q_b_proj.weight\" is F8_E4M3 but "
                          "config.json has no fp8 quantization_config");
    }
}

// Synthesis at real shapes holds what the cost model counts. The vocabulary and the routed
// experts are cut (they only multiply the same shapes) to keep memory under a gigabyte.
void deepseekSynthesisMatchesTheCostModel() {
    ThreadPool pool(2);
    {
        ModelConfig lite = presetConfig("deepseek-v2-lite", 2);
        lite.vocabSize = 128;
        lite.numExperts = 8;
        const Model model = synthesizeModel(lite, WeightType::BF16, 1, &pool);
        CHECK(parameterCount(model.weights) == static_cast<int64_t>(totalParameters(lite)));
        const LayerWeights& dense = model.weights.layers[0];
        const LayerWeights& moe = model.weights.layers[1];
        CHECK(!dense.moe && dense.denseMlp.gate.rows == 10944 && moe.moe);
        CHECK(dense.q.rows == 16 * 192 && dense.q.cols == 2048 && dense.mla.qA.empty());
        CHECK(dense.mla.kvA.rows == 576 && dense.mla.kvB.rows == 16 * 256 &&
              dense.mla.kvB.cols == 512 && dense.o.cols == 16 * 128);
        CHECK(moe.sharedExpert.gate.rows == 2 * 1408 && moe.sharedExpertGate.empty());
        CHECK(moe.routerBias.empty() && moe.experts[0].down.cols == 1408);
        // Activations of order one through both layers: finite logits of a sensible size.
        const auto logits = referenceForward(model, std::vector<int32_t>{7, 99, 4});
        double largest = 0.0;
        for (const auto& row : logits)
            for (const float value : row) {
                CHECK(std::isfinite(value));
                largest = std::max(largest, std::fabs(static_cast<double>(value)));
            }
        CHECK(largest > 0.1 && largest < 100.0);
    }
    {
        ModelConfig v3 = presetConfig("deepseek-v3", 2);
        v3.vocabSize = 128;
        v3.numExperts = 8;
        v3.numExpertGroups = 4;
        v3.topkGroups = 2;
        v3.denseIntermediateSize = 2048; // the dense layer's 18432 alone is 396M parameters
        const Model model = synthesizeModel(v3, WeightType::BF16, 1, &pool);
        // Cost counts e_score_correction_bias ([E] per MoE layer) as the weights hold it.
        CHECK(parameterCount(model.weights) == static_cast<int64_t>(totalParameters(v3)));
        const LayerWeights& moe = model.weights.layers[1];
        CHECK(moe.mla.qA.rows == 1536 && moe.mla.qA.cols == 7168 && moe.q.empty());
        CHECK(moe.mla.qB.rows == 128 * 192 && moe.mla.qANorm.size() == 1536);
        CHECK(moe.mla.kvA.rows == 576 && moe.mla.kvANorm.size() == 512);
        CHECK(moe.mla.kvB.rows == 128 * 256 && moe.o.rows == 7168 && moe.o.cols == 128 * 128);
        CHECK(moe.routerBias.size() == 8 && moe.experts[0].gate.rows == 2048);
        CHECK(moe.sharedExpert.up.rows == 2048 && model.config.truncated());
    }
}

} // namespace

int main() {
    try {
        everyLayoutLoadsBack();
        classicNamesAreTheRealOnes();
        badCheckpointsAreClearErrors();
        synthesisIsDeterministic();
        deepseekLoadsBack();
        deepseekNamesAreTheRealOnes();
        deepseekBadCheckpointsAreClearErrors();
        deepseekSynthesisMatchesTheCostModel();
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_weights_test");
}
