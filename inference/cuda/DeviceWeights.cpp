#include "inference/cuda/DeviceWeights.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace crossroads::inference::gpu {

namespace {

// Copies a weight matrix to `target` as BF16 (converting F32 on the host). FP8 block-scaled
// weights have no device kernels yet: refused, by name, rather than read as F32.
void uploadMatrix(const Matrix& matrix, const std::string& what, bf16* target,
                  std::vector<uint16_t>& staging) {
    if (matrix.type == WeightType::FP8E4M3)
        throw EngineError("the CUDA backend does not take " +
                          std::string(weightTypeName(matrix.type)) + " weights (" + what + ")");
    if (matrix.type == WeightType::BF16) {
        CUDA_CHECK(cudaMemcpy(target, matrix.data, matrix.bytes(), cudaMemcpyHostToDevice));
        return;
    }
    const auto count =
        static_cast<std::size_t>(matrix.rows) * static_cast<std::size_t>(matrix.cols);
    staging.resize(count);
    const auto* source = static_cast<const float*>(matrix.data);
    for (std::size_t i = 0; i < count; ++i)
        staging[i] = floatToBf16(source[i]);
    CUDA_CHECK(
        cudaMemcpy(target, staging.data(), count * sizeof(uint16_t), cudaMemcpyHostToDevice));
}

void expectShape(const Matrix& matrix, int64_t rows, int64_t cols, const std::string& what) {
    if (matrix.empty() || matrix.rows != rows || matrix.cols != cols)
        throw EngineError("the CUDA backend expected " + what + " of " + std::to_string(rows) +
                          " x " + std::to_string(cols) + ", found " + std::to_string(matrix.rows) +
                          " x " + std::to_string(matrix.cols));
}

// Matrices stacked by rows into one device buffer (q/k/v; gate/up; router + shared gate).
DeviceBuffer<bf16> uploadStacked(std::initializer_list<const Matrix*> parts, const char* what,
                                 std::vector<uint16_t>& staging) {
    std::size_t elements = 0;
    for (const Matrix* part : parts)
        elements += static_cast<std::size_t>(part->rows) * static_cast<std::size_t>(part->cols);
    DeviceBuffer<bf16> buffer(elements, what);
    std::size_t offset = 0;
    for (const Matrix* part : parts) {
        uploadMatrix(*part, what, buffer.get() + offset, staging);
        offset += static_cast<std::size_t>(part->rows) * static_cast<std::size_t>(part->cols);
    }
    return buffer;
}

DeviceBuffer<float> uploadVector(const std::vector<float>& values, const char* what) {
    DeviceBuffer<float> buffer;
    if (values.empty())
        return buffer;
    buffer.resize(values.size(), what);
    CUDA_CHECK(cudaMemcpy(buffer.get(), values.data(), values.size() * sizeof(float),
                          cudaMemcpyHostToDevice));
    return buffer;
}

} // namespace

void DeviceWeights::upload(const Model& model, const ModelDims& d) {
    const ModelConfig& config = model.config;
    const ModelWeights& weights = model.weights;
    const AttentionShape& shape = d.shape;
    const int hidden = d.hidden, vocab = d.vocab;
    std::vector<uint16_t> staging;
    expectShape(weights.embed, vocab, hidden, "the embedding");
    embed.resize(static_cast<std::size_t>(vocab) * static_cast<std::size_t>(hidden),
                 "the embedding");
    uploadMatrix(weights.embed, "the embedding", embed.get(), staging);
    if (weights.lmHead.data == weights.embed.data) {
        lmHead = embed.get(); // tied: one copy
    } else {
        expectShape(weights.lmHead, vocab, hidden, "the LM head");
        lmHeadOwned.resize(embed.size(), "the LM head");
        uploadMatrix(weights.lmHead, "the LM head", lmHeadOwned.get(), staging);
        lmHead = lmHeadOwned.get();
    }
    finalNorm = uploadVector(weights.finalNorm, "the final norm");
    std::vector<double> frequencies(static_cast<std::size_t>(shape.headDim / 2));
    for (std::size_t i = 0; i < frequencies.size(); ++i)
        frequencies[i] = 1.0 / std::pow(config.ropeTheta, static_cast<double>(2 * i) /
                                                              static_cast<double>(shape.headDim));
    inverseFrequency.resize(frequencies.size(), "the RoPE frequencies");
    CUDA_CHECK(cudaMemcpy(inverseFrequency.get(), frequencies.data(),
                          frequencies.size() * sizeof(double), cudaMemcpyHostToDevice));

    layers.resize(static_cast<std::size_t>(d.layers));
    for (int l = 0; l < d.layers; ++l) {
        const LayerWeights& source = weights.layers[static_cast<std::size_t>(l)];
        DeviceLayer& target = layers[static_cast<std::size_t>(l)];
        const std::string name = "layer " + std::to_string(l) + " ";
        expectShape(source.q, shape.qDim(), hidden, name + "q_proj");
        expectShape(source.k, shape.kvDim(), hidden, name + "k_proj");
        expectShape(source.v, shape.kvDim(), hidden, name + "v_proj");
        expectShape(source.o, hidden, shape.qDim(), name + "o_proj");
        target.inputNorm = uploadVector(source.inputNorm, "a norm");
        target.postNorm = uploadVector(source.postAttentionNorm, "a norm");
        target.qkv = uploadStacked({&source.q, &source.k, &source.v}, "q/k/v", staging);
        target.o = uploadStacked({&source.o}, "o_proj", staging);
        if (!source.qBias.empty() || !source.kBias.empty() || !source.vBias.empty()) {
            std::vector<float> bias(static_cast<std::size_t>(d.qkvRows), 0.0f);
            std::copy(source.qBias.begin(), source.qBias.end(), bias.begin());
            std::copy(source.kBias.begin(), source.kBias.end(), bias.begin() + shape.qDim());
            std::copy(source.vBias.begin(), source.vBias.end(),
                      bias.begin() + shape.qDim() + shape.kvDim());
            target.qkvBias = uploadVector(bias, "the q/k/v bias");
        }
        target.oBias = uploadVector(source.oBias, "the o bias");
        if (config.qkNorm != QkNorm::None) {
            target.qNorm = uploadVector(source.qNorm, "the q norm");
            target.kNorm = uploadVector(source.kNorm, "the k norm");
        }
        target.moe = source.moe;
        if (!source.moe) {
            const MlpWeights& mlp = source.denseMlp;
            expectShape(mlp.gate, d.denseInter, hidden, name + "mlp gate_proj");
            expectShape(mlp.up, d.denseInter, hidden, name + "mlp up_proj");
            expectShape(mlp.down, hidden, d.denseInter, name + "mlp down_proj");
            target.denseGateUp = uploadStacked({&mlp.gate, &mlp.up}, "a dense MLP", staging);
            target.denseDown = uploadStacked({&mlp.down}, "a dense MLP", staging);
            continue;
        }
        expectShape(source.router, d.experts, hidden, name + "router");
        if (d.hasShared) {
            expectShape(source.sharedExpertGate, 1, hidden, name + "shared_expert_gate");
            target.router =
                uploadStacked({&source.router, &source.sharedExpertGate}, "the router", staging);
            const MlpWeights& shared = source.sharedExpert;
            expectShape(shared.gate, d.sharedInter, hidden, name + "shared expert gate_proj");
            expectShape(shared.up, d.sharedInter, hidden, name + "shared expert up_proj");
            expectShape(shared.down, hidden, d.sharedInter, name + "shared expert down_proj");
            target.sharedGateUp =
                uploadStacked({&shared.gate, &shared.up}, "the shared expert", staging);
            target.sharedDown = uploadStacked({&shared.down}, "the shared expert", staging);
        } else {
            target.router = uploadStacked({&source.router}, "the router", staging);
        }
        const std::size_t expertElements =
            static_cast<std::size_t>(d.inter) * static_cast<std::size_t>(hidden);
        target.expertGateUp.resize(2 * expertElements * static_cast<std::size_t>(d.experts),
                                   "the experts' gate_up");
        target.expertDown.resize(expertElements * static_cast<std::size_t>(d.experts),
                                 "the experts' down_proj");
        for (int e = 0; e < d.experts; ++e) {
            const MlpWeights& expert = source.experts[static_cast<std::size_t>(e)];
            const std::string which = name + "expert " + std::to_string(e) + " ";
            expectShape(expert.gate, d.inter, hidden, which + "gate_proj");
            expectShape(expert.up, d.inter, hidden, which + "up_proj");
            expectShape(expert.down, hidden, d.inter, which + "down_proj");
            bf16* gateUp =
                target.expertGateUp.get() + 2 * expertElements * static_cast<std::size_t>(e);
            uploadMatrix(expert.gate, which + "gate_proj", gateUp, staging);
            uploadMatrix(expert.up, which + "up_proj", gateUp + expertElements, staging);
            uploadMatrix(expert.down, which + "down_proj",
                         target.expertDown.get() + expertElements * static_cast<std::size_t>(e),
                         staging);
        }
    }
}

const float* DeviceWeights::nextNorm(int l) const {
    return static_cast<std::size_t>(l + 1) < layers.size()
               ? layers[static_cast<std::size_t>(l + 1)].inputNorm.get()
               : finalNorm.get();
}

} // namespace crossroads::inference::gpu
