// The store verbs as tools see them (DESIGN.md): import merges and says what it cleared,
// --dry-run prints the differences and changes nothing, Epoch names find the store's chips,
// history is the audit trail as JSON, results lists saved benchmarks, and a --db whose folder
// does not exist is one clear error.
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using nlohmann::json;

namespace {

using Run = crossroads::testing::CliRun;

Run cli(const QString& db, const QStringList& arguments) {
    return crossroads::testing::runCrossroads(db, arguments);
}

void writeFile(const QString& path, const QByteArray& content) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
}

} // namespace

class TestCliStore : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    int stores_ = 0;

    QString freshStore() { return dir_.filePath(QStringLiteral("s%1.sqlite").arg(stores_++)); }
    QString file(const char* name, const QByteArray& content) {
        const QString path = dir_.filePath(QLatin1String(name));
        writeFile(path, content);
        return path;
    }
    json runJson(const QString& db, const QStringList& arguments) {
        const Run r = cli(db, arguments);
        if (r.code != 0)
            qWarning("stderr: %s", r.err.constData());
        return json::parse(r.out.toStdString());
    }

private slots:
    // Issue 8: this file erased the H20's die area, bandwidth, I/O and sources.
    void partialImportKeepsTheRest() {
        const QString db = freshStore();
        const QByteArray chipsBefore = cli(db, {"chips", "--json"}).out;
        const QString same =
            file("h20.csv", "name,vendor,year,fp16\nH20 (China),NVIDIA,2024,148\n");
        Run r = cli(db, {"import", same});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("0 added, 0 changed, 1 unchanged"), r.out.constData());
        QCOMPARE(cli(db, {"chips", "--json"}).out, chipsBefore);
        const json out = runJson(db, {"classify", "--chip", "H20 (China)", "--json"});
        QVERIFY(out["results"][0]["controlled"] == false);
        QVERIFY(out["results"][0]["undetermined"].empty());

        const QString changed =
            file("h20b.csv", "name,vendor,year,fp16\nH20 (China),NVIDIA,2024,150\n");
        r = cli(db, {"import", changed});
        QVERIFY2(r.out.contains("0 added, 1 changed, 0 unchanged; 1 figures changed (0 "
                                "cleared), 2 unchanged"),
                 r.out.constData());
        const json h20 = runJson(db, {"chips", "--json"});
        for (const json& c : h20)
            if (c["name"] == "H20 (China)") {
                QVERIFY(c["dense_tops"]["fp16"] == 150);
                QVERIFY(c["applicable_die_area_mm2"] == 814);
                QVERIFY(c["memory_bandwidth_gb_per_s"] == 4000);
                QVERIFY(c["io_bidirectional_gb_per_s"] == 900);
                QVERIFY(c["datacenter"] == true);
                QVERIFY(!c["sources"].empty());
            }
    }

    void dryRunPrintsTheDifferencesAndChangesNothing() {
        const QString db = freshStore();
        const QByteArray chipsBefore = cli(db, {"chips", "--json"}).out;
        const QString path = file("dry.csv", "name,vendor,fp16,applicable_die_area_mm2\n"
                                             "H20 (China),NVIDIA,150,\n"
                                             "New Part,Lab,10,100\n");
        const Run r = cli(db, {"import", path, "--dry-run"});
        QCOMPARE(r.code, 0);
        const QString out = QString::fromUtf8(r.out);
        QVERIFY2(out.contains(QStringLiteral("~ changed \"H20 (China)\" (line 2)")),
                 r.out.constData());
        QVERIFY(out.contains(QStringLiteral("    fp16: 148 -> 150\n")));
        QVERIFY(out.contains(
            QStringLiteral("    applicable_die_area_mm2: 814 -> (cleared: empty in the file)\n")));
        QVERIFY(out.contains(QStringLiteral("+ added \"New Part\" (line 3)")));
        QVERIFY(out.contains(QStringLiteral("1 added, 1 changed, 0 unchanged; 2 figures changed "
                                            "(1 cleared), 1 unchanged. Nothing was changed.")));
        QCOMPARE(cli(db, {"chips", "--json"}).out, chipsBefore);
        QVERIFY(runJson(db, {"history", "--json"}).empty());

        // Applied, the import says which figures it cleared.
        const Run applied = cli(db, {"import", path});
        QCOMPARE(applied.code, 0);
        QVERIFY2(applied.out.contains("Cleared for \"H20 (China)\" (empty in the file): "
                                      "applicable_die_area_mm2 (was 814)."),
                 applied.out.constData());
    }

    void epochNamesMatchTheStore() {
        const QString db = freshStore();
        const QString path =
            file("epoch.csv", "Hardware name,Manufacturer,TDP (W),Link to datasheet\n"
                              "NVIDIA H100 SXM5 80GB,NVIDIA,700,https://example.com/h100\n"
                              "NVIDIA H20,NVIDIA,400,\n");
        const Run r = cli(db, {"import", path});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("\"NVIDIA H100 SXM5 80GB\" is the store's \"H100 SXM5 80GB\""),
                 r.out.constData());
        QVERIFY(r.out.contains("0 added"));
        QCOMPARE(runJson(db, {"chips", "--json"}).size(), size_t(49));

        const QString ambiguous =
            file("ambiguous.csv", "Hardware name,Manufacturer,TDP (W)\nNVIDIA H100,NVIDIA,700\n");
        const Run bad = cli(db, {"import", ambiguous});
        QCOMPARE(bad.code, 1);
        QCOMPARE(bad.err.count('\n'), 1);
        QVERIFY2(bad.err.contains("could be any of"), bad.err.constData());
    }

    void historyIsTheAuditTrail() {
        const QString db = freshStore();
        QVERIFY(runJson(db, {"history", "--json"}).empty());
        const QString path =
            file("hist.csv", "name,vendor,tdp_w,sources\n"
                             "H20 (China),NVIDIA,380,\"[{\"\"field\"\": \"\"tdp_w\"\", "
                             "\"\"citation\"\": \"\"board reading\"\"}]\"\n"
                             "T4,NVIDIA,,\n");
        QCOMPARE(cli(db, {"import", path}).code, 0);
        const json all = runJson(db, {"history", "--json"});
        QCOMPARE(all.size(), size_t(2));
        for (const json& e : all) {
            QCOMPARE(e.size(), size_t(7));
            for (const char* key : {"at", "chip", "field", "old", "new", "source", "via"})
                QVERIFY2(e.contains(key), key);
            QVERIFY(e["via"] == "import " + path.toStdString());
        }
        const json h20 = runJson(db, {"history", "--chip", "h20 (china)", "--json"});
        QCOMPARE(h20.size(), size_t(1));
        QVERIFY(h20[0]["chip"] == "H20 (China)");
        QVERIFY(h20[0]["field"] == "tdp_w");
        QVERIFY(h20[0]["old"] == 400); // a number, as in the interchange object
        QVERIFY(h20[0]["new"] == 380);
        QVERIFY(h20[0]["source"] == "board reading");
        const json t4 = runJson(db, {"history", "--chip", "T4", "--json"});
        QVERIFY(t4[0]["new"].is_null()); // cleared
        const Run table = cli(db, {"history"});
        QCOMPARE(table.code, 0);
        QVERIFY(table.out.contains("At (UTC)"));
        QVERIFY(table.out.contains("board reading"));
    }

    void resultsListsSavedBenchmarks() {
        const QString db = freshStore();
        Run r = cli(db, {"results"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("No benchmark results"));
        QVERIFY(runJson(db, {"results", "--json"}).empty());
        {
            QSqlDatabase sql = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), "results");
            sql.setDatabaseName(db);
            QVERIFY(sql.open());
            QSqlQuery q(sql);
            QVERIFY(q.exec(QStringLiteral(
                "INSERT INTO benchmark_results (created_at, device, backend, model, dtype, "
                "result_json) VALUES ('2026-01-02T03:04:05Z', 'Test CPU', 'cpu', "
                "'preset:olmoe-1b-7b', 'bf16', '{\"phases\": [{\"phase\": \"prefill\", "
                "\"tokens_per_s\": 123.4}, {\"phase\": \"decode\", \"tokens_per_s\": 5.6, "
                "\"fraction_of_measured_bandwidth\": 0.71}]}')")));
            sql.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("results"));
        const json out = runJson(db, {"results", "--json"});
        QCOMPARE(out.size(), size_t(1));
        QVERIFY(out[0]["device"] == "Test CPU");
        QVERIFY(out[0]["created_at"] == "2026-01-02T03:04:05Z");
        QVERIFY(out[0]["result"]["phases"][1]["tokens_per_s"] == 5.6);
        r = cli(db, {"results"});
        QVERIFY2(r.out.contains("123.4") && r.out.contains("5.6") && r.out.contains("0.71"),
                 r.out.constData());
    }

    void missingDbFolderIsAnError() {
        const QString folder = dir_.filePath(QStringLiteral("typo/folder"));
        const Run r = cli(folder + QStringLiteral("/store.sqlite"), {"chips"});
        QCOMPARE(r.code, 1);
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY2(r.err.contains(QDir::toNativeSeparators(folder).toUtf8()), r.err.constData());
        QVERIFY(!QFileInfo::exists(dir_.filePath(QStringLiteral("typo"))));
    }
};

QTEST_GUILESS_MAIN(TestCliStore)
#include "test_cli_store.moc"
