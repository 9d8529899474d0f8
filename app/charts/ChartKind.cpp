#include "app/charts/ChartKind.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace crossroads::charts {

namespace {

struct KindInfo {
    ChartKind kind;
    std::string_view key;
    const char* title;
    bool usesEdition;
};

constexpr std::array<KindInfo, 6> kKinds = {{
    {ChartKind::TppPd, "tpp-pd", "TPP and performance density", true},
    {ChartKind::TppIo, "tpp-io", "TPP and I/O bandwidth", true},
    {ChartKind::BandwidthTpp, "bandwidth-tpp", "Memory bandwidth and TPP", true},
    {ChartKind::Timeline, "timeline", "What each edition controls, 2022 to 2026", false},
    {ChartKind::BenchHistory, "bench-history", "Benchmark history", false},
    {ChartKind::Capability, "capability", "DeepSeek-V3 decode and TPP", true},
}};

const KindInfo& info(ChartKind kind) {
    return *std::find_if(kKinds.begin(), kKinds.end(),
                         [kind](const KindInfo& i) { return i.kind == kind; });
}

std::optional<double> number(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number())
        return std::nullopt;
    return it->get<double>();
}

} // namespace

const std::vector<ChartKind>& allChartKinds() {
    static const std::vector<ChartKind> kinds = [] {
        std::vector<ChartKind> out;
        for (const KindInfo& i : kKinds)
            out.push_back(i.kind);
        return out;
    }();
    return kinds;
}

std::string_view chartKindKey(ChartKind kind) {
    return info(kind).key;
}

std::optional<ChartKind> chartKindFromKey(std::string_view key) {
    for (const KindInfo& i : kKinds)
        if (i.key == key)
            return i.kind;
    return std::nullopt;
}

QString chartKindTitle(ChartKind kind) {
    return QString::fromLatin1(info(kind).title);
}

bool chartKindUsesEdition(ChartKind kind) {
    return info(kind).usesEdition;
}

std::vector<BenchRun>
benchRunsFromRecords(const std::vector<data::Store::BenchmarkRecord>& records) {
    std::vector<BenchRun> runs;
    for (const data::Store::BenchmarkRecord& r : records) {
        nlohmann::json result = nlohmann::json::parse(r.result_json, nullptr, false);
        if (!result.is_object() || !result.contains("phases") || !result["phases"].is_array())
            continue;
        BenchRun run;
        run.at = QDateTime::fromString(r.created_at, Qt::ISODate);
        run.at.setTimeSpec(Qt::UTC);
        if (!run.at.isValid())
            continue;
        run.device = r.device;
        run.backend = r.backend;
        run.model = r.model;
        run.dtype = r.dtype;
        run.id = r.id;
        run.result_json = r.result_json;
        // The first decode phase is the one at the shortest context (a sweep adds longer ones).
        for (const nlohmann::json& phase : result["phases"]) {
            if (!phase.is_object())
                continue;
            const std::string name = phase.value("phase", std::string());
            if (name == "prefill" && !run.prefill_tokens_per_s)
                run.prefill_tokens_per_s = number(phase, "tokens_per_s");
            if (name == "decode" && !run.decode_tokens_per_s) {
                run.decode_tokens_per_s = number(phase, "tokens_per_s");
                run.decode_fraction_of_measured_bandwidth =
                    number(phase, "fraction_of_measured_bandwidth");
                run.decode_achieved_gb_per_s = number(phase, "achieved_gb_per_s");
            }
        }
        if (run.prefill_tokens_per_s || run.decode_tokens_per_s)
            runs.push_back(std::move(run));
    }
    std::sort(runs.begin(), runs.end(),
              [](const BenchRun& a, const BenchRun& b) { return a.at < b.at; });
    return runs;
}

ChartInputs chartInputsFromStore(const data::Store& store, const std::string& editionId) {
    ChartInputs in;
    in.chips = store.chips();
    in.editions = store.editions();
    in.edition_id = editionId.empty() ? store.defaultEditionId().toStdString() : editionId;
    if (!analysis::findEdition(in.editions, in.edition_id)) {
        std::string known;
        for (const analysis::Edition& e : in.editions)
            known += (known.empty() ? "" : ", ") + e.id;
        throw ChartError("unknown edition \"" + in.edition_id + "\" (known: " + known + ")");
    }
    in.bench_runs = benchRunsFromRecords(store.benchmarkResults());
    return in;
}

} // namespace crossroads::charts
