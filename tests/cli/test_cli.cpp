// The command line as tools see it: the DESIGN.md contracts of chips, editions and classify,
// exit codes (0 ok, 1 runtime error, 2 usage error), one-line errors, import/export round trips.
#include "inference/engine/Engine.h"
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QCryptographicHash>
#include <QFile>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using nlohmann::json;

namespace {

using Run = crossroads::testing::CliRun;

QByteArray fileHash(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

void writeFile(const QString& path, const QByteArray& content) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString db_;

    Run crossroads(const QStringList& arguments, const QString& db = {}) {
        return crossroads::testing::runCrossroads(db.isEmpty() ? db_ : db, arguments);
    }

    json runJson(const QStringList& arguments) {
        return crossroads::testing::runCrossroadsJson(db_, arguments);
    }

    static const json& result(const json& out, const std::string& name) {
        for (const json& r : out["results"])
            if (r["name"] == name)
                return r;
        throw std::runtime_error("no result for " + name);
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        db_ = dir_.filePath(QStringLiteral("store.sqlite"));
    }

    void classifyEverySeededChip() {
        const json out = runJson({"classify", "--edition", "2023-10", "--json"});
        QVERIFY(out["edition"] == "2023-10");
        QCOMPARE(out["results"].size(), size_t(49));
        for (const json& r : out["results"]) {
            for (const char* key :
                 {"name", "tpp", "tpp_reported", "performance_density", "classes", "controlled",
                  "undetermined", "borderline", "license_exceptions", "flags", "explanation"})
                QVERIFY2(r.contains(key), key);
            QVERIFY(r["controlled"].is_boolean() || r["controlled"].is_null());
            // An undetermined result names what is missing; a decided one names nothing.
            QCOMPARE(r["controlled"].is_null(), !r["undetermined"].empty());
        }
        QVERIFY(result(out, "H100 SXM5 80GB")["classes"] == json({"3A090.a.1", "3A090.a.2"}));
        QVERIFY(result(out, "L40")["classes"] == json({"3A090.b.1", "3A090.b.2"}));
        QVERIFY(result(out, "H20 (China)")["controlled"] == false);
        QVERIFY(result(out, "H20 (China)")["borderline"] == true);
        QVERIFY(result(out, "A100 SXM4 80GB")["borderline"] == false);
        QVERIFY(result(out, "GeForce RTX 4090")["license_exceptions"] == json({"NAC", "ACA"}));
        QVERIFY(result(out, "GeForce RTX 4090D (China)")["controlled"] == false);
        // The MI210's die area is sourced since issue 9 (one Aldebaran die): 3A090.b.
        QVERIFY(result(out, "Instinct MI210")["classes"] == json({"3A090.b.1", "3A090.b.2"}));
        QVERIFY(result(out, "MLU370-X8")["undetermined"] == json({"applicable_die_area_mm2"}));
    }

    void defaultEditionIsNewestInForce() {
        const json out = runJson({"classify", "--chip", "h200 sxm 141gb", "--json"});
        QVERIFY(out["edition"] == "2026-01");
        QVERIFY(out["results"][0]["flags"] == json({"2026-01: case-by-case review for China"}));
    }

    void chipsAndEditionsJson() {
        const json chips = runJson({"chips", "--json"});
        QCOMPARE(chips.size(), size_t(49));
        QVERIFY(!chips[0]["sources"].empty());
        const json editions = runJson({"editions", "--json"});
        QCOMPARE(editions.size(), size_t(6));
        for (const json& e : editions) {
            QCOMPARE(e.size(), size_t(5));
            for (const char* key : {"id", "title", "citation", "effective", "status"})
                QVERIFY(e.contains(key));
        }
    }

    void specClassifiesWithoutTouchingTheStore() {
        const QString spec = dir_.filePath(QStringLiteral("spec.json"));
        writeFile(spec, R"([{"name": "Hypothetical", "vendor": "Lab", "datacenter": true,
            "dense_tops": {"fp8": 500}, "applicable_die_area_mm2": 1000},
            {"name": "Second", "vendor": "Lab", "dense_tops": {"bf16": 400}}])");
        // No store at this path: --spec must not create one.
        const QString absent = dir_.filePath(QStringLiteral("absent.sqlite"));
        Run r = crossroads({"classify", "--spec", spec, "--edition", "2023-10", "--json"}, absent);
        QCOMPARE(r.code, 0);
        QVERIFY(!QFile::exists(absent));
        const json out = json::parse(r.out.toStdString());
        QVERIFY(result(out, "Hypothetical")["classes"] == json({"3A090.b.1", "3A090.b.2"}));
        QVERIFY(result(out, "Second")["classes"] == json({"3A090.a.1"}));
        // And with an existing store, its chips stay as they were.
        const QByteArray before = runJson({"chips", "--json"}).dump().c_str();
        QCOMPARE(crossroads({"classify", "--spec", spec}).code, 0);
        QCOMPARE(QByteArray(runJson({"chips", "--json"}).dump().c_str()), before);
    }

    void errors_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown verb") << QStringList{"frobnicate"} << 2 << "unknown verb";
        QTest::newRow("unknown option") << QStringList{"classify", "--bogus"} << 2 << "bogus";
        QTest::newRow("unknown edition") << QStringList{"classify", "--edition", "1999-01"} << 2
                                         << "unknown edition \"1999-01\"";
        QTest::newRow("unknown chip")
            << QStringList{"classify", "--chip", "Nope 9000"} << 1 << "no chip named \"Nope 9000\"";
        QTest::newRow("missing spec")
            << QStringList{"classify", "--spec", "/nonexistent.json"} << 1 << "cannot read";
        QTest::newRow("import without file") << QStringList{"import"} << 2 << "one FILE";
        QTest::newRow("--db without a path") << QStringList{"--db"} << 2 << "--db needs a path";
        QTest::newRow("run without model")
            << QStringList{"run", "--prompt-ids", "1"} << 2 << "run needs --model";
        QTest::newRow("run bad ids")
            << QStringList{"run", "--model",          "preset:x", "--prompt-ids",
                           "1,a", "--max-new-tokens", "1"}
            << 2 << "--prompt-ids";
        QTest::newRow("unknown backend")
            << QStringList{"bench", "--backend", "tpu"} << 2 << "--backend takes auto, cpu or cuda";
        QTest::newRow("missing checkpoint") << QStringList{"run",
                                                           "--model",
                                                           "/nonexistent",
                                                           "--prompt-ids",
                                                           "1",
                                                           "--max-new-tokens",
                                                           "1"}
                                            << 1 << "/nonexistent/config.json";
        QTest::newRow("unknown preset")
            << QStringList{"bench", "--model", "preset:gpt-5"} << 1 << "gpt-5";
    }
    void errors() {
        QFETCH(QStringList, arguments);
        QFETCH(int, code);
        QFETCH(QString, message);
        const Run r = crossroads(arguments);
        QCOMPARE(r.code, code);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1); // one clear line
    }

    void badSpecNamesTheKey() {
        const QString spec = dir_.filePath(QStringLiteral("bad.json"));
        writeFile(spec, R"({"name": "X", "vendor": "V", "fp16x": 1})");
        const Run r = crossroads({"classify", "--spec", spec});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("unknown key \\\"fp16x\\\"") ||
                     r.err.contains("unknown key \"fp16x\""),
                 r.err.constData());
    }

    void corruptStoreIsRefusedAndKept() {
        const QString bad = dir_.filePath(QStringLiteral("notes.sqlite"));
        writeFile(bad, "these are my notes, not a database\n");
        const QByteArray before = fileHash(bad);
        const Run r = crossroads({"chips"}, bad);
        QCOMPARE(r.code, 1);
        QCOMPARE(r.err.count('\n'), 1);
        QCOMPARE(fileHash(bad), before);
    }

    void exportImportRoundTrip() {
        for (const char* ext : {"json", "csv"}) {
            const QString file = dir_.filePath(QStringLiteral("export.") + QLatin1String(ext));
            QCOMPARE(crossroads({"export", file}).code, 0);
            const QString other =
                dir_.filePath(QStringLiteral("other-%1.sqlite").arg(QLatin1String(ext)));
            // A fresh store already holds the seed: importing it merges into every chip by
            // name and changes nothing.
            const Run r = crossroads({"import", file}, other);
            QCOMPARE(r.code, 0);
            QVERIFY2(r.out.contains("0 added, 0 changed, 49 unchanged"), r.out.constData());
            QCOMPARE(crossroads({"chips", "--json"}, other).out,
                     crossroads({"chips", "--json"}).out);
        }
    }

    // project --model takes the engine's spec: its dtype= sets the weights when --dtype is not
    // given; both given must agree; f32, which the projection does not know, is a usage error.
    void projectTakesTheSpecsDtype() {
        const auto project = [this](QStringList arguments) {
            arguments.prepend(QStringLiteral("project"));
            arguments << QStringLiteral("--chip") << QStringLiteral("H100 SXM5 80GB")
                      << QStringLiteral("--json");
            return runJson(arguments);
        };
        const json bf16 = project({"--model", "preset:deepseek-v3"});
        QVERIFY(bf16["dtype"] == "bf16"); // --dtype's default
        const json fp8 = project({"--model", "preset:deepseek-v3", "--dtype", "fp8"});
        const json spec = project({"--model", "preset:deepseek-v3?dtype=fp8"});
        QVERIFY(spec["dtype"] == "fp8");
        QCOMPARE(spec["results"][0]["decode_tokens_per_s"].get<double>(),
                 fp8["results"][0]["decode_tokens_per_s"].get<double>());
        QVERIFY(spec["results"][0]["decode_tokens_per_s"].get<double>() >
                1.5 * bf16["results"][0]["decode_tokens_per_s"].get<double>());
        const json both = project({"--model", "preset:deepseek-v3?dtype=fp8", "--dtype", "fp8"});
        QCOMPARE(both["results"][0]["decode_tokens_per_s"].get<double>(),
                 fp8["results"][0]["decode_tokens_per_s"].get<double>());
        const json truncated = project({"--model", "preset:deepseek-v3?layers=4&dtype=fp8"});
        QVERIFY(truncated["dtype"] == "fp8");
        QVERIFY(truncated["truncated"] == true);
        QVERIFY(project({"--model", "preset:deepseek-v3?dtype=bf16"})["dtype"] == "bf16");

        const Run disagree = crossroads({"project", "--model", "preset:deepseek-v3?dtype=fp8",
                                         "--dtype", "bf16", "--chip", "H100 SXM5 80GB"});
        QCOMPARE(disagree.code, 2);
        QVERIFY2(disagree.err.contains("--dtype bf16") && disagree.err.contains("dtype=fp8"),
                 disagree.err.constData());
        QCOMPARE(disagree.err.count('\n'), 1);
        const Run f32 = crossroads({"project", "--model", "preset:deepseek-v3?layers=2&dtype=f32"});
        QCOMPARE(f32.code, 2);
        QVERIFY2(f32.err.contains("dtype=f32") && f32.err.contains("bf16 and fp8"),
                 f32.err.constData());
        QCOMPARE(f32.err.count('\n'), 1);
        const Run bad = crossroads({"project", "--model", "preset:deepseek-v3?dtype=int4"});
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains("dtype="), bad.err.constData());
    }

    // A real, if small, measurement: the DESIGN.md JSON shape, and the result kept in the store.
    void benchReportsAndSaves() {
        const Run r =
            crossroads({"bench", "--model", "preset:olmoe-1b-7b?layers=1", "--backend", "cpu",
                        "--prompt", "4", "--gen", "2", "--repetitions", "1", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.err.contains("truncated")); // the output says the preset is truncated
        const json out = json::parse(r.out.toStdString());
        for (const char* key :
             {"model", "backend", "device", "dtype", "measured_bandwidth_gb_per_s", "spec",
              "kv_bytes_per_token", "peak_memory_bytes", "time_to_first_token_ms", "metadata",
              "phases"})
            QVERIFY2(out.contains(key), key);
        QVERIFY(out["backend"] == "cpu");
        QVERIFY(out["measured_bandwidth_gb_per_s"].get<double>() > 0);
        QVERIFY(out["measured_tflops"].get<double>() > 0); // the CPU's FMA peak
        QCOMPARE(out["phases"].size(), size_t(2));
        for (const json& phase : out["phases"]) {
            for (const char* key :
                 {"phase", "batch", "tokens", "tokens_per_s", "tokens_per_s_per_sequence",
                  "tokens_per_s_stddev", "achieved_tflops", "achieved_gb_per_s",
                  "fraction_of_measured_bandwidth", "fraction_of_measured_tflops",
                  "fraction_of_spec_bandwidth", "fraction_of_spec_tflops"})
                QVERIFY2(phase.contains(key), key);
            QVERIFY(phase["tokens_per_s"].get<double>() > 0);
        }
        for (const char* key : {"commit", "build_type", "cpu", "threads", "gpu", "driver", "date"})
            QVERIFY2(out["metadata"].contains(key), key);
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("check"));
            db.setDatabaseName(db_);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(
                QStringLiteral("SELECT backend, model, result_json FROM benchmark_results")));
            QVERIFY(q.next());
            QCOMPARE(q.value(0).toString(), QStringLiteral("cpu"));
            QCOMPARE(q.value(1).toString(), QStringLiteral("preset:olmoe-1b-7b?layers=1"));
            QVERIFY(json::parse(q.value(2).toString().toStdString())["phases"].size() == 2);
        }
        QSqlDatabase::removeDatabase(QStringLiteral("check"));
    }

    // --context takes a llama-bench list: one decode row per context; a bad item is a usage
    // error naming it.
    void benchSweepsContexts() {
        const Run r = crossroads({"bench", "--model", "preset:olmoe-1b-7b?layers=1", "--backend",
                                  "cpu", "--prompt", "4", "--gen", "2", "--repetitions", "1",
                                  "--context", "16,4", "--no-save", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const json out = json::parse(r.out.toStdString());
        QCOMPARE(out["phases"].size(), size_t(3));
        QCOMPARE(out["phases"][1]["context_tokens"].get<int>(), 16);
        QCOMPARE(out["phases"][2]["context_tokens"].get<int>(), 4);
        const Run bad = crossroads(
            {"bench", "--model", "preset:olmoe-1b-7b?layers=1", "--context", "16,x", "--no-save"});
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains("--context takes non-negative whole numbers"),
                 bad.err.constData());
    }

    // With a device, --backend cuda generates what the CPU does; without one (or without CUDA
    // in the build) it is one line naming the engine's own reason. Neither case passes blind.
    void cudaBackendRunsOrSaysWhy() {
        const QStringList run = {"run",
                                 "--model",
                                 "preset:olmoe-1b-7b?layers=1",
                                 "--prompt-ids",
                                 "1,2,3",
                                 "--max-new-tokens",
                                 "2",
                                 "--backend"};
        const Run r = crossroads(run + QStringList{"cuda"});
        std::string why;
        if (crossroads::inference::cudaAvailable(&why)) {
            QCOMPARE(r.code, 0);
            const Run cpu = crossroads(run + QStringList{"cpu"});
            QCOMPARE(cpu.code, 0);
            QCOMPARE(r.out, cpu.out);
            return;
        }
        QCOMPARE(r.code, 1);
        // Besides the note that the preset is truncated, one line: the error with the reason.
        const QList<QByteArray> lines = r.err.trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].startsWith("note:"), r.err.constData());
        QVERIFY2(lines[1].contains(QByteArray::fromStdString(why)), r.err.constData());
    }

    void noDisplayIsOneClearLine() {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
            env.remove(QString::fromLatin1(name));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(CROSSROADS_BINARY), {QStringLiteral("--db"), db_});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 1);
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.contains("no display"), err.constData());
        QCOMPARE(err.count('\n'), 1);
    }

    void peopleGetTables() {
        const Run r =
            crossroads({"classify", "--edition", "2022-10", "--chip", "H800 SXM5 (China)"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("I/O 400 GB/s < 600 GB/s: not 3A090.a.1, 87 FR 62186"));
        QCOMPARE(crossroads({"--help"}).code, 0);
        QCOMPARE(crossroads({"editions"}).code, 0);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
