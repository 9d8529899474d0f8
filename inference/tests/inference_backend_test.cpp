// The Backend seam: kind names, the choice makeBackend makes on a machine with or without CUDA,
// the CPU backend's device description, and greedy generation on any backend.
#include "Check.h"
#include "inference/base/Host.h"
#include "inference/cpu/CpuBackend.h"
#include "inference/cpu/Kernels.h"
#include "inference/engine/Engine.h"
#include "inference/model/Cost.h"

#include <algorithm>

using namespace crossroads::inference;

namespace {

void kindNames() {
    CHECK(backendKindFromName("auto") == BackendKind::Auto);
    CHECK(backendKindFromName("cpu") == BackendKind::Cpu);
    CHECK(backendKindFromName("cuda") == BackendKind::Cuda);
    for (const char* bad : {"", "CPU", "gpu", "cuda ", "metal"})
        CHECK(!backendKindFromName(bad).has_value());
}

void choosingABackend() {
    const Model model = synthesizeModel(check::tinyConfig(ModelFamily::Mixtral), WeightType::BF16);
    const auto cpu = makeBackend(BackendKind::Cpu, model, 2);
    CHECK(cpu->device().backend == "cpu");
    CHECK(&cpu->model() == &model);

    std::string why;
    const bool cuda = cudaAvailable(&why);
    if (!cuda) {
        CHECK(!why.empty());
        // Auto falls back to the CPU; asking for CUDA is an error that gives the same reason
        // cudaAvailable does (the CLI tests match one against the other).
        CHECK(makeBackend(BackendKind::Auto, model, 1)->device().backend == "cpu");
        CHECK_THROWS_WITH(makeBackend(BackendKind::Cuda, model),
                          "the CUDA backend cannot run: " + why);
    } else {
        CHECK(makeBackend(BackendKind::Auto, model)->device().backend == "cuda");
    }
    CHECK(cudaAvailable() == cuda); // the reason is optional
}

void cpuDevice() {
    const Model model = synthesizeModel(check::tinyConfig(ModelFamily::Olmoe), WeightType::BF16);
    CpuBackend backend(model, 3);
    const DeviceInfo device = backend.device();
    CHECK(device.backend == "cpu");
    CHECK(device.name == cpuName() && !device.name.empty());
    CHECK(device.isa == isaName(activeIsa()));
    CHECK(device.threads == 3);
    CHECK(device.driver.empty() && device.memoryBytes == 0);
    // The F32 cache of the tiny OLMoE: 2 layers x (K and V) x 4 KV heads x 16 dims x 4 bytes.
    CHECK(model.config.numLayers == 2 && model.config.numKvHeads == 4 &&
          model.config.headDim == 16);
    CHECK_NEAR(backend.kvBytesPerToken(), 1024.0, 0.0);
    CHECK(backend.measureReadBandwidthGbPerS(std::size_t{8} << 20) > 0);
}

// The loop `run` used before greedyGenerate existed: prefill, then argmax and decode per step.
std::pair<std::vector<int32_t>, std::vector<std::vector<float>>>
handWrittenGreedy(CpuBackend& backend, const std::vector<int32_t>& prompt, int64_t maxNew) {
    const SequenceId sequence = backend.newSequence();
    std::vector<int32_t> generated;
    std::vector<std::vector<float>> rows;
    std::vector<float> logits = backend.prefill(sequence, prompt);
    for (int64_t step = 0; step < maxNew; ++step) {
        const auto chosen =
            static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        generated.push_back(chosen);
        rows.push_back(logits);
        if (step + 1 < maxNew)
            logits = backend.decode(std::span<const SequenceId>(&sequence, 1),
                                    std::span<const int32_t>(&chosen, 1));
    }
    backend.releaseSequence(sequence);
    return {generated, rows};
}

void greedyGeneration() {
    for (const ModelFamily family : {ModelFamily::Qwen3Moe, ModelFamily::Qwen2Moe}) {
        const Model model = synthesizeModel(check::tinyConfig(family), WeightType::BF16, 5);
        CpuBackend backend(model, 2);
        const std::vector<int32_t> prompt = {3, 14, 15, 92, 65};
        const auto [expectedIds, expectedRows] = handWrittenGreedy(backend, prompt, 6);
        const GreedyResult withLogits = greedyGenerate(backend, prompt, 6, true);
        CHECK(withLogits.generated == expectedIds);
        CHECK(withLogits.logits == expectedRows); // bit for bit: the same calls in the same order
        CHECK(withLogits.logits.size() == 6);
        CHECK(withLogits.logits[0].size() == static_cast<std::size_t>(model.config.vocabSize));
        const GreedyResult idsOnly = greedyGenerate(backend, prompt, 6, false);
        CHECK(idsOnly.generated == expectedIds && idsOnly.logits.empty());
        // Generation gives its sequence back: the next handle is the only live one.
        const SequenceId next = backend.newSequence();
        for (SequenceId id = 1; id < next; ++id)
            CHECK_THROWS_WITH(backend.sequenceLength(id), "unknown sequence id");
    }
    const Model model = synthesizeModel(check::tinyConfig(ModelFamily::Mixtral), WeightType::F32);
    CpuBackend backend(model, 1);
    const std::vector<int32_t> prompt = {1, 2};
    CHECK(greedyGenerate(backend, prompt, 0, true).generated.empty());
    CHECK(greedyGenerate(backend, prompt, 1, true).generated.size() == 1);
    CHECK_THROWS_WITH(greedyGenerate(backend, {}, 3, false), "at least one token");
    CHECK_THROWS_WITH(greedyGenerate(backend, prompt, -1, false), ">= 0");
    const std::vector<int32_t> outside = {1, 96};
    CHECK_THROWS_WITH(greedyGenerate(backend, outside, 2, false), "outside the vocabulary");
}

} // namespace

int main() {
    try {
        kindNames();
        choosingABackend();
        cpuDevice();
        greedyGeneration();
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_backend_test");
}
