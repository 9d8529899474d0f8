// `crossroads export --table`: each result table the window shows, as CSV (read back by the
// store's RFC 4180 reader) and XLSX (unzipped: numbers are numbers), built by the same models as
// the window; the FILE form still writes interchange files; usage errors exit 2 naming the
// problem, runtime errors 1, and nothing is written then.
#include "app/gui/models/ChipTableModel.h"
#include "data/ChipFiles.h"
#include "data/Csv.h"
#include "data/Store.h"
#include "tests/common/CliProcess.h"
#include "tests/common/ZipReader.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using crossroads::testing::runCrossroads;
using Records = std::vector<crossroads::data::CsvRecord>;

namespace {

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

Records readCsv(const QString& path) {
    return crossroads::data::parseCsv(readAll(path).toStdString());
}

int column(const Records& records, const char* header) {
    const auto& h = records.at(0).fields;
    const auto it = std::find(h.begin(), h.end(), std::string(header));
    return it == h.end() ? -1 : int(it - h.begin());
}

const crossroads::data::CsvRecord* rowOf(const Records& records, const std::string& first) {
    for (const auto& r : records)
        if (!r.fields.empty() && r.fields[0] == first)
            return &r;
    return nullptr;
}

// A cuda run on an H100 as `crossroads bench` saves it, and a CPU run.
const char* kGpuResult = R"({"model": "preset:olmoe-1b-7b?layers=1", "backend": "cuda",
  "device": "NVIDIA H100 80GB HBM3", "dtype": "bf16", "measured_bandwidth_gb_per_s": 2900.0,
  "spec": {"bandwidth_gb_per_s": 3350.0, "bf16_tflops": 989.4, "chip": "H100 SXM5 80GB"},
  "phases": [{"phase": "prefill", "tokens_per_s": 12000.5},
             {"phase": "decode", "tokens_per_s": 250.0, "achieved_gb_per_s": 1675.0,
              "fraction_of_measured_bandwidth": 0.6, "fraction_of_spec_bandwidth": 0.5}]})";
const char* kCpuResult = R"({"model": "preset:olmoe-1b-7b?layers=1", "backend": "cpu",
  "device": "AMD EPYC 7B13", "dtype": "bf16", "measured_bandwidth_gb_per_s": 50.0,
  "spec": {"bandwidth_gb_per_s": null, "bf16_tflops": null, "chip": null},
  "phases": [{"phase": "prefill", "tokens_per_s": 40.0},
             {"phase": "decode", "tokens_per_s": 20.0, "achieved_gb_per_s": 30.0,
              "fraction_of_measured_bandwidth": 0.6}]})";

} // namespace

class TestCliExport : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString db_;

    QString path(const QString& name) const { return dir_.filePath(name); }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        db_ = path(QStringLiteral("export.sqlite"));
        crossroads::data::Store store(db_);
        store.saveBenchmarkResult(QStringLiteral("NVIDIA H100 80GB HBM3"), QStringLiteral("cuda"),
                                  QStringLiteral("preset:olmoe-1b-7b?layers=1"),
                                  QStringLiteral("bf16"), kGpuResult);
        store.saveBenchmarkResult(QStringLiteral("AMD EPYC 7B13"), QStringLiteral("cpu"),
                                  QStringLiteral("preset:olmoe-1b-7b?layers=1"),
                                  QStringLiteral("bf16"), kCpuResult);
        // One edit, for the history table.
        store.editChip(QStringLiteral("H20 (China)"),
                       crossroads::data::fieldEditPatch("H20 (China)", "tdp_w", "410"));
    }

    void classificationAsTheWindowShowsIt() {
        const QString out = path(QStringLiteral("classification.csv"));
        const auto r = runCrossroads(
            db_, {"export", "--table", "classification", "--edition", "2023-10", "--out", out});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.out.contains("under 2023-10"));
        const Records csv = readCsv(out);
        // The window's columns (its own model's headers), one line each.
        crossroads::gui::ChipTableModel window;
        std::vector<std::string> headers;
        for (int c = 0; c < window.columnCount(); ++c)
            headers.push_back(window.headerData(c, Qt::Horizontal)
                                  .toString()
                                  .replace(QLatin1Char('\n'), QLatin1Char(' '))
                                  .toStdString());
        QCOMPARE(csv.at(0).fields, headers);
        QCOMPARE(headers.front(), std::string("Name"));
        QVERIFY(std::find(headers.begin(), headers.end(), "License exceptions") != headers.end());
        QCOMPARE(csv.size(), crossroads::data::Store(db_).chips().size() + 1);
        const auto* h100 = rowOf(csv, "H100 SXM5 80GB");
        QVERIFY(h100);
        // TPP as a number (not "15,832"), the class as displayed.
        const double tpp = std::stod(h100->fields[size_t(column(csv, "TPP"))]);
        QVERIFY2(tpp > 15000 && tpp < 16500, h100->fields[4].c_str());
        QVERIFY(h100->fields[size_t(column(csv, "Class"))].find("3A090.a") != std::string::npos);
        QCOMPARE(h100->fields[size_t(column(csv, "Controlled"))], std::string("Yes"));
    }

    void chipsAsXlsx() {
        const QString out = path(QStringLiteral("chips.xlsx"));
        const auto r = runCrossroads(db_, {"export", "--table", "chips", "--out", out});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto parts = crossroads::testing::unzipAll(readAll(out));
        QVERIFY2(parts, "not a zip");
        const QString sheet =
            QString::fromUtf8(parts->value(QStringLiteral("xl/worksheets/sheet1.xml")));
        const QString strings =
            QString::fromUtf8(parts->value(QStringLiteral("xl/sharedStrings.xml")));
        QVERIFY(strings.contains(QStringLiteral("Memory bandwidth (GB/s)")));
        QVERIFY(strings.contains(QStringLiteral("H100 SXM5 80GB")));
        // The H100's bandwidth, 3,350 GB/s, is a number cell somewhere in the sheet.
        QVERIFY(QRegularExpression(QStringLiteral("<c r=\"[A-Z]+\\d+\"><v>3350</v></c>"))
                    .match(sheet)
                    .hasMatch());
    }

    void compareNeedsBothEditions() {
        const QString out = path(QStringLiteral("compare.csv"));
        auto r = runCrossroads(db_, {"export", "--table", "compare", "--out", out});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("--baseline"));
        QVERIFY(!QFile::exists(out));
        r = runCrossroads(db_, {"export", "--table", "compare", "--baseline", "2022-10", "--vs",
                                "2023-10", "--out", out});
        QVERIFY2(r.code == 0, r.err.constData());
        const Records csv = readCsv(out);
        QCOMPARE(csv.at(0).fields.at(0), std::string("Chip"));
        QVERIFY(csv.size() > 10); // 2023-10 moves many chips
        QVERIFY(rowOf(csv, "A800 SXM4 80GB (China)") || rowOf(csv, "H800 SXM5 (China)"));
    }

    void historyAfterAnEdit() {
        const QString out = path(QStringLiteral("history.csv"));
        const auto r = runCrossroads(
            db_, {"export", "--table", "history", "--chip", "H20 (China)", "--out", out});
        QVERIFY2(r.code == 0, r.err.constData());
        const Records csv = readCsv(out);
        QCOMPARE(csv.size(), size_t(2));
        QCOMPARE(csv[1].fields[1], std::string("H20 (China)"));
        QCOMPARE(csv[1].fields[2], std::string("tdp_w"));
        QCOMPARE(csv[1].fields[4], std::string("410"));
        QCOMPARE(csv[1].fields[6], std::string("editor"));
    }

    void resultsWithTheDevicesClass() {
        const QString out = path(QStringLiteral("results.csv"));
        const auto r = runCrossroads(
            db_, {"export", "--table", "results", "--edition", "2023-10", "--out", out});
        QVERIFY2(r.code == 0, r.err.constData());
        const Records csv = readCsv(out);
        QCOMPARE(csv.size(), size_t(3));
        // Newest first: the CPU run, then the H100's.
        const auto& gpu = csv[2].fields;
        QCOMPARE(gpu[size_t(column(csv, "Device"))], std::string("NVIDIA H100 80GB HBM3"));
        QCOMPARE(gpu[size_t(column(csv, "Device chip"))], std::string("H100 SXM5 80GB"));
        QVERIFY(gpu[size_t(column(csv, "Export class"))].find("3A090.a") != std::string::npos);
        QCOMPARE(gpu[size_t(column(csv, "Decode tok/s"))], std::string("250"));
        QCOMPARE(gpu[size_t(column(csv, "Decode % of measured BW"))], std::string("60"));
        QCOMPARE(gpu[size_t(column(csv, "Spec BW (GB/s)"))], std::string("3350"));
        // The memory roof at 3,350 GB/s for the bytes a step read (1,675 GB/s at 250 tok/s).
        QCOMPARE(gpu[size_t(column(csv, "Roofline decode tok/s"))], std::string("500"));
        const auto& cpu = csv[1].fields;
        QCOMPARE(cpu[size_t(column(csv, "Export class"))], std::string("— (CPU)"));
        QCOMPARE(cpu[size_t(column(csv, "Spec BW (GB/s)"))], std::string());
    }

    void usageErrors_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        const QString out = QStringLiteral("OUT.csv");
        QTest::newRow("unknown table") << QStringList{"export", "--table", "chairs", "--out", out}
                                       << 2 << "--table takes chips, classification";
        QTest::newRow("no out") << QStringList{"export", "--table", "chips"} << 2 << "--out";
        QTest::newRow("extension") << QStringList{"export", "--table", "chips", "--out", "OUT.ods"}
                                   << 2 << ".csv or .xlsx";
        QTest::newRow("edition unknown")
            << QStringList{"export", "--table", "classification", "--edition", "1999-01",
                           "--out",  out}
            << 2 << "unknown edition";
        QTest::newRow("edition misplaced")
            << QStringList{"export", "--table", "history", "--edition", "2023-10", "--out", out}
            << 2 << "--edition goes with";
        QTest::newRow("vs misplaced")
            << QStringList{"export", "--table", "chips", "--vs", "2023-10", "--out", out} << 2
            << "--baseline and --vs go with";
        QTest::newRow("positional with table")
            << QStringList{"export", "--table", "chips", "x.csv", "--out", out} << 2
            << "--out FILE";
        QTest::newRow("out without table")
            << QStringList{"export", "--out", out} << 2 << "--out goes with --table";
        QTest::newRow("missing folder")
            << QStringList{"export", "--table", "chips", "--out", "no/such/folder/t.csv"} << 1
            << "cannot write";
    }
    void usageErrors() {
        QFETCH(QStringList, arguments);
        QFETCH(int, code);
        QFETCH(QString, message);
        for (QString& a : arguments)
            if (a == QLatin1String("OUT.csv") || a == QLatin1String("OUT.ods") ||
                a.startsWith(QLatin1String("no/")))
                a = path(a);
        const auto r = runCrossroads(db_, arguments);
        QCOMPARE(r.code, code);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1); // one line
        QVERIFY(!QFile::exists(path(QStringLiteral("OUT.csv"))));
    }

    // The interchange form is unchanged.
    void fileFormStillWritesChips() {
        const QString out = path(QStringLiteral("interchange.json"));
        const auto r = runCrossroads(db_, {"export", out});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(readAll(out).contains("\"memory_bandwidth_gb_per_s\""));
    }
};

QTEST_GUILESS_MAIN(TestCliExport)
#include "test_cli_export.moc"
