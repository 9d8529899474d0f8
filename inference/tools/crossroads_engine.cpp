// crossroads-engine: the engine's Qt-free driver (the `crossroads run` / `crossroads bench`
// verbs of DESIGN.md, for machines without Qt). Exit codes: 0 ok, 1 runtime error, 2 usage.
#include "inference/Bench.h"
#include "inference/CpuBackend.h"
#include "inference/Kernels.h"
#include "inference/Presets.h"
#include "inference/Weights.h"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace crossroads::inference;

namespace {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr const char* kUsage =
    "usage: crossroads-engine run --model DIR|preset:NAME[?layers=N] --prompt-ids 1,2,3\n"
    "                             --max-new-tokens N [--logits-out FILE] [--threads T]\n"
    "       crossroads-engine bench --model M [--prompt N] [--gen N] [--batch B]\n"
    "                             [--repetitions R] [--threads T] [--json]\n"
    "       crossroads-engine presets\n";

// --name value pairs; flags listed in `flags` take no value.
std::map<std::string, std::string> parseOptions(int argc, char** argv, int first,
                                                const std::vector<std::string>& valued,
                                                const std::vector<std::string>& flags) {
    std::map<std::string, std::string> options;
    for (int i = first; i < argc; ++i) {
        const std::string arg = argv[i];
        if (std::find(flags.begin(), flags.end(), arg) != flags.end()) {
            options[arg] = "1";
        } else if (std::find(valued.begin(), valued.end(), arg) != valued.end()) {
            if (i + 1 >= argc)
                throw UsageError(arg + " needs a value");
            options[arg] = argv[++i];
        } else {
            throw UsageError("unknown option " + arg);
        }
    }
    return options;
}

int64_t toInt(const std::string& text, const std::string& option, int64_t minimum) {
    int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < minimum)
        throw UsageError(option + " needs an integer >= " + std::to_string(minimum) + ", got '" +
                         text + "'");
    return value;
}

std::vector<int32_t> parseIds(const std::string& text) {
    std::vector<int32_t> ids;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        ids.push_back(
            static_cast<int32_t>(toInt(text.substr(start, comma - start), "--prompt-ids", 0)));
        start = comma + 1;
    }
    return ids;
}

int run(int argc, char** argv) {
    const auto options = parseOptions(
        argc, argv, 2, {"--model", "--prompt-ids", "--max-new-tokens", "--logits-out", "--threads"},
        {});
    if (!options.count("--model") || !options.count("--prompt-ids") ||
        !options.count("--max-new-tokens"))
        throw UsageError("run needs --model, --prompt-ids and --max-new-tokens");
    const auto prompt = parseIds(options.at("--prompt-ids"));
    const int64_t maxNew = toInt(options.at("--max-new-tokens"), "--max-new-tokens", 0);
    const int threads = options.count("--threads")
                            ? static_cast<int>(toInt(options.at("--threads"), "--threads", 1))
                            : 0;
    const Model model = loadModel(options.at("--model"));
    if (model.config.truncated())
        std::cerr << "note: " << model.name << " is truncated to " << model.config.numLayers
                  << " of " << model.config.truncatedFromLayers << " layers\n";
    CpuBackend backend(model, threads);
    Sequence sequence = backend.newSequence();
    const int64_t vocab = model.config.vocabSize;
    std::vector<int32_t> generated;
    std::vector<std::vector<float>> rows;
    std::vector<float> logits;
    if (maxNew > 0)
        logits = backend.prefill(sequence, prompt);
    for (int64_t step = 0; step < maxNew; ++step) {
        const auto chosen =
            static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        generated.push_back(chosen);
        if (options.count("--logits-out"))
            rows.push_back(logits);
        if (step + 1 < maxNew) {
            Sequence* pointer = &sequence;
            logits = backend.decode(std::span<Sequence* const>(&pointer, 1),
                                    std::span<const int32_t>(&chosen, 1));
        }
    }
    (void)vocab;
    for (std::size_t i = 0; i < generated.size(); ++i)
        std::cout << (i ? "," : "") << generated[i];
    std::cout << "\n";
    if (options.count("--logits-out")) {
        std::ofstream out(options.at("--logits-out"));
        if (!out)
            throw EngineError("cannot write " + options.at("--logits-out"));
        out << nlohmann::json{
            {"prompt_ids", prompt},
            {"generated_ids", generated},
            {"logits",
             rows}}.dump();
        if (!out)
            throw EngineError("failed writing " + options.at("--logits-out"));
    }
    return 0;
}

int bench(int argc, char** argv) {
    const auto options = parseOptions(argc, argv, 2,
                                      {"--model", "--prompt", "--gen", "--batch", "--repetitions",
                                       "--threads", "--bandwidth-mib"},
                                      {"--json"});
    BenchOptions bench;
    const std::string model =
        options.count("--model") ? options.at("--model") : "preset:qwen3-30b-a3b?layers=2";
    if (options.count("--prompt"))
        bench.promptTokens = toInt(options.at("--prompt"), "--prompt", 0);
    if (options.count("--gen"))
        bench.genTokens = toInt(options.at("--gen"), "--gen", 0);
    if (options.count("--batch"))
        bench.batch = toInt(options.at("--batch"), "--batch", 1);
    if (options.count("--repetitions"))
        bench.repetitions =
            static_cast<int>(toInt(options.at("--repetitions"), "--repetitions", 1));
    if (options.count("--threads"))
        bench.threads = static_cast<int>(toInt(options.at("--threads"), "--threads", 1));
    if (options.count("--bandwidth-mib"))
        bench.bandwidthBytes =
            static_cast<std::size_t>(toInt(options.at("--bandwidth-mib"), "--bandwidth-mib", 64))
            << 20;
    const Model loaded = loadModel(model);
    const BenchResult result = runBench(loaded, bench);
    if (options.count("--json"))
        std::cout << benchResultToJson(result).dump(2) << "\n";
    else
        std::cout << benchResultTable(result);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        if (argc < 2)
            throw UsageError("missing command");
        const std::string command = argv[1];
        if (command == "run")
            return run(argc, argv);
        if (command == "bench")
            return bench(argc, argv);
        if (command == "presets") {
            for (const auto& name : presetNames())
                std::cout << "preset:" << name << "\n";
            return 0;
        }
        if (command == "--help" || command == "-h") {
            std::cout << kUsage;
            return 0;
        }
        throw UsageError("unknown command '" + command + "'");
    } catch (const UsageError& error) {
        std::cerr << "crossroads-engine: " << error.what() << "\n" << kUsage;
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "crossroads-engine: " << error.what() << "\n";
        return 1;
    }
}
