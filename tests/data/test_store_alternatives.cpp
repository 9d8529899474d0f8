// Figure alternatives in the store (schema step 3, `chip_alternatives`): seeded with the bundled
// chips, kept through writes and imports, recorded in the audit trail, and a store made by the
// Crossroads of schema 2 (tests/data/store_v2.sqlite: 49 bundled chips, an analyst's chip "Analyst
// Part X2", and the H20 and Gaudi 3 edited by an import, 12 audit entries) migrates to 3 keeping
// all of it, with the bundled alternatives added to the chips it still holds as bundled.
#include "data/ChipFiles.h"
#include "data/ChipPatch.h"
#include "data/Store.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>

using crossroads::analysis::ChipSpec;
using crossroads::analysis::FigureAlternative;
using namespace crossroads::data;

namespace {

QString v2Fixture() {
    return QStringLiteral(CROSSROADS_SOURCE_DIR "/tests/data/store_v2.sqlite");
}

// Reads the file with its own connection, outside the Store.
class Raw {
public:
    explicit Raw(const QString& path) : name_(QStringLiteral("alt-raw-%1").arg(counter_++)) {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name_);
        db.setDatabaseName(path);
        if (!db.open())
            throw std::runtime_error("raw open failed");
    }
    ~Raw() {
        {
            QSqlDatabase db = QSqlDatabase::database(name_, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(name_);
    }
    Raw(const Raw&) = delete;
    Raw& operator=(const Raw&) = delete;
    QVariant scalar(const QString& sql) {
        QSqlQuery q(QSqlDatabase::database(name_, false));
        if (!q.exec(sql) || !q.next())
            throw std::runtime_error(sql.toStdString() + ": " + q.lastError().text().toStdString());
        return q.value(0);
    }
    // Every row of the tables a migration must not touch, as text.
    QStringList rows() {
        QStringList out;
        for (const char* sql : {"SELECT * FROM chips ORDER BY id",
                                "SELECT * FROM chip_sources ORDER BY chip_id, position",
                                "SELECT * FROM audit_trail ORDER BY id"}) {
            QSqlQuery q(QSqlDatabase::database(name_, false));
            if (!q.exec(QString::fromLatin1(sql)))
                throw std::runtime_error(sql);
            while (q.next()) {
                QStringList cells;
                for (int i = 0; i < q.record().count(); ++i)
                    cells << (q.isNull(i) ? QStringLiteral("NULL") : q.value(i).toString());
                out << cells.join(QLatin1Char('|'));
            }
        }
        return out;
    }

private:
    static inline int counter_ = 0;
    QString name_;
};

QString copyOfV2(const QTemporaryDir& dir) {
    const QString path = dir.filePath(QStringLiteral("v2.sqlite"));
    if (!QFile::copy(v2Fixture(), path))
        throw std::runtime_error("cannot copy the v2 fixture");
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
    return path;
}

std::vector<FigureAlternative> bundledAlternatives(const std::string& name) {
    for (const ChipSpec& c : Store::bundledChips())
        if (c.name == name)
            return c.alternatives;
    return {};
}

const FigureAlternative kH800Io{"io_bidirectional_gb_per_s", 300, "", ""};

} // namespace

class TestStoreAlternatives : public QObject {
    Q_OBJECT

private slots:
    void freshStoreHasTheBundledAlternatives() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        QCOMPARE(store.schemaVersion(), 3);
        const auto h800 = store.chip(QStringLiteral("H800 SXM5 (China)"));
        QCOMPARE(h800->alternatives.size(), size_t(1));
        QCOMPARE(h800->alternatives[0].field, kH800Io.field);
        QCOMPARE(h800->alternatives[0].value, kH800Io.value);
        // What the store holds is what the bundle says, chip by chip, in order.
        for (const ChipSpec& bundled : Store::bundledChips()) {
            const auto stored = store.chip(QString::fromStdString(bundled.name));
            QVERIFY(stored);
            QCOMPARE(stored->alternatives, bundled.alternatives);
        }
        int withAlternatives = 0;
        for (const ChipSpec& c : store.chips())
            withAlternatives += c.alternatives.empty() ? 0 : 1;
        QCOMPARE(withAlternatives, 4); // H100 SXM5, H800, MI325X, Gaudi3
        QVERIFY(store.history().empty());
    }

    // Replacing a chip replaces its alternatives; removing it removes them.
    void writesKeepAndReplace() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        ChipSpec h800 = *store.chip(QStringLiteral("H800 SXM5 (China)"));
        h800.alternatives.push_back({"fp8", 1900, "hypothetical sheet", "low"});
        store.upsertChips({h800});
        QCOMPARE(store.chip(QStringLiteral("H800 SXM5 (China)"))->alternatives.size(), size_t(2));
        const auto history = store.history(QStringLiteral("H800 SXM5 (China)"));
        QCOMPARE(history.size(), size_t(1));
        QCOMPARE(history[0].field, std::string("alternatives"));
        QVERIFY(history[0].new_value->find("fp8 1,900") != std::string::npos);
        h800.alternatives.clear();
        store.upsertChips({h800});
        QVERIFY(store.chip(QStringLiteral("H800 SXM5 (China)"))->alternatives.empty());
        QVERIFY(store.removeChip(QStringLiteral("H800 SXM5 (China)")));
        Raw raw(store.path());
        QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM chip_alternatives")).toInt(),
                 4); // the other three chips' (H100, MI325X, Gaudi3 x 2)
    }

    // A patch merges its alternatives with the stored ones (an import) unless it replaces them
    // (the chip editor), which is how one is removed.
    void patchMergesOrReplacesAlternatives() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        const ChipSpec h800 = *store.chip(QStringLiteral("H800 SXM5 (China)"));
        QCOMPARE(h800.alternatives.size(), size_t(1));
        ChipPatch patch;
        patch.values.name = h800.name;
        patch.values.alternatives = {{"fp8", 1900, "hypothetical sheet", "low"}};
        QCOMPARE(applyPatch(h800, patch).alternatives.size(), size_t(2)); // merged
        patch.replaces_alternatives = true;
        const ChipSpec replaced = applyPatch(h800, patch);
        QCOMPARE(replaced.alternatives.size(), size_t(1));
        QCOMPARE(replaced.alternatives[0].field, std::string("fp8"));
        patch.values.alternatives.clear();
        QVERIFY(applyPatch(h800, patch).alternatives.empty()); // every one removed
        // The figures the patch does not give stay as stored.
        QCOMPARE(applyPatch(h800, patch).io_bidirectional_gb_per_s, h800.io_bidirectional_gb_per_s);
    }

    // An import adds a row's alternatives to the stored ones (no duplicates), and says so.
    void importAddsAlternatives() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        // The bundled 300 GB/s (already stored: not added again) and a new one.
        const std::string h800Citation = bundledAlternatives("H800 SXM5 (China)").at(0).citation;
        const nlohmann::json rowJson =
            nlohmann::json::array({{{"name", "H800 SXM5 (China)"},
                                    {"alternatives",
                                     {{{"field", "io_bidirectional_gb_per_s"},
                                       {"value", 300},
                                       {"citation", h800Citation},
                                       {"confidence", "medium"}},
                                      {{"field", "memory_bandwidth_gb_per_s"},
                                       {"value", 3000},
                                       {"citation", "test sheet"},
                                       {"confidence", "low"}}}}}});
        const std::string row = rowJson.dump();
        const auto patches = patchesFromJsonFileText(row);
        const ImportDiff dry = store.diffImport(patches);
        QCOMPARE(dry.chips.size(), size_t(1));
        QVERIFY(dry.chips[0].changed());
        QCOMPARE(dry.chips[0].alternatives_added.size(), size_t(1)); // the 300 is there already
        store.importChips(patches, "import test.json");
        const auto h800 = store.chip(QStringLiteral("H800 SXM5 (China)"));
        QCOMPARE(h800->alternatives.size(), size_t(2));
        QCOMPARE(h800->alternatives[1].value, 3000.0);
        QCOMPARE(h800->io_bidirectional_gb_per_s, std::optional<double>(400)); // figure kept
        const auto history = store.history();
        QCOMPARE(history.size(), size_t(1));
        QCOMPARE(history[0].field, std::string("alternatives"));
        QCOMPARE(history[0].source, std::string("test sheet"));
        // Again: nothing to do.
        QVERIFY(!store.diffImport(patches).chips[0].changed());
    }

    // The v2 store migrates to 3: its chips, sources and audit trail stay row for row; bundled
    // chips get their alternatives; the chips the analyst changed (origin "user") are left alone.
    void versionTwoStoreMigrates() {
        QTemporaryDir dir;
        const QString path = copyOfV2(dir);
        QStringList before;
        {
            Raw raw(path);
            QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 2);
            QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE name = "
                                               "'chip_alternatives'"))
                         .toInt(),
                     0);
            QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM audit_trail")).toInt(), 12);
            before = raw.rows();
        }
        Store store(path);
        QCOMPARE(store.schemaVersion(), 3);
        {
            Raw raw(path);
            QCOMPARE(raw.rows(), before);
            QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 3);
        }
        QCOMPARE(store.chips().size(), size_t(50));
        const auto h800 = store.chip(QStringLiteral("H800 SXM5 (China)"));
        QCOMPARE(h800->alternatives.size(), size_t(1));
        QCOMPARE(h800->alternatives[0].value, 300.0);
        QCOMPARE(store.chip(QStringLiteral("H100 SXM5 80GB"))->alternatives.size(), size_t(1));
        const auto gaudi = store.chip(QStringLiteral("Gaudi3 (HL-325L)"));
        QCOMPARE(gaudi->tdp_w, std::optional<double>(950)); // the analyst's correction
        QVERIFY(gaudi->alternatives.empty());               // an analyst's row is not touched
        const auto mine = store.chip(QStringLiteral("Analyst Part X2"));
        QVERIFY(mine);
        QCOMPARE(mine->notes, std::string("added by an analyst in a v2 store"));
        QVERIFY(mine->alternatives.empty());
        QCOMPARE(store.history().size(), size_t(12)); // the migration itself records nothing
    }

    // A failure after step 3 leaves the v2 store as it was.
    void failedStepThreeRollsBackToVersionTwo() {
        QTemporaryDir dir;
        const QString path = copyOfV2(dir);
        QStringList before;
        {
            Raw raw(path);
            before = raw.rows();
        }
        Store::Options failing;
        std::vector<int> reached;
        failing.after_migration_step = [&](int version) {
            reached.push_back(version);
            throw StoreError("injected failure after step " + std::to_string(version));
        };
        bool threw = false;
        try {
            Store store(path, failing);
        } catch (const StoreError& e) {
            threw = true;
            QCOMPARE(std::string(e.what()), std::string("injected failure after step 3"));
        }
        QVERIFY(threw);
        QCOMPARE(reached, std::vector<int>{3}); // steps 1 and 2 are not run again
        {
            Raw raw(path);
            QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 2);
            QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE name = "
                                               "'chip_alternatives'"))
                         .toInt(),
                     0);
            QCOMPARE(raw.rows(), before);
        }
        Store store(path);
        QCOMPARE(store.schemaVersion(), 3);
    }

    // Step 3 is literal SQL: the table a new store gets is the one the step creates.
    void stepThreeSchema() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("s.sqlite")));
        Raw raw(store.path());
        const QString sql =
            raw.scalar(
                   QStringLiteral("SELECT sql FROM sqlite_master WHERE name = 'chip_alternatives'"))
                .toString();
        QVERIFY(sql.contains(QStringLiteral("value REAL NOT NULL CHECK (value > 0)")));
        QVERIFY(sql.contains(QStringLiteral("REFERENCES chips(id) ON DELETE CASCADE")));
    }
};

QTEST_GUILESS_MAIN(TestStoreAlternatives)
#include "test_store_alternatives.moc"
