// The store's dialogs, offscreen, on a temporary store: the import dialog shows an Epoch sample
// (tests/data) and a Crossroads CSV figure by figure, grouped by chip (added, changed, cleared,
// unchanged) before anything changes, applies all or nothing, and refuses a bad file in one
// message; the chip editor refuses a negative, NaN or zero figure naming the field and saves
// nothing then, and saves a good edit with its source; its alternative values table adds and
// removes other sources' values (stored, audited, seen by source sensitivity) and refuses a bad
// one naming the field; the history dialog then lists the change, filters by chip and exports. In
// the window, the menus open them and the table follows. CROSSROADS_SCREENSHOT_DIR=/dir saves
// pictures of the dialogs.
#include "analysis/SourceSensitivity.h"
#include "app/gui/ChipEditorDialog.h"
#include "app/gui/HistoryDialog.h"
#include "app/gui/ImportDialog.h"
#include "app/gui/MainWindow.h"
#include "app/gui/TableExportUi.h"
#include "app/gui/models/ChipTableModel.h"
#include "app/gui/models/DisplayText.h"
#include "app/gui/models/HistoryTableModel.h"
#include "app/gui/models/ImportDiffModel.h"
#include "data/ChipFiles.h"
#include "data/Csv.h"
#include "data/Store.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QComboBox>
#include <QFile>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

#include <memory>

using namespace crossroads;
using gui::ImportDiffModel;

namespace {

const QString kSample =
    QStringLiteral(CROSSROADS_SOURCE_DIR "/tests/data/epoch_hardware_sample.csv");

void screenshot(QWidget& w, const char* name) {
    const QByteArray dir = qgetenv("CROSSROADS_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    w.grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + QLatin1String(name));
}

// The top-level row of `chip`, or -1.
int chipRow(const QAbstractItemModel& model, const QString& chip) {
    for (int r = 0; r < model.rowCount(); ++r)
        if (model.index(r, 0).data(ImportDiffModel::ChipNameRole).toString() == chip)
            return r;
    return -1;
}

// The change kind of `field` under the chip's row, empty when it is not listed.
QString figureChange(const QAbstractItemModel& model, int row, const QString& field,
                     QString* oldValue = nullptr, QString* newValue = nullptr) {
    const QModelIndex chip = model.index(row, 0);
    for (int r = 0; r < model.rowCount(chip); ++r) {
        const QModelIndex f = model.index(r, 0, chip);
        if (f.data(ImportDiffModel::FieldRole).toString() == field &&
            f.data(ImportDiffModel::ChangeKindRole).toString() != QLatin1String("source")) {
            if (oldValue)
                *oldValue = model.index(r, ImportDiffModel::OldColumn, chip).data().toString();
            if (newValue)
                *newValue = model.index(r, ImportDiffModel::NewColumn, chip).data().toString();
            return f.data(ImportDiffModel::ChangeKindRole).toString();
        }
    }
    return {};
}

} // namespace

class TestStoreDialogs : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString db_;

    QString writeFile(const char* name, const QByteArray& content) {
        const QString path = dir_.filePath(QLatin1String(name));
        QFile f(path);
        f.open(QIODevice::WriteOnly);
        f.write(content);
        return path;
    }
    analysis::ChipSpec stored(const char* name) {
        return *data::Store(db_).chip(QLatin1String(name));
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                           dir_.filePath(QStringLiteral("config")));
        QCoreApplication::setOrganizationName(QStringLiteral("CrossroadsTest"));
        QCoreApplication::setApplicationName(QStringLiteral("test_store_dialogs"));
        db_ = dir_.filePath(QStringLiteral("dialogs.sqlite"));
        data::Store store(db_);
        QVERIFY(store.history().empty());
    }

    void importShowsTheEpochSampleByChip() {
        gui::ImportDialog dialog(db_);
        QAbstractItemModelTester tester(dialog.model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const auto before = data::Store(db_).chips().size();
        QVERIFY2(dialog.load(kSample), qPrintable(dialog.error()));
        QVERIFY(dialog.summary().contains(QStringLiteral("3 added, 0 changed")));
        QVERIFY(dialog.applyButton()->isEnabled());
        const ImportDiffModel& model = *dialog.model();
        QCOMPARE(model.rowCount(), 3);
        const int x100 = chipRow(model, QStringLiteral("Example Accelerator X100"));
        QVERIFY(x100 >= 0);
        QCOMPARE(model.index(x100, 0).data(ImportDiffModel::ChangeKindRole).toString(),
                 QStringLiteral("added"));
        QString oldValue, newValue;
        QCOMPARE(figureChange(model, x100, QStringLiteral("memory_bandwidth_gb_per_s"), &oldValue,
                              &newValue),
                 QStringLiteral("added"));
        QCOMPARE(oldValue, QStringLiteral("—"));
        QCOMPARE(newValue, QStringLiteral("3350"));
        // Nothing changed yet.
        QCOMPARE(data::Store(db_).chips().size(), before);
        dialog.show();
        screenshot(dialog, "import-dialog.png");
        QVERIFY(dialog.apply());
        QCOMPARE(data::Store(db_).chips().size(), before + 3);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        const auto history = data::Store(db_).history(QStringLiteral("Sample Legacy P9"));
        QVERIFY(!history.empty());
        QCOMPARE(QString::fromStdString(history.front().via), QStringLiteral("import ") + kSample);
    }

    void importShowsChangedClearedAndUnchanged() {
        const analysis::ChipSpec h20 = stored("H20 (China)");
        const QString same =
            QString::fromStdString(*data::chipFieldText(h20, "memory_bandwidth_gb_per_s"));
        const QString path = writeFile(
            "edit.csv", QStringLiteral("name,memory_bandwidth_gb_per_s,tdp_w\n"
                                       "H100 SXM5 80GB,3400,\n"
                                       "H20 (China),%1,%2\n")
                            .arg(same, QString::fromStdString(*data::chipFieldText(h20, "tdp_w")))
                            .toUtf8());
        gui::ImportDialog dialog(db_);
        QAbstractItemModelTester tester(dialog.model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY2(dialog.load(path), qPrintable(dialog.error()));
        QVERIFY2(dialog.summary().contains(QStringLiteral("0 added, 1 changed, 1 unchanged")),
                 qPrintable(dialog.summary()));
        QVERIFY(dialog.summary().contains(QStringLiteral("(1 cleared)")));
        ImportDiffModel& model = *dialog.model();
        // Unchanged chips are hidden until asked for.
        QCOMPARE(model.rowCount(), 1);
        const int h100 = chipRow(model, QStringLiteral("H100 SXM5 80GB"));
        QString oldValue, newValue;
        QCOMPARE(figureChange(model, h100, QStringLiteral("memory_bandwidth_gb_per_s"), &oldValue,
                              &newValue),
                 QStringLiteral("changed"));
        QCOMPARE(oldValue, QStringLiteral("3350"));
        QCOMPARE(newValue, QStringLiteral("3400"));
        QCOMPARE(figureChange(model, h100, QStringLiteral("tdp_w"), nullptr, &newValue),
                 QStringLiteral("cleared"));
        QCOMPARE(newValue, QStringLiteral("(cleared)"));
        model.setShowUnchanged(true);
        QCOMPARE(model.rowCount(), 2);
        const int h20Row = chipRow(model, QStringLiteral("H20 (China)"));
        QCOMPARE(model.index(h20Row, 0).data(ImportDiffModel::ChangeKindRole).toString(),
                 QStringLiteral("unchanged"));
        QCOMPARE(model.rowCount(model.index(h20Row, 0)), 0);
        // Cancel: nothing changed.
        dialog.reject();
        QCOMPARE(stored("H100 SXM5 80GB").memory_bandwidth_gb_per_s, std::optional<double>(3350));
    }

    void importRefusesABadFile_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("message");
        QTest::newRow("extension") << "chips.txt" << QByteArray("x") << ".json";
        QTest::newRow("bad figure")
            << "bad.csv" << QByteArray("name,tdp_w\nH20 (China),-5\n") << "tdp_w";
        QTest::newRow("unknown column")
            << "col.csv" << QByteArray("name,warp_speed\nH20 (China),9\n") << "warp_speed";
    }
    void importRefusesABadFile() {
        QFETCH(QString, name);
        QFETCH(QByteArray, content);
        QFETCH(QString, message);
        const QString path = writeFile(name.toLatin1().constData(), content);
        gui::ImportDialog dialog(db_);
        QVERIFY(!dialog.load(path));
        QVERIFY2(dialog.error().contains(message), qPrintable(dialog.error()));
        QVERIFY(!dialog.applyButton()->isEnabled());
        QVERIFY(!dialog.apply());
        QCOMPARE(dialog.model()->rowCount(), 0);
    }

    void editorRefusesBadFiguresNamingTheField_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("negative") << "-5";
        QTest::newRow("NaN") << "NaN";
        QTest::newRow("zero") << "0";
        QTest::newRow("text") << "four hundred";
    }
    void editorRefusesBadFiguresNamingTheField() {
        QFETCH(QString, text);
        const analysis::ChipSpec before = stored("H20 (China)");
        gui::ChipEditorDialog editor(db_, before);
        editor.setFieldText("tdp_w", text);
        const QString problem = editor.fieldError("tdp_w");
        QVERIFY2(problem.contains(QStringLiteral("tdp_w")), qPrintable(problem));
        QVERIFY(!editor.saveButton()->isEnabled());
        QVERIFY(!editor.sourceEditor("tdp_w")->isEnabled());
        QVERIFY(!editor.save());
        QVERIFY(editor.error().contains(QStringLiteral("tdp_w")));
        QCOMPARE(stored("H20 (China)"), before); // nothing saved
        if (text == QLatin1String("-5")) {
            editor.show();
            screenshot(editor, "chip-editor-refused.png");
        }
        // Corrected, the field is accepted again.
        editor.setFieldText("tdp_w", QStringLiteral("410"));
        QCOMPARE(editor.fieldError("tdp_w"), QString());
        QVERIFY(editor.saveButton()->isEnabled());
    }

    void editorSavesWithItsSourceAndHistoryShowsIt() {
        gui::ChipEditorDialog editor(db_, stored("H20 (China)"));
        QCOMPARE(editor.changedFields().size(), size_t(0));
        QVERIFY(!editor.saveButton()->isEnabled()); // nothing changed yet
        editor.setFieldText("tdp_w", QStringLiteral("410"));
        editor.setFieldText("datacenter", QStringLiteral("false"));
        QVERIFY(editor.sourceEditor("tdp_w")->isEnabled());
        editor.sourceEditor("tdp_w")->setText(QStringLiteral("NVIDIA H20 datasheet, 2024"));
        QCOMPARE(editor.changedFields(), (std::vector<std::string>{"datacenter", "tdp_w"}));
        QSignalSpy saved(&editor, &gui::ChipEditorDialog::saved);
        QVERIFY2(editor.save(), qPrintable(editor.error()));
        QCOMPARE(saved.size(), 1);
        const analysis::ChipSpec after = stored("H20 (China)");
        QCOMPARE(after.tdp_w, std::optional<double>(410));
        QCOMPARE(after.datacenter, std::optional<bool>(false));

        gui::HistoryDialog history(db_);
        QAbstractItemModelTester tester(history.model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(history.setChipFilter(QStringLiteral("h20 (china)")));
        const QAbstractItemModel& shown = *history.shownModel();
        QCOMPARE(shown.rowCount(), 2);
        bool found = false;
        for (int r = 0; r < shown.rowCount(); ++r) {
            const auto cell = [&](int c) { return shown.index(r, c).data().toString(); };
            QCOMPARE(cell(gui::HistoryTableModel::ChipColumn), QStringLiteral("H20 (China)"));
            QCOMPARE(cell(gui::HistoryTableModel::ViaColumn), QStringLiteral("editor"));
            const QModelIndex field = shown.index(r, gui::HistoryTableModel::FieldColumn);
            QCOMPARE(
                cell(gui::HistoryTableModel::FieldColumn),
                gui::HistoryTableModel::fieldLabel(
                    field.data(gui::HistoryTableModel::FieldKeyRole).toString().toStdString()));
            if (field.data(gui::HistoryTableModel::FieldKeyRole).toString() ==
                QLatin1String("tdp_w")) {
                found = true;
                QCOMPARE(cell(gui::HistoryTableModel::FieldColumn), gui::figureLabel("tdp_w"));
                QVERIFY(field.data(Qt::ToolTipRole).toString().contains(QLatin1String("tdp_w")));
                QCOMPARE(cell(gui::HistoryTableModel::NewColumn), QStringLiteral("410"));
                QCOMPARE(cell(gui::HistoryTableModel::SourceColumn),
                         QStringLiteral("NVIDIA H20 datasheet, 2024"));
            }
        }
        QVERIFY(found);
        // All chips: the imports above are there too.
        QVERIFY(history.setChipFilter({}));
        QVERIFY(shown.rowCount() > 2);
        QVERIFY(!history.setChipFilter(QStringLiteral("No such chip")));
        // The table shown exports as it is filtered.
        history.setChipFilter(QStringLiteral("H20 (China)"));
        const QString csv = dir_.filePath(QStringLiteral("history.csv"));
        QVERIFY(history.exportTo(csv));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto records = data::parseCsv(f.readAll().toStdString());
        QCOMPARE(records.size(), size_t(3));
        // The file keeps the stored keys, as `crossroads export --table history` writes them,
        // and the view its words afterwards.
        QStringList fields;
        for (std::size_t r = 1; r < records.size(); ++r)
            fields << QString::fromStdString(records[r].fields.at(2));
        fields.sort();
        QCOMPARE(fields, (QStringList{"datacenter", "tdp_w"}));
        QCOMPARE(
            shown.index(0, gui::HistoryTableModel::FieldColumn).data().toString(),
            gui::HistoryTableModel::fieldLabel(shown.index(0, gui::HistoryTableModel::FieldColumn)
                                                   .data(gui::HistoryTableModel::FieldKeyRole)
                                                   .toString()
                                                   .toStdString()));
        QVERIFY(shown.index(0, gui::HistoryTableModel::FieldColumn).data().toString() !=
                QString::fromStdString(records[1].fields.at(2)));
        history.show();
        screenshot(history, "history-dialog.png");
    }

    // The alternative values table: pre-filled from the store (the seed's H800 I/O 300 GB/s
    // beside 400), a row added and saved is stored with the rest of the edit and audited, and
    // source sensitivity then finds the class depends on the source (2022-10: I/O >= 600 GB/s
    // with TPP >= 4,800 is 3A090.a; 400 and 300 are both outside); a row removed goes again.
    void editorEditsAlternativeValues() {
        const char* name = "H800 SXM5 (China)";
        const analysis::ChipSpec before = stored(name);
        QCOMPARE(before.alternatives.size(), size_t(1));
        std::optional<analysis::Edition> edition;
        for (const analysis::Edition& e : data::Store(db_).editions())
            if (e.id == "2022-10")
                edition = e;
        QVERIFY(edition);
        const auto sensitive = [&](const analysis::ChipSpec& c) {
            return analysis::sourceSensitivity(c, *edition, analysis::classify(c, *edition))
                .sensitive();
        };
        QVERIFY(!sensitive(before));
        {
            gui::ChipEditorDialog editor(db_, before);
            QCOMPARE(editor.alternativesTable()->rowCount(), 1);
            QCOMPARE(editor.alternatives(), before.alternatives);
            QVERIFY(!editor.alternativesChanged());
            QVERIFY(!editor.saveButton()->isEnabled());
            const int row =
                editor.addAlternative("io_bidirectional_gb_per_s", QStringLiteral("900"),
                                      QStringLiteral("hypothetical source, 900 GB/s"));
            QCOMPARE(row, 1);
            QCOMPARE(editor.alternativesError(), QString());
            QVERIFY(editor.alternativesChanged());
            QVERIFY(editor.saveButton()->isEnabled());
            editor.show();
            screenshot(editor, "chip-editor-alternatives.png");
            QVERIFY2(editor.save(), qPrintable(editor.error()));
        }
        const analysis::ChipSpec added = stored(name);
        QCOMPARE(added.alternatives.size(), size_t(2));
        QCOMPARE(added.alternatives[0], before.alternatives[0]); // its confidence kept
        QCOMPARE(added.alternatives[1].field, std::string("io_bidirectional_gb_per_s"));
        QCOMPARE(added.alternatives[1].value, 900.0);
        QCOMPARE(added.io_bidirectional_gb_per_s, before.io_bidirectional_gb_per_s);
        QVERIFY(sensitive(added));
        const auto history = [&] {
            std::vector<data::AuditEntry> out;
            for (const data::AuditEntry& e : data::Store(db_).history(QLatin1String(name)))
                if (e.field == "alternatives" && e.via == "editor")
                    out.push_back(e);
            return out;
        };
        QCOMPARE(history().size(), size_t(1));
        QVERIFY(history()[0].new_value->find("900") != std::string::npos);

        {
            gui::ChipEditorDialog editor(db_, added);
            QCOMPARE(editor.alternativesTable()->rowCount(), 2);
            editor.alternativesTable()->setCurrentCell(1, 0);
            editor.findChild<QPushButton*>(QStringLiteral("removeAlternative"))->click();
            QCOMPARE(editor.alternativesTable()->rowCount(), 1);
            QVERIFY(editor.alternativesChanged());
            QVERIFY2(editor.save(), qPrintable(editor.error()));
        }
        const analysis::ChipSpec removed = stored(name);
        QCOMPARE(removed.alternatives, before.alternatives);
        QVERIFY(!sensitive(removed));
        QCOMPARE(history().size(), size_t(2));
        QVERIFY(!history()[1].new_value);
        QVERIFY(history()[1].old_value->find("900") != std::string::npos);
    }

    void editorRefusesBadAlternativesNamingTheField_data() {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("text");
        QTest::newRow("negative") << "io_bidirectional_gb_per_s"
                                  << "-300";
        QTest::newRow("NaN") << "bf16"
                             << "NaN";
        QTest::newRow("zero area") << "applicable_die_area_mm2"
                                   << "0";
        QTest::newRow("empty") << "tdp_w"
                               << "";
    }
    void editorRefusesBadAlternativesNamingTheField() {
        QFETCH(QString, field);
        QFETCH(QString, text);
        const analysis::ChipSpec before = stored("H800 SXM5 (China)");
        gui::ChipEditorDialog editor(db_, before);
        const int row =
            editor.addAlternative(field.toStdString(), text, QStringLiteral("a source"));
        const QString problem = editor.alternativesError();
        QVERIFY2(problem.contains(field), qPrintable(problem));
        QVERIFY(!editor.saveButton()->isEnabled());
        QVERIFY(!editor.save());
        QVERIFY2(editor.error().contains(field), qPrintable(editor.error()));
        QCOMPARE(stored("H800 SXM5 (China)"), before); // nothing saved
        if (text == QLatin1String("-300")) {
            editor.show();
            screenshot(editor, "chip-editor-alternative-refused.png");
        }
        // Corrected, it is accepted (and a citation is needed).
        auto* value = qobject_cast<QLineEdit*>(editor.alternativesTable()->cellWidget(row, 1));
        QVERIFY(value);
        value->setText(QStringLiteral("350"));
        QCOMPARE(editor.alternativesError(), QString());
        QVERIFY(editor.saveButton()->isEnabled());
        qobject_cast<QLineEdit*>(editor.alternativesTable()->cellWidget(row, 2))->clear();
        QVERIFY(editor.alternativesError().contains(QLatin1String("citation")));
        QVERIFY(!editor.saveButton()->isEnabled());
    }

    void windowOpensThemAndFollows() {
        data::Store store(db_);
        gui::MainWindow window(store);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto* import = window.findChild<QAction*>(QStringLiteral("importAction"));
        auto* history = window.findChild<QAction*>(QStringLiteral("historyAction"));
        auto* edit = window.findChild<QAction*>(QStringLiteral("editChipAction"));
        QVERIFY(import && history && edit);

        // Edit > Edit chip… on the selected chip; saving reclassifies the table.
        const QString h100 = QStringLiteral("H100 SXM5 80GB");
        QVERIFY(window.selectChip(h100));
        const auto tpp = [&] {
            const auto* r = window.chipModel()->resultAt(window.chipModel()->rowOfChip(h100));
            return r && r->tpp ? r->tpp->tpp : 0.0;
        };
        const double before = tpp();
        QVERIFY(before > 15000);
        edit->trigger();
        auto* editor = window.findChild<gui::ChipEditorDialog*>();
        QVERIFY(editor && editor->isVisible());
        editor->setFieldText("fp8", QStringLiteral("3958"));
        editor->sourceEditor("fp8")->setText(QStringLiteral("what-if"));
        QVERIFY2(editor->save(), qPrintable(editor->error()));
        QCOMPARE(tpp(), 2 * before);
        QCOMPARE(window.selectedChipName(), h100);

        // View > History… lists the edit.
        history->trigger();
        auto* dialog = window.findChild<gui::HistoryDialog*>();
        QVERIFY(dialog && dialog->isVisible());
        QVERIFY(dialog->setChipFilter(h100));
        QCOMPARE(
            dialog->shownModel()
                ->index(dialog->shownModel()->rowCount() - 1, gui::HistoryTableModel::FieldColumn)
                .data()
                .toString(),
            QStringLiteral("Dense FP8 (TFLOPS)"));

        // File > Import… adds a chip to the table (and to the open history).
        const int rows = window.chipModel()->rowCount();
        const int entries = dialog->model()->rowCount();
        import->trigger();
        auto* importer = window.findChild<gui::ImportDialog*>();
        QVERIFY(importer && importer->isVisible());
        QVERIFY2(importer->load(writeFile("new.csv", "name,vendor,memory_bandwidth_gb_per_s\n"
                                                     "Test Chip Z,Acme,100\n")),
                 qPrintable(importer->error()));
        QVERIFY(importer->apply());
        QCOMPARE(window.chipModel()->rowCount(), rows + 1);
        QVERIFY(window.chipModel()->rowOfChip(QStringLiteral("Test Chip Z")) >= 0);
        QVERIFY(dialog->model()->rowCount() > entries);

        // Nothing selected: the editor does not open.
        window.searchField()->setText(QStringLiteral("no such chip at all"));
        QTRY_VERIFY(!window.findChild<gui::ChipEditorDialog*>());
        edit->trigger();
        QVERIFY(!window.findChild<gui::ChipEditorDialog*>());
        if (const QByteArray d = qgetenv("CROSSROADS_SCREENSHOT_DIR"); !d.isEmpty()) {
            window.searchField()->clear();
            window.resize(1600, 960);
            QTest::qWait(100);
            window.grab().save(QString::fromLocal8Bit(d) +
                               QStringLiteral("/window-after-edit.png"));
        }
    }
};

QTEST_MAIN(TestStoreDialogs)
#include "test_store_dialogs.moc"
