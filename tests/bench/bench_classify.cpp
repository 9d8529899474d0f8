// Chip x edition classifications per second on one core, without explanation strings: the
// compiled edition (analysis/CompiledEdition.h, paragraph and controlled only) over every bundled
// chip x edition, beside classify() (the reference: explanations, borderline search) for the
// ratio. Goal: at least 10^6 per second. Built, never run by CTest:
//   build/tests/.../bench_classify [SOURCE_DIR] [SECONDS]
// Pins itself to one CPU (the first it may run on) so the figure is one core's.
#include "analysis/ChipJson.h"
#include "analysis/Classifier.h"
#include "analysis/CompiledEdition.h"
#include "analysis/Edition.h"

#include <sched.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace crossroads::analysis;

namespace {

std::string readText(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void pinToOneCore() {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &allowed)) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (sched_setaffinity(0, sizeof one, &one) == 0)
                std::printf("pinned to CPU %d\n", cpu);
            return;
        }
}

double seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

} // namespace

int main(int argc, char** argv) {
    try {
        const std::filesystem::path source = argc > 1 ? argv[1] : CROSSROADS_SOURCE_DIR;
        const double budget_s = argc > 2 ? std::atof(argv[2]) : 2.0;
        std::vector<std::string> texts;
        for (const auto& entry : std::filesystem::directory_iterator(source / "data/seed/editions"))
            if (entry.path().extension() == ".json")
                texts.push_back(readText(entry.path()));
        const std::vector<Edition> editions = editionsFromJsonTexts(texts);
        const std::vector<ChipSpec> chips =
            chipsFromJsonText(readText(source / "data/seed/chips.json"));
        std::vector<CompiledEdition> compiled;
        for (const Edition& e : editions)
            compiled.emplace_back(e);
        std::printf("%zu chips x %zu editions\n", chips.size(), editions.size());
        pinToOneCore();

        using clock = std::chrono::steady_clock;
        long long fast = 0, checksum = 0;
        const auto start = clock::now();
        while (seconds(clock::now() - start) < budget_s)
            for (const CompiledEdition& e : compiled)
                for (const ChipSpec& c : chips) {
                    const ParagraphDecision d = e.classify(c);
                    checksum += d.paragraph ? static_cast<int>(*d.paragraph) : 7;
                    checksum += d.controlled.value_or(false);
                    ++fast;
                }
        const double fast_s = seconds(clock::now() - start);

        long long full = 0;
        size_t strings = 0;
        const auto start2 = clock::now();
        while (seconds(clock::now() - start2) < budget_s / 4)
            for (const Edition& e : editions)
                for (const ChipSpec& c : chips) {
                    strings += classify(c, e).explanation.size();
                    ++full;
                }
        const double full_s = seconds(clock::now() - start2);

        const double fast_rate = static_cast<double>(fast) / fast_s,
                     full_rate = static_cast<double>(full) / full_s;
        std::printf("compiled edition (paragraph, controlled): %.3g classifications/s "
                    "(%lld in %.2f s; checksum %lld)\n",
                    fast_rate, fast, fast_s, checksum);
        std::printf("classify() (explanations, borderline):    %.3g classifications/s "
                    "(%lld in %.2f s; %zu lines)\n",
                    full_rate, full, full_s, strings);
        std::printf("ratio %.1fx; goal 1e6/s: %s\n", fast_rate / full_rate,
                    fast_rate >= 1e6 ? "met" : "NOT met");
        return fast_rate >= 1e6 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_classify: %s\n", e.what());
        return 1;
    }
}
