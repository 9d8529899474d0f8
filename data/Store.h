// The SQLite store (Qt SQL, QSQLITE): chips with per-figure sources, rule editions, and the
// tables later features fill (scenarios, benchmark results). Opening migrates by a PRAGMA
// user_version ladder in one transaction, turns WAL on and verifies it, refuses a store newer
// than the app, and never overwrites a corrupt or non-SQLite file.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"

#include <QSqlDatabase>
#include <QString>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
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

class Store {
public:
    static constexpr int kSchemaVersion = 1;

    struct Options {
        // Test hook: runs inside the migration transaction after the step that reached
        // `version`. Throwing from it must leave the store as it was (the ladder rolls back).
        std::function<void(int version)> after_migration_step;
    };

    // Opens or creates the store at `path` (parent folders created). A new store is seeded with
    // the bundled dataset (chips and editions). Bundled editions are refreshed when the app's
    // copy changed. Throws StoreError. Each Store owns its own named connection, so a worker
    // thread opens its own Store.
    explicit Store(const QString& path);
    Store(const QString& path, const Options& options);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // <AppDataLocation>/crossroads.sqlite
    static QString defaultPath();

    // The dataset built into this Crossroads (what a new store is seeded with): the chips, and
    // the edition files' texts in file-name order. Throws StoreError if the bundle is broken.
    static std::vector<analysis::ChipSpec> bundledChips();
    static std::vector<std::string> bundledEditionTexts();

    QString path() const { return path_; }
    QSqlDatabase database() const;
    int schemaVersion() const;

    // Chips, ordered by vendor then name; sources included.
    std::vector<analysis::ChipSpec> chips() const;
    // Case-insensitive exact name match.
    std::optional<analysis::ChipSpec> chip(const QString& name) const;
    // Inserts or replaces (by case-insensitive name) every chip in one transaction: all or
    // nothing. Each chip is validated first (analysis::validateChip); throws StoreError naming
    // the chip and field.
    ImportReport upsertChips(const std::vector<analysis::ChipSpec>& chips);
    bool removeChip(const QString& name);

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

    // Every edition, resolved ("extends" applied), ordered by effective date.
    std::vector<analysis::Edition> editions() const;
    // The newest edition in force (DESIGN.md: the default of `classify`).
    QString defaultEditionId() const;

private:
    void open(const Options& options);
    void closeConnection();

    QString path_;
    QString connection_;
};

} // namespace crossroads::data
