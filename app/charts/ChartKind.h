// The chart kinds (DESIGN.md: `crossroads chart --kind`), what they are drawn from, and the
// benchmark runs the bench-history chart reads out of the store's saved results.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"
#include "data/Store.h"

#include <QDateTime>
#include <QString>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::charts {

// "edition 1999-01 is not in the store", "no benchmark results for device X": one line.
class ChartError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class ChartKind {
    TppPd,        // TPP x performance density, the edition's zones (its I/O view for 2022-10)
    TppIo,        // TPP x I/O bandwidth: the 2022-10 test
    BandwidthTpp, // memory bandwidth x TPP, the 2025-04 heuristic and the 2026-01 box
    Timeline,     // which chips each edition controls, 2022 to 2026, derivatives marked
    BenchHistory, // stored benchmark results of a device over time
    Capability,   // projected DeepSeek-V3 decode per GPU against TPP, the local measurement over it
};

const std::vector<ChartKind>& allChartKinds();
std::string_view chartKindKey(ChartKind kind); // "tpp-pd", ...
std::optional<ChartKind> chartKindFromKey(std::string_view key);
QString chartKindTitle(ChartKind kind); // "TPP and performance density", ...
// Whether the kind is drawn under one edition (--edition matters).
bool chartKindUsesEdition(ChartKind kind);

// One saved `crossroads bench` result, as the history and capability charts need it.
struct BenchRun {
    QDateTime at; // UTC
    QString device, backend, model, dtype;
    std::optional<double> prefill_tokens_per_s;
    std::optional<double> decode_tokens_per_s;
    std::optional<double> decode_fraction_of_measured_bandwidth;
    std::optional<double> decode_achieved_gb_per_s;
    // The store's row and its JSON: the capability chart calibrates with them
    // (analysis::readBenchFigures, benchChip, calibrate), as `crossroads capability` does.
    // Initialised here so that brace lists of the figures alone stay warning-free.
    long long id = 0;
    std::string result_json = {};
};
// Results whose JSON lacks the phases are skipped (they cannot be charted), never guessed.
std::vector<BenchRun>
benchRunsFromRecords(const std::vector<data::Store::BenchmarkRecord>& records);

struct ChartInputs {
    std::vector<analysis::ChipSpec> chips;
    std::vector<analysis::Edition> editions; // resolved, by effective date
    std::string edition_id;                  // the edition the classes are drawn under
    std::vector<BenchRun> bench_runs;
    QString device; // bench-history: only this device's runs; empty = every device
    // Zones are drawn for a chip of this kind (Note 2 to 3A090 exempts some non-datacenter ones).
    bool zones_for_datacenter = true;
};

// The inputs of a store: its chips, editions and benchmark results, the edition given (or the
// newest in force when empty). Throws ChartError for an unknown edition.
ChartInputs chartInputsFromStore(const data::Store& store, const std::string& editionId);

} // namespace crossroads::charts
