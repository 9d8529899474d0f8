// The workbench models: ChipTableModel, ChipFilterProxyModel and EditionListModel under
// QAbstractItemModelTester while the edition, the filters and the sort change; what the table
// shows for known chips under the bundled 2023-10 edition; and the detail pane's HTML.
#include "analysis/SourceSensitivity.h"
#include "app/gui/models/ChipDetailHtml.h"
#include "app/gui/models/ChipFilterProxyModel.h"
#include "app/gui/models/ChipTableModel.h"
#include "app/gui/models/EditionListModel.h"
#include "tests/common/ReferenceData.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>
#include <QTextDocument>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

using namespace crossroads;
using namespace crossroads::gui;
using analysis::ChipSpec;
using analysis::Precision;

namespace {

ChipSpec makeChip(const char* name, const char* vendor, std::optional<double> fp8_tflops,
                  std::optional<double> fp16_tflops, std::optional<double> die_mm2,
                  std::optional<bool> datacenter = true,
                  std::optional<double> tpp_reported = std::nullopt) {
    ChipSpec chip;
    chip.name = name;
    chip.vendor = vendor;
    chip.year = 2024;
    chip.datacenter = datacenter;
    chip.dense_tops[Precision::Fp8] = fp8_tflops;
    chip.dense_tops[Precision::Fp16] = fp16_tflops;
    chip.applicable_die_area_mm2 = die_mm2;
    chip.tpp_reported = tpp_reported;
    chip.sources.push_back({"*", "test datasheet", "high"});
    return chip;
}

// Figures after the public datasheets (docs/reference/chips.csv), under names of their own so
// the test does not depend on the seed.
std::vector<ChipSpec> testChips() {
    std::vector<ChipSpec> chips;
    chips.push_back(makeChip("H100-like", "NVIDIA", 1979, 989.4, 814, true, 15832)); // TPP 15,832
    chips.back().sources.push_back({"tpp_reported", "vendor slide 15,832", "medium"});
    chips.push_back(makeChip("H20-like", "NVIDIA", 296, 148, 814, true, 2368));     // TPP 2,368
    chips.push_back(makeChip("L40-like", "NVIDIA", 362, 181, 608.5, true, 2896.6)); // PD 4.76
    chips.push_back(makeChip("Gaming-like", "NVIDIA", 389.9, 194.9, 379, false));   // Note 2
    chips.push_back(makeChip("Gap chip", "Other", std::nullopt, 600, 2000, true, 9000)); // 9,600
    chips.push_back(makeChip("Unknown die", "Acme", std::nullopt, 187.5, std::nullopt)); // 3,000
    chips.push_back(makeChip("No rates", "Acme", std::nullopt, std::nullopt, 500));
    return chips;
}

QStringList column(const QAbstractItemModel& model, int col, int role = Qt::DisplayRole) {
    QStringList values;
    for (int row = 0; row < model.rowCount(); ++row)
        values << model.data(model.index(row, col), role).toString();
    return values;
}

} // namespace

class TestGuiModels : public QObject {
    Q_OBJECT

    std::vector<analysis::Edition> editions_;

    const analysis::Edition& edition(const char* id) const {
        const auto* e = analysis::findEdition(editions_, id);
        if (!e)
            qFatal("edition %s missing from data/seed/editions", id);
        return *e;
    }

    // The model row showing `name` (the tests' chips are unique by name).
    static int rowOf(const ChipTableModel& model, const QString& name) {
        const int row = model.rowOfChip(name);
        if (row < 0)
            qFatal("chip %s missing", qPrintable(name));
        return row;
    }

private Q_SLOTS:
    void initTestCase() {
        editions_ = testing::bundledEditions();
        QVERIFY2(editions_.size() >= 2, "the bundled editions did not load");
    }

    // The class column, the controlled column and the status hints of known chips under 2023-10.
    void displayedClass_data() {
        QTest::addColumn<QString>("chip");
        QTest::addColumn<QString>("classText");
        QTest::addColumn<QString>("controlled");
        // clang-format off
        QTest::newRow("H100: a.1 and a.2")  << "H100-like"   << "3A090.a.1, 3A090.a.2" << "Yes";
        QTest::newRow("L40: b.1 and b.2")   << "L40-like"    << "3A090.b.1, 3A090.b.2" << "Yes";
        QTest::newRow("H20: below both")    << "H20-like"    << "—"                    << "No";
        QTest::newRow("non-DC under 4800")  << "Gaming-like" << "—"                    << "No";
        QTest::newRow("TPP 9,600: a.1")     << "Gap chip"    << "3A090.a.1"            << "Yes";
        QTest::newRow("unknown die area")   << "Unknown die" << "undetermined: needs die area"
                                                             << "Undetermined";
        // clang-format on
    }
    void displayedClass() {
        QFETCH(QString, chip);
        QFETCH(QString, classText);
        QFETCH(QString, controlled);
        ChipTableModel model;
        model.setChipsAndEdition(testChips(), edition("2023-10"));
        const int row = rowOf(model, chip);
        QCOMPARE(model.index(row, ChipTableModel::ClassColumn).data().toString(), classText);
        QCOMPARE(model.index(row, ChipTableModel::ControlledColumn).data().toString(), controlled);
        // Every status gets a colour hint.
        QVERIFY(model.index(row, ChipTableModel::ControlledColumn)
                    .data(Qt::DecorationRole)
                    .canConvert<QColor>());
        const QVariant controlledRole = model.index(row, 0).data(ChipTableModel::ControlledRole);
        if (controlled == QLatin1String("Undetermined"))
            QVERIFY(!controlledRole.isValid());
        else
            QCOMPARE(controlledRole.toBool(), controlled == QLatin1String("Yes"));
    }

    void figuresAndTooltips() {
        ChipTableModel model;
        model.setChipsAndEdition(testChips(), edition("2023-10"));
        const int h100 = rowOf(model, QStringLiteral("H100-like"));
        QCOMPARE(model.index(h100, ChipTableModel::TppColumn).data().toString(),
                 QStringLiteral("15,832"));
        QCOMPARE(model.index(h100, ChipTableModel::TppColumn).data(ChipTableModel::SortRole),
                 QVariant(15832.0));
        QVERIFY(model.index(h100, ChipTableModel::TppColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("Reported TPP: 15,832")));
        QVERIFY(!model.index(h100, ChipTableModel::TppColumn).data(Qt::DecorationRole).isValid());
        QCOMPARE(model.index(h100, ChipTableModel::PerformanceDensityColumn).data().toString(),
                 QStringLiteral("19.45"));
        QCOMPARE(model.index(h100, ChipTableModel::BorderlineColumn).data().toString(), QString());
        QCOMPARE(model.index(h100, ChipTableModel::DatacenterColumn).data().toString(),
                 QStringLiteral("Yes"));
        QCOMPARE(model.index(h100, 3).data(ChipTableModel::ChipNameRole).toString(),
                 QStringLiteral("H100-like"));

        // A computed TPP 6.7% off the reported one is flagged.
        const int gap = rowOf(model, QStringLiteral("Gap chip"));
        QVERIFY(model.index(gap, ChipTableModel::TppColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("Gap over 1%")));
        QVERIFY(model.index(gap, ChipTableModel::TppColumn).data(Qt::DecorationRole).isValid());

        // H20: TPP 2,368 is within 2% of the 2,400 of 3A090.b.1.
        const int h20 = rowOf(model, QStringLiteral("H20-like"));
        QCOMPARE(model.index(h20, ChipTableModel::BorderlineColumn).data().toString(),
                 QStringLiteral("Yes"));
        QVERIFY(!model.index(h20, ChipTableModel::BorderlineColumn)
                     .data(Qt::ToolTipRole)
                     .toString()
                     .isEmpty());
        QVERIFY(model.index(h20, 0).data(ChipTableModel::BorderlineRole).toBool());

        const int unknownDie = rowOf(model, QStringLiteral("Unknown die"));
        QCOMPARE(
            model.index(unknownDie, ChipTableModel::PerformanceDensityColumn).data().toString(),
            QStringLiteral("unknown"));
        QVERIFY(!model.index(unknownDie, ChipTableModel::PerformanceDensityColumn)
                     .data(ChipTableModel::SortRole)
                     .isValid());
        const int noRates = rowOf(model, QStringLiteral("No rates"));
        QCOMPARE(model.index(noRates, ChipTableModel::TppColumn).data().toString(),
                 QStringLiteral("unknown"));
        QVERIFY(model.index(noRates, ChipTableModel::ClassColumn)
                    .data()
                    .toString()
                    .startsWith(QStringLiteral("undetermined")));
    }

    void modelsUnderTesterAcrossEditionsFiltersAndSorts() {
        ChipTableModel model;
        ChipFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester sourceTester(
            &model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(
            &proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);

        model.setChips(testChips()); // no edition yet: figures only
        QCOMPARE(proxy.rowCount(), 7);
        QCOMPARE(model.index(0, ChipTableModel::ClassColumn).data().toString(), QString());
        proxy.sort(ChipTableModel::TppColumn, Qt::DescendingOrder);

        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        for (const auto& e : editions_) {
            model.setEdition(e);
            model.setDestination(e.id == "2026-01" ? QString() : QStringLiteral("CN"));
            QVERIFY(!QTest::currentTestFailed());
            QCOMPARE(model.resultAt(0)->edition_id, e.id);
            for (const char* text : {"nvidia", "a.1", "zzz", "", "acme undetermined"}) {
                proxy.setSearchText(QString::fromLatin1(text));
                proxy.setControlledOnly(true);
                proxy.setBorderlineOnly(true);
                proxy.setControlledOnly(false);
                proxy.setBorderlineOnly(false);
            }
            for (int col = 0; col < ChipTableModel::ColumnCount; ++col) {
                proxy.sort(col, Qt::AscendingOrder);
                proxy.sort(col, Qt::DescendingOrder);
            }
            QVERIFY(!QTest::currentTestFailed());
        }
        QCOMPARE(resets.size(), static_cast<qsizetype>(2 * editions_.size()));

        // Unsorted again, then new chips under a filter.
        proxy.sort(-1);
        proxy.setSearchText(QStringLiteral("like"));
        auto chips = testChips();
        chips.pop_back();
        model.setChips(chips);
        QCOMPARE(proxy.rowCount(), 4);
    }

    // Ascending and descending by TPP: numeric order (9,600 before 15,832 though "15,832" sorts
    // first as text), and the chip without a TPP last either way.
    void sortsTppNumerically_data() {
        QTest::addColumn<Qt::SortOrder>("order");
        QTest::newRow("ascending") << Qt::AscendingOrder;
        QTest::newRow("descending") << Qt::DescendingOrder;
    }
    void sortsTppNumerically() {
        QFETCH(Qt::SortOrder, order);
        ChipTableModel model;
        model.setChipsAndEdition(testChips(), edition("2023-10"));
        ChipFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.sort(ChipTableModel::TppColumn, order);

        QCOMPARE(proxy.index(proxy.rowCount() - 1, 0).data().toString(),
                 QStringLiteral("No rates"));
        std::vector<double> tpps;
        for (int row = 0; row + 1 < proxy.rowCount(); ++row) {
            const QVariant tpp =
                proxy.index(row, ChipTableModel::TppColumn).data(ChipTableModel::SortRole);
            QVERIFY(tpp.isValid());
            tpps.push_back(tpp.toDouble());
        }
        if (order == Qt::AscendingOrder)
            QVERIFY(std::is_sorted(tpps.begin(), tpps.end()));
        else
            QVERIFY(std::is_sorted(tpps.rbegin(), tpps.rend()));

        const QStringList names = column(proxy, ChipTableModel::NameColumn);
        const auto gapBeforeH100 =
            names.indexOf(QStringLiteral("Gap chip")) < names.indexOf(QStringLiteral("H100-like"));
        QCOMPARE(gapBeforeH100, order == Qt::AscendingOrder);
    }

    void filtersBySearchText_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("expected");
        const QStringList all{"Gaming-like", "Gap chip", "H100-like",  "H20-like",
                              "L40-like",    "No rates", "Unknown die"};
        const QStringList acme{"No rates", "Unknown die"};
        // clang-format off
        QTest::newRow("empty")                << ""             << all;
        QTest::newRow("only spaces")          << "   "          << all;
        QTest::newRow("name, lower case")     << "h100"         << QStringList{"H100-like"};
        QTest::newRow("name, upper case")     << "H20"          << QStringList{"H20-like"};
        QTest::newRow("vendor")               << "acme"         << acme;
        QTest::newRow("class")                << "3a090.b"      << QStringList{"L40-like"};
        QTest::newRow("class and name words") << "a.1 like"     << QStringList{"H100-like"};
        QTest::newRow("undetermined")         << "undetermined" << acme;
        QTest::newRow("vendor and name")      << "nvidia  l40"  << QStringList{"L40-like"};
        QTest::newRow("no match")             << "zzz"          << QStringList{};
        // clang-format on
    }
    void filtersBySearchText() {
        QFETCH(QString, text);
        QFETCH(QStringList, expected);
        ChipTableModel model;
        model.setChipsAndEdition(testChips(), edition("2023-10"));
        ChipFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSearchText(text);
        QCOMPARE(proxy.searchText(), text);
        proxy.sort(ChipTableModel::NameColumn, Qt::AscendingOrder);
        QCOMPARE(column(proxy, ChipTableModel::NameColumn), expected);
    }

    void filtersByStatus() {
        ChipTableModel model;
        model.setChipsAndEdition(testChips(), edition("2023-10"));
        ChipFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.sort(ChipTableModel::NameColumn, Qt::AscendingOrder);

        proxy.setControlledOnly(true);
        QCOMPARE(column(proxy, ChipTableModel::NameColumn),
                 (QStringList{"Gap chip", "H100-like", "L40-like"}));

        proxy.setControlledOnly(false);
        proxy.setBorderlineOnly(true);
        QStringList borderline;
        for (int row = 0; row < model.rowCount(); ++row)
            if (model.resultAt(row)->borderline)
                borderline << QString::fromStdString(model.chipAt(row)->name);
        borderline.sort(Qt::CaseInsensitive);
        QVERIFY(borderline.contains(QStringLiteral("H20-like")));
        QCOMPARE(column(proxy, ChipTableModel::NameColumn), borderline);

        // Both: controlled and borderline; the H20 is borderline but not controlled.
        proxy.setControlledOnly(true);
        QVERIFY(!column(proxy, ChipTableModel::NameColumn).contains(QStringLiteral("H20-like")));
        proxy.setControlledOnly(false);
        proxy.setBorderlineOnly(false);
        QCOMPARE(proxy.rowCount(), model.rowCount());
    }

    void editionList() {
        EditionListModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setEditions(editions_);
        QCOMPARE(model.rowCount(), static_cast<int>(editions_.size()));
        const auto text = [&](const char* id) {
            const int row = model.rowOfEdition(QString::fromLatin1(id));
            return model.index(row).data().toString();
        };
        QVERIFY(text("2025-01").startsWith(QStringLiteral("2025-01 (not enforced) · ")));
        QVERIFY(text("2025-04").startsWith(QStringLiteral("2025-04 (heuristic) · ")));
        QVERIFY(text("2026-01").startsWith(QStringLiteral("2026-01 · ")));
        const int row = model.rowOfEdition(QStringLiteral("2023-10"));
        QCOMPARE(model.index(row).data(EditionListModel::EditionIdRole).toString(),
                 QStringLiteral("2023-10"));
        QVERIFY(
            model.index(row).data(Qt::ToolTipRole).toString().contains(QStringLiteral("88 FR")));
        QCOMPARE(model.rowOfEdition(QStringLiteral("1999-01")), -1);
        QVERIFY(!model.editionAt(-1));
        model.setEditions({});
        QCOMPARE(model.rowCount(), 0);
    }

    void detailHtml() {
        auto chips = testChips();
        const ChipSpec& chip = chips.front(); // H100-like
        const auto result = analysis::classify(chip, edition("2023-10"));
        QVERIFY(!result.explanation.empty());
        QTextDocument document;
        document.setHtml(chipDetailHtml(chip, result, edition("2023-10"), QPalette()));
        const QString text = document.toPlainText();
        for (const auto& line : result.explanation)
            QVERIFY2(text.contains(QString::fromStdString(line)), line.c_str());
        for (const auto& line : result.remarks)
            QVERIFY2(text.contains(QString::fromStdString(line)), line.c_str());
        QVERIFY(text.contains(QStringLiteral("3A090.a.1, 3A090.a.2")));
        QVERIFY(text.contains(QStringLiteral("test datasheet (confidence: high)")));
        QVERIFY(text.contains(QStringLiteral("vendor slide 15,832 (confidence: medium)")));
        QVERIFY(text.contains(QStringLiteral("Dense FP8 (TFLOPS)")));
        QVERIFY(text.contains(QStringLiteral("88 FR 73458")));
    }

    // A chip whose figures carry other sources' values gets a "Source sensitivity" section
    // (analysis/SourceSensitivity.h): the H800's I/O 300 beside 400 GB/s holds its class; an I/O
    // of 700 GB/s from another source would decide 2022-10's class, and the section says so with
    // classify's line. A chip without alternatives has no such section.
    void detailHtmlSourceSensitivity() {
        const std::vector<ChipSpec> chips = testing::bundledChips();
        const auto named = [&](const char* name) {
            const auto it = std::find_if(chips.begin(), chips.end(),
                                         [&](const ChipSpec& c) { return c.name == name; });
            if (it == chips.end())
                qFatal("chip %s missing from the bundled data", name);
            return *it;
        };
        const auto text = [&](const ChipSpec& chip, const char* editionId) {
            const auto result = analysis::classify(chip, edition(editionId));
            QTextDocument document;
            document.setHtml(chipDetailHtml(chip, result, edition(editionId), QPalette()));
            return document.toPlainText();
        };
        ChipSpec h800 = named("H800 SXM5 (China)");
        QVERIFY(!h800.alternatives.empty());
        const QString held = text(h800, "2022-10");
        QVERIFY2(held.contains(QStringLiteral("Source sensitivity")), qPrintable(held));
        QVERIFY(held.contains(QStringLiteral("the class and flags hold whichever source is "
                                             "believed")));
        QVERIFY(!held.contains(QStringLiteral("Source-dependent")));
        QVERIFY(held.contains(QStringLiteral("one source says 300 GB/s")));

        h800.alternatives.push_back(
            {"io_bidirectional_gb_per_s", 700, "a source that says 700 GB/s", "low"});
        const analysis::Edition& e2022 = edition("2022-10");
        const auto stored = analysis::classify(h800, e2022);
        const auto lines = analysis::sourceSensitivityLines(
            analysis::sourceSensitivity(h800, e2022, stored), stored);
        QVERIFY(!lines.empty());
        const QString sensitive = text(h800, "2022-10");
        QVERIFY(sensitive.contains(QStringLiteral("Source-dependent")));
        QVERIFY(
            sensitive.contains(QStringLiteral("the class depends on which source is believed")));
        for (const std::string& line : lines)
            QVERIFY2(sensitive.contains(QString::fromStdString(line)), line.c_str());

        const QString h20 = text(named("H20 (China)"), "2026-01");
        QVERIFY(named("H20 (China)").alternatives.empty());
        QVERIFY(!h20.contains(QStringLiteral("Source sensitivity")));
    }

    // The licence column: what determineLicense answers for the chosen destination, in words,
    // with its basis in the tooltip and the detail pane; no destination, no answer.
    void licenseColumn_data() {
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("destination");
        QTest::addColumn<QString>("chip");
        QTest::addColumn<QString>("expected"); // the display text, or its start ("Depends")
        // clang-format off
        QTest::newRow("H100 to CN, 2026-01") << "2026-01" << "CN" << "H100-like" << "Required: case-by-case";
        QTest::newRow("H100 to CN, 2023-10") << "2023-10" << "CN" << "H100-like" << "Required: presumption of denial";
        QTest::newRow("H100 to DE")          << "2026-01" << "DE" << "H100-like" << "Not required";
        QTest::newRow("H20 to CN, 2025-04")  << "2025-04" << "CN" << "H20 (China)" << "Required";
        QTest::newRow("H20 to CN, 2026-01")  << "2026-01" << "CN" << "H20 (China)" << "Required: case-by-case";
        QTest::newRow("H20 to CN, 2023-10")  << "2023-10" << "CN" << "H20 (China)" << "Not required";
        QTest::newRow("die area unknown")    << "2023-10" << "CN" << "Unknown die" << "Depends";
        QTest::newRow("no destination")      << "2026-01" << ""   << "H100-like" << "";
        // clang-format on
    }
    void licenseColumn() {
        QFETCH(QString, edition);
        QFETCH(QString, destination);
        QFETCH(QString, chip);
        QFETCH(QString, expected);
        ChipTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        // The 2025-04 letters name the H20 (a chip only near its figures is a "depends") and
        // the 2026-01 box tests memory bandwidth and I/O too.
        auto chips = testChips();
        for (auto& c : chips)
            if (c.name == "H100-like" || c.name == "H20-like") {
                c.memory_bandwidth_gb_per_s = c.name == "H100-like" ? 3350 : 4000;
                c.io_bidirectional_gb_per_s = 900;
                if (c.name == "H20-like")
                    c.name = "H20 (China)";
            }
        model.setChipsAndEdition(chips, this->edition(edition.toLatin1().constData()));
        model.setDestination(destination.toLower()); // codes are case-insensitive
        QCOMPARE(model.destination(), destination);
        const int row = rowOf(model, chip);
        const QString shown = model.index(row, ChipTableModel::LicenseColumn).data().toString();
        if (expected == QLatin1String("Depends"))
            QVERIFY2(shown.startsWith(expected), qPrintable(shown));
        else
            QCOMPARE(shown, expected);
        const auto* license = model.licenseAt(row);
        QCOMPARE(license != nullptr, !destination.isEmpty());
        const QString header =
            model.headerData(ChipTableModel::LicenseColumn, Qt::Horizontal).toString();
        QCOMPARE(header, destination.isEmpty() ? QStringLiteral("License")
                                               : QStringLiteral("License to ") + destination);
        if (!license)
            return;
        const QString tip =
            model.index(row, ChipTableModel::LicenseColumn).data(Qt::ToolTipRole).toString();
        for (const auto& line : license->basis)
            QVERIFY2(tip.contains(QString::fromStdString(line)), line.c_str());
        QVERIFY(model.index(row, ChipTableModel::LicenseColumn)
                    .data(Qt::DecorationRole)
                    .canConvert<QColor>());
        QTextDocument document;
        document.setHtml(chipDetailHtml(*model.chipAt(row), *model.resultAt(row), *model.edition(),
                                        QPalette(), {}, license));
        const QString text = document.toPlainText();
        QVERIFY2(text.contains(QStringLiteral("License to ")), qPrintable(text));
        for (const auto& line : license->basis)
            QVERIFY2(text.contains(QString::fromStdString(line)), line.c_str());
    }

    // The capability column: projected DeepSeek-V3 decode beside the class; the H20 (not
    // controlled) out-decodes the controlled H100, sorts above it, and says so in H100s.
    void capabilityColumn() {
        ChipTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        std::vector<crossroads::analysis::ChipSpec> chips = {
            crossroads::testing::bundledChip("H100 SXM5 80GB"),
            crossroads::testing::bundledChip("H20 (China)")};
        crossroads::analysis::ChipSpec unknown = chips[1];
        unknown.name = "No bandwidth";
        unknown.memory_bandwidth_gb_per_s.reset();
        chips.push_back(unknown);
        model.setChipsAndEdition(chips, edition("2026-01"));
        const auto at = [&](const char* chip, int role) {
            return model
                .index(rowOf(model, QString::fromLatin1(chip)), ChipTableModel::CapabilityColumn)
                .data(role);
        };
        const double h100 = at("H100 SXM5 80GB", ChipTableModel::SortRole).toDouble();
        const double h20 = at("H20 (China)", ChipTableModel::SortRole).toDouble();
        QVERIFY2(std::fabs(h100 - 89) < 3, qPrintable(QString::number(h100)));
        QVERIFY(h20 > h100 * 1.15);
        QCOMPARE(at("H100 SXM5 80GB", Qt::DisplayRole).toString(),
                 QString::number(std::round(h100 * 10) / 10));
        QVERIFY(!at("No bandwidth", ChipTableModel::SortRole).isValid()); // sorts last
        QCOMPARE(at("No bandwidth", Qt::DisplayRole).toString(), QStringLiteral("unknown"));
        QVERIFY(at("No bandwidth", Qt::ToolTipRole).toString().contains("bandwidth unknown"));
        const QString tip = at("H20 (China)", Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("H100-equivalents: 1.")) && tip.contains("by TPP"),
                 qPrintable(tip));
    }

    // An unknown code is refused, naming it, and the table keeps its destination.
    void licenseColumnRefusesUnknownCode() {
        ChipTableModel model;
        model.setChipsAndEdition(testChips(), edition("2026-01"));
        model.setDestination(QStringLiteral("CN"));
        bool refused = false;
        try {
            model.setDestination(QStringLiteral("XX"));
        } catch (const analysis::LicenseQueryError& e) {
            refused = QString::fromUtf8(e.what()).contains(QStringLiteral("XX"));
        }
        QVERIFY(refused);
        QCOMPARE(model.destination(), QStringLiteral("CN"));
        QVERIFY(model.licenseAt(0) != nullptr);
    }

    void detailHtmlEscapesData() {
        ChipSpec chip = makeChip("<b>Evil</b> & Co", "<script>", 100, std::nullopt, 100);
        chip.sources.push_back({"tpp_reported", "a <i>source</i>", "\"high\""});
        chip.notes = "x < y";
        const auto result = analysis::classify(chip, edition("2023-10"));
        const QString html = chipDetailHtml(chip, result, edition("2023-10"), QPalette());
        QVERIFY(!html.contains(QStringLiteral("<b>Evil")));
        QVERIFY(!html.contains(QStringLiteral("<script>")));
        QVERIFY(!html.contains(QStringLiteral("<i>source")));
        QTextDocument document;
        document.setHtml(html);
        const QString text = document.toPlainText();
        QVERIFY(text.contains(QStringLiteral("<b>Evil</b> & Co")));
        QVERIFY(text.contains(QStringLiteral("a <i>source</i>")));
        QVERIFY(text.contains(QStringLiteral("x < y")));
    }
};

QTEST_MAIN(TestGuiModels)
#include "test_gui_models.moc"
