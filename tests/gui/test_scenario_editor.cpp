// The scenario editor, offscreen: its models under QAbstractItemModelTester through every kind of
// edit, undo and redo of each command (typing in one field is one step), refused edits that
// say why, saving to the store (a rename that fails half way saves nothing), the window's table
// following the draft as it is typed (Edit > Undo included), and the edition selector showing
// the draft's entry while the table shows the draft. CROSSROADS_SCREENSHOT_DIR=/dir saves
// pictures of the editor and the window.
#include "app/charts/ChartKind.h"
#include "app/gui/ChartPanel.h"
#include "app/gui/ChipEditorDialog.h"
#include "app/gui/MainWindow.h"
#include "app/gui/ScenarioEditor.h"
#include "app/gui/models/ChipTableModel.h"
#include "app/gui/models/EditionListModel.h"
#include "app/gui/models/ScenarioDraft.h"
#include "data/Store.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoGroup>
#include <QUndoStack>

#include <algorithm>
#include <memory>

using namespace crossroads;
using analysis::Comparator;
using gui::HypotheticalChipsModel;
using gui::ScenarioCriteriaModel;
using gui::ScenarioDraft;

namespace {

std::vector<std::string> names(const std::vector<analysis::ChipSpec>& chips) {
    std::vector<std::string> out;
    for (const auto& c : chips)
        out.push_back(c.name);
    return out;
}

const analysis::ClassificationResult* resultOf(const gui::ChipTableModel& model,
                                               const QString& chip) {
    return model.resultAt(model.rowOfChip(chip));
}

void saveShot(QWidget& widget, const char* file) {
    const QByteArray dir = qgetenv("CROSSROADS_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QTest::qWait(50);
    QVERIFY(
        widget.grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + QLatin1String(file)));
}

} // namespace

class TestScenarioEditor : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::unique_ptr<data::Store> store_;

    std::unique_ptr<ScenarioDraft> newDraft(const char* base = "2026-01") {
        auto draft = std::make_unique<ScenarioDraft>(store_->editions(), names(store_->chips()));
        if (!draft->startNew(QString::fromLatin1(base)))
            qFatal("cannot start a draft on %s", base);
        return draft;
    }
    static int a1Tpp(const ScenarioDraft& d) {
        return d.criteria()->rowOf("3A090.a.1", "tpp", Comparator::GreaterEqual);
    }
    static QModelIndex thresholdCell(const ScenarioDraft& d, int row) {
        return d.criteria()->index(row, ScenarioCriteriaModel::ThresholdColumn);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                           dir_.filePath(QStringLiteral("config")));
        QCoreApplication::setOrganizationName(QStringLiteral("CrossroadsTest"));
        QCoreApplication::setApplicationName(QStringLiteral("test_scenario_editor"));
        store_ = std::make_unique<data::Store>(dir_.filePath(QStringLiteral("gui.sqlite")));
    }

    void modelsHoldUpUnderTheTester() {
        auto draft = newDraft();
        QAbstractItemModelTester criteria(draft->criteria(),
                                          QAbstractItemModelTester::FailureReportingMode::Fatal);
        QAbstractItemModelTester chips(draft->chips(),
                                       QAbstractItemModelTester::FailureReportingMode::Fatal);
        QVERIFY(draft->criteria()->rowCount() > 10);
        QVERIFY(draft->criteria()->setData(thresholdCell(*draft, a1Tpp(*draft)), "4,000"));
        QVERIFY(draft->setBase(QStringLiteral("2022-10")));
        const int row = draft->addChip();
        QVERIFY(draft->chips()->setData(
            draft->chips()->index(row, HypotheticalChipsModel::FirstRateColumn + 4), "130"));
        draft->addChip();
        QVERIFY(draft->removeChip(0));
        while (draft->undoStack()->canUndo())
            draft->undoStack()->undo();
        while (draft->undoStack()->canRedo())
            draft->undoStack()->redo();
        QVERIFY(draft->startNew(QStringLiteral("2023-10")));
        QCOMPARE(draft->chips()->rowCount(), 0);
    }

    void nameAndNoteUndo() {
        auto draft = newDraft();
        QUndoStack* stack = draft->undoStack();
        QSignalSpy names(draft.get(), &ScenarioDraft::nameChanged);
        // Typing in one visit to the field is one step.
        draft->startEditSession();
        for (const char* text : {"t", "ti", "tight"})
            draft->setName(QString::fromLatin1(text));
        QCOMPARE(stack->count(), 1);
        draft->startEditSession();
        draft->setNote(QStringLiteral("What if"));
        QCOMPARE(stack->count(), 2);
        stack->undo();
        QCOMPARE(draft->note(), QString());
        stack->undo();
        QCOMPARE(draft->name(), QString());
        QCOMPARE(names.last().first().toString(), QString());
        stack->redo();
        QCOMPARE(draft->name(), QStringLiteral("tight"));
        stack->redo();
        QCOMPARE(draft->note(), QStringLiteral("What if"));
        // A new visit to the field is a new step; typing back to where it was is none.
        draft->startEditSession();
        draft->setName(QStringLiteral("tighter"));
        draft->setName(QStringLiteral("tight"));
        QCOMPARE(stack->count(), 2);
    }

    void thresholdUndo() {
        auto draft = newDraft();
        QUndoStack* stack = draft->undoStack();
        const int row = a1Tpp(*draft);
        QVERIFY(row >= 0);
        ScenarioCriteriaModel* m = draft->criteria();
        draft->startEditSession();
        for (const char* text : {"4", "40", "400", "4 000"})
            QVERIFY(m->setData(thresholdCell(*draft, row), QString::fromLatin1(text)));
        QCOMPARE(stack->count(), 1); // one cell, one visit: one step
        QCOMPARE(m->rows()[size_t(row)].threshold, std::optional<double>(4000));
        QVERIFY(m->index(row, 0).data(ScenarioCriteriaModel::ChangedRole).toBool());
        QCOMPARE(draft->scenario().overrides.size(), size_t(1));
        QCOMPARE(analysis::thresholdOverrideText(draft->scenario().overrides.front()),
                 std::string("3A090.a.1:tpp >= 4000"));
        // The operator, within its direction.
        draft->startEditSession();
        QVERIFY(m->setData(m->index(row, ScenarioCriteriaModel::OperatorColumn), ">"));
        QCOMPARE(stack->count(), 2);
        QCOMPARE(draft->scenario().overrides.front().op, Comparator::Greater);
        stack->undo();
        QCOMPARE(draft->scenario().overrides.front().op, Comparator::GreaterEqual);
        stack->undo();
        QVERIFY(!m->rows()[size_t(row)].changed());
        QVERIFY(draft->scenario().overrides.empty());
        stack->redo();
        QCOMPARE(m->rows()[size_t(row)].threshold, std::optional<double>(4000));
        // Clearing the cell goes back to the base's criterion.
        draft->startEditSession();
        QVERIFY(m->setData(thresholdCell(*draft, row), QString()));
        QVERIFY(!m->rows()[size_t(row)].changed());
        stack->undo();
        QVERIFY(m->rows()[size_t(row)].changed());
    }

    void refusedEditsSayWhy_data() {
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("named");
        QTest::newRow("opposite operator") << int(ScenarioCriteriaModel::OperatorColumn) << "<"
                                           << "direction of >=";
        QTest::newRow("not a number") << int(ScenarioCriteriaModel::ThresholdColumn) << "four"
                                      << "not a threshold";
        QTest::newRow("negative") << int(ScenarioCriteriaModel::ThresholdColumn) << "-4"
                                  << "not a threshold";
        QTest::newRow("infinite") << int(ScenarioCriteriaModel::ThresholdColumn) << "inf"
                                  << "not a threshold";
    }
    void refusedEditsSayWhy() {
        QFETCH(int, column);
        QFETCH(QString, text);
        QFETCH(QString, named);
        auto draft = newDraft();
        QSignalSpy rejected(draft.get(), &ScenarioDraft::editRejected);
        const QModelIndex cell = draft->criteria()->index(a1Tpp(*draft), column);
        QVERIFY(!draft->criteria()->setData(cell, text));
        QCOMPARE(rejected.count(), 1);
        QVERIFY2(rejected.first().first().toString().contains(named),
                 qPrintable(rejected.first().first().toString()));
        QCOMPARE(draft->undoStack()->count(), 0);
    }

    void baseChangeCarriesWhatApplies() {
        auto draft = newDraft("2023-10");
        ScenarioCriteriaModel* m = draft->criteria();
        QVERIFY(m->setData(thresholdCell(*draft, a1Tpp(*draft)), "3000"));
        draft->startEditSession();
        const int b1 = m->rowOf("3A090.b.1", "tpp", Comparator::Less);
        QVERIFY(m->setData(thresholdCell(*draft, b1), "3000"));
        QCOMPARE(draft->scenario().overrides.size(), size_t(2));
        // 2022-10 has 3A090.a.1 on TPP (and I/O), no 3A090.b.1.
        QVERIFY(draft->setBase(QStringLiteral("2022-10")));
        QCOMPARE(draft->baseId(), QStringLiteral("2022-10"));
        QCOMPARE(draft->scenario().overrides.size(), size_t(1));
        QCOMPARE(draft->scenario().overrides.front().clause, std::string("3A090.a.1"));
        QVERIFY(!draft->setBase(QStringLiteral("1999-01")));
        draft->undoStack()->undo();
        QCOMPARE(draft->baseId(), QStringLiteral("2023-10"));
        QCOMPARE(draft->scenario().overrides.size(), size_t(2));
        draft->undoStack()->redo();
        QCOMPARE(draft->scenario().overrides.size(), size_t(1));
    }

    void chipsUndo() {
        auto draft = newDraft("2023-10");
        QUndoStack* stack = draft->undoStack();
        HypotheticalChipsModel* m = draft->chips();
        QSignalSpy rejected(draft.get(), &ScenarioDraft::editRejected);
        const int row = draft->addChip();
        QCOMPARE(row, 0);
        QCOMPARE(QString::fromStdString(m->chips()[0].name), QStringLiteral("Hypothetical 1"));
        draft->startEditSession();
        QVERIFY(m->setData(m->index(0, HypotheticalChipsModel::NameColumn), "Hypo X1"));
        draft->startEditSession();
        const int bf16 = HypotheticalChipsModel::FirstRateColumn +
                         int(std::find(analysis::kAllPrecisions.begin(),
                                       analysis::kAllPrecisions.end(), analysis::Precision::Bf16) -
                             analysis::kAllPrecisions.begin());
        QVERIFY(m->setData(m->index(0, bf16), "130"));
        draft->startEditSession();
        QVERIFY(m->setData(m->index(0, HypotheticalChipsModel::DieAreaColumn), "1,000"));
        draft->startEditSession();
        QVERIFY(m->setData(m->index(0, HypotheticalChipsModel::DatacenterColumn),
                           int(Qt::PartiallyChecked), Qt::CheckStateRole));
        QVERIFY(!m->chips()[0].datacenter.has_value());
        QCOMPARE(stack->count(), 5);
        // Refused: no figure is zero or less, no name is a stored chip's or taken twice.
        QVERIFY(!m->setData(m->index(0, HypotheticalChipsModel::DieAreaColumn), "0"));
        QVERIFY(!m->setData(m->index(0, HypotheticalChipsModel::NameColumn), "h100 sxm5 80gb"));
        draft->addChip();
        QVERIFY(!m->setData(m->index(1, HypotheticalChipsModel::NameColumn), "HYPO X1"));
        QCOMPARE(rejected.count(), 3);
        QCOMPARE(stack->count(), 6);
        // The chip is classified under the draft: TPP 2,080 is outside 2023-10 as it stands.
        QVERIFY(draft->removeChip(1));
        auto e = draft->resolve();
        QVERIFY(e.has_value());
        QCOMPARE(e->hypothetical_chips.size(), size_t(1));
        QCOMPARE(analysis::classify(e->hypothetical_chips[0], *e).controlled,
                 std::optional<bool>(false));
        // Back through every step, and forward again.
        QCOMPARE(stack->count(), 7);
        stack->undo(); // remove
        QCOMPARE(m->rowCount(), 2);
        stack->undo(); // add
        QCOMPARE(m->rowCount(), 1);
        stack->undo(); // datacenter
        QCOMPARE(m->chips()[0].datacenter, std::optional<bool>(true));
        stack->undo(); // die area
        QVERIFY(!m->chips()[0].applicable_die_area_mm2);
        stack->undo(); // bf16
        QVERIFY(!m->chips()[0].dense_tops[analysis::Precision::Bf16]);
        stack->undo(); // name
        QCOMPARE(QString::fromStdString(m->chips()[0].name), QStringLiteral("Hypothetical 1"));
        stack->undo(); // the first add
        QCOMPARE(m->rowCount(), 0);
        stack->setIndex(stack->count());
        QCOMPARE(m->rowCount(), 1);
        QCOMPARE(m->chips()[0].applicable_die_area_mm2, std::optional<double>(1000));
    }

    void saveProblemsBlockSaving() {
        auto draft = newDraft();
        QVERIFY(draft->saveProblem().contains(QStringLiteral("name")));
        draft->setName(QStringLiteral("2023-10"));
        QVERIFY(draft->saveProblem().contains(QStringLiteral("id of an edition")));
        draft->startEditSession();
        draft->setName(QStringLiteral("fine"));
        QVERIFY(draft->saveProblem().isEmpty());
    }

    void savingCreatesAScenario() {
        gui::ScenarioEditor editor(store_->path(), store_->editions(), store_->chips());
        editor.setConfirmDiscard(false);
        QVERIFY(editor.startNew(QStringLiteral("2026-01")));
        editor.show();
        QVERIFY(QTest::qWaitForWindowExposed(&editor));
        QSignalSpy drafts(&editor, &gui::ScenarioEditor::draftChanged);
        QSignalSpy saved(&editor, &gui::ScenarioEditor::saved);
        QVERIFY(!editor.saveButton()->isEnabled()); // no name yet
        editor.nameField()->setFocus();
        QTest::keyClicks(editor.nameField(), QStringLiteral("tpp-2000"));
        QCOMPARE(editor.draft()->name(), QStringLiteral("tpp-2000"));
        QCOMPARE(editor.draft()->undoStack()->count(), 1);
        // Ctrl+Z in the field undoes the scenario's step, Ctrl+Shift+Z redoes it.
        QTest::keyClick(editor.nameField(), Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(editor.nameField()->text(), QString());
        QTest::keyClick(editor.nameField(), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(editor.nameField()->text(), QStringLiteral("tpp-2000"));
        auto* criteria = editor.draft()->criteria();
        QVERIFY(criteria->setData(thresholdCell(*editor.draft(), a1Tpp(*editor.draft())), "2000"));
        QVERIFY(drafts.count() >= 3);
        const auto last = drafts.last().first().value<analysis::Edition>();
        QCOMPARE(QString::fromStdString(last.id), QStringLiteral("tpp-2000"));
        QVERIFY(editor.statusLabel()->text().contains(QStringLiteral("change class")));
        QVERIFY(editor.saveButton()->isEnabled());
        saveShot(editor, "scenario-editor.png");
        QVERIFY(editor.save());
        QCOMPARE(saved.count(), 1);
        const auto record = store_->scenario(QStringLiteral("tpp-2000"));
        QVERIFY(record.has_value());
        QCOMPARE(record->scenario.base, std::string("2026-01"));
        QCOMPARE(analysis::thresholdOverrideText(record->scenario.overrides.at(0)),
                 std::string("3A090.a.1:tpp >= 2000"));
        // Opened again to change it: the same scenario, its name editable (renaming).
        gui::ScenarioEditor again(store_->path(), store_->editions(), store_->chips());
        QVERIFY(again.edit(record->scenario));
        QVERIFY(!again.nameField()->isReadOnly());
        QVERIFY(again.draft()->scenario() == record->scenario);
        QVERIFY(again.draft()->saveProblem().isEmpty());
        QVERIFY(store_->removeScenario(QStringLiteral("tpp-2000")));
    }

    void renamingASavedScenario() {
        // "old-name" and a scenario extending it, "child-of-old"; "other" takes a name.
        const auto make = [&](const char* name, const std::string& base) {
            analysis::Scenario s;
            s.name = name;
            s.base = base;
            store_->saveScenario(s);
        };
        make("old-name", "2026-01");
        make("child-of-old", "old-name");
        make("other", "2026-01");
        const auto saved = store_->scenario(QStringLiteral("old-name"));
        QVERIFY(saved);
        gui::ScenarioEditor editor(store_->path(), store_->editions(), store_->chips());
        editor.setConfirmDiscard(false);
        QVERIFY(editor.edit(saved->scenario));
        ScenarioDraft& draft = *editor.draft();
        QCOMPARE(draft.editing(), QStringLiteral("old-name"));
        // Validated as `crossroads scenario new` names are: an edition's id, a name taken
        // (whatever its case), an empty or too long one are refused, saving is off.
        const auto refused = [&](const QString& name, const QString& says) {
            draft.startEditSession();
            draft.setName(name);
            QCOMPARE(draft.name(), name);
            QVERIFY2(draft.saveProblem().contains(says, Qt::CaseInsensitive),
                     qPrintable(name + QStringLiteral(": ") + draft.saveProblem()));
            QVERIFY(!editor.saveButton()->isEnabled());
        };
        refused(QStringLiteral("2023-10"), QStringLiteral("id of an edition"));
        refused(QStringLiteral("OTHER"), QStringLiteral("exists already"));
        refused(QString(), QStringLiteral("name"));
        refused(QString(81, QLatin1Char('x')), QStringLiteral("80"));
        // Its own name in another case is no clash.
        draft.startEditSession();
        draft.setName(QStringLiteral("Old-Name"));
        QCOMPARE(draft.saveProblem(), QString());
        // Undoable: every name above is one step, back to the saved one.
        while (draft.undoStack()->canUndo())
            draft.undoStack()->undo();
        QCOMPARE(draft.name(), QStringLiteral("old-name"));
        QCOMPARE(editor.nameField()->text(), QStringLiteral("old-name"));
        draft.undoStack()->redo();
        QCOMPARE(draft.name(), QStringLiteral("2023-10"));
        // A good name: saved under it, the old one gone, the child moved to it.
        editor.nameField()->setFocus();
        editor.nameField()->selectAll();
        QTest::keyClicks(editor.nameField(), QStringLiteral("new-name"));
        QCOMPARE(draft.name(), QStringLiteral("new-name"));
        QVERIFY(editor.saveButton()->isEnabled());
        QSignalSpy savedSpy(&editor, &gui::ScenarioEditor::saved);
        // A failure half way (injected: the old name cannot go, after the new one is saved and
        // the child moved) saves nothing: one transaction.
        const auto sql = [&](const QString& text) {
            QSqlQuery q(store_->database());
            QVERIFY2(q.exec(text), qPrintable(q.lastError().text()));
        };
        sql(QStringLiteral("CREATE TRIGGER inject BEFORE DELETE ON scenarios WHEN OLD.name = "
                           "'old-name' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"));
        QVERIFY(!editor.save());
        QVERIFY2(editor.statusLabel()->text().contains(QStringLiteral("injected failure")),
                 qPrintable(editor.statusLabel()->text()));
        QCOMPARE(savedSpy.size(), 0);
        QVERIFY(store_->scenario(QStringLiteral("old-name")));
        QVERIFY(!store_->scenario(QStringLiteral("new-name")));
        QCOMPARE(store_->scenario(QStringLiteral("child-of-old"))->scenario.base,
                 std::string("old-name"));
        sql(QStringLiteral("DROP TRIGGER inject"));
        QVERIFY2(editor.save(), qPrintable(editor.statusLabel()->text()));
        QCOMPARE(savedSpy.size(), 1);
        QCOMPARE(savedSpy.first().first().toString(), QStringLiteral("new-name"));
        QVERIFY(!store_->scenario(QStringLiteral("old-name")));
        QVERIFY(store_->scenario(QStringLiteral("new-name")));
        const auto child = store_->scenario(QStringLiteral("child-of-old"));
        QVERIFY(child);
        QCOMPARE(child->scenario.base, std::string("new-name"));
        QVERIFY(child->problem.empty());
        for (const char* name : {"child-of-old", "new-name", "other"})
            QVERIFY(store_->removeScenario(QString::fromLatin1(name)));
    }

    void cellEditsApplyAsTyped() {
        gui::ScenarioEditor editor(store_->path(), store_->editions(), store_->chips());
        editor.setConfirmDiscard(false);
        QVERIFY(editor.startNew(QStringLiteral("2026-01")));
        editor.show();
        QVERIFY(QTest::qWaitForWindowExposed(&editor));
        QSignalSpy drafts(&editor, &gui::ScenarioEditor::draftChanged);
        const int row = a1Tpp(*editor.draft());
        const QModelIndex cell = thresholdCell(*editor.draft(), row);
        editor.criteriaView()->setFocus();
        editor.criteriaView()->setCurrentIndex(cell);
        editor.criteriaView()->edit(cell);
        auto* line = editor.criteriaView()->findChild<QLineEdit*>();
        QVERIFY(line);
        line->selectAll();
        QTest::keyClicks(line, QStringLiteral("3000"));
        // Every keystroke reached the draft before the cell was left, as one undo step.
        QCOMPARE(editor.draft()->criteria()->rows()[size_t(row)].threshold,
                 std::optional<double>(3000));
        QVERIFY(drafts.count() >= 4);
        QCOMPARE(editor.draft()->undoStack()->count(), 1);
        QTest::keyClick(line, Qt::Key_Return);
        QCOMPARE(editor.draft()->undoStack()->count(), 1);
        QCOMPARE(editor.draft()->criteria()->rows()[size_t(row)].threshold,
                 std::optional<double>(3000));
        editor.undoAction()->trigger();
        QVERIFY(!editor.draft()->criteria()->rows()[size_t(row)].changed());
    }

    void windowFollowsTheDraft() {
        gui::MainWindow window(*store_);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QString h20 = QStringLiteral("H20 (China)");
        QCOMPARE(window.currentEditionId(), QStringLiteral("2026-01"));
        QCOMPARE(resultOf(*window.chipModel(), h20)->controlled, std::optional<bool>(false));
        const int stored = window.chipModel()->rowCount();

        gui::ScenarioEditor* editor = window.openScenarioEditor();
        QVERIFY(editor);
        editor->setConfirmDiscard(false);
        QCOMPARE(editor->draft()->baseId(), QStringLiteral("2026-01"));
        QCOMPARE(window.undoGroup()->activeStack(), editor->draft()->undoStack());
        // As the threshold is typed, the table is classified under the draft.
        editor->draft()->startEditSession();
        auto* criteria = editor->draft()->criteria();
        const QModelIndex cell = thresholdCell(*editor->draft(), a1Tpp(*editor->draft()));
        QVERIFY(criteria->setData(cell, "2"));
        QVERIFY(criteria->setData(cell, "20"));
        QVERIFY(criteria->setData(cell, "2000"));
        QCOMPARE(window.chipModel()->edition()->scenario, true);
        QCOMPARE(resultOf(*window.chipModel(), h20)->controlled, std::optional<bool>(true));
        // The chart follows the draft too: drawn under it, the draft among its editions.
        QCOMPARE(window.chartPanel()->draftId(),
                 QString::fromStdString(window.chipModel()->edition()->id));
        {
            const charts::ChartInputs shown = window.chartPanel()->shownInputs();
            QCOMPARE(QString::fromStdString(shown.edition_id), window.chartPanel()->draftId());
            const auto* drawn = analysis::findEdition(shown.editions, shown.edition_id);
            QVERIFY(drawn && drawn->scenario);
            QCOMPARE(drawn->clauses.size(), window.chipModel()->edition()->clauses.size());
            QCOMPARE(drawn->base, window.chipModel()->edition()->base);
        }
        // A hypothetical chip appears in the table.
        editor->addChip();
        QCOMPARE(window.chipModel()->rowCount(), stored + 1);
        QVERIFY(window.chipModel()->rowOfChip(QStringLiteral("Hypothetical 1")) >= 0);
        {
            const auto chips = window.chartPanel()->shownInputs().chips;
            QVERIFY(std::any_of(chips.begin(), chips.end(),
                                [](const auto& c) { return c.name == "Hypothetical 1"; }));
        }
        // Edit > Undo in the window undoes the editor's last step.
        QAction* undo = window.findChild<QAction*>(QStringLiteral("undoAction"));
        QVERIFY(undo && undo->isEnabled());
        undo->trigger();
        QCOMPARE(window.chipModel()->rowCount(), stored);
        editor->draft()->undoStack()->redo();
        QCOMPARE(window.chipModel()->rowCount(), stored + 1);
        // The menus are there.
        QVERIFY(window.findChild<QAction*>(QStringLiteral("newScenarioAction")));
        QVERIFY(window.findChild<QAction*>(QStringLiteral("editScenarioAction")));
        QVERIFY(window.findChild<QAction*>(QStringLiteral("deleteScenarioAction")));

        editor->nameField()->setText(QStringLiteral("tpp-2000"));
        editor->draft()->setName(QStringLiteral("tpp-2000"));
        editor->draft()->setNote(QStringLiteral("What if the TPP line were 2,000?"));
        window.resize(1600, 960);
        saveShot(window, "scenario-window-draft.png");
        saveShot(*editor, "scenario-editor-window.png");
        QVERIFY(editor->save());
        QTest::qWait(0);
        // Saved: the selector lists it as a scenario and shows it; the hypothetical chip stays.
        QCOMPARE(window.currentEditionId(), QStringLiteral("tpp-2000"));
        const int row = window.editionModel()->rowOfEdition(QStringLiteral("tpp-2000"));
        QVERIFY(row >= 0);
        QVERIFY(window.editionModel()->index(row).data().toString().startsWith(
            QStringLiteral("tpp-2000 (scenario of 2026-01)")));
        QCOMPARE(window.chipModel()->rowCount(), stored + 1);
        QCOMPARE(resultOf(*window.chipModel(), h20)->controlled, std::optional<bool>(true));
        saveShot(window, "scenario-window-saved.png");

        // Back to an edition of the regulation: no hypothetical chip.
        QVERIFY(window.setCurrentEdition(QStringLiteral("2026-01")));
        QCOMPARE(window.chipModel()->rowCount(), stored);
        // Editing it again opens it with its name; closing without saving restores the table.
        QVERIFY(window.setCurrentEdition(QStringLiteral("tpp-2000")));
        QTest::qWait(0);
        gui::ScenarioEditor* again = window.openScenarioEditor(QStringLiteral("tpp-2000"));
        QVERIFY(again);
        again->setConfirmDiscard(false);
        QCOMPARE(again->draft()->editing(), QStringLiteral("tpp-2000"));
        again->draft()->startEditSession();
        QVERIFY(again->draft()->criteria()->setData(
            thresholdCell(*again->draft(), a1Tpp(*again->draft())), "3000"));
        QCOMPARE(resultOf(*window.chipModel(), h20)->controlled, std::optional<bool>(false));
        again->reject();
        QCOMPARE(resultOf(*window.chipModel(), h20)->controlled, std::optional<bool>(true));
        QCOMPARE(window.chartPanel()->draftId(), QString()); // the chart leaves the draft too
        QCOMPARE(window.chartPanel()->shownInputs().edition_id, std::string("tpp-2000"));

        QVERIFY(window.deleteScenario(QStringLiteral("tpp-2000"), false));
        QCOMPARE(window.editionModel()->rowOfEdition(QStringLiteral("tpp-2000")), -1);
        QCOMPARE(window.currentEditionId(), QStringLiteral("2026-01"));
        QVERIFY(!store_->scenario(QStringLiteral("tpp-2000")));
    }

    void openEditorTakesChipsReadAgain() {
        gui::MainWindow window(*store_);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        gui::ScenarioEditor* editor = window.openScenarioEditor();
        QVERIFY(editor);
        editor->setConfirmDiscard(false);
        editor->draft()->startEditSession();
        QVERIFY(editor->draft()->criteria()->setData(
            thresholdCell(*editor->draft(), a1Tpp(*editor->draft())), "2000"));
        const QString h100 = QStringLiteral("H100 SXM5 80GB");
        const auto storedTpp = [&] {
            for (const auto& c : editor->storedChips())
                if (c.name == h100.toStdString())
                    return c.dense_tops[analysis::Precision::Fp8].value_or(0);
            return 0.0;
        };
        const double before = storedTpp();
        QVERIFY(before > 0);
        // Edit > Edit chip… in the window while the editor is open.
        QVERIFY(window.selectChip(h100));
        window.findChild<QAction*>(QStringLiteral("editChipAction"))->trigger();
        auto* chipEditor = window.findChild<gui::ChipEditorDialog*>();
        QVERIFY(chipEditor);
        chipEditor->setFieldText("fp8", QString::number(2 * before));
        chipEditor->sourceEditor("fp8")->setText(QStringLiteral("what-if"));
        QVERIFY2(chipEditor->save(), qPrintable(chipEditor->error()));
        // The editor has the new figure; the table and the chart are still on the draft.
        QCOMPARE(storedTpp(), 2 * before);
        QCOMPARE(window.chipModel()->edition()->scenario, true);
        QVERIFY(!window.chartPanel()->draftId().isEmpty());
        const auto chips = window.chartPanel()->shownInputs().chips;
        const auto drawn = std::find_if(chips.begin(), chips.end(), [&](const auto& c) {
            return c.name == h100.toStdString();
        });
        QVERIFY(drawn != chips.end());
        QCOMPARE(drawn->dense_tops[analysis::Precision::Fp8].value_or(0), 2 * before);
        // A hypothetical chip may not take the name of a chip imported since.
        editor->draft()->startEditSession();
        editor->draft()->setName(QStringLiteral("chips-again"));
        editor->addChip();
        QCOMPARE(editor->draft()->saveProblem(), QString());
        const QString hypothetical = QStringLiteral("Hypothetical 1");
        analysis::ChipSpec imported;
        imported.name = hypothetical.toStdString();
        imported.vendor = "Acme";
        imported.memory_bandwidth_gb_per_s = 100;
        store_->upsertChips({imported});
        editor->setStoredChips(store_->chips());
        QVERIFY2(editor->draft()->saveProblem().contains(hypothetical),
                 qPrintable(editor->draft()->saveProblem()));
        QVERIFY(!editor->saveButton()->isEnabled());
        editor->reject();
        QVERIFY(store_->removeChip(hypothetical));
    }

    void selectorShowsTheDraft() {
        gui::MainWindow window(*store_);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QComboBox* selector = window.editionSelector();
        const auto rowOf = [&](const char* id) {
            return window.editionModel()->rowOfEdition(QString::fromLatin1(id));
        };
        QVERIFY(window.setCurrentEdition(QStringLiteral("2023-10")));
        const int editions = window.editionModel()->rowCount();
        QCOMPARE(selector->count(), editions);

        gui::ScenarioEditor* editor = window.openScenarioEditor();
        QVERIFY(editor);
        editor->setConfirmDiscard(false);
        // The draft's entry, after the editions, is selected: the selector says what the table
        // shows, not the base.
        QCOMPARE(selector->count(), editions + 1);
        QCOMPARE(selector->currentIndex(), editions);
        QCOMPARE(selector->currentText(),
                 QStringLiteral("draft: unsaved scenario (extends 2023-10)"));
        QVERIFY(window.chipModel()->edition()->scenario);
        // It follows the draft as it is typed.
        editor->draft()->startEditSession();
        editor->nameField()->setText(QStringLiteral("what-if"));
        editor->draft()->setName(QStringLiteral("what-if"));
        QVERIFY(editor->draft()->criteria()->setData(
            thresholdCell(*editor->draft(), a1Tpp(*editor->draft())), "2000"));
        QCOMPARE(selector->currentIndex(), editions);
        QCOMPARE(selector->currentText(), QStringLiteral("draft: what-if (extends 2023-10)"));
        QCOMPARE(selector->currentData(gui::EditionListModel::EditionIdRole).toString(),
                 QStringLiteral("what-if"));
        QCOMPARE(window.currentEditionId(), QStringLiteral("what-if"));
        // Another edition chosen: the table shows it, the draft's entry stays to go back to.
        selector->setCurrentIndex(rowOf("2022-10"));
        QCOMPARE(window.currentEditionId(), QStringLiteral("2022-10"));
        QVERIFY(!window.chipModel()->edition()->scenario);
        QCOMPARE(selector->count(), editions + 1);
        selector->setCurrentIndex(editions);
        QCOMPARE(window.currentEditionId(), QStringLiteral("what-if"));
        QVERIFY(window.chipModel()->edition()->scenario);
        QCOMPARE(window.chartPanel()->draftId(), QStringLiteral("what-if"));
        // A change to the draft brings the table, and the selector, back to it.
        selector->setCurrentIndex(rowOf("2022-10"));
        QVERIFY(editor->draft()->criteria()->setData(
            thresholdCell(*editor->draft(), a1Tpp(*editor->draft())), "2500"));
        QCOMPARE(selector->currentIndex(), editions);
        QCOMPARE(window.currentEditionId(), QStringLiteral("what-if"));
        // Closed unsaved: the entry goes, the edition chosen before the draft is back.
        editor->reject();
        QTest::qWait(0);
        QCOMPARE(selector->count(), editions);
        QCOMPARE(selector->currentIndex(), rowOf("2023-10"));
        QCOMPARE(window.currentEditionId(), QStringLiteral("2023-10"));
        QVERIFY(!window.chipModel()->edition()->scenario);
        QCOMPARE(window.chartPanel()->draftId(), QString());

        // Saved: the entry goes and the saved scenario is selected in its place.
        editor = window.openScenarioEditor();
        QVERIFY(editor);
        editor->setConfirmDiscard(false);
        QCOMPARE(selector->currentIndex(), editions);
        editor->draft()->startEditSession();
        editor->nameField()->setText(QStringLiteral("what-if"));
        editor->draft()->setName(QStringLiteral("what-if"));
        QVERIFY(editor->save());
        QTest::qWait(0);
        QCOMPARE(window.editionModel()->rowCount(), editions + 1);
        QCOMPARE(selector->count(), editions + 1); // the scenario, no draft
        QCOMPARE(selector->currentIndex(), rowOf("what-if"));
        QVERIFY2(
            selector->currentText().startsWith(QStringLiteral("what-if (scenario of 2023-10)")),
            qPrintable(selector->currentText()));
        QCOMPARE(window.currentEditionId(), QStringLiteral("what-if"));
        QVERIFY(window.deleteScenario(QStringLiteral("what-if"), false));
    }
};

QTEST_MAIN(TestScenarioEditor)
#include "test_scenario_editor.moc"
