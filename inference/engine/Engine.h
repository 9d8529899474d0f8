// The engine's top: the backend for a device (CPU, or CUDA where built and present) and the
// greedy generation driver every front end uses. The only target that links every backend.
#pragma once

#include "inference/backend/Backend.h"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::inference {

enum class BackendKind { Auto, Cpu, Cuda };

// "auto" | "cpu" | "cuda"; nullopt for anything else.
std::optional<BackendKind> backendKindFromName(std::string_view name);

// True when the CUDA backend was built and a device is present; otherwise false with the reason
// in `why` ("built without CUDA", "no CUDA device: <driver message>").
bool cudaAvailable(std::string* why = nullptr);

// Auto picks CUDA when available and it runs the model, else the CPU (DeepSeek's MLA runs on the
// CPU only, requireForwardSupport). Cuda when unavailable or unable to run the model throws
// EngineError with the reason. threads: CPU threads (<= 0: all hardware threads).
std::unique_ptr<Backend> makeBackend(BackendKind kind, const Model& model, int threads = 0);

// Greedy decoding on any backend: the generated ids and, when keepLogits, the full logits row
// that chose each of them (row 0 from the last prompt position), as `crossroads run` writes.
struct GreedyResult {
    std::vector<int32_t> generated;
    std::vector<std::vector<float>> logits;
};
GreedyResult greedyGenerate(Backend& backend, std::span<const int32_t> prompt, int64_t maxNewTokens,
                            bool keepLogits);

} // namespace crossroads::inference
