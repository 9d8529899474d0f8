// The chart panel and the compare view in the workbench, offscreen: the chart follows the
// window's edition and selection, a click on a chip selects it in the table, every kind draws
// (or says why not), it exports; the compare view's model holds under QAbstractItemModelTester
// and a row activated selects its chip. The window opens within the screen.
// CROSSROADS_SCREENSHOT=/path.png saves a picture of the window with the chart.
#include "app/charts/ChipChart.h"
#include "app/gui/ChartPanel.h"
#include "app/gui/CompareDialog.h"
#include "app/gui/MainWindow.h"
#include "app/gui/models/CompareTableModel.h"
#include "data/Store.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDockWidget>
#include <QScreen>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace crossroads;

class TestChartPanel : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::unique_ptr<data::Store> store_;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                           dir_.filePath(QStringLiteral("config")));
        QCoreApplication::setOrganizationName(QStringLiteral("CrossroadsTest"));
        QCoreApplication::setApplicationName(QStringLiteral("test_chart_panel"));
        store_ = std::make_unique<data::Store>(dir_.filePath(QStringLiteral("charts.sqlite")));
    }

    void followsTheEditionAndTheSelection() {
        gui::MainWindow window(*store_);
        window.resize(1600, 1000);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.chartDock()->isVisible());
        charts::ChipChart* chart = window.chartPanel()->chart();
        QCOMPARE(chart->chartKind(), charts::ChartKind::TppPd);
        QVERIFY(chart->chartSubtitle().startsWith(window.currentEditionId()));

        QVERIFY(window.setCurrentEdition(QStringLiteral("2022-10")));
        QVERIFY(chart->chartSubtitle().startsWith(QStringLiteral("2022-10")));
        QVERIFY(chart->chartSubtitle().contains(QStringLiteral("tests I/O")));
        QVERIFY(window.setCurrentEdition(QStringLiteral("2023-10")));

        // Table -> chart.
        QVERIFY(window.selectChip(QStringLiteral("A100 SXM4 80GB")));
        QCOMPARE(chart->selectedChip(), QStringLiteral("A100 SXM4 80GB"));
        // Chart -> table.
        chart->replot();
        const QString h20 = QStringLiteral("H20 (China)");
        const auto at = chart->chipPixel(h20);
        QVERIFY(at);
        QTest::mouseClick(chart, Qt::LeftButton, {}, at->toPoint());
        QCOMPARE(window.selectedChipName(), h20);

        if (const QByteArray path = qgetenv("CROSSROADS_SCREENSHOT"); !path.isEmpty()) {
            QTest::qWait(50);
            QVERIFY(window.grab().save(QString::fromLocal8Bit(path)));
        }
    }

    void opensWithinTheScreen() {
        gui::MainWindow window(*store_);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QRect available = window.screen()->availableGeometry();
        QVERIFY2(window.width() <= available.width() && window.height() <= available.height(),
                 qPrintable(QStringLiteral("%1x%2 on %3x%4")
                                .arg(window.width())
                                .arg(window.height())
                                .arg(available.width())
                                .arg(available.height())));
    }

    void compareView() {
        gui::MainWindow window(*store_);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        gui::CompareDialog* dialog = window.openCompare();
        QAbstractItemModelTester tester(dialog->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(dialog->compare(QStringLiteral("2022-10"), QStringLiteral("2023-10")));
        QVERIFY(dialog->summary().startsWith(QStringLiteral("2022-10 → 2023-10")));
        int row = -1;
        auto* model = dialog->model();
        for (int r = 0; r < model->rowCount(); ++r)
            if (model->index(r, 0).data(gui::CompareTableModel::ChipNameRole).toString() ==
                QLatin1String("H800 SXM5 (China)"))
                row = r;
        QVERIFY(row >= 0);
        QCOMPARE(model->index(row, gui::CompareTableModel::DirectionColumn).data().toString(),
                 QStringLiteral("tightened"));
        QVERIFY(model->index(row, gui::CompareTableModel::BecauseColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("I/O 400")));
        QCOMPARE(
            model->headerData(gui::CompareTableModel::BaselineColumn, Qt::Horizontal).toString(),
            QStringLiteral("2022-10"));
        Q_EMIT dialog->chipActivated(QStringLiteral("H800 SXM5 (China)"));
        QCOMPARE(window.selectedChipName(), QStringLiteral("H800 SXM5 (China)"));
        // The H20 keeps its class from 2023-10 to 2025-04 but gains the letters' flags.
        QVERIFY(dialog->compare(QStringLiteral("2023-10"), QStringLiteral("2025-04")));
        bool flagged = false;
        for (int r = 0; r < model->rowCount(); ++r)
            flagged = flagged ||
                      (model->index(r, 0).data(gui::CompareTableModel::ChipNameRole).toString() ==
                           QLatin1String("H20 (China)") &&
                       model->index(r, 0).data(gui::CompareTableModel::DirectionRole).toString() ==
                           QLatin1String("flag"));
        QVERIFY(flagged);
        QVERIFY(!dialog->compare(QStringLiteral("1999-01"), QStringLiteral("2023-10")));
    }

    void everyKindDrawsOrSaysWhy() {
        gui::MainWindow window(*store_);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        gui::ChartPanel* panel = window.chartPanel();
        for (int i = 0; i < panel->kindSelector()->count(); ++i) {
            panel->kindSelector()->setCurrentIndex(i);
            const auto kind =
                static_cast<charts::ChartKind>(panel->kindSelector()->itemData(i).toInt());
            QCOMPARE(panel->kind(), kind);
            if (kind == charts::ChartKind::BenchHistory && store_->benchmarkResults().empty()) {
                // No saved result yet: said in words, nothing drawn.
                QVERIFY(panel->message().contains(QStringLiteral("no benchmark results")));
                QVERIFY(panel->chart()->plottedChips().isEmpty());
            } else {
                QVERIFY2(panel->message().isEmpty(), qPrintable(panel->message()));
                QVERIFY(!panel->chart()->chartTitle().isEmpty());
            }
        }
    }

    void exportsWhatItShows() {
        gui::MainWindow window(*store_);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QString path = dir_.filePath(QStringLiteral("panel.svg"));
        window.chartPanel()->exportTo(path);
        QVERIFY(QFileInfo(path).size() > 1000);
        QVERIFY_THROWS_EXCEPTION(
            std::exception, window.chartPanel()->exportTo(dir_.filePath(QStringLiteral("x.bmp"))));
    }
};

QTEST_MAIN(TestChartPanel)
#include "test_chart_panel.moc"
