// The CUDA backend's host side: weight upload, sequences (KV caches), and the order of kernel
// launches for prefill and decode. The design is summarised in CudaEngine.h; the kernels are in
// the .cu files, declared in CudaKernels.h.
#include "inference/cuda/CudaBackend.h"

#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaEngine.h"
#include "inference/cuda/CudaKernels.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <utility>

namespace crossroads::inference {

using gpu::bf16;
using gpu::DeviceBuffer;
using gpu::PinnedBuffer;

namespace {

// A new sequence's cache holds this many positions; it doubles when full.
constexpr int kInitialCapacity = 256;
// Elements of prefill attention's score matrix per query chunk (F32, plus as many BF16 probs).
constexpr std::size_t kAttentionScratchElements = std::size_t{1} << 26;

int toInt(int64_t value, const char* what) {
    if (value < 0 || value > INT_MAX)
        throw EngineError(std::string("the CUDA backend cannot handle ") + what + " = " +
                          std::to_string(value) + " (limit " + std::to_string(INT_MAX) + ")");
    return static_cast<int>(value);
}

std::string versionText(int version) { // 13000 -> "13.0"
    return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

// Copies a weight matrix to `target` as BF16 (converting F32 on the host).
void uploadMatrix(const Matrix& matrix, bf16* target, std::vector<uint16_t>& staging) {
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
        uploadMatrix(*part, buffer.get() + offset, staging);
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

struct DeviceLayer {
    bool moe = false;
    DeviceBuffer<float> inputNorm, postNorm, qkvBias, oBias, qNorm, kNorm;
    DeviceBuffer<bf16> qkv, o;
    DeviceBuffer<bf16> router;                   // [E (+1: shared expert gate) x H]
    DeviceBuffer<bf16> expertGateUp, expertDown; // [E][2I][H], [E][H][I]
    DeviceBuffer<bf16> sharedGateUp, sharedDown; // Qwen2-MoE
    DeviceBuffer<bf16> denseGateUp, denseDown;   // layers without experts
};

struct DeviceSequence {
    DeviceBuffer<bf16> kv; // [layers][2][capacity][kvDim]
    int capacity = 0;
    int64_t length = 0;
};

// Scratch of one forward call. Prefill and decode each own one, so that a prefill never moves
// buffers a captured decode graph points at.
struct Workspace {
    int rows = 0;
    DeviceBuffer<int> tokenIds, positions, slots, kvCapacity;
    DeviceBuffer<bf16*> kvPointers;
    DeviceBuffer<float> hidden, qkv, routerLogits, topkWeights, sharedGate, sharedOut, logits;
    DeviceBuffer<bf16> normed, q, attention, gathered, gateUp, act, sharedAct, expertOut;
    DeviceBuffer<int> topkIds, counts, offsets, active, activeCount, sortedPair, pairRow;
    DeviceBuffer<int> activeRecord; // [layers] active experts per layer (decode statistics)
    DeviceBuffer<const void*> gemmA, gemmB;
    DeviceBuffer<void*> gemmC;
    DeviceBuffer<float> attentionPartial, scores;
    DeviceBuffer<bf16> probs;

    gpu::ExpertGroups groups() const {
        return {counts.get(),      offsets.get(),    active.get(),
                activeCount.get(), sortedPair.get(), pairRow.get()};
    }
    gpu::TokenTable tokenTable() const { return {positions.get(), slots.get()}; }
    gpu::KvTable kvTable() const { return {kvPointers.get(), kvCapacity.get()}; }
};

} // namespace

struct CudaBackend::State {
    // First member, so destroyed last: every buffer below takes its bytes off it when freed.
    gpu::MemoryCounter memory;
    const Model& model;
    const ModelConfig& config;
    int hidden = 0, vocab = 0, layers = 0, experts = 0, topK = 0, inter = 0, sharedInter = 0,
        denseInter = 0, qkvRows = 0, routerRows = 0;
    gpu::AttentionShape shape;
    float eps = 0;
    bool hasShared = false;

    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    cudaEvent_t countsReady = nullptr;
    std::vector<std::pair<cudaEvent_t, cudaEvent_t>> profileEvents; // per expert GEMM

    DeviceBuffer<bf16> embed, lmHeadOwned;
    const bf16* lmHead = nullptr;
    DeviceBuffer<float> finalNorm;
    DeviceBuffer<double> inverseFrequency;
    std::vector<DeviceLayer> deviceLayers;

    std::map<SequenceId, DeviceSequence> sequences;
    SequenceId nextSequence = 1;
    std::vector<DeviceBuffer<bf16>> retired; // caches replaced during a call, freed after it

    Workspace prefillSpace, decodeSpace;
    PinnedBuffer<int> hostInts, hostCounts, hostActive;
    PinnedBuffer<bf16*> hostPointers;
    PinnedBuffer<float> hostLogits;

    bool useGraphs = true;
    std::map<std::pair<int, int>, cudaGraphExec_t> graphs; // (batch, attention splits)
    GroupedGemmPath groupedPath = GroupedGemmPath::Auto;
    bool groupedRefused = false;
    std::string groupedRefusal;
    bool profiling = false;
    int matmulN = 0;
    CudaProfile profile;
    cudaEvent_t forwardStart = nullptr, forwardEnd = nullptr;
    StepStats stats;
    // Host arrays of cuBLAS's grouped GEMM, one set per pointer table (gate_up, down).
    gpu::ExpertGemmHostArrays gemmArrays[2];

    explicit State(const Model& m) : model(m), config(m.config) {}

    ~State() {
        if (stream != nullptr)
            cudaStreamSynchronize(stream);
        dropGraphs();
        for (auto& [start, stop] : profileEvents) {
            cudaEventDestroy(start);
            cudaEventDestroy(stop);
        }
        for (cudaEvent_t event : {countsReady, forwardStart, forwardEnd})
            if (event != nullptr)
                cudaEventDestroy(event);
        if (cublas != nullptr)
            cublasDestroy(cublas);
        if (stream != nullptr)
            cudaStreamDestroy(stream);
        cudaGetLastError();
    }

    void dropGraphs() noexcept {
        for (auto& [key, graph] : graphs)
            cudaGraphExecDestroy(graph);
        graphs.clear();
    }

    // ---- set-up -------------------------------------------------------------------------------

    void checkShapes() {
        const auto multipleOf8 = [](int64_t value, const char* what) {
            if (value % 8 != 0)
                throw EngineError(std::string("the CUDA backend needs ") + what +
                                  " to be a multiple of 8 (16-byte BF16 rows), got " +
                                  std::to_string(value));
        };
        hidden = toInt(config.hiddenSize, "hidden_size");
        vocab = toInt(config.vocabSize, "vocab_size");
        layers = toInt(config.numLayers, "num_hidden_layers");
        experts = toInt(config.numExperts, "num_experts");
        topK = toInt(config.numExpertsPerToken, "num_experts_per_tok");
        inter = toInt(config.expertIntermediateSize, "moe_intermediate_size");
        sharedInter = toInt(config.sharedExpertIntermediateSize, "shared_expert_intermediate_size");
        denseInter = toInt(config.denseIntermediateSize, "intermediate_size");
        shape = {toInt(config.numHeads, "num_attention_heads"),
                 toInt(config.numKvHeads, "num_key_value_heads"),
                 toInt(config.headDim, "head_dim")};
        multipleOf8(hidden, "hidden_size");
        multipleOf8(shape.qDim(), "the q width");
        multipleOf8(inter, "the expert intermediate size");
        multipleOf8(sharedInter, "the shared expert intermediate size");
        multipleOf8(denseInter, "the dense intermediate size");
        if (shape.headDim > gpu::kMaxHeadDim || shape.headDim % 2 != 0)
            throw EngineError("the CUDA backend supports even head_dim up to " +
                              std::to_string(gpu::kMaxHeadDim) + ", got " +
                              std::to_string(shape.headDim));
        if (shape.kvHeads <= 0 || shape.heads % shape.kvHeads != 0)
            throw EngineError("num_attention_heads must be a multiple of num_key_value_heads");
        if (experts > gpu::kMaxExperts || topK > 16 || topK > experts || topK <= 0)
            throw EngineError("the CUDA backend supports up to " +
                              std::to_string(gpu::kMaxExperts) +
                              " experts and top-k up to 16, got " + std::to_string(experts) +
                              " and " + std::to_string(topK));
        if (layers <= 0 || vocab <= 0 || hidden <= 0)
            throw EngineError(
                "the CUDA backend needs at least one layer, a vocabulary and a width");
        hasShared = sharedInter > 0;
        qkvRows = shape.qDim() + 2 * shape.kvDim();
        routerRows = experts + (hasShared ? 1 : 0);
        eps = static_cast<float>(config.rmsNormEps);
    }

    void upload() {
        const ModelWeights& weights = model.weights;
        std::vector<uint16_t> staging;
        expectShape(weights.embed, vocab, hidden, "the embedding");
        embed.resize(static_cast<std::size_t>(vocab) * static_cast<std::size_t>(hidden),
                     "the embedding");
        uploadMatrix(weights.embed, embed.get(), staging);
        if (weights.lmHead.data == weights.embed.data) {
            lmHead = embed.get(); // tied: one copy
        } else {
            expectShape(weights.lmHead, vocab, hidden, "the LM head");
            lmHeadOwned.resize(embed.size(), "the LM head");
            uploadMatrix(weights.lmHead, lmHeadOwned.get(), staging);
            lmHead = lmHeadOwned.get();
        }
        finalNorm = uploadVector(weights.finalNorm, "the final norm");
        std::vector<double> frequencies(static_cast<std::size_t>(shape.headDim / 2));
        for (std::size_t i = 0; i < frequencies.size(); ++i)
            frequencies[i] =
                1.0 / std::pow(config.ropeTheta,
                               static_cast<double>(2 * i) / static_cast<double>(shape.headDim));
        inverseFrequency.resize(frequencies.size(), "the RoPE frequencies");
        CUDA_CHECK(cudaMemcpy(inverseFrequency.get(), frequencies.data(),
                              frequencies.size() * sizeof(double), cudaMemcpyHostToDevice));

        deviceLayers.resize(static_cast<std::size_t>(layers));
        for (int l = 0; l < layers; ++l) {
            const LayerWeights& source = weights.layers[static_cast<std::size_t>(l)];
            DeviceLayer& target = deviceLayers[static_cast<std::size_t>(l)];
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
                std::vector<float> bias(static_cast<std::size_t>(qkvRows), 0.0f);
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
                expectShape(mlp.gate, denseInter, hidden, name + "mlp gate_proj");
                expectShape(mlp.up, denseInter, hidden, name + "mlp up_proj");
                expectShape(mlp.down, hidden, denseInter, name + "mlp down_proj");
                target.denseGateUp = uploadStacked({&mlp.gate, &mlp.up}, "a dense MLP", staging);
                target.denseDown = uploadStacked({&mlp.down}, "a dense MLP", staging);
                continue;
            }
            expectShape(source.router, experts, hidden, name + "router");
            if (hasShared) {
                expectShape(source.sharedExpertGate, 1, hidden, name + "shared_expert_gate");
                target.router = uploadStacked({&source.router, &source.sharedExpertGate},
                                              "the router", staging);
                const MlpWeights& shared = source.sharedExpert;
                expectShape(shared.gate, sharedInter, hidden, name + "shared expert gate_proj");
                expectShape(shared.up, sharedInter, hidden, name + "shared expert up_proj");
                expectShape(shared.down, hidden, sharedInter, name + "shared expert down_proj");
                target.sharedGateUp =
                    uploadStacked({&shared.gate, &shared.up}, "the shared expert", staging);
                target.sharedDown = uploadStacked({&shared.down}, "the shared expert", staging);
            } else {
                target.router = uploadStacked({&source.router}, "the router", staging);
            }
            const std::size_t expertElements =
                static_cast<std::size_t>(inter) * static_cast<std::size_t>(hidden);
            target.expertGateUp.resize(2 * expertElements * static_cast<std::size_t>(experts),
                                       "the experts' gate_up");
            target.expertDown.resize(expertElements * static_cast<std::size_t>(experts),
                                     "the experts' down_proj");
            for (int e = 0; e < experts; ++e) {
                const MlpWeights& expert = source.experts[static_cast<std::size_t>(e)];
                const std::string which = name + "expert " + std::to_string(e) + " ";
                expectShape(expert.gate, inter, hidden, which + "gate_proj");
                expectShape(expert.up, inter, hidden, which + "up_proj");
                expectShape(expert.down, hidden, inter, which + "down_proj");
                bf16* gateUp =
                    target.expertGateUp.get() + 2 * expertElements * static_cast<std::size_t>(e);
                uploadMatrix(expert.gate, gateUp, staging);
                uploadMatrix(expert.up, gateUp + expertElements, staging);
                uploadMatrix(expert.down,
                             target.expertDown.get() + expertElements * static_cast<std::size_t>(e),
                             staging);
            }
        }
    }

    void start() {
        checkShapes();
        CUDA_CHECK(cudaSetDevice(0));
        CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        CUBLAS_CHECK(cublasCreate(&cublas));
        CUBLAS_CHECK(cublasSetStream(cublas, stream));
        CUDA_CHECK(cudaEventCreateWithFlags(&countsReady, cudaEventDisableTiming));
        CUDA_CHECK(cudaEventCreate(&forwardStart));
        CUDA_CHECK(cudaEventCreate(&forwardEnd));
        upload();
        hostCounts.resize(static_cast<std::size_t>(experts) + 1, "the expert counts");
        hostActive.resize(static_cast<std::size_t>(layers), "the active-expert record");
    }

    // ---- sequences ----------------------------------------------------------------------------

    DeviceSequence& sequence(SequenceId id) {
        const auto found = sequences.find(id);
        if (found == sequences.end())
            throw EngineError("unknown sequence " + std::to_string(id));
        return found->second;
    }

    std::size_t cacheElements(int capacity) const {
        return 2 * static_cast<std::size_t>(layers) * static_cast<std::size_t>(capacity) *
               static_cast<std::size_t>(shape.kvDim());
    }

    // Room for `positions` in the cache: a larger block, the cached positions copied over in one
    // 2-D copy (one row per layer and K/V), the old block freed after the call.
    void ensureCapacity(DeviceSequence& sequence, int64_t positions) {
        if (positions <= sequence.capacity)
            return;
        int64_t capacity =
            std::max<int64_t>(positions, 2 * static_cast<int64_t>(sequence.capacity));
        capacity = (capacity + kInitialCapacity - 1) / kInitialCapacity * kInitialCapacity;
        const int newCapacity = toInt(capacity, "the KV cache capacity");
        DeviceBuffer<bf16> grown(cacheElements(newCapacity), "a sequence's KV cache");
        if (sequence.length > 0) {
            const std::size_t rowBytes = static_cast<std::size_t>(shape.kvDim()) * sizeof(bf16);
            CUDA_CHECK(cudaMemcpy2DAsync(
                grown.get(), rowBytes * static_cast<std::size_t>(newCapacity), sequence.kv.get(),
                rowBytes * static_cast<std::size_t>(sequence.capacity),
                rowBytes * static_cast<std::size_t>(sequence.length),
                2 * static_cast<std::size_t>(layers), cudaMemcpyDeviceToDevice, stream));
        }
        retired.push_back(std::move(sequence.kv));
        sequence.kv = std::move(grown);
        sequence.capacity = newCapacity;
    }

    // ---- workspace ----------------------------------------------------------------------------

    // Sizes every buffer for `rows` tokens; true when something moved.
    bool reserve(Workspace& w, int rows) {
        if (rows <= w.rows)
            return false;
        const auto n = static_cast<std::size_t>(rows);
        const auto h = static_cast<std::size_t>(hidden);
        const auto k = static_cast<std::size_t>(topK);
        const auto e = static_cast<std::size_t>(experts);
        const auto i = static_cast<std::size_t>(inter);
        const std::size_t gateUpWidth =
            std::max({k * 2 * i, 2 * static_cast<std::size_t>(sharedInter),
                      2 * static_cast<std::size_t>(denseInter)});
        // A resize frees before it allocates: should one run out of memory below, the buffers
        // before it are resized and it is empty, so the workspace holds no size until all succeed
        // (else the next call, with `rows` no larger, would launch kernels on the empty buffer).
        w.rows = 0;
        w.tokenIds.resize(n, "token ids");
        w.positions.resize(n, "positions");
        w.slots.resize(n, "slots");
        w.kvCapacity.resize(n, "KV capacities");
        w.kvPointers.resize(n, "KV pointers");
        w.hidden.resize(n * h, "the residual stream");
        w.normed.resize(n * h, "normed activations");
        w.qkv.resize(n * static_cast<std::size_t>(qkvRows), "q/k/v");
        w.q.resize(n * static_cast<std::size_t>(shape.qDim()), "queries");
        w.attention.resize(n * static_cast<std::size_t>(shape.qDim()), "attention output");
        w.routerLogits.resize(n * static_cast<std::size_t>(std::max(routerRows, 1)),
                              "router logits");
        w.topkIds.resize(n * k, "top-k ids");
        w.topkWeights.resize(n * k, "top-k weights");
        w.sharedGate.resize(n, "shared expert gates");
        w.counts.resize(e, "expert counts");
        w.offsets.resize(e + 1, "expert offsets");
        w.active.resize(e, "active experts");
        w.activeCount.resize(1, "the active count");
        w.activeRecord.resize(static_cast<std::size_t>(layers), "the active-expert record");
        w.sortedPair.resize(n * k, "sorted pairs");
        w.pairRow.resize(n * k, "pair rows");
        w.gathered.resize(n * k * h, "gathered expert inputs");
        w.gateUp.resize(n * gateUpWidth, "gate/up outputs");
        w.act.resize(n * std::max(k * i, static_cast<std::size_t>(denseInter)), "SwiGLU outputs");
        w.sharedAct.resize(n * static_cast<std::size_t>(std::max(sharedInter, 1)),
                           "shared SwiGLU outputs");
        w.expertOut.resize(n * k * h, "expert outputs");
        w.sharedOut.resize(hasShared ? n * h : 1, "shared expert outputs");
        w.gemmA.resize(2 * e, "grouped GEMM pointers");
        w.gemmB.resize(2 * e, "grouped GEMM pointers");
        w.gemmC.resize(2 * e, "grouped GEMM pointers");
        w.rows = rows;
        return true;
    }

    void reservePinned(int rows, int outputs) {
        hostInts.reserve(4 * static_cast<std::size_t>(rows), "staged token inputs");
        hostPointers.reserve(static_cast<std::size_t>(rows), "staged KV pointers");
        hostLogits.reserve(static_cast<std::size_t>(outputs) * static_cast<std::size_t>(vocab),
                           "logits");
    }

    // Token ids, positions, slots (rows each) and, per slot, the cache and its capacity.
    void stageInputs(Workspace& w, int rows, int slotCount) {
        const auto n = static_cast<std::size_t>(rows);
        const auto slots = static_cast<std::size_t>(slotCount);
        int* ints = hostInts.get();
        CUDA_CHECK(cudaMemcpyAsync(w.tokenIds.get(), ints, n * sizeof(int), cudaMemcpyHostToDevice,
                                   stream));
        CUDA_CHECK(cudaMemcpyAsync(w.positions.get(), ints + n, n * sizeof(int),
                                   cudaMemcpyHostToDevice, stream));
        CUDA_CHECK(cudaMemcpyAsync(w.slots.get(), ints + 2 * n, n * sizeof(int),
                                   cudaMemcpyHostToDevice, stream));
        CUDA_CHECK(cudaMemcpyAsync(w.kvCapacity.get(), ints + 3 * n, slots * sizeof(int),
                                   cudaMemcpyHostToDevice, stream));
        CUDA_CHECK(cudaMemcpyAsync(w.kvPointers.get(), hostPointers.get(), slots * sizeof(bf16*),
                                   cudaMemcpyHostToDevice, stream));
    }

    // ---- cuBLAS -------------------------------------------------------------------------------

    // y [tokens x outRows] (row-major, ldy) = x [tokens x cols] W^T, W row-major [outRows x cols].
    // Column-major cuBLAS sees W as W^T (cols x outRows), hence op T on it: the "TN" layout.
    void gemm(const bf16* w, int outRows, int cols, const bf16* x, int tokens, void* y,
              cudaDataType_t yType, int ldy, float beta) {
        const float alpha = 1.0f;
        CUBLAS_CHECK(cublasGemmEx(cublas, CUBLAS_OP_T, CUBLAS_OP_N, outRows, tokens, cols, &alpha,
                                  w, CUDA_R_16BF, cols, x, CUDA_R_16BF, cols, &beta, y, yType, ldy,
                                  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }

    // The active experts' GEMMs (gpu::expertGemm), on the path asked for; Auto falls back to the
    // loop for good when cuBLAS refuses the grouped call itself (types or shapes it lacks).
    void expertGemm(Workspace& w, int table, const bf16* weights, int64_t expertStride, int outRows,
                    int cols, const bf16* x, bf16* y) {
        const auto offset = static_cast<std::size_t>(table * experts);
        const bool grouped = groupedPath != GroupedGemmPath::Loop && !groupedRefused;
        const cublasStatus_t status = gpu::expertGemm(
            cublas, grouped ? gpu::ExpertGemmMode::Grouped : gpu::ExpertGemmMode::Loop,
            hostCounts.get(), experts, w.groups(), weights, expertStride, outRows, cols, x, y,
            w.gemmA.get() + offset, w.gemmB.get() + offset, w.gemmC.get() + offset,
            gemmArrays[table], stream);
        if (status == CUBLAS_STATUS_SUCCESS)
            return;
        const bool refused =
            status == CUBLAS_STATUS_NOT_SUPPORTED || status == CUBLAS_STATUS_INVALID_VALUE;
        if (!refused || groupedPath == GroupedGemmPath::Grouped)
            CUBLAS_CHECK(status);
        groupedRefused = true;
        groupedRefusal = cublasGetStatusName(status);
        CUBLAS_CHECK(gpu::expertGemm(cublas, gpu::ExpertGemmMode::Loop, hostCounts.get(), experts,
                                     w.groups(), weights, expertStride, outRows, cols, x, y,
                                     nullptr, nullptr, nullptr, gemmArrays[table], stream));
    }

    std::string groupedPathName() const {
        if (groupedRefused)
            return "cublasGemmEx loop (grouped GEMM refused: " + groupedRefusal + ")";
        return groupedPath == GroupedGemmPath::Loop ? "cublasGemmEx loop"
                                                    : "cublasGemmGroupedBatchedEx";
    }

    // ---- forward pieces -----------------------------------------------------------------------

    gpu::QkvParams qkvParams(const DeviceLayer& layer) const {
        gpu::QkvParams p;
        p.shape = shape;
        p.bias = layer.qkvBias.get();
        p.qNorm = layer.qNorm.get();
        p.kNorm = layer.kNorm.get();
        p.perHeadNorm = config.qkNorm == QkNorm::PerHead;
        p.eps = eps;
        p.clip = static_cast<float>(config.clipQkv);
        p.inverseFrequency = inverseFrequency.get();
        return p;
    }

    const float* nextNorm(int l) const {
        return l + 1 < layers ? deviceLayers[static_cast<std::size_t>(l + 1)].inputNorm.get()
                              : finalNorm.get();
    }

    gpu::CombineParams combineParams(const Workspace& w) const {
        gpu::CombineParams p;
        p.k = topK;
        p.pairRow = w.pairRow.get();
        p.weight = w.topkWeights.get();
        p.expertOut = w.expertOut.get();
        if (hasShared) {
            p.sharedGate = w.sharedGate.get();
            p.sharedOut = w.sharedOut.get();
        }
        return p;
    }

    void recordProfile(std::size_t index, bool start) {
        if (!profiling)
            return;
        while (profileEvents.size() <= index) {
            cudaEvent_t begin = nullptr, end = nullptr;
            CUDA_CHECK(cudaEventCreate(&begin));
            CUDA_CHECK(cudaEventCreate(&end));
            profileEvents.emplace_back(begin, end);
        }
        CUDA_CHECK(cudaEventRecord(start ? profileEvents[index].first : profileEvents[index].second,
                                   stream));
    }

    // Prefill of `n` tokens of one sequence whose cache already holds `start` positions. Leaves
    // the final-normed rows in w.normed. Returns the number of expert GEMMs profiled.
    std::size_t prefillLayers(Workspace& w, int n, int start, const DeviceSequence& sequence) {
        const int h = hidden;
        std::size_t profiled = 0;
        gpu::embedRows(embed.get(), h, w.tokenIds.get(), n, w.hidden.get(), stream);
        gpu::rmsNormRows(w.hidden.get(), deviceLayers[0].inputNorm.get(), h, eps, n, w.normed.get(),
                         stream);
        const std::size_t layerElements =
            static_cast<std::size_t>(sequence.capacity) * static_cast<std::size_t>(shape.kvDim());
        for (int l = 0; l < layers; ++l) {
            const DeviceLayer& layer = deviceLayers[static_cast<std::size_t>(l)];
            gemm(layer.qkv.get(), qkvRows, h, w.normed.get(), n, w.qkv.get(), CUDA_R_32F, qkvRows,
                 0.0f);
            gpu::qkvPostprocess(w.qkv.get(), n, qkvParams(layer), w.tokenTable(), w.kvTable(), l,
                                w.q.get(), stream);
            const bf16* keys = sequence.kv.get() + 2 * static_cast<std::size_t>(l) * layerElements;
            gpu::prefillAttention(cublas, w.q.get(), n, start, keys, keys + layerElements, shape,
                                  {w.scores.get(), w.probs.get(), w.scores.size()},
                                  w.attention.get(), stream);
            gemm(layer.o.get(), h, shape.qDim(), w.attention.get(), n, w.hidden.get(), CUDA_R_32F,
                 h, 1.0f); // beta 1: the residual add
            if (layer.oBias.get() != nullptr)
                gpu::addBiasRows(w.hidden.get(), layer.oBias.get(), n, h, stream);
            gpu::rmsNormRows(w.hidden.get(), layer.postNorm.get(), h, eps, n, w.normed.get(),
                             stream);
            if (!layer.moe) {
                gemm(layer.denseGateUp.get(), 2 * denseInter, h, w.normed.get(), n, w.gateUp.get(),
                     CUDA_R_16BF, 2 * denseInter, 0.0f);
                gpu::siluMulRows(w.gateUp.get(), n, denseInter, w.act.get(), stream);
                gemm(layer.denseDown.get(), h, denseInter, w.act.get(), n, w.hidden.get(),
                     CUDA_R_32F, h, 1.0f);
                gpu::rmsNormRows(w.hidden.get(), nextNorm(l), h, eps, n, w.normed.get(), stream);
                addDenseStats(n);
                continue;
            }
            profiled = prefillMoe(w, l, n, profiled);
        }
        return profiled;
    }

    std::size_t prefillMoe(Workspace& w, int l, int n, std::size_t profiled) {
        const DeviceLayer& layer = deviceLayers[static_cast<std::size_t>(l)];
        const int h = hidden, pairs = n * topK;
        gemm(layer.router.get(), routerRows, h, w.normed.get(), n, w.routerLogits.get(), CUDA_R_32F,
             routerRows, 0.0f);
        gpu::routerTopK(w.routerLogits.get(), routerRows, n, experts, topK, config.normTopkProb,
                        hasShared ? w.sharedGate.get() : nullptr, w.topkIds.get(),
                        w.topkWeights.get(), stream);
        gpu::groupByExpert(w.topkIds.get(), pairs, experts, w.groups(), nullptr, stream);
        // The one host sync of an MoE layer: cuBLAS wants the row counts on the host. The work
        // that does not depend on them is queued before waiting.
        CUDA_CHECK(cudaMemcpyAsync(hostCounts.get(), w.counts.get(),
                                   static_cast<std::size_t>(experts) * sizeof(int),
                                   cudaMemcpyDeviceToHost, stream));
        CUDA_CHECK(cudaEventRecord(countsReady, stream));
        gpu::gatherRows(w.normed.get(), h, w.sortedPair.get(), topK, pairs, w.gathered.get(),
                        stream);
        if (hasShared) {
            gemm(layer.sharedGateUp.get(), 2 * sharedInter, h, w.normed.get(), n, w.gateUp.get(),
                 CUDA_R_16BF, 2 * sharedInter, 0.0f);
            gpu::siluMulRows(w.gateUp.get(), n, sharedInter, w.sharedAct.get(), stream);
            gemm(layer.sharedDown.get(), h, sharedInter, w.sharedAct.get(), n, w.sharedOut.get(),
                 CUDA_R_32F, h, 0.0f);
        }
        CUDA_CHECK(cudaEventSynchronize(countsReady));
        int activeExperts = 0;
        for (int e = 0; e < experts; ++e)
            activeExperts += hostCounts.get()[e] > 0 ? 1 : 0;

        const int64_t gateUpStride = 2 * static_cast<int64_t>(inter) * h;
        const int64_t downStride = static_cast<int64_t>(h) * inter;
        recordProfile(profiled, true);
        expertGemm(w, 0, layer.expertGateUp.get(), gateUpStride, 2 * inter, h, w.gathered.get(),
                   w.gateUp.get());
        recordProfile(profiled++, false);
        gpu::siluMulRows(w.gateUp.get(), pairs, inter, w.act.get(), stream);
        recordProfile(profiled, true);
        expertGemm(w, 1, layer.expertDown.get(), downStride, h, inter, w.act.get(),
                   w.expertOut.get());
        recordProfile(profiled++, false);
        gpu::combineExperts(w.hidden.get(), n, h, combineParams(w), nextNorm(l), eps,
                            w.normed.get(), stream);
        addMoeStats(n, activeExperts);
        return profiled;
    }

    // One decode step for `batch` tokens, launches only (captured into a graph when enabled).
    // Leaves logits [batch x vocab] in w.logits and active counts per layer in w.activeRecord.
    void decodeLayers(Workspace& w, int batch, int splits) {
        const int h = hidden;
        gpu::embedRows(embed.get(), h, w.tokenIds.get(), batch, w.hidden.get(), stream);
        gpu::rmsNormRows(w.hidden.get(), deviceLayers[0].inputNorm.get(), h, eps, batch,
                         w.normed.get(), stream);
        const int maxActive = std::min(batch * topK, experts);
        for (int l = 0; l < layers; ++l) {
            const DeviceLayer& layer = deviceLayers[static_cast<std::size_t>(l)];
            gpu::gemv(layer.qkv.get(), qkvRows, h, w.normed.get(), batch, w.qkv.get(), qkvRows,
                      false, stream);
            gpu::qkvPostprocess(w.qkv.get(), batch, qkvParams(layer), w.tokenTable(), w.kvTable(),
                                l, w.q.get(), stream);
            gpu::decodeAttention(w.q.get(), batch, w.tokenTable(), w.kvTable(), l, shape, splits,
                                 w.attentionPartial.get(), w.attention.get(), stream);
            gpu::gemv(layer.o.get(), h, shape.qDim(), w.attention.get(), batch, w.hidden.get(), h,
                      true, stream);
            if (layer.oBias.get() != nullptr)
                gpu::addBiasRows(w.hidden.get(), layer.oBias.get(), batch, h, stream);
            gpu::rmsNormRows(w.hidden.get(), layer.postNorm.get(), h, eps, batch, w.normed.get(),
                             stream);
            if (!layer.moe) {
                gpu::gemvGateUp(layer.denseGateUp.get(), denseInter, h, w.normed.get(), batch,
                                w.act.get(), stream);
                gpu::gemv(layer.denseDown.get(), h, denseInter, w.act.get(), batch, w.hidden.get(),
                          h, true, stream);
                gpu::rmsNormRows(w.hidden.get(), nextNorm(l), h, eps, batch, w.normed.get(),
                                 stream);
                continue;
            }
            gpu::gemv(layer.router.get(), routerRows, h, w.normed.get(), batch,
                      w.routerLogits.get(), routerRows, false, stream);
            gpu::routeAndGroup(w.routerLogits.get(), routerRows, batch, experts, topK,
                               config.normTopkProb, hasShared ? w.sharedGate.get() : nullptr,
                               w.topkIds.get(), w.topkWeights.get(), w.groups(),
                               w.activeRecord.get() + l, stream);
            gpu::expertGemvGateUp(layer.expertGateUp.get(), inter, h, w.normed.get(), topK,
                                  w.groups(), maxActive, batch, w.act.get(), stream);
            gpu::expertGemvDown(layer.expertDown.get(), h, inter, w.act.get(), w.groups(),
                                maxActive, batch, w.expertOut.get(), stream);
            if (hasShared) {
                gpu::gemvGateUp(layer.sharedGateUp.get(), sharedInter, h, w.normed.get(), batch,
                                w.sharedAct.get(), stream);
                gpu::gemv(layer.sharedDown.get(), h, sharedInter, w.sharedAct.get(), batch,
                          w.sharedOut.get(), h, false, stream);
            }
            gpu::combineExperts(w.hidden.get(), batch, h, combineParams(w), nextNorm(l), eps,
                                w.normed.get(), stream);
        }
        gpu::gemv(lmHead, vocab, h, w.normed.get(), batch, w.logits.get(), vocab, false, stream);
    }

    void launchDecode(Workspace& w, int batch, int splits) {
        if (!useGraphs) {
            decodeLayers(w, batch, splits);
            return;
        }
        const auto key = std::make_pair(batch, splits);
        auto found = graphs.find(key);
        if (found == graphs.end()) {
            cudaGraph_t graph = nullptr;
            CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
            try {
                decodeLayers(w, batch, splits);
            } catch (...) {
                cudaStreamEndCapture(stream, &graph); // leave capture mode before reporting
                if (graph != nullptr)
                    cudaGraphDestroy(graph);
                cudaGetLastError();
                throw;
            }
            CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
            cudaGraphExec_t exec = nullptr;
            const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
            cudaGraphDestroy(graph);
            CUDA_CHECK(instantiated);
            found = graphs.emplace(key, exec).first;
        }
        CUDA_CHECK(cudaGraphLaunch(found->second, stream));
    }

    // ---- statistics (the same counting as the CPU backend and Analytic.h, BF16 bytes) --------

    double matrixBytes(int64_t rows, int64_t cols) const {
        return static_cast<double>(rows) * static_cast<double>(cols) * sizeof(bf16);
    }

    void addAttentionStats(const std::vector<int64_t>& positions) {
        const double qDim = shape.qDim(), kvDim = shape.kvDim(), h = hidden;
        const auto tokens = static_cast<double>(positions.size());
        for (int l = 0; l < layers; ++l) {
            stats.weightBytes += matrixBytes(qkvRows, hidden) + matrixBytes(hidden, shape.qDim());
            stats.flops += 2.0 * tokens * (2.0 * qDim * h + 2.0 * kvDim * h);
            for (const int64_t position : positions) {
                stats.kvBytes += 2.0 * static_cast<double>(position + 1) * kvDim * sizeof(bf16);
                stats.flops += 4.0 * static_cast<double>(position + 1) * qDim;
            }
        }
    }

    void addDenseStats(int tokens) {
        stats.weightBytes += 3.0 * matrixBytes(hidden, denseInter);
        stats.flops += 6.0 * tokens * static_cast<double>(hidden) * denseInter;
    }

    void addMoeStats(int tokens, double activeExperts) {
        const double h = hidden;
        stats.weightBytes +=
            matrixBytes(experts, hidden) + activeExperts * 3.0 * matrixBytes(hidden, inter);
        stats.flops +=
            2.0 * tokens * static_cast<double>(experts) * h + 6.0 * tokens * topK * h * inter;
        if (hasShared) {
            stats.weightBytes += matrixBytes(1, hidden) + 3.0 * matrixBytes(hidden, sharedInter);
            stats.flops += 2.0 * tokens * h + 6.0 * tokens * h * sharedInter;
        }
    }

    void addEmbeddingAndHeadStats(int tokens, int outputs) {
        stats.weightBytes += tokens * matrixBytes(1, hidden) + matrixBytes(vocab, hidden);
        stats.flops += 2.0 * outputs * static_cast<double>(vocab) * hidden;
    }

    void markForward(bool start) {
        if (profiling)
            CUDA_CHECK(cudaEventRecord(start ? forwardStart : forwardEnd, stream));
    }

    // After the call's sync: the forward's GPU time, when profiled.
    void readForwardTime() {
        profile.forwardGpuSeconds = 0;
        if (!profiling)
            return;
        float milliseconds = 0.0f;
        CUDA_CHECK(cudaEventElapsedTime(&milliseconds, forwardStart, forwardEnd));
        profile.forwardGpuSeconds = milliseconds * 1e-3;
    }

    void finishCall() {
        retired.clear(); // the stream is idle: replaced caches can go
    }

    void checkTokens(std::span<const int32_t> tokens) const {
        for (const int32_t token : tokens)
            if (token < 0 || token >= vocab)
                throw EngineError("token id " + std::to_string(token) +
                                  " is outside the vocabulary (" + std::to_string(vocab) + ")");
    }
};

// ---- Backend --------------------------------------------------------------------------------

CudaBackend::CudaBackend(const Model& model) : state_(std::make_unique<State>(model)) {
    std::string why;
    if (!cudaDeviceStatus(&why))
        throw EngineError("the CUDA backend cannot run: " + why);
    const gpu::CountDeviceMemory counting(state_->memory);
    state_->start();
}

CudaBackend::~CudaBackend() = default;

const Model& CudaBackend::model() const {
    return state_->model;
}

DeviceInfo CudaBackend::device() const {
    int device = 0, driver = 0, runtime = 0;
    cudaDeviceProp properties{};
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
    CUDA_CHECK(cudaDriverGetVersion(&driver));
    CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    DeviceInfo info;
    info.backend = "cuda";
    info.name = properties.name;
    info.driver = "CUDA driver " + versionText(driver) + ", runtime " + versionText(runtime);
    info.isa = "sm_" + std::to_string(properties.major) + std::to_string(properties.minor);
    info.threads = 0;
    info.memoryBytes = static_cast<double>(properties.totalGlobalMem);
    return info;
}

SequenceId CudaBackend::newSequence() {
    State& s = *state_;
    const gpu::CountDeviceMemory counting(s.memory);
    DeviceSequence sequence;
    sequence.kv.resize(s.cacheElements(kInitialCapacity), "a sequence's KV cache");
    sequence.capacity = kInitialCapacity;
    const SequenceId id = s.nextSequence++;
    s.sequences.emplace(id, std::move(sequence));
    return id;
}

void CudaBackend::releaseSequence(SequenceId id) {
    State& s = *state_;
    s.sequence(id);                              // throws for an unknown id
    CUDA_CHECK(cudaStreamSynchronize(s.stream)); // no queued kernel may still use the cache
    s.sequences.erase(id);
}

int64_t CudaBackend::sequenceLength(SequenceId id) const {
    return state_->sequence(id).length;
}

std::vector<float> CudaBackend::prefill(SequenceId id, std::span<const int32_t> tokens,
                                        bool allPositions) {
    State& s = *state_;
    const gpu::CountDeviceMemory counting(s.memory);
    if (tokens.empty())
        throw EngineError("prefill needs at least one token");
    s.checkTokens(tokens);
    DeviceSequence& sequence = s.sequence(id);
    const int n = toInt(static_cast<int64_t>(tokens.size()), "the prefill length");
    const int start = toInt(sequence.length, "the sequence length");
    toInt(sequence.length + n, "the sequence length");
    const int outputs = allPositions ? n : 1;
    s.stats = {};

    s.ensureCapacity(sequence, start + n);
    Workspace& w = s.prefillSpace;
    s.reserve(w, n);
    const int context = start + n;
    const std::size_t chunk =
        gpu::prefillAttentionChunkRows(n, context, s.shape, kAttentionScratchElements);
    const std::size_t scoreElements =
        chunk * static_cast<std::size_t>(s.shape.heads) * static_cast<std::size_t>(context);
    w.scores.reserve(scoreElements, "attention scores");
    w.probs.reserve(scoreElements, "attention probabilities");
    w.logits.reserve(static_cast<std::size_t>(outputs) * static_cast<std::size_t>(s.vocab),
                     "logits");
    s.reservePinned(n, outputs);

    int* ints = s.hostInts.get();
    std::vector<int64_t> positions;
    for (int i = 0; i < n; ++i) {
        ints[i] = tokens[static_cast<std::size_t>(i)];
        ints[n + i] = start + i;
        ints[2 * n + i] = 0;
        positions.push_back(start + i);
    }
    ints[3 * n] = sequence.capacity;
    s.hostPointers.get()[0] = sequence.kv.get();
    s.stageInputs(w, n, 1);

    s.markForward(true);
    const std::size_t profiled = s.prefillLayers(w, n, start, sequence);
    const bf16* finalRows =
        w.normed.get() +
        (allPositions ? 0 : static_cast<std::size_t>(n - 1) * static_cast<std::size_t>(s.hidden));
    s.gemm(s.lmHead, s.vocab, s.hidden, finalRows, outputs, w.logits.get(), CUDA_R_32F, s.vocab,
           0.0f);
    s.markForward(false);
    const std::size_t logitCount =
        static_cast<std::size_t>(outputs) * static_cast<std::size_t>(s.vocab);
    CUDA_CHECK(cudaMemcpyAsync(s.hostLogits.get(), w.logits.get(), logitCount * sizeof(float),
                               cudaMemcpyDeviceToHost, s.stream));
    CUDA_CHECK(cudaStreamSynchronize(s.stream));
    sequence.length += n;
    s.addAttentionStats(positions);
    s.addEmbeddingAndHeadStats(n, outputs);

    s.profile = {};
    s.readForwardTime();
    s.profile.expertGemmPath = s.groupedPathName();
    if (s.profiling)
        for (std::size_t i = 0; i < profiled; ++i) {
            float milliseconds = 0.0f;
            CUDA_CHECK(cudaEventElapsedTime(&milliseconds, s.profileEvents[i].first,
                                            s.profileEvents[i].second));
            s.profile.expertGemmSeconds += milliseconds * 1e-3;
        }
    // Every routed (token, expert) pair costs one gate_up and one down product.
    s.profile.expertGemmFlops = 6.0 * n * s.topK * static_cast<double>(s.hidden) * s.inter *
                                static_cast<double>(profiled / 2);
    s.finishCall();
    return {s.hostLogits.get(), s.hostLogits.get() + logitCount};
}

std::vector<float> CudaBackend::decode(std::span<const SequenceId> ids,
                                       std::span<const int32_t> tokens) {
    State& s = *state_;
    const gpu::CountDeviceMemory counting(s.memory);
    if (ids.size() != tokens.size() || ids.empty())
        throw EngineError("decode needs one token per sequence");
    if (std::set<SequenceId>(ids.begin(), ids.end()).size() != ids.size())
        throw EngineError("decode got the same sequence twice in one batch");
    s.checkTokens(tokens);
    const int batch = toInt(static_cast<int64_t>(ids.size()), "the decode batch");
    std::vector<DeviceSequence*> sequences;
    for (const SequenceId id : ids)
        sequences.push_back(&s.sequence(id));
    s.stats = {};

    int maxContext = 0;
    std::vector<int64_t> positions;
    for (DeviceSequence* sequence : sequences) {
        s.ensureCapacity(*sequence, sequence->length + 1);
        positions.push_back(sequence->length);
        maxContext = std::max(maxContext, toInt(sequence->length + 1, "the sequence length"));
    }
    Workspace& w = s.decodeSpace;
    const int splits = gpu::attentionSplits(maxContext);
    bool moved = s.reserve(w, batch);
    moved |= w.attentionPartial.reserve(gpu::attentionPartialFloats(batch, s.shape, splits),
                                        "attention partials");
    moved |= w.logits.reserve(static_cast<std::size_t>(batch) * static_cast<std::size_t>(s.vocab),
                              "logits");
    if (moved)
        s.dropGraphs(); // captured graphs point at the old buffers
    s.reservePinned(batch, batch);

    int* ints = s.hostInts.get();
    for (int b = 0; b < batch; ++b) {
        const DeviceSequence& sequence = *sequences[static_cast<std::size_t>(b)];
        ints[b] = tokens[static_cast<std::size_t>(b)];
        ints[batch + b] = static_cast<int>(sequence.length);
        ints[2 * batch + b] = b;
        ints[3 * batch + b] = sequence.capacity;
        s.hostPointers.get()[b] = sequence.kv.get();
    }
    s.stageInputs(w, batch, batch);
    s.markForward(true);
    s.launchDecode(w, batch, splits);
    s.markForward(false);
    const std::size_t logitCount =
        static_cast<std::size_t>(batch) * static_cast<std::size_t>(s.vocab);
    CUDA_CHECK(cudaMemcpyAsync(s.hostLogits.get(), w.logits.get(), logitCount * sizeof(float),
                               cudaMemcpyDeviceToHost, s.stream));
    CUDA_CHECK(cudaMemcpyAsync(s.hostActive.get(), w.activeRecord.get(),
                               static_cast<std::size_t>(s.layers) * sizeof(int),
                               cudaMemcpyDeviceToHost, s.stream));
    CUDA_CHECK(cudaStreamSynchronize(s.stream)); // the step's one host sync
    for (DeviceSequence* sequence : sequences)
        ++sequence->length;
    s.profile = {};
    s.readForwardTime();

    s.addAttentionStats(positions);
    s.addEmbeddingAndHeadStats(batch, batch);
    for (int l = 0; l < s.layers; ++l) {
        if (s.deviceLayers[static_cast<std::size_t>(l)].moe)
            s.addMoeStats(batch, s.hostActive.get()[l]);
        else
            s.addDenseStats(batch);
    }
    s.finishCall();
    return {s.hostLogits.get(), s.hostLogits.get() + logitCount};
}

const StepStats& CudaBackend::lastStats() const {
    return state_->stats;
}

double CudaBackend::measureReadBandwidthGbPerS(std::size_t bytes) {
    CUDA_CHECK(cudaStreamSynchronize(state_->stream));
    return gpu::measureDeviceReadBandwidth(bytes, 5, state_->stream).bestGbPerS;
}

double CudaBackend::measureMatmulTflops() {
    State& s = *state_;
    CUDA_CHECK(cudaStreamSynchronize(s.stream));
    const gpu::MatmulRate rate = gpu::measureMatmulRate(s.cublas, 8192, 10, s.stream);
    s.matmulN = rate.n;
    return rate.bestTflops;
}

std::optional<double> CudaBackend::peakDeviceMemoryBytes() const {
    return static_cast<double>(state_->memory.peakBytes);
}

std::string CudaBackend::matmulRateMethod() const {
    const int n = state_->matmulN > 0 ? state_->matmulN : 8192;
    return "cuBLAS BF16 GEMM " + std::to_string(n) + "^3";
}

int CudaBackend::matmulN() const {
    return state_->matmulN;
}

double CudaBackend::kvBytesPerToken() const {
    return 2.0 * state_->layers * state_->shape.kvDim() * static_cast<double>(sizeof(bf16));
}

void CudaBackend::setUseGraphs(bool use) {
    state_->useGraphs = use;
}

int CudaBackend::capturedGraphs() const {
    return static_cast<int>(state_->graphs.size());
}

void CudaBackend::setGroupedGemmPath(GroupedGemmPath path) {
    state_->groupedPath = path;
    state_->groupedRefused = false;
}

void CudaBackend::setProfiling(bool on) {
    state_->profiling = on;
}

const CudaProfile& CudaBackend::lastProfile() const {
    return state_->profile;
}

std::size_t CudaBackend::deviceBytes() const {
    return state_->memory.currentBytes;
}

// ---- entry points ---------------------------------------------------------------------------

bool cudaDeviceStatus(std::string* why) {
    int count = 0;
    const cudaError_t error = cudaGetDeviceCount(&count);
    if (error != cudaSuccess || count == 0) {
        cudaGetLastError();
        if (why != nullptr)
            *why = std::string("no CUDA device: ") + (error != cudaSuccess
                                                          ? cudaGetErrorString(error)
                                                          : "no CUDA-capable device is detected");
        return false;
    }
    return true;
}

std::unique_ptr<Backend> makeCudaBackend(const Model& model) {
    return std::make_unique<CudaBackend>(model);
}

} // namespace crossroads::inference
