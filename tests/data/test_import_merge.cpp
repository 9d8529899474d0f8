// Imports that merge: a column or key the file lacks keeps the stored figure, an empty cell or a
// null clears it (and the diff says so); sources are added, not replaced; Epoch AI names find the
// store's chip or are refused as ambiguous; every change lands in the audit trail, from an import
// or from the editor, which refuses what an import refuses.
#include "analysis/ChipJson.h"
#include "data/ChipFiles.h"
#include "data/Store.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

using namespace crossroads::data;
using crossroads::analysis::ChipSpec;
using crossroads::analysis::Precision;
using crossroads::analysis::Source;

namespace {

const QString kH20 = QStringLiteral("H20 (China)");
const std::string kEpoch = "Epoch AI, Data on Machine Learning Hardware (CC BY)";

template <typename F> QString storeErrorOf(F&& f) {
    try {
        f();
    } catch (const StoreError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

const FieldChange* changeOf(const ChipImportDiff& c, const std::string& field) {
    for (const auto& f : c.changes)
        if (f.field == field)
            return &f;
    return nullptr;
}

bool hasSource(const ChipSpec& chip, const Source& s) {
    return std::find(chip.sources.begin(), chip.sources.end(), s) != chip.sources.end();
}

} // namespace

class TestImportMerge : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    int stores_ = 0;

    QString freshPath() { return dir_.filePath(QStringLiteral("s%1.sqlite").arg(stores_++)); }

private slots:
    void csvRowsGiveTheirColumns() {
        const auto rows = patchesFromCsvText("name,vendor,year,fp16,tdp_w\nH20 (China),NVIDIA,2024,"
                                             "148,\n");
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(rows[0].fields, (std::set<std::string>{"vendor", "year", "fp16", "tdp_w"}));
        QCOMPARE(rows[0].origin, std::string("line 2"));
        QVERIFY(!rows[0].values.tdp_w); // given, empty: the row clears it
        QCOMPARE(rows[0].matching, NameMatching::Exact);
        // A row without a vendor column is fine for a chip the store has (checked there).
        QCOMPARE(patchesFromCsvText("name,fp16\nH20 (China),150\n").size(), size_t(1));
    }

    void jsonRowsGiveTheirKeys() {
        const auto rows = patchesFromJsonFileText(
            R"j([{"name": "H20 (China)", "dense_tops": {"fp16": 150}, "tdp_w": null}])j");
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(rows[0].fields, (std::set<std::string>{"fp16", "tdp_w"}));
        const auto all = patchesFromJsonFileText(R"j({"name": "X", "dense_tops": null})j");
        QCOMPARE(all[0].fields.size(), size_t(9));
        QVERIFY_THROWS_EXCEPTION(
            ChipFileError,
            patchesFromJsonFileText(
                R"j([{"name": "A", "vendor": "V"}, {"name": "a", "vendor": "V"}])j"));
    }

    // The bug of issue 8: "name,vendor,year,fp16" for the H20 erased the rest of it.
    void partialCsvKeepsEverythingElse() {
        Store store(freshPath());
        const ChipSpec before = *store.chip(kH20);
        const auto rows =
            patchesFromCsvText("name,vendor,year,fp16\nH20 (China),NVIDIA,2024,150\n");
        const ImportDiff diff = store.importChips(rows, "import h20.csv");
        QCOMPARE(diff.chips.size(), size_t(1));
        const ChipImportDiff& c = diff.chips[0];
        QVERIFY(!c.added);
        QCOMPARE(c.changes.size(), size_t(1));
        QCOMPARE(c.changes[0].field, std::string("fp16"));
        QCOMPARE(c.changes[0].old_value, std::optional<std::string>("148"));
        QCOMPARE(c.changes[0].new_value, std::optional<std::string>("150"));
        QCOMPARE(c.unchanged, 2); // vendor, year
        QCOMPARE(diff.changedChips(), 1);

        ChipSpec expected = before;
        expected.dense_tops[Precision::Fp16] = 150;
        const ChipSpec after = *store.chip(kH20);
        QCOMPARE(QByteArray::fromStdString(crossroads::analysis::chipToJson(after).dump()),
                 QByteArray::fromStdString(crossroads::analysis::chipToJson(expected).dump()));
        QVERIFY(after == expected); // die area, bandwidth, I/O, datacenter, sources all kept
        QCOMPARE(store.chips().size(), size_t(49));
    }

    void emptyCellsAndNullsClear_data() {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("csv") << "c.csv"
                             << QByteArray(
                                    "name,applicable_die_area_mm2,tdp_w\nH20 (China),,400\n");
        QTest::newRow("json") << "c.json" << QByteArray(R"j({"name": "H20 (China)",
                                               "applicable_die_area_mm2": null, "tdp_w": 400
})j");
    }
    void emptyCellsAndNullsClear() {
        QFETCH(QString, fileName);
        QFETCH(QByteArray, text);
        const QString path = dir_.filePath(fileName);
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
        }
        Store store(freshPath());
        const ImportDiff diff = store.importChips(readChipPatches(path).rows, "import");
        const ChipImportDiff& c = diff.chips.at(0);
        const FieldChange* area = changeOf(c, "applicable_die_area_mm2");
        QVERIFY(area && area->cleared());
        QCOMPARE(area->old_value, std::optional<std::string>("814"));
        QCOMPARE(diff.clearedFigures(), 1);
        QCOMPARE(c.unchanged, 1); // tdp_w 400 as stored
        const ChipSpec after = *store.chip(kH20);
        QVERIFY(!after.applicable_die_area_mm2);
        QCOMPARE(after.memory_bandwidth_gb_per_s, std::optional<double>(4000));
    }

    void jsonRatesMergeOneByOne() {
        Store store(freshPath());
        const auto rows = patchesFromJsonFileText(
            R"j({"name": "h20 (china)", "dense_tops": {
        "fp16" : 150}
})j");
        store.importChips(rows, "import");
        const ChipSpec after = *store.chip(kH20);
        QCOMPARE(after.name, kH20.toStdString()); // the stored spelling stays
        QCOMPARE(after.dense_tops[Precision::Fp16], std::optional<double>(150));
        QCOMPARE(after.dense_tops[Precision::Bf16], std::optional<double>(148));
        QCOMPARE(after.dense_tops[Precision::Fp8], std::optional<double>(296));
    }

    void dryRunChangesNothing() {
        const QString path = freshPath();
        Store store(path);
        const auto chipsBefore = store.chips();
        const auto rows = patchesFromCsvText("name,vendor,fp16,tdp_w\nH20 (China),NVIDIA,150,\n"
                                             "New Part,Lab,10,100\n"
                                             "T4,NVIDIA,65,70\n");
        const ImportDiff diff = store.diffImport(rows);
        QCOMPARE(diff.addedChips(), 1);
        QCOMPARE(diff.changedChips(), 1);
        QCOMPARE(diff.unchangedChips(), 1);
        QCOMPARE(diff.changedFigures(), 2); // fp16 148 -> 150, tdp_w 400 -> cleared
        QCOMPARE(diff.clearedFigures(), 1);
        QCOMPARE(diff.unchangedFigures(), 4); // H20 vendor; T4 vendor, fp16 and tdp_w
        QVERIFY(diff.chips[1].added);
        QCOMPARE(diff.chips[1].changes.size(), size_t(4)); // vendor, kind, fp16, tdp_w
        QVERIFY(store.chips() == chipsBefore);
        QVERIFY(store.history().empty());
        // Applying gives what the dry run said.
        const ImportDiff applied = store.importChips(rows, "import");
        QCOMPARE(applied.changedFigures(), diff.changedFigures());
        QCOMPARE(store.chips().size(), chipsBefore.size() + 1);
    }

    void sourcesAreMergedNotReplaced() {
        Store store(freshPath());
        const ChipSpec before = *store.chip(kH20);
        const auto rows = patchesFromCsvText(
            "name,fp16,sources\n"
            "H20 (China),150,\"[{\"\"field\"\": \"\"fp16\"\", \"\"citation\"\": \"\"my bench\"\", "
            "\"\"confidence\"\": \"\"low\"\"}, {\"\"citation\"\": \"\"my sheet\"\"}]\"\n");
        store.importChips(rows, "import");
        const ChipSpec after = *store.chip(kH20);
        for (const Source& s : before.sources)
            QVERIFY2(hasSource(after, s), s.citation.c_str()); // the stored sources stay
        QVERIFY(hasSource(after, {"fp16", "my bench", "low"}));
        // A row source backs what the row changed, not the figures it left alone.
        QVERIFY(hasSource(after, {"fp16", "my sheet", ""}));
        QVERIFY(!hasSource(after, {"*", "my sheet", ""}));
        QCOMPARE(after.sources.size(), before.sources.size() + 2);
    }

    // Epoch's "NVIDIA H100 SXM5 80GB" is the store's "H100 SXM5 80GB", not a second H100.
    void epochNamesFindTheStoreChip() {
        Store store(freshPath());
        const ChipSpec before = *store.chip(QStringLiteral("H100 SXM5 80GB"));
        const auto rows = patchesFromEpochCsvText(
            "Hardware name,Manufacturer,Tensor-FP16/BF16 performance (FLOP/s),Die Size (mm^2),"
            "Link to datasheet,Notes\n"
            "NVIDIA H100 SXM5 80GB,NVIDIA,9.9e14,814,https://example.com/h100,SXM5 board\n");
        QCOMPARE(rows[0].matching, NameMatching::Epoch);
        const ImportDiff diff = store.importChips(rows, "import epoch.csv");
        QCOMPARE(diff.addedChips(), 0);
        QCOMPARE(diff.chips[0].name, std::string("H100 SXM5 80GB"));
        QCOMPARE(diff.chips[0].row_name, std::string("NVIDIA H100 SXM5 80GB"));
        QCOMPARE(store.chips().size(), size_t(49));
        const ChipSpec after = *store.chip(QStringLiteral("H100 SXM5 80GB"));
        QCOMPARE(after.dense_tops[Precision::Fp16], std::optional<double>(990));
        QCOMPARE(after.dense_tops[Precision::Bf16], std::optional<double>(990));
        QCOMPARE(after.dense_tops[Precision::Fp8], before.dense_tops[Precision::Fp8]);
        QCOMPARE(after.io_bidirectional_gb_per_s, before.io_bidirectional_gb_per_s);
        QCOMPARE(after.notes, before.notes); // Epoch's notes are a source, not the chip's notes
        // The datasheet link and Epoch's notes are kept, as the source of what Epoch changed.
        const Source epoch{
            "fp16", kEpoch + "; datasheet: https://example.com/h100; notes: SXM5 board", "medium"};
        QVERIFY(hasSource(after, epoch));
        QVERIFY(!hasSource(after, {"applicable_die_area_mm2", epoch.citation, "medium"})); // same
        QVERIFY(!store.chip(QStringLiteral("NVIDIA H100 SXM5 80GB")));
    }

    // Epoch's table is sparse: an empty Epoch cell means Epoch has no figure, so the curated
    // one stays (a Crossroads CSV's empty cell clears, tested above); what Epoch gives gets
    // Epoch as its source.
    void emptyEpochCellsKeepTheStoredFigure() {
        Store store(freshPath());
        const ChipSpec before = *store.chip(kH20);
        QVERIFY(before.applicable_die_area_mm2);
        const auto rows =
            patchesFromEpochCsvText("Hardware name,Manufacturer,Die Size (mm^2),TDP (W)\n"
                                    "NVIDIA H20,NVIDIA,,410\n");
        const ImportDiff diff = store.importChips(rows, "import");
        QCOMPARE(diff.clearedFigures(), 0);
        const ChipSpec after = *store.chip(kH20);
        QCOMPARE(after.applicable_die_area_mm2, before.applicable_die_area_mm2);
        QCOMPARE(after.tdp_w, std::optional<double>(410));
        QVERIFY(std::any_of(after.sources.begin(), after.sources.end(), [](const Source& s) {
            return s.field == "tdp_w" && s.citation.starts_with(kEpoch);
        }));
    }

    void epochAmbiguityIsRefused() {
        const QString path = freshPath();
        Store store(path);
        const auto rows = patchesFromEpochCsvText("Hardware name,Manufacturer,TDP (W)\n"
                                                  "NVIDIA H20,NVIDIA,410\n"
                                                  "NVIDIA H100,NVIDIA,700\n");
        const QString error = storeErrorOf([&] { store.importChips(rows, "import"); });
        QVERIFY2(error.startsWith(QStringLiteral("line 3: \"NVIDIA H100\" could be any of "
                                                 "\"H100 PCIe 80GB\", \"H100 SXM5 80GB\"")),
                 qPrintable(error));
        QCOMPARE(store.chip(kH20)->tdp_w, std::optional<double>(400)); // all or nothing
        QVERIFY(store.history().empty());
        QVERIFY(!storeErrorOf([&] { store.diffImport(rows); }).isEmpty());

        const auto twice = patchesFromEpochCsvText("Hardware name,Manufacturer,TDP (W)\n"
                                                   "NVIDIA H20,NVIDIA,410\n"
                                                   "H20 (China),NVIDIA,420\n");
        QVERIFY2(storeErrorOf([&] {
                     store.importChips(twice, "import");
                 }).contains(QStringLiteral("and so is the row of line 2")),
                 "two rows, one chip");
    }

    void importIsAllOrNothing() {
        Store store(freshPath());
        const auto rows = patchesFromCsvText("name,fp16\nH20 (China),150\nBrand New,10\n");
        const QString error = storeErrorOf([&] { store.importChips(rows, "import"); });
        QCOMPARE(error, QStringLiteral("line 3: chip \"Brand New\": vendor must not be empty"));
        QCOMPARE(store.chip(kH20)->dense_tops[Precision::Fp16], std::optional<double>(148));
        QVERIFY(!store.chip(QStringLiteral("Brand New")));
        QVERIFY(store.history().empty());
    }

    void auditTrailRecordsImports() {
        Store store(freshPath());
        store.importChips(patchesFromCsvText("name,vendor,fp16,tdp_w,sources\n"
                                             "H20 (China),NVIDIA,150,,\"[{\"\"citation\"\": "
                                             "\"\"sheet\"\"}]\"\n"
                                             "New Part,Lab,10,,\n"),
                          "import my.csv");
        const auto all = store.history();
        const auto h20 = store.history(QStringLiteral("h20 (CHINA)"));
        QCOMPARE(h20.size(), size_t(2)); // fp16 changed, tdp_w cleared
        const QRegularExpression iso(
            QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"));
        for (const AuditEntry& e : all) {
            QVERIFY2(iso.match(QString::fromStdString(e.at)).hasMatch(), e.at.c_str());
            QCOMPARE(e.via, std::string("import my.csv"));
        }
        QCOMPARE(h20[0].chip, kH20.toStdString());
        QCOMPARE(h20[0].field, std::string("fp16"));
        QCOMPARE(h20[0].old_value, std::optional<std::string>("148"));
        QCOMPARE(h20[0].new_value, std::optional<std::string>("150"));
        QCOMPARE(h20[0].source, std::string("sheet"));
        QCOMPARE(h20[1].field, std::string("tdp_w"));
        QCOMPARE(h20[1].old_value, std::optional<std::string>("400"));
        QVERIFY(!h20[1].new_value);
        // The new chip: one entry for the chip, one per figure it brings.
        const auto added = store.history(QStringLiteral("New Part"));
        QCOMPARE(added.size(), size_t(4)); // *, vendor, kind, fp16
        QCOMPARE(added[0].field, std::string("*"));
        QCOMPARE(added[0].new_value, std::optional<std::string>("added"));
        QVERIFY(!added[1].old_value);
        QCOMPARE(all.size(), h20.size() + added.size());
        // An import that changes nothing records nothing.
        store.importChips(patchesFromCsvText("name,fp16\nH20 (China),150\n"), "import again");
        QCOMPARE(store.history().size(), all.size());
        QVERIFY(store.removeChip(QStringLiteral("New Part")));
        const auto removed = store.history(QStringLiteral("New Part"));
        QCOMPARE(removed.back().via, std::string("remove"));
        QCOMPARE(removed[4].new_value, std::optional<std::string>("removed"));
    }

    void editorValidatesAsImportDoes_data() {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("message");
        QTest::newRow("negative") << "tdp_w"
                                  << "-5"
                                  << "tdp_w must be a positive number";
        QTest::newRow("zero area") << "applicable_die_area_mm2"
                                   << "0"
                                   << "applicable_die_area_mm2 must be a positive number";
        QTest::newRow("nan") << "fp16"
                             << "nan"
                             << "field fp16: \"nan\" is not a number";
        QTest::newRow("text") << "memory_bandwidth_gb_per_s"
                              << "fast"
                              << "field memory_bandwidth_gb_per_s: \"fast\" is not a number";
        QTest::newRow("unknown field") << "speed"
                                       << "1"
                                       << "unknown field \"speed\"";
        QTest::newRow("name is not a field") << "name"
                                             << "X"
                                             << "unknown field \"name\"";
    }
    void editorValidatesAsImportDoes() {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(QString, message);
        try {
            fieldEditPatch(kH20.toStdString(), field.toStdString(), value.toStdString());
            QFAIL("no error");
        } catch (const ChipFileError& e) {
            QVERIFY2(QString::fromUtf8(e.what()).startsWith(message), e.what());
        }
    }

    void editorRecordsItsSource() {
        Store store(freshPath());
        const ChipSpec before = *store.chip(kH20);
        ChipPatch edit = fieldEditPatch(kH20.toStdString(), "tdp_w", "350");
        edit.sources = {{"tdp_w", "board measurement", "high"}};
        const ChipSpec after = store.editChip(kH20, edit);
        QCOMPARE(after.tdp_w, std::optional<double>(350));
        QVERIFY(hasSource(after, {"tdp_w", "board measurement", "high"}));
        QCOMPARE(*store.chip(kH20), after);
        const auto entries = store.history(kH20);
        QCOMPARE(entries.size(), size_t(1));
        QCOMPARE(entries[0].field, std::string("tdp_w"));
        QCOMPARE(entries[0].old_value, std::optional<std::string>("400"));
        QCOMPARE(entries[0].new_value, std::optional<std::string>("350"));
        QCOMPARE(entries[0].source, std::string("board measurement"));
        QCOMPARE(entries[0].via, std::string("editor"));
        // A second edit of the same figure replaces the source that backed the first.
        ChipPatch again = fieldEditPatch(kH20.toStdString(), "tdp_w", "360");
        again.sources = {{"tdp_w", "second measurement", "high"}};
        const ChipSpec second = store.editChip(kH20, again);
        QVERIFY(!hasSource(second, {"tdp_w", "board measurement", "high"}));
        QCOMPARE(second.sources.size(), before.sources.size() + 1);

        // A patch built by hand is validated too: NaN and zero refused, the field named, the
        // store untouched.
        ChipPatch bad;
        bad.values.name = kH20.toStdString();
        bad.values.memory_bandwidth_gb_per_s = std::numeric_limits<double>::quiet_NaN();
        bad.fields = {"memory_bandwidth_gb_per_s"};
        QVERIFY(storeErrorOf([&] {
                    store.editChip(kH20, bad);
                }).contains(QStringLiteral("memory_bandwidth_gb_per_s must be a positive")));
        QVERIFY(storeErrorOf([&] {
                    store.editChip(QStringLiteral("Nope"), again);
                }).contains(QStringLiteral("no chip named \"Nope\"")));
        QCOMPARE(*store.chip(kH20), second);
        QCOMPARE(store.history(kH20).size(), size_t(2));
    }
};

QTEST_GUILESS_MAIN(TestImportMerge)
#include "test_import_merge.moc"
