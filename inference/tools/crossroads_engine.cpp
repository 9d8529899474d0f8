// crossroads-engine: the engine's Qt-free driver (the `crossroads run` / `crossroads bench`
// verbs of DESIGN.md, for machines without Qt, and `reference`, the plain reference forward). Exit
// codes: 0 ok, 1 runtime error, 2 usage.
#include "inference/bench/Bench.h"
#include "inference/engine/Engine.h"
#include "inference/model/Presets.h"
#include "inference/model/ReferenceForward.h"
#include "inference/model/Weights.h"

#include <algorithm>
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
    "usage: crossroads-engine run --model DIR|preset:NAME[?layers=N][&dtype=D] --prompt-ids 1,2,3\n"
    "                             --max-new-tokens N [--backend auto|cpu|cuda]\n"
    "                             [--logits-out FILE] [--threads T]\n"
    "       crossroads-engine bench --model M [--backend auto|cpu|cuda] [--prompt N]\n"
    "                             [--gen N] [--batch B] [--context N[,N...]]\n"
    "                             [--repetitions R] [--threads T] [--bandwidth-mib M]\n"
    "                             [--json]\n"
    "       crossroads-engine reference --model DIR|preset:NAME[?layers=N][&dtype=D]\n"
    "                             --prompt-ids 1,2,3 [--logits-out FILE]\n"
    "       crossroads-engine presets\n"
    "D (synthetic weights of a preset): bf16, f32 or fp8; default the preset's own (fp8 for\n"
    "DeepSeek-V3, whose checkpoint is FP8; bf16 otherwise)\n";

// --name value pairs; flags listed in `flags` take no value.
std::map<std::string, std::string> parseOptions(int argc, char** argv, int first,
                                                const std::vector<std::string>& valued,
                                                const std::vector<std::string>& flags) {
    std::map<std::string, std::string> options;
    for (int i = first; i < argc; ++i) {
        const std::string arg = argv[i];
        if (std::find(flags.begin(), flags.end(), arg) != flags.end()) {
            // Not operator=(const char*): GCC 12 at -O3 warns -Wrestrict in it (PR 105651).
            options.insert_or_assign(arg, std::string("1"));
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

BackendKind backendKind(const std::map<std::string, std::string>& options) {
    const auto found = options.find("--backend");
    if (found == options.end())
        return BackendKind::Auto;
    const auto kind = backendKindFromName(found->second);
    if (!kind)
        throw UsageError("--backend takes auto, cpu or cuda, not '" + found->second + "'");
    return *kind;
}

int threadsOption(const std::map<std::string, std::string>& options) {
    return options.count("--threads")
               ? static_cast<int>(toInt(options.at("--threads"), "--threads", 1))
               : 0;
}

void noteTruncation(const Model& model) {
    if (model.config.truncated())
        std::cerr << "note: " << model.name << " is truncated to " << model.config.numLayers
                  << " of " << model.config.truncatedFromLayers << " layers\n";
}

int run(int argc, char** argv) {
    const auto options = parseOptions(
        argc, argv, 2,
        {"--model", "--prompt-ids", "--max-new-tokens", "--logits-out", "--threads", "--backend"},
        {});
    if (!options.count("--model") || !options.count("--prompt-ids") ||
        !options.count("--max-new-tokens"))
        throw UsageError("run needs --model, --prompt-ids and --max-new-tokens");
    const auto prompt = parseIds(options.at("--prompt-ids"));
    const int64_t maxNew = toInt(options.at("--max-new-tokens"), "--max-new-tokens", 0);
    const BackendKind kind = backendKind(options);
    const int threads = threadsOption(options);
    const Model model = loadModel(options.at("--model"));
    noteTruncation(model);
    const auto backend = makeBackend(kind, model, threads);
    const GreedyResult result =
        greedyGenerate(*backend, prompt, maxNew, options.count("--logits-out") != 0);
    for (std::size_t i = 0; i < result.generated.size(); ++i)
        std::cout << (i ? "," : "") << result.generated[i];
    std::cout << "\n";
    if (options.count("--logits-out")) {
        std::ofstream out(options.at("--logits-out"));
        if (!out)
            throw EngineError("cannot write " + options.at("--logits-out"));
        out << nlohmann::json{{"prompt_ids", prompt},
                              {"generated_ids", result.generated},
                              {"logits", result.logits}}
                   .dump();
        if (!out)
            throw EngineError("failed writing " + options.at("--logits-out"));
    }
    return 0;
}

// The plain reference forward (every family, DeepSeek included) over the prompt: prints the
// greedy next token of the last position; the logits file holds every position's row.
int reference(int argc, char** argv) {
    const auto options =
        parseOptions(argc, argv, 2, {"--model", "--prompt-ids", "--logits-out"}, {});
    if (!options.count("--model") || !options.count("--prompt-ids"))
        throw UsageError("reference needs --model and --prompt-ids");
    const auto prompt = parseIds(options.at("--prompt-ids"));
    const Model model = loadModel(options.at("--model"), nullptr, ForwardPath::Reference);
    noteTruncation(model);
    const auto logits = referenceForward(model, prompt);
    const auto& last = logits.back();
    std::cout << std::distance(last.begin(), std::max_element(last.begin(), last.end())) << "\n";
    if (options.count("--logits-out")) {
        std::ofstream out(options.at("--logits-out"));
        if (!out)
            throw EngineError("cannot write " + options.at("--logits-out"));
        out << nlohmann::json{{"prompt_ids", prompt}, {"logits", logits}}.dump();
        if (!out)
            throw EngineError("failed writing " + options.at("--logits-out"));
    }
    return 0;
}

int bench(int argc, char** argv) {
    const auto options =
        parseOptions(argc, argv, 2,
                     {"--model", "--prompt", "--gen", "--batch", "--context", "--repetitions",
                      "--threads", "--bandwidth-mib", "--backend"},
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
    if (options.count("--context"))
        bench.contextTokens = parseCountList(options.at("--context"), "--context");
    if (options.count("--repetitions"))
        bench.repetitions =
            static_cast<int>(toInt(options.at("--repetitions"), "--repetitions", 1));
    bench.threads = threadsOption(options);
    const BackendKind kind = backendKind(options);
    if (options.count("--bandwidth-mib"))
        bench.bandwidthBytes =
            static_cast<std::size_t>(toInt(options.at("--bandwidth-mib"), "--bandwidth-mib", 64))
            << 20;
    const Model loaded = loadModel(model);
    noteTruncation(loaded);
    const auto backend = makeBackend(kind, loaded, bench.threads);
    const BenchResult result = runBench(*backend, bench);
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
        if (command == "reference")
            return reference(argc, argv);
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
