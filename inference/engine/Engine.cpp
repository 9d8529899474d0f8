#include "inference/engine/Engine.h"

#include "inference/cpu/CpuBackend.h"

#ifdef CROSSROADS_HAVE_CUDA
#include "inference/cuda/CudaBackend.h"
#endif

#include <algorithm>

namespace crossroads::inference {

std::optional<BackendKind> backendKindFromName(std::string_view name) {
    if (name == "auto")
        return BackendKind::Auto;
    if (name == "cpu")
        return BackendKind::Cpu;
    if (name == "cuda")
        return BackendKind::Cuda;
    return std::nullopt;
}

bool cudaAvailable(std::string* why) {
#ifdef CROSSROADS_HAVE_CUDA
    return cudaDeviceStatus(why);
#else
    if (why != nullptr)
        *why = "built without CUDA";
    return false;
#endif
}

namespace {

bool cudaRuns(const ModelConfig& config) {
    try {
        requireForwardSupport(config, ForwardBackend::Cuda);
        return true;
    } catch (const EngineError&) {
        return false;
    }
}

} // namespace

std::unique_ptr<Backend> makeBackend(BackendKind kind, const Model& model, int threads) {
    // Each backend refuses the architectures it cannot run (the CUDA backend: DeepSeek's MLA);
    // Auto takes the CPU for those.
    switch (kind) {
    case BackendKind::Cpu:
        requireForwardSupport(model.config, ForwardBackend::Cpu);
        return std::make_unique<CpuBackend>(model, threads);
    case BackendKind::Auto:
        if (!cudaAvailable() || !cudaRuns(model.config))
            return makeBackend(BackendKind::Cpu, model, threads);
        [[fallthrough]];
    case BackendKind::Cuda: {
        requireForwardSupport(model.config, ForwardBackend::Cuda);
#ifdef CROSSROADS_HAVE_CUDA
        std::string why;
        if (!cudaDeviceStatus(&why))
            throw EngineError("the CUDA backend cannot run: " + why);
        return makeCudaBackend(model);
#else
        throw EngineError("the CUDA backend cannot run: built without CUDA (nvcc was not found at "
                          "configure time)");
#endif
    }
    }
    throw EngineError("unknown backend kind");
}

namespace {

// Gives the sequence back however generation ends (a bad token id throws mid-way).
class SequenceGuard {
public:
    explicit SequenceGuard(Backend& backend) : backend_(backend), id_(backend.newSequence()) {}
    ~SequenceGuard() {
        try {
            backend_.releaseSequence(id_);
        } catch (...) { // a destructor must not throw; the backend goes away with its sequences
        }
    }
    SequenceGuard(const SequenceGuard&) = delete;
    SequenceGuard& operator=(const SequenceGuard&) = delete;
    SequenceId id() const { return id_; }

private:
    Backend& backend_;
    SequenceId id_;
};

} // namespace

GreedyResult greedyGenerate(Backend& backend, std::span<const int32_t> prompt, int64_t maxNewTokens,
                            bool keepLogits) {
    if (maxNewTokens < 0)
        throw EngineError("max new tokens must be >= 0");
    GreedyResult result;
    if (maxNewTokens == 0)
        return result;
    if (prompt.empty())
        throw EngineError("greedy generation needs a prompt of at least one token");
    const SequenceGuard sequence(backend);
    std::vector<float> logits = backend.prefill(sequence.id(), prompt);
    const auto vocab = static_cast<std::size_t>(backend.model().config.vocabSize);
    for (int64_t step = 0; step < maxNewTokens; ++step) {
        if (logits.size() != vocab)
            throw EngineError("the backend returned " + std::to_string(logits.size()) +
                              " logits for a vocabulary of " + std::to_string(vocab));
        // The first maximum wins a tie, as torch.argmax does.
        const auto chosen =
            static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        result.generated.push_back(chosen);
        if (keepLogits)
            result.logits.push_back(logits);
        // The last token's logits are never needed, so the final step skips its decode.
        if (step + 1 < maxNewTokens) {
            const SequenceId id = sequence.id();
            logits = backend.decode(std::span<const SequenceId>(&id, 1),
                                    std::span<const int32_t>(&chosen, 1));
        }
    }
    return result;
}

} // namespace crossroads::inference
