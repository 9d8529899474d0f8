// File > Export report…: the dialog preselects the window's edition and destination, writes the
// CLI's report (licence section included when a destination is chosen), and refuses what the
// report would refuse with the reason in the dialog, writing nothing.
#include "app/gui/ReportDialog.h"

#include "tests/common/ReferenceData.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLineEdit>
#include <QTemporaryDir>
#include <QTest>

using namespace crossroads;

namespace {

report::ReportInputs inputs() {
    report::ReportInputs in;
    in.data.chips = testing::bundledChips();
    in.data.editions = testing::bundledEditions();
    in.store_path = QStringLiteral("/tmp/test.sqlite");
    in.app_version = QStringLiteral("test");
    return in;
}

} // namespace

class TestReportDialog : public QObject {
    Q_OBJECT

private slots:
    void preselectsTheWindowsChoices() {
        gui::ReportDialog dialog(inputs(), QStringLiteral("2026-01"), QStringLiteral("CN"));
        QCOMPARE(dialog.vsCombo()->currentData().toString(), QStringLiteral("2026-01"));
        QCOMPARE(dialog.baselineCombo()->currentData().toString(), QStringLiteral("2025-04"));
        QCOMPARE(dialog.destinationCombo()->currentData().toString(), QStringLiteral("CN"));
        gui::ReportDialog plain(inputs(), QString(), QString());
        QCOMPARE(plain.destinationCombo()->currentData().toString(), QString());
        QVERIFY(!plain.vsCombo()->currentData().toString().isEmpty());
    }

    void writesTheReportWithLicences() {
        QTemporaryDir dir;
        gui::ReportDialog dialog(inputs(), QStringLiteral("2026-01"), QStringLiteral("CN"));
        dialog.baselineCombo()->setCurrentIndex(
            dialog.baselineCombo()->findData(QStringLiteral("2024-12")));
        const QString html = dir.filePath(QStringLiteral("r.html"));
        dialog.pathEdit()->setText(html);
        QCOMPARE(dialog.write(), QString());
        QFile f(html);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray page = f.readAll();
        QVERIFY(page.contains("2024-12"));
        QVERIFY(page.contains("Export to <b>China (CN)</b>"));
        const QString pdf = dir.filePath(QStringLiteral("r.pdf"));
        dialog.pathEdit()->setText(pdf);
        QCOMPARE(dialog.write(), QString());
        QFile g(pdf);
        QVERIFY(g.open(QIODevice::ReadOnly));
        QVERIFY(g.read(4) == "%PDF");
    }

    void refusalsSayWhyAndWriteNothing() {
        QTemporaryDir dir;
        gui::ReportDialog dialog(inputs(), QStringLiteral("2026-01"), QString());
        QVERIFY(dialog.write().contains(QStringLiteral("Choose a file")));
        dialog.pathEdit()->setText(dir.filePath(QStringLiteral("r.pdf")));
        dialog.baselineCombo()->setCurrentIndex(dialog.vsCombo()->currentIndex());
        QVERIFY(dialog.write().contains(QStringLiteral("both 2026-01")));
        dialog.baselineCombo()->setCurrentIndex(0);
        dialog.pathEdit()->setText(dir.filePath(QStringLiteral("missing/r.pdf")));
        QVERIFY(dialog.write().contains(QStringLiteral("does not exist")));
        dialog.pathEdit()->setText(dir.filePath(QStringLiteral("r.docx")));
        QVERIFY(dialog.write().contains(QStringLiteral(".pdf or .html")));
        QVERIFY(
            QDir(dir.path()).entryList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot).isEmpty());
    }
};

QTEST_MAIN(TestReportDialog)
#include "test_report_dialog.moc"
