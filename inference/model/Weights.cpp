#include "inference/model/Weights.h"

#include "inference/base/LargeBuffer.h"
#include "inference/base/ThreadPool.h"
#include "inference/model/Presets.h"
#include "inference/model/Safetensors.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <functional>
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

int64_t ceilDiv(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

// The tensor holding an FP8 tensor's block scales (DeepSeek-V3: "x.weight" ->
// "x.weight_scale_inv"; transformers' fused experts: "gate_up_proj" -> "gate_up_proj_scale_inv").
std::string scaleTensorName(const std::string& weightName) {
    return weightName + "_scale_inv";
}

class Loader {
public:
    Loader(const Checkpoint& checkpoint, ModelWeights& weights, const ModelConfig& config)
        : checkpoint_(checkpoint), arena_(weights), quantization_(config.quantization) {}

    // Whether an FP8 matrix was loaded.
    bool sawFp8() const { return sawFp8_; }

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
        if (dtype == DType::F8_E4M3) {
            const std::vector<int64_t> grid = fp8Grid(view, rows, cols);
            Matrix m{WeightType::FP8E4M3, rows, cols, view.data};
            m.blockRows = quantization_.blockRows;
            m.blockCols = quantization_.blockCols;
            m.scales = scales(view, grid);
            sawFp8_ = true;
            return m;
        }
        throw unsupported(view);
    }

    EngineError unsupported(const TensorView& view) const {
        const DType dtype = view.info->dtype;
        if (dtype == DType::F8_E5M2)
            return EngineError("tensor \"" + view.info->name +
                               "\" is F8_E5M2, which is not supported (FP8 weights load as "
                               "F8_E4M3 with block scales, as DeepSeek-V3 ships them)");
        return EngineError("tensor \"" + view.info->name + "\" has unsupported dtype " +
                           std::string(dtypeName(dtype)) +
                           " (supported: F32, F16, BF16; F8_E4M3 for weight matrices)");
    }

    // The config must say how an F8_E4M3 tensor is scaled: fp8 e4m3 with a weight_block_size.
    void requireFp8Config(const TensorView& view) const {
        const std::string what = "tensor \"" + view.info->name + "\" is F8_E4M3 but config.json ";
        if (!quantization_.fp8())
            throw EngineError(what + "has no fp8 quantization_config (quant_method \"fp8\" with "
                                     "weight_block_size, as DeepSeek-V3's)");
        if (!quantization_.format.empty() && quantization_.format != "e4m3")
            throw EngineError(what + "says quantization_config fmt \"" + quantization_.format +
                              "\"");
        if (quantization_.blockRows <= 0 || quantization_.blockCols <= 0)
            throw EngineError(what + "has no quantization_config weight_block_size (per-tensor "
                                     "FP8 scales are not supported)");
    }

    // The shape the scale tensor of an FP8 [rows x cols] tensor must have.
    std::vector<int64_t> fp8Grid(const TensorView& view, int64_t rows, int64_t cols) const {
        requireFp8Config(view);
        return {ceilDiv(rows, quantization_.blockRows), ceilDiv(cols, quantization_.blockCols)};
    }

    // The F32 block scales of an FP8 tensor, of shape `grid`: a view into the map when F32 and
    // aligned, else an owned F32 copy (BF16 scales widen).
    const float* scales(const TensorView& weight, const std::vector<int64_t>& grid) {
        const std::string name = scaleTensorName(weight.info->name);
        const TensorView view = checkpoint_.find(name);
        if (view.info == nullptr)
            throw EngineError("missing tensor \"" + name + "\" in " +
                              checkpoint_.folder().string() +
                              ": the block scales of F8_E4M3 tensor \"" + weight.info->name + "\"");
        if (view.info->shape != grid)
            throw EngineError("tensor \"" + name + "\" (the block scales of \"" +
                              weight.info->name + "\") has shape " + shapeText(view.info->shape) +
                              ", expected " + shapeText(grid) + " for blocks of " +
                              std::to_string(quantization_.blockRows) + " x " +
                              std::to_string(quantization_.blockCols));
        std::size_t count = 1;
        for (const int64_t n : grid)
            count *= static_cast<std::size_t>(n);
        const DType dtype = view.info->dtype;
        if (dtype == DType::F32) {
            if (reinterpret_cast<std::uintptr_t>(view.data) % alignof(float) == 0)
                return reinterpret_cast<const float*>(view.data);
            auto* copy = reinterpret_cast<float*>(arena_.take(count * sizeof(float)));
            std::memcpy(copy, view.data, count * sizeof(float));
            return copy;
        }
        if (dtype == DType::BF16) {
            auto* wide = reinterpret_cast<float*>(arena_.take(count * sizeof(float)));
            for (std::size_t i = 0; i < count; ++i) {
                uint16_t bits;
                std::memcpy(&bits, view.data + 2 * i, 2);
                wide[i] = bf16ToFloat(bits);
            }
            return wide;
        }
        throw EngineError("tensor \"" + name + "\" (the block scales of \"" + weight.info->name +
                          "\") has dtype " + std::string(dtypeName(dtype)) +
                          " (supported: F32, BF16)");
    }

    Matrix matrix(const std::string& name, int64_t rows, int64_t cols) {
        const TensorView view = require(name);
        expectShape(view, {rows, cols});
        return materialise(view, rows, cols);
    }

    std::vector<float> vector(const std::string& name, int64_t size) {
        const TensorView view = require(name);
        expectShape(view, {size});
        if (view.info->dtype == DType::F8_E4M3)
            throw EngineError("tensor \"" + name +
                              "\" is F8_E4M3: only weight matrices may be FP8 (norms and biases "
                              "are F32, F16 or BF16)");
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
        std::vector<Matrix> slabs;
        if (view.info->dtype == DType::F8_E4M3) {
            // Each expert's slab is blocked on its own: scales [E, ceil(a/br), ceil(b/bc)].
            if (transposed)
                throw EngineError("tensor \"" + view.info->name +
                                  "\" is F8_E4M3 in the in-major fused layout [E, in, out], "
                                  "which is not supported (its blocks would need transposing)");
            std::vector<int64_t> grid = fp8Grid(view, rows, cols);
            grid.insert(grid.begin(), experts);
            const float* scaleData = scales(view, grid);
            for (int64_t e = 0; e < experts; ++e) {
                Matrix m{WeightType::FP8E4M3, rows, cols,
                         view.data + static_cast<std::size_t>(e * rows * cols)};
                m.blockRows = quantization_.blockRows;
                m.blockCols = quantization_.blockCols;
                m.scales = scaleData + e * grid[1] * grid[2];
                slabs.push_back(m);
            }
            sawFp8_ = true;
            return slabs;
        }
        const Matrix whole = materialise(view, experts * rows, cols);
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
    WeightQuantization quantization_;
    bool sawFp8_ = false;
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

// The FP8 byte of magnitude 448 x (k + 0.5) / 4096, k < 4096: a 12-bit uniform draw through this
// table is a uniform magnitude in [0, 448] rounded to E4M3.
const std::array<uint8_t, 4096>& uniformFp8Table() {
    static const std::array<uint8_t, 4096> table = [] {
        std::array<uint8_t, 4096> out{};
        for (std::size_t k = 0; k < out.size(); ++k)
            out[k] =
                floatToFp8E4M3(static_cast<float>(448.0 * (static_cast<double>(k) + 0.5) / 4096.0));
        return out;
    }();
    return table;
}

class Synthesiser {
public:
    // `type` is the projections'; with FP8E4M3 the other matrices (embedding, LM head, routers)
    // and the vectors are drawn as the BF16 synthesis draws them. `blockRows/Cols`: FP8 blocks.
    Synthesiser(ModelWeights& weights, WeightType type, uint64_t seed, ThreadPool* pool,
                int64_t blockRows = 128, int64_t blockCols = 128)
        : weights_(weights), type_(type),
          otherType_(type == WeightType::FP8E4M3 ? WeightType::BF16 : type), seed_(seed),
          pool_(pool), blockRows_(blockRows), blockCols_(blockCols) {}

    // Uniform in [-scale, scale] + offset; chunks are seeded by (seed, tensor, chunk), so the
    // bits do not depend on the thread count.
    Matrix matrix(int64_t rows, int64_t cols, double scale, double offset = 0.0) {
        const std::size_t count = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
        std::byte* buffer = arena_.take(count * weightTypeBytes(otherType_));
        fill(buffer, count, scale, offset, otherType_);
        return Matrix{otherType_, rows, cols, buffer};
    }

    // Uniform with variance 1/cols: outputs keep the inputs' scale.
    Matrix linear(int64_t rows, int64_t cols) {
        return matrix(rows, cols, std::sqrt(3.0 / static_cast<double>(cols)));
    }

    // A projection (attention, expert, shared expert, dense MLP): of the projections' type, with
    // the distribution linear() draws. FP8: uniform magnitudes in [0, 448] rounded to E4M3, times
    // a block scale of bound / 448 x (0.75 .. 1.25) (each block its own, so that a wrong block
    // index shows), the F32 scales drawn from the tensor's own stream after its weights.
    Matrix projection(int64_t rows, int64_t cols) {
        const double bound = std::sqrt(3.0 / static_cast<double>(cols));
        if (type_ != WeightType::FP8E4M3) {
            const std::size_t count =
                static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
            std::byte* buffer = arena_.take(count * weightTypeBytes(type_));
            fill(buffer, count, bound, 0.0, type_);
            return Matrix{type_, rows, cols, buffer};
        }
        Matrix m{WeightType::FP8E4M3, rows, cols, nullptr};
        m.blockRows = blockRows_;
        m.blockCols = blockCols_;
        const std::size_t count = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
        const std::size_t scaleCount =
            static_cast<std::size_t>(m.scaleRowCount()) * static_cast<std::size_t>(m.scaleCols());
        std::byte* buffer = arena_.take(count);
        auto* scales = reinterpret_cast<float*>(arena_.take(scaleCount * sizeof(float)));
        const uint64_t tensorId = fillFp8(reinterpret_cast<uint8_t*>(buffer), count);
        uint64_t state = chunkState(tensorId, ~uint64_t{0});
        for (std::size_t i = 0; i < scaleCount; ++i)
            scales[i] = static_cast<float>(bound / 448.0 * (1.0 + 0.25 * unit(state)));
        m.data = buffer;
        m.scales = scales;
        return m;
    }

    // Drawn exactly as a [1 x size] matrix would be (same bits), kept as F32.
    std::vector<float> vector(int64_t size, double scale, double offset) {
        const auto count = static_cast<std::size_t>(size);
        std::vector<std::byte> drawn(count * weightTypeBytes(otherType_));
        fill(drawn.data(), count, scale, offset, otherType_);
        const Matrix m{otherType_, 1, size, drawn.data()};
        std::vector<float> out(count);
        for (int64_t i = 0; i < size; ++i)
            out[static_cast<std::size_t>(i)] = m.at(0, i);
        return out;
    }

    MlpWeights mlp(int64_t hidden, int64_t intermediate) {
        MlpWeights out;
        out.gate = projection(intermediate, hidden);
        out.up = projection(intermediate, hidden);
        out.down = projection(hidden, intermediate);
        return out;
    }

private:
    static constexpr std::size_t kChunk = 1 << 16;

    uint64_t chunkState(uint64_t tensorId, uint64_t chunk) const {
        return splitmix64(seed_ ^ splitmix64(tensorId * 0x100000001b3ull + chunk));
    }

    static uint64_t next(uint64_t& state) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }

    // Uniform in [-1, 1).
    static double unit(uint64_t& state) {
        return static_cast<double>(next(state) >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    }

    void forEachChunk(std::size_t count, const std::function<void(int64_t)>& fillChunk) {
        const int64_t chunks = static_cast<int64_t>((count + kChunk - 1) / kChunk);
        if (pool_ != nullptr)
            pool_->parallelFor(chunks, fillChunk);
        else
            for (int64_t chunk = 0; chunk < chunks; ++chunk)
                fillChunk(chunk);
    }

    void fill(std::byte* buffer, std::size_t count, double scale, double offset, WeightType type) {
        const uint64_t tensorId = nextTensor_++;
        forEachChunk(count, [&](int64_t chunk) {
            uint64_t state = chunkState(tensorId, static_cast<uint64_t>(chunk));
            const std::size_t begin = static_cast<std::size_t>(chunk) * kChunk;
            const std::size_t end = std::min(count, begin + kChunk);
            for (std::size_t i = begin; i < end; ++i) {
                const float value = static_cast<float>(offset + scale * unit(state));
                if (type == WeightType::F32)
                    reinterpret_cast<float*>(buffer)[i] = value;
                else
                    reinterpret_cast<uint16_t*>(buffer)[i] = floatToBf16(value);
            }
        });
    }

    // FP8 bytes of uniform magnitude in [0, 448] and random sign, four from each 64-bit draw (a
    // sign bit and 12 magnitude bits of each 16). Returns the tensor's id.
    uint64_t fillFp8(uint8_t* buffer, std::size_t count) {
        const uint64_t tensorId = nextTensor_++;
        const std::array<uint8_t, 4096>& table = uniformFp8Table();
        forEachChunk(count, [&](int64_t chunk) {
            uint64_t state = chunkState(tensorId, static_cast<uint64_t>(chunk));
            const std::size_t begin = static_cast<std::size_t>(chunk) * kChunk;
            const std::size_t end = std::min(count, begin + kChunk);
            for (std::size_t i = begin; i < end; i += 4) {
                const uint64_t bits = next(state);
                for (std::size_t j = 0; j < 4 && i + j < end; ++j) {
                    const auto draw = static_cast<uint32_t>(bits >> (16 * j)) & 0xffffu;
                    buffer[i + j] =
                        static_cast<uint8_t>(((draw >> 8) & 0x80u) | table[draw & 0xfffu]);
                }
            }
        });
        return tensorId;
    }

    ModelWeights& weights_;
    Arena arena_{weights_};
    WeightType type_;      // the projections'
    WeightType otherType_; // everything else's
    uint64_t seed_;
    ThreadPool* pool_;
    int64_t blockRows_, blockCols_;
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
        if (m.type == WeightType::FP8E4M3 && !asF16) {
            fp8Matrix(name, m);
            return;
        }
        TensorToWrite t{name, dtypeOf(m.type), {m.rows, m.cols}, {}};
        appendMatrix(t.bytes, m, asF16);
        tensors.push_back(std::move(t));
    }

    // DeepSeek-V3's format: the F8_E4M3 bytes as they are, then `<name>_scale_inv`, the F32
    // scales [ceil(rows/br), ceil(cols/bc)]. Every FP8 matrix of a checkpoint has one block size
    // (quantization_config holds one).
    void fp8Matrix(const std::string& name, const Matrix& m) {
        if (m.blockRowOffset != 0)
            throw EngineError("cannot write FP8 matrix \"" + name +
                              "\": its rows start inside a scale block (a view of a fused "
                              "tensor); FP8 is written from whole matrices only");
        if (blockRows == 0) {
            blockRows = m.blockRows;
            blockCols = m.blockCols;
        } else if (blockRows != m.blockRows || blockCols != m.blockCols) {
            throw EngineError("cannot write FP8 matrix \"" + name + "\": its blocks of " +
                              std::to_string(m.blockRows) + " x " + std::to_string(m.blockCols) +
                              " differ from the other matrices' " + std::to_string(blockRows) +
                              " x " + std::to_string(blockCols));
        }
        TensorToWrite t{name, DType::F8_E4M3, {m.rows, m.cols}, {}};
        appendMatrix(t.bytes, m, false);
        tensors.push_back(std::move(t));
        TensorToWrite scales{
            name + "_scale_inv", DType::F32, {m.scaleRowCount(), m.scaleCols()}, {}};
        const auto* raw = reinterpret_cast<const std::byte*>(m.scales);
        scales.bytes.assign(raw, raw + m.scaleBytes());
        tensors.push_back(std::move(scales));
    }

    // The block size of the FP8 matrices written (0 when none).
    int64_t blockRows = 0, blockCols = 0;

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
    Loader loader(*checkpoint, weights, config);
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
    // The large matrices' type: FP8 when the projections are, although the embedding, the LM
    // head and the routers of such a checkpoint stay BF16.
    if (loader.sawFp8())
        weights.type = WeightType::FP8E4M3;
    return model;
}

Model synthesizeModel(const ModelConfig& config, WeightType type, uint64_t seed, ThreadPool* pool) {
    requireLatentSupport(config);
    Model model;
    model.name = "synthetic";
    model.config = config;
    ModelWeights& weights = model.weights;
    weights.type = type;
    // The config says what the weights are: fp8 e4m3 with the block size used, or unquantised.
    WeightQuantization& quantization = model.config.quantization;
    if (type == WeightType::FP8E4M3) {
        const bool blocked =
            quantization.fp8() && quantization.blockRows > 0 && quantization.blockCols > 0;
        quantization.method = "fp8";
        quantization.format = "e4m3";
        quantization.blockRows = blocked ? quantization.blockRows : 128;
        quantization.blockCols = blocked ? quantization.blockCols : 128;
    } else {
        quantization = WeightQuantization{};
    }
    Synthesiser synth(weights, type, seed, pool, quantization.blockRows, quantization.blockCols);
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
                layer.q = synth.projection(heads * m.qHeadDim(), hidden);
            } else {
                layer.mla.qA = synth.projection(m.qLoraRank, hidden);
                layer.mla.qANorm = synth.vector(m.qLoraRank, 0.1, 1.0);
                layer.mla.qB = synth.projection(heads * m.qHeadDim(), m.qLoraRank);
            }
            layer.mla.kvA = synth.projection(m.cachedWidth(), hidden);
            layer.mla.kvANorm = synth.vector(m.kvLoraRank, 0.1, 1.0);
            layer.mla.kvB = synth.projection(heads * (m.qkNopeHeadDim + m.vHeadDim), m.kvLoraRank);
            layer.o = synth.projection(hidden, heads * m.vHeadDim);
        } else {
            layer.q = synth.projection(config.qDim(), hidden);
            layer.k = synth.projection(config.kvDim(), hidden);
            layer.v = synth.projection(config.kvDim(), hidden);
            layer.o = synth.projection(hidden, config.qDim());
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

double synthesisBytesPerParameter(const ModelConfig& config, WeightType type) {
    if (type != WeightType::FP8E4M3)
        return static_cast<double>(weightTypeBytes(type));
    const WeightQuantization& q = config.quantization;
    const double block = q.fp8() && q.blockRows > 0 && q.blockCols > 0
                             ? static_cast<double>(q.blockRows * q.blockCols)
                             : 128.0 * 128.0;
    const ParameterSplit split = totalParameterSplit(config);
    return split.bytes(WeightBytes{1.0 + 4.0 / block, 2.0}) / split.total();
}

Model loadModel(std::string_view spec, ThreadPool* pool, ForwardPath path) {
    const ModelSpec parsed = parseModelSpec(spec);
    if (!parsed.isPreset) {
        if (path == ForwardPath::Optimised)
            requireForwardSupport(loadModelConfig(parsed.folder / "config.json"),
                                  ForwardBackend::Cpu);
        return loadCheckpoint(parsed.folder);
    }
    const ModelConfig config = presetConfig(parsed.presetName, parsed.layers);
    if (path == ForwardPath::Optimised)
        requireForwardSupport(config, ForwardBackend::Cpu);
    // The preset's own type unless dtype= says otherwise: DeepSeek-V3 ships FP8.
    const WeightType type = parsed.dtype.value_or(presetWeightType(config));
    requireSynthesisFits(config, synthesisBytesPerParameter(config, type));
    Model model = synthesizeModel(config, type, 1, pool);
    model.name = std::string(spec);
    return model;
}

namespace {

// The matrices of a model split as the cost model splits them (Cost.h WeightBytes): projections
// and the rest (a tied LM head once).
template <typename Visit> void forEachMatrix(const ModelWeights& weights, Visit visit) {
    const auto mlp = [&](const MlpWeights& x) {
        visit(x.gate, true);
        visit(x.up, true);
        visit(x.down, true);
    };
    visit(weights.embed, false);
    if (weights.lmHead.data != weights.embed.data)
        visit(weights.lmHead, false);
    for (const auto& layer : weights.layers) {
        for (const Matrix* m : {&layer.q, &layer.k, &layer.v, &layer.o, &layer.mla.qA,
                                &layer.mla.qB, &layer.mla.kvA, &layer.mla.kvB})
            visit(*m, true);
        visit(layer.router, false);
        visit(layer.sharedExpertGate, false);
        mlp(layer.sharedExpert);
        mlp(layer.denseMlp);
        for (const auto& expert : layer.experts)
            mlp(expert);
    }
}

} // namespace

std::size_t totalWeightBytes(const ModelWeights& weights) {
    std::size_t bytes = 0;
    forEachMatrix(weights, [&](const Matrix& m, bool) {
        if (!m.empty())
            bytes += m.bytes() + m.scaleBytes();
    });
    return bytes;
}

WeightBytes weightBytesPerParameter(const ModelWeights& weights) {
    double bytes[2] = {0.0, 0.0}, parameters[2] = {0.0, 0.0};
    forEachMatrix(weights, [&](const Matrix& m, bool projection) {
        if (m.empty())
            return;
        bytes[projection] += static_cast<double>(m.bytes() + m.scaleBytes());
        parameters[projection] += static_cast<double>(m.rows) * static_cast<double>(m.cols);
    });
    const double fallback = static_cast<double>(weightTypeBytes(weights.type));
    WeightBytes out;
    out.projection = parameters[1] > 0 ? bytes[1] / parameters[1] : fallback;
    out.other = parameters[0] > 0 ? bytes[0] / parameters[0] : fallback;
    return out;
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
    if (options.layout != ExpertLayout::Classic && weights.type == WeightType::FP8E4M3)
        throw EngineError("FP8 models are written in the classic layout only (one tensor per "
                          "expert and projection, as DeepSeek-V3 ships)");
    fs::create_directories(folder);
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

    {
        ModelConfig written = config;
        if (written.truncated()) // a saved truncated model is a model of its own depth
            written.truncatedFromLayers = 0;
        // quantization_config says what the tensors are: fp8 e4m3 with the FP8 matrices' block
        // size when there are any, else nothing.
        written.quantization = WeightQuantization{};
        if (sink.blockRows > 0) {
            written.quantization.method = "fp8";
            written.quantization.format = "e4m3";
            written.quantization.blockRows = sink.blockRows;
            written.quantization.blockCols = sink.blockCols;
        }
        std::ofstream out(folder / "config.json");
        out << written.toJson().dump(2);
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
