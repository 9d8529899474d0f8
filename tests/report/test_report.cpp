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
