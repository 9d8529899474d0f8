// FP8 E4M3 block-scaled weights (DeepSeek-V3's format): synthesis, saving as F8_E4M3 +
// weight_scale_inv, loading as mapped FP8E4M3 matrices, the errors of bad FP8 checkpoints, the
// preset spec's dtype= and the bytes the cost model counts for them.
#include "Check.h"
#include "inference/base/ThreadPool.h"
#include "inference/model/Cost.h"
#include "inference/model/Presets.h"
#include "inference/model/ReferenceForward.h"
#include "inference/model/Safetensors.h"
#include "inference/model/Weights.h"

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

using namespace crossroads::inference;

namespace {

// DeepSeek-V3's structure at widths that are not multiples of 128: every projection has partial
// edge blocks, and hidden 160 gives two block columns (128 + 32), the q bottleneck and the expert
// width (136) two block rows. The dense MLP (520 = 4 x 128 + 8) spans more than one synthesis
// chunk of 65,536 elements.
ModelConfig tinyFp8(int64_t blockRows = 128, int64_t blockCols = 128) {
    ModelConfig c = check::tinyDeepseek(ModelFamily::DeepseekV3);
    c.hiddenSize = 160;
    c.mla.qLoraRank = 136;
    c.mla.kvLoraRank = 40;
    c.expertIntermediateSize = 136;
    c.sharedExpertIntermediateSize = c.numSharedExperts * c.expertIntermediateSize;
    c.denseIntermediateSize = 520;
    c.quantization.method = "fp8";
    c.quantization.format = "e4m3";
    c.quantization.blockRows = blockRows;
    c.quantization.blockCols = blockCols;
    return c;
}

// Every matrix of the model with its checkpoint name (classic layout).
void forEachNamedMatrix(const Model& model,
                        const std::function<void(const std::string&, const Matrix&)>& visit) {
    const ModelWeights& w = model.weights;
    visit("model.embed_tokens.weight", w.embed);
    visit("lm_head.weight", w.lmHead);
    for (std::size_t l = 0; l < w.layers.size(); ++l) {
        const LayerWeights& layer = w.layers[l];
        const std::string p = "model.layers." + std::to_string(l) + ".";
        const std::string a = p + "self_attn.";
        visit(a + "q_a_proj.weight", layer.mla.qA);
        visit(a + "q_b_proj.weight", layer.mla.qB);
        visit(a + "kv_a_proj_with_mqa.weight", layer.mla.kvA);
        visit(a + "kv_b_proj.weight", layer.mla.kvB);
        visit(a + "o_proj.weight", layer.o);
        const auto mlp = [&](const std::string& prefix, const MlpWeights& m) {
            visit(prefix + "gate_proj.weight", m.gate);
            visit(prefix + "up_proj.weight", m.up);
            visit(prefix + "down_proj.weight", m.down);
        };
        if (!layer.moe) {
            mlp(p + "mlp.", layer.denseMlp);
            continue;
        }
        visit(p + "mlp.gate.weight", layer.router);
        for (std::size_t e = 0; e < layer.experts.size(); ++e)
            mlp(p + "mlp.experts." + std::to_string(e) + ".", layer.experts[e]);
        mlp(p + "mlp.shared_experts.", layer.sharedExpert);
    }
}

bool isProjection(const std::string& name) {
    return name.find("_proj") != std::string::npos;
}

// Same type, shape, blocks, weight bytes and scales, bit for bit.
bool sameBits(const Matrix& a, const Matrix& b) {
    if (a.type != b.type || a.rows != b.rows || a.cols != b.cols || a.blockRows != b.blockRows ||
        a.blockCols != b.blockCols || a.blockRowOffset != b.blockRowOffset)
        return false;
    if (std::memcmp(a.data, b.data, a.bytes()) != 0)
        return false;
    return a.type != WeightType::FP8E4M3 || std::memcmp(a.scales, b.scales, a.scaleBytes()) == 0;
}

bool sameModelBits(const Model& a, const Model& b) {
    std::vector<const Matrix*> left, right;
    forEachNamedMatrix(a, [&](const std::string&, const Matrix& m) { left.push_back(&m); });
    forEachNamedMatrix(b, [&](const std::string&, const Matrix& m) { right.push_back(&m); });
    if (left.size() != right.size())
        return false;
    for (std::size_t i = 0; i < left.size(); ++i)
        if (!sameBits(*left[i], *right[i]))
            return false;
    for (std::size_t l = 0; l < a.weights.layers.size(); ++l)
        if (a.weights.layers[l].routerBias != b.weights.layers[l].routerBias ||
            a.weights.layers[l].mla.kvANorm != b.weights.layers[l].mla.kvANorm ||
            a.weights.layers[l].inputNorm != b.weights.layers[l].inputNorm)
            return false;
    return a.weights.finalNorm == b.weights.finalNorm;
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

nlohmann::json readJson(const std::filesystem::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

void writeJson(const std::filesystem::path& path, const nlohmann::json& value) {
    std::ofstream out(path);
    out << value.dump(2);
}

const std::vector<int32_t> kPrompt = {3, 71, 9, 40, 2, 95};

// Synthesis: the projections FP8 with the config's blocks, the rest BF16, the config saying so.
void synthesisIsFp8WhereV3IsFp8() {
    const Model model = synthesizeModel(tinyFp8(), WeightType::FP8E4M3, 7);
    CHECK(model.weights.type == WeightType::FP8E4M3);
    CHECK(model.config.quantization.fp8() && model.config.quantization.format == "e4m3");
    CHECK(model.config.quantization.blockRows == 128 && model.config.quantization.blockCols == 128);
    int fp8 = 0;
    forEachNamedMatrix(model, [&](const std::string& name, const Matrix& m) {
        if (isProjection(name)) {
            ++fp8;
            if (m.type != WeightType::FP8E4M3 || m.scales == nullptr || m.blockRows != 128 ||
                m.blockCols != 128 || m.blockRowOffset != 0)
                check::fail(__FILE__, __LINE__, name + " is not FP8 with 128 x 128 blocks");
        } else if (m.type != WeightType::BF16) {
            check::fail(__FILE__, __LINE__, name + " is not BF16");
        }
    });
    CHECK(fp8 == 5 * 3 + 3 + (8 + 1) * 3 * 2); // attention, the dense MLP, the experts
    const LayerWeights& moe = model.weights.layers[1];
    CHECK(moe.mla.qA.rows == 136 && moe.mla.qA.cols == 160);
    CHECK(moe.mla.qA.scaleRowCount() == 2 && moe.mla.qA.scaleCols() == 2);
    CHECK(moe.mla.qA.scaleBytes() == 16 && moe.mla.kvB.scaleBytes() == 4);
    // Each block has its own scale (a wrong block index would show).
    CHECK(moe.mla.qA.scaleAt(0, 0) != moe.mla.qA.scaleAt(0, 128));
    CHECK(moe.mla.qA.scaleAt(0, 0) != moe.mla.qA.scaleAt(128, 0));
    CHECK(moe.mla.qA.scaleAt(127, 127) == moe.mla.qA.scaleAt(0, 0));
    // No NaN byte; the FP8 values are uniform in [-448, 448] (mean 0, mean square 448^2 / 3) and
    // each scale is sqrt(3 / cols) / 448 x (0.75 .. 1.25): the weights have the BF16 synthesis'
    // distribution, uniform with variance 1 / cols, give or take a block's scale.
    for (const Matrix* m :
         {&moe.mla.qA, &moe.experts[3].down, &model.weights.layers[0].denseMlp.up}) {
        double sum = 0.0, squares = 0.0;
        for (int64_t r = 0; r < m->rows; ++r)
            for (int64_t c = 0; c < m->cols; ++c) {
                const uint8_t bits = static_cast<const uint8_t*>(m->data)[r * m->cols + c];
                CHECK((bits & 0x7f) != 0x7f);
                const double value = fp8E4M3ToFloat(bits);
                sum += value;
                squares += value * value;
            }
        const double n = static_cast<double>(m->rows * m->cols);
        CHECK_NEAR(squares / n / (448.0 * 448.0 / 3.0), 1.0, 0.03);
        CHECK(std::fabs(sum / n) < 0.03 * 448.0);
        const double bound = std::sqrt(3.0 / static_cast<double>(m->cols)) / 448.0;
        for (int64_t i = 0; i < m->scaleRowCount() * m->scaleCols(); ++i)
            CHECK(m->scales[i] >= 0.75 * bound * (1 - 1e-6) && m->scales[i] < 1.25 * bound);
    }
    // The embedding, the LM head, the routers and the vectors are those of the BF16 synthesis.
    const Model bf16 = synthesizeModel(tinyFp8(), WeightType::BF16, 7);
    CHECK(!bf16.config.quantization.fp8() && bf16.weights.type == WeightType::BF16);
    CHECK(sameBits(model.weights.embed, bf16.weights.embed));
    CHECK(sameBits(model.weights.lmHead, bf16.weights.lmHead));
    CHECK(sameBits(model.weights.layers[2].router, bf16.weights.layers[2].router));
    CHECK(model.weights.layers[2].routerBias == bf16.weights.layers[2].routerBias);
    CHECK(model.weights.layers[1].mla.qANorm == bf16.weights.layers[1].mla.qANorm);
    // Activations of order one through the layers.
    const auto logits = referenceForward(model, kPrompt);
    double largest = 0.0;
    for (const auto& row : logits)
        for (const float value : row) {
            CHECK(std::isfinite(value));
            largest = std::max(largest, std::fabs(static_cast<double>(value)));
        }
    CHECK(largest > 0.1 && largest < 100.0);
    // A config without quantization_config gets 128 x 128, one with its own blocks keeps them.
    ModelConfig plain = tinyFp8();
    plain.quantization = {};
    const Model defaulted = synthesizeModel(plain, WeightType::FP8E4M3, 7);
    CHECK(defaulted.config.quantization.blockRows == 128 &&
          defaulted.weights.layers[0].o.blockCols == 128);
    CHECK(sameModelBits(defaulted, model));
    const Model small = synthesizeModel(tinyFp8(16, 8), WeightType::FP8E4M3, 7);
    CHECK(small.weights.layers[1].mla.qA.blockRows == 16 &&
          small.weights.layers[1].mla.qA.scaleCols() == 20);
}

// Same seed, same bits, whatever the thread count; another seed, other bits.
void synthesisIsDeterministic() {
    ThreadPool three(3), two(2);
    const Model a = synthesizeModel(tinyFp8(), WeightType::FP8E4M3, 5);
    const Model b = synthesizeModel(tinyFp8(), WeightType::FP8E4M3, 5, &three);
    const Model c = synthesizeModel(tinyFp8(), WeightType::FP8E4M3, 5, &two);
    const Model d = synthesizeModel(tinyFp8(), WeightType::FP8E4M3, 6, &two);
    CHECK(sameModelBits(a, b) && sameModelBits(a, c));
    CHECK(!sameBits(a.weights.layers[0].denseMlp.gate, d.weights.layers[0].denseMlp.gate));
    CHECK(a.weights.layers[0].denseMlp.gate.rows * a.weights.layers[0].denseMlp.gate.cols >
          65536); // more than one chunk
}

// Saved as DeepSeek-V3 ships (F8_E4M3 + F32 weight_scale_inv, quantization_config), loaded back
// bit for bit as mapped FP8 matrices, with the same logits.
void savesAndLoadsTheRealFormat() {
    for (const auto& blocks : {std::pair<int64_t, int64_t>{128, 128}, {16, 8}}) {
        const Model original =
            synthesizeModel(tinyFp8(blocks.first, blocks.second), WeightType::FP8E4M3, 3);
        const auto expected = referenceForward(original, kPrompt);
        for (const int shards : {1, 3}) {
            check::TempDir dir;
            saveCheckpoint(original, dir.path, {ExpertLayout::Classic, shards, false});
            const nlohmann::json config = readJson(dir.path / "config.json");
            CHECK(config["quantization_config"]["quant_method"] == "fp8");
            CHECK(config["quantization_config"]["fmt"] == "e4m3");
            CHECK(config["quantization_config"]["weight_block_size"] ==
                  nlohmann::json::array({blocks.first, blocks.second}));
            const Checkpoint checkpoint(dir.path);
            forEachNamedMatrix(original, [&](const std::string& name, const Matrix& m) {
                const TensorView view = checkpoint.find(name);
                const TensorView scale = checkpoint.find(name + "_scale_inv");
                if (view.info == nullptr) {
                    check::fail(__FILE__, __LINE__, "missing " + name);
                    return;
                }
                if (isProjection(name)) {
                    const std::vector<int64_t> grid = {(m.rows + blocks.first - 1) / blocks.first,
                                                       (m.cols + blocks.second - 1) /
                                                           blocks.second};
                    if (view.info->dtype != DType::F8_E4M3 || scale.info == nullptr ||
                        scale.info->dtype != DType::F32 || scale.info->shape != grid)
                        check::fail(__FILE__, __LINE__, name + " is not F8_E4M3 + F32 scales");
                } else if (view.info->dtype != DType::BF16 || scale.info != nullptr) {
                    check::fail(__FILE__, __LINE__, name + " is not plain BF16");
                }
            });
            CHECK(checkpoint.find("model.layers.1.mlp.gate.e_score_correction_bias").info->dtype ==
                  DType::F32);

            const Model loaded = loadCheckpoint(dir.path);
            CHECK(loaded.config.quantization.fp8() &&
                  loaded.config.quantization.blockRows == blocks.first &&
                  loaded.config.quantization.blockCols == blocks.second);
            CHECK(loaded.weights.type == WeightType::FP8E4M3);
            CHECK(sameModelBits(original, loaded));
            CHECK(referenceForward(loaded, kPrompt) == expected);
            // Mapped, not copied: no owned buffer at all (FP8 is byte aligned; the F32 scales
            // are aligned here), and the matrices point into the checkpoint's map.
            CHECK(loaded.weights.storage.size() == 1);
            const auto mapped = std::static_pointer_cast<Checkpoint>(loaded.weights.storage[0]);
            const std::string qa = "model.layers.1.self_attn.q_a_proj.weight";
            const Matrix& m = loaded.weights.layers[1].mla.qA;
            CHECK(m.type == WeightType::FP8E4M3 && m.data == mapped->find(qa).data);
            CHECK(static_cast<const void*>(m.scales) ==
                  static_cast<const void*>(mapped->find(qa + "_scale_inv").data));
            CHECK(totalWeightBytes(loaded.weights) == totalWeightBytes(original.weights));
            // Saved again, the same checkpoint.
            check::TempDir again;
            saveCheckpoint(loaded, again.path, {ExpertLayout::Classic, shards, false});
            CHECK(sameModelBits(loadCheckpoint(again.path), original));
        }
    }
    // A truncated load keeps FP8.
    check::TempDir dir;
    const Model original = synthesizeModel(tinyFp8(), WeightType::FP8E4M3, 3);
    saveCheckpoint(original, dir.path);
    const Model cut = loadCheckpoint(dir.path, 2);
    CHECK(cut.weights.layers.size() == 2 && cut.weights.type == WeightType::FP8E4M3);
    // BF16 weights are written without a quantization_config, FP8 written as F16 too.
    const Model bf16 = synthesizeModel(tinyFp8(), WeightType::BF16, 3);
    check::TempDir plain, wide;
    saveCheckpoint(bf16, plain.path);
    CHECK(!readJson(plain.path / "config.json").contains("quantization_config"));
    saveCheckpoint(original, wide.path, {ExpertLayout::Classic, 1, true});
    CHECK(!readJson(wide.path / "config.json").contains("quantization_config"));
    const Model widened = loadCheckpoint(wide.path);
    CHECK(widened.weights.type == WeightType::F32 &&
          widened.weights.layers[1].experts[0].up.type == WeightType::F32);
    CHECK_THROWS_WITH(saveCheckpoint(original, wide.path, {ExpertLayout::FusedOutMajor, 1, false}),
                      "FP8 models are written in the classic layout only");
}

// A checkpoint may store its scales as BF16 (some exports do): widened to F32, owned.
void bf16ScalesWiden() {
    const Model original = synthesizeModel(tinyFp8(), WeightType::FP8E4M3, 9);
    check::TempDir dir;
    saveCheckpoint(original, dir.path);
    const std::string name = "model.layers.2.mlp.experts.5.gate_proj.weight_scale_inv";
    std::vector<float> rounded;
    rewrite(dir.path, [&](auto& tensors) {
        for (auto& t : tensors)
            if (t.name == name) {
                std::vector<std::byte> bytes;
                for (std::size_t i = 0; i < t.bytes.size(); i += 4) {
                    float value;
                    std::memcpy(&value, t.bytes.data() + i, 4);
                    const uint16_t bits = floatToBf16(value);
                    rounded.push_back(bf16ToFloat(bits));
                    const auto* raw = reinterpret_cast<const std::byte*>(&bits);
                    bytes.insert(bytes.end(), raw, raw + 2);
                }
                t.dtype = DType::BF16;
                t.bytes = bytes;
            }
    });
    const Model loaded = loadCheckpoint(dir.path);
    const Matrix& m = loaded.weights.layers[2].experts[5].gate;
    CHECK(m.type == WeightType::FP8E4M3 && rounded.size() == 4);
    CHECK(std::memcmp(m.scales, rounded.data(), rounded.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(m.data, original.weights.layers[2].experts[5].gate.data, m.bytes()) == 0);
    CHECK(loaded.weights.storage.size() == 2); // the map and the arena holding the widened scales
}

// transformers' fused experts in FP8: gate_up_proj [E, 2I, H] and down_proj [E, H, I] F8_E4M3,
// each expert's slab blocked on its own ([E, ceil(a/br), ceil(b/bc)] scales). Built here from a
// classic checkpoint whose block rows divide I (8 | 136), so that the gate and up scales stack.
void fusedFp8ExpertsLoad() {
    const Model original = synthesizeModel(tinyFp8(8, 16), WeightType::FP8E4M3, 12);
    check::TempDir dir;
    saveCheckpoint(original, dir.path);
    rewrite(dir.path, [&](std::vector<TensorToWrite>& tensors) {
        std::map<std::string, std::vector<std::byte>> byName;
        for (auto& t : tensors)
            byName[t.name] = t.bytes;
        const int64_t experts = 8, inter = 136, hidden = 160;
        for (const int layer : {1, 2}) {
            const std::string m = "model.layers." + std::to_string(layer) + ".mlp.experts.";
            TensorToWrite gateUp{
                m + "gate_up_proj", DType::F8_E4M3, {experts, 2 * inter, hidden}, {}};
            TensorToWrite gateUpScales{
                m + "gate_up_proj_scale_inv", DType::F32, {experts, 2 * inter / 8, 10}, {}};
            TensorToWrite down{m + "down_proj", DType::F8_E4M3, {experts, hidden, inter}, {}};
            TensorToWrite downScales{m + "down_proj_scale_inv", DType::F32, {experts, 20, 9}, {}};
            const auto append = [&](TensorToWrite& to, const std::string& name) {
                const auto& bytes = byName.at(name);
                to.bytes.insert(to.bytes.end(), bytes.begin(), bytes.end());
            };
            for (int e = 0; e < experts; ++e) {
                const std::string ep = m + std::to_string(e) + ".";
                append(gateUp, ep + "gate_proj.weight");
                append(gateUp, ep + "up_proj.weight");
                append(gateUpScales, ep + "gate_proj.weight_scale_inv");
                append(gateUpScales, ep + "up_proj.weight_scale_inv");
                append(down, ep + "down_proj.weight");
                append(downScales, ep + "down_proj.weight_scale_inv");
            }
            std::erase_if(tensors, [&](auto& t) { return t.name.rfind(m, 0) == 0; });
            for (auto* t : {&gateUp, &gateUpScales, &down, &downScales})
                tensors.push_back(std::move(*t));
        }
    });
    const Model loaded = loadCheckpoint(dir.path);
    CHECK(loaded.weights.type == WeightType::FP8E4M3);
    CHECK(sameModelBits(original, loaded));
    CHECK(referenceForward(loaded, kPrompt) == referenceForward(original, kPrompt));
}

void badFp8CheckpointsAreClearErrors() {
    const Model original = synthesizeModel(tinyFp8(), WeightType::FP8E4M3, 2);
    const auto fresh = [&]() {
        auto dir = std::make_unique<check::TempDir>();
        saveCheckpoint(original, dir->path);
        return dir;
    };
    const std::string down = "model.layers.1.mlp.experts.3.down_proj.weight";
    {
        auto dir = fresh();
        rewrite(dir->path, [&](auto& t) {
            std::erase_if(t, [&](auto& x) { return x.name == down + "_scale_inv"; });
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "missing tensor \"" + down + "_scale_inv\" in " + dir->path.string() +
                              ": the block scales of F8_E4M3 tensor \"" + down + "\"");
    }
    {
        // [160 x 136] has scales [2, 2]; [1, 4] holds as many bytes.
        auto dir = fresh();
        rewrite(dir->path, [&](auto& t) {
            for (auto& x : t)
                if (x.name == down + "_scale_inv")
                    x.shape = {1, 4};
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "tensor \"" + down + "_scale_inv\" (the block scales of \"" + down +
                              "\") has shape [1, 4], expected [2, 2] for blocks of 128 x 128");
    }
    {
        auto dir = fresh();
        rewrite(dir->path, [&](auto& t) {
            for (auto& x : t)
                if (x.name == down + "_scale_inv")
                    x.dtype = DType::I32;
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path), "has dtype I32 (supported: F32, BF16)");
    }
    {
        // FP8 tensors with a config that does not say how they are scaled.
        auto dir = fresh();
        nlohmann::json config = readJson(dir->path / "config.json");
        config.erase("quantization_config");
        writeJson(dir->path / "config.json", config);
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "tensor \"model.layers.0.self_attn.q_a_proj.weight\" is F8_E4M3 but "
                          "config.json has no fp8 quantization_config");
        config["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e4m3"}};
        writeJson(dir->path / "config.json", config);
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "has no quantization_config weight_block_size");
        config["quantization_config"] = {
            {"quant_method", "fp8"}, {"fmt", "e5m2"}, {"weight_block_size", {128, 128}}};
        writeJson(dir->path / "config.json", config);
        CHECK_THROWS_WITH(loadCheckpoint(dir->path), "says quantization_config fmt \"e5m2\"");
    }
    {
        // E5M2 is named, not misread.
        auto dir = fresh();
        rewrite(dir->path, [&](auto& t) {
            for (auto& x : t)
                if (x.name == "model.layers.2.self_attn.kv_b_proj.weight")
                    x.dtype = DType::F8_E5M2;
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "tensor \"model.layers.2.self_attn.kv_b_proj.weight\" is F8_E5M2, which "
                          "is not supported");
    }
    {
        // Norms are never FP8.
        auto dir = fresh();
        rewrite(dir->path, [&](auto& t) {
            for (auto& x : t)
                if (x.name == "model.norm.weight") {
                    x.dtype = DType::F8_E4M3;
                    x.bytes.resize(160);
                }
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir->path),
                          "tensor \"model.norm.weight\" is F8_E4M3: only weight matrices");
    }
    {
        // An FP8 tensor in a checkpoint of another family without a quantization_config.
        const Model qwen =
            synthesizeModel(check::tinyConfig(ModelFamily::Qwen3Moe), WeightType::BF16, 2);
        check::TempDir dir;
        saveCheckpoint(qwen, dir.path);
        rewrite(dir.path, [](auto& t) {
            for (auto& x : t)
                if (x.name == "model.layers.1.self_attn.o_proj.weight") {
                    x.dtype = DType::F8_E4M3;
                    x.bytes.resize(x.bytes.size() / 2);
                }
        });
        CHECK_THROWS_WITH(loadCheckpoint(dir.path),
                          "tensor \"model.layers.1.self_attn.o_proj.weight\" is F8_E4M3 but "
                          "config.json has no fp8 quantization_config");
    }
}

// What a step reads, as the cost model counts it from weightBytesPerParameter: FP8 projections at
// one byte plus their scales, the rest at BF16's two.
void costCountsFp8Bytes() {
    const Model model = synthesizeModel(tinyFp8(), WeightType::FP8E4M3, 4);
    const ModelConfig& config = model.config;
    const ModelWeights& w = model.weights;
    std::size_t projectionBytes = 0, otherBytes = 0;
    int64_t projectionParameters = 0, routerBias = 0;
    forEachNamedMatrix(model, [&](const std::string& name, const Matrix& m) {
        if (isProjection(name)) {
            projectionBytes += m.bytes() + m.scaleBytes();
            projectionParameters += m.rows * m.cols;
        } else {
            otherBytes += m.bytes();
        }
    });
    for (const auto& layer : w.layers)
        routerBias += static_cast<int64_t>(layer.routerBias.size());
    CHECK(totalWeightBytes(w) == projectionBytes + otherBytes);
    CHECK(w.layers[1].experts[0].bytes() ==
          3 * 136 * 160 + 2 * 2 * 4 + 2 * 2 * 4 + 2 * 2 * 4); // weights + scales of each
    CHECK(static_cast<double>(projectionBytes) <
          1.01 * static_cast<double>(projectionParameters)); // ~1 byte a weight
    const WeightBytes bytes = weightBytesPerParameter(w);
    CHECK_NEAR(bytes.projection,
               static_cast<double>(projectionBytes) / static_cast<double>(projectionParameters),
               1e-12);
    CHECK(bytes.projection > 1.0 && bytes.other == 2.0);
    // A step reading every expert reads every projection once, the LM head, the routers (their
    // correction bias counted at the others' size) and one embedding row.
    StepShape shape;
    shape.contexts = {1};
    shape.logitRows = 1;
    for (int64_t l = 0; l < config.numLayers; ++l)
        shape.expertsRead.push_back(config.isMoeLayer(l) ? static_cast<double>(config.numExperts)
                                                         : 0.0);
    const StepCost cost = stepCost(config, shape, bytes, 4.0);
    const double expected =
        static_cast<double>(projectionBytes + otherBytes - w.embed.bytes() + w.embed.rowBytes()) +
        2.0 * static_cast<double>(routerBias);
    CHECK_NEAR(cost.weightBytes / expected, 1.0, 1e-12);
    // The same model in BF16 reads about twice the projection bytes.
    const Model bf16 = synthesizeModel(tinyFp8(), WeightType::BF16, 4);
    const WeightBytes bf16Bytes = weightBytesPerParameter(bf16.weights);
    CHECK(bf16Bytes.projection == 2.0 && bf16Bytes.other == 2.0);
    CHECK(stepCost(config, shape, bf16Bytes, 4.0).weightBytes > 1.8 * cost.weightBytes);
    CHECK(parameterCount(w) == parameterCount(bf16.weights));
    CHECK(parameterCount(w) == static_cast<int64_t>(totalParameters(config)));
}

// preset specs: dtype= picks the synthetic type (the preset's own by default).
void presetSpecsTakeADtype() {
    const ModelSpec plain = parseModelSpec("preset:deepseek-v3?layers=2");
    CHECK(plain.layers == 2 && !plain.dtype);
    const ModelSpec bf16 = parseModelSpec("preset:deepseek-v3?layers=2&dtype=bf16");
    CHECK(bf16.layers == 2 && bf16.dtype == WeightType::BF16);
    const ModelSpec fp8 = parseModelSpec("preset:olmoe-1b-7b?dtype=fp8&layers=1");
    CHECK(fp8.layers == 1 && fp8.dtype == WeightType::FP8E4M3);
    CHECK(parseModelSpec("preset:olmoe-1b-7b?dtype=f32").dtype == WeightType::F32);
    CHECK(parseModelSpec("preset:olmoe-1b-7b?dtype=fp8-e4m3").dtype == WeightType::FP8E4M3);
    CHECK_THROWS_WITH(parseModelSpec("preset:olmoe-1b-7b?dtype=int4"),
                      "dtype= takes bf16, f32 or fp8, got 'int4'");
    CHECK_THROWS_WITH(parseModelSpec("preset:olmoe-1b-7b?dtype=bf16&dtype=fp8"), "given twice");
    CHECK_THROWS_WITH(parseModelSpec("preset:olmoe-1b-7b?layers=1&layers=2"), "given twice");
    CHECK_THROWS_WITH(parseModelSpec("preset:olmoe-1b-7b?layers=1&depth=2"),
                      "unknown preset option 'depth=2'");
    CHECK_THROWS_WITH(parseModelSpec("preset:olmoe-1b-7b?layers=1&"), "unknown preset option ''");
    // The real V3 is FP8: its preset config says so (loadModel synthesises it as FP8).
    CHECK(presetConfig("deepseek-v3").quantization.fp8());
    CHECK(!presetConfig("deepseek-v2-lite").quantization.fp8());
}

} // namespace

int main() {
    try {
        synthesisIsFp8WhereV3IsFp8();
        synthesisIsDeterministic();
        savesAndLoadsTheRealFormat();
        bf16ScalesWiden();
        fusedFp8ExpertsLoad();
        badFp8CheckpointsAreClearErrors();
        costCountsFp8Bytes();
        presetSpecsTakeADtype();
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_fp8_test");
}
