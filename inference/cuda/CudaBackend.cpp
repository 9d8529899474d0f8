// The CUDA backend's Backend interface: start-up, sequences, and each call's host side (its
// checks, the inputs staged in, the syncs, the logits copied out, its cost). The launches of the
// forward pass itself are in CudaForward.cpp; the design is summarised in CudaEngine.h.
#include "inference/cuda/CudaBackend.h"

#include "inference/cuda/CudaState.h"
#include "inference/model/Cost.h"

#include <algorithm>
#include <set>
#include <utility>

namespace crossroads::inference {

using gpu::bf16;
using gpu::SequenceCache;
using gpu::toInt;
using gpu::Workspace;

namespace {

// The device holds weights and caches as BF16, whatever the checkpoint stores.
constexpr double kDeviceBytesPerParameter = sizeof(bf16);
constexpr double kCacheBytesPerElement = sizeof(bf16);

std::string versionText(int version) { // 13000 -> "13.0"
    return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

} // namespace

// ---- State ----------------------------------------------------------------------------------

CudaBackend::State::~State() {
    if (stream != nullptr)
        cudaStreamSynchronize(stream);
    dropGraphs();
    for (auto& [begin, end] : profileEvents) {
        cudaEventDestroy(begin);
        cudaEventDestroy(end);
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

void CudaBackend::State::start() {
    dims = gpu::modelDims(config);
    caches = gpu::KvCaches(dims.layers, dims.shape.kvDim());
    CUDA_CHECK(cudaSetDevice(0));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&cublas));
    CUBLAS_CHECK(cublasSetStream(cublas, stream));
    CUDA_CHECK(cudaEventCreateWithFlags(&countsReady, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventCreate(&forwardStart));
    CUDA_CHECK(cudaEventCreate(&forwardEnd));
    weights.upload(model, dims);
    host.allocate(dims);
}

void CudaBackend::State::markForward(bool start) {
    if (profiling)
        CUDA_CHECK(cudaEventRecord(start ? forwardStart : forwardEnd, stream));
}

void CudaBackend::State::readForwardTime() {
    profile.forwardGpuSeconds = 0;
    if (!profiling)
        return;
    float milliseconds = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&milliseconds, forwardStart, forwardEnd));
    profile.forwardGpuSeconds = milliseconds * 1e-3;
}

void CudaBackend::State::finishCall() {
    caches.releaseRetired(); // the stream is idle: replaced caches can go
}

void CudaBackend::State::checkTokens(std::span<const int32_t> tokens) const {
    for (const int32_t token : tokens)
        if (token < 0 || token >= dims.vocab)
            throw EngineError("token id " + std::to_string(token) + " is outside the vocabulary (" +
                              std::to_string(dims.vocab) + ")");
}

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
    return s.caches.create();
}

void CudaBackend::releaseSequence(SequenceId id) {
    State& s = *state_;
    s.caches.at(id);                             // throws for an unknown id
    CUDA_CHECK(cudaStreamSynchronize(s.stream)); // no queued kernel may still use the cache
    s.caches.erase(id);
}

int64_t CudaBackend::sequenceLength(SequenceId id) const {
    return state_->caches.at(id).length;
}

std::vector<float> CudaBackend::prefill(SequenceId id, std::span<const int32_t> tokens,
                                        bool allPositions) {
    State& s = *state_;
    const gpu::CountDeviceMemory counting(s.memory);
    if (tokens.empty())
        throw EngineError("prefill needs at least one token");
    s.checkTokens(tokens);
    SequenceCache& sequence = s.caches.at(id);
    const int n = toInt(static_cast<int64_t>(tokens.size()), "the prefill length");
    const int start = toInt(sequence.length, "the sequence length");
    toInt(sequence.length + n, "the sequence length");
    const int outputs = allPositions ? n : 1;
    s.stats = {};

    s.caches.ensureCapacity(sequence, start + n, s.stream);
    Workspace& w = s.prefillSpace;
    const int context = start + n;
    w.reservePrefill(s.dims, n, context, outputs);
    s.host.reserve(s.dims, n, outputs);

    int* ints = s.host.ints.get();
    StepShape shape; // the call's cost follows from it
    for (int i = 0; i < n; ++i) {
        ints[i] = tokens[static_cast<std::size_t>(i)];
        ints[n + i] = start + i;
        ints[2 * n + i] = 0;
        shape.contexts.push_back(start + i + 1); // position start + i attends to itself too
    }
    ints[3 * n] = sequence.capacity;
    s.host.pointers.get()[0] = sequence.kv.get();
    gpu::stageInputs(w, s.host, n, 1, s.stream);

    s.markForward(true);
    const std::size_t profiled = s.prefillLayers(w, n, start, sequence);
    const bf16* finalRows =
        w.normed.get() +
        (allPositions ? 0
                      : static_cast<std::size_t>(n - 1) * static_cast<std::size_t>(s.dims.hidden));
    s.gemm(s.weights.lmHead, s.dims.vocab, s.dims.hidden, finalRows, outputs, w.logits.get(),
           CUDA_R_32F, s.dims.vocab, 0.0f);
    s.markForward(false);
    const std::size_t logitCount =
        static_cast<std::size_t>(outputs) * static_cast<std::size_t>(s.dims.vocab);
    CUDA_CHECK(cudaMemcpyAsync(s.host.logits.get(), w.logits.get(), logitCount * sizeof(float),
                               cudaMemcpyDeviceToHost, s.stream));
    CUDA_CHECK(cudaStreamSynchronize(s.stream));
    sequence.length += n;
    shape.expertsRead = s.expertsRead; // counted from the routing's expert counts, per layer
    shape.logitRows = outputs;
    s.stats = stepCost(s.config, shape, kDeviceBytesPerParameter, kCacheBytesPerElement);

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
    s.profile.expertGemmFlops = 6.0 * n * s.dims.topK * static_cast<double>(s.dims.hidden) *
                                s.dims.inter * static_cast<double>(profiled / 2);
    s.finishCall();
    return {s.host.logits.get(), s.host.logits.get() + logitCount};
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
    std::vector<SequenceCache*> sequences;
    for (const SequenceId id : ids)
        sequences.push_back(&s.caches.at(id));
    s.stats = {};

    int maxContext = 0;
    StepShape shape; // the call's cost follows from it
    for (SequenceCache* sequence : sequences) {
        s.caches.ensureCapacity(*sequence, sequence->length + 1, s.stream);
        shape.contexts.push_back(sequence->length + 1); // the new token attends to itself too
        maxContext = std::max(maxContext, toInt(sequence->length + 1, "the sequence length"));
    }
    Workspace& w = s.decodeSpace;
    const int splits = gpu::attentionSplits(maxContext);
    if (w.reserveDecode(s.dims, batch, splits))
        s.dropGraphs(); // captured graphs point at the old buffers
    s.host.reserve(s.dims, batch, batch);

    int* ints = s.host.ints.get();
    for (int b = 0; b < batch; ++b) {
        const SequenceCache& sequence = *sequences[static_cast<std::size_t>(b)];
        ints[b] = tokens[static_cast<std::size_t>(b)];
        ints[batch + b] = static_cast<int>(sequence.length);
        ints[2 * batch + b] = b;
        ints[3 * batch + b] = sequence.capacity;
        s.host.pointers.get()[b] = sequence.kv.get();
    }
    gpu::stageInputs(w, s.host, batch, batch, s.stream);
    s.markForward(true);
    s.launchDecode(w, batch, splits);
    s.markForward(false);
    const std::size_t logitCount =
        static_cast<std::size_t>(batch) * static_cast<std::size_t>(s.dims.vocab);
    CUDA_CHECK(cudaMemcpyAsync(s.host.logits.get(), w.logits.get(), logitCount * sizeof(float),
                               cudaMemcpyDeviceToHost, s.stream));
    CUDA_CHECK(cudaMemcpyAsync(s.host.active.get(), w.activeRecord.get(),
                               static_cast<std::size_t>(s.dims.layers) * sizeof(int),
                               cudaMemcpyDeviceToHost, s.stream));
    CUDA_CHECK(cudaStreamSynchronize(s.stream)); // the step's one host sync
    for (SequenceCache* sequence : sequences)
        ++sequence->length;
    s.profile = {};
    s.readForwardTime();

    // The active counts the routing recorded on the device; dense layers record none.
    s.expertsRead.assign(static_cast<std::size_t>(s.dims.layers), 0.0);
    for (int l = 0; l < s.dims.layers; ++l)
        if (s.weights.layers[static_cast<std::size_t>(l)].moe)
            s.expertsRead[static_cast<std::size_t>(l)] = s.host.active.get()[l];
    shape.expertsRead = s.expertsRead;
    shape.logitRows = batch;
    s.stats = stepCost(s.config, shape, kDeviceBytesPerParameter, kCacheBytesPerElement);
    s.finishCall();
    return {s.host.logits.get(), s.host.logits.get() + logitCount};
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
    return 2.0 * state_->dims.layers * state_->dims.shape.kvDim() *
           static_cast<double>(sizeof(bf16));
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
