// The SQLite store: seeding, migrations (one transaction, rollback), WAL, refusing newer, foreign,
// non-SQLite and corrupt files without touching them, all-or-nothing upserts, bundled editions.
#include "analysis/ChipJson.h"
#include "data/ChipFiles.h"
#include "data/Store.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <nlohmann/json.hpp>

using namespace crossroads::data;
using crossroads::analysis::ChipSpec;
using crossroads::analysis::Precision;

namespace {

// A second connection that bypasses Store: to inspect what is really in the file, or to put the
// file into states Store would never produce.
class RawConnection {
public:
    explicit RawConnection(const QString& path) : name_(QStringLiteral("raw-%1").arg(counter_++)) {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name_);
        db.setDatabaseName(path);
        if (!db.open())
            throw std::runtime_error("raw open failed: " + db.lastError().text().toStdString());
    }
    ~RawConnection() {
        {
            QSqlDatabase db = QSqlDatabase::database(name_, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(name_);
    }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    void exec(const QString& sql) {
        QSqlQuery q(QSqlDatabase::database(name_, false));
        if (!q.exec(sql))
            throw std::runtime_error(sql.toStdString() + ": " + q.lastError().text().toStdString());
    }
    QSqlQuery query(const QString& sql) {
        QSqlQuery q(QSqlDatabase::database(name_, false));
        if (!q.exec(sql))
            throw std::runtime_error(sql.toStdString() + ": " + q.lastError().text().toStdString());
        return q;
    }
    QVariant scalar(const QString& sql) {
        QSqlQuery q(QSqlDatabase::database(name_, false));
        if (!q.exec(sql) || !q.next())
            throw std::runtime_error(sql.toStdString() + ": " + q.lastError().text().toStdString());
        return q.value(0);
    }

private:
    static inline int counter_ = 0;
    QString name_;
};

QByteArray readBytes(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

void writeBytes(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(bytes) != bytes.size())
        throw std::runtime_error("cannot write " + path.toStdString());
}

// A closed, checkpointed store file (the WAL is folded back in when the last connection closes).
void makeStore(const QString& path) {
    Store store(path);
}

// Runs `open` expecting a StoreError; returns its message ("" when none was thrown).
template <typename F> QString storeErrorOf(F&& open) {
    try {
        open();
    } catch (const StoreError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

QByteArray chipsJson(const std::vector<ChipSpec>& chips) {
    auto array = nlohmann::json::array();
    for (const auto& c : chips)
        array.push_back(crossroads::analysis::chipToJson(c));
    return QByteArray::fromStdString(array.dump(1));
}

ChipSpec testChip(const std::string& name) {
    ChipSpec chip;
    chip.name = name;
    chip.vendor = "Test Vendor";
    chip.year = 2025;
    chip.dense_tops[Precision::Bf16] = 100;
    chip.memory_bandwidth_gb_per_s = 2000;
    chip.sources = {{"*", "test row", "high"}, {"bf16", "test figure", "low"}};
    return chip;
}

QString v1Fixture() {
    return QStringLiteral(CROSSROADS_SOURCE_DIR "/tests/data/store_v1.sqlite");
}

} // namespace

class TestStore : public QObject {
    Q_OBJECT
private slots:
    void freshStoreIsSeeded() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("nested/folder/store.sqlite"));
        Store::Options options;
        options.create_folder = true;
        Store store(path, options);
        QVERIFY(QFileInfo::exists(path));
        QCOMPARE(store.path(), path);
        QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);

        const auto bundled = Store::bundledChips();
        QCOMPARE(bundled.size(), size_t(49));
        const auto chips = store.chips();
        QCOMPARE(chips.size(), bundled.size());
        // Every figure and every source (in order) survives the store.
        for (const ChipSpec& chip : bundled) {
            const auto stored = store.chip(QString::fromStdString(chip.name));
            QVERIFY2(stored.has_value(), chip.name.c_str());
            QCOMPARE(chipsJson({*stored}), chipsJson({chip}));
            QVERIFY(*stored == chip);
        }

        const auto texts = Store::bundledEditionTexts();
        QVERIFY(!texts.empty());
        const auto editions = store.editions();
        QCOMPARE(editions.size(), texts.size());
        QVERIFY(std::is_sorted(editions.begin(), editions.end(), [](const auto& a, const auto& b) {
            return a.effective < b.effective;
        }));
        const auto expected = crossroads::analysis::editionsFromJsonTexts(texts);
        const auto* newest = crossroads::analysis::newestInForce(expected);
        QVERIFY(newest);
        QCOMPARE(store.defaultEditionId(), QString::fromStdString(newest->id));

        QSqlQuery q(store.database());
        QVERIFY(q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
        QVERIFY(q.exec(QStringLiteral("PRAGMA foreign_keys")) && q.next());
        QCOMPARE(q.value(0).toInt(), 1);
        QVERIFY(q.exec(QStringLiteral("SELECT count(*) FROM chips WHERE origin = 'bundled'")) &&
                q.next());
        QCOMPARE(q.value(0).toInt(), 49);
        QVERIFY(q.exec(QStringLiteral("SELECT title, effective, status FROM editions WHERE id = "
                                      "'2023-10'")) &&
                q.next());
        QVERIFY(!q.value(0).toString().isEmpty());
        QCOMPARE(q.value(1).toString(), QStringLiteral("2023-11-17"));
        for (const char* table : {"scenarios", "benchmark_results", "meta", "audit_trail"}) {
            QVERIFY2(q.exec(QStringLiteral("SELECT count(*) FROM %1").arg(QLatin1String(table))),
                     table);
        }
    }

    void chipsAreOrderedByVendorThenName() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        const auto chips = store.chips();
        const auto key = [](const ChipSpec& c) {
            return std::pair(QString::fromStdString(c.vendor).toLower(),
                             QString::fromStdString(c.name).toLower());
        };
        for (size_t i = 1; i < chips.size(); ++i)
            QVERIFY2(key(chips[i - 1]) <= key(chips[i]), chips[i].name.c_str());
    }

    void reopenIsIdempotent() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.sqlite"));
        QByteArray chipsBefore;
        size_t editionsBefore = 0;
        {
            Store store(path);
            store.upsertChips({testChip("Mine")});
            chipsBefore = chipsJson(store.chips());
            editionsBefore = store.editions().size();
        }
        for (int i = 0; i < 2; ++i) {
            Store store(path);
            QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);
            QCOMPARE(chipsJson(store.chips()), chipsBefore);
            QCOMPARE(store.editions().size(), editionsBefore);
        }
        RawConnection raw(path);
        QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM chips")).toInt(), 50);
        QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM meta")).toInt(), 1);
    }

    void twoStoresOnOneFile() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.sqlite"));
        Store a(path);
        Store b(path);
        QVERIFY(a.database().connectionName() != b.database().connectionName());
        a.upsertChips({testChip("Shared")});
        QVERIFY(b.chip(QStringLiteral("shared")).has_value());
    }

    void newerSchemaIsRefusedUntouched() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.sqlite"));
        makeStore(path);
        {
            RawConnection raw(path);
            raw.exec(QStringLiteral("PRAGMA user_version = 7"));
        }
        const QByteArray before = readBytes(path);
        QVERIFY(!before.isEmpty());
        QCOMPARE(storeErrorOf([&] { Store store(path); }),
                 QStringLiteral("store schema 7 is newer than this Crossroads (knows %1): upgrade "
                                "Crossroads")
                     .arg(Store::kSchemaVersion));
        QCOMPARE(readBytes(path), before);
    }

    void nonSqliteFilesAreRefusedUntouched_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("text") << QByteArray("name,vendor\nH100,NVIDIA\n");
        QTest::newRow("json") << QByteArray("[{\"name\": \"H100\"}]");
        QTest::newRow("shorter than the magic") << QByteArray("SQLite f");
        QTest::newRow("magic without NUL") << QByteArray("SQLite format 3!and more text here");
        QTest::newRow("binary") << QByteArray(4096, '\xff');
    }
    void nonSqliteFilesAreRefusedUntouched() {
        QFETCH(QByteArray, content);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("notes.sqlite"));
        writeBytes(path, content);
        QCOMPARE(storeErrorOf([&] { Store store(path); }),
                 QStringLiteral("not a Crossroads store (not an SQLite database): ") + path);
        QCOMPARE(readBytes(path), content);
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"notes.sqlite"});
    }

    void corruptStoresAreRefusedUntouched_data() {
        QTest::addColumn<QString>("damage");
        QTest::newRow("truncated to half") << "half";
        QTest::newRow("truncated to one page and a bit") << "page+";
        QTest::newRow("truncated to the header") << "header";
        QTest::newRow("garbage after the magic") << "garbage";
        QTest::newRow("pages overwritten") << "pages";
        QTest::newRow("page size garbled") << "pagesize";
    }
    void corruptStoresAreRefusedUntouched() {
        QFETCH(QString, damage);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.sqlite"));
        makeStore(path);
        QByteArray bytes = readBytes(path);
        const qsizetype pageSize = 4096;
        QVERIFY(bytes.size() > 4 * pageSize);
        if (damage == QLatin1String("half")) {
            bytes.truncate(bytes.size() / 2);
        } else if (damage == QLatin1String("page+")) {
            bytes.truncate(pageSize + 100);
        } else if (damage == QLatin1String("header")) {
            bytes.truncate(100);
        } else if (damage == QLatin1String("garbage")) {
            QByteArray garbage(8 * pageSize, '\0');
            QRandomGenerator rng(42);
            for (auto& c : garbage)
                c = static_cast<char>(rng.bounded(256));
            bytes = QByteArray("SQLite format 3", 16) + garbage;
        } else if (damage == QLatin1String("pages")) {
            for (qsizetype i = 2 * pageSize; i < bytes.size() - pageSize; ++i)
                bytes[i] = '\xa5';
        } else if (damage == QLatin1String("pagesize")) {
            bytes[16] = '\x12';
            bytes[17] = '\x34';
        }
        writeBytes(path, bytes);
        const QString error = storeErrorOf([&] { Store store(path); });
        QVERIFY2(
            error.startsWith(QStringLiteral("store is corrupt: ") + path + QStringLiteral(": ")),
            qPrintable(error));
        QCOMPARE(readBytes(path), bytes);
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"s.sqlite"});
    }

    void foreignSqliteDatabaseIsRefused() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("other.db"));
        {
            RawConnection raw(path);
            raw.exec(QStringLiteral("CREATE TABLE photos (id INTEGER PRIMARY KEY, file TEXT)"));
            raw.exec(QStringLiteral("INSERT INTO photos (file) VALUES ('cat.jpg')"));
        }
        const QByteArray before = readBytes(path);
        QCOMPARE(
            storeErrorOf([&] { Store store(path); }),
            QStringLiteral("not a Crossroads store (an SQLite database of another program): ") +
                path);
        QCOMPARE(readBytes(path), before);
    }

    void emptyFileBecomesAStore() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("empty.sqlite"));
        writeBytes(path, {});
        Store store(path);
        QCOMPARE(store.chips().size(), size_t(49));
    }

    void failedMigrationRollsBack() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.sqlite"));
        Store::Options failing;
        int reached = 0;
        failing.after_migration_step = [&](int version) {
            reached = version;
            throw StoreError("injected failure after step " + std::to_string(version));
        };
        QCOMPARE(storeErrorOf([&] { Store store(path, failing); }),
                 QStringLiteral("injected failure after step 1"));
        QCOMPARE(reached, 1);
        {
            RawConnection raw(path);
            QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 0);
            QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM sqlite_master")).toInt(), 0);
        }
        // The interrupted store is still a new store: the next open creates it whole.
        Store store(path);
        QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);
        QCOMPARE(store.chips().size(), size_t(49));
    }

    void upsertAddsAndReplaces() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        const auto bundled = Store::bundledChips();
        ChipSpec replaced = bundled.front();
        // Same chip, other case: replaced, not duplicated (names are case-insensitive).
        replaced.name = QString::fromStdString(replaced.name).toUpper().toStdString();
        replaced.tdp_w = 123;
        replaced.sources = {{"tdp_w", "my measurement", "low"}, {"*", "my notes", "medium"}};
        const ImportReport report = store.upsertChips({testChip("New one"), replaced});
        QCOMPARE(report.added, 1);
        QCOMPARE(report.updated, 1);
        QCOMPARE(store.chips().size(), bundled.size() + 1);
        const auto back = store.chip(QString::fromStdString(bundled.front().name));
        QVERIFY(back.has_value());
        QVERIFY(*back == replaced);
        QVERIFY(*store.chip(QStringLiteral("NEW ONE")) == testChip("New one"));
        RawConnection raw(store.path());
        QCOMPARE(raw.scalar(QStringLiteral("SELECT origin FROM chips WHERE name = '%1'")
                                .arg(QString::fromStdString(replaced.name)))
                     .toString(),
                 QStringLiteral("user"));
    }

    void benchmarkResultsAreKept() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.sqlite"));
        qint64 first = 0;
        {
            Store store(path);
            QVERIFY(store.benchmarkResults().empty());
            first = store.saveBenchmarkResult(QStringLiteral("NVIDIA H200"), QStringLiteral("cuda"),
                                              QStringLiteral("preset:mixtral-8x7b"),
                                              QStringLiteral("bf16"), R"({"phases": []})");
            store.saveBenchmarkResult(QStringLiteral("CPU"), QStringLiteral("cpu"),
                                      QStringLiteral("m"), QStringLiteral("bf16"), "{}");
        }
        Store reopened(path);
        const auto results = reopened.benchmarkResults();
        QCOMPARE(results.size(), size_t(2));
        QCOMPARE(results.back().id, first); // newest first
        QCOMPARE(results.back().device, QStringLiteral("NVIDIA H200"));
        QCOMPARE(results.back().result_json, std::string(R"({"phases": []})"));
        QVERIFY(QDateTime::fromString(results.back().created_at, Qt::ISODate).isValid());
    }

    void upsertIsAllOrNothing_data() {
        QTest::addColumn<int>("badIndex");
        QTest::addColumn<QString>("message");
        // Prefixes: the rest is analysis::validateChip's wording.
        QTest::newRow("invalid figure") << 1 << "chip \"Bad\": dense_tops.fp32 ";
        QTest::newRow("duplicate in batch")
            << 2 << "chip \"good one\": appears twice in the same import";
        QTest::newRow("no vendor") << 3 << "chip \"Bad\": vendor ";
    }
    void upsertIsAllOrNothing() {
        QFETCH(int, badIndex);
        QFETCH(QString, message);
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        const QByteArray before = chipsJson(store.chips());

        ChipSpec changed = Store::bundledChips().back();
        changed.tdp_w = 1;
        std::vector<ChipSpec> batch = {testChip("Good one"), changed};
        ChipSpec bad = testChip("Bad");
        if (badIndex == 1)
            bad.dense_tops[Precision::Fp32] = -1;
        if (badIndex == 2)
            bad = testChip("good one");
        if (badIndex == 3)
            bad.vendor.clear();
        batch.push_back(bad);

        const QString error = storeErrorOf([&] { store.upsertChips(batch); });
        QVERIFY2(error.startsWith(message), qPrintable(error));
        QCOMPARE(chipsJson(store.chips()), before);
    }

    void checkConstraintsGuardTheFile_data() {
        QTest::addColumn<QString>("column");
        QTest::addColumn<QString>("value");
        for (const char* c : {"fp64_tops", "fp16_tops", "fp4_tops", "applicable_die_area_mm2",
                              "memory_bandwidth_gb_per_s", "tdp_w", "tpp_reported"}) {
            QTest::newRow(c) << QString::fromLatin1(c) << QStringLiteral("0");
        }
        QTest::newRow("negative") << QStringLiteral("fp8_tops") << QStringLiteral("-3");
        QTest::newRow("kind") << QStringLiteral("kind") << QStringLiteral("'dram'");
        QTest::newRow("datacenter") << QStringLiteral("datacenter") << QStringLiteral("2");
        QTest::newRow("origin") << QStringLiteral("origin") << QStringLiteral("'web'");
    }
    void checkConstraintsGuardTheFile() {
        QFETCH(QString, column);
        QFETCH(QString, value);
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        QSqlQuery q(store.database());
        QVERIFY(!q.exec(QStringLiteral("INSERT INTO chips (name, vendor, %1) VALUES ('X', 'V', %2)")
                            .arg(column, value)));
        QVERIFY2(q.lastError().text().contains(QStringLiteral("CHECK constraint failed")),
                 qPrintable(q.lastError().text()));
    }

    void removeChipCascadesToSources() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        store.upsertChips({testChip("Gone soon")});
        QVERIFY(store.removeChip(QStringLiteral("GONE SOON")));
        QVERIFY(!store.removeChip(QStringLiteral("gone soon")));
        QVERIFY(!store.chip(QStringLiteral("Gone soon")));
        QSqlQuery q(store.database());
        QVERIFY(q.exec(QStringLiteral("SELECT count(*) FROM chip_sources WHERE chip_id NOT IN "
                                      "(SELECT id FROM chips)")) &&
                q.next());
        QCOMPARE(q.value(0).toInt(), 0);
    }

    void bundledEditionsAreRefreshed() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.sqlite"));
        makeStore(path);
        {
            // What a store written by an older Crossroads looks like: an older bundle (a stale
            // title, an edition it did not have), plus an edition of the user's own.
            RawConnection raw(path);
            raw.exec(QStringLiteral("UPDATE meta SET value = 'older bundle'"));
            raw.exec(QStringLiteral("UPDATE editions SET title = 'stale' WHERE id = '2023-10'"));
            raw.exec(QStringLiteral("DELETE FROM editions WHERE id = '2026-01'"));
            auto mine = nlohmann::json::parse(
                raw.scalar(QStringLiteral("SELECT definition_json FROM editions WHERE id = "
                                          "'2023-10'"))
                    .toString()
                    .toStdString());
            mine["id"] = "my-2023-10";
            raw.exec(QStringLiteral("INSERT INTO editions (id, definition_json, origin) VALUES "
                                    "('my-2023-10', '%1', 'user')")
                         .arg(QString::fromStdString(mine.dump()).replace('\'', "''")));
        }
        Store store(path);
        const auto editions = store.editions();
        QCOMPARE(editions.size(), Store::bundledEditionTexts().size() + 1);
        const auto* stale = crossroads::analysis::findEdition(editions, "2023-10");
        QVERIFY(stale);
        QVERIFY(stale->title != "stale");
        QVERIFY(crossroads::analysis::findEdition(editions, "2026-01"));
        QVERIFY(crossroads::analysis::findEdition(editions, "my-2023-10"));
        QSqlQuery q(store.database());
        QVERIFY(q.exec(QStringLiteral("SELECT title FROM editions WHERE id = '2023-10'")) &&
                q.next());
        QCOMPARE(QString::fromStdString(stale->title), q.value(0).toString());
    }

    void sqlErrorsBecomeStoreErrors() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("s.sqlite"));
        Store store(path);
        {
            RawConnection raw(path);
            raw.exec(QStringLiteral("DROP TABLE chip_sources"));
            raw.exec(QStringLiteral("DROP TABLE chips"));
        }
        const QString error = storeErrorOf([&] { store.chips(); });
        QVERIFY2(error.contains(QStringLiteral("no such table")), qPrintable(error));
        QVERIFY(
            storeErrorOf([&] { store.upsertChips({testChip("X")}); }).contains("no such table"));
        QVERIFY(storeErrorOf([&] { store.chip(QStringLiteral("X")); }).contains("no such table"));
    }

    void defaultPathIsInTheAppDataFolder() {
        QVERIFY(Store::defaultPath().endsWith(QStringLiteral("/crossroads.sqlite")));
    }

    // A mistyped folder is an error naming it, and leaves nothing behind.
    void missingFolderIsRefused() {
        QTemporaryDir dir;
        const QString folder = dir.filePath(QStringLiteral("no/such"));
        const QString path = folder + QStringLiteral("/store.sqlite");
        const QString error = storeErrorOf([&] { Store store(path); });
        QVERIFY2(error.startsWith(QStringLiteral("no folder ") + folder), qPrintable(error));
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("no"))));
        Store::Options options;
        options.create_folder = true;
        Store store(path, options);
        QVERIFY(QFileInfo::exists(path));
    }

    // Released step 1 is frozen: a new store's v1 tables are, byte for byte, those of a store
    // made by the Crossroads that released schema 1 (tests/data/store_v1.sqlite).
    void schemaOneIsFrozen() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        const auto schema = [](const QSqlDatabase& db) {
            QSqlQuery q(db);
            q.exec(
                QStringLiteral("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE "
                               "'audit_trail%' AND name NOT LIKE 'chip_alternatives%' AND name NOT "
                               "LIKE 'sqlite_%' ORDER BY name"));
            QStringList out;
            while (q.next())
                out << q.value(0).toString() + QLatin1Char('\n') + q.value(1).toString();
            return out;
        };
        const QString v1 = dir.filePath(QStringLiteral("v1.sqlite"));
        QVERIFY(QFile::copy(v1Fixture(), v1));
        QStringList expected;
        {
            RawConnection raw(v1);
            QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 1);
        }
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), "v1-schema");
        db.setDatabaseName(v1);
        QVERIFY(db.open());
        expected = schema(db);
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("v1-schema"));
        QCOMPARE(expected.size(), 7); // 6 tables and 1 index (SQLite's autoindexes left out)
        QCOMPARE(schema(store.database()), expected);
    }

    // A store made by the Crossroads of schema 1, with an analyst's chip, a corrected seeded
    // chip and a benchmark result, migrates to 2 keeping all of it.
    void versionOneStoreMigrates() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("v1.sqlite"));
        QVERIFY(QFile::copy(v1Fixture(), path));
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
        // Every row of the chips and their sources, every column, as the file holds them.
        const auto rows = [](RawConnection& raw) {
            QStringList out;
            for (const char* sql : {"SELECT * FROM chips ORDER BY id",
                                    "SELECT * FROM chip_sources ORDER BY chip_id, position",
                                    "SELECT * FROM benchmark_results ORDER BY id"}) {
                QSqlQuery q = raw.query(QString::fromLatin1(sql));
                while (q.next()) {
                    QStringList cells;
                    for (int i = 0; i < q.record().count(); ++i)
                        cells << (q.isNull(i) ? QStringLiteral("NULL") : q.value(i).toString());
                    out << cells.join(QLatin1Char('|'));
                }
            }
            return out;
        };
        QStringList before;
        {
            RawConnection raw(path);
            QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM chips")).toInt(), 50);
            QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE name = "
                                               "'audit_trail'"))
                         .toInt(),
                     0);
            before = rows(raw);
        }
        QCOMPARE(before.size(), 50 + 94 + 1); // chips, their sources, one benchmark result
        Store store(path);
        QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);
        {
            RawConnection raw(path);
            QCOMPARE(rows(raw), before);
        }
        QCOMPARE(store.chips().size(), size_t(50));
        const auto mine = store.chip(QStringLiteral("Analyst Part X1"));
        QVERIFY(mine.has_value());
        QCOMPARE(mine->vendor, std::string("Analyst Lab"));
        QCOMPARE(mine->dense_tops[Precision::Bf16], std::optional<double>(400));
        QCOMPARE(mine->applicable_die_area_mm2, std::optional<double>(600));
        QCOMPARE(mine->io_bidirectional_gb_per_s, std::optional<double>(700));
        QCOMPARE(mine->datacenter, std::optional<bool>(true));
        QCOMPARE(mine->notes, std::string("added by an analyst in a v1 store"));
        QCOMPARE(mine->sources.size(), size_t(2));
        const auto h20 = store.chip(QStringLiteral("H20 (China)"));
        QCOMPARE(h20->tdp_w, std::optional<double>(350)); // the analyst's correction
        QCOMPARE(h20->memory_bandwidth_gb_per_s, std::optional<double>(4000));
        QCOMPARE(store.benchmarkResults().size(), size_t(1));
        QVERIFY(store.history().empty()); // the migration itself changes no chip
        ChipPatch edit = fieldEditPatch("H20 (China)", "tdp_w", "400");
        store.editChip(QStringLiteral("H20 (China)"), edit);
        QCOMPARE(store.history().size(), size_t(1));
    }

    void failedStepTwoRollsBackToVersionOne() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("v1.sqlite"));
        QVERIFY(QFile::copy(v1Fixture(), path));
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
        Store::Options failing;
        std::vector<int> reached;
        failing.after_migration_step = [&](int version) {
            reached.push_back(version);
            throw StoreError("injected failure after step " + std::to_string(version));
        };
        QCOMPARE(storeErrorOf([&] { Store store(path, failing); }),
                 QStringLiteral("injected failure after step 2"));
        QCOMPARE(reached, std::vector<int>{2}); // step 1 is not run again on a v1 store
        {
            RawConnection raw(path);
            QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 1);
            QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE name = "
                                               "'audit_trail'"))
                         .toInt(),
                     0);
            QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM chips")).toInt(), 50);
            QCOMPARE(raw.scalar(QStringLiteral("SELECT tdp_w FROM chips WHERE name = 'H20 "
                                               "(China)'"))
                         .toDouble(),
                     350.0);
        }
        Store store(path);
        QCOMPARE(store.schemaVersion(), Store::kSchemaVersion);
        QCOMPARE(store.chips().size(), size_t(50));
    }

    void bundledBibliographyCoversTheSeedKeys() {
        const auto bibliography = Store::bundledBibliography();
        QVERIFY(bibliography.size() >= 20);
        for (const auto& entry : bibliography) {
            QVERIFY2(!entry.citation.empty(), entry.key.c_str());
            // Only URLs the reference data gives; today it gives none.
            QVERIFY2(entry.url.empty() || entry.url.starts_with("https://"), entry.key.c_str());
        }
        // Every upper-case key a seeded row source names (EPOCH, SA, NV-8K-2023-10, ...) has an
        // entry: the words of the citation in capitals, outside parentheses.
        for (const ChipSpec& chip : Store::bundledChips()) {
            for (const auto& source : chip.sources) {
                if (source.field != "*")
                    continue;
                // Every word in capitals of the citation (outside parentheses) is a key.
                const auto cited = citedEntries(bibliography, source.citation);
                std::string outside;
                int depth = 0;
                for (char c : source.citation) {
                    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
                    outside += depth > 0 || c == ')' ? ' ' : c;
                }
                for (const QString& part :
                     QString::fromStdString(outside).split(QRegularExpression("[;/]"))) {
                    const QString word = part.trimmed().section(QLatin1Char(' '), 0, 0);
                    if (word.size() < 2 || word != word.toUpper() || word == "-")
                        continue;
                    QVERIFY2(std::any_of(cited.begin(), cited.end(),
                                         [&](const auto& e) {
                                             return QString::fromStdString(e.key).startsWith(word);
                                         }),
                             qPrintable(word + " in " + QString::fromStdString(source.citation)));
                }
            }
        }
        const auto h100 = citedEntries(bibliography, "EPOCH; SA (15,831; PD 19.4); NV-DS");
        QCOMPARE(h100.size(), size_t(3));
        QCOMPARE(h100[0].key, std::string("EPOCH"));
        QCOMPARE(h100[1].key, std::string("SA"));
        QCOMPARE(h100[2].key, std::string("NV-DS"));
        const auto the = citedEntries(bibliography, "THETECHNICALISSUE (TPP 3,117); EPOCH");
        QCOMPARE(the.size(), size_t(2));
        QCOMPARE(the[0].key, std::string("THETECHNICALISSUE"));
        QVERIFY(citedEntries(bibliography, "USA; SAT").empty());
    }

    void bundledAliasesNameSeededChips() {
        const auto chips = Store::bundledChips();
        const auto aliases = Store::bundledAliases();
        QVERIFY(!aliases.empty());
        for (const auto& alias : aliases)
            QVERIFY2(std::any_of(chips.begin(), chips.end(),
                                 [&](const ChipSpec& c) { return c.name == alias.chip; }),
                     alias.chip.c_str());
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
