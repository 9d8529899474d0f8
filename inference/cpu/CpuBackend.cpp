#include "inference/cpu/CpuBackend.h"

#include "inference/base/Host.h"
#include "inference/base/LargeBuffer.h"
#include "inference/cpu/AttentionSteps.h"
#include "inference/cpu/Bandwidth.h"
#include "inference/cpu/ComputePeak.h"
#include "inference/cpu/Kernels.h"
#include "inference/model/Cost.h"
#include "inference/model/ReferenceForward.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace crossroads::inference {

namespace {

// One matrix product y = W x over `tokens` input rows, split into row blocks across the pool.
struct MatmulJob {
    const Matrix* w;
    const float* x;
    int64_t xStride;
    int64_t tokens;
    float* y;
    int64_t yStride;
};

struct RowTask {
    std::size_t job;
    int64_t rowBegin, rowEnd;
    int64_t slice = -1; // of the job's oneDNN-prepared weights, or -1: native rows
};

// x [tokens x cols] (row stride xStride) rounded to BF16 into `out`, contiguous.
const uint16_t* roundRows(ThreadPool& pool, const float* x, int64_t xStride, int64_t tokens,
                          int64_t cols, std::vector<uint16_t>& out) {
    out.resize(static_cast<std::size_t>(tokens * cols));
    const auto roundRow = [&](int64_t t) {
        roundToBf16(x + t * xStride, cols, out.data() + t * cols);
    };
    if (tokens * cols >= 65536)
        pool.parallelFor(tokens, roundRow);
    else
        for (int64_t t = 0; t < tokens; ++t)
            roundRow(t);
    return out.data();
}

// Whether the kernels round w's inputs to BF16 (matmulActivationRounding): then the backend
// rounds each product's input once (matmulRowsBf16Input) instead of leaving it to every task.
bool roundsInput(const Matrix& w) {
    return matmulActivationRounding(w.type) == ActivationRounding::Bf16;
}

// Rows per task of a product with `tokens` input rows. Enough tasks for dynamic balancing (a
// worker may be descheduled on a shared machine), each big enough to outweigh its dispatch. For
// few tokens the product streams the weights, and the decode kernel reads a task as eight
// sequential runs of rows: longer runs keep the prefetchers going, and 1024-row tasks (runs of
// 128 rows) read ~3-5% faster than 64-row ones on the 2-core EPYC (paired steps, Qwen3 and
// OLMoE presets); more tokens per task are more work, so the cap shrinks with them. The share of
// a thread counts every row of the dispatch (dispatchRows: all the experts of a MoE layer, say),
// so a dispatch of many small matrices is not cut into many short runs: on the 2-core Xeon the
// experts of Qwen3 (768 rows) and OLMoE (1,024) were read in runs of 12 and 16 rows.
int64_t rowBlock(int64_t rows, int threads, int64_t tokens, int64_t dispatchRows = 0) {
    const int64_t cap = std::clamp<int64_t>(1024 / std::max<int64_t>(tokens, 1), 64, 1024);
    const int64_t block = std::max(rows, dispatchRows) / (4 * static_cast<int64_t>(threads));
    return std::min(rows, std::clamp<int64_t>(block & ~int64_t{7}, 16, cap));
}

void rmsNormRow(const float* x, const std::vector<float>& w, double eps, int64_t n, float* out) {
    double squares = 0.0;
    for (int64_t i = 0; i < n; ++i)
        squares += static_cast<double>(x[i]) * x[i];
    const auto scale = static_cast<float>(1.0 / std::sqrt(squares / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i)
        out[i] = x[i] * scale * w[static_cast<std::size_t>(i)];
}

// An expert (or the shared expert, or a dense MLP) and the token rows routed to it.
struct ExpertJob {
    const MlpWeights* weights;
    std::vector<int64_t> rows;
    std::vector<float> gates;
    int64_t firstRow = 0;  // in the gathered buffers
    int64_t actOffset = 0; // floats into the activation buffer
};

} // namespace

CpuBackend::CpuBackend(const Model& model, int threads, CpuBackendOptions options)
    : model_(model), pool_(std::make_unique<ThreadPool>(threads)), options_(options),
      weightBytes_(weightBytesPerParameter(model.weights)) {
    prepareOnednn(options.prefill);
}

// Every matrix prefill multiplies, but the LM head (prefill computes one row of logits, and the
// head is the largest matrix of all) and the embedding (rows are copied, not multiplied).
void CpuBackend::prepareOnednn(PrefillGemm prefill) {
    if (prefill == PrefillGemm::Native)
        return;
    std::string why;
    if (prefill == PrefillGemm::Onednn && !onednnAvailable(&why))
        throw EngineError("oneDNN prefill: " + why);
    const bool onednn = onednnComputesHere();
    if (!onednn && prefill == PrefillGemm::Onednn)
        throw EngineError("oneDNN prefill needs BF16 weights and the avx512-bf16 kernels");
    // Routed experts on pair panels: AVX-512-BF16 kernels active, BF16 weights of even widths.
    const ModelConfig& config = model_.config;
    const bool pairs = options_.expertPairPanels && activeIsa() == Isa::Avx512Bf16 &&
                       model_.weights.type == WeightType::BF16 && config.hiddenSize % 2 == 0 &&
                       config.expertIntermediateSize % 2 == 0;
    if (!onednn && !pairs)
        return;
    // What is prepared, each piece one product: a layer's q, k and v stacked; a routed expert's
    // gate and up stacked and its down whole, where the layer has experts enough for a product
    // each to keep the pool busy (a whole matrix is one call of oneDNN's kernel at its widest: on
    // the 2-core Xeon three 256-row slices of a 768-row expert cost 10% more than one call); every
    // other matrix alone, in about two slices a thread of 256 to 1,024 rows.
    struct Piece {
        std::vector<const Matrix*> stacked;
        int64_t sliceRows;
        std::unordered_map<const void*, OnednnWeights>* into; // keyed by the first matrix
    };
    const int64_t threads = pool_->size();
    const auto sliceRowsFor = [&](int64_t rows) {
        const int64_t share = (rows + 2 * threads - 1) / (2 * threads);
        return std::clamp<int64_t>((share + 63) / 64 * 64, 256, 1024);
    };
    std::vector<Piece> pieces;
    std::vector<std::vector<const Matrix*>> pairPieces; // gate and up stacked; down
    const auto alone = [&](const Matrix& m) {
        if (!m.empty() && onednn)
            pieces.push_back({{&m}, sliceRowsFor(m.rows), &onednn_});
    };
    const auto mlpAlone = [&](const MlpWeights& mlp) {
        for (const Matrix* m : {&mlp.gate, &mlp.up, &mlp.down})
            alone(*m);
    };
    for (const LayerWeights& layer : model_.weights.layers) {
        if (model_.config.attention == AttentionKind::Latent) {
            // MLA's down- and q projections alone; kvB is read by the absorbed products
            // (LatentAttention.cpp), not multiplied as a matrix.
            for (const Matrix* m : {&layer.q, &layer.mla.qA, &layer.mla.qB, &layer.mla.kvA})
                alone(*m);
        } else if (onednn) {
            const int64_t qkvRows = layer.q.rows + layer.k.rows + layer.v.rows;
            pieces.push_back({{&layer.q, &layer.k, &layer.v}, sliceRowsFor(qkvRows), &onednnQkv_});
        }
        alone(layer.o);
        alone(layer.router);
        const bool manyExperts = static_cast<int64_t>(layer.experts.size()) >= 2 * threads;
        for (const MlpWeights& expert : layer.experts) {
            if (!manyExperts) {
                mlpAlone(expert);
                continue;
            }
            if (pairs) {
                pairPieces.push_back({&expert.gate, &expert.up});
                pairPieces.push_back({&expert.down});
                continue;
            }
            if (!onednn)
                continue;
            pieces.push_back(
                {{&expert.gate, &expert.up}, expert.gate.rows + expert.up.rows, &onednnGateUp_});
            pieces.push_back({{&expert.down}, expert.down.rows, &onednn_});
        }
        mlpAlone(layer.sharedExpert);
        mlpAlone(layer.denseMlp);
    }
    double bytes = 0;
    for (const Piece& piece : pieces)
        for (const Matrix* m : piece.stacked)
            bytes += static_cast<double>(m->bytes());
    for (const auto& piece : pairPieces)
        for (const Matrix* m : piece)
            bytes += static_cast<double>(m->bytes());
    // The copy is as large as the weights it prepares: Auto leaves it out of a tight machine.
    const std::optional<double> available_bytes = availableMemoryBytes();
    if (prefill == PrefillGemm::Auto && (!available_bytes || bytes > 0.5 * *available_bytes))
        return;
    std::vector<std::optional<OnednnWeights>> prepared(pieces.size());
    pool_->parallelFor(static_cast<int64_t>(pieces.size()), [&](int64_t i) {
        const Piece& piece = pieces[static_cast<std::size_t>(i)];
        prepared[static_cast<std::size_t>(i)].emplace(piece.stacked, piece.sliceRows);
    });
    for (std::size_t i = 0; i < pieces.size(); ++i)
        pieces[i].into->emplace(pieces[i].stacked.front()->data, std::move(*prepared[i]));
    std::vector<PairPanels> packed(pairPieces.size());
    pool_->parallelFor(static_cast<int64_t>(pairPieces.size()), [&](int64_t i) {
        const auto& stacked = pairPieces[static_cast<std::size_t>(i)];
        PairPanels& panels = packed[static_cast<std::size_t>(i)];
        for (const Matrix* m : stacked)
            panels.rows += m->rows;
        panels.cols = stacked.front()->cols;
        panels.storage =
            allocateLargeBuffer(pairPanelElements(panels.rows, panels.cols) * sizeof(uint16_t));
        packPairPanels(stacked, reinterpret_cast<uint16_t*>(panels.storage.get()));
    });
    for (std::size_t i = 0; i < pairPieces.size(); ++i)
        (pairPieces[i].size() == 2 ? pairGateUp_ : pairDown_)
            .emplace(pairPieces[i].front()->data, std::move(packed[i]));
}

const CpuBackend::PairPanels* CpuBackend::pairGateUpFor(const MlpWeights& mlp,
                                                        int64_t tokens) const {
    if (pairGateUp_.empty() || tokens < options_.pairMinTokens || activeIsa() != Isa::Avx512Bf16)
        return nullptr;
    const auto found = pairGateUp_.find(mlp.gate.data);
    return found == pairGateUp_.end() ? nullptr : &found->second;
}

const CpuBackend::PairPanels* CpuBackend::pairDownFor(const MlpWeights& mlp) const {
    const auto found = pairDown_.find(mlp.down.data);
    return found == pairDown_.end() ? nullptr : &found->second;
}

// oneDNN can multiply this model here, in the function the active kernels define: BF16 weights,
// activations rounded to BF16 (avx512-bf16), a build and a CPU that run oneDNN's BF16 matmul.
bool CpuBackend::onednnComputesHere() const {
    return model_.weights.type == WeightType::BF16 &&
           matmulActivationRounding(WeightType::BF16) == ActivationRounding::Bf16 &&
           onednnAvailable();
}

const OnednnWeights* CpuBackend::onednnFor(const Matrix& w, int64_t tokens) const {
    if (onednn_.empty() || tokens < options_.onednnMinTokens ||
        matmulActivationRounding(w.type) != ActivationRounding::Bf16)
        return nullptr;
    const auto found = onednn_.find(w.data);
    return found == onednn_.end() ? nullptr : &found->second;
}

const OnednnWeights* CpuBackend::onednnQkvFor(const LayerWeights& layer, int64_t tokens) const {
    if (onednnQkv_.empty() || onednnFor(layer.o, tokens) == nullptr)
        return nullptr;
    const auto found = onednnQkv_.find(layer.q.data);
    return found == onednnQkv_.end() ? nullptr : &found->second;
}

const OnednnWeights* CpuBackend::onednnGateUpFor(const MlpWeights& mlp, int64_t tokens) const {
    if (onednnGateUp_.empty() || onednnFor(mlp.down, tokens) == nullptr)
        return nullptr;
    const auto found = onednnGateUp_.find(mlp.gate.data);
    return found == onednnGateUp_.end() ? nullptr : &found->second;
}

std::string CpuBackend::prefillKernel() const {
    const std::string from = " from " + std::to_string(options_.onednnMinTokens) + " tokens";
    const std::string pairs = pairGateUp_.empty()
                                  ? ""
                                  : "routed experts on pair panels from " +
                                        std::to_string(options_.pairMinTokens) + " tokens";
    const std::string native = "native " + std::string(isaName(activeIsa()));
    if (!onednn_.empty() || !onednnQkv_.empty())
        return "oneDNN " + onednnKernelName() + from + " a product" +
               (pairs.empty() ? "" : ", " + pairs) + ", " + native + " below";
    return pairs.empty() ? native : pairs + ", " + native + " below";
}

CpuBackend::~CpuBackend() = default;

DeviceInfo CpuBackend::device() const {
    DeviceInfo info;
    info.backend = "cpu";
    info.name = cpuName();
    info.isa = std::string(isaName(activeIsa()));
    info.prefillKernel = prefillKernel();
    info.decodePrefetchBytes = model_.weights.type == WeightType::FP8E4M3 ? fp8DecodePrefetchBytes()
                                                                          : decodePrefetchBytes();
    if (model_.weights.type == WeightType::FP8E4M3)
        info.fp8DecodeKernel = std::string(fp8DecodeKernelInEffect());
    info.threads = pool_->size();
    return info;
}

SequenceId CpuBackend::newSequence() {
    Sequence sequence;
    sequence.keys.resize(static_cast<std::size_t>(model_.config.numLayers));
    sequence.values.resize(static_cast<std::size_t>(model_.config.numLayers));
    if (model_.config.attention == AttentionKind::Latent)
        sequence.latent.resize(static_cast<std::size_t>(model_.config.numLayers));
    const SequenceId id = nextSequence_++;
    sequences_.emplace(id, std::move(sequence));
    return id;
}

void CpuBackend::releaseSequence(SequenceId id) {
    if (sequences_.erase(id) == 0)
        throw EngineError("unknown sequence id " + std::to_string(id));
}

int64_t CpuBackend::sequenceLength(SequenceId id) const {
    const auto found = sequences_.find(id);
    if (found == sequences_.end())
        throw EngineError("unknown sequence id " + std::to_string(id));
    return found->second.length;
}

const Sequence& CpuBackend::cache(SequenceId id) const {
    const auto found = sequences_.find(id);
    if (found == sequences_.end())
        throw EngineError("unknown sequence id " + std::to_string(id));
    return found->second;
}

Sequence& CpuBackend::sequence(SequenceId id) {
    const auto found = sequences_.find(id);
    if (found == sequences_.end())
        throw EngineError("unknown sequence id " + std::to_string(id));
    return found->second;
}

double CpuBackend::measureReadBandwidthGbPerS(std::size_t bytes) {
    return measureReadBandwidth(*pool_, bytes).gbPerS;
}

std::unique_ptr<Backend::ReadProbe> CpuBackend::makeReadProbe(std::size_t bytes) {
    struct Probe final : ReadProbe {
        Probe(ThreadPool& threads, std::size_t size) : probe(threads, size) {}
        double passGbPerS() override { return probe.passGbPerS(); }
        ReadBandwidthProbe probe;
    };
    return std::make_unique<Probe>(*pool_, bytes);
}

// The compute ceiling is the machine's real BF16 matrix rate where it has one (oneDNN's GEMM,
// AMX where present: on the 2-core Xeon 0.17 TFLOP/s against an F32 FMA peak of 0.35, which no
// BF16 product there reaches), else the F32 FMA peak of the threads (an AVX2 CPU, or a build
// without oneDNN). FP8 weights count as BF16 where they run on the dot-product instruction
// (avx512-bf16 with VBMI: their prefill multiplies BF16 pair panels on it).
double CpuBackend::measureMatmulTflops() {
    const bool bf16Rate =
        onednnComputesHere() ||
        (model_.weights.type == WeightType::FP8E4M3 && activeIsa() == Isa::Avx512Bf16 &&
         fp8DecodeKernelRuns(Fp8DecodeKernel::Bf16Dot, Isa::Avx512Bf16) && onednnAvailable());
    if (bf16Rate) {
        rateMethod_ = "oneDNN BF16 GEMM 2048^3, " + onednnKernelName() + ", " +
                      std::to_string(pool_->size()) + " threads";
        return onednnBf16GemmTflops(pool_->size());
    }
    rateMethod_ = "F32 FMA peak, " + std::to_string(pool_->size()) + " threads, " +
                  std::string(isaName(activeIsa()));
    return measureFmaPeak(*pool_).tflops;
}

std::string CpuBackend::matmulRateMethod() const {
    return rateMethod_;
}

double CpuBackend::kvBytesPerToken() const {
    return inference::kvBytesPerToken(model_.config, sizeof(float));
}

void CpuBackend::matmul(const Matrix& w, const float* x, int64_t xStride, int64_t tokens, float* y,
                        int64_t yStride) {
    if (const OnednnWeights* prepared = onednnFor(w, tokens)) {
        const uint16_t* rounded = roundRows(*pool_, x, xStride, tokens, w.cols, bf16Scratch_);
        pool_->parallelFor(prepared->slices(), [&](int64_t slice) {
            prepared->multiplySlice(slice, rounded, tokens, y, yStride);
        });
        return;
    }
    const int64_t block = rowBlock(w.rows, pool_->size(), tokens);
    const int64_t tasks = (w.rows + block - 1) / block;
    if (roundsInput(w)) {
        // Rounded once here, not by every task.
        const uint16_t* rounded = roundRows(*pool_, x, xStride, tokens, w.cols, bf16Scratch_);
        pool_->parallelFor(tasks, [&](int64_t task) {
            const int64_t begin = task * block;
            matmulRowsBf16Input(w, begin, std::min(w.rows, begin + block), rounded, w.cols, tokens,
                                y, yStride);
        });
        return;
    }
    pool_->parallelFor(tasks, [&](int64_t task) {
        const int64_t begin = task * block;
        matmulRows(w, begin, std::min(w.rows, begin + block), x, xStride, tokens, y, yStride);
    });
}

std::vector<float> CpuBackend::prefill(SequenceId id, std::span<const int32_t> tokens,
                                       bool allPositions) {
    Sequence& sequence = this->sequence(id);
    if (tokens.empty())
        throw EngineError("prefill needs at least one token");
    std::vector<Row> rows;
    for (std::size_t i = 0; i < tokens.size(); ++i)
        rows.push_back({&sequence, sequence.length + static_cast<int64_t>(i), tokens[i]});
    std::vector<int64_t> logitRows;
    if (allPositions)
        for (std::size_t i = 0; i < tokens.size(); ++i)
            logitRows.push_back(static_cast<int64_t>(i));
    else
        logitRows.push_back(static_cast<int64_t>(tokens.size()) - 1);
    return forward(rows, logitRows);
}

std::vector<float> CpuBackend::decode(std::span<const SequenceId> ids,
                                      std::span<const int32_t> tokens) {
    if (ids.size() != tokens.size() || ids.empty())
        throw EngineError("decode needs one token per sequence");
    if (std::set<SequenceId>(ids.begin(), ids.end()).size() != ids.size())
        throw EngineError("decode got the same sequence twice in one batch");
    std::vector<Row> rows;
    std::vector<int64_t> logitRows;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        Sequence& sequence = this->sequence(ids[i]);
        rows.push_back({&sequence, sequence.length, tokens[i]});
        logitRows.push_back(static_cast<int64_t>(i));
    }
    return forward(rows, logitRows);
}

std::vector<float> CpuBackend::forward(const std::vector<Row>& rows,
                                       const std::vector<int64_t>& logitRows) {
    const ModelConfig& config = model_.config;
    const ModelWeights& weights = model_.weights;
    const int64_t tokens = static_cast<int64_t>(rows.size());
    const int64_t hidden = config.hiddenSize;
    stats_ = {};
    routing_.assign(weights.layers.size(), {});

    int64_t maxPosition = 0;
    for (const Row& row : rows) {
        if (row.token < 0 || row.token >= config.vocabSize)
            throw EngineError("token id " + std::to_string(row.token) +
                              " is outside the vocabulary (" + std::to_string(config.vocabSize) +
                              ")");
        maxPosition = std::max(maxPosition, row.position);
    }
    // RoPE tables in double, rounded once.
    const int64_t half = config.headDim / 2;
    const int64_t tablePositions = static_cast<int64_t>(cos_.size()) / half;
    if (maxPosition >= tablePositions) {
        const int64_t wanted = std::max<int64_t>(maxPosition + 1, 2 * tablePositions);
        const auto inverse = ropeInverseFrequencies(config.headDim, config.ropeTheta);
        cos_.resize(static_cast<std::size_t>(wanted * half));
        sin_.resize(static_cast<std::size_t>(wanted * half));
        for (int64_t p = tablePositions; p < wanted; ++p)
            for (int64_t i = 0; i < half; ++i) {
                const double angle = static_cast<double>(p) * inverse[static_cast<std::size_t>(i)];
                cos_[static_cast<std::size_t>(p * half + i)] = static_cast<float>(std::cos(angle));
                sin_[static_cast<std::size_t>(p * half + i)] = static_cast<float>(std::sin(angle));
            }
    }
    // Room in each sequence's cache for the positions written now.
    for (const Row& row : rows) {
        const auto positions = static_cast<std::size_t>(row.position + 1);
        const auto latentNeeded = positions * static_cast<std::size_t>(config.mla.cachedWidth());
        for (auto& latent : row.sequence->latent) // MLA: the latent and the RoPE key only
            if (latent.size() < latentNeeded)
                latent.resize(latentNeeded);
        if (config.attention == AttentionKind::Latent)
            continue;
        const auto needed = positions * static_cast<std::size_t>(config.kvDim());
        for (std::size_t l = 0; l < row.sequence->keys.size(); ++l) {
            if (row.sequence->keys[l].size() < needed) {
                row.sequence->keys[l].resize(needed);
                row.sequence->values[l].resize(needed);
            }
        }
    }

    hidden_.resize(static_cast<std::size_t>(tokens * hidden));
    for (int64_t t = 0; t < tokens; ++t)
        for (int64_t i = 0; i < hidden; ++i)
            hidden_[static_cast<std::size_t>(t * hidden + i)] =
                weights.embed.at(rows[static_cast<std::size_t>(t)].token, i);

    for (std::size_t l = 0; l < weights.layers.size(); ++l) {
        if (config.attention == AttentionKind::Latent)
            latentAttentionLayer(l, rows);
        else
            attentionLayer(l, rows);
        mlpLayer(l, tokens);
    }
    for (const Row& row : rows)
        row.sequence->length = std::max(row.sequence->length, row.position + 1);

    const auto outputs = static_cast<int64_t>(logitRows.size());
    normed_.resize(static_cast<std::size_t>(outputs * hidden));
    for (int64_t i = 0; i < outputs; ++i)
        rmsNormRow(
            &hidden_[static_cast<std::size_t>(logitRows[static_cast<std::size_t>(i)] * hidden)],
            weights.finalNorm, config.rmsNormEps, hidden,
            &normed_[static_cast<std::size_t>(i * hidden)]);
    std::vector<float> logits(static_cast<std::size_t>(outputs * config.vocabSize));
    matmul(weights.lmHead, normed_.data(), hidden, outputs, logits.data(), config.vocabSize);

    // The call's cost, from its shape and the experts its routing read (model/Cost.h). A
    // checkpoint that mixes F32 and BF16 tensors counts at the size of its large matrices.
    StepShape shape;
    for (const Row& row : rows)
        shape.contexts.push_back(row.position + 1);
    for (const auto& layerRouting : routing_) {
        std::set<int32_t> read;
        for (const auto& chosen : layerRouting)
            read.insert(chosen.begin(), chosen.end());
        shape.expertsRead.push_back(static_cast<double>(read.size()));
    }
    shape.logitRows = outputs;
    stats_ = stepCost(config, shape, weightBytes_, sizeof(float));
    return logits;
}

void CpuBackend::attentionLayer(std::size_t layerIndex, const std::vector<Row>& rows) {
    const ModelConfig& config = model_.config;
    const LayerWeights& layer = model_.weights.layers[layerIndex];
    const int64_t tokens = static_cast<int64_t>(rows.size());
    const int64_t hidden = config.hiddenSize;
    const int64_t qDim = config.qDim();
    const int64_t kvDim = config.kvDim();
    const int64_t headDim = config.headDim;
    const int64_t half = headDim / 2;
    const auto eps = config.rmsNormEps;

    normed_.resize(static_cast<std::size_t>(tokens * hidden));
    q_.resize(static_cast<std::size_t>(tokens * qDim));
    k_.resize(static_cast<std::size_t>(tokens * kvDim));
    v_.resize(static_cast<std::size_t>(tokens * kvDim));
    for (int64_t t = 0; t < tokens; ++t)
        rmsNormRow(&hidden_[static_cast<std::size_t>(t * hidden)], layer.inputNorm, eps, hidden,
                   &normed_[static_cast<std::size_t>(t * hidden)]);

    // q, k and v in one dispatch.
    const MatmulJob jobs[] = {
        {&layer.q, normed_.data(), hidden, tokens, q_.data(), qDim},
        {&layer.k, normed_.data(), hidden, tokens, k_.data(), kvDim},
        {&layer.v, normed_.data(), hidden, tokens, v_.data(), kvDim},
    };
    if (const OnednnWeights* qkv = onednnQkvFor(layer, tokens)) {
        // One stacked product; each slice's output rows go to q, k or v.
        const uint16_t* rounded =
            roundRows(*pool_, normed_.data(), hidden, tokens, hidden, bf16Scratch_);
        pool_->parallelFor(qkv->slices(), [&](int64_t slice) {
            const int64_t first = qkv->sliceBegin(slice);
            const int64_t width = qkv->sliceEnd(slice) - first;
            qkv->multiplySlice(slice, rounded, tokens, [&](const float* out) {
                for (int64_t t = 0; t < tokens; ++t)
                    for (int64_t i = 0; i < width; ++i) {
                        const int64_t r = first + i;
                        const float value = out[t * width + i];
                        if (r < qDim)
                            q_[static_cast<std::size_t>(t * qDim + r)] = value;
                        else if (r < qDim + kvDim)
                            k_[static_cast<std::size_t>(t * kvDim + r - qDim)] = value;
                        else
                            v_[static_cast<std::size_t>(t * kvDim + r - qDim - kvDim)] = value;
                    }
            });
        });
    } else {
        // q, k and v are prepared for oneDNN only stacked (above); apart they are native.
        std::vector<RowTask> tasks;
        for (std::size_t j = 0; j < std::size(jobs); ++j) {
            const int64_t block = rowBlock(jobs[j].w->rows, pool_->size(), tokens);
            for (int64_t r = 0; r < jobs[j].w->rows; r += block)
                tasks.push_back({j, r, std::min(jobs[j].w->rows, r + block)});
        }
        // The three share one input: rounded once where the kernels round it.
        const uint16_t* rounded =
            roundsInput(layer.q) || roundsInput(layer.k) || roundsInput(layer.v)
                ? roundRows(*pool_, normed_.data(), hidden, tokens, hidden, bf16Scratch_)
                : nullptr;
        pool_->parallelFor(static_cast<int64_t>(tasks.size()), [&](int64_t index) {
            const RowTask& task = tasks[static_cast<std::size_t>(index)];
            const MatmulJob& job = jobs[task.job];
            if (roundsInput(*job.w))
                matmulRowsBf16Input(*job.w, task.rowBegin, task.rowEnd, rounded, hidden, job.tokens,
                                    job.y, job.yStride);
            else
                matmulRows(*job.w, task.rowBegin, task.rowEnd, job.x, job.xStride, job.tokens,
                           job.y, job.yStride);
        });
    }

    // Bias, q/k norms, clipping and RoPE per token, then the keys and values go to the cache.
    const auto prepare = [&](int64_t t) {
        float* q = &q_[static_cast<std::size_t>(t * qDim)];
        float* k = &k_[static_cast<std::size_t>(t * kvDim)];
        float* v = &v_[static_cast<std::size_t>(t * kvDim)];
        for (std::size_t i = 0; i < layer.qBias.size(); ++i)
            q[i] += layer.qBias[i];
        for (std::size_t i = 0; i < layer.kBias.size(); ++i)
            k[i] += layer.kBias[i];
        for (std::size_t i = 0; i < layer.vBias.size(); ++i)
            v[i] += layer.vBias[i];
        if (config.qkNorm == QkNorm::WholeProj) {
            rmsNormRow(q, layer.qNorm, eps, qDim, q);
            rmsNormRow(k, layer.kNorm, eps, kvDim, k);
        } else if (config.qkNorm == QkNorm::PerHead) {
            for (int64_t h = 0; h < config.numHeads; ++h)
                rmsNormRow(q + h * headDim, layer.qNorm, eps, headDim, q + h * headDim);
            for (int64_t h = 0; h < config.numKvHeads; ++h)
                rmsNormRow(k + h * headDim, layer.kNorm, eps, headDim, k + h * headDim);
        }
        if (config.clipQkv > 0.0) {
            const auto clip = static_cast<float>(config.clipQkv);
            for (int64_t i = 0; i < qDim; ++i)
                q[i] = std::clamp(q[i], -clip, clip);
            for (int64_t i = 0; i < kvDim; ++i) {
                k[i] = std::clamp(k[i], -clip, clip);
                v[i] = std::clamp(v[i], -clip, clip);
            }
        }
        const int64_t position = rows[static_cast<std::size_t>(t)].position;
        const float* cosines = &cos_[static_cast<std::size_t>(position * half)];
        const float* sines = &sin_[static_cast<std::size_t>(position * half)];
        const auto rotate = [&](float* x, int64_t heads) {
            for (int64_t h = 0; h < heads; ++h) {
                float* head = x + h * headDim;
                for (int64_t i = 0; i < half; ++i) {
                    const float x1 = head[i], x2 = head[i + half];
                    head[i] = x1 * cosines[i] - x2 * sines[i];
                    head[i + half] = x2 * cosines[i] + x1 * sines[i];
                }
            }
        };
        rotate(q, config.numHeads);
        rotate(k, config.numKvHeads);
        Sequence& sequence = *rows[static_cast<std::size_t>(t)].sequence;
        std::copy(k, k + kvDim,
                  &sequence.keys[layerIndex][static_cast<std::size_t>(position * kvDim)]);
        std::copy(v, v + kvDim,
                  &sequence.values[layerIndex][static_cast<std::size_t>(position * kvDim)]);
    };
    if (tokens >= 8)
        pool_->parallelFor(tokens, prepare);
    else
        for (int64_t t = 0; t < tokens; ++t)
            prepare(t);

    attention_.resize(static_cast<std::size_t>(tokens * qDim));
    if (isPrefillOfOneSequence(rows))
        prefillAttention(layerIndex, rows);
    else
        decodeAttention(layerIndex, rows);

    projected_.resize(static_cast<std::size_t>(tokens * hidden));
    matmul(layer.o, attention_.data(), qDim, tokens, projected_.data(), hidden);
    for (int64_t t = 0; t < tokens; ++t)
        for (int64_t i = 0; i < hidden; ++i)
            hidden_[static_cast<std::size_t>(t * hidden + i)] +=
                projected_[static_cast<std::size_t>(t * hidden + i)] +
                (layer.oBias.empty() ? 0.0f : layer.oBias[static_cast<std::size_t>(i)]);
}

// Rows that are consecutive positions of one sequence, enough of them for GEMMs to pay.
bool CpuBackend::isPrefillOfOneSequence(const std::vector<Row>& rows) const {
    constexpr std::size_t kMinTokens = 32;
    if (rows.size() < kMinTokens)
        return false;
    for (std::size_t i = 1; i < rows.size(); ++i)
        if (rows[i].sequence != rows[0].sequence ||
            rows[i].position != rows[0].position + static_cast<int64_t>(i))
            return false;
    return true;
}

// Prefill attention as two products per (KV head, block of query tokens): scores = Q K^T over
// the keys the block can see, a causal softmax per row, then P V. On oneDNN's sgemm where the
// build has it (CpuBackendOptions::onednnAttention), which reads K and V in place in the cache's
// rows; else on the packed GEMM (Kernels.h), for which each head's keys and transposed values are
// gathered first. A dot product per (token, position) instead ran at a tenth of the FMA rate: 105 s
// for an 8192-token prompt of two Qwen3 layers on the 2-core EPYC.
void CpuBackend::prefillAttention(std::size_t layerIndex, const std::vector<Row>& rows) {
    const ModelConfig& config = model_.config;
    const int64_t tokens = static_cast<int64_t>(rows.size());
    const int64_t qDim = config.qDim();
    const int64_t kvDim = config.kvDim();
    const int64_t headDim = config.headDim;
    const int64_t group = config.numHeads / config.numKvHeads;
    const int64_t kvHeads = config.numKvHeads;
    const int64_t first = rows.front().position;
    const int64_t context = first + tokens; // cached positions, the prompt's included
    const Sequence& sequence = *rows.front().sequence;
    const float* keys = sequence.keys[layerIndex].data();
    const float* values = sequence.values[layerIndex].data();
    const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
    const bool sgemm = attentionOnSgemm();

    // Packed GEMM: per KV head, its keys [context x headDim] and values transposed [headDim x
    // context].
    const auto perHead = static_cast<std::size_t>(2 * context * headDim);
    if (!sgemm) {
        kvScratch_.resize(static_cast<std::size_t>(kvHeads) * perHead);
        pool_->parallelFor(kvHeads, [&](int64_t h) {
            float* k = &kvScratch_[static_cast<std::size_t>(h) * perHead];
            float* vt = k + context * headDim;
            for (int64_t j = 0; j < context; ++j) {
                std::copy_n(keys + j * kvDim + h * headDim, headDim, k + j * headDim);
                for (int64_t d = 0; d < headDim; ++d)
                    vt[d * context + j] = values[j * kvDim + h * headDim + d];
            }
        });
    }

    constexpr int64_t kQueryBlock = 32;
    const int64_t blocks = (tokens + kQueryBlock - 1) / kQueryBlock;
    pool_->parallelFor(kvHeads * blocks, [&](int64_t task) {
        // Later blocks see more keys: hand them out first.
        const int64_t h = task % kvHeads;
        const int64_t b = blocks - 1 - task / kvHeads;
        const int64_t t0 = b * kQueryBlock;
        const int64_t n = std::min(tokens, t0 + kQueryBlock) - t0;
        const int64_t span = first + t0 + n; // keys the block's last token sees
        const int64_t queries = n * group;   // rows (token, head of the group)
        thread_local std::vector<float> qs, scores, out, inverse;
        qs.resize(static_cast<std::size_t>(queries * headDim));
        for (int64_t i = 0; i < n; ++i)
            std::copy_n(&q_[static_cast<std::size_t>((t0 + i) * qDim + h * group * headDim)],
                        group * headDim, &qs[static_cast<std::size_t>(i * group * headDim)]);
        scores.resize(static_cast<std::size_t>(queries * span));
        inverse.resize(static_cast<std::size_t>(queries));
        out.resize(static_cast<std::size_t>(headDim * queries));
        // out [queries x headDim] (sgemm), or out^T [headDim x queries] (packed GEMM).
        int64_t rowStride = headDim, dStride = 1;
        if (sgemm) {
            onednnSgemm(true, queries, span, headDim, qs.data(), headDim, keys + h * headDim, kvDim,
                        scores.data(), span);
            causalSoftmaxRows(scores.data(), queries, span, first + t0 + 1, group, scale,
                              inverse.data());
            onednnSgemm(false, queries, headDim, span, scores.data(), span, values + h * headDim,
                        kvDim, out.data(), headDim);
        } else {
            const float* k = &kvScratch_[static_cast<std::size_t>(h) * perHead];
            const float* vt = k + context * headDim;
            matmulRows(Matrix{WeightType::F32, span, headDim, k}, 0, span, qs.data(), headDim,
                       queries, scores.data(), span);
            causalSoftmaxRows(scores.data(), queries, span, first + t0 + 1, group, scale,
                              inverse.data());
            // out^T = P V as W = P (rows: queries) against x = V^T rows.
            matmulRows(Matrix{WeightType::F32, queries, span, scores.data()}, 0, queries, vt,
                       context, headDim, out.data(), queries);
            rowStride = 1;
            dStride = queries;
        }
        for (int64_t r = 0; r < queries; ++r) {
            float* to = &attention_[static_cast<std::size_t>((t0 + r / group) * qDim +
                                                             (h * group + r % group) * headDim)];
            const float factor = inverse[static_cast<std::size_t>(r)];
            for (int64_t d = 0; d < headDim; ++d)
                to[d] = out[static_cast<std::size_t>(r * rowStride + d * dStride)] * factor;
        }
    });
}

bool CpuBackend::attentionOnSgemm() const {
    return options_.onednnAttention && options_.prefill != PrefillGemm::Native &&
           onednnSgemmAvailable();
}

// Attention a row at a time (decode, or a few tokens).
void CpuBackend::decodeAttention(std::size_t layerIndex, const std::vector<Row>& rows) {
    const ModelConfig& config = model_.config;
    const int64_t tokens = static_cast<int64_t>(rows.size());
    const int64_t qDim = config.qDim();
    const int64_t kvDim = config.kvDim();
    const int64_t headDim = config.headDim;
    // One task per (token, KV head): the group of query heads sharing a KV head reads each cached
    // key and value row once (attendPart). When that leaves threads idle (decode of few sequences),
    // each row's context is also split into parts (split-K, as flash-decoding does), combined below
    // from their maxima and sums.
    const int64_t group = config.numHeads / config.numKvHeads;
    const int64_t units = tokens * config.numKvHeads;
    int64_t longest = 0;
    for (const Row& row : rows)
        longest = std::max(longest, row.position + 1);
    constexpr int64_t kMinPartPositions = 256;
    const int64_t threads = pool_->size();
    const int64_t parts = std::clamp<int64_t>((2 * threads + units - 1) / units, 1,
                                              std::max<int64_t>(1, longest / kMinPartPositions));
    const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
    // Per (unit, part): the group's maxima and sums, and its unnormalised outputs when split.
    partMax_.resize(static_cast<std::size_t>(units * parts * group));
    partSum_.resize(partMax_.size());
    if (parts > 1)
        partOut_.resize(static_cast<std::size_t>(units * parts * group * headDim));
    pool_->parallelFor(units * parts, [&](int64_t task) {
        const int64_t unit = task / parts;
        const int64_t part = task % parts;
        const int64_t t = unit / config.numKvHeads;
        const int64_t kvHead = unit % config.numKvHeads;
        const Row& row = rows[static_cast<std::size_t>(t)];
        const int64_t context = row.position + 1;
        const int64_t chunk = (context + parts - 1) / parts;
        const int64_t begin = std::min(context, part * chunk);
        const int64_t end = std::min(context, begin + chunk);
        const float* q = &q_[static_cast<std::size_t>(t * qDim + kvHead * group * headDim)];
        float* out =
            parts > 1 ? &partOut_[static_cast<std::size_t>(task * group * headDim)]
                      : &attention_[static_cast<std::size_t>(t * qDim + kvHead * group * headDim)];
        thread_local std::vector<float> scores;
        scores.resize(static_cast<std::size_t>(group * (end - begin)));
        attendPart(q, group, headDim, row.sequence->keys[layerIndex].data() + kvHead * headDim,
                   row.sequence->values[layerIndex].data() + kvHead * headDim, kvDim, begin, end,
                   scale, scores.data(), &partMax_[static_cast<std::size_t>(task * group)],
                   &partSum_[static_cast<std::size_t>(task * group)], out);
        if (parts == 1)
            for (int64_t g = 0; g < group; ++g) {
                const float inverse = 1.0f / partSum_[static_cast<std::size_t>(task * group + g)];
                for (int64_t d = 0; d < headDim; ++d)
                    out[g * headDim + d] *= inverse;
            }
    });
    if (parts > 1)
        pool_->parallelFor(units, [&](int64_t unit) {
            const int64_t t = unit / config.numKvHeads;
            const int64_t kvHead = unit % config.numKvHeads;
            for (int64_t g = 0; g < group; ++g) {
                const auto firstPart = static_cast<std::size_t>(unit * parts * group + g);
                mergeAttentionParts(&partMax_[firstPart], &partSum_[firstPart],
                                    &partOut_[firstPart * static_cast<std::size_t>(headDim)], parts,
                                    group, headDim,
                                    &attention_[static_cast<std::size_t>(
                                        t * qDim + (kvHead * group + g) * headDim)]);
            }
        });
}

void CpuBackend::mlpLayer(std::size_t layerIndex, int64_t tokens) {
    const ModelConfig& config = model_.config;
    const LayerWeights& layer = model_.weights.layers[layerIndex];
    const int64_t hidden = config.hiddenSize;
    normed_.resize(static_cast<std::size_t>(tokens * hidden));
    for (int64_t t = 0; t < tokens; ++t)
        rmsNormRow(&hidden_[static_cast<std::size_t>(t * hidden)], layer.postAttentionNorm,
                   config.rmsNormEps, hidden, &normed_[static_cast<std::size_t>(t * hidden)]);

    std::vector<ExpertJob> jobs;
    if (!layer.moe) {
        ExpertJob job{&layer.denseMlp, {}, {}};
        for (int64_t t = 0; t < tokens; ++t) {
            job.rows.push_back(t);
            job.gates.push_back(1.0f);
        }
        jobs.push_back(std::move(job));
    } else {
        const int64_t experts = config.numExperts;
        std::vector<float> routerLogits(static_cast<std::size_t>(tokens * experts));
        matmul(layer.router, normed_.data(), hidden, tokens, routerLogits.data(), experts);
        std::vector<ExpertJob> byExpert(static_cast<std::size_t>(experts));
        std::vector<double> logits(static_cast<std::size_t>(experts));
        auto& routing = routing_[layerIndex];
        routing.assign(static_cast<std::size_t>(tokens), {});
        for (int64_t t = 0; t < tokens; ++t) {
            for (int64_t e = 0; e < experts; ++e)
                logits[static_cast<std::size_t>(e)] =
                    routerLogits[static_cast<std::size_t>(t * experts + e)];
            // DeepSeekMoE's routing is the reference's own (ReferenceForward.h).
            const auto chosen = config.deepseek() ? routeDeepseek(config, layer, logits).chosen
                                                  : routeTopK(logits, config.numExpertsPerToken,
                                                              config.normTopkProb);
            for (const auto& [expert, weight] : chosen) {
                routing[static_cast<std::size_t>(t)].push_back(static_cast<int32_t>(expert));
                auto& job = byExpert[static_cast<std::size_t>(expert)];
                job.weights = &layer.experts[static_cast<std::size_t>(expert)];
                job.rows.push_back(t);
                job.gates.push_back(static_cast<float>(weight));
            }
        }
        // Only experts some token chose are read: the point of MoE decode.
        for (auto& job : byExpert)
            if (!job.rows.empty())
                jobs.push_back(std::move(job));
        if (!layer.sharedExpert.gate.empty()) {
            // Qwen2-MoE gates its shared expert (sigmoid of a [1 x H] product); DeepSeek's
            // n_shared_experts, summed into one MLP, are ungated.
            const bool gated = !layer.sharedExpertGate.empty();
            std::vector<float> gateLogits(static_cast<std::size_t>(tokens));
            if (gated)
                matmulRows(layer.sharedExpertGate, 0, 1, normed_.data(), hidden, tokens,
                           gateLogits.data(), 1);
            ExpertJob job{&layer.sharedExpert, {}, {}};
            for (int64_t t = 0; t < tokens; ++t) {
                job.rows.push_back(t);
                job.gates.push_back(
                    gated ? 1.0f / (1.0f + std::exp(-gateLogits[static_cast<std::size_t>(t)]))
                          : 1.0f);
            }
            jobs.push_back(std::move(job));
        }
    }

    // Gather each job's token rows so an expert's weights are read once for all its tokens.
    // A job whose products go through oneDNN takes them in BF16, rounded as they are gathered;
    // a routed expert's gate and up are one fused product whose output becomes the BF16
    // activations of its down projection in one pass (SwiGLU, then rounding).
    // Pair: as Fused, on pair panels (gemmPairPanels) instead of oneDNN.
    enum class Path { Native, Onednn, Fused, Pair };
    std::vector<Path> paths;
    int64_t gatheredRows = 0;
    int64_t actFloats = 0;
    for (auto& job : jobs) {
        job.firstRow = gatheredRows;
        job.actOffset = actFloats;
        const auto count = static_cast<int64_t>(job.rows.size());
        gatheredRows += count;
        actFloats += count * job.weights->gate.rows;
        paths.push_back(pairGateUpFor(*job.weights, count) != nullptr     ? Path::Pair
                        : onednnGateUpFor(*job.weights, count) != nullptr ? Path::Fused
                        : onednnFor(job.weights->gate, count) != nullptr  ? Path::Onednn
                                                                          : Path::Native);
    }
    thread_local std::vector<float> gathered, gateOut, upOut, downOut;
    gathered.resize(static_cast<std::size_t>(gatheredRows * hidden));
    gateOut.resize(static_cast<std::size_t>(actFloats));
    upOut.resize(static_cast<std::size_t>(actFloats));
    downOut.resize(static_cast<std::size_t>(gatheredRows * hidden));
    gatheredBf16_.resize(gathered.size());
    actBf16_.resize(gateOut.size());
    float* gatheredData = gathered.data();
    float* gateData = gateOut.data();
    float* upData = upOut.data();
    float* downData = downOut.data();
    uint16_t* gatheredBf16 = gatheredBf16_.data();
    uint16_t* actBf16 = actBf16_.data();
    pool_->parallelFor(static_cast<int64_t>(jobs.size()), [&](int64_t j) {
        const ExpertJob& job = jobs[static_cast<std::size_t>(j)];
        for (std::size_t i = 0; i < job.rows.size(); ++i) {
            const float* row = &normed_[static_cast<std::size_t>(job.rows[i] * hidden)];
            const int64_t at = (job.firstRow + static_cast<int64_t>(i)) * hidden;
            const MlpWeights& w = *job.weights;
            const bool native = paths[static_cast<std::size_t>(j)] == Path::Native;
            if (native && !(roundsInput(w.gate) && roundsInput(w.up)))
                std::copy_n(row, hidden, gatheredData + at);
            if (!native || roundsInput(w.gate) || roundsInput(w.up))
                roundToBf16(row, hidden, gatheredBf16 + at);
        }
    });

    // gate and up of every job in one dispatch; each task finishes SwiGLU for its rows.
    int64_t gateRows = 0, downRows = 0; // of the native jobs, over the dispatch
    for (std::size_t j = 0; j < jobs.size(); ++j)
        if (paths[j] == Path::Native) {
            gateRows += 2 * jobs[j].weights->gate.rows;
            downRows += hidden;
        }
    // Pair-panel jobs split into row ranges of whole strips, about eight tasks a thread over the
    // layer in proportion to each job's tokens (its work): an expert with many tokens does not
    // hold one thread while the others wait (Mixtral's eight experts on two threads). Gate and up
    // split where each is whole strips (a task then multiplies the same rows of both).
    int64_t pairTokens = 0;
    for (std::size_t j = 0; j < jobs.size(); ++j)
        if (paths[j] == Path::Pair)
            pairTokens += static_cast<int64_t>(jobs[j].rows.size());
    const auto pairChunkRows = [&](int64_t count, int64_t rows) {
        const int64_t strips = (rows + kPairPanelRows - 1) / kPairPanelRows;
        const int64_t pieces = std::clamp<int64_t>((8 * pool_->size() * count + pairTokens - 1) /
                                                       std::max<int64_t>(1, pairTokens),
                                                   1, strips);
        return (strips + pieces - 1) / pieces * kPairPanelRows;
    };
    std::vector<RowTask> tasks;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        const auto count = static_cast<int64_t>(jobs[j].rows.size());
        const Matrix& gate = jobs[j].weights->gate;
        if (paths[j] == Path::Pair && gate.rows % kPairPanelRows == 0) {
            const int64_t chunk = pairChunkRows(count, gate.rows);
            for (int64_t r = 0; r < gate.rows; r += chunk)
                tasks.push_back({j, r, std::min(gate.rows, r + chunk), 0});
        } else if (paths[j] == Path::Fused || paths[j] == Path::Pair) {
            tasks.push_back({j, 0, gate.rows, 0});
        } else if (paths[j] == Path::Onednn) {
            const OnednnWeights* prepared = onednnFor(gate, count);
            for (int64_t s = 0; s < prepared->slices(); ++s)
                tasks.push_back({j, prepared->sliceBegin(s), prepared->sliceEnd(s), s});
        } else {
            const int64_t block = rowBlock(gate.rows, pool_->size(), count, gateRows);
            for (int64_t r = 0; r < gate.rows; r += block)
                tasks.push_back({j, r, std::min(gate.rows, r + block)});
        }
    }
    pool_->parallelFor(static_cast<int64_t>(tasks.size()), [&](int64_t index) {
        const RowTask& task = tasks[static_cast<std::size_t>(index)];
        const ExpertJob& job = jobs[task.job];
        const int64_t inter = job.weights->gate.rows;
        const auto count = static_cast<int64_t>(job.rows.size());
        const Path path = paths[task.job];
        const uint16_t* rounded = gatheredBf16 + job.firstRow * hidden;
        uint16_t* act = actBf16 + job.actOffset;
        const auto gateUpToAct = [&](const float* gu) {
            for (int64_t t = 0; t < count; ++t)
                swigluToBf16(gu + t * 2 * inter, gu + t * 2 * inter + inter, inter,
                             act + t * inter);
        };
        if (path == Path::Fused) {
            onednnGateUpFor(*job.weights, count)->multiplySlice(0, rounded, count, gateUpToAct);
            return;
        }
        if (path == Path::Pair && inter % kPairPanelRows == 0) {
            // This task's rows of gate, then the same rows of up (the stacked panels' second
            // half), then SwiGLU on them.
            const PairPanels* panels = pairGateUpFor(*job.weights, count);
            const int64_t s0 = task.rowBegin / kPairPanelRows;
            const int64_t s1 = (task.rowEnd + kPairPanelRows - 1) / kPairPanelRows;
            const uint16_t* upPanels =
                panels->data() +
                (inter / kPairPanelRows) * pairPanelElements(kPairPanelRows, panels->cols);
            float* gate = gateData + job.actOffset;
            float* up = upData + job.actOffset;
            gemmPairPanels(panels->data(), inter, panels->cols, s0, s1, rounded, hidden, count,
                           gate, inter);
            gemmPairPanels(upPanels, inter, panels->cols, s0, s1, rounded, hidden, count, up,
                           inter);
            for (int64_t t = 0; t < count; ++t)
                swigluToBf16(gate + t * inter + task.rowBegin, up + t * inter + task.rowBegin,
                             task.rowEnd - task.rowBegin, act + t * inter + task.rowBegin);
            return;
        }
        if (path == Path::Pair) {
            const PairPanels* panels = pairGateUpFor(*job.weights, count);
            thread_local std::vector<float> gu;
            gu.resize(static_cast<std::size_t>(count * panels->rows));
            gemmPairPanels(panels->data(), panels->rows, panels->cols, 0,
                           (panels->rows + kPairPanelRows - 1) / kPairPanelRows, rounded, hidden,
                           count, gu.data(), panels->rows);
            gateUpToAct(gu.data());
            return;
        }
        float* gate = gateData + job.actOffset;
        float* up = upData + job.actOffset;
        if (path == Path::Onednn) {
            onednnFor(job.weights->gate, count)
                ->multiplySlice(task.slice, rounded, count, gate, inter);
            onednnFor(job.weights->up, count)->multiplySlice(task.slice, rounded, count, up, inter);
        } else {
            const float* x = gatheredData + job.firstRow * hidden;
            const auto product = [&](const Matrix& w, float* out) {
                if (roundsInput(w))
                    matmulRowsBf16Input(w, task.rowBegin, task.rowEnd, rounded, hidden, count, out,
                                        inter);
                else
                    matmulRows(w, task.rowBegin, task.rowEnd, x, hidden, count, out, inter);
            };
            product(job.weights->gate, gate);
            product(job.weights->up, up);
        }
        const bool roundAct = path == Path::Onednn || roundsInput(job.weights->down);
        for (int64_t t = 0; t < count; ++t) {
            float* g = gate + t * inter + task.rowBegin;
            const int64_t n = task.rowEnd - task.rowBegin;
            swiglu(g, up + t * inter + task.rowBegin, n, g);
            if (roundAct)
                roundToBf16(g, n, actBf16 + job.actOffset + t * inter + task.rowBegin);
        }
    });

    tasks.clear();
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        const auto count = static_cast<int64_t>(jobs[j].rows.size());
        if (paths[j] == Path::Pair) {
            const int64_t chunk = pairChunkRows(count, hidden);
            for (int64_t r = 0; r < hidden; r += chunk)
                tasks.push_back({j, r, std::min(hidden, r + chunk), 0});
            continue;
        }
        if (paths[j] != Path::Native) {
            const OnednnWeights* down = onednnFor(jobs[j].weights->down, count);
            for (int64_t s = 0; s < down->slices(); ++s)
                tasks.push_back({j, down->sliceBegin(s), down->sliceEnd(s), s});
            continue;
        }
        const int64_t block = rowBlock(hidden, pool_->size(), count, downRows);
        for (int64_t r = 0; r < hidden; r += block)
            tasks.push_back({j, r, std::min(hidden, r + block)});
    }
    pool_->parallelFor(static_cast<int64_t>(tasks.size()), [&](int64_t index) {
        const RowTask& task = tasks[static_cast<std::size_t>(index)];
        const ExpertJob& job = jobs[task.job];
        const int64_t inter = job.weights->gate.rows;
        const auto count = static_cast<int64_t>(job.rows.size());
        float* out = downData + job.firstRow * hidden;
        if (paths[task.job] == Path::Pair) {
            const PairPanels* panels = pairDownFor(*job.weights);
            gemmPairPanels(panels->data(), panels->rows, panels->cols,
                           task.rowBegin / kPairPanelRows,
                           (task.rowEnd + kPairPanelRows - 1) / kPairPanelRows,
                           actBf16 + job.actOffset, inter, count, out, hidden);
        } else if (task.slice >= 0)
            onednnFor(job.weights->down, count)
                ->multiplySlice(task.slice, actBf16 + job.actOffset, count, out, hidden);
        else if (roundsInput(job.weights->down))
            matmulRowsBf16Input(job.weights->down, task.rowBegin, task.rowEnd,
                                actBf16 + job.actOffset, inter, count, out, hidden);
        else
            matmulRows(job.weights->down, task.rowBegin, task.rowEnd, gateData + job.actOffset,
                       inter, count, out, hidden);
    });

    // Each token's experts, weighted, into its hidden row: split by columns, so no two tasks
    // write one element.
    constexpr int64_t kCombineColumns = 256;
    pool_->parallelFor((hidden + kCombineColumns - 1) / kCombineColumns, [&](int64_t chunk) {
        const int64_t c0 = chunk * kCombineColumns;
        const int64_t width = std::min(kCombineColumns, hidden - c0);
        for (const auto& job : jobs)
            for (std::size_t i = 0; i < job.rows.size(); ++i) {
                float* target = &hidden_[static_cast<std::size_t>(job.rows[i] * hidden + c0)];
                const float* source =
                    downData + (job.firstRow + static_cast<int64_t>(i)) * hidden + c0;
                axpyF32(job.gates[i], source, target, width);
            }
    });
}

} // namespace crossroads::inference
