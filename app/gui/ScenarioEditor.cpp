#include "app/gui/ScenarioEditor.h"

#include "analysis/Compare.h"
#include "app/gui/models/DisplayText.h"
#include "app/gui/models/ScenarioDraft.h"
#include "data/Store.h"

#include <QAction>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

namespace crossroads::gui {

namespace {

// Cell editors that hand every keystroke to the model, each cell's typing one undo step: the
// window's table follows the threshold as it is typed, not only when the cell is left.
class LiveEditDelegate : public QStyledItemDelegate {
public:
    LiveEditDelegate(ScenarioDraft* draft, QObject* parent)
        : QStyledItemDelegate(parent), draft_(draft) {}

    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                          const QModelIndex& index) const override {
        QWidget* editor = QStyledItemDelegate::createEditor(parent, option, index);
        draft_->startEditSession();
        if (auto* line = qobject_cast<QLineEdit*>(editor))
            connect(line, &QLineEdit::textEdited, this, [this, line] {
                // const_cast: commitData is a signal of the (logically const) delegate.
                Q_EMIT const_cast<LiveEditDelegate*>(this)->commitData(line);
            });
        return editor;
    }
    void setModelData(QWidget* editor, QAbstractItemModel* model,
                      const QModelIndex& index) const override {
        if (auto* line = qobject_cast<QLineEdit*>(editor)) {
            // Committed as typed already; the same text again would be a no-op.
            if (model->data(index, Qt::EditRole).toString() != line->text())
                model->setData(index, line->text(), Qt::EditRole);
            return;
        }
        QStyledItemDelegate::setModelData(editor, model, index);
    }

private:
    ScenarioDraft* draft_;
};

bool isUndoKey(const QKeyEvent* e) {
    return e->matches(QKeySequence::Undo);
}

bool isRedoKey(const QKeyEvent* e) {
    return e->matches(QKeySequence::Redo) ||
           e->keyCombination() ==
               QKeyCombination(Qt::ControlModifier | Qt::ShiftModifier, Qt::Key_Z);
}

} // namespace

ScenarioEditor::ScenarioEditor(QString storePath, std::vector<analysis::Edition> editions,
                               std::vector<analysis::ChipSpec> storedChips, QWidget* parent)
    : QDialog(parent), storePath_(std::move(storePath)), storedChips_(std::move(storedChips)) {
    setObjectName(QStringLiteral("scenarioEditor"));
    std::vector<std::string> names;
    for (const auto& c : storedChips_)
        names.push_back(c.name);
    draft_ = new ScenarioDraft(std::move(editions), std::move(names), this);

    name_ = new QLineEdit(this);
    name_->setObjectName(QStringLiteral("scenarioName"));
    name_->setPlaceholderText(QStringLiteral("a name of your own, e.g. tpp-4000"));
    base_ = new QComboBox(this);
    base_->setObjectName(QStringLiteral("scenarioBase"));
    base_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    base_->setMinimumContentsLength(40);
    note_ = new QLineEdit(this);
    note_->setObjectName(QStringLiteral("scenarioNote"));
    note_->setPlaceholderText(QStringLiteral("what the scenario asks, and why"));
    auto* form = new QFormLayout;
    form->addRow(QStringLiteral("&Name"), name_);
    form->addRow(QStringLiteral("E&xtends"), base_);
    form->addRow(QStringLiteral("N&ote"), note_);

    auto* delegate = new LiveEditDelegate(draft_, this);
    criteria_ = new QTableView(this);
    criteria_->setObjectName(QStringLiteral("scenarioCriteria"));
    criteria_->setModel(draft_->criteria());
    criteria_->setItemDelegate(delegate);
    criteria_->verticalHeader()->setVisible(false);
    criteria_->horizontalHeader()->setStretchLastSection(true);
    criteria_->setSelectionBehavior(QAbstractItemView::SelectRows);
    criteria_->setEditTriggers(QAbstractItemView::AllEditTriggers);
    criteria_->setAlternatingRowColors(true);
    auto* criteriaBox = new QGroupBox(QStringLiteral("Thresholds: type a scenario threshold to "
                                                     "replace the base's (empty keeps it)"),
                                      this);
    auto* criteriaLayout = new QVBoxLayout(criteriaBox);
    criteriaLayout->addWidget(criteria_);

    chips_ = new QTableView(this);
    chips_->setObjectName(QStringLiteral("scenarioChips"));
    chips_->setModel(draft_->chips());
    chips_->setItemDelegate(delegate);
    chips_->verticalHeader()->setVisible(false);
    chips_->setSelectionBehavior(QAbstractItemView::SelectRows);
    chips_->setSelectionMode(QAbstractItemView::SingleSelection);
    chips_->setEditTriggers(QAbstractItemView::AllEditTriggers);
    chips_->horizontalHeader()->setStretchLastSection(true);
    auto* addChip = new QPushButton(QStringLiteral("&Add chip"), this);
    addChip->setObjectName(QStringLiteral("addChipButton"));
    removeChip_ = new QPushButton(QStringLiteral("&Remove chip"), this);
    removeChip_->setObjectName(QStringLiteral("removeChipButton"));
    connect(addChip, &QPushButton::clicked, this, &ScenarioEditor::addChip);
    connect(removeChip_, &QPushButton::clicked, this, &ScenarioEditor::removeSelectedChip);
    auto* chipButtons = new QHBoxLayout;
    chipButtons->addWidget(addChip);
    chipButtons->addWidget(removeChip_);
    chipButtons->addStretch(1);
    auto* chipsBox = new QGroupBox(QStringLiteral("Hypothetical chips: they exist only in this "
                                                  "scenario (rates in dense TFLOPS/TOPS)"),
                                   this);
    auto* chipsLayout = new QVBoxLayout(chipsBox);
    chipsLayout->addWidget(chips_);
    chipsLayout->addLayout(chipButtons);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->setChildrenCollapsible(false);
    split->addWidget(criteriaBox);
    split->addWidget(chipsBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);

    status_ = new QLabel(this);
    status_->setObjectName(QStringLiteral("scenarioStatus"));
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    rejected_ = new QLabel(this);
    rejected_->setObjectName(QStringLiteral("scenarioRejected"));
    rejected_->setWordWrap(true);

    QUndoStack* stack = draft_->undoStack();
    undo_ = stack->createUndoAction(this, QStringLiteral("&Undo"));
    undo_->setObjectName(QStringLiteral("scenarioUndo"));
    undo_->setShortcuts(QKeySequence::Undo);
    redo_ = stack->createRedoAction(this, QStringLiteral("&Redo"));
    redo_->setObjectName(QStringLiteral("scenarioRedo"));
    redo_->setShortcuts({QKeySequence(Qt::ControlModifier | Qt::ShiftModifier | Qt::Key_Z),
                         QKeySequence(QKeySequence::Redo)});
    addAction(undo_);
    addAction(redo_);
    auto* undoButton = new QToolButton(this);
    undoButton->setDefaultAction(undo_);
    undoButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    auto* redoButton = new QToolButton(this);
    redoButton->setDefaultAction(redo_);
    redoButton->setToolButtonStyle(Qt::ToolButtonTextOnly);

    auto* buttons = new QDialogButtonBox(this);
    save_ = buttons->addButton(QDialogButtonBox::Save);
    save_->setObjectName(QStringLiteral("scenarioSave"));
    buttons->addButton(QDialogButtonBox::Close);
    connect(save_, &QPushButton::clicked, this, &ScenarioEditor::save);
    connect(buttons, &QDialogButtonBox::rejected, this, &ScenarioEditor::reject);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(undoButton);
    bottom->addWidget(redoButton);
    bottom->addStretch(1);
    bottom->addWidget(buttons);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(split, 1);
    layout->addWidget(status_);
    layout->addWidget(rejected_);
    layout->addLayout(bottom);

    // The fields follow the draft (undo, redo) without echoing back into it.
    connect(name_, &QLineEdit::textEdited, draft_, &ScenarioDraft::setName);
    connect(note_, &QLineEdit::textEdited, draft_, &ScenarioDraft::setNote);
    connect(draft_, &ScenarioDraft::nameChanged, this, [this](const QString& text) {
        if (name_->text() != text)
            name_->setText(text);
    });
    connect(draft_, &ScenarioDraft::noteChanged, this, [this](const QString& text) {
        if (note_->text() != text)
            note_->setText(text);
    });
    connect(base_, &QComboBox::activated, this, [this](int index) {
        if (!draft_->setBase(base_->itemData(index).toString()))
            fillBases();
    });
    connect(draft_, &ScenarioDraft::baseChanged, this, [this] { fillBases(); });
    connect(draft_, &ScenarioDraft::changed, this, &ScenarioEditor::refresh);
    connect(draft_, &ScenarioDraft::editRejected, this,
            [this](const QString& why) { rejected_->setText(why); });
    connect(stack, &QUndoStack::cleanChanged, this,
            [this](bool clean) { setWindowModified(!clean); });
    connect(chips_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { removeChip_->setEnabled(chips_->selectionModel()->hasSelection()); });
    removeChip_->setEnabled(false);
    // Typing into the name or the note is one undo step per visit to the field, and Ctrl+Z
    // there undoes the scenario, not just the field's own text.
    for (QLineEdit* field : {name_, note_})
        field->installEventFilter(this);

    resize(1180, 760);
}

ScenarioEditor::~ScenarioEditor() = default;

bool ScenarioEditor::startNew(const QString& baseId) {
    if (!draft_->startNew(baseId)) {
        showProblem(draft_->problem());
        return false;
    }
    name_->setReadOnly(false);
    name_->setToolTip({});
    setWindowTitle(QStringLiteral("New scenario[*]"));
    criteria_->resizeColumnsToContents();
    return true;
}

bool ScenarioEditor::edit(const analysis::Scenario& scenario) {
    if (!draft_->load(scenario)) {
        showProblem(QStringLiteral("Scenario %1 cannot be opened: %2")
                        .arg(toQString(scenario.name), draft_->problem()));
        return false;
    }
    name_->setReadOnly(false);
    name_->setToolTip(QStringLiteral("Renaming it on Save moves the scenarios that extend it to "
                                     "the new name"));
    setWindowTitle(QStringLiteral("Scenario %1[*]").arg(toQString(scenario.name)));
    criteria_->resizeColumnsToContents();
    chips_->resizeColumnsToContents();
    return true;
}

void ScenarioEditor::setStoredChips(std::vector<analysis::ChipSpec> chips) {
    storedChips_ = std::move(chips);
    std::vector<std::string> names;
    for (const auto& c : storedChips_)
        names.push_back(c.name);
    draft_->setStoredChipNames(std::move(names)); // refreshes (changed)
}

void ScenarioEditor::fillBases() {
    const QSignalBlocker block(base_);
    base_->clear();
    for (const analysis::Edition* e : draft_->possibleBases()) {
        QString text = toQString(e->id);
        if (e->scenario)
            text += QStringLiteral(" (scenario of %1)").arg(toQString(e->base));
        else if (!e->title.empty())
            text += QStringLiteral(" · ") + toQString(e->title);
        base_->addItem(text, toQString(e->id));
    }
    base_->setCurrentIndex(base_->findData(draft_->baseId()));
}

void ScenarioEditor::showProblem(const QString& text) {
    status_->setText(QStringLiteral("<span style=\"color:%1\">%2</span>")
                         .arg(toneColor(palette(), Tone::Controlled).name(), text.toHtmlEscaped()));
}

void ScenarioEditor::refresh() {
    rejected_->clear();
    QString why;
    const auto edition = draft_->resolve(&why);
    const QString problem = draft_->saveProblem();
    save_->setEnabled(problem.isEmpty());
    save_->setToolTip(problem);
    if (!edition) {
        showProblem(why);
        return;
    }
    const analysis::Edition* base = draft_->base();
    const analysis::EditionComparison cmp =
        analysis::compareEditions(storedChips_, *base, *edition);
    int tightened = 0, loosened = 0;
    for (const auto& c : cmp.changes) {
        tightened += c.direction == analysis::ChangeDirection::Tightened;
        loosened += c.direction == analysis::ChangeDirection::Loosened;
    }
    QString text = QStringLiteral("Against %1: <b>%2 chip(s) change class</b> (%3 tightened, %4 "
                                  "loosened), %5 keep it. The window's table shows the draft.")
                       .arg(toQString(base->id).toHtmlEscaped())
                       .arg(cmp.changes.size())
                       .arg(tightened)
                       .arg(loosened)
                       .arg(cmp.unchanged);
    if (!problem.isEmpty())
        text += QStringLiteral("<br><span style=\"color:%1\">Not saved yet: %2</span>")
                    .arg(toneColor(palette(), Tone::Warning).name(), problem.toHtmlEscaped());
    status_->setText(text);
    Q_EMIT draftChanged(*edition);
}

bool ScenarioEditor::save() {
    const QString problem = draft_->saveProblem();
    if (!problem.isEmpty()) {
        showProblem(problem);
        return false;
    }
    const analysis::Scenario scenario = draft_->scenario();
    const QString editing = draft_->editing();
    const bool renamed =
        !editing.isEmpty() && editing.compare(toQString(scenario.name), Qt::CaseInsensitive) != 0;
    try {
        data::Store store(storePath_);
        if (renamed) {
            // One transaction: the new name (refused when taken), the scenarios extending the
            // old name moved to it, the old name gone; a failure leaves the store as it was.
            store.renameScenario(editing, scenario);
        } else {
            store.saveScenario(scenario, !editing.isEmpty());
        }
    } catch (const std::exception& e) {
        showProblem(QStringLiteral("Not saved: %1").arg(toQString(e.what())));
        return false;
    }
    draft_->undoStack()->setClean();
    Q_EMIT saved(toQString(scenario.name));
    accept();
    return true;
}

void ScenarioEditor::addChip() {
    const int row = draft_->addChip();
    chips_->resizeColumnsToContents();
    chips_->setCurrentIndex(draft_->chips()->index(row, HypotheticalChipsModel::NameColumn));
}

void ScenarioEditor::removeSelectedChip() {
    const QModelIndexList rows = chips_->selectionModel()->selectedRows();
    if (!rows.isEmpty())
        draft_->removeChip(rows.first().row());
}

void ScenarioEditor::reject() {
    if (confirmDiscard_ && !draft_->undoStack()->isClean() &&
        QMessageBox::question(this, QStringLiteral("Discard the scenario?"),
                              QStringLiteral("Close without saving the changes?"),
                              QMessageBox::Discard | QMessageBox::Cancel,
                              QMessageBox::Cancel) != QMessageBox::Discard)
        return;
    QDialog::reject();
}

bool ScenarioEditor::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::FocusIn)
        draft_->startEditSession();
    if (event->type() == QEvent::ShortcutOverride || event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        const bool undo = isUndoKey(key), redo = isRedoKey(key);
        if (undo || redo) {
            if (event->type() == QEvent::ShortcutOverride) {
                event->accept(); // the key comes to the field, and the filter takes it
            } else {
                draft_->startEditSession();
                if (undo)
                    draft_->undoStack()->undo();
                else
                    draft_->undoStack()->redo();
            }
            return true;
        }
    }
    return QDialog::eventFilter(watched, event);
}

} // namespace crossroads::gui
