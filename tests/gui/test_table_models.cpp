// The result-table models added for export, the benchmark panel and the store dialogs, each
// under QAbstractItemModelTester as its contents change: ChipFiguresModel (the chips' own
// figures), HistoryTableModel (the audit trail), BenchResultsModel (saved runs with the device's
// chip, its datasheet roofline and its export class) and ImportDiffModel (an import, chip by
// chip and figure by figure). Numbers come at NumberRole for export.
#include "app/gui/models/BenchResultsModel.h"
#include "app/gui/models/ChipFiguresModel.h"
#include "app/gui/models/DisplayText.h"
#include "app/gui/models/HistoryTableModel.h"
#include "app/gui/models/ImportDiffModel.h"
#include "app/gui/models/NumberSortProxyModel.h"
#include "app/gui/models/TableRoles.h"
#include "data/Store.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace crossroads;
using namespace crossroads::gui;

namespace {

int columnWithHeader(const QAbstractItemModel& model, const QString& header) {
    for (int c = 0; c < model.columnCount(); ++c)
        if (model.headerData(c, Qt::Horizontal).toString() == header)
            return c;
    return -1;
}

data::Store::BenchmarkRecord record(qint64 id, const char* device, const char* backend,
                                    std::string json) {
    data::Store::BenchmarkRecord r;
    r.id = id;
    r.created_at = QStringLiteral("2025-04-15T09:30:00Z");
    r.device = QString::fromLatin1(device);
    r.backend = QString::fromLatin1(backend);
    r.model = QStringLiteral("preset:olmoe-1b-7b?layers=1");
    r.dtype = QStringLiteral("bf16");
    r.result_json = std::move(json);
    return r;
}

const char* kH100Run = R"({"spec": {"bandwidth_gb_per_s": null, "chip": null},
  "measured_bandwidth_gb_per_s": 2900,
  "phases": [{"phase": "prefill", "tokens_per_s": 12000.5},
             {"phase": "decode", "tokens_per_s": 250.0, "achieved_gb_per_s": 1675.0,
              "fraction_of_measured_bandwidth": 0.6},
             {"phase": "decode", "tokens_per_s": 200.0, "achieved_gb_per_s": 1500.0,
              "fraction_of_measured_bandwidth": 0.55}]})";

} // namespace

class TestTableModels : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::unique_ptr<data::Store> store_;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        store_ = std::make_unique<data::Store>(dir_.filePath(QStringLiteral("models.sqlite")));
    }

    void chipFigures() {
        ChipFiguresModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setChips(store_->chips());
        QCOMPARE(model.rowCount(), int(store_->chips().size()));
        QCOMPARE(model.columnCount(), 1 + int(data::chipFieldKeys().size()));
        QCOMPARE(model.headerData(0, Qt::Horizontal).toString(), QStringLiteral("Name"));
        const int bandwidth = columnWithHeader(model, QStringLiteral("Memory bandwidth (GB/s)"));
        const int fp8 = columnWithHeader(model, QStringLiteral("Dense FP8 (TFLOPS)"));
        QVERIFY(bandwidth > 0 && fp8 > 0);
        QCOMPARE(ChipFiguresModel::columnKey(bandwidth), std::string("memory_bandwidth_gb_per_s"));
        int h100 = -1;
        for (int r = 0; r < model.rowCount(); ++r)
            if (model.index(r, 0).data().toString() == QLatin1String("H100 SXM5 80GB"))
                h100 = r;
        QVERIFY(h100 >= 0);
        // The stored figure, exactly, as text and as a number.
        QCOMPARE(model.index(h100, bandwidth).data().toString(), QStringLiteral("3350"));
        QCOMPARE(model.index(h100, bandwidth).data(NumberRole).toDouble(), 3350.0);
        QVERIFY(model.index(h100, fp8).data(NumberRole).toDouble() > 1900);
        // Text columns have no number; unknown figures neither.
        QVERIFY(!model.index(h100, 0).data(NumberRole).isValid());
        model.setChips({});
        QCOMPARE(model.rowCount(), 0);
    }

    void history() {
        HistoryTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setEntries(
            {{"2025-04-15T09:30:00Z", "H20 (China)", "tdp_w", "400", "410", "vendor datasheet",
              "editor"},
             {"2025-04-16T10:00:00Z", "New chip", "*", std::nullopt, "added", "", "import new.csv"},
             {"2025-04-17T11:00:00Z", "h20 (china)", "memory_bandwidth_gb_per_s", "4000",
              std::nullopt, "", "import x.csv"}});
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.index(0, HistoryTableModel::AtColumn).data().toString(),
                 QStringLiteral("2025-04-15 09:30:00"));
        QCOMPARE(model.index(0, HistoryTableModel::NewColumn).data(NumberRole).toDouble(), 410.0);
        QCOMPARE(model.index(0, HistoryTableModel::OldColumn).data(NumberRole).toDouble(), 400.0);
        // "added" is not a number; a cleared figure shows empty and says so.
        QVERIFY(!model.index(1, HistoryTableModel::NewColumn).data(NumberRole).isValid());
        QCOMPARE(model.index(2, HistoryTableModel::NewColumn).data().toString(), QString());
        QVERIFY(model.index(2, HistoryTableModel::NewColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("Cleared")));
        // By default (the CLI's export) the field is the stored key, its words in the tooltip.
        QCOMPARE(model.index(0, HistoryTableModel::FieldColumn).data().toString(),
                 QStringLiteral("tdp_w"));
        QCOMPARE(model.index(1, HistoryTableModel::FieldColumn).data().toString(),
                 QStringLiteral("*"));
        QCOMPARE(model.index(1, HistoryTableModel::FieldColumn).data(Qt::ToolTipRole).toString(),
                 QStringLiteral("Chip"));
        // The history view's words; the key stays at FieldKeyRole and in the tooltip.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setFieldLabels(true);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(model.index(1, HistoryTableModel::FieldColumn).data().toString(),
                 QStringLiteral("Chip"));
        QCOMPARE(model.index(2, HistoryTableModel::FieldColumn).data().toString(),
                 figureLabel("memory_bandwidth_gb_per_s"));
        QVERIFY(model.index(2, HistoryTableModel::FieldColumn).data().toString() !=
                QStringLiteral("memory_bandwidth_gb_per_s"));
        QCOMPARE(model.index(2, HistoryTableModel::FieldColumn)
                     .data(HistoryTableModel::FieldKeyRole)
                     .toString(),
                 QStringLiteral("memory_bandwidth_gb_per_s"));
        QVERIFY(model.index(2, HistoryTableModel::FieldColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("memory_bandwidth_gb_per_s")));
        QCOMPARE(HistoryTableModel::fieldLabel("sources"), QStringLiteral("Sources"));
        QCOMPARE(HistoryTableModel::fieldLabel("alternatives"),
                 QStringLiteral("Alternative source values"));
        // A rate reads as the chip table and the detail pane label it.
        QCOMPARE(HistoryTableModel::fieldLabel("fp16"), figureLabel("dense_tops.fp16"));
        QCOMPARE(HistoryTableModel::fieldLabel("fp16"), QStringLiteral("Dense FP16 (TFLOPS)"));
        QCOMPARE(HistoryTableModel::fieldLabel("int8"), QStringLiteral("Dense INT8 (TOPS)"));
        QCOMPARE(HistoryTableModel::fieldLabel("vendor"), QStringLiteral("Vendor"));
        QCOMPARE(HistoryTableModel::fieldLabel("no_such_key"), QStringLiteral("no_such_key"));
        model.setFieldLabels(true); // no change, no signal
        QCOMPARE(changed.size(), 1);
        // Each chip once, whatever its case.
        QCOMPARE(model.chipNames(), (QStringList{"H20 (China)", "New chip"}));
        model.setEntries({});
        QCOMPARE(model.rowCount(), 0);
    }

    void benchResults() {
        BenchResultsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRecords({record(2, "AMD EPYC 7B13", "cpu",
                                 R"({"phases": [{"phase": "decode", "tokens_per_s": 20}]})"),
                          record(1, "NVIDIA H100 80GB HBM3", "cuda", kH100Run),
                          record(0, "Mystery GPU 9000", "cuda", "not json")});
        QCOMPARE(model.rowCount(), 3);
        // Without chips: no device chip yet, no class.
        QCOMPARE(model.index(1, BenchResultsModel::DeviceChipColumn).data().toString(), QString());
        model.setChips(store_->chips());
        const auto editions = store_->editions();
        const auto it = std::find_if(editions.begin(), editions.end(),
                                     [](const auto& e) { return e.id == "2023-10"; });
        QVERIFY(it != editions.end());
        model.setEdition(*it);

        const auto cell = [&](int row, int column, int role = Qt::DisplayRole) {
            return model.index(row, column).data(role);
        };
        // The H100 run: its chip from the device name, the datasheet bandwidth of the store
        // (the run had none), decode against it and its roofline, the class under 2023-10.
        QCOMPARE(cell(1, BenchResultsModel::DeviceChipColumn).toString(),
                 QStringLiteral("H100 SXM5 80GB"));
        QCOMPARE(cell(1, BenchResultsModel::SpecBandwidthColumn, NumberRole).toDouble(), 3350.0);
        QCOMPARE(cell(1, BenchResultsModel::FractionOfSpecColumn, NumberRole).toDouble(),
                 1675.0 / 3350.0 * 100);
        QCOMPARE(cell(1, BenchResultsModel::RooflineDecodeColumn, NumberRole).toDouble(), 500.0);
        QCOMPARE(cell(1, BenchResultsModel::FractionOfMeasuredColumn).toString(),
                 QStringLiteral("60%"));
        QCOMPARE(cell(1, BenchResultsModel::DecodeColumn).toString(),
                 QStringLiteral("250 (+1 contexts)"));
        QCOMPARE(cell(1, BenchResultsModel::DecodeColumn, NumberRole).toDouble(), 250.0);
        QVERIFY(cell(1, BenchResultsModel::ExportClassColumn)
                    .toString()
                    .contains(QStringLiteral("3A090.a")));
        QVERIFY(model.classificationAt(1) && model.classificationAt(1)->controlled == true);
        QVERIFY(cell(1, BenchResultsModel::ExportClassColumn, Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("under 2023-10")));
        // The CPU has no chip; an unknown GPU says so; an unreadable result says so.
        QCOMPARE(cell(0, BenchResultsModel::ExportClassColumn).toString(),
                 QStringLiteral("— (CPU)"));
        QVERIFY(!model.classificationAt(0));
        QCOMPARE(cell(2, BenchResultsModel::ExportClassColumn).toString(),
                 QStringLiteral("no chip in the store"));
        QCOMPARE(cell(2, BenchResultsModel::DecodeColumn).toString(), QStringLiteral("unreadable"));
        QVERIFY(!model.rows()[2].figures.readable);
        // Another edition reclassifies; 2022-10 also controls the H100 (a.1: TPP and I/O).
        const auto first = std::find_if(editions.begin(), editions.end(),
                                        [](const auto& e) { return e.id == "2022-10"; });
        model.setEdition(*first);
        QVERIFY(model.classificationAt(1) && model.classificationAt(1)->edition_id == "2022-10");
        model.setRecords({});
        QCOMPARE(model.rowCount(), 0);
    }

    void benchResultsSortByValue() {
        BenchResultsModel model;
        NumberSortProxyModel sorted;
        sorted.setSourceModel(&model);
        QAbstractItemModelTester tester(&sorted,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const auto run = [](double decode) {
            return R"({"phases": [{"phase": "decode", "tokens_per_s": )" + std::to_string(decode) +
                   "}]}";
        };
        model.setRecords(
            {record(5, "Device E", "cpu", run(9.5)), record(4, "device d", "cpu", run(1000)),
             record(3, "Device C", "cpu", "not json"), record(2, "Device B", "cpu", run(20)),
             record(1, "device a", "cpu", run(250))});
        const auto ids = [&] {
            QList<qint64> out;
            for (int r = 0; r < sorted.rowCount(); ++r)
                out << sorted.index(r, 0).data(BenchResultsModel::RecordIdRole).toLongLong();
            return out;
        };
        // Unsorted: the store's order, newest first.
        QCOMPARE(ids(), (QList<qint64>{5, 4, 3, 2, 1}));
        // By value, not by text ("1,000" < "20" < "250" < "9.5"); the unreadable run last in
        // both orders.
        QCOMPARE(model.index(1, BenchResultsModel::DecodeColumn).data().toString(),
                 QStringLiteral("1,000"));
        sorted.sort(BenchResultsModel::DecodeColumn, Qt::AscendingOrder);
        QCOMPARE(ids(), (QList<qint64>{5, 2, 1, 4, 3}));
        sorted.sort(BenchResultsModel::DecodeColumn, Qt::DescendingOrder);
        QCOMPARE(ids(), (QList<qint64>{4, 1, 2, 5, 3}));
        // Text columns by their text, case-insensitively.
        sorted.sort(BenchResultsModel::DeviceColumn, Qt::AscendingOrder);
        QCOMPARE(ids(), (QList<qint64>{1, 2, 3, 4, 5}));
        // Back to the store's order.
        sorted.sort(-1);
        QCOMPARE(ids(), (QList<qint64>{5, 4, 3, 2, 1}));
        // New records are sorted as they come.
        sorted.sort(BenchResultsModel::DecodeColumn, Qt::AscendingOrder);
        model.setRecords(
            {record(7, "Device G", "cpu", run(1)), record(6, "Device F", "cpu", run(0.5))});
        QCOMPARE(ids(), (QList<qint64>{6, 7}));
    }

    void importDiffTree() {
        ImportDiffModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        data::ImportDiff diff;
        data::ChipImportDiff added;
        added.name = added.row_name = "New X";
        added.origin = "line 2";
        added.added = true;
        added.changes = {{"vendor", std::nullopt, "Acme"}, {"tdp_w", std::nullopt, "300"}};
        added.sources_added = {{"*", "datasheet", "high"}};
        data::ChipImportDiff changed;
        changed.name = "H100 SXM5 80GB";
        changed.row_name = "NVIDIA H100 SXM5 80GB";
        changed.origin = "line 3";
        changed.changes = {{"tdp_w", "700", std::nullopt}};
        changed.unchanged = 5;
        data::ChipImportDiff same;
        same.name = same.row_name = "H20 (China)";
        same.unchanged = 3;
        diff.chips = {added, changed, same};
        model.setDiff(diff);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.rowCount(model.index(0, 0)), 3); // two figures, one source
        QCOMPARE(model.rowCount(model.index(2, 0)), 0);
        const QModelIndex cleared = model.index(0, 0, model.index(1, 0));
        QCOMPARE(model.parent(cleared), model.index(1, 0));
        QCOMPARE(cleared.data(ImportDiffModel::ChangeKindRole).toString(),
                 QStringLiteral("cleared"));
        QCOMPARE(model.index(0, ImportDiffModel::OldColumn, model.index(1, 0)).data().toString(),
                 QStringLiteral("700"));
        QCOMPARE(model.index(2, ImportDiffModel::ChangeColumn, model.index(0, 0)).data().toString(),
                 QStringLiteral("source added"));
        QVERIFY(model.index(1, 0)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("NVIDIA H100 SXM5 80GB")));
        QCOMPARE(model.summary(), QStringLiteral("1 added, 1 changed, 1 unchanged; 1 figures "
                                                 "changed (1 cleared), 8 unchanged"));
        model.setShowUnchanged(false);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(1, 0).data(ImportDiffModel::ChipNameRole).toString(),
                 QStringLiteral("H100 SXM5 80GB"));
        QCOMPARE(model.parent(model.index(0, 0, model.index(1, 0))), model.index(1, 0));
        model.setDiff({});
        QCOMPARE(model.rowCount(), 0);
    }
};

QTEST_MAIN(TestTableModels)
#include "test_table_models.moc"
