// Chip import/export: JSON and Crossroads CSV round trips, CSV errors by line and field, the Epoch
// AI importer's column matching and unit conversion, and format detection.
#include "analysis/ChipJson.h"
#include "data/ChipFiles.h"
#include "data/Store.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace crossroads::data;
using crossroads::analysis::ChipKind;
using crossroads::analysis::ChipSpec;
using crossroads::analysis::Precision;
using crossroads::analysis::Source;

Q_DECLARE_METATYPE(std::string)
Q_DECLARE_METATYPE(crossroads::data::ChipFileFormat)

namespace {

QString testFile(const char* name) {
    return QStringLiteral(CROSSROADS_SOURCE_DIR "/tests/data/") + QLatin1String(name);
}

QByteArray chipsText(const std::vector<ChipSpec>& chips) {
    return QByteArray::fromStdString(chipsToJsonText(chips));
}

// Chips a spreadsheet or a careless export could mangle.
std::vector<ChipSpec> awkwardChips() {
    ChipSpec a;
    a.name = "Quoted \"Q\", Inc. part";
    a.vendor = "Vendor, with comma";
    a.year = 2024;
    a.datacenter = false;
    for (Precision p : crossroads::analysis::kAllPrecisions)
        a.dense_tops[p] = 1.0 / 3.0 + static_cast<double>(p);
    a.applicable_die_area_mm2 = 0.1 + 0.2; // 0.30000000000000004 must survive
    a.memory_capacity_gb = 1e-7;
    a.memory_bandwidth_gb_per_s = 123456789.123;
    a.io_bidirectional_gb_per_s = 1.5e300;
    a.tdp_w = 700;
    a.tpp_reported = 15832;
    a.notes = "line one\nline two, \"quoted\"\r\nline three";
    a.sources = {{"*", "Datasheet, \"rev. B\"", "high"},
                 {"tdp_w", "Board spec\nsecond line", ""},
                 {"fp8", "Ascend 910B — 华为 notes", "medium (IO)"}};
    // Other sources' values (the alternatives extension) survive both formats, exactly.
    a.alternatives = {{"io_bidirectional_gb_per_s", 0.1 + 0.2, "Other, \"quoted\"\nsource", "low"},
                      {"fp8", 1e-9, "华为 sheet", ""}};

    ChipSpec b;
    b.name = "  HBM3E stack ";
    b.vendor = "Memory Co";
    b.kind = ChipKind::Hbm;
    b.package_area_mm2 = 121;
    b.memory_bandwidth_gb_per_s = 1229;

    ChipSpec c;
    c.name = "Bare";
    c.vendor = "V";
    c.datacenter = true;
    return {a, b, c};
}

const std::string kEpoch = "Epoch AI, Data on Machine Learning Hardware (CC BY)";
// The row source carries Epoch's type, datasheet link and notes columns.
Source epochRow(const std::string& rest) {
    return {"*", kEpoch + rest, "medium"};
}

} // namespace

class TestChipFiles : public QObject {
    Q_OBJECT
private slots:
    void roundTrips_data() {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<bool>("awkward");
        QTest::newRow("json bundled") << "chips.json" << false;
        QTest::newRow("csv bundled") << "chips.csv" << false;
        QTest::newRow("json awkward") << "chips.json" << true;
        QTest::newRow("csv awkward") << "chips.CSV" << true;
    }
    void roundTrips() {
        QFETCH(QString, fileName);
        QFETCH(bool, awkward);
        const auto chips = awkward ? awkwardChips() : Store::bundledChips();
        QVERIFY(!chips.empty());
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(fileName);
        writeChipFile(path, chips);
        const auto back = readChipFile(path);
        QCOMPARE(chipsText(back), chipsText(chips)); // readable diff on failure
        QVERIFY(back == chips);                      // exact, including sources in order
    }

    void csvWritesTheDocumentedHeader() {
        const std::string text = chipsToCsvText({});
        QCOMPARE(text, std::string("name,vendor,year,kind,datacenter,fp64,fp32,tf32,fp16,bf16,fp8,"
                                   "int8,int4,fp4,applicable_die_area_mm2,package_area_mm2,"
                                   "memory_capacity_gb,memory_bandwidth_gb_per_s,"
                                   "io_bidirectional_gb_per_s,tdp_w,tpp_reported,notes,sources,"
                                   "alternatives\r\n"));
        QCOMPARE(crossroadsCsvColumns().size(), size_t(24));
    }

    void csvReadsHandWrittenFiles() {
        // A subset of columns in any order, LF line ends, spreadsheet-style TRUE, empty = null.
        const auto chips = chipsFromCsvText("vendor,name,datacenter,fp16,tdp_w,sources\n"
                                            "NVIDIA,H20,TRUE,148,,\n"
                                            "AMD,\"MI308X\",,  2.5e2 ,350,"
                                            "\"[{\"\"citation\"\": \"\"AMD\"\"}]\"\n");
        QCOMPARE(chips.size(), size_t(2));
        QCOMPARE(chips[0].name, std::string("H20"));
        QCOMPARE(chips[0].datacenter, std::optional<bool>(true));
        QCOMPARE(chips[0].dense_tops[Precision::Fp16], std::optional<double>(148));
        QVERIFY(!chips[0].tdp_w);
        QVERIFY(!chips[0].year);
        QCOMPARE(chips[0].kind, ChipKind::Logic);
        QVERIFY(chips[0].sources.empty());
        QVERIFY(!chips[1].datacenter);
        QCOMPARE(chips[1].dense_tops[Precision::Fp16], std::optional<double>(250));
        QCOMPARE(chips[1].sources, (std::vector<Source>{{"*", "AMD", ""}}));
    }

    void csvBadRows_data() {
        QTest::addColumn<std::string>("text");
        QTest::addColumn<QString>("message");
        const std::string header = "name,vendor,year,fp32,datacenter,kind,notes,sources\n";
        QTest::newRow("not a number") << header + "A,V,2020,1,,,,\nB,V,2020,abc,,,,\n"
                                      << "line 3, field fp32: \"abc\" is not a number";
        QTest::newRow("line counts quoted newlines")
            << header + "A,V,2020,1,,,\"two\nextra\nlines\",\nB,V,20x4,1,,,,\n"
            << "line 5, field year: \"20x4\" is not a whole number";
        QTest::newRow("decimal comma") << header + "A,V,2020,\"1,5\",,,,\n"
                                       << "line 2, field fp32: \"1,5\" is not a number";
        QTest::newRow("infinity") << header + "A,V,2020,inf,,,,\n"
                                  << "line 2, field fp32: \"inf\" is not a number";
        QTest::newRow("datacenter") << header + "A,V,2020,1,yes,,,\n"
                                    << "line 2, field datacenter: \"yes\" is not true, false or "
                                       "empty";
        QTest::newRow("kind") << header + "A,V,2020,1,,asic,,\n"
                              << "line 2, field kind: \"asic\" is not \"logic\" or \"hbm\"";
        QTest::newRow("empty name") << header + " ,V,2020,1,,,,\n"
                                    << "line 2, field name: empty (every chip needs a name)";
        QTest::newRow("field count") << header + "A,V,2020,1,,,\n"
                                     << "line 2: 7 fields, but the header has 8";
        QTest::newRow("unclosed quote") << header + "A,V,2020,1,,,\"open,\n"
                                        << "line 2: quoted field is never closed";
        QTest::newRow("invalid figure")
            << header + "A,V,2020,-4,,,,\n"
            << "line 2: \"A\": dense_tops.fp32 "; // then analysis::validateChip's wording
        QTest::newRow("sources not json") << header + "A,V,2020,1,,,,[oops\n"
                                          << "line 2, field sources: not valid JSON (expected an "
                                             "array of {field, citation, confidence})";
        QTest::newRow("sources unknown key")
            << header + "A,V,2020,1,,,,\"[{\"\"url\"\":\"\"x\"\"}]\"\n"
            << "line 2, field sources: entry 1: unknown key \"url\"";
        QTest::newRow("duplicate name") << header + "A100,V,2020,1,,,,\na100,V,2021,1,,,,\n"
                                        << "line 3: \"a100\" appears again (first on line 2)";
        QTest::newRow("unknown column")
            << std::string("name,vendor,fp16x\nA,V,1\n")
            << "line 1: unknown column \"fp16x\" (expected name, vendor, year, kind, datacenter, "
               "fp64 ... fp4, figures in interchange units, notes, sources, alternatives)";
        QTest::newRow("duplicate column")
            << std::string("name,vendor,name\n") << "line 1: column \"name\" appears twice";
        QTest::newRow("no name column")
            << std::string("vendor,fp16\nV,1\n") << "line 1: no \"name\" column";
    }
    void csvBadRows() {
        QFETCH(std::string, text);
        QFETCH(QString, message);
        try {
            chipsFromCsvText(text);
            QFAIL("no error");
        } catch (const ChipFileError& e) {
            // A prefix where the rest is analysis::validateChip's wording, not ours.
            const QString actual = QString::fromStdString(e.what());
            QVERIFY2(actual.startsWith(message), qPrintable(actual));
        }
    }

    void readErrorsNameTheFile() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("bad.csv"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("name,vendor,fp32\nA,V,abc\n");
        file.close();
        try {
            readChipFile(path);
            QFAIL("no error");
        } catch (const ChipFileError& e) {
            QCOMPARE(QString::fromStdString(e.what()),
                     path + QStringLiteral(": line 2, field fp32: \"abc\" is not a number"));
        }
        QVERIFY_THROWS_EXCEPTION(ChipFileError, readChipFile(dir.filePath("missing.json")));
        QVERIFY_THROWS_EXCEPTION(ChipFileError, readChipFile(dir.filePath("chips.xlsx")));
        QVERIFY_THROWS_EXCEPTION(ChipFileError, writeChipFile(dir.filePath("chips.txt"), {}));
    }

    void jsonErrorsAreChipFileErrors() {
        QVERIFY_THROWS_EXCEPTION(ChipFileError, chipsFromJsonFileText("{\"name\": "));
        QVERIFY_THROWS_EXCEPTION(ChipFileError,
                                 chipsFromJsonFileText(R"([{"name": "A", "vendor": "V",
                                                            "tdp_w": 0}])"));
    }

    void epochImportConvertsUnits() {
        const auto chips = readChipFile(testFile("epoch_hardware_sample.csv"));
        QCOMPARE(chips.size(), size_t(3)); // the trailing row of empty cells is skipped

        const ChipSpec& x = chips[0];
        QCOMPARE(x.name, std::string("Example Accelerator X100"));
        QCOMPARE(x.vendor, std::string("Example Corp"));
        QCOMPARE(x.year, std::optional<int>(2022));
        QCOMPARE(x.kind, ChipKind::Logic);
        QVERIFY(!x.datacenter); // Epoch does not say
        QCOMPARE(x.dense_tops[Precision::Fp64], std::optional<double>(34));
        QCOMPARE(x.dense_tops[Precision::Fp32], std::optional<double>(67));
        QCOMPARE(x.dense_tops[Precision::Tf32], std::optional<double>(495));
        QCOMPARE(x.dense_tops[Precision::Fp16], std::optional<double>(989));
        QCOMPARE(x.dense_tops[Precision::Bf16], std::optional<double>(989));
        QCOMPARE(x.dense_tops[Precision::Int8], std::optional<double>(1979));
        QCOMPARE(x.dense_tops[Precision::Fp8], std::optional<double>(1979));
        QVERIFY(!x.dense_tops[Precision::Fp4]);
        QVERIFY(!x.dense_tops[Precision::Int4]);
        QCOMPARE(x.memory_capacity_gb, std::optional<double>(80));
        QCOMPARE(x.memory_bandwidth_gb_per_s, std::optional<double>(3350));
        QCOMPARE(x.io_bidirectional_gb_per_s, std::optional<double>(900));
        QCOMPARE(x.applicable_die_area_mm2, std::optional<double>(814));
        QCOMPARE(x.tdp_w, std::optional<double>(700));
        QCOMPARE(x.tpp_reported, std::optional<double>(15832));
        QVERIFY(x.notes.empty()); // Epoch's columns go into the source, never the chip's notes
        QCOMPARE(x.sources.size(), size_t(2));
        QCOMPARE(x.sources[0], epochRow("; type: GPU; notes: invented row, for tests"));
        QCOMPARE(x.sources[1].field, std::string("io_bidirectional_gb_per_s"));
        QVERIFY(x.sources[1].citation.find("intranode") != std::string::npos);

        const ChipSpec& l = chips[1];
        QCOMPARE(l.year, std::optional<int>(2021));
        QCOMPARE(l.dense_tops[Precision::Fp32], std::optional<double>(18));
        QCOMPARE(l.dense_tops[Precision::Fp16], std::optional<double>(120));
        QCOMPARE(l.dense_tops[Precision::Int8], std::optional<double>(240));
        QCOMPARE(l.memory_capacity_gb, std::optional<double>(24));
        QCOMPARE(l.memory_bandwidth_gb_per_s, std::optional<double>(600));
        QCOMPARE(l.applicable_die_area_mm2, std::optional<double>(294.5));
        QCOMPARE(l.tpp_reported, std::optional<double>(3840));
        QVERIFY(!l.io_bidirectional_gb_per_s);
        QCOMPARE(l.sources, std::vector<Source>{epochRow("; type: GPU")});

        // No tensor rate: the plain FP16 rate stands in for FP16 (not BF16), and says so.
        const ChipSpec& p = chips[2];
        QCOMPARE(p.year, std::optional<int>(2016));
        QCOMPARE(p.dense_tops[Precision::Fp16], std::optional<double>(21.2));
        QVERIFY(!p.dense_tops[Precision::Bf16]);
        QVERIFY(!p.tpp_reported);
        QCOMPARE(p.sources.size(), size_t(3));
        QCOMPARE(p.sources[0], epochRow("; type: GPU; notes: no tensor cores"));
        QCOMPARE(p.sources[1].field, std::string("fp16"));
        QCOMPARE(p.sources[2].field, std::string("io_bidirectional_gb_per_s"));
    }

    // Found by fuzz_epoch_csv: a Latin-1 cell parsed, then broke the JSON export.
    void nonUtf8TextIsRefusedByLine() {
        const std::string latin1 = "name,vendor\nA,V\nCaf\xE9 chip,V\n";
        const std::string epoch = "Hardware name,Manufacturer\nX,Soci\xE9t\xE9\n";
        const std::string overlong = "name,vendor\nA,\xC0\xAF\n";
        for (const auto& [text, epochFormat] :
             {std::pair(latin1, false), std::pair(epoch, true), std::pair(overlong, false)}) {
            try {
                epochFormat ? chipsFromEpochCsvText(text) : chipsFromCsvText(text);
                QFAIL("no error");
            } catch (const ChipFileError& e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("not valid UTF-8")),
                         e.what());
                QVERIFY2(QString::fromUtf8(e.what()).startsWith(
                             QStringLiteral("line %1: ").arg(text == latin1 ? 3 : 2)),
                         e.what());
            }
        }
        QCOMPARE(chipsFromCsvText("name,vendor\nAscend 910B,华为\n").front().vendor,
                 std::string("华为"));
    }

    void epochColumnNamesDrift() {
        auto chips = readChipFile(testFile("epoch_hardware_variant.csv"));
        QCOMPARE(chips.size(), size_t(1));
        auto expected = readChipFile(testFile("epoch_hardware_sample.csv")).front();
        // The figures agree; the sources differ by what each file has: notes, datasheet link.
        QCOMPARE(chips[0].sources[0], epochRow("; type: GPU; datasheet: https://example.com/x100"));
        chips[0].sources[0] = expected.sources[0];
        QCOMPARE(chipsText(chips), chipsText({expected}));
    }

    void epochBadRows_data() {
        QTest::addColumn<std::string>("text");
        QTest::addColumn<QString>("message");
        const std::string header =
            "Hardware name,Manufacturer,Release date,FP32 (single precision) performance "
            "(FLOP/s),TDP (W)\n";
        QTest::newRow("number") << header + "A,V,2020,1e13,300\nB,V,2021,1.2.3,300\n"
                                << "line 3, field FP32 (single precision) performance (FLOP/s): "
                                   "\"1.2.3\" is not a number";
        QTest::newRow("date") << header + "A,V,soon,1e13,300\n"
                              << "line 2, field Release date: \"soon\" holds no year";
        QTest::newRow("name") << header + ",V,2020,1e13,300\n"
                              << "line 2, field Hardware name: empty (every chip needs a name)";
        QTest::newRow("zero") << header + "A,V,2020,1e13,0\n"
                              << "line 2: \"A\": tdp_w "; // then validateChip's wording
        QTest::newRow("no name column") << std::string("Manufacturer,TDP (W)\nV,3\n")
                                        << "line 1: no hardware name column (expected \"Hardware "
                                           "name\")";
        QTest::newRow("ambiguous") << std::string("Hardware name,Manufacturer,TDP (W),TDP\n")
                                   << "line 1: columns \"TDP (W)\" and \"TDP\" both look like the "
                                      "same Epoch column; rename or remove one";
    }
    void epochBadRows() {
        QFETCH(std::string, text);
        QFETCH(QString, message);
        try {
            chipsFromEpochCsvText(text);
            QFAIL("no error");
        } catch (const ChipFileError& e) {
            // A prefix where the rest is analysis::validateChip's wording, not ours.
            const QString actual = QString::fromStdString(e.what());
            QVERIFY2(actual.startsWith(message), qPrintable(actual));
        }
    }

    void detectsFormats_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<std::string>("content");
        QTest::addColumn<ChipFileFormat>("format");
        QTest::newRow("json") << "a.json" << std::string("[]") << ChipFileFormat::Json;
        QTest::newRow("JSON upper") << "a.JSON" << std::string("[]") << ChipFileFormat::Json;
        QTest::newRow("ours") << "a.csv" << std::string("name,vendor,fp16\n")
                              << ChipFileFormat::CrossroadsCsv;
        QTest::newRow("epoch") << "a.csv" << std::string("Hardware name,Manufacturer,Foo\n")
                               << ChipFileFormat::EpochCsv;
        QTest::newRow("epoch variant")
            << "b.csv" << std::string("hardware_name,TDP (W)\n") << ChipFileFormat::EpochCsv;
        QTest::newRow("ours with a typo stays ours")
            << "a.csv" << std::string("name,vendor,fp16x\n") << ChipFileFormat::CrossroadsCsv;
        QTest::newRow("empty csv") << "a.csv" << std::string() << ChipFileFormat::CrossroadsCsv;
    }
    void detectsFormats() {
        QFETCH(QString, path);
        QFETCH(std::string, content);
        QFETCH(ChipFileFormat, format);
        QCOMPARE(detectChipFileFormat(path, content), format);
    }

    void importIntoStoreIsAllOrNothing() {
        QTemporaryDir dir;
        Store store(dir.filePath(QStringLiteral("store.sqlite")));
        const auto before = store.chips();
        const auto imported = readChipFile(testFile("epoch_hardware_sample.csv"));
        const ImportReport report = store.upsertChips(imported);
        QCOMPARE(report.added, 3);
        QCOMPARE(report.updated, 0);
        QCOMPARE(store.chips().size(), before.size() + 3);
        QCOMPARE(*store.chip(QStringLiteral("example accelerator x100")), imported[0]);
    }
};

QTEST_GUILESS_MAIN(TestChipFiles)
#include "test_chip_files.moc"
