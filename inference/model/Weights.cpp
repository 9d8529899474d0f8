#include "inference/model/Weights.h"

#include "inference/base/LargeBuffer.h"
#include "inference/base/ThreadPool.h"
#include "inference/model/Presets.h"
#include "inference/model/Safetensors.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

namespace crossroads::inference {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string shapeText(const std::vector<int64_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

// Owned weight buffers are cut from huge-page arenas (LargeBuffer.h: streaming reads from 2 MiB
// pages are much faster), packed so that, say, a 3 MiB expert matrix does not round up to a
// 4 MiB buffer of its own. The arenas live in the weights' storage.
class Arena {
public:
    explicit Arena(ModelWeights& weights) : weights_(weights) {}

    // `bytes` of zeroed memory, 64-byte aligned, alive as long as the weights.
    std::byte* take(std::size_t bytes) {
        bytes = (bytes + 63) & ~std::size_t{63};
        if (bytes > left_) {
            const std::size_t chunk = std::max(bytes, kArenaBytes);
            auto buffer = allocateLargeBuffer(chunk);
            weights_.storage.push_back(buffer);
            next_ = buffer.get();
            left_ = chunk;
        }
        std::byte* out = next_;
        next_ += bytes;
        left_ -= bytes;
        return out;
    }

private:
    // Untouched arena space costs address space only; a smaller arena would waste more of each
    // one's end when the next matrix does not fit.
    static constexpr std::size_t kArenaBytes = std::size_t{256} << 20;
    ModelWeights& weights_;
    std::byte* next_ = nullptr;
    std::size_t left_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Loading

class Loader {
public:
    Loader(const Checkpoint& checkpoint, ModelWeights& weights)
        : checkpoint_(checkpoint), arena_(weights) {}

    bool has(const std::string& name) const { return checkpoint_.find(name).info != nullptr; }

    TensorView require(const std::string& name) const {
        const TensorView view = checkpoint_.find(name);
        if (view.info == nullptr)
            throw EngineError("missing tensor \"" + name + "\" in " +
                              checkpoint_.folder().string());
        return view;
    }

    void expectShape(const TensorView& view, const std::vector<int64_t>& shape) const {
        if (view.info->shape != shape)
            throw EngineError("tensor \"" + view.info->name + "\" has shape " +
                              shapeText(view.info->shape) + ", expected " + shapeText(shape));
    }

    // F32 and BF16 stay as they are (a view into the map when aligned); F16 widens to F32.
    Matrix materialise(const TensorView& view, int64_t rows, int64_t cols) {
        const std::size_t count = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
        const DType dtype = view.info->dtype;
        const auto address = reinterpret_cast<std::uintptr_t>(view.data);
        if (dtype == DType::F32 || dtype == DType::BF16) {
            const WeightType type = dtype == DType::F32 ? WeightType::F32 : WeightType::BF16;
            if (address % weightTypeBytes(type) == 0)
                return Matrix{type, rows, cols, view.data};
            // A header length that is not a multiple of the element size misaligns the data.
            std::byte* copy = arena_.take(count * weightTypeBytes(type));
            std::memcpy(copy, view.data, count * weightTypeBytes(type));
            return Matrix{type, rows, cols, copy};
        }
        if (dtype == DType::F16) {
            auto* wide = reinterpret_cast<float*>(arena_.take(count * sizeof(float)));
            for (std::size_t i = 0; i < count; ++i) {
                uint16_t bits;
                std::memcpy(&bits, view.data + 2 * i, 2);
                wide[i] = f16ToFloat(bits);
            }
            return Matrix{WeightType::F32, rows, cols, wide};
        }
        if (dtype == DType::F8_E4M3 || dtype == DType::F8_E5M2)
            throw EngineError("FP8 weights are not loaded yet: tensor \"" + view.info->name +
                              "\" is " + std::string(dtypeName(dtype)) +
                              " (dequantise the checkpoint to BF16 first)");
        throw EngineError("tensor \"" + view.info->name + "\" has unsupported dtype " +
                          std::string(dtypeName(dtype)) + " (supported: F32, F16, BF16)");
    }

    Matrix matrix(const std::string& name, int64_t rows, int64_t cols) {
        const TensorView view = require(name);
        expectShape(view, {rows, cols});
        return materialise(view, rows, cols);
    }

    std::vector<float> vector(const std::string& name, int64_t size) {
        const TensorView view = require(name);
        expectShape(view, {size});
        const Matrix m = materialise(view, 1, size);
        std::vector<float> out(static_cast<std::size_t>(size));
        for (int64_t i = 0; i < size; ++i)
            out[static_cast<std::size_t>(i)] = m.at(0, i);
        return out;
    }

    MlpWeights mlp(const std::string& prefix, const char* gate, const char* up, const char* down,
                   int64_t hidden, int64_t intermediate) {
        MlpWeights out;
        out.gate = matrix(prefix + gate + ".weight", intermediate, hidden);
        out.up = matrix(prefix + up + ".weight", intermediate, hidden);
        out.down = matrix(prefix + down + ".weight", hidden, intermediate);
        return out;
    }

    // A [E, a, b] tensor whose per-expert slab must become [rows x cols] row-major: either it
    // already is (a == rows) or it is the transpose (a == cols). `transposed` picks.
    std::vector<Matrix> expertSlabs(const TensorView& view, int64_t experts, int64_t rows,
                                    int64_t cols, bool transposed) {
        const Matrix whole = materialise(view, experts * rows, cols);
        std::vector<Matrix> slabs;
        if (!transposed) {
            for (int64_t e = 0; e < experts; ++e)
                slabs.push_back(whole.rowsView(e * rows, rows));
            return slabs;
        }
        // The stored slab is [cols x rows]: transpose each into an owned buffer.
        const std::size_t elementBytes = weightTypeBytes(whole.type);
        const std::size_t slabElements = static_cast<std::size_t>(rows * cols);
        std::byte* buffer =
            arena_.take(slabElements * static_cast<std::size_t>(experts) * elementBytes);
        const auto* source = static_cast<const std::byte*>(whole.data);
        for (int64_t e = 0; e < experts; ++e) {
            std::byte* target = buffer + static_cast<std::size_t>(e) * slabElements * elementBytes;
            const std::byte* slab =
                source + static_cast<std::size_t>(e) * slabElements * elementBytes;
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t c = 0; c < cols; ++c)
                    std::memcpy(target + static_cast<std::size_t>(r * cols + c) * elementBytes,
                                slab + static_cast<std::size_t>(c * rows + r) * elementBytes,
                                elementBytes);
            slabs.push_back(Matrix{whole.type, rows, cols, target});
        }
        return slabs;
    }

private:
    const Checkpoint& checkpoint_;
    Arena arena_;
};

// Which orientation a fused tensor [E, a, b] has for a logical [rows x cols] per expert:
// 0 = out-major (a == rows), 1 = in-major (a == cols), 2 = both fit (square), -1 = neither.
int fusedOrientation(const std::vector<int64_t>& shape, int64_t experts, int64_t rows,
                     int64_t cols) {
    if (shape.size() != 3 || shape[0] != experts)
        return -1;
    const bool outMajor = shape[1] == rows && shape[2] == cols;
    const bool inMajor = shape[1] == cols && shape[2] == rows;
    return outMajor && inMajor ? 2 : outMajor ? 0 : inMajor ? 1 : -1;
}

void loadFusedExperts(Loader& loader, const std::string& gateUpName, const std::string& downName,
                      const ModelConfig& config, LayerWeights& layer) {
    const int64_t experts = config.numExperts;
    const int64_t hidden = config.hiddenSize;
    const int64_t inter = config.expertIntermediateSize;
    const TensorView gateUp = loader.require(gateUpName);
    const TensorView down = loader.require(downName);
    int gateUpOrientation = fusedOrientation(gateUp.info->shape, experts, 2 * inter, hidden);
    int downOrientation = fusedOrientation(down.info->shape, experts, hidden, inter);
    if (gateUpOrientation < 0)
        throw EngineError("tensor \"" + gateUpName + "\" has shape " +
                          shapeText(gateUp.info->shape) + ", which fits neither [" +
                          std::to_string(experts) + ", " + std::to_string(2 * inter) + ", " +
                          std::to_string(hidden) + "] nor [" + std::to_string(experts) + ", " +
                          std::to_string(hidden) + ", " + std::to_string(2 * inter) + "]");
    if (downOrientation < 0)
        throw EngineError("tensor \"" + downName + "\" has shape " + shapeText(down.info->shape) +
                          ", which fits neither [" + std::to_string(experts) + ", " +
                          std::to_string(hidden) + ", " + std::to_string(inter) + "] nor [" +
                          std::to_string(experts) + ", " + std::to_string(inter) + ", " +
                          std::to_string(hidden) + "]");
    // A square slab (hidden == 2 x intermediate, or hidden == intermediate) cannot tell its
    // orientation; the two tensors are written by the same transformers version, so the other
    // one decides. Both cannot be square at once.
    if (gateUpOrientation == 2)
        gateUpOrientation = downOrientation;
    if (downOrientation == 2)
        downOrientation = gateUpOrientation;
    const auto gateUpSlabs =
        loader.expertSlabs(gateUp, experts, 2 * inter, hidden, gateUpOrientation == 1);
    const auto downSlabs = loader.expertSlabs(down, experts, hidden, inter, downOrientation == 1);
    layer.experts.resize(static_cast<std::size_t>(experts));
    for (int64_t e = 0; e < experts; ++e) {
        auto& expert = layer.experts[static_cast<std::size_t>(e)];
        // Per expert the gate half comes first, then the up half.
        expert.gate = gateUpSlabs[static_cast<std::size_t>(e)].rowsView(0, inter);
        expert.up = gateUpSlabs[static_cast<std::size_t>(e)].rowsView(inter, inter);
        expert.down = downSlabs[static_cast<std::size_t>(e)];
    }
}

// Multimodal wrappers nest the language model one level deeper.
std::string modelPrefix(const Checkpoint& checkpoint) {
    for (const char* prefix : {"model.", "model.language_model.", "language_model.model."})
        if (checkpoint.find(std::string(prefix) + "embed_tokens.weight").info != nullptr)
            return prefix;
    throw EngineError("missing tensor \"model.embed_tokens.weight\" in " +
                      checkpoint.folder().string());
}

// ---------------------------------------------------------------------------------------------
// Synthesis

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

class Synthesiser {
public:
    Synthesiser(ModelWeights& weights, WeightType type, uint64_t seed, ThreadPool* pool)
        : weights_(weights), type_(type), seed_(seed), pool_(pool) {}

    // Uniform in [-scale, scale] + offset; chunks are seeded by (seed, tensor, chunk), so the
    // bits do not depend on the thread count.
    Matrix matrix(int64_t rows, int64_t cols, double scale, double offset = 0.0) {
        const std::size_t count = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
        std::byte* buffer = arena_.take(count * weightTypeBytes(type_));
        fill(buffer, count, scale, offset);
        return Matrix{type_, rows, cols, buffer};
    }

    Matrix linear(int64_t rows, int64_t cols) {
        // Uniform with variance 1/cols: outputs keep the inputs' scale.
        return matrix(rows, cols, std::sqrt(3.0 / static_cast<double>(cols)));
    }

    // Drawn exactly as a [1 x size] matrix would be (same bits), kept as F32.
    std::vector<float> vector(int64_t size, double scale, double offset) {
        const auto count = static_cast<std::size_t>(size);
        std::vector<std::byte> drawn(count * weightTypeBytes(type_));
        fill(drawn.data(), count, scale, offset);
        const Matrix m{type_, 1, size, drawn.data()};
        std::vector<float> out(count);
        for (int64_t i = 0; i < size; ++i)
            out[static_cast<std::size_t>(i)] = m.at(0, i);
        return out;
    }

    MlpWeights mlp(int64_t hidden, int64_t intermediate) {
        MlpWeights out;
        out.gate = linear(intermediate, hidden);
        out.up = linear(intermediate, hidden);
        out.down = linear(hidden, intermediate);
        return out;
    }

private:
    void fill(std::byte* buffer, std::size_t count, double scale, double offset) {
        const uint64_t tensorId = nextTensor_++;
        constexpr std::size_t kChunk = 1 << 16;
        const int64_t chunks = static_cast<int64_t>((count + kChunk - 1) / kChunk);
        const auto fillChunk = [&](int64_t chunk) {
            uint64_t state = splitmix64(
                seed_ ^ splitmix64(tensorId * 0x100000001b3ull + static_cast<uint64_t>(chunk)));
            const std::size_t begin = static_cast<std::size_t>(chunk) * kChunk;
            const std::size_t end = std::min(count, begin + kChunk);
            for (std::size_t i = begin; i < end; ++i) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                const double unit = static_cast<double>(state >> 11) * 0x1.0p-53 * 2.0 - 1.0;
                const float value = static_cast<float>(offset + scale * unit);
                if (type_ == WeightType::F32)
                    reinterpret_cast<float*>(buffer)[i] = value;
                else
                    reinterpret_cast<uint16_t*>(buffer)[i] = floatToBf16(value);
            }
        };
        if (pool_ != nullptr)
            pool_->parallelFor(chunks, fillChunk);
        else
            for (int64_t chunk = 0; chunk < chunks; ++chunk)
                fillChunk(chunk);
    }

    ModelWeights& weights_;
    Arena arena_{weights_};
    WeightType type_;
    uint64_t seed_;
    ThreadPool* pool_;
    uint64_t nextTensor_ = 0;
};

std::vector<int64_t> qkNormShape(const ModelConfig& config, bool isQ) {
    if (config.qkNorm == QkNorm::PerHead)
        return {config.headDim};
    return {isQ ? config.qDim() : config.kvDim()};
}

// ---------------------------------------------------------------------------------------------
// Saving

struct TensorSink {
    std::vector<TensorToWrite> tensors;
    bool asF16 = false;

    static void appendMatrix(std::vector<std::byte>& bytes, const Matrix& m, bool asF16) {
        if (!asF16) {
            const auto* data = static_cast<const std::byte*>(m.data);
            bytes.insert(bytes.end(), data, data + m.bytes());
            return;
        }
        for (int64_t r = 0; r < m.rows; ++r)
            for (int64_t c = 0; c < m.cols; ++c) {
                const uint16_t bits = floatToF16(m.at(r, c));
                const auto* raw = reinterpret_cast<const std::byte*>(&bits);
                bytes.insert(bytes.end(), raw, raw + 2);
            }
    }

    static void appendTransposed(std::vector<std::byte>& bytes, const Matrix& m, bool asF16) {
        for (int64_t c = 0; c < m.cols; ++c)
            for (int64_t r = 0; r < m.rows; ++r) {
                if (asF16) {
                    const uint16_t bits = floatToF16(m.at(r, c));
                    const auto* raw = reinterpret_cast<const std::byte*>(&bits);
                    bytes.insert(bytes.end(), raw, raw + 2);
                } else {
                    const auto* raw =
                        m.row(r) + static_cast<std::size_t>(c) * weightTypeBytes(m.type);
                    bytes.insert(bytes.end(), raw, raw + weightTypeBytes(m.type));
                }
            }
    }

    DType dtypeOf(WeightType type) const {
        return asF16 ? DType::F16 : type == WeightType::F32 ? DType::F32 : DType::BF16;
    }

    void matrix(const std::string& name, const Matrix& m) {
        TensorToWrite t{name, dtypeOf(m.type), {m.rows, m.cols}, {}};
        appendMatrix(t.bytes, m, asF16);
        tensors.push_back(std::move(t));
    }

    void vector(const std::string& name, const std::vector<float>& v) {
        TensorToWrite t{
            name, asF16 ? DType::F16 : DType::F32, {static_cast<int64_t>(v.size())}, {}};
        for (const float value : v) {
            if (asF16) {
                const uint16_t bits = floatToF16(value);
                const auto* raw = reinterpret_cast<const std::byte*>(&bits);
                t.bytes.insert(t.bytes.end(), raw, raw + 2);
            } else {
                const auto* raw = reinterpret_cast<const std::byte*>(&value);
                t.bytes.insert(t.bytes.end(), raw, raw + 4);
            }
        }
        tensors.push_back(std::move(t));
    }
};

// MLA's biases (attention_bias: q_a_proj, kv_a_proj_with_mqa, o_proj) are not carried: no
// released DeepSeek checkpoint has them.
void requireLatentSupport(const ModelConfig& config) {
    if (config.attention == AttentionKind::Latent && config.attentionBias)
        throw EngineError("DeepSeek with attention_bias true is not supported (no released "
                          "checkpoint has MLA biases)");
}

void loadLatentAttention(Loader& loader, const std::string& p, const ModelConfig& config,
                         LayerWeights& layer) {
    const LatentAttention& m = config.mla;
    const int64_t hidden = config.hiddenSize;
    const int64_t heads = config.numHeads;
    const std::string a = p + "self_attn.";
    if (m.qLoraRank == 0) {
        layer.q = loader.matrix(a + "q_proj.weight", heads * m.qHeadDim(), hidden);
    } else {
        layer.mla.qA = loader.matrix(a + "q_a_proj.weight", m.qLoraRank, hidden);
        layer.mla.qANorm = loader.vector(a + "q_a_layernorm.weight", m.qLoraRank);
        layer.mla.qB = loader.matrix(a + "q_b_proj.weight", heads * m.qHeadDim(), m.qLoraRank);
    }
    layer.mla.kvA = loader.matrix(a + "kv_a_proj_with_mqa.weight", m.cachedWidth(), hidden);
    layer.mla.kvANorm = loader.vector(a + "kv_a_layernorm.weight", m.kvLoraRank);
    layer.mla.kvB =
        loader.matrix(a + "kv_b_proj.weight", heads * (m.qkNopeHeadDim + m.vHeadDim), m.kvLoraRank);
    layer.o = loader.matrix(a + "o_proj.weight", hidden, heads * m.vHeadDim);
}

} // namespace

Model loadCheckpoint(const fs::path& folder, int64_t layers) {
    Model model;
    model.name = folder.string();
    model.config = loadModelConfig(folder / "config.json");
    requireLatentSupport(model.config);
    if (layers > 0)
        truncateLayers(model.config, layers);
    const ModelConfig& config = model.config;
    auto checkpoint = std::make_shared<Checkpoint>(folder);
    ModelWeights& weights = model.weights;
    weights.storage.push_back(checkpoint);
    Loader loader(*checkpoint, weights);
    const std::string prefix = modelPrefix(*checkpoint);
    const int64_t hidden = config.hiddenSize;

    weights.embed = loader.matrix(prefix + "embed_tokens.weight", config.vocabSize, hidden);
    weights.type = weights.embed.type;
    weights.finalNorm = loader.vector(prefix + "norm.weight", hidden);
    if (loader.has("lm_head.weight"))
        weights.lmHead = loader.matrix("lm_head.weight", config.vocabSize, hidden);
    else if (config.tieWordEmbeddings)
        weights.lmHead = weights.embed;
    else
        throw EngineError("missing tensor \"lm_head.weight\" in " + folder.string() +
                          " (and tie_word_embeddings is false)");

    for (int64_t l = 0; l < config.numLayers; ++l) {
        const std::string p = prefix + "layers." + std::to_string(l) + ".";
        LayerWeights layer;
        layer.inputNorm = loader.vector(p + "input_layernorm.weight", hidden);
        layer.postAttentionNorm = loader.vector(p + "post_attention_layernorm.weight", hidden);
        if (config.attention == AttentionKind::Latent) {
            loadLatentAttention(loader, p, config, layer);
        } else {
            layer.q = loader.matrix(p + "self_attn.q_proj.weight", config.qDim(), hidden);
            layer.k = loader.matrix(p + "self_attn.k_proj.weight", config.kvDim(), hidden);
            layer.v = loader.matrix(p + "self_attn.v_proj.weight", config.kvDim(), hidden);
            layer.o = loader.matrix(p + "self_attn.o_proj.weight", hidden, config.qDim());
        }
        if (config.attentionBias && config.attention != AttentionKind::Latent) {
            layer.qBias = loader.vector(p + "self_attn.q_proj.bias", config.qDim());
            layer.kBias = loader.vector(p + "self_attn.k_proj.bias", config.kvDim());
            layer.vBias = loader.vector(p + "self_attn.v_proj.bias", config.kvDim());
        }
        if (loader.has(p + "self_attn.o_proj.bias"))
            layer.oBias = loader.vector(p + "self_attn.o_proj.bias", hidden);
        if (config.qkNorm != QkNorm::None) {
            layer.qNorm =
                loader.vector(p + "self_attn.q_norm.weight", qkNormShape(config, true)[0]);
            layer.kNorm =
                loader.vector(p + "self_attn.k_norm.weight", qkNormShape(config, false)[0]);
        }
        layer.moe = config.isMoeLayer(l);
        if (!layer.moe) {
            layer.denseMlp = loader.mlp(p + "mlp.", "gate_proj", "up_proj", "down_proj", hidden,
                                        config.denseIntermediateSize);
        } else {
            const std::string moe = loader.has(p + "block_sparse_moe.gate.weight")
                                        ? p + "block_sparse_moe."
                                        : p + "mlp.";
            layer.router = loader.matrix(moe + "gate.weight", config.numExperts, hidden);
            if (config.hasRouterBias())
                layer.routerBias =
                    loader.vector(moe + "gate.e_score_correction_bias", config.numExperts);
            const std::string fused = moe + "experts.gate_up_proj";
            if (loader.has(fused) || loader.has(fused + ".weight")) {
                const std::string suffix = loader.has(fused) ? "" : ".weight";
                loadFusedExperts(loader, fused + suffix, moe + "experts.down_proj" + suffix, config,
                                 layer);
            } else {
                const bool mixtralNames = loader.has(moe + "experts.0.w1.weight");
                for (int64_t e = 0; e < config.numExperts; ++e) {
                    const std::string ep = moe + "experts." + std::to_string(e) + ".";
                    layer.experts.push_back(
                        mixtralNames ? loader.mlp(ep, "w1", "w3", "w2", hidden,
                                                  config.expertIntermediateSize)
                                     : loader.mlp(ep, "gate_proj", "up_proj", "down_proj", hidden,
                                                  config.expertIntermediateSize));
                }
            }
            if (config.deepseek() && config.sharedExpertIntermediateSize > 0) {
                layer.sharedExpert =
                    loader.mlp(p + "mlp.shared_experts.", "gate_proj", "up_proj", "down_proj",
                               hidden, config.sharedExpertIntermediateSize);
            } else if (config.sharedExpertIntermediateSize > 0) {
                layer.sharedExpert =
                    loader.mlp(p + "mlp.shared_expert.", "gate_proj", "up_proj", "down_proj",
                               hidden, config.sharedExpertIntermediateSize);
                layer.sharedExpertGate =
                    loader.matrix(p + "mlp.shared_expert_gate.weight", 1, hidden);
            }
        }
        weights.layers.push_back(std::move(layer));
    }
    return model;
}

Model synthesizeModel(const ModelConfig& config, WeightType type, uint64_t seed, ThreadPool* pool) {
    requireLatentSupport(config);
    Model model;
    model.name = "synthetic";
    model.config = config;
    ModelWeights& weights = model.weights;
    weights.type = type;
    Synthesiser synth(weights, type, seed, pool);
    const int64_t hidden = config.hiddenSize;
    weights.embed = synth.matrix(config.vocabSize, hidden, 1.0);
    weights.finalNorm = synth.vector(hidden, 0.1, 1.0);
    weights.lmHead =
        config.tieWordEmbeddings ? weights.embed : synth.linear(config.vocabSize, hidden);
    for (int64_t l = 0; l < config.numLayers; ++l) {
        LayerWeights layer;
        layer.inputNorm = synth.vector(hidden, 0.1, 1.0);
        layer.postAttentionNorm = synth.vector(hidden, 0.1, 1.0);
        if (config.attention == AttentionKind::Latent) {
            const LatentAttention& m = config.mla;
            const int64_t heads = config.numHeads;
            if (m.qLoraRank == 0) {
                layer.q = synth.linear(heads * m.qHeadDim(), hidden);
            } else {
                layer.mla.qA = synth.linear(m.qLoraRank, hidden);
                layer.mla.qANorm = synth.vector(m.qLoraRank, 0.1, 1.0);
                layer.mla.qB = synth.linear(heads * m.qHeadDim(), m.qLoraRank);
            }
            layer.mla.kvA = synth.linear(m.cachedWidth(), hidden);
            layer.mla.kvANorm = synth.vector(m.kvLoraRank, 0.1, 1.0);
            layer.mla.kvB = synth.linear(heads * (m.qkNopeHeadDim + m.vHeadDim), m.kvLoraRank);
            layer.o = synth.linear(hidden, heads * m.vHeadDim);
        } else {
            layer.q = synth.linear(config.qDim(), hidden);
            layer.k = synth.linear(config.kvDim(), hidden);
            layer.v = synth.linear(config.kvDim(), hidden);
            layer.o = synth.linear(hidden, config.qDim());
        }
        if (config.attentionBias && config.attention != AttentionKind::Latent) {
            layer.qBias = synth.vector(config.qDim(), 0.1, 0.0);
            layer.kBias = synth.vector(config.kvDim(), 0.1, 0.0);
            layer.vBias = synth.vector(config.kvDim(), 0.1, 0.0);
        }
        if (config.qkNorm != QkNorm::None) {
            layer.qNorm = synth.vector(qkNormShape(config, true)[0], 0.1, 1.0);
            layer.kNorm = synth.vector(qkNormShape(config, false)[0], 0.1, 1.0);
        }
        layer.moe = config.isMoeLayer(l);
        if (!layer.moe) {
            layer.denseMlp = synth.mlp(hidden, config.denseIntermediateSize);
        } else {
            layer.router = synth.linear(config.numExperts, hidden);
            // Small against the sigmoid scores' spread, as trained biases are: it moves some
            // choices, not all.
            if (config.hasRouterBias())
                layer.routerBias = synth.vector(config.numExperts, 0.05, 0.0);
            for (int64_t e = 0; e < config.numExperts; ++e)
                layer.experts.push_back(synth.mlp(hidden, config.expertIntermediateSize));
            if (config.sharedExpertIntermediateSize > 0) {
                layer.sharedExpert = synth.mlp(hidden, config.sharedExpertIntermediateSize);
                if (!config.deepseek()) // DeepSeek's shared experts are ungated
                    layer.sharedExpertGate = synth.linear(1, hidden);
            }
        }
        weights.layers.push_back(std::move(layer));
    }
    return model;
}

Model loadModel(std::string_view spec, ThreadPool* pool, ForwardPath path) {
    const ModelSpec parsed = parseModelSpec(spec);
    if (!parsed.isPreset) {
        if (path == ForwardPath::Optimised)
            requireForwardSupport(loadModelConfig(parsed.folder / "config.json"));
        return loadCheckpoint(parsed.folder);
    }
    const ModelConfig config = presetConfig(parsed.presetName, parsed.layers);
    if (path == ForwardPath::Optimised)
        requireForwardSupport(config);
    Model model = synthesizeModel(config, WeightType::BF16, 1, pool);
    model.name = std::string(spec);
    return model;
}

std::size_t totalWeightBytes(const ModelWeights& weights) {
    std::size_t bytes = weights.embed.bytes();
    if (weights.lmHead.data != weights.embed.data)
        bytes += weights.lmHead.bytes();
    for (const auto& layer : weights.layers) {
        bytes += layer.q.bytes() + layer.k.bytes() + layer.v.bytes() + layer.o.bytes();
        bytes += layer.mla.qA.bytes() + layer.mla.qB.bytes() + layer.mla.kvA.bytes() +
                 layer.mla.kvB.bytes();
        bytes += layer.router.bytes() + layer.sharedExpert.bytes() +
                 layer.sharedExpertGate.bytes() + layer.denseMlp.bytes();
        for (const auto& expert : layer.experts)
            bytes += expert.bytes();
    }
    return bytes;
}

int64_t parameterCount(const ModelWeights& weights) {
    const auto m = [](const Matrix& x) { return x.empty() ? int64_t{0} : x.rows * x.cols; };
    const auto v = [](const std::vector<float>& x) { return static_cast<int64_t>(x.size()); };
    const auto mlp = [&](const MlpWeights& x) { return m(x.gate) + m(x.up) + m(x.down); };
    int64_t count = m(weights.embed) + v(weights.finalNorm);
    if (weights.lmHead.data != weights.embed.data)
        count += m(weights.lmHead);
    for (const auto& layer : weights.layers) {
        count += v(layer.inputNorm) + v(layer.postAttentionNorm);
        count += m(layer.q) + m(layer.k) + m(layer.v) + m(layer.o);
        count += v(layer.qBias) + v(layer.kBias) + v(layer.vBias) + v(layer.oBias);
        count += v(layer.qNorm) + v(layer.kNorm);
        count += m(layer.mla.qA) + m(layer.mla.qB) + m(layer.mla.kvA) + m(layer.mla.kvB);
        count += v(layer.mla.qANorm) + v(layer.mla.kvANorm);
        count += m(layer.router) + v(layer.routerBias) + m(layer.sharedExpertGate);
        count += mlp(layer.sharedExpert) + mlp(layer.denseMlp);
        for (const auto& expert : layer.experts)
            count += mlp(expert);
    }
    return count;
}

void saveCheckpoint(const Model& model, const fs::path& folder, const SaveOptions& options) {
    const ModelConfig& config = model.config;
    const ModelWeights& weights = model.weights;
    fs::create_directories(folder);
    {
        ModelConfig written = config;
        if (written.truncated()) // a saved truncated model is a model of its own depth
            written.truncatedFromLayers = 0;
        std::ofstream out(folder / "config.json");
        out << written.toJson().dump(2);
    }
    TensorSink sink;
    sink.asF16 = options.asF16;
    sink.matrix("model.embed_tokens.weight", weights.embed);
    sink.vector("model.norm.weight", weights.finalNorm);
    if (!config.tieWordEmbeddings)
        sink.matrix("lm_head.weight", weights.lmHead);
    const bool mixtral = config.family == ModelFamily::Mixtral;
    for (std::size_t l = 0; l < weights.layers.size(); ++l) {
        const LayerWeights& layer = weights.layers[l];
        const std::string p = "model.layers." + std::to_string(l) + ".";
        sink.vector(p + "input_layernorm.weight", layer.inputNorm);
        sink.vector(p + "post_attention_layernorm.weight", layer.postAttentionNorm);
        if (config.attention == AttentionKind::Latent) {
            const std::string a = p + "self_attn.";
            if (layer.mla.qA.empty()) {
                sink.matrix(a + "q_proj.weight", layer.q);
            } else {
                sink.matrix(a + "q_a_proj.weight", layer.mla.qA);
                sink.vector(a + "q_a_layernorm.weight", layer.mla.qANorm);
                sink.matrix(a + "q_b_proj.weight", layer.mla.qB);
            }
            sink.matrix(a + "kv_a_proj_with_mqa.weight", layer.mla.kvA);
            sink.vector(a + "kv_a_layernorm.weight", layer.mla.kvANorm);
            sink.matrix(a + "kv_b_proj.weight", layer.mla.kvB);
            sink.matrix(a + "o_proj.weight", layer.o);
        } else {
            sink.matrix(p + "self_attn.q_proj.weight", layer.q);
            sink.matrix(p + "self_attn.k_proj.weight", layer.k);
            sink.matrix(p + "self_attn.v_proj.weight", layer.v);
            sink.matrix(p + "self_attn.o_proj.weight", layer.o);
        }
        if (!layer.qBias.empty()) {
            sink.vector(p + "self_attn.q_proj.bias", layer.qBias);
            sink.vector(p + "self_attn.k_proj.bias", layer.kBias);
            sink.vector(p + "self_attn.v_proj.bias", layer.vBias);
        }
        if (!layer.oBias.empty())
            sink.vector(p + "self_attn.o_proj.bias", layer.oBias);
        if (!layer.qNorm.empty()) {
            sink.vector(p + "self_attn.q_norm.weight", layer.qNorm);
            sink.vector(p + "self_attn.k_norm.weight", layer.kNorm);
        }
        if (!layer.moe) {
            sink.matrix(p + "mlp.gate_proj.weight", layer.denseMlp.gate);
            sink.matrix(p + "mlp.up_proj.weight", layer.denseMlp.up);
            sink.matrix(p + "mlp.down_proj.weight", layer.denseMlp.down);
            continue;
        }
        if (options.layout == ExpertLayout::Classic) {
            // Classic Mixtral checkpoints name the block block_sparse_moe and the projections w1
            // (gate), w3 (up), w2 (down).
            const std::string moe = p + (mixtral ? "block_sparse_moe." : "mlp.");
            sink.matrix(moe + "gate.weight", layer.router);
            if (!layer.routerBias.empty())
                sink.vector(moe + "gate.e_score_correction_bias", layer.routerBias);
            for (std::size_t e = 0; e < layer.experts.size(); ++e) {
                const std::string ep = moe + "experts." + std::to_string(e) + ".";
                sink.matrix(ep + (mixtral ? "w1" : "gate_proj") + ".weight", layer.experts[e].gate);
                sink.matrix(ep + (mixtral ? "w3" : "up_proj") + ".weight", layer.experts[e].up);
                sink.matrix(ep + (mixtral ? "w2" : "down_proj") + ".weight", layer.experts[e].down);
            }
        } else {
            sink.matrix(p + "mlp.gate.weight", layer.router);
            if (!layer.routerBias.empty())
                sink.vector(p + "mlp.gate.e_score_correction_bias", layer.routerBias);
            const bool inMajor = options.layout == ExpertLayout::FusedInMajor;
            const int64_t experts = static_cast<int64_t>(layer.experts.size());
            const int64_t inter = config.expertIntermediateSize;
            const int64_t hidden = config.hiddenSize;
            TensorToWrite gateUp{p + "mlp.experts.gate_up_proj",
                                 sink.dtypeOf(weights.type),
                                 inMajor ? std::vector<int64_t>{experts, hidden, 2 * inter}
                                         : std::vector<int64_t>{experts, 2 * inter, hidden},
                                 {}};
            TensorToWrite down{p + "mlp.experts.down_proj",
                               sink.dtypeOf(weights.type),
                               inMajor ? std::vector<int64_t>{experts, inter, hidden}
                                       : std::vector<int64_t>{experts, hidden, inter},
                               {}};
            for (const auto& expert : layer.experts) {
                if (inMajor) {
                    // [H, 2I]: row h holds the gate columns then the up columns.
                    for (int64_t h = 0; h < hidden; ++h) {
                        for (const Matrix* half : {&expert.gate, &expert.up})
                            for (int64_t i = 0; i < inter; ++i) {
                                const Matrix column{half->type, 1, 1,
                                                    half->row(i) + static_cast<std::size_t>(h) *
                                                                       weightTypeBytes(half->type)};
                                TensorSink::appendMatrix(gateUp.bytes, column, options.asF16);
                            }
                    }
                    TensorSink::appendTransposed(down.bytes, expert.down, options.asF16);
                } else {
                    TensorSink::appendMatrix(gateUp.bytes, expert.gate, options.asF16);
                    TensorSink::appendMatrix(gateUp.bytes, expert.up, options.asF16);
                    TensorSink::appendMatrix(down.bytes, expert.down, options.asF16);
                }
            }
            sink.tensors.push_back(std::move(gateUp));
            sink.tensors.push_back(std::move(down));
        }
        if (config.deepseek() && !layer.sharedExpert.gate.empty()) {
            sink.matrix(p + "mlp.shared_experts.gate_proj.weight", layer.sharedExpert.gate);
            sink.matrix(p + "mlp.shared_experts.up_proj.weight", layer.sharedExpert.up);
            sink.matrix(p + "mlp.shared_experts.down_proj.weight", layer.sharedExpert.down);
        } else if (!layer.sharedExpert.gate.empty()) {
            sink.matrix(p + "mlp.shared_expert.gate_proj.weight", layer.sharedExpert.gate);
            sink.matrix(p + "mlp.shared_expert.up_proj.weight", layer.sharedExpert.up);
            sink.matrix(p + "mlp.shared_expert.down_proj.weight", layer.sharedExpert.down);
            sink.matrix(p + "mlp.shared_expert_gate.weight", layer.sharedExpertGate);
        }
    }

    const int shards = std::max(1, options.shards);
    if (shards == 1) {
        writeSafetensors(folder / "model.safetensors", sink.tensors, {{"format", "pt"}});
        return;
    }
    json weightMap = json::object();
    std::size_t totalBytes = 0;
    const std::size_t perShard =
        (sink.tensors.size() + shards - 1) / static_cast<std::size_t>(shards);
    for (int shard = 0; shard < shards; ++shard) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", shard + 1, shards);
        const std::size_t begin = static_cast<std::size_t>(shard) * perShard;
        const std::size_t end = std::min(sink.tensors.size(), begin + perShard);
        std::vector<TensorToWrite> part;
        for (std::size_t i = begin; i < end; ++i) {
            weightMap[sink.tensors[i].name] = name;
            totalBytes += sink.tensors[i].bytes.size();
            part.push_back(std::move(sink.tensors[i]));
        }
        writeSafetensors(folder / name, part, {{"format", "pt"}});
    }
    std::ofstream index(folder / "model.safetensors.index.json");
    index << json{{"metadata", {{"total_size", totalBytes}}}, {"weight_map", weightMap}}.dump(2);
}

} // namespace crossroads::inference
