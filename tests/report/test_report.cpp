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
        QCOMPARE(images.size(), size_t(4)); // tpp-pd of both, bandwidth-tpp, timeline
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
        const QString html = dir.filePath(QStringLiteral("r.html"));
        report::writeReport(inputs("2023-10", "2026-01"), html);
        QFile g(html);
        QVERIFY(g.open(QIODevice::ReadOnly));
        const QByteArray page = g.readAll();
        QCOMPARE(page.count("src=\"data:image/png;base64,"), 4);
        QVERIFY(!page.contains("src=\"chart:"));
        QVERIFY(page.contains("<style>"));
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
