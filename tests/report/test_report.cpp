#include "analysis/SourceSensitivity.h"
#include "app/report/Report.h"
#include "tests/common/ReferenceData.h"

#include <QApplication>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace crossroads;

namespace {

report::ReportInputs inputs(const char* a, const char* b) {
    report::ReportInputs in;
    in.data.chips = testing::bundledChips();
    in.data.editions = testing::bundledEditions();
    in.baseline = a;
    in.vs = b;
    in.bibliography = {{"EPOCH", "Epoch AI, Data on Machine Learning Hardware", "", ""},
                       {"NOT-CITED", "A source no chip cites", "", ""}};
    in.store_path = QStringLiteral("/tmp/test.sqlite");
    in.schema_version = 2;
    in.app_version = QStringLiteral("test");
    in.generated = QDateTime(QDate(2026, 12, 2), QTime(10, 0), Qt::UTC);
    return in;
}

} // namespace

class TestReport : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everySectionIsThere() {
        std::map<QString, QImage> images;
        const QString html = report::reportHtml(inputs("2022-10", "2023-10"), images);
        for (const report::ReportSection& s : report::reportSections())
            QVERIFY2(html.contains(QStringLiteral("<h2 id=\"%1\">").arg(s.id)), qPrintable(s.id));
        // tpp-pd of both, bandwidth-tpp, timeline, capability
        QCOMPARE(images.size(), size_t(5));
        QVERIFY(images.count(QStringLiteral("capability")));
        QVERIFY(html.contains(QStringLiteral("<img src=\"chart:capability\"")));
        for (const auto& [name, image] : images)
            QVERIFY2(image.width() >= 1600, qPrintable(name));
        // What changes, with its direction, and the figures' sources with full citations.
        QVERIFY(html.contains(QStringLiteral("<b>A800 SXM4 80GB (China)</b>")));
        QVERIFY(html.contains(QStringLiteral("tightened")));
        QVERIFY(html.contains(QStringLiteral("Epoch AI, Data on Machine Learning Hardware")));
        QVERIFY(!html.contains(QStringLiteral("A source no chip cites")));
        QVERIFY(html.contains(QStringLiteral("2026-12-02T10:00:00Z")));
        QVERIFY(html.contains(QStringLiteral("87 FR 62186")));
    }

    void writesPdfAndSelfContainedHtml() {
        QTemporaryDir dir;
        const QString pdf = dir.filePath(QStringLiteral("r.pdf"));
        report::writeReport(inputs("2023-10", "2026-01"), pdf);
        QFile f(pdf);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY(bytes.startsWith("%PDF"));
        // A4 pages, several of them (title, tables, charts, sources).
        QVERIFY(bytes.contains("/MediaBox [0 0 595"));
        QVERIFY(bytes.count("/Type /Page\n") + bytes.count("/Type /Page ") +
                    bytes.count("/Type /Page\r") >=
                5);
        // Every chart is an image of the PDF, the capability chart among them.
        QCOMPARE(bytes.count("/Subtype /Image"), 5);
        const QString html = dir.filePath(QStringLiteral("r.html"));
        report::writeReport(inputs("2023-10", "2026-01"), html);
        QFile g(html);
        QVERIFY(g.open(QIODevice::ReadOnly));
        const QByteArray page = g.readAll();
        QCOMPARE(page.count("src=\"data:image/png;base64,"), 5);
        QVERIFY(!page.contains("src=\"chart:"));
        QVERIFY(page.contains("<style>"));
        // The capability chart's caption carries its headline, computed from the projection: the
        // H20, outside 3A090, out-decodes the controlled H100 on DeepSeek-V3.
        const QString text = QString::fromUtf8(page);
        const QRegularExpression caption(QStringLiteral(
            "<span class=\"caption\">Projected DeepSeek-V3 decode per GPU [^<]*coloured by class "
            "under 2026-01: Outside 3A090, H20 \\(China\\) projects [0-9,]+ tokens/s: more than "
            "[0-9]+ controlled chips, the H100 SXM5 80GB \\(TPP 15,832\\) among them at [0-9,]+\\. "
            "No local measurement in the store"));
        QVERIFY2(caption.match(text).hasMatch(),
                 qPrintable(text.mid(text.indexOf(QStringLiteral("Projected DeepSeek")), 400)));
    }

    // With benchmark results the caption says the measurement is overlaid; a store whose chips
    // have no memory bandwidth gets the chart's reason in its place.
    void capabilityChartWithResultsOrWithout() {
        report::ReportInputs in = inputs("2023-10", "2026-01");
        charts::BenchRun run;
        run.at = QDateTime(QDate(2026, 12, 1), QTime(9, 0), Qt::UTC);
        run.device = QStringLiteral("AMD EPYC 9B14");
        run.backend = QStringLiteral("cpu");
        run.model = QStringLiteral("preset:olmoe-1b-7b?layers=1");
        run.dtype = QStringLiteral("bf16");
        run.decode_tokens_per_s = 20;
        run.decode_achieved_gb_per_s = 30;
        run.id = 1;
        run.result_json = R"({"phases": [{"phase": "decode", "tokens_per_s": 20.0,
                                "achieved_gb_per_s": 30.0}]})";
        in.data.bench_runs.push_back(run);
        std::map<QString, QImage> images;
        const QString html = report::reportHtml(in, images);
        QVERIFY(images.count(QStringLiteral("capability")));
        QVERIFY2(html.contains(QStringLiteral("The local measurement (1 saved benchmark run) is "
                                              "overlaid")),
                 qPrintable(html.mid(html.indexOf(QStringLiteral("Projected DeepSeek")), 500)));

        for (analysis::ChipSpec& chip : in.data.chips)
            chip.memory_bandwidth_gb_per_s.reset();
        images.clear();
        const QString without = report::reportHtml(in, images);
        QVERIFY(!images.count(QStringLiteral("capability")));
        QVERIFY(!without.contains(QStringLiteral("chart:capability")));
        QVERIFY2(
            without.contains(QStringLiteral(
                "coloured by class under 2026-01: not drawn (no chip in the store has the "
                "figures to project DeepSeek-V3 decode)")),
            qPrintable(without.mid(without.indexOf(QStringLiteral("Projected DeepSeek")), 300)));
    }

    // Chips whose class under either edition depends on which source is believed: none in the
    // bundled data (the H800's I/O 300 beside 400 GB/s is under 2022-10's 600 either way); an I/O
    // of 700 GB/s from another source would make the H800 3A090.a under 2022-10.
    void sourceDependentClassifications() {
        std::map<QString, QImage> images;
        report::ReportInputs in = inputs("2022-10", "2023-10");
        const QString held = report::reportHtml(in, images);
        QVERIFY(held.contains(QStringLiteral("Source-dependent classifications")));
        QVERIFY2(held.contains(QStringLiteral("every one keeps its class and flags whichever "
                                              "source is believed")),
                 qPrintable(held.mid(held.indexOf(QStringLiteral("Source-dependent")), 400)));
        const auto h800 = std::find_if(in.data.chips.begin(), in.data.chips.end(),
                                       [](const auto& c) { return c.name == "H800 SXM5 (China)"; });
        QVERIFY(h800 != in.data.chips.end());
        h800->alternatives.push_back(
            {"io_bidirectional_gb_per_s", 700, "a source that says 700 GB/s", "low"});
        const QString html = report::reportHtml(in, images);
        const analysis::Edition& e2022 = *analysis::findEdition(in.data.editions, "2022-10");
        const auto stored = analysis::classify(*h800, e2022);
        const auto lines = analysis::sourceSensitivityLines(
            analysis::sourceSensitivity(*h800, e2022, stored), stored);
        QVERIFY(!lines.empty());
        const QString section = html.mid(html.indexOf(QStringLiteral("Source-dependent")));
        QVERIFY(section.contains(QStringLiteral("<p><b>H800 SXM5 (China)</b></p>")));
        QVERIFY(section.contains(QStringLiteral("Under 2022-10 (outside 3A090), the class depends "
                                                "on the source: ")));
        for (const std::string& line : lines)
            QVERIFY2(section.contains(QString::fromStdString(line).toHtmlEscaped()), line.c_str());
        QVERIFY(section.contains(QStringLiteral("holds whichever source is believed")));
    }

    // --destination: the licence each chip needs under both editions; the H20 to China needs
    // none under 2024-12 and one under 2026-01 (which carries the April 2025 letters forward).
    void licencesToTheDestination() {
        std::map<QString, QImage> images;
        report::ReportInputs in = inputs("2024-12", "2026-01");
        const QString without = report::reportHtml(in, images);
        QVERIFY(without.contains(QStringLiteral("No destination chosen")));
        in.destination = "CN";
        const QString html = report::reportHtml(in, images);
        QVERIFY(!html.contains(QStringLiteral("No destination chosen")));
        QVERIFY(html.contains(QStringLiteral("Export to <b>China (CN)</b>")));
        const QRegularExpression h20(
            QStringLiteral("<tr><td>H20 \\(China\\)</td><td>Not required</td><td><b>Required"));
        QVERIFY2(h20.match(html).hasMatch(),
                 qPrintable(html.mid(html.indexOf("H20 (China)"), 300)));
        QVERIFY(html.contains(QStringLiteral("<h3>H20 (China): licence to China (CN)</h3>")));
        // The H100 goes from presumption of denial to case-by-case (the 2026-01 policy for
        // chips under TPP 21,000 and 6,500 GB/s); the B200 keeps its answer: no detail.
        QVERIFY(html.contains(QStringLiteral("<h3>H100 SXM5 80GB: licence")));
        QVERIFY(html.contains(QStringLiteral("<tr><td>B200</td><td>Required: presumption of "
                                             "denial</td><td>Required: presumption of denial")));
        QVERIFY(!html.contains(QStringLiteral("<h3>B200: licence")));
        in.destination = "XX";
        QVERIFY_THROWS_EXCEPTION(report::ReportError, report::reportHtml(in, images));
    }

    void badRequestsAreRefused() {
        QTemporaryDir dir;
        QVERIFY_THROWS_EXCEPTION(report::ReportError,
                                 report::writeReport(inputs("2023-10", "1999-01"),
                                                     dir.filePath(QStringLiteral("r.pdf"))));
        QVERIFY_THROWS_EXCEPTION(report::ReportError,
                                 report::writeReport(inputs("2023-10", "2026-01"),
                                                     dir.filePath(QStringLiteral("r.docx"))));
        QVERIFY_THROWS_EXCEPTION(
            report::ReportError,
            report::writeReport(inputs("2023-10", "2026-01"),
                                dir.filePath(QStringLiteral("missing/r.pdf"))));
        QVERIFY(QDir(dir.path()).entryList(QDir::Files).isEmpty());
    }
};

QTEST_MAIN(TestReport)
#include "test_report.moc"
