// File > Open store… and File > Recent stores, offscreen: the window switches to another store
// (its chips, editions, scenarios and benchmark results; the title names it), refuses a file that
// is not a Crossroads store, a corrupt one and one newer than the schema with one message box
// naming the problem, staying on the store it had, and keeps up to eight recent stores, most
// recent first, a missing one shown disabled. CROSSROADS_SCREENSHOT_DIR saves the window and the
// refusal.
#include "app/gui/BenchPanel.h"
#include "app/gui/MainWindow.h"
#include "app/gui/ScenarioEditor.h"
#include "app/gui/models/BenchResultsModel.h"
#include "app/gui/models/ChipTableModel.h"
#include "app/gui/models/EditionListModel.h"
#include "data/Store.h"

#include <QAction>
#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <memory>

using namespace crossroads;
using gui::MainWindow;

namespace {

QByteArray readBytes(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeBytes(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}

// A store with one chip of its own and one benchmark result, closed (checkpointed) again.
void makeStore(const QString& path, const std::string& ownChip) {
    data::Store store(path);
    analysis::ChipSpec chip;
    chip.name = ownChip;
    chip.vendor = "Acme";
    chip.memory_bandwidth_gb_per_s = 123;
    store.upsertChips({chip});
    store.saveBenchmarkResult(QStringLiteral("Test device"), QStringLiteral("cpu"),
                              QStringLiteral("preset:test"), QStringLiteral("bf16"), "{}");
}

void execRaw(const QString& path, const QString& sql) {
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("raw"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY2(q.exec(sql), qPrintable(sql));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("raw"));
}

void screenshot(QWidget& w, const char* name) {
    const QByteArray dir = qgetenv("CROSSROADS_SCREENSHOT_DIR");
    if (!dir.isEmpty())
        w.grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + QLatin1String(name));
}

// Runs `open` while a timer answers the message boxes it shows: their texts, in order.
QStringList messagesOf(const std::function<void()>& open, const char* shot = nullptr) {
    QStringList texts;
    QTimer timer;
    timer.setInterval(20);
    QObject::connect(&timer, &QTimer::timeout, [&] {
        if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
            texts << box->text();
            if (shot)
                screenshot(*box, shot);
            box->close();
        }
    });
    timer.start();
    open();
    return texts;
}

bool hasChip(const MainWindow& window, const QString& name) {
    return window.chipModel()->rowOfChip(name) >= 0;
}

} // namespace

class TestOpenStore : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString a_, b_;

    QString path(const char* name) const { return dir_.filePath(QLatin1String(name)); }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                           dir_.filePath(QStringLiteral("config")));
        QCoreApplication::setOrganizationName(QStringLiteral("CrossroadsTest"));
        QCoreApplication::setApplicationName(QStringLiteral("test_open_store"));
        a_ = path("a.sqlite");
        b_ = path("b.db");
        makeStore(a_, "Only In A");
        makeStore(b_, "Only In B");
        {
            // B has a second result, so the panel's count tells the stores apart.
            data::Store b(b_);
            b.saveBenchmarkResult(QStringLiteral("Test device"), QStringLiteral("cpu"),
                                  QStringLiteral("preset:test"), QStringLiteral("bf16"), "{}");
        }
    }

    void init() { QSettings().remove(QStringLiteral("workbench")); }

    void switchesToAnotherStore() {
        data::Store a(a_);
        MainWindow window(a);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QCOMPARE(window.windowTitle(), QStringLiteral("a.sqlite — Crossroads"));
        QVERIFY(hasChip(window, QStringLiteral("Only In A")));
        auto* bench = window.findChild<gui::BenchPanel*>();
        QVERIFY(bench);
        QCOMPARE(bench->resultsModel()->rowCount(), 1);
        QCOMPARE(MainWindow::recentStores(), QStringList{a_});

        const QString edition = window.currentEditionId();
        QVERIFY(window.openStore(b_, false));
        QCOMPARE(window.storeError(), QString());
        QCOMPARE(window.storePath(), b_);
        QCOMPARE(window.windowTitle(), QStringLiteral("b.db — Crossroads"));
        QVERIFY(hasChip(window, QStringLiteral("Only In B")));
        QVERIFY(!hasChip(window, QStringLiteral("Only In A")));
        QCOMPARE(window.chipModel()->rowCount(), static_cast<int>(data::Store(b_).chips().size()));
        QCOMPARE(window.currentEditionId(), edition); // B has it too
        QVERIFY(!window.selectedChipName().isEmpty());
        QCOMPARE(bench->resultsModel()->rowCount(), 2);
        auto* storeLabel = window.findChild<QLabel*>(QStringLiteral("storeLabel"));
        QVERIFY(storeLabel && storeLabel->text().contains(b_));
        QCOMPARE(MainWindow::recentStores(), (QStringList{b_, a_}));
        screenshot(window, "open-store-switched.png");

        // A scenario saved in B is in the edition selector; back on A it is not.
        {
            data::Store b(b_);
            analysis::Scenario s;
            s.name = "only-in-b";
            s.base = b.defaultEditionId().toStdString();
            b.saveScenario(s);
        }
        QVERIFY(window.openStore(b_, false)); // again: re-read
        QVERIFY(window.editionModel()->rowOfEdition(QStringLiteral("only-in-b")) >= 0);
        QCOMPARE(MainWindow::recentStores(), (QStringList{b_, a_})); // once each
        QVERIFY(window.openStore(a_, false));
        QCOMPARE(window.editionModel()->rowOfEdition(QStringLiteral("only-in-b")), -1);
        QVERIFY(hasChip(window, QStringLiteral("Only In A")));
        QCOMPARE(bench->resultsModel()->rowCount(), 1);
        QCOMPARE(MainWindow::recentStores(), (QStringList{a_, b_}));
    }

    void refusesWhatIsNoStore_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("reason");
        QTest::newRow("text file") << "text"
                                   << "not an SQLite database";
        QTest::newRow("corrupt") << "corrupt"
                                 << "store is corrupt";
        QTest::newRow("newer schema") << "newer"
                                      << "newer than this Crossroads";
        QTest::newRow("another program's") << "foreign"
                                           << "not a Crossroads store";
        QTest::newRow("missing") << "missing"
                                 << "no such file";
    }
    void refusesWhatIsNoStore() {
        QFETCH(QString, kind);
        QFETCH(QString, reason);
        const QString bad = path(qPrintable(kind + QStringLiteral(".sqlite")));
        QFile::remove(bad);
        if (kind == QLatin1String("text")) {
            writeBytes(bad, "name,vendor\nH100,NVIDIA\n");
        } else if (kind == QLatin1String("corrupt")) {
            makeStore(bad, "Corrupt");
            QByteArray bytes = readBytes(bad);
            QVERIFY(bytes.size() > 4 * 4096);
            bytes.truncate(bytes.size() / 2);
            writeBytes(bad, bytes);
        } else if (kind == QLatin1String("newer")) {
            makeStore(bad, "Newer");
            execRaw(bad, QStringLiteral("PRAGMA user_version = 99"));
        } else if (kind == QLatin1String("foreign")) {
            execRaw(bad, QStringLiteral("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"));
        }
        const QByteArray before = readBytes(bad);

        data::Store a(a_);
        MainWindow window(a);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const int rows = window.chipModel()->rowCount();
        const QString selected = window.selectedChipName();
        const QString edition = window.currentEditionId();

        bool opened = true;
        const QStringList shown =
            messagesOf([&] { opened = window.openStore(bad); },
                       kind == QLatin1String("corrupt") ? "open-store-refused.png" : nullptr);
        QVERIFY(!opened);
        QCOMPARE(shown.size(), 1); // one message
        QVERIFY2(shown.front().contains(reason), qPrintable(shown.front()));
        QVERIFY2(shown.front().contains(bad), qPrintable(shown.front()));
        QVERIFY(shown.front().contains(a_)); // where the window stays
        QVERIFY(window.storeError().contains(reason));
        // The window stays as it was, and so does the file.
        QCOMPARE(window.storePath(), a_);
        QCOMPARE(window.windowTitle(), QStringLiteral("a.sqlite — Crossroads"));
        QCOMPARE(window.chipModel()->rowCount(), rows);
        QVERIFY(hasChip(window, QStringLiteral("Only In A")));
        QCOMPARE(window.selectedChipName(), selected);
        QCOMPARE(window.currentEditionId(), edition);
        QCOMPARE(readBytes(bad), before);
        QVERIFY(!MainWindow::recentStores().contains(bad));
        // The store still works: the window can go on to a good one.
        QVERIFY(window.openStore(b_, false));
    }

    void recentStoresMenu() {
        // Nine stores opened: the eight most recent are kept, newest first.
        QStringList paths;
        for (int i = 0; i < 9; ++i) {
            const QString p = path(qPrintable(QStringLiteral("r%1.sqlite").arg(i)));
            if (!QFile::exists(p))
                QFile::copy(a_, p);
            paths << p;
        }
        data::Store a(a_);
        MainWindow window(a);
        for (const QString& p : paths)
            QVERIFY2(window.openStore(p, false), qPrintable(window.storeError()));
        QStringList expected;
        for (int i = 8; i >= 1; --i)
            expected << paths[i];
        QCOMPARE(MainWindow::recentStores(), expected);
        QCOMPARE(MainWindow::recentStores().size(), MainWindow::kMaxRecentStores);

        // One of them goes missing: shown, disabled, and the rest as they were.
        QVERIFY(QFile::remove(paths[5]));
        QMenu* menu = window.recentStoresMenu();
        QVERIFY(menu);
        // Shown (it fills itself as it opens), for a picture; then read as filled again.
        window.show();
        menu->popup(window.mapToGlobal(QPoint(40, 40)));
        screenshot(*menu, "recent-stores-menu.png");
        menu->hide();
        Q_EMIT menu->aboutToShow();
        QList<QAction*> entries;
        for (QAction* action : menu->actions())
            if (!action->data().toString().isEmpty())
                entries << action;
        QCOMPARE(entries.size(), 8);
        for (int i = 0; i < entries.size(); ++i)
            QCOMPARE(entries[i]->data().toString(), expected[i]);
        QAction* missing = entries[3]; // paths[5]
        QCOMPARE(missing->data().toString(), paths[5]);
        QVERIFY(!missing->isEnabled());
        QVERIFY(missing->text().contains(QStringLiteral("(missing)")));
        QVERIFY(entries[0]->isChecked()); // the store open now
        QVERIFY(entries[1]->isEnabled() && !entries[1]->isChecked());

        // Choosing one opens it and brings it to the top.
        entries[2]->trigger();
        QCOMPARE(window.storePath(), paths[6]);
        QCOMPARE(MainWindow::recentStores().front(), paths[6]);

        // "Remove missing stores" drops the gone one.
        Q_EMIT menu->aboutToShow();
        auto* drop = menu->findChild<QAction*>(QStringLiteral("dropMissingStoresAction"));
        QVERIFY(drop);
        QVERIFY(drop->isEnabled());
        drop->trigger();
        QVERIFY(!MainWindow::recentStores().contains(paths[5]));
        QCOMPARE(MainWindow::recentStores().size(), 7);

        // A recent store removed after the menu was shown: one message, and dropped.
        Q_EMIT menu->aboutToShow();
        QAction* later = nullptr;
        for (QAction* action : menu->actions())
            if (action->data().toString() == paths[4])
                later = action;
        QVERIFY(later && later->isEnabled());
        QVERIFY(QFile::remove(paths[4]));
        const QStringList shown = messagesOf([&] { later->trigger(); });
        QCOMPARE(shown.size(), 1);
        QVERIFY(shown.front().contains(paths[4]));
        QCOMPARE(window.storePath(), paths[6]);
        QVERIFY(!MainWindow::recentStores().contains(paths[4]));
    }

    void refusedWhileWorkBelongsToTheStore() {
        data::Store a(a_);
        MainWindow window(a);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openScenarioEditor());
        QVERIFY(!window.openStore(b_, false));
        QVERIFY(window.storeError().contains(QStringLiteral("scenario editor")));
        QCOMPARE(window.storePath(), a_);
        window.scenarioEditor()->close();
        QTRY_VERIFY(!window.scenarioEditor());
        QVERIFY(window.openStore(b_, false));
    }

    void fileMenuOffersThem() {
        data::Store a(a_);
        MainWindow window(a);
        auto* open = window.findChild<QAction*>(QStringLiteral("openStoreAction"));
        QVERIFY(open);
        QCOMPARE(open->shortcut(), QKeySequence(QKeySequence::Open));
        QVERIFY(window.recentStoresMenu());
        // Under File, first the store, then the import.
        QMenu* file = nullptr;
        for (QMenu* m : window.findChildren<QMenu*>())
            if (m->title() == QStringLiteral("&File"))
                file = m;
        QVERIFY(file);
        QCOMPARE(file->actions().value(0), open);
        QCOMPARE(file->actions().value(1), window.recentStoresMenu()->menuAction());
        QCOMPARE(file->actions().value(3)->objectName(), QStringLiteral("importAction"));
    }
};

QTEST_MAIN(TestOpenStore)
#include "test_open_store.moc"
