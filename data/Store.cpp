#include "data/Store.h"

#include "analysis/ChipJson.h"
#include "analysis/Classifier.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QVariant>
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace crossroads::data {

using analysis::ChipSpec;
using analysis::Precision;

namespace {

constexpr std::string_view kSqliteMagic{"SQLite format 3\0", 16};
const QString kBundledEditionsHashKey = QStringLiteral("bundled_editions_sha256");
const QString kBundledChipsPath = QStringLiteral(":/seed/chips.json");
const QString kBundledEditionsDir = QStringLiteral(":/seed/editions");
const QString kBundledSourcesPath = QStringLiteral(":/seed/sources.json");
const QString kBundledAliasesPath = QStringLiteral(":/seed/aliases.json");

std::string str(const QString& s) {
    return s.toStdString();
}

// SQLite's own message ("database disk image is malformed"), without the driver's generic
// "Unable to execute statement" that QSqlError::text() appends.
std::string errorText(const QSqlError& error) {
    const QString text = error.databaseText().isEmpty() ? error.text() : error.databaseText();
    return str(text.trimmed());
}

std::string where(const QString& path) {
    return str(QDir::toNativeSeparators(path));
}

QSqlQuery exec(const QSqlDatabase& db, const QString& sql, std::string_view what) {
    QSqlQuery q(db);
    if (!q.exec(sql))
        throw StoreError(std::string(what) + ": " + errorText(q.lastError()));
    return q;
}

QSqlQuery prepare(const QSqlDatabase& db, const QString& sql, std::string_view what) {
    QSqlQuery q(db);
    if (!q.prepare(sql))
        throw StoreError(std::string(what) + ": " + errorText(q.lastError()));
    return q;
}

void execPrepared(QSqlQuery& q, std::string_view what) {
    if (!q.exec())
        throw StoreError(std::string(what) + ": " + errorText(q.lastError()));
}

QVariant scalar(const QSqlDatabase& db, const QString& sql, std::string_view what) {
    QSqlQuery q = exec(db, sql, what);
    if (!q.next())
        throw StoreError(std::string(what) + ": no result");
    return q.value(0);
}

// BEGIN IMMEDIATE takes the write lock up front, so two Crossroads processes opening a new store
// at once serialise here instead of both migrating and one failing at COMMIT. Opening (the
// migration ladder, the editions' refresh) uses this one; the Store's writes use
// Store::Transaction, which nests.
class WriteTransaction {
public:
    explicit WriteTransaction(const QSqlDatabase& db) : db_(db) {
        exec(db_, QStringLiteral("BEGIN IMMEDIATE"), "cannot start a store transaction");
    }
    ~WriteTransaction() {
        if (!committed_) {
            QSqlQuery q(db_);
            q.exec(QStringLiteral("ROLLBACK"));
        }
    }
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;

    void commit() {
        exec(db_, QStringLiteral("COMMIT"), "cannot commit to the store");
        committed_ = true;
    }

private:
    QSqlDatabase db_;
    bool committed_ = false;
};

// ---- schema -----------------------------------------------------------------------------------

using analysis::kFigureFields;

QString rateColumn(Precision p) {
    return QString::fromLatin1(analysis::precisionKey(p)) + QStringLiteral("_tops");
}

// Every chips column a ChipSpec fills, in the order the queries below bind and read them.
QStringList chipDataColumns() {
    QStringList columns = {"name", "vendor", "year", "kind", "datacenter"};
    for (Precision p : analysis::kAllPrecisions)
        columns << rateColumn(p);
    for (const analysis::FigureField& f : kFigureFields)
        columns << QString::fromLatin1(f.key);
    columns << "notes";
    return columns;
}

const QString kNow = QStringLiteral("(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))");

// Released migration steps are literal SQL, never generated from today's code: a figure added
// to analysis::kFigureFields must not rewrite schema 1 (stores created before it would lack the
// column while new ones had it). A new figure comes by a new step (ALTER TABLE chips ADD
// COLUMN ...), and chipDataColumns() above then names it.
const char* const kSchemaV1[] = {
    R"sql(CREATE TABLE chips (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) > 0),
  vendor TEXT NOT NULL DEFAULT '',
  year INTEGER CHECK (year BETWEEN 1900 AND 2200),
  kind TEXT NOT NULL DEFAULT 'logic' CHECK (kind IN ('logic', 'hbm')),
  datacenter INTEGER CHECK (datacenter IN (0, 1)),
  fp64_tops REAL CHECK (fp64_tops > 0),
  fp32_tops REAL CHECK (fp32_tops > 0),
  tf32_tops REAL CHECK (tf32_tops > 0),
  fp16_tops REAL CHECK (fp16_tops > 0),
  bf16_tops REAL CHECK (bf16_tops > 0),
  fp8_tops REAL CHECK (fp8_tops > 0),
  int8_tops REAL CHECK (int8_tops > 0),
  int4_tops REAL CHECK (int4_tops > 0),
  fp4_tops REAL CHECK (fp4_tops > 0),
  applicable_die_area_mm2 REAL CHECK (applicable_die_area_mm2 > 0),
  package_area_mm2 REAL CHECK (package_area_mm2 > 0),
  memory_capacity_gb REAL CHECK (memory_capacity_gb > 0),
  memory_bandwidth_gb_per_s REAL CHECK (memory_bandwidth_gb_per_s > 0),
  io_bidirectional_gb_per_s REAL CHECK (io_bidirectional_gb_per_s > 0),
  tdp_w REAL CHECK (tdp_w > 0),
  tpp_reported REAL CHECK (tpp_reported > 0),
  notes TEXT NOT NULL DEFAULT '',
  origin TEXT NOT NULL DEFAULT 'user' CHECK (origin IN ('bundled', 'user')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
))sql",
    R"sql(CREATE TABLE chip_sources (
  chip_id INTEGER NOT NULL REFERENCES chips(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  field TEXT NOT NULL,
  citation TEXT NOT NULL,
  confidence TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (chip_id, position)
) WITHOUT ROWID)sql",
    R"sql(CREATE TABLE editions (
  id TEXT PRIMARY KEY NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  citation TEXT NOT NULL DEFAULT '',
  effective TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT '',
  definition_json TEXT NOT NULL,
  origin TEXT NOT NULL DEFAULT 'user' CHECK (origin IN ('bundled', 'user'))
))sql",
    // No foreign key to editions: a bundled edition may disappear in an app update, and the
    // scenario must survive it (the app reports the missing base instead).
    R"sql(CREATE TABLE scenarios (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) > 0),
  base_edition TEXT,
  definition_json TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
))sql",
    R"sql(CREATE TABLE benchmark_results (
  id INTEGER PRIMARY KEY,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  device TEXT NOT NULL,
  backend TEXT NOT NULL,
  model TEXT NOT NULL,
  dtype TEXT NOT NULL,
  result_json TEXT NOT NULL
))sql",
    R"sql(CREATE INDEX benchmark_results_by_device ON benchmark_results (device))sql",
    R"sql(CREATE TABLE meta (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID)sql",
};

// The audit trail names its chip by name, not by id: the history of a removed chip stays
// readable. old_value/new_value are the fields' texts (data/ChipPatch.h chipFieldText), NULL
// for unknown.
//
// The bibliography (seed/sources.json) and the alias table (seed/aliases.json) are not in the
// schema: they are reference data that ship with, and change with, the app, that no one edits
// in a store today; read from the bundle at use, an app update corrects them in every store
// at once, with no refresh ladder like the editions' and no stale copies in old stores. A step
// adds tables for them when analysts can edit them.
const char* const kSchemaV2[] = {
    R"sql(CREATE TABLE audit_trail (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  chip TEXT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  source TEXT NOT NULL DEFAULT '',
  via TEXT NOT NULL
))sql",
    R"sql(CREATE INDEX audit_trail_by_chip ON audit_trail (chip COLLATE NOCASE))sql",
};

// Alternative values of a chip's figures from other sources (H800 I/O 300 GB/s beside the 400 of
// its row), per chip in stored order; `field` is an interchange key (a rate key or a figure).
const char* const kSchemaV3[] = {
    R"sql(CREATE TABLE chip_alternatives (
  chip_id INTEGER NOT NULL REFERENCES chips(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  field TEXT NOT NULL CHECK (length(field) > 0),
  value REAL NOT NULL CHECK (value > 0),
  citation TEXT NOT NULL CHECK (length(citation) > 0),
  confidence TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (chip_id, position)
) WITHOUT ROWID)sql",
};

using MigrationStep = void (*)(const QSqlDatabase&);

template <size_t N>
void runStatements(const QSqlDatabase& db, const char* const (&sql)[N], std::string_view what) {
    for (const char* statement : sql)
        exec(db, QString::fromUtf8(statement), what);
}

void migrateToV1(const QSqlDatabase& db) {
    runStatements(db, kSchemaV1, "cannot create the store schema (version 1)");
}

void migrateToV2(const QSqlDatabase& db) {
    runStatements(db, kSchemaV2, "cannot migrate the store to schema 2 (the audit trail)");
}

void migrateToV3(const QSqlDatabase& db);

// Step i brings schema version i to i + 1. Append only: a released step never changes.
const std::vector<MigrationStep>& migrationLadder() {
    static const std::vector<MigrationStep> ladder = {migrateToV1, migrateToV2, migrateToV3};
    return ladder;
}

// ---- bundled dataset --------------------------------------------------------------------------

QByteArray readResource(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw StoreError("the bundled dataset is missing " + str(path) +
                         " (was crossroads_data linked with its resources?)");
    return file.readAll();
}

struct BundledEdition {
    QString fileName;
    QByteArray text;
};

std::vector<BundledEdition> bundledEditionFiles() {
    std::vector<BundledEdition> files;
    const QDir dir(kBundledEditionsDir);
    for (const QString& name : dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name))
        files.push_back({name, readResource(dir.filePath(name))});
    return files;
}

QString bundledEditionsHash(const std::vector<BundledEdition>& files) {
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const auto& file : files) {
        hash.addData(file.fileName.toUtf8());
        hash.addData(QByteArrayView("\0", 1));
        hash.addData(file.text);
        hash.addData(QByteArrayView("\0", 1));
    }
    return QString::fromLatin1(hash.result().toHex());
}

// ---- rows -------------------------------------------------------------------------------------

QVariant optionalValue(const std::optional<double>& v) {
    return v ? QVariant(*v) : QVariant(QMetaType::fromType<double>());
}

std::optional<double> optionalDouble(const QVariant& v) {
    if (v.isNull())
        return std::nullopt;
    return v.toDouble();
}

void bindChipData(QSqlQuery& q, const ChipSpec& chip) {
    q.addBindValue(QString::fromStdString(chip.name));
    q.addBindValue(QString::fromStdString(chip.vendor));
    q.addBindValue(chip.year ? QVariant(*chip.year) : QVariant(QMetaType::fromType<int>()));
    q.addBindValue(QString::fromLatin1(analysis::chipKindKey(chip.kind)));
    q.addBindValue(chip.datacenter ? QVariant(*chip.datacenter ? 1 : 0)
                                   : QVariant(QMetaType::fromType<int>()));
    for (Precision p : analysis::kAllPrecisions)
        q.addBindValue(optionalValue(chip.dense_tops[p]));
    for (const analysis::FigureField& f : kFigureFields)
        q.addBindValue(optionalValue(chip.*f.member));
    q.addBindValue(QString::fromStdString(chip.notes));
}

std::string chipContext(const ChipSpec& chip) {
    return "chip \"" + chip.name + "\"";
}

void insertSources(const QSqlDatabase& db, qint64 chipId, const ChipSpec& chip) {
    QSqlQuery q = prepare(db,
                          QStringLiteral("INSERT INTO chip_sources (chip_id, position, field, "
                                         "citation, confidence) VALUES (?, ?, ?, ?, ?)"),
                          "cannot store chip sources");
    int position = 0;
    for (const auto& source : chip.sources) {
        q.addBindValue(chipId);
        q.addBindValue(position++);
        q.addBindValue(QString::fromStdString(source.field));
        q.addBindValue(QString::fromStdString(source.citation));
        q.addBindValue(QString::fromStdString(source.confidence));
        execPrepared(q, chipContext(chip) + ": cannot store its sources");
    }
}

void insertAlternatives(const QSqlDatabase& db, qint64 chipId, const ChipSpec& chip) {
    if (chip.alternatives.empty())
        return;
    QSqlQuery q = prepare(db,
                          QStringLiteral("INSERT INTO chip_alternatives (chip_id, position, field, "
                                         "value, citation, confidence) VALUES (?, ?, ?, ?, ?, ?)"),
                          "cannot store chip alternatives");
    int position = 0;
    for (const auto& a : chip.alternatives) {
        q.addBindValue(chipId);
        q.addBindValue(position++);
        q.addBindValue(QString::fromStdString(a.field));
        q.addBindValue(a.value);
        q.addBindValue(QString::fromStdString(a.citation));
        q.addBindValue(QString::fromStdString(a.confidence));
        execPrepared(q, chipContext(chip) + ": cannot store its alternative for " + a.field);
    }
}

std::optional<qint64> chipIdByName(const QSqlDatabase& db, const QString& name) {
    QSqlQuery q =
        prepare(db, QStringLiteral("SELECT id FROM chips WHERE name = ?"), "cannot look up a chip");
    q.addBindValue(name);
    execPrepared(q, "cannot look up chip \"" + str(name) + "\"");
    if (!q.next())
        return std::nullopt;
    return q.value(0).toLongLong();
}

enum class ChipWrite { Added, Updated };

// Replacing keeps the row's id and created_at, so anything that later refers to a chip by id
// (scenarios, benchmark rows) keeps pointing at it.
ChipWrite writeChip(const QSqlDatabase& db, const ChipSpec& chip, const QString& origin) {
    const QStringList columns = chipDataColumns();
    const auto existing = chipIdByName(db, QString::fromStdString(chip.name));
    if (existing) {
        QStringList assignments;
        for (const QString& c : columns)
            assignments << c + QStringLiteral(" = ?");
        QSqlQuery q = prepare(db,
                              QStringLiteral("UPDATE chips SET %1, origin = ?, updated_at = %2 "
                                             "WHERE id = ?")
                                  .arg(assignments.join(QStringLiteral(", ")), kNow),
                              "cannot update a chip");
        bindChipData(q, chip);
        q.addBindValue(origin);
        q.addBindValue(*existing);
        execPrepared(q, chipContext(chip) + ": cannot update it");
        QSqlQuery del = prepare(db, QStringLiteral("DELETE FROM chip_sources WHERE chip_id = ?"),
                                "cannot replace chip sources");
        del.addBindValue(*existing);
        execPrepared(del, chipContext(chip) + ": cannot replace its sources");
        insertSources(db, *existing, chip);
        QSqlQuery delAlternatives =
            prepare(db, QStringLiteral("DELETE FROM chip_alternatives WHERE chip_id = ?"),
                    "cannot replace chip alternatives");
        delAlternatives.addBindValue(*existing);
        execPrepared(delAlternatives, chipContext(chip) + ": cannot replace its alternatives");
        insertAlternatives(db, *existing, chip);
        return ChipWrite::Updated;
    }
    QStringList placeholders;
    for (qsizetype i = 0; i < columns.size() + 1; ++i)
        placeholders << QStringLiteral("?");
    QSqlQuery q = prepare(
        db,
        QStringLiteral("INSERT INTO chips (%1, origin) VALUES (%2)")
            .arg(columns.join(QStringLiteral(", ")), placeholders.join(QStringLiteral(", "))),
        "cannot add a chip");
    bindChipData(q, chip);
    q.addBindValue(origin);
    execPrepared(q, chipContext(chip) + ": cannot add it");
    const qint64 id = q.lastInsertId().toLongLong();
    insertSources(db, id, chip);
    insertAlternatives(db, id, chip);
    return ChipWrite::Added;
}

QString chipSelect(const QString& tail) {
    return QStringLiteral("SELECT id, %1 FROM chips %2")
        .arg(chipDataColumns().join(QStringLiteral(", ")), tail);
}

ChipSpec chipFromRow(const QSqlQuery& q) {
    ChipSpec chip;
    int i = 1; // column 0 is the id
    chip.name = str(q.value(i++).toString());
    chip.vendor = str(q.value(i++).toString());
    if (const QVariant year = q.value(i++); !year.isNull())
        chip.year = year.toInt();
    const std::string kind = str(q.value(i++).toString());
    const auto parsedKind = analysis::chipKindFromKey(kind);
    if (!parsedKind)
        throw StoreError(chipContext(chip) + ": the store holds an unknown kind \"" + kind + "\"");
    chip.kind = *parsedKind;
    if (const QVariant dc = q.value(i++); !dc.isNull())
        chip.datacenter = dc.toInt() != 0;
    for (Precision p : analysis::kAllPrecisions)
        chip.dense_tops[p] = optionalDouble(q.value(i++));
    for (const analysis::FigureField& f : kFigureFields)
        chip.*f.member = optionalDouble(q.value(i++));
    chip.notes = str(q.value(i++).toString());
    return chip;
}

// chip id -> its sources, in stored order. `chipId` restricts to one chip.
std::map<qint64, std::vector<analysis::Source>> readSources(const QSqlDatabase& db,
                                                            std::optional<qint64> chipId) {
    QSqlQuery q = prepare(db,
                          QStringLiteral("SELECT chip_id, field, citation, confidence FROM "
                                         "chip_sources %1 ORDER BY chip_id, position")
                              .arg(chipId ? QStringLiteral("WHERE chip_id = ?") : QString()),
                          "cannot read chip sources");
    if (chipId)
        q.addBindValue(*chipId);
    execPrepared(q, "cannot read chip sources");
    std::map<qint64, std::vector<analysis::Source>> sources;
    while (q.next())
        sources[q.value(0).toLongLong()].push_back(
            {str(q.value(1).toString()), str(q.value(2).toString()), str(q.value(3).toString())});
    return sources;
}

// chip id -> its alternatives, in stored order. `chipId` restricts to one chip.
std::map<qint64, std::vector<analysis::FigureAlternative>>
readAlternatives(const QSqlDatabase& db, std::optional<qint64> chipId) {
    QSqlQuery q = prepare(db,
                          QStringLiteral("SELECT chip_id, field, value, citation, confidence FROM "
                                         "chip_alternatives %1 ORDER BY chip_id, position")
                              .arg(chipId ? QStringLiteral("WHERE chip_id = ?") : QString()),
                          "cannot read chip alternatives");
    if (chipId)
        q.addBindValue(*chipId);
    execPrepared(q, "cannot read chip alternatives");
    std::map<qint64, std::vector<analysis::FigureAlternative>> out;
    while (q.next())
        out[q.value(0).toLongLong()].push_back({str(q.value(1).toString()), q.value(2).toDouble(),
                                                str(q.value(3).toString()),
                                                str(q.value(4).toString())});
    return out;
}

// Step 3's data: a store made before alternatives existed gets the bundled ones of the chips it
// still holds as bundled (origin 'bundled': an analyst's row, or a bundled chip the analyst
// changed, is left as it is). A new store gets them from the seed instead.
void backfillBundledAlternatives(const QSqlDatabase& db) {
    for (const ChipSpec& bundled : Store::bundledChips()) {
        if (bundled.alternatives.empty())
            continue;
        QSqlQuery q = prepare(db,
                              QStringLiteral("SELECT id FROM chips WHERE name = ? AND origin = "
                                             "'bundled' AND NOT EXISTS (SELECT 1 FROM "
                                             "chip_alternatives a WHERE a.chip_id = chips.id)"),
                              "cannot look up a bundled chip");
        q.addBindValue(QString::fromStdString(bundled.name));
        execPrepared(q, chipContext(bundled) + ": cannot look it up");
        if (q.next())
            insertAlternatives(db, q.value(0).toLongLong(), bundled);
    }
}

void migrateToV3(const QSqlDatabase& db) {
    runStatements(db, kSchemaV3, "cannot migrate the store to schema 3 (figure alternatives)");
    backfillBundledAlternatives(db);
}

void writeEditions(const QSqlDatabase& db, const std::vector<BundledEdition>& files) {
    std::vector<std::string> texts;
    for (const auto& file : files)
        texts.emplace_back(file.text.constData(), static_cast<size_t>(file.text.size()));
    std::vector<analysis::Edition> resolved;
    try {
        resolved = analysis::editionsFromJsonTexts(texts);
    } catch (const std::exception& e) {
        throw StoreError(std::string("the bundled editions are broken: ") + e.what());
    }
    // A user's edition with a bundled id is their deliberate override: keep it.
    QSqlQuery q = prepare(db,
                          QStringLiteral("INSERT INTO editions (id, title, citation, effective, "
                                         "status, definition_json, origin) VALUES (?, ?, ?, ?, "
                                         "?, ?, 'bundled') ON CONFLICT (id) DO NOTHING"),
                          "cannot store the bundled editions");
    for (size_t i = 0; i < files.size(); ++i) {
        const std::string id = nlohmann::json::parse(texts[i]).at("id").get<std::string>();
        const auto* edition = analysis::findEdition(resolved, id);
        if (!edition)
            throw StoreError("the bundled edition \"" + id + "\" did not resolve");
        q.addBindValue(QString::fromStdString(edition->id));
        q.addBindValue(QString::fromStdString(edition->title));
        q.addBindValue(QString::fromStdString(edition->citation.text));
        q.addBindValue(QString::fromStdString(edition->effective));
        q.addBindValue(QString::fromStdString(edition->status));
        q.addBindValue(QString::fromUtf8(files[i].text));
        execPrepared(q, "cannot store edition \"" + id + "\"");
    }
    QSqlQuery meta =
        prepare(db,
                QStringLiteral("INSERT INTO meta (key, value) VALUES (?, ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
                "cannot record the bundled editions");
    meta.addBindValue(kBundledEditionsHashKey);
    meta.addBindValue(bundledEditionsHash(files));
    execPrepared(meta, "cannot record the bundled editions");
}

void seed(const QSqlDatabase& db) {
    for (const ChipSpec& chip : Store::bundledChips())
        writeChip(db, chip, QStringLiteral("bundled"));
    writeEditions(db, bundledEditionFiles());
}

// An app update may ship corrected rules: swap the bundled rows when the bundle changed, in one
// transaction so a failure leaves the old rules in place.
void refreshBundledEditions(const QSqlDatabase& db) {
    const auto files = bundledEditionFiles();
    const QString hash = bundledEditionsHash(files);
    auto storedHash = [&] {
        QSqlQuery q = prepare(db, QStringLiteral("SELECT value FROM meta WHERE key = ?"),
                              "cannot read the store's metadata");
        q.addBindValue(kBundledEditionsHashKey);
        execPrepared(q, "cannot read the store's metadata");
        return q.next() ? q.value(0).toString() : QString();
    };
    if (storedHash() == hash)
        return;
    WriteTransaction transaction(db);
    if (storedHash() == hash) // another process refreshed it while we waited for the lock
        return;
    exec(db, QStringLiteral("DELETE FROM editions WHERE origin = 'bundled'"),
         "cannot remove the old bundled editions");
    writeEditions(db, files);
    transaction.commit();
}

int userVersion(const QSqlDatabase& db) {
    return scalar(db, QStringLiteral("PRAGMA user_version"), "cannot read the store's version")
        .toInt();
}

void migrate(const QSqlDatabase& db, const Store::Options& options) {
    if (userVersion(db) >= Store::kSchemaVersion)
        return;
    WriteTransaction transaction(db);
    // Read again under the lock: another process may have migrated while we waited.
    const int from = userVersion(db);
    if (from >= Store::kSchemaVersion)
        return;
    const auto& ladder = migrationLadder();
    if (ladder.size() != static_cast<size_t>(Store::kSchemaVersion))
        throw StoreError("internal error: the migration ladder does not reach schema " +
                         std::to_string(Store::kSchemaVersion));
    for (int version = from; version < Store::kSchemaVersion; ++version) {
        ladder[static_cast<size_t>(version)](db);
        if (options.after_migration_step)
            options.after_migration_step(version + 1);
    }
    // A new store's dataset lands in the same transaction: a store never exists half-seeded.
    if (from == 0)
        seed(db);
    // PRAGMA user_version is written inside the transaction, so it rolls back with the rest.
    exec(db, QStringLiteral("PRAGMA user_version = %1").arg(Store::kSchemaVersion),
         "cannot record the store's version");
    transaction.commit();
}

// ---- the audit trail and imports --------------------------------------------------------------

std::string nowUtc() {
    return str(QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
}

QVariant textOrNull(const std::optional<std::string>& v) {
    return v ? QVariant(QString::fromStdString(*v)) : QVariant(QMetaType::fromType<QString>());
}

std::optional<std::string> optionalString(const QVariant& v) {
    return v.isNull() ? std::nullopt : std::optional(str(v.toString()));
}

std::string sourceText(const analysis::Source& s) {
    return s.field == "*" ? s.citation : s.field + ": " + s.citation;
}

// "io_bidirectional_gb_per_s 300: CITATION", as the audit trail records an alternative.
std::string alternativeText(const analysis::FigureAlternative& a) {
    return a.field + " " + analysis::formatFigure(a.value) + ": " + a.citation;
}

// The citation behind a new value of `field`: the incoming source for that field, else the
// incoming row sources.
std::string citationFor(const std::vector<analysis::Source>& incoming, const std::string& field) {
    for (const auto& s : incoming)
        if (s.field == field)
            return s.citation;
    std::string out;
    for (const auto& s : incoming)
        if (s.field == "*")
            out += (out.empty() ? "" : "; ") + s.citation;
    return out;
}

// The entries for one chip going from `before` (nullopt: added) to `after` (nullopt: removed).
std::vector<AuditEntry> auditEntries(const std::optional<ChipSpec>& before,
                                     const std::optional<ChipSpec>& after, const std::string& at,
                                     const std::string& via,
                                     const std::vector<analysis::Source>& incoming) {
    std::vector<AuditEntry> out;
    const std::string chip = after ? after->name : before->name;
    const auto entry = [&](std::string field, std::optional<std::string> oldValue,
                           std::optional<std::string> newValue, std::string source) {
        out.push_back({at, chip, std::move(field), std::move(oldValue), std::move(newValue),
                       std::move(source), via});
    };
    if (!before || !after)
        entry("*", std::nullopt, before ? "removed" : "added", citationFor(incoming, "*"));
    std::set<std::string> changed;
    for (const std::string& field : chipFieldKeys()) {
        auto oldValue = before ? chipFieldText(*before, field) : std::nullopt;
        auto newValue = after ? chipFieldText(*after, field) : std::nullopt;
        if (oldValue == newValue)
            continue;
        changed.insert(field);
        entry(field, std::move(oldValue), std::move(newValue),
              after ? citationFor(incoming, field) : std::string());
    }
    if (!before || !after)
        return out;
    // Sources that came or went other than with a changed figure (whose entry names its source).
    const auto contains = [](const std::vector<analysis::Source>& list, const analysis::Source& s) {
        return std::find(list.begin(), list.end(), s) != list.end();
    };
    for (const auto& s : after->sources)
        if (!contains(before->sources, s) && !changed.count(s.field))
            entry("sources", std::nullopt, sourceText(s), s.citation);
    for (const auto& s : before->sources)
        if (!contains(after->sources, s) && !changed.count(s.field))
            entry("sources", sourceText(s), std::nullopt, std::string());
    const auto has = [](const std::vector<analysis::FigureAlternative>& list,
                        const analysis::FigureAlternative& a) {
        return std::find(list.begin(), list.end(), a) != list.end();
    };
    for (const auto& a : after->alternatives)
        if (!has(before->alternatives, a))
            entry("alternatives", std::nullopt, alternativeText(a), a.citation);
    for (const auto& a : before->alternatives)
        if (!has(after->alternatives, a))
            entry("alternatives", alternativeText(a), std::nullopt, std::string());
    return out;
}

void insertAudit(const QSqlDatabase& db, const std::vector<AuditEntry>& entries) {
    if (entries.empty())
        return;
    QSqlQuery q = prepare(db,
                          QStringLiteral("INSERT INTO audit_trail (at, chip, field, old_value, "
                                         "new_value, source, via) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                          "cannot record the change in the audit trail");
    for (const AuditEntry& e : entries) {
        q.addBindValue(QString::fromStdString(e.at));
        q.addBindValue(QString::fromStdString(e.chip));
        q.addBindValue(QString::fromStdString(e.field));
        q.addBindValue(textOrNull(e.old_value));
        q.addBindValue(textOrNull(e.new_value));
        q.addBindValue(QString::fromStdString(e.source));
        q.addBindValue(QString::fromStdString(e.via));
        execPrepared(q, "chip \"" + e.chip + "\": cannot record the change of " + e.field +
                            " in the audit trail");
    }
}

std::string foldedName(std::string_view name) {
    std::string out(name);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

ImportDiff planImport(const std::vector<ChipSpec>& stored, const std::vector<ChipPatch>& rows,
                      const std::vector<ChipAlias>& aliases) {
    std::map<std::string, const ChipSpec*> byName;
    std::vector<std::string> names;
    for (const ChipSpec& c : stored) {
        byName.emplace(foldedName(c.name), &c);
        names.push_back(c.name);
    }
    const ChipNameMatcher matcher(names, aliases);
    std::map<std::string, std::string> rowOfChip; // folded store name -> the row that is it
    ImportDiff diff;
    for (const ChipPatch& row : rows) {
        const std::string& rowName = row.values.name;
        const std::string where = (row.origin.empty() ? std::string() : row.origin + ": ");
        const ChipSpec* target = nullptr;
        if (row.matching == NameMatching::Exact) {
            if (auto it = byName.find(foldedName(rowName)); it != byName.end())
                target = it->second;
        } else {
            const ChipNameMatch m = matcher.match(rowName);
            if (!m.ambiguous.empty()) {
                std::string candidates;
                for (const auto& n : m.ambiguous)
                    candidates += (candidates.empty() ? "\"" : ", \"") + n + "\"";
                throw StoreError(where + "\"" + rowName + "\" could be any of " + candidates +
                                 " in the store: use the store's name in the file (or add an " +
                                 "alias to data/seed/aliases.json)");
            }
            if (m.name)
                target = byName.at(foldedName(*m.name));
        }
        ChipImportDiff c;
        c.row_name = rowName;
        c.origin = row.origin;
        if (target) {
            const auto [it, first] = rowOfChip.emplace(foldedName(target->name), row.origin);
            if (!first)
                throw StoreError(where + "\"" + rowName + "\" is the store's \"" + target->name +
                                 "\", and so is the row of " + it->second + ": keep one of them");
            c.name = target->name;
            c.before = *target;
            c.after = applyPatch(*target, row);
            for (const std::string& field : chipFieldKeys()) {
                if (!row.gives(field))
                    continue;
                auto oldValue = chipFieldText(c.before, field);
                auto newValue = chipFieldText(c.after, field);
                if (oldValue == newValue)
                    ++c.unchanged;
                else
                    c.changes.push_back({field, std::move(oldValue), std::move(newValue)});
            }
            for (const auto& s : c.after.sources)
                if (std::find(c.before.sources.begin(), c.before.sources.end(), s) ==
                    c.before.sources.end())
                    c.sources_added.push_back(s);
            for (const auto& a : c.after.alternatives)
                if (std::find(c.before.alternatives.begin(), c.before.alternatives.end(), a) ==
                    c.before.alternatives.end())
                    c.alternatives_added.push_back(a);
        } else {
            c.added = true;
            c.name = rowName;
            c.after = row.values;
            c.after.sources = mergeSources({}, {}, row.sources, true);
            for (const std::string& field : chipFieldKeys())
                if (auto v = chipFieldText(c.after, field))
                    c.changes.push_back({field, std::nullopt, std::move(v)});
            c.sources_added = c.after.sources;
            c.alternatives_added = c.after.alternatives;
        }
        const auto problems = analysis::validateChip(c.after);
        if (!problems.empty())
            throw StoreError(where + chipContext(c.after) + ": " + problems.front());
        diff.chips.push_back(std::move(c));
    }
    return diff;
}

std::atomic<int> connectionCounter{0};

} // namespace

Store::Store(const QString& path) : Store(path, Options{}) {}

Store::Store(const QString& path, const Options& options)
    : path_(path),
      connection_(QStringLiteral("crossroads-store-%1").arg(connectionCounter.fetch_add(1))) {
    try {
        open(options);
    } catch (...) {
        closeConnection();
        throw;
    }
}

Store::~Store() {
    closeConnection();
}

void Store::closeConnection() {
    if (!QSqlDatabase::contains(connection_))
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(connection_, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(connection_);
}

void Store::open(const Options& options) {
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
        throw StoreError("the Qt SQLite driver (QSQLITE) is missing: install libqt6sql6-sqlite");

    // QSQLITE would open an anonymous temporary database for an empty name.
    if (path_.isEmpty())
        throw StoreError("no store path given");
    const QFileInfo info(path_);
    const bool existing = info.exists() && info.size() > 0;
    if (info.exists() && !info.isFile())
        throw StoreError("not a Crossroads store (not a file): " + where(path_));
    if (existing) {
        // Decided before SQLite sees the file: something that is not a database never reaches
        // code that might write to it, and the error can say what is wrong in plain words.
        QFile file(path_);
        if (!file.open(QIODevice::ReadOnly))
            throw StoreError("cannot read store " + where(path_) + ": " + str(file.errorString()));
        const QByteArray head = file.read(static_cast<qint64>(kSqliteMagic.size()));
        if (std::string_view(head.constData(), static_cast<size_t>(head.size())) != kSqliteMagic)
            throw StoreError("not a Crossroads store (not an SQLite database): " + where(path_));
    } else if (!QFileInfo(info.absolutePath()).isDir()) {
        // A mistyped --db must not quietly become a new store that looks empty of the
        // analyst's work; only the app's own folder is made on the first run.
        const bool mayCreate =
            options.create_folder ||
            QFileInfo(defaultPath()).absoluteFilePath() == info.absoluteFilePath();
        if (!mayCreate)
            throw StoreError("no folder " + where(info.absolutePath()) + " for store " +
                             where(path_) + " (create it first, or check the path)");
        if (!QDir().mkpath(info.absolutePath()))
            throw StoreError("cannot create the folder for store " + where(path_));
    }

    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection_);
    db.setDatabaseName(path_);
    if (!db.open())
        throw StoreError("cannot open store " + where(path_) + ": " + errorText(db.lastError()));

    // Until the checks below pass, SQLite itself refuses every write to the file.
    exec(db, QStringLiteral("PRAGMA query_only = ON"), "cannot open store " + where(path_));
    const std::string corrupt = "store is corrupt: " + where(path_) + ": ";
    {
        // quick_check reads every page once (no index cross-checks): milliseconds for a store of
        // a few hundred chips, and it turns a damaged file into one clear error at open instead
        // of odd failures later.
        QSqlQuery check(db);
        if (!check.exec(QStringLiteral("PRAGMA quick_check")))
            throw StoreError(corrupt + errorText(check.lastError()));
        QStringList problems;
        while (check.next()) {
            const QString row = check.value(0).toString();
            if (row == QLatin1String("ok"))
                continue;
            // Anything else is a problem. SQLite may pack several into one row, one per line,
            // under a "*** in database main ***" heading.
            QStringList lines = row.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
            lines.removeIf([](const QString& l) { return l.startsWith(QLatin1String("***")); });
            problems << (lines.isEmpty() ? QStringList{row} : lines);
        }
        if (!problems.isEmpty()) {
            const qsizetype more = problems.size() - 1;
            throw StoreError(
                corrupt + str(problems.front()) +
                (more > 0 ? " (and " + std::to_string(more) + " more problems)" : std::string()));
        }
    }
    int version = 0;
    {
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next())
            throw StoreError(corrupt + errorText(q.lastError()));
        version = q.value(0).toInt();
    }
    if (version > kSchemaVersion)
        throw StoreError("store schema " + std::to_string(version) +
                         " is newer than this Crossroads (knows " + std::to_string(kSchemaVersion) +
                         "): upgrade Crossroads");
    if (version == 0 && existing) {
        // Version 0 with tables is some other program's database, not an interrupted creation
        // of ours (that would have rolled back to no tables at all).
        const int tables = scalar(db, QStringLiteral("SELECT count(*) FROM sqlite_master"),
                                  corrupt + "cannot list its tables")
                               .toInt();
        if (tables > 0)
            throw StoreError("not a Crossroads store (an SQLite database of another program): " +
                             where(path_));
    }
    exec(db, QStringLiteral("PRAGMA query_only = OFF"), "cannot open store " + where(path_));

    const QString journalMode =
        scalar(db, QStringLiteral("PRAGMA journal_mode = WAL"), "cannot turn on WAL journaling")
            .toString()
            .toLower();
    if (journalMode != QLatin1String("wal"))
        throw StoreError("store " + where(path_) +
                         ": SQLite refused WAL journaling (journal mode stays \"" +
                         str(journalMode) + "\"); is it on a network or read-only file system?");
    // Per connection and a no-op inside a transaction: set it before any.
    exec(db, QStringLiteral("PRAGMA foreign_keys = ON"), "cannot turn on foreign keys");

    migrate(db, options);
    refreshBundledEditions(db);
}

QString Store::defaultPath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/crossroads.sqlite");
}

std::vector<ChipSpec> Store::bundledChips() {
    const QByteArray text = readResource(kBundledChipsPath);
    try {
        return analysis::chipsFromJsonText(
            std::string(text.constData(), static_cast<size_t>(text.size())));
    } catch (const std::exception& e) {
        throw StoreError(std::string("the bundled chips are broken: ") + e.what());
    }
}

std::vector<BibliographyEntry> Store::bundledBibliography() {
    const QByteArray text = readResource(kBundledSourcesPath);
    try {
        return bibliographyFromJsonText(text.toStdString());
    } catch (const std::exception& e) {
        throw StoreError(std::string("the bundled bibliography is broken: ") + e.what());
    }
}

std::vector<ChipAlias> Store::bundledAliases() {
    const QByteArray text = readResource(kBundledAliasesPath);
    try {
        return aliasesFromJsonText(text.toStdString());
    } catch (const std::exception& e) {
        throw StoreError(std::string("the bundled chip aliases are broken: ") + e.what());
    }
}

std::vector<BibliographyEntry> Store::bibliography() const {
    return bundledBibliography();
}

std::vector<std::string> Store::bundledEditionTexts() {
    std::vector<std::string> texts;
    for (const auto& file : bundledEditionFiles())
        texts.emplace_back(file.text.constData(), static_cast<size_t>(file.text.size()));
    return texts;
}

QSqlDatabase Store::database() const {
    return QSqlDatabase::database(connection_, false);
}

// ---- transactions -----------------------------------------------------------------------------

namespace {

QString savepointName(int level) {
    return QStringLiteral("crossroads_%1").arg(level);
}

} // namespace

Store::Transaction::Transaction(Store& store) : store_(store), level_(store.transactionDepth_ + 1) {
    const QSqlDatabase db = store_.database();
    if (level_ == 1)
        exec(db, QStringLiteral("BEGIN IMMEDIATE"), "cannot start a store transaction");
    else
        exec(db, QStringLiteral("SAVEPOINT %1").arg(savepointName(level_)),
             "cannot start a nested store transaction");
    store_.transactionDepth_ = level_;
    open_ = true;
}

Store::Transaction::~Transaction() {
    if (!open_)
        return;
    // Rolled back; errors go unreported (a destructor does not throw, and SQLite rolls an
    // unfinished transaction back itself when the connection closes).
    QSqlQuery q(store_.database());
    if (level_ == 1) {
        q.exec(QStringLiteral("ROLLBACK"));
    } else {
        // ROLLBACK TO keeps the savepoint open; RELEASE ends it, its writes undone.
        q.exec(QStringLiteral("ROLLBACK TO SAVEPOINT %1").arg(savepointName(level_)));
        q.exec(QStringLiteral("RELEASE SAVEPOINT %1").arg(savepointName(level_)));
    }
    finish();
}

void Store::Transaction::commit() {
    if (!open_)
        throw StoreError("internal error: a store transaction committed twice");
    if (store_.transactionDepth_ != level_)
        throw StoreError("internal error: a store transaction committed while one inside it "
                         "is still open");
    const QSqlDatabase db = store_.database();
    if (level_ == 1)
        exec(db, QStringLiteral("COMMIT"), "cannot commit to the store");
    else
        exec(db, QStringLiteral("RELEASE SAVEPOINT %1").arg(savepointName(level_)),
             "cannot commit a nested store transaction");
    finish();
}

void Store::Transaction::finish() {
    open_ = false;
    store_.transactionDepth_ = level_ - 1;
}

int Store::schemaVersion() const {
    return userVersion(database());
}

std::vector<ChipSpec> Store::chips() const {
    const QSqlDatabase db = database();
    auto sources = readSources(db, std::nullopt);
    QSqlQuery q = exec(db, chipSelect(QStringLiteral("ORDER BY vendor COLLATE NOCASE, name")),
                       "cannot read chips");
    std::vector<ChipSpec> chips;
    auto alternatives = readAlternatives(db, std::nullopt);
    while (q.next()) {
        ChipSpec chip = chipFromRow(q);
        if (auto it = sources.find(q.value(0).toLongLong()); it != sources.end())
            chip.sources = std::move(it->second);
        if (auto it = alternatives.find(q.value(0).toLongLong()); it != alternatives.end())
            chip.alternatives = std::move(it->second);
        chips.push_back(std::move(chip));
    }
    return chips;
}

std::optional<ChipSpec> Store::chip(const QString& name) const {
    const QSqlDatabase db = database();
    QSqlQuery q = prepare(db, chipSelect(QStringLiteral("WHERE name = ?")), "cannot read a chip");
    q.addBindValue(name);
    execPrepared(q, "cannot read chip \"" + str(name) + "\"");
    if (!q.next())
        return std::nullopt;
    ChipSpec chip = chipFromRow(q);
    const qint64 id = q.value(0).toLongLong();
    auto sources = readSources(db, id);
    if (auto it = sources.find(id); it != sources.end())
        chip.sources = std::move(it->second);
    auto alternatives = readAlternatives(db, id);
    if (auto it = alternatives.find(id); it != alternatives.end())
        chip.alternatives = std::move(it->second);
    return chip;
}

ImportReport Store::upsertChips(const std::vector<ChipSpec>& chips, const std::string& via) {
    std::set<std::string> foldedNames;
    for (const ChipSpec& chip : chips) {
        const auto problems = analysis::validateChip(chip);
        if (!problems.empty())
            throw StoreError(chipContext(chip) + ": " + problems.front());
        // The store's NOCASE collation folds ASCII only; fold the same way.
        if (!foldedNames.insert(foldedName(chip.name)).second)
            throw StoreError(chipContext(chip) + ": appears twice in the same import");
    }
    const QSqlDatabase db = database();
    ImportReport report;
    Transaction transaction(*this);
    const std::string at = nowUtc();
    std::vector<AuditEntry> entries;
    for (const ChipSpec& chip : chips) {
        const auto before = this->chip(QString::fromStdString(chip.name));
        if (writeChip(db, chip, QStringLiteral("user")) == ChipWrite::Added)
            ++report.added;
        else
            ++report.updated;
        auto e = auditEntries(before, chip, at, via, chip.sources);
        entries.insert(entries.end(), e.begin(), e.end());
    }
    insertAudit(db, entries);
    transaction.commit();
    return report;
}

bool Store::removeChip(const QString& name, const std::string& via) {
    const QSqlDatabase db = database();
    Transaction transaction(*this);
    const auto before = chip(name);
    if (!before)
        return false;
    QSqlQuery q =
        prepare(db, QStringLiteral("DELETE FROM chips WHERE name = ?"), "cannot remove a chip");
    q.addBindValue(name);
    execPrepared(q, "cannot remove chip \"" + str(name) + "\"");
    insertAudit(db, auditEntries(before, std::nullopt, nowUtc(), via, {}));
    transaction.commit();
    return q.numRowsAffected() > 0;
}

ImportDiff Store::diffImport(const std::vector<ChipPatch>& rows) const {
    return planImport(chips(), rows, bundledAliases());
}

ImportDiff Store::importChips(const std::vector<ChipPatch>& rows, const std::string& via) {
    const auto aliases = bundledAliases();
    const QSqlDatabase db = database();
    Transaction transaction(*this);
    // Planned under the write lock: what is applied is what was compared.
    ImportDiff diff = planImport(chips(), rows, aliases);
    const std::string at = nowUtc();
    std::vector<AuditEntry> entries;
    for (size_t i = 0; i < diff.chips.size(); ++i) {
        const ChipImportDiff& c = diff.chips[i];
        if (!c.changed())
            continue;
        writeChip(db, c.after, QStringLiteral("user"));
        auto e = auditEntries(c.added ? std::nullopt : std::optional(c.before), c.after, at, via,
                              rows[i].sources);
        entries.insert(entries.end(), e.begin(), e.end());
    }
    insertAudit(db, entries);
    transaction.commit();
    return diff;
}

ChipSpec Store::editChip(const QString& name, const ChipPatch& edit, const std::string& via) {
    for (const std::string& field : edit.fields)
        if (!isChipFieldKey(field))
            throw StoreError("unknown chip field \"" + field + "\"");
    const QSqlDatabase db = database();
    Transaction transaction(*this);
    const auto before = chip(name);
    if (!before)
        throw StoreError("no chip named \"" + str(name) + "\" in the store");
    const ChipSpec after = applyPatch(*before, edit);
    const auto problems = analysis::validateChip(after);
    if (!problems.empty())
        throw StoreError(chipContext(after) + ": " + problems.front());
    if (after == *before)
        return after;
    writeChip(db, after, QStringLiteral("user"));
    insertAudit(db, auditEntries(before, after, nowUtc(), via, edit.sources));
    transaction.commit();
    return after;
}

std::vector<AuditEntry> Store::history(const QString& chipName) const {
    QSqlQuery q = prepare(
        database(),
        QStringLiteral("SELECT at, chip, field, old_value, new_value, source, "
                       "via FROM audit_trail %1 ORDER BY id")
            .arg(chipName.isEmpty() ? QString() : QStringLiteral("WHERE chip = ? COLLATE NOCASE")),
        "cannot read the audit trail");
    if (!chipName.isEmpty())
        q.addBindValue(chipName);
    execPrepared(q, "cannot read the audit trail");
    std::vector<AuditEntry> out;
    while (q.next())
        out.push_back({str(q.value(0).toString()), str(q.value(1).toString()),
                       str(q.value(2).toString()), optionalString(q.value(3)),
                       optionalString(q.value(4)), str(q.value(5).toString()),
                       str(q.value(6).toString())});
    return out;
}

qint64 Store::saveBenchmarkResult(const QString& device, const QString& backend,
                                  const QString& model, const QString& dtype,
                                  const std::string& resultJson) {
    QSqlQuery q = prepare(database(),
                          QStringLiteral("INSERT INTO benchmark_results "
                                         "(created_at, device, backend, model, dtype, result_json) "
                                         "VALUES (?, ?, ?, ?, ?, ?)"),
                          "cannot save a benchmark result");
    q.addBindValue(QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    q.addBindValue(device);
    q.addBindValue(backend);
    q.addBindValue(model);
    q.addBindValue(dtype);
    q.addBindValue(QString::fromStdString(resultJson));
    execPrepared(q, "cannot save a benchmark result");
    return q.lastInsertId().toLongLong();
}

std::vector<Store::BenchmarkRecord> Store::benchmarkResults() const {
    QSqlQuery q = exec(database(),
                       QStringLiteral("SELECT id, created_at, device, backend, model, dtype, "
                                      "result_json FROM benchmark_results ORDER BY id DESC"),
                       "cannot read benchmark results");
    std::vector<BenchmarkRecord> out;
    while (q.next())
        out.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(),
                       q.value(3).toString(), q.value(4).toString(), q.value(5).toString(),
                       q.value(6).toString().toStdString()});
    return out;
}

namespace {

// The editions table, resolved (no scenarios).
std::vector<analysis::Edition> storedEditions(const QSqlDatabase& db) {
    QSqlQuery q = exec(db, QStringLiteral("SELECT id, definition_json FROM editions"),
                       "cannot read editions");
    std::vector<nlohmann::json> objects;
    while (q.next()) {
        const QString id = q.value(0).toString();
        try {
            objects.push_back(nlohmann::json::parse(q.value(1).toString().toStdString()));
        } catch (const nlohmann::json::exception& e) {
            throw StoreError("edition \"" + str(id) +
                             "\" in the store is not valid JSON: " + e.what());
        }
    }
    try {
        return analysis::editionsFromJson(objects);
    } catch (const analysis::EditionFormatError& e) {
        throw StoreError(std::string("the store's editions are inconsistent: ") + e.what());
    }
}

bool sameName(const std::string& a, const std::string& b) {
    return QString::fromStdString(a).compare(QString::fromStdString(b), Qt::CaseInsensitive) == 0;
}

// The editions and every stored scenario, each resolved on its base where it can be.
struct ResolvedScenarios {
    std::vector<analysis::Edition> editions; // the editions table's
    std::vector<Store::ScenarioRecord> records;
    std::vector<std::optional<analysis::Edition>> resolved; // parallel to records
};

ResolvedScenarios resolveScenarios(const QSqlDatabase& db) {
    ResolvedScenarios out;
    out.editions = storedEditions(db);
    QSqlQuery q = exec(db,
                       QStringLiteral("SELECT name, base_edition, definition_json, created_at, "
                                      "updated_at FROM scenarios ORDER BY name COLLATE NOCASE"),
                       "cannot read scenarios");
    while (q.next()) {
        Store::ScenarioRecord r;
        r.scenario.name = str(q.value(0).toString());
        r.created_at = q.value(3).toString();
        r.updated_at = q.value(4).toString();
        try {
            r.scenario = analysis::scenarioFromJson(
                nlohmann::json::parse(q.value(2).toString().toStdString()));
        } catch (const std::exception& e) {
            r.problem = std::string("its definition cannot be read: ") + e.what();
        }
        // The columns are the truth for what they hold (a rename or a base update keeps them).
        r.scenario.name = str(q.value(0).toString());
        r.scenario.base = str(q.value(1).toString());
        out.records.push_back(std::move(r));
    }
    out.resolved.resize(out.records.size());
    enum class State { Unvisited, Visiting, Done };
    std::vector<State> state(out.records.size(), State::Unvisited);
    std::function<void(size_t)> resolve = [&](size_t i) {
        if (state[i] != State::Unvisited)
            return;
        state[i] = State::Visiting;
        Store::ScenarioRecord& r = out.records[i];
        const std::string& base = r.scenario.base;
        const analysis::Edition* baseEdition = nullptr;
        for (const analysis::Edition& e : out.editions)
            if (r.problem.empty() && sameName(e.id, r.scenario.name))
                r.problem = "its name is the id of an edition";
        if (r.problem.empty()) {
            baseEdition = analysis::findEdition(out.editions, base);
            if (!baseEdition) {
                size_t j = 0;
                while (j < out.records.size() && !sameName(out.records[j].scenario.name, base))
                    ++j;
                if (j == out.records.size()) {
                    r.problem = "its base edition \"" + base + "\" is not in the store";
                } else if (state[j] == State::Visiting) {
                    r.problem = "it extends itself through scenario \"" +
                                out.records[j].scenario.name + "\"";
                } else {
                    resolve(j);
                    if (out.resolved[j])
                        baseEdition = &*out.resolved[j];
                    else
                        r.problem = "its base scenario \"" + out.records[j].scenario.name +
                                    "\" does not resolve (" + out.records[j].problem + ")";
                }
            }
        }
        if (r.problem.empty() && baseEdition) {
            try {
                out.resolved[i] = analysis::resolveScenario(r.scenario, *baseEdition);
            } catch (const analysis::ScenarioError& e) {
                r.problem = e.what();
            }
        }
        state[i] = State::Done;
    };
    for (size_t i = 0; i < out.records.size(); ++i)
        resolve(i);
    return out;
}

QString nowUtcWithMilliseconds() {
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

} // namespace

std::vector<analysis::Edition> Store::editions() const {
    ResolvedScenarios all = resolveScenarios(database());
    std::vector<analysis::Edition> out = std::move(all.editions);
    for (auto& e : all.resolved)
        if (e)
            out.push_back(std::move(*e));
    return out;
}

std::vector<Store::ScenarioRecord> Store::scenarios() const {
    return resolveScenarios(database()).records;
}

std::optional<Store::ScenarioRecord> Store::scenario(const QString& name) const {
    for (ScenarioRecord& r : scenarios())
        if (sameName(r.scenario.name, str(name)))
            return std::move(r);
    return std::nullopt;
}

void Store::saveScenario(const analysis::Scenario& scenario, bool replace) {
    analysis::checkScenarioName(scenario.name);
    const QSqlDatabase db = database();
    Transaction transaction(*this);
    const ResolvedScenarios all = resolveScenarios(db);
    for (const analysis::Edition& e : all.editions)
        if (sameName(e.id, scenario.name))
            throw analysis::ScenarioError("\"" + scenario.name + "\" is the id of an edition: " +
                                          "a scenario needs a name of its own");
    std::optional<std::string> existing;
    for (const ScenarioRecord& r : all.records)
        if (sameName(r.scenario.name, scenario.name))
            existing = r.scenario.name;
    if (existing && !replace)
        throw StoreError("a scenario named \"" + *existing + "\" exists already");

    const analysis::Edition* base = analysis::findEdition(all.editions, scenario.base);
    if (!base) {
        if (sameName(scenario.base, scenario.name))
            throw analysis::ScenarioError("scenario \"" + scenario.name +
                                          "\" cannot extend itself");
        for (size_t i = 0; i < all.records.size(); ++i) {
            if (!sameName(all.records[i].scenario.name, scenario.base))
                continue;
            if (!all.resolved[i])
                throw analysis::ScenarioError("base scenario \"" + all.records[i].scenario.name +
                                              "\" does not resolve: " + all.records[i].problem);
            base = &*all.resolved[i];
        }
        if (!base) {
            std::string known;
            for (const analysis::Edition& e : all.editions)
                known += (known.empty() ? "" : ", ") + e.id;
            for (size_t i = 0; i < all.records.size(); ++i)
                if (all.resolved[i])
                    known += ", " + all.records[i].scenario.name;
            throw analysis::ScenarioError("unknown edition \"" + scenario.base +
                                          "\" (known: " + known + ")");
        }
        // A scenario of a scenario: the chain of bases must not come back to this one.
        for (const analysis::Edition* up = base; up && up->scenario;) {
            if (sameName(up->id, scenario.name))
                throw analysis::ScenarioError("scenario \"" + scenario.base + "\" extends \"" +
                                              scenario.name +
                                              "\": a scenario cannot extend itself");
            const analysis::Edition* next = analysis::findEdition(all.editions, up->base);
            for (size_t i = 0; !next && i < all.records.size(); ++i)
                if (all.resolved[i] && all.resolved[i]->id == up->base)
                    next = &*all.resolved[i];
            up = next;
        }
    }
    std::vector<std::string> chipNames;
    QSqlQuery names = exec(db, QStringLiteral("SELECT name FROM chips"), "cannot read chip names");
    while (names.next())
        chipNames.push_back(str(names.value(0).toString()));
    analysis::validateScenario(scenario, *base, chipNames);

    analysis::Scenario stored = scenario;
    stored.base = base->id;
    const QString definition = QString::fromStdString(analysis::scenarioToJson(stored).dump());
    const QString now = nowUtcWithMilliseconds();
    if (existing) {
        QSqlQuery q = prepare(db,
                              QStringLiteral("UPDATE scenarios SET name = ?, base_edition = ?, "
                                             "definition_json = ?, updated_at = ? WHERE name = ?"),
                              "cannot replace a scenario");
        q.addBindValue(QString::fromStdString(stored.name));
        q.addBindValue(QString::fromStdString(stored.base));
        q.addBindValue(definition);
        q.addBindValue(now);
        q.addBindValue(QString::fromStdString(*existing));
        execPrepared(q, "cannot replace scenario \"" + stored.name + "\"");
    } else {
        QSqlQuery q = prepare(db,
                              QStringLiteral("INSERT INTO scenarios (name, base_edition, "
                                             "definition_json, created_at, updated_at) VALUES "
                                             "(?, ?, ?, ?, ?)"),
                              "cannot save a scenario");
        q.addBindValue(QString::fromStdString(stored.name));
        q.addBindValue(QString::fromStdString(stored.base));
        q.addBindValue(definition);
        q.addBindValue(now);
        q.addBindValue(now);
        execPrepared(q, "cannot save scenario \"" + stored.name + "\"");
    }
    transaction.commit();
}

bool Store::removeScenario(const QString& name) {
    QSqlQuery q = prepare(database(), QStringLiteral("DELETE FROM scenarios WHERE name = ?"),
                          "cannot remove a scenario");
    q.addBindValue(name);
    execPrepared(q, "cannot remove scenario \"" + str(name) + "\"");
    return q.numRowsAffected() > 0;
}

void Store::renameScenario(const QString& from, const analysis::Scenario& renamed) {
    Transaction transaction(*this);
    const auto old = scenario(from);
    if (!old)
        throw StoreError("no scenario named \"" + str(from) + "\" in the store");
    const std::string& oldName = old->scenario.name;
    if (sameName(oldName, renamed.name)) { // only its case changes
        saveScenario(renamed, true);
        transaction.commit();
        return;
    }
    saveScenario(renamed, false);
    const QSqlDatabase db = database();
    for (const ScenarioRecord& r : scenarios()) {
        if (!sameName(r.scenario.base, oldName))
            continue;
        if (r.problem.empty()) {
            // Checked against the renamed base as any save is.
            analysis::Scenario child = r.scenario;
            child.base = renamed.name;
            saveScenario(child, true);
        } else {
            // One that does not resolve (an unreadable definition, ...) keeps its definition as
            // stored and moves by its base column, the truth for the base (resolveScenarios).
            QSqlQuery q = prepare(db,
                                  QStringLiteral("UPDATE scenarios SET base_edition = ?, "
                                                 "updated_at = ? WHERE name = ?"),
                                  "cannot move a scenario to the new name");
            q.addBindValue(QString::fromStdString(renamed.name));
            q.addBindValue(nowUtcWithMilliseconds());
            q.addBindValue(QString::fromStdString(r.scenario.name));
            execPrepared(q, "cannot move scenario \"" + r.scenario.name + "\" to \"" +
                                renamed.name + "\"");
        }
    }
    removeScenario(QString::fromStdString(oldName));
    transaction.commit();
}

QString Store::defaultEditionId() const {
    const auto all = editions();
    const analysis::Edition* edition = analysis::newestInForce(all);
    return edition ? QString::fromStdString(edition->id) : QString();
}

} // namespace crossroads::data
