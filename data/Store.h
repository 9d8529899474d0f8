// The SQLite store (Qt SQL, QSQLITE): chips with per-figure sources, rule editions, the audit
// trail of every change to a chip, and the tables later features fill (scenarios, benchmark
// results). Opening migrates by a PRAGMA user_version ladder in one transaction, turns WAL on
// and verifies it, refuses a store newer than the app, and never overwrites a corrupt or
// non-SQLite file.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"
#include "analysis/Scenario.h"
#include "data/Bibliography.h"
#include "data/ChipNames.h"
#include "data/ChipPatch.h"

#include <QSqlDatabase>
#include <QString>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace crossroads::data {

// One clear message naming the problem ("not an SQLite database: /path", "store schema 7 is
// newer than this Crossroads (6): upgrade Crossroads", ...).
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ImportReport {
    int added = 0;
    int updated = 0;
};

// One change to one field of one chip (the audit trail; `crossroads history`). Field "*" marks
// the chip itself: new_value "added" or "removed".
struct AuditEntry {
    std::string at; // UTC, ISO 8601 ("2025-04-15T09:30:00Z")
    std::string chip;
    std::string field;
    std::optional<std::string> old_value; // nullopt: unknown before (added)
    std::optional<std::string> new_value; // nullopt: cleared
    std::string source;                   // the citation behind the new value, when given
    std::string via;                      // "import FILE", "editor", "replace", "remove"
};

class Store {
public:
    // 1: chips, sources, editions, scenarios, benchmark results (frozen).
    // 2: the audit trail.
    // 3: chip_alternatives (other sources' values of a figure); a store migrated from 1 or 2
    //    gets the bundled alternatives of the chips it still holds as bundled.
    static constexpr int kSchemaVersion = 3;

    struct Options {
        // Test hook: runs inside the migration transaction after the step that reached
        // `version`. Throwing from it must leave the store as it was (the ladder rolls back).
        std::function<void(int version)> after_migration_step;
        // A store whose folder does not exist is refused ("no folder ...": a mistyped --db must
        // not look like a new, empty store) unless this is set. Store::defaultPath() always
        // gets its folder (the first run).
        bool create_folder = false;
    };

    // Opens or creates the store at `path`. A new store is seeded with the bundled dataset
    // (chips and editions; the seed writes no audit entries: a chip without any has its bundled
    // figures). Bundled editions are refreshed when the app's copy changed. Throws StoreError.
    // Each Store owns its own named connection, so a worker thread opens its own Store.
    explicit Store(const QString& path);
    Store(const QString& path, const Options& options);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // <AppDataLocation>/crossroads.sqlite
    static QString defaultPath();

    // All or nothing over several writes. The writes made while a Transaction lives stay only
    // if it is committed; otherwise (an exception, an early return) they are rolled back when
    // it goes. Transactions nest, as SQLite savepoints: an inner one left uncommitted undoes
    // only its own writes and the outer one carries on; an outer one left uncommitted undoes
    // everything, committed inner ones included. Every write of the Store below runs in one
    // (nested inside the caller's when one is open), so a write that throws undoes its own part
    // only. The outermost one takes the write lock (BEGIN IMMEDIATE). Belongs to the Store's
    // thread, as its connection does; destroyed innermost first (RAII).
    class Transaction {
    public:
        explicit Transaction(Store& store);
        ~Transaction();
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;
        // Throws StoreError when SQLite refuses (the writes are then rolled back when the
        // Transaction goes) or when a Transaction opened inside this one is still open.
        void commit();
        // 1 for the outermost.
        int level() const { return level_; }

    private:
        void finish();

        Store& store_;
        int level_ = 0;
        bool open_ = false;
    };
    // Runs `writes()` in a Transaction: committed when it returns, rolled back when it throws
    // (the exception goes on). Returns what `writes` returns.
    template <typename F> decltype(auto) transaction(F&& writes) {
        Transaction t(*this);
        if constexpr (std::is_void_v<std::invoke_result_t<F&&>>) {
            std::forward<F>(writes)();
            t.commit();
        } else {
            std::invoke_result_t<F&&> result = std::forward<F>(writes)();
            t.commit();
            return result;
        }
    }
    // Open Transactions of this Store (0: none).
    int transactionDepth() const { return transactionDepth_; }

    // The dataset built into this Crossroads (what a new store is seeded with): the chips, and
    // the edition files' texts in file-name order. Throws StoreError if the bundle is broken.
    static std::vector<analysis::ChipSpec> bundledChips();
    static std::vector<std::string> bundledEditionTexts();
    // The bibliography of the seed's source keys (data/seed/sources.json) and the names other
    // datasets use for the seed's chips (data/seed/aliases.json).
    static std::vector<BibliographyEntry> bundledBibliography();
    static std::vector<ChipAlias> bundledAliases();

    QString path() const { return path_; }
    QSqlDatabase database() const;
    int schemaVersion() const;

    // Chips, ordered by vendor then name; sources and alternatives included.
    std::vector<analysis::ChipSpec> chips() const;
    // Case-insensitive exact name match.
    std::optional<analysis::ChipSpec> chip(const QString& name) const;
    // Inserts or replaces (by case-insensitive name) every chip in one transaction: all or
    // nothing. Each chip is validated first (analysis::validateChip); throws StoreError naming
    // the chip and field. Every changed field goes into the audit trail with `via`.
    ImportReport upsertChips(const std::vector<analysis::ChipSpec>& chips,
                             const std::string& via = "replace");
    bool removeChip(const QString& name, const std::string& via = "remove");

    // What importing `rows` would do, figure by figure; changes nothing. Rows are matched to
    // the store's chips by name (ChipPatch::matching: exact, or Epoch's names through
    // ChipNameMatcher and the bundled aliases). Throws StoreError for a row whose name could be
    // several chips, two rows that are one chip, or a result that is not a valid chip (naming
    // the row, the chip and the field).
    ImportDiff diffImport(const std::vector<ChipPatch>& rows) const;
    // Applies the import in one transaction (all or nothing) and records every change in the
    // audit trail with `via` ("import FILE"); returns what it did (diffImport's answer, under
    // the write lock).
    ImportDiff importChips(const std::vector<ChipPatch>& rows, const std::string& via);

    // The editor: applies `edit` (ChipPatch; fieldEditPatch reads one field from its text) to
    // the chip named `name`, validated as an import is (a negative, NaN or zero figure is
    // refused naming the field). `edit.sources` are the per-figure sources of the new values
    // (a stored source of a changed field goes: it backed the old value); with
    // `edit.replaces_alternatives`, `edit.values.alternatives` become the chip's (each one added
    // or removed is an audit entry "alternatives"). Recorded in the audit
    // trail with `via`. Returns the chip as stored. Throws StoreError.
    analysis::ChipSpec editChip(const QString& name, const ChipPatch& edit,
                                const std::string& via = "editor");

    // The audit trail, oldest first; `chip` (case-insensitive) keeps that chip's entries.
    std::vector<AuditEntry> history(const QString& chip = {}) const;

    // The bibliography of source keys (today the bundled one: see Store.cpp, schema v2).
    std::vector<BibliographyEntry> bibliography() const;

    // Benchmark results (the JSON of `crossroads bench --json`), newest first.
    struct BenchmarkRecord {
        qint64 id = 0;
        QString created_at; // UTC, ISO 8601
        QString device, backend, model, dtype;
        std::string result_json;
    };
    // Saves one result, stamped with the current UTC time; returns its id.
    qint64 saveBenchmarkResult(const QString& device, const QString& backend, const QString& model,
                               const QString& dtype, const std::string& resultJson);
    std::vector<BenchmarkRecord> benchmarkResults() const;

    // Every edition, resolved ("extends" applied), ordered by effective date, followed by the
    // scenarios that resolve (analysis::resolveScenario on their base), by name.
    std::vector<analysis::Edition> editions() const;
    // The newest edition in force (DESIGN.md: the default of `classify`); never a scenario.
    QString defaultEditionId() const;

    // Scenarios (analysis/Scenario.h): editions of the analyst's, named case-insensitively.
    struct ScenarioRecord {
        analysis::Scenario scenario;
        QString created_at, updated_at; // UTC, ISO 8601 with milliseconds
        // Why it does not resolve ("its base edition \"2026-01\" is not in the store"); empty
        // when it does. Such a scenario is listed here but left out of editions().
        std::string problem;
    };
    // By name.
    std::vector<ScenarioRecord> scenarios() const;
    // Case-insensitive; nullopt when absent.
    std::optional<ScenarioRecord> scenario(const QString& name) const;
    // Saves a new scenario or, with `replace`, replaces the one of that name (case-insensitive;
    // created_at is kept, updated_at is now). Checked against the store first: the name is no
    // edition's id, the base is an edition or a scenario that resolves (never this scenario, nor
    // one that extends it), the overrides apply to it and the hypothetical chips are valid and
    // named unlike any stored chip (analysis::validateScenario). The stored base is the base's
    // own spelling. Throws analysis::ScenarioError for a scenario that is wrong, StoreError
    // when the name is taken and `replace` is false, or when the store fails.
    void saveScenario(const analysis::Scenario& scenario, bool replace = false);
    // Case-insensitive; false when no scenario has that name. Scenarios extending it stay,
    // listed with their missing base.
    bool removeScenario(const QString& name);
    // Renames the saved scenario `from` to `renamed.name`, saving `renamed` (its definition may
    // change with it) in one transaction: the new name is saved (refused when taken, as
    // saveScenario), the scenarios extending `from` move to it, and `from` goes. A failure at
    // any step leaves the store as it was. `renamed.name` may be `from` in another case. Throws
    // as saveScenario does, and StoreError when `from` is not a saved scenario.
    void renameScenario(const QString& from, const analysis::Scenario& renamed);

private:
    void open(const Options& options);
    void closeConnection();

    QString path_;
    QString connection_;
    int transactionDepth_ = 0;
};

} // namespace crossroads::data
