#include "analysis/Capability.h"
#include "analysis/Classifier.h"
#include "app/charts/ChartExport.h"
#include "app/charts/ChartKind.h"
#include "app/charts/ChipChart.h"
#include "app/charts/LabelPlacer.h"
#include "app/charts/ZoneMap.h"
#include "tests/common/ReferenceData.h"

#include <QImage>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QTest>

using namespace crossroads;
using charts::ChartKind;

namespace {

const analysis::Edition& edition(const std::vector<analysis::Edition>& all, const char* id) {
    const analysis::Edition* e = analysis::findEdition(all, id);
    if (!e)
        throw std::runtime_error(std::string("no edition ") + id);
    return *e;
}

const charts::ZoneCell* cellAt(const std::vector<charts::ZoneCell>& cells, double tpp, double y) {
    for (const charts::ZoneCell& c : cells)
        if (tpp >= c.tpp_from && tpp < c.tpp_to && y >= c.y_from && y < c.y_to)
            return &c;
    return nullptr;
}

charts::ChartInputs bundledInputs(const char* editionId) {
    charts::ChartInputs in;
    in.chips = testing::bundledChips();
    in.editions = testing::bundledEditions();
    in.edition_id = editionId;
    return in;
}

// The graphs of a chart drawn in one of its legends, by name.
QStringList legendNames(const QCustomPlot& chart) {
    QStringList names;
    for (int i = 0; i < chart.graphCount(); ++i)
        for (QCPAxisRect* rect : chart.axisRects())
            for (int e = 0; e < rect->insetLayout()->elementCount(); ++e)
                if (auto* l = qobject_cast<QCPLegend*>(rect->insetLayout()->elementAt(e));
                    l && l->hasItemWithPlottable(chart.graph(i)))
                    names << chart.graph(i)->name();
    return names;
}

int overlappingPairs(const std::vector<QRectF>& rects) {
    int n = 0;
    for (size_t i = 0; i < rects.size(); ++i)
        for (size_t j = i + 1; j < rects.size(); ++j)
            if (rects[i].intersects(rects[j]))
                ++n;
    return n;
}

} // namespace

class ChartsTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void thresholdsComeFromTheEdition();
    void zonesAreTheClassifiersAnswer_data();
    void zonesAreTheClassifiersAnswer();
    void zonesFollowAnEditedThreshold();
    void stripZonesNeedOnlyTpp();
    void bandwidthRegionsOfTheEditions();
    void labelsNeverCollide();
    void labelPlacerSaysWhenItCannot();
    void everyKindExportsInEveryFormat_data();
    void everyKindExportsInEveryFormat();
    void tppPdPlotsEveryChipWithARate();
    void chipLabelsDoNotCollideOnTheChart();
    void capabilityShowsTheHeadline();
    void capabilityOverlaysTheLocalMeasurement();
    void capabilityWithoutResultsSaysSo();
    void the2022EditionIsDrawnOnItsIoPlane();
    void hitTestingAndSelection();
    void badExportsAreRefused();
    void benchHistoryReadsSavedResults();
};

void ChartsTest::thresholdsComeFromTheEdition() {
    const auto editions = testing::bundledEditions();
    const auto& e = edition(editions, "2023-10");
    QCOMPARE(charts::criterionThresholds(e, "tpp"), (std::vector<double>{1600, 2400, 4800}));
    QCOMPARE(charts::criterionThresholds(e, "performance_density"),
             (std::vector<double>{1.6, 3.2, 5.92}));
    QVERIFY(charts::editionTests(edition(editions, "2022-10"), "io_bidirectional_gb_per_s"));
    QVERIFY(!charts::editionTests(edition(editions, "2022-10"), "performance_density"));
}

void ChartsTest::zonesAreTheClassifiersAnswer_data() {
    QTest::addColumn<QString>("editionId");
    QTest::addColumn<bool>("datacenter");
    QTest::addColumn<double>("tpp");
    QTest::addColumn<double>("y");
    QTest::addColumn<QString>("paragraph");
    QTest::addColumn<QString>("clause");
    // 2023-10 (88 FR 73458): docs/reference/export-rules.md, the clause table.
    QTest::newRow("H100-like") << "2023-10" << true << 15832.0 << 19.4 << "a"
                               << "3A090.a.1";
    QTest::newRow("dense, mid TPP") << "2023-10" << true << 2000.0 << 7.0 << "a"
                                    << "3A090.a.2";
    QTest::newRow("b.1") << "2023-10" << true << 3000.0 << 2.0 << "b"
                         << "3A090.b.1";
    QTest::newRow("b.2") << "2023-10" << true << 1800.0 << 4.0 << "b"
                         << "3A090.b.2";
    QTest::newRow("H20-like") << "2023-10" << true << 2368.0 << 2.91 << "none"
                              << "";
    QTest::newRow("under 1600") << "2023-10" << true << 1500.0 << 50.0 << "none"
                                << "";
    QTest::newRow("Note 2, non-DC") << "2023-10" << false << 3000.0 << 2.0 << "none"
                                    << "";
    QTest::newRow("non-DC over 4800") << "2023-10" << false << 5000.0 << 1.0 << "a"
                                      << "3A090.a.1";
    // 2022-10 (87 FR 62186): I/O and TPP.
    QTest::newRow("A800-like") << "2022-10" << true << 4992.0 << 400.0 << "none"
                               << "";
    QTest::newRow("A100-like") << "2022-10" << true << 4992.0 << 600.0 << "a"
                               << "3A090.a.1";
}

void ChartsTest::zonesAreTheClassifiersAnswer() {
    QFETCH(QString, editionId);
    QFETCH(bool, datacenter);
    QFETCH(double, tpp);
    QFETCH(double, y);
    QFETCH(QString, paragraph);
    QFETCH(QString, clause);
    const auto editions = testing::bundledEditions();
    const auto& e = edition(editions, editionId.toLatin1().constData());
    const auto axis = charts::editionTests(e, "performance_density")
                          ? charts::ZoneAxis::PerformanceDensity
                          : charts::ZoneAxis::IoBandwidth;
    const auto cells = charts::zoneCells(e, axis, 100, 1e5, 0.1, 1e4, datacenter);
    const charts::ZoneCell* c = cellAt(cells, tpp, y);
    QVERIFY(c);
    QCOMPARE(QString::fromStdString(c->paragraph), paragraph);
    if (!clause.isEmpty())
        QVERIFY(std::find(c->classes.begin(), c->classes.end(), clause.toStdString()) !=
                c->classes.end());
}

void ChartsTest::zonesFollowAnEditedThreshold() {
    // A scenario-like edit: 3A090.a.1 at TPP >= 4000 instead of 4800 moves the zone's edge.
    auto editions = testing::bundledEditions();
    analysis::Edition e = edition(editions, "2023-10");
    bool edited = false;
    for (analysis::Clause& c : e.clauses)
        if (c.id == "3A090.a.1" && c.when.kind == analysis::Condition::Kind::Leaf) {
            c.when.criterion.threshold = 4000.0;
            edited = true;
        }
    QVERIFY(edited);
    const auto cells =
        charts::zoneCells(e, charts::ZoneAxis::PerformanceDensity, 100, 1e5, 0.1, 100, true);
    QCOMPARE(cellAt(cells, 4400, 1.0)->paragraph, std::string("a"));
    const auto original =
        charts::zoneCells(edition(editions, "2023-10"), charts::ZoneAxis::PerformanceDensity, 100,
                          1e5, 0.1, 100, true);
    QCOMPARE(cellAt(original, 4400, 1.0)->paragraph, std::string("none"));
}

void ChartsTest::stripZonesNeedOnlyTpp() {
    const auto editions = testing::bundledEditions();
    const auto strip = charts::zoneStrip(edition(editions, "2023-10"),
                                         charts::ZoneAxis::PerformanceDensity, 100, 1e5, true);
    auto at = [&](double tpp) {
        for (const auto& c : strip)
            if (tpp >= c.tpp_from && tpp < c.tpp_to)
                return c.paragraph;
        return std::string("?");
    };
    QCOMPARE(at(20000), std::string("a"));   // TPP >= 4800 settles it without a die area
    QCOMPARE(at(3000), std::string(""));     // .b or not depends on the density
    QCOMPARE(at(1000), std::string("none")); // under every TPP line
}

void ChartsTest::bandwidthRegionsOfTheEditions() {
    const auto regions = charts::bandwidthRegions(testing::bundledEditions());
    bool line = false, box = false;
    for (const auto& r : regions) {
        if (r.edition_id == "2025-04" && r.bandwidth_at_least == 4000.0 && !r.tpp_below)
            line = true;
        if (r.edition_id == "2026-01" && r.tpp_below == 21000.0 && r.bandwidth_below == 6500.0)
            box = true;
    }
    QVERIFY2(line, "the 2025-04 H20 line (4,000 GB/s)");
    QVERIFY2(box, "the 2026-01 box (TPP < 21,000, bandwidth < 6,500 GB/s)");
}

void ChartsTest::labelsNeverCollide() {
    QRandomGenerator rng(7);
    std::vector<charts::LabelRequest> requests;
    const QRectF bounds(0, 0, 1200, 800);
    for (int i = 0; i < 60; ++i) {
        // Two tight clusters and a scatter: the shapes of a TPP/PD plot.
        const QPointF centre = i < 20   ? QPointF(800, 200)
                               : i < 35 ? QPointF(300, 600)
                                        : QPointF(0, 0);
        const QPointF p = i < 35 ? centre + QPointF(rng.bounded(60.0) - 30, rng.bounded(60.0) - 30)
                                 : QPointF(rng.bounded(1100.0) + 50, rng.bounded(700.0) + 50);
        requests.push_back({p, QSizeF(60 + rng.bounded(60.0), 12)});
    }
    const auto placed = charts::placeLabels(requests, bounds, 4.0);
    QCOMPARE(placed.size(), requests.size());
    std::vector<QRectF> rects;
    for (size_t i = 0; i < placed.size(); ++i) {
        QVERIFY2(!placed[i].overlaps, qPrintable(QStringLiteral("label %1 found no room").arg(i)));
        QVERIFY(bounds.contains(placed[i].rect));
        rects.push_back(placed[i].rect);
        for (const auto& r : requests) // no label covers a marker
            QVERIFY(!placed[i].rect.intersects(QRectF(r.anchor - QPointF(4, 4), QSizeF(8, 8))));
    }
    QCOMPARE(overlappingPairs(rects), 0);
}

void ChartsTest::labelPlacerSaysWhenItCannot() {
    // Two labels wider than the plot: the second cannot be free.
    std::vector<charts::LabelRequest> requests = {{QPointF(50, 50), QSizeF(90, 90)},
                                                  {QPointF(50, 50), QSizeF(90, 90)}};
    const auto placed = charts::placeLabels(requests, QRectF(0, 0, 100, 100), 2.0);
    QVERIFY(placed[0].overlaps || placed[1].overlaps);
}

void ChartsTest::everyKindExportsInEveryFormat_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("extension");
    for (charts::ChartKind k : charts::allChartKinds())
        for (const char* ext : {"png", "pdf", "svg"}) {
            const QString key = QString::fromLatin1(charts::chartKindKey(k).data());
            QTest::newRow(qPrintable(key + QLatin1Char('.') + QLatin1String(ext)))
                << key << QString::fromLatin1(ext);
        }
}

void ChartsTest::everyKindExportsInEveryFormat() {
    QFETCH(QString, kind);
    QFETCH(QString, extension);
    QTemporaryDir dir;
    charts::ChartInputs in = bundledInputs("2023-10");
    in.bench_runs.push_back({QDateTime(QDate(2026, 11, 1), QTime(9, 0), Qt::UTC), "cpu", "cpu",
                             "qwen3", "bf16", 300.0, 12.0, 0.93, 21.0});
    in.bench_runs.push_back({QDateTime(QDate(2026, 11, 20), QTime(9, 0), Qt::UTC), "cpu", "cpu",
                             "qwen3", "bf16", 420.0, 13.5, 0.95, 23.5});
    const QString path = dir.filePath(QStringLiteral("chart.") + extension);
    const charts::ExportSize size{1200, 800, extension == QLatin1String("png") ? 2.0 : 1.0};
    charts::exportChart(*charts::chartKindFromKey(kind.toStdString()), in,
                        charts::ChartTheme::light(), path, size);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    if (extension == QLatin1String("png")) {
        const QImage image = QImage::fromData(bytes, "PNG");
        QCOMPARE(image.size(), QSize(2400, 1600));
        // Not blank: the chart draws in more than a handful of colours.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        QVERIFY2(colours.size() > 20, qPrintable(QString::number(colours.size())));
    } else if (extension == QLatin1String("pdf")) {
        QVERIFY(bytes.startsWith("%PDF"));
        const QRegularExpression box(QStringLiteral("/MediaBox \\[0 0 ([0-9.]+) ([0-9.]+)\\]"));
        const auto m = box.match(QString::fromLatin1(bytes));
        QVERIFY(m.hasMatch());
        QVERIFY(qAbs(m.captured(1).toDouble() / m.captured(2).toDouble() - 1.5) < 0.01);
        // Vector: a raster of the whole page would be an image XObject far larger than this.
        QVERIFY(!bytes.contains("/Subtype /Image"));
    } else {
        QSvgRenderer svg(bytes);
        QVERIFY(svg.isValid());
        QCOMPARE(svg.viewBoxF(), QRectF(0, 0, 1200, 800));
        QVERIFY(bytes.contains("<text") || bytes.contains("<path"));
    }
}

void ChartsTest::tppPdPlotsEveryChipWithARate() {
    const charts::ChartInputs in = bundledInputs("2023-10");
    charts::ChipChart chart;
    chart.setViewport(QRect(0, 0, 1600, 1000));
    chart.showChart(ChartKind::TppPd, in);
    const auto editions = testing::bundledEditions();
    int expected = 0;
    for (const auto& c : in.chips) {
        const auto r = analysis::classify(c, edition(editions, "2023-10"));
        if (c.kind != analysis::ChipKind::Hbm && r.tppValue() && *r.tppValue() > 0) {
            ++expected;
            QVERIFY2(chart.plottedChips().contains(QString::fromStdString(c.name)), c.name.c_str());
        } else {
            QVERIFY(chart.footnote().contains(QString::fromStdString(c.name)));
        }
    }
    QCOMPARE(chart.plottedChips().size(), expected);
    // No die area: in the "PD unknown" strip, at its TPP.
    QVERIFY(chart.toolTipFor(QStringLiteral("B200")).contains(QStringLiteral("PD unknown")));
    QVERIFY(
        chart.toolTipFor(QStringLiteral("H20 (China)")).contains(QStringLiteral("outside 3A090")));
}

void ChartsTest::chipLabelsDoNotCollideOnTheChart() {
    for (ChartKind kind : {ChartKind::TppPd, ChartKind::BandwidthTpp}) {
        charts::ChipChart chart;
        chart.setViewport(QRect(0, 0, 1600, 1000));
        chart.showChart(kind, bundledInputs("2026-01"));
        chart.toPixmap(1600, 1000); // lays out at this size
        const auto rects = chart.chipLabelRects();
        QCOMPARE(int(rects.size()), int(chart.plottedChips().size()));
        QCOMPARE(overlappingPairs(rects), 0);
    }
}

void ChartsTest::capabilityShowsTheHeadline() {
    // The H20, outside 3A090 since 2023 (4.0 TB/s), out-decodes the controlled H100 SXM
    // (3.35 TB/s) on DeepSeek-V3: docs/reference/moe-inference.md, 107 vs 89 tokens/s.
    charts::ChipChart chart;
    chart.setViewport(QRect(0, 0, 1600, 1000));
    chart.showChart(ChartKind::Capability, bundledInputs("2026-01"));
    QVERIFY2(chart.chartSubtitle().contains(QStringLiteral("Outside 3A090, H20 (China)")) &&
                 chart.chartSubtitle().contains(QStringLiteral("H100 SXM5 80GB")),
             qPrintable(chart.chartSubtitle()));
    QVERIFY(chart.toolTipFor(QStringLiteral("H20 (China)")).contains(QStringLiteral("DeepSeek")));
}

void ChartsTest::capabilityOverlaysTheLocalMeasurement() {
    // Through the store, as the window, the CLI and the report read it: a CUDA run on an H200
    // whose decode achieved 60% of the datasheet bandwidth, and a CPU run (no chip of the store).
    QTemporaryDir dir;
    data::Store store(dir.filePath(QStringLiteral("store.sqlite")));
    const analysis::ChipSpec h200 = *store.chip(QStringLiteral("H200 SXM 141GB"));
    const double datasheet = *h200.memory_bandwidth_gb_per_s;
    const std::string gpu = R"({"model": "preset:deepseek-v3?layers=2", "backend": "cuda",
      "device": "NVIDIA H200", "dtype": "fp8", "phases": [{"phase": "prefill",
      "tokens_per_s": 900.0}, {"phase": "decode", "tokens_per_s": 50.0, "achieved_gb_per_s": )" +
                            std::to_string(0.6 * datasheet) + "}]}";
    store.saveBenchmarkResult(QStringLiteral("NVIDIA H200"), QStringLiteral("cuda"),
                              QStringLiteral("preset:deepseek-v3?layers=2"), QStringLiteral("fp8"),
                              gpu);
    store.saveBenchmarkResult(QStringLiteral("AMD EPYC 9B14"), QStringLiteral("cpu"),
                              QStringLiteral("preset:olmoe-1b-7b?layers=1"), QStringLiteral("bf16"),
                              R"({"phases": [{"phase": "decode", "tokens_per_s": 20.0,
                                  "achieved_gb_per_s": 30.0}]})");
    const QString today = QDateTime::currentDateTimeUtc().date().toString(Qt::ISODate);
    charts::ChipChart chart;
    chart.setViewport(QRect(0, 0, 1600, 1000));
    chart.showChart(ChartKind::Capability, charts::chartInputsFromStore(store, "2026-01"));
    chart.toPixmap(1600, 1000);

    // The overlay: a hollow diamond at the calibrated decode of the H200, with its legend entry.
    const QString entry = QStringLiteral("measured on NVIDIA H200 (%1)").arg(today);
    QVERIFY2(legendNames(chart).contains(entry), qPrintable(legendNames(chart).join(" | ")));
    const auto editions = store.editions();
    const analysis::Edition& e = edition(editions, "2026-01");
    const analysis::CapabilityIndex index = analysis::capabilityIndex(h200, h200, e.bit_lengths);
    QCPGraph* overlay = nullptr;
    for (int i = 0; i < chart.graphCount(); ++i)
        if (chart.graph(i)->name() == entry)
            overlay = chart.graph(i);
    QVERIFY(overlay);
    QCOMPARE(overlay->scatterStyle().shape(), QCPScatterStyle::ssDiamond);
    QCOMPARE(overlay->scatterStyle().brush().style(), Qt::NoBrush);
    QCOMPARE(overlay->dataCount(), 1);
    QCOMPARE(overlay->data()->at(0)->key, *analysis::classify(h200, e).tppValue());
    QVERIFY(qAbs(overlay->data()->at(0)->value / *index.deepseek_v3_decode_tokens_per_s - 0.6) <
            1e-9);
    // The note says how: model, phase, fraction; the CPU run stays the local line.
    const QString note = chart.footnote();
    for (const char* words :
         {"Measured on NVIDIA H200", "preset:deepseek-v3?layers=2 fp8", "the decode phase achieved",
          "60% of roofline", "calibrated DeepSeek-V3 decode = projected", "no chip of the store"})
        QVERIFY2(note.contains(QLatin1String(words)), qPrintable(note));
    QVERIFY(!note.contains(QStringLiteral("No local measurement")));
    // The headline stays: the H20 and the H100 among the chips, every chip labelled, none
    // colliding.
    QVERIFY(chart.plottedChips().contains(QStringLiteral("H20 (China)")));
    QVERIFY(chart.plottedChips().contains(QStringLiteral("H100 SXM5 80GB")));
    const auto rects = chart.chipLabelRects();
    QCOMPARE(int(rects.size()), int(chart.plottedChips().size()));
    QCOMPARE(overlappingPairs(rects), 0);
}

void ChartsTest::capabilityWithoutResultsSaysSo() {
    charts::ChipChart chart;
    chart.setViewport(QRect(0, 0, 1600, 1000));
    chart.showChart(ChartKind::Capability, bundledInputs("2026-01"));
    QVERIFY2(chart.footnote().contains(QStringLiteral("No local measurement in the store")),
             qPrintable(chart.footnote()));
    for (const QString& name : legendNames(chart))
        QVERIFY2(!name.startsWith(QStringLiteral("measured on")), qPrintable(name));
    QVERIFY(!chart.footnote().contains(QStringLiteral("Measured on")));
    chart.toPixmap(1600, 1000);
    const auto rects = chart.chipLabelRects();
    QCOMPARE(int(rects.size()), int(chart.plottedChips().size()));
    QCOMPARE(overlappingPairs(rects), 0);
}

void ChartsTest::the2022EditionIsDrawnOnItsIoPlane() {
    charts::ChipChart chart;
    chart.setViewport(QRect(0, 0, 1600, 1000));
    chart.showChart(ChartKind::TppPd, bundledInputs("2022-10"));
    QVERIFY(chart.chartSubtitle().contains(QStringLiteral("tests I/O")));
    QVERIFY(chart.toolTipFor(QStringLiteral("A800 SXM4 80GB (China)"))
                .contains(QStringLiteral("outside 3A090")));
}

void ChartsTest::hitTestingAndSelection() {
    charts::ChipChart chart;
    chart.resize(1600, 1000);
    chart.setViewport(QRect(0, 0, 1600, 1000));
    chart.showChart(ChartKind::TppPd, bundledInputs("2023-10"));
    chart.toPixmap(1600, 1000);
    const QString h20 = QStringLiteral("H20 (China)");
    const auto at = chart.chipPixel(h20);
    QVERIFY(at);
    QCOMPARE(chart.chipAt(*at), h20);
    QCOMPARE(chart.chipAt(QPointF(2, 2)), QString());
    QSignalSpy clicked(&chart, &charts::ChipChart::chipClicked);
    QTest::mouseClick(&chart, Qt::LeftButton, {}, at->toPoint());
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(clicked.first().first().toString(), h20);
    QCOMPARE(chart.selectedChip(), h20);
    QVERIFY(!chart.selectChip(QStringLiteral("no such chip")));
    // Timeline rows hit by their row.
    chart.showChart(ChartKind::Timeline, bundledInputs("2023-10"));
    chart.toPixmap(1600, 1000);
    const auto row = chart.chipPixel(h20);
    QVERIFY(row);
    QCOMPARE(chart.chipAt(*row), h20);
    QVERIFY(chart.toolTipFor(h20).contains(QStringLiteral("designed around 2023-10")));
}

void ChartsTest::badExportsAreRefused() {
    QTemporaryDir dir;
    const auto in = bundledInputs("2023-10");
    const auto theme = charts::ChartTheme::light();
    QVERIFY_THROWS_EXCEPTION(charts::ChartError,
                             charts::exportChart(ChartKind::TppPd, in, theme,
                                                 dir.filePath(QStringLiteral("c.jpg")), {}));
    QVERIFY_THROWS_EXCEPTION(
        charts::ChartError, charts::exportChart(ChartKind::TppPd, in, theme,
                                                dir.filePath(QStringLiteral("missing/c.png")), {}));
    QVERIFY_THROWS_EXCEPTION(charts::ChartError,
                             charts::exportChart(ChartKind::TppPd, in, theme,
                                                 dir.filePath(QStringLiteral("c.png")),
                                                 {50, 800, 1.0}));
    auto unknown = in;
    unknown.edition_id = "1999-01";
    QVERIFY_THROWS_EXCEPTION(charts::ChartError,
                             charts::exportChart(ChartKind::TppPd, unknown, theme,
                                                 dir.filePath(QStringLiteral("c.png")), {}));
    // An existing file survives a failed export.
    const QString kept = dir.filePath(QStringLiteral("kept.png"));
    QFile f(kept);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("old");
    f.close();
    QVERIFY_THROWS_EXCEPTION(charts::ChartError,
                             charts::exportChart(ChartKind::BenchHistory, in, theme, kept, {}));
    QFile again(kept);
    QVERIFY(again.open(QIODevice::ReadOnly));
    QCOMPARE(again.readAll(), QByteArray("old"));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 1);
}

void ChartsTest::benchHistoryReadsSavedResults() {
    data::Store::BenchmarkRecord good;
    good.created_at = QStringLiteral("2026-11-02T10:00:00Z");
    good.device = QStringLiteral("cpu");
    good.result_json = R"({"phases": [{"phase": "prefill", "tokens_per_s": 450.0},
        {"phase": "decode", "tokens_per_s": 12.5, "fraction_of_measured_bandwidth": 0.94},
        {"phase": "decode", "tokens_per_s": 9.0, "fraction_of_measured_bandwidth": 0.9}]})";
    data::Store::BenchmarkRecord broken = good;
    broken.result_json = "not json";
    const auto runs = charts::benchRunsFromRecords({good, broken});
    QCOMPARE(runs.size(), size_t(1));
    QCOMPARE(*runs[0].prefill_tokens_per_s, 450.0);
    QCOMPARE(*runs[0].decode_tokens_per_s, 12.5); // the first decode phase: the shortest context
    QCOMPARE(*runs[0].decode_fraction_of_measured_bandwidth, 0.94);
    QCOMPARE(runs[0].at, QDateTime(QDate(2026, 11, 2), QTime(10, 0), Qt::UTC));
    charts::ChartInputs in = bundledInputs("2023-10");
    in.bench_runs = runs;
    in.device = QStringLiteral("another device");
    charts::ChipChart chart;
    QVERIFY_THROWS_EXCEPTION(charts::ChartError, chart.showChart(ChartKind::BenchHistory, in));
}

QTEST_MAIN(ChartsTest)
#include "test_charts.moc"
