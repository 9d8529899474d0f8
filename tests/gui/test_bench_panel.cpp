// The benchmark panel, offscreen, on a tiny preset (OLMoE with one layer, a few tokens): a run
// goes to the end on a worker thread and its result is saved and shown at the top of the
// history; a long run is cancelled in its decode phase and saves nothing; a bad folder and a
// preset too large for the machine are one clear message; deleting the panel mid-run stops the
// worker; no thread is left behind. In the window, Tools > Benchmark… shows the dock.
// CROSSROADS_SCREENSHOT_DIR=/dir saves pictures of the panel.
#include "app/gui/BenchPanel.h"
#include "app/gui/MainWindow.h"
#include "app/gui/TableExportUi.h"
#include "app/gui/models/BenchResultsModel.h"
#include "app/gui/models/NumberSortProxyModel.h"
#include "data/Store.h"
#include "inference/engine/Engine.h"

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>

#include <memory>

using namespace crossroads;
using gui::BenchPanel;

namespace {

constexpr int kRunTimeoutMs = 240000;
const QString kTiny = QStringLiteral("preset:olmoe-1b-7b?layers=1");

void screenshot(QWidget& w, const char* name) {
    const QByteArray dir = qgetenv("CROSSROADS_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    w.grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + QLatin1String(name));
}

} // namespace

class TestBenchPanel : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::unique_ptr<data::Store> store_;

    const analysis::Edition& edition(const char* id) {
        static std::vector<analysis::Edition> editions = store_->editions();
        for (const auto& e : editions)
            if (e.id == id)
                return e;
        return editions.back();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                           dir_.filePath(QStringLiteral("config")));
        QCoreApplication::setOrganizationName(QStringLiteral("CrossroadsTest"));
        QCoreApplication::setApplicationName(QStringLiteral("test_bench_panel"));
        store_ = std::make_unique<data::Store>(dir_.filePath(QStringLiteral("bench.sqlite")));
    }

    void cleanup() {
        // Whatever a test did, no worker is left running.
        QTRY_COMPARE_WITH_TIMEOUT(QThreadPool::globalInstance()->activeThreadCount(), 0, 60000);
    }

    void choicesAndBackends() {
        BenchPanel panel(*store_);
        QVERIFY(panel.setModelSpec(kTiny));
        QCOMPARE(panel.modelSpec(), kTiny);
        QVERIFY(panel.setModelSpec(QStringLiteral("preset:mixtral-8x7b")));
        QCOMPARE(panel.modelSpec(), QStringLiteral("preset:mixtral-8x7b")); // all 32 layers
        QVERIFY(!panel.setModelSpec(QStringLiteral("preset:gpt-5")));
        QVERIFY(panel.setModelSpec(QStringLiteral("/some/folder")));
        QCOMPARE(panel.modelSpec(), QStringLiteral("/some/folder"));
        auto* backend = panel.findChild<QComboBox*>(QStringLiteral("benchBackend"));
        QVERIFY(backend);
        std::string why;
        if (!inference::cudaAvailable(&why)) {
            // cuda is greyed out, says why, and cannot be chosen.
            auto* items = qobject_cast<QStandardItemModel*>(backend->model());
            QVERIFY(items && !items->item(2)->isEnabled());
            QVERIFY(items->item(2)->toolTip().contains(QString::fromStdString(why)));
            panel.setBackend(QStringLiteral("cuda"));
            QVERIFY(backend->currentData().toString() != QLatin1String("cuda"));
        }
        QVERIFY(!panel.cancelButton()->isEnabled());
    }

    // The weights' type: the preset's own by default (FP8 for DeepSeek-V3, BF16 for OLMoE),
    // dtype= in the spec only when another is chosen; a spec's dtype= is restored; the estimate
    // counts the chosen type's bytes; a checkpoint folder has its own (the choice is disabled).
    void weightsChoice() {
        BenchPanel panel(*store_);
        auto* weights = panel.findChild<QComboBox*>(QStringLiteral("benchWeights"));
        auto* estimate = panel.findChild<QLabel*>(QStringLiteral("benchEstimate"));
        QVERIFY(weights && estimate);
        const auto gigabytes = [estimate] {
            const QRegularExpression number(QStringLiteral("≈ ([0-9.,]+) GB"));
            const auto m = number.match(estimate->text());
            return m.hasMatch() ? m.captured(1).remove(QLatin1Char(',')).toDouble() : -1.0;
        };

        QVERIFY(panel.setModelSpec(QStringLiteral("preset:deepseek-v3?layers=2")));
        QCOMPARE(weights->currentIndex(), 0);
        QCOMPARE(weights->currentText(), QStringLiteral("FP8 (the preset's)"));
        QVERIFY(weights->isEnabled());
        QCOMPARE(panel.modelSpec(), QStringLiteral("preset:deepseek-v3?layers=2"));
        QVERIFY2(estimate->text().contains(QStringLiteral("of FP8 weights")),
                 qPrintable(estimate->text()));
        const double fp8 = gigabytes();
        weights->setCurrentIndex(weights->findData(QStringLiteral("bf16")));
        QCOMPARE(panel.modelSpec(), QStringLiteral("preset:deepseek-v3?layers=2&dtype=bf16"));
        QVERIFY(estimate->text().contains(QStringLiteral("of BF16 weights")));
        const double bf16 = gigabytes();
        panel.resize(520, 640);
        screenshot(panel, "bench-weights.png");
        weights->setCurrentIndex(weights->findData(QStringLiteral("f32")));
        QCOMPARE(panel.modelSpec(), QStringLiteral("preset:deepseek-v3?layers=2&dtype=f32"));
        const double f32 = gigabytes();
        // FP8 projections take one byte (and a scale per 128 x 128 block); the embedding, LM head
        // and norms stay BF16, so FP8 is a little over half of BF16.
        QVERIFY2(fp8 > 0 && bf16 > 1.5 * fp8 && bf16 < 2 * fp8,
                 qPrintable(QStringLiteral("%1 %2").arg(fp8).arg(bf16)));
        QVERIFY2(qAbs(f32 / bf16 - 2) < 0.02,
                 qPrintable(QStringLiteral("%1 %2").arg(bf16).arg(f32)));
        // FP8 chosen is the preset's own: no dtype=.
        weights->setCurrentIndex(weights->findData(QStringLiteral("fp8")));
        QCOMPARE(panel.modelSpec(), QStringLiteral("preset:deepseek-v3?layers=2"));

        // Restored from a spec.
        QVERIFY(panel.setModelSpec(QStringLiteral("preset:deepseek-v3?dtype=bf16&layers=3")));
        QCOMPARE(weights->currentData().toString(), QStringLiteral("bf16"));
        QCOMPARE(panel.modelSpec(), QStringLiteral("preset:deepseek-v3?layers=3&dtype=bf16"));
        QVERIFY(panel.setModelSpec(QStringLiteral("preset:deepseek-v3?layers=3&dtype=fp8")));
        QCOMPARE(weights->currentIndex(), 0); // the preset's own
        QCOMPARE(panel.modelSpec(), QStringLiteral("preset:deepseek-v3?layers=3"));
        QVERIFY(panel.setModelSpec(kTiny));
        QCOMPARE(weights->currentIndex(), 0);
        QCOMPARE(weights->currentText(), QStringLiteral("BF16 (the preset's)"));
        QVERIFY(estimate->text().contains(QStringLiteral("of BF16 weights")));
        QVERIFY(panel.setModelSpec(kTiny + QStringLiteral("&dtype=fp8")));
        QCOMPARE(weights->currentData().toString(), QStringLiteral("fp8"));
        QCOMPARE(panel.modelSpec(), kTiny + QStringLiteral("&dtype=fp8"));
        QVERIFY(estimate->text().contains(QStringLiteral("of FP8 weights")));
        QVERIFY(panel.setModelSpec(QStringLiteral("preset:olmoe-1b-7b?dtype=f32")));
        QCOMPARE(panel.modelSpec(), QStringLiteral("preset:olmoe-1b-7b?dtype=f32"));

        // A checkpoint folder: its own weights, the choice disabled.
        QVERIFY(panel.setModelSpec(QStringLiteral("/some/folder")));
        QVERIFY(!weights->isEnabled());
        QCOMPARE(panel.modelSpec(), QStringLiteral("/some/folder"));
    }

    void runsToTheEndAndSaves() {
        BenchPanel panel(*store_);
        panel.setChips(store_->chips());
        panel.setEdition(edition("2026-01"));
        panel.resize(1400, 420);
        panel.show();
        QVERIFY(panel.setModelSpec(kTiny));
        panel.setBackend(QStringLiteral("cpu"));
        panel.setTokens(4, 2, 1);
        const int before = panel.resultsModel()->rowCount();
        QSignalSpy finished(&panel, &BenchPanel::finished);
        QSignalSpy saved(&panel, &BenchPanel::resultSaved);
        QVERIFY(panel.start());
        QVERIFY(panel.isRunning());
        QVERIFY(!panel.runButton()->isEnabled() && panel.cancelButton()->isEnabled());
        QVERIFY(!panel.start()); // one run at a time
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), kRunTimeoutMs);
        QVERIFY2(finished.first().first().toBool(), qPrintable(panel.message()));
        QCOMPARE(saved.size(), 1);
        QVERIFY(panel.message().startsWith(QStringLiteral("Saved")));
        QCOMPARE(panel.progressBar()->value(), panel.progressBar()->maximum());
        QVERIFY(panel.runButton()->isEnabled() && !panel.cancelButton()->isEnabled());
        // Saved in the store and shown first, with the run's figures.
        const auto records = store_->benchmarkResults();
        QCOMPARE(int(records.size()), before + 1);
        QCOMPARE(records.front().id, saved.first().first().toLongLong());
        QCOMPARE(records.front().model, kTiny);
        QCOMPARE(records.front().backend, QStringLiteral("cpu"));
        auto* results = panel.resultsModel();
        QCOMPARE(results->rowCount(), before + 1);
        QCOMPARE(results->index(0, 0).data(gui::BenchResultsModel::RecordIdRole).toLongLong(),
                 records.front().id);
        QVERIFY(results->index(0, gui::BenchResultsModel::DecodeColumn).data().toString() != "");
        QVERIFY(results->rows().front().figures.decode_tokens_per_s.value_or(0) > 0);
        QCOMPARE(results->index(0, gui::BenchResultsModel::ExportClassColumn).data().toString(),
                 QStringLiteral("— (CPU)"));
        screenshot(panel, "bench-panel.png");
    }

    void cancelledInDecodeSavesNothing() {
        BenchPanel panel(*store_);
        QVERIFY(panel.setModelSpec(kTiny));
        panel.setBackend(QStringLiteral("cpu"));
        panel.setTokens(4, 2000, 3); // far longer than the test waits
        const auto before = store_->benchmarkResults().size();
        QSignalSpy finished(&panel, &BenchPanel::finished);
        QVERIFY(panel.start());
        // The engine reports its steps: wait until it decodes, then cancel.
        QTRY_VERIFY_WITH_TIMEOUT(panel.progressBar()->format().startsWith(QStringLiteral("decode")),
                                 kRunTimeoutMs);
        QVERIFY(panel.progressBar()->maximum() > 2000);
        QVERIFY(panel.progressBar()->value() > 0);
        panel.cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 60000);
        QCOMPARE(finished.first().first().toBool(), false);
        QVERIFY2(panel.message().startsWith(QStringLiteral("Cancelled")),
                 qPrintable(panel.message()));
        QCOMPARE(store_->benchmarkResults().size(), before);
        QVERIFY(!panel.isRunning() && panel.runButton()->isEnabled());
    }

    void cancelledWhileLoadingMeasuresNothing() {
        BenchPanel panel(*store_);
        QVERIFY(panel.setModelSpec(kTiny));
        panel.setBackend(QStringLiteral("cpu"));
        panel.setTokens(4, 2000, 3);
        const auto before = store_->benchmarkResults().size();
        QSignalSpy finished(&panel, &BenchPanel::finished);
        QVERIFY(panel.start());
        // The weights are still being made: Cancel is there, and says what it will do.
        QVERIFY(panel.isLoading());
        QVERIFY(panel.cancelButton()->isEnabled());
        QVERIFY2(
            panel.cancelButton()->toolTip().contains(QStringLiteral("once the model is loaded")),
            qPrintable(panel.cancelButton()->toolTip()));
        panel.cancel();
        QVERIFY2(panel.message().contains(QStringLiteral("once the model is loaded")),
                 qPrintable(panel.message()));
        QVERIFY(!panel.cancelButton()->isEnabled()); // asked once
        QStringList stages;
        connect(panel.progressBar(), &QProgressBar::valueChanged, &panel,
                [&] { stages << panel.progressBar()->format(); });
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), kRunTimeoutMs);
        QCOMPARE(finished.first().first().toBool(), false);
        QVERIFY2(panel.message().startsWith(QStringLiteral("Cancelled")),
                 qPrintable(panel.message()));
        // It stopped before any step: no decode was ever reported.
        for (const QString& stage : stages)
            QVERIFY2(!stage.startsWith(QStringLiteral("decode")), qPrintable(stage));
        QCOMPARE(store_->benchmarkResults().size(), before);
        QVERIFY(!panel.isRunning() && panel.runButton()->isEnabled());
        QVERIFY(!panel.cancelButton()->isEnabled());
    }

    void resultsSortByHeaderAndExportAsShown() {
        // Two more results, decode 9.5 and 1,000 tok/s: by text "1,000" would come first.
        QTemporaryDir dir;
        data::Store store(dir.filePath(QStringLiteral("sort.sqlite")));
        const auto save = [&](const char* device, double decode) {
            return store.saveBenchmarkResult(QString::fromLatin1(device), QStringLiteral("cpu"),
                                             kTiny, QStringLiteral("bf16"),
                                             R"({"phases": [{"phase": "decode", "tokens_per_s": )" +
                                                 std::to_string(decode) + "}]}");
        };
        const qint64 slow = save("Slow device", 9.5);
        const qint64 fast = save("Fast device", 1000);
        const qint64 middle = save("Middle device", 250);
        BenchPanel panel(store);
        panel.resize(1400, 420);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QTableView* view = panel.resultsView();
        QCOMPARE(view->model(), panel.sortedResults());
        QVERIFY(view->isSortingEnabled());
        const auto shownIds = [&] {
            QList<qint64> out;
            for (int r = 0; r < view->model()->rowCount(); ++r)
                out << view->model()
                           ->index(r, 0)
                           .data(gui::BenchResultsModel::RecordIdRole)
                           .toLongLong();
            return out;
        };
        QCOMPARE(shownIds(), (QList<qint64>{middle, fast, slow})); // newest first
        auto* title = panel.findChild<QLabel*>(QStringLiteral("benchResultsTitle"));
        QVERIFY(title->text().contains(QStringLiteral("newest first")));
        // A click on the Decode header sorts by value.
        QHeaderView* header = view->horizontalHeader();
        const int decode = gui::BenchResultsModel::DecodeColumn;
        view->scrollTo(view->model()->index(0, decode));
        const QPoint at(header->sectionViewportPosition(decode) + header->sectionSize(decode) / 2,
                        header->height() / 2);
        QTest::mouseClick(header->viewport(), Qt::LeftButton, {}, at);
        QCOMPARE(header->sortIndicatorSection(), decode);
        const QList<qint64> byDecode = shownIds();
        QVERIFY(byDecode == (QList<qint64>{slow, middle, fast}) ||
                byDecode == (QList<qint64>{fast, middle, slow}));
        QVERIFY(!title->text().contains(QStringLiteral("newest first")));
        QVERIFY(title->text().contains(QStringLiteral("by Decode")));
        view->sortByColumn(decode, Qt::AscendingOrder);
        QCOMPARE(shownIds(), (QList<qint64>{slow, middle, fast}));
        // The selection is a shown row: the first one is the slow device's.
        view->selectRow(0);
        const QModelIndexList rows = view->selectionModel()->selectedRows();
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.first().data(gui::BenchResultsModel::RecordIdRole).toLongLong(), slow);
        QCOMPARE(panel.sortedResults()->mapToSource(rows.first()).row(), 2);
        // The export writes the table as shown.
        const QString csv = dir.filePath(QStringLiteral("results.csv"));
        QVERIFY(gui::exportTableTo(&panel, *view->model(), csv, QStringLiteral("Results")));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        const qsizetype s = text.indexOf(QStringLiteral("Slow device")),
                        m = text.indexOf(QStringLiteral("Middle device")),
                        l = text.indexOf(QStringLiteral("Fast device"));
        QVERIFY(s > 0 && s < m && m < l);
        screenshot(panel, "bench-panel-sorted.png");
    }

    void badFolderIsOneMessage() {
        BenchPanel panel(*store_);
        const QString empty = dir_.filePath(QStringLiteral("not-a-checkpoint"));
        QVERIFY(QDir().mkpath(empty));
        QVERIFY(panel.setModelSpec(empty));
        QSignalSpy finished(&panel, &BenchPanel::finished);
        QVERIFY(panel.start());
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 60000);
        QCOMPARE(finished.first().first().toBool(), false);
        QVERIFY2(panel.message().contains(QStringLiteral("config.json")),
                 qPrintable(panel.message()));
        QVERIFY(!panel.message().contains(QLatin1Char('\n')));
        // No folder at all: refused before any thread starts.
        panel.setModelSpec(QStringLiteral("preset:olmoe-1b-7b"));
        auto* model = panel.findChild<QComboBox*>(QStringLiteral("benchModel"));
        model->setCurrentIndex(model->findData(QStringLiteral("folder")));
        panel.findChild<QLineEdit*>(QStringLiteral("benchFolder"))->clear();
        QVERIFY(!panel.start());
        QVERIFY(panel.message().contains(QStringLiteral("checkpoint folder")));
    }

    void tooLargeForThisMachine() {
        BenchPanel panel(*store_);
        QVERIFY(panel.setModelSpec(QStringLiteral("preset:deepseek-v3"))); // 671B parameters
        QVERIFY(!panel.start());
        QVERIFY2(panel.message().contains(QStringLiteral("keep fewer layers")),
                 qPrintable(panel.message()));
        QVERIFY(!panel.isRunning());
    }

    void deletedMidRunStopsTheWorker() {
        auto panel = std::make_unique<BenchPanel>(*store_);
        QVERIFY(panel->setModelSpec(kTiny));
        panel->setBackend(QStringLiteral("cpu"));
        panel->setTokens(4, 2000, 3);
        QVERIFY(panel->start());
        QTRY_VERIFY_WITH_TIMEOUT(panel->progressBar()->maximum() > 1, kRunTimeoutMs);
        QElapsedTimer timer;
        timer.start();
        panel.reset(); // cancels and waits
        QVERIFY2(timer.elapsed() < 30000, "the worker did not stop at the next step");
        // The pool thread itself is handed back right after the task ends.
        QTRY_COMPARE_WITH_TIMEOUT(QThreadPool::globalInstance()->activeThreadCount(), 0, 5000);
    }

    void windowShowsTheDock() {
        gui::MainWindow window(*store_);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto* dock = window.findChild<QDockWidget*>(QStringLiteral("benchDock"));
        auto* action = window.findChild<QAction*>(QStringLiteral("benchmarkAction"));
        QVERIFY(dock && action);
        QVERIFY(!dock->isVisible());
        action->trigger();
        QVERIFY(dock->isVisible());
        auto* panel = dock->findChild<BenchPanel*>();
        QVERIFY(panel);
        // The results follow the window's edition.
        QVERIFY(window.setCurrentEdition(QStringLiteral("2023-10")));
        QCOMPARE(QString::fromStdString(panel->resultsModel()->edition()->id),
                 QStringLiteral("2023-10"));
        auto* title = panel->findChild<QLabel*>(QStringLiteral("benchResultsTitle"));
        QVERIFY(title->text().contains(QStringLiteral("2023-10")));
        QVERIFY(panel->resultsModel()->rowCount() >= 1); // the run saved above
        if (const QByteArray d = qgetenv("CROSSROADS_SCREENSHOT_DIR"); !d.isEmpty()) {
            window.resize(1600, 960);
            QTest::qWait(100);
            window.grab().save(QString::fromLocal8Bit(d) + QStringLiteral("/window-bench.png"));
        }
    }
};

QTEST_MAIN(TestBenchPanel)
#include "test_bench_panel.moc"
