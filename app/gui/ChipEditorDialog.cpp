#include "app/gui/ChipEditorDialog.h"

#include "app/gui/models/DisplayText.h"
#include "data/ChipFiles.h"
#include "data/ChipPatch.h"
#include "data/Store.h"

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QTableWidget>
#include <QVBoxLayout>

#include <array>
#include <charconv>

namespace crossroads::gui {

namespace {

QString labelOf(const std::string& key) {
    if (analysis::precisionFromKey(key))
        return figureLabel("dense_tops." + key);
    if (key == "notes")
        return QStringLiteral("Notes");
    return figureLabel(key);
}

// The shortest text that reads back as `value` (as chipFieldText writes a figure), so an
// untouched alternative reads back unchanged.
QString exactText(double value) {
    std::array<char, 32> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return ec == std::errc() ? QString::fromLatin1(buffer.data(), end - buffer.data())
                             : QString::number(value, 'g', 17);
}

} // namespace

ChipEditorDialog::ChipEditorDialog(const QString& storePath, analysis::ChipSpec chip,
                                   QWidget* parent)
    : QDialog(parent), storePath_(storePath), chip_(std::move(chip)) {
    setObjectName(QStringLiteral("chipEditor"));
    setWindowTitle(QStringLiteral("Edit %1").arg(toQString(chip_.name)));
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(
        QStringLiteral("<b>%1</b>: change a figure and say where the new value comes from. An "
                       "empty figure is unknown; a figure must be a positive number.")
            .arg(toQString(chip_.name).toHtmlEscaped()),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* form = new QWidget(this);
    auto* grid = new QGridLayout(form);
    grid->addWidget(new QLabel(QStringLiteral("<b>Field</b>"), form), 0, 0);
    grid->addWidget(new QLabel(QStringLiteral("<b>Value</b>"), form), 0, 1);
    grid->addWidget(new QLabel(QStringLiteral("<b>Source of a new value</b>"), form), 0, 2);
    grid->setColumnStretch(1, 2);
    grid->setColumnStretch(2, 3);
    int row = 1;
    const QColor refused = toneColor(palette(), Tone::Controlled);
    for (const std::string& key : data::chipFieldKeys()) {
        Field field;
        field.original = toQString(data::chipFieldText(chip_, key).value_or(std::string()));
        if (key == "kind" || key == "datacenter") {
            auto* combo = new QComboBox(form);
            if (key == "kind") {
                combo->addItem(QStringLiteral("Logic (accelerator)"), QStringLiteral("logic"));
                combo->addItem(QStringLiteral("HBM stack"), QStringLiteral("hbm"));
            } else {
                combo->addItem(QStringLiteral("Ambiguous (unknown)"), QString());
                combo->addItem(QStringLiteral("Yes"), QStringLiteral("true"));
                combo->addItem(QStringLiteral("No"), QStringLiteral("false"));
            }
            combo->setCurrentIndex(std::max(0, combo->findData(field.original)));
            connect(combo, &QComboBox::currentIndexChanged, this, [this, key] { revalidate(key); });
            field.editor = combo;
        } else {
            auto* edit = new QLineEdit(field.original, form);
            edit->setPlaceholderText(QStringLiteral("unknown"));
            connect(edit, &QLineEdit::textChanged, this, [this, key] { revalidate(key); });
            field.editor = edit;
        }
        field.editor->setObjectName(QStringLiteral("field_%1").arg(toQString(key)));
        field.source = new QLineEdit(form);
        field.source->setObjectName(QStringLiteral("source_%1").arg(toQString(key)));
        field.source->setPlaceholderText(QStringLiteral("citation, e.g. vendor datasheet, 2024"));
        field.source->setEnabled(false);
        field.problem = new QLabel(form);
        field.problem->setObjectName(QStringLiteral("problem_%1").arg(toQString(key)));
        field.problem->setWordWrap(true);
        QPalette p = field.problem->palette();
        p.setColor(QPalette::WindowText, refused);
        field.problem->setPalette(p);
        field.problem->hide();
        auto* label = new QLabel(labelOf(key), form);
        label->setBuddy(field.editor);
        grid->addWidget(label, row, 0);
        grid->addWidget(field.editor, row, 1);
        grid->addWidget(field.source, row, 2);
        grid->addWidget(field.problem, row + 1, 1, 1, 2);
        row += 2;
        fields_.emplace(key, field);
    }
    auto* scroll = new QScrollArea(this);
    scroll->setWidget(form);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    layout->addWidget(scroll, 1);

    // Other sources' values of the figures: what source sensitivity reclassifies with.
    auto* altBox = new QGroupBox(QStringLiteral("Alternative values from other sources"), this);
    auto* altLayout = new QVBoxLayout(altBox);
    alternatives_ = new QTableWidget(0, 3, altBox);
    alternatives_->setObjectName(QStringLiteral("alternatives"));
    alternatives_->setHorizontalHeaderLabels(
        {QStringLiteral("Field"), QStringLiteral("Value"), QStringLiteral("Citation (source)")});
    alternatives_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    alternatives_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    alternatives_->setColumnWidth(1, 110);
    alternatives_->verticalHeader()->hide();
    alternatives_->setSelectionBehavior(QAbstractItemView::SelectRows);
    alternatives_->setSelectionMode(QAbstractItemView::SingleSelection);
    alternatives_->setMinimumHeight(110);
    alternatives_->setMaximumHeight(150);
    altLayout->addWidget(alternatives_);
    alternativesProblem_ = new QLabel(altBox);
    alternativesProblem_->setObjectName(QStringLiteral("alternativesProblem"));
    alternativesProblem_->setWordWrap(true);
    QPalette ap = alternativesProblem_->palette();
    ap.setColor(QPalette::WindowText, refused);
    alternativesProblem_->setPalette(ap);
    alternativesProblem_->hide();
    altLayout->addWidget(alternativesProblem_);
    auto* altButtons = new QHBoxLayout;
    auto* add = new QPushButton(QStringLiteral("&Add alternative"), altBox);
    add->setObjectName(QStringLiteral("addAlternative"));
    connect(add, &QPushButton::clicked, this, [this] {
        alternatives_->setCurrentCell(addAlternative(), 1);
        alternatives_->cellWidget(alternatives_->currentRow(), 1)->setFocus();
    });
    // A cell's editor taking focus makes its row the current one, which Remove removes.
    connect(qApp, &QApplication::focusChanged, this, [this](QWidget*, QWidget* now) {
        if (now && now->parentWidget() == alternatives_->viewport())
            if (const QModelIndex at = alternatives_->indexAt(now->geometry().center());
                at.isValid())
                alternatives_->setCurrentIndex(at);
    });
    auto* remove = new QPushButton(QStringLiteral("&Remove alternative"), altBox);
    remove->setObjectName(QStringLiteral("removeAlternative"));
    connect(remove, &QPushButton::clicked, this,
            [this] { removeAlternative(alternatives_->currentRow()); });
    altButtons->addWidget(add);
    altButtons->addWidget(remove);
    altButtons->addStretch(1);
    altLayout->addLayout(altButtons);
    layout->addWidget(altBox);
    for (const analysis::FigureAlternative& a : chip_.alternatives) {
        const int r = addAlternative(a.field, exactText(a.value), toQString(a.citation));
        alternatives_->cellWidget(r, 0)->setProperty("confidence", toQString(a.confidence));
    }

    changes_ = new QLabel(this);
    changes_->setObjectName(QStringLiteral("editorChanges"));
    layout->addWidget(changes_);
    error_ = new QLabel(this);
    error_->setObjectName(QStringLiteral("editorError"));
    error_->setWordWrap(true);
    QPalette p = error_->palette();
    p.setColor(QPalette::WindowText, refused);
    error_->setPalette(p);
    error_->hide();
    layout->addWidget(error_);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    save_ = buttons->addButton(QStringLiteral("&Save"), QDialogButtonBox::AcceptRole);
    save_->setObjectName(QStringLiteral("editorSave"));
    connect(save_, &QPushButton::clicked, this, [this] { save(); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(820, 860);
    revalidateAlternatives();
}

QWidget* ChipEditorDialog::fieldEditor(const std::string& key) const {
    const auto it = fields_.find(key);
    return it == fields_.end() ? nullptr : it->second.editor;
}

QLineEdit* ChipEditorDialog::sourceEditor(const std::string& key) const {
    const auto it = fields_.find(key);
    return it == fields_.end() ? nullptr : it->second.source;
}

void ChipEditorDialog::setFieldText(const std::string& key, const QString& text) {
    const auto it = fields_.find(key);
    if (it == fields_.end())
        return;
    if (auto* edit = qobject_cast<QLineEdit*>(it->second.editor))
        edit->setText(text);
    else if (auto* combo = qobject_cast<QComboBox*>(it->second.editor))
        combo->setCurrentIndex(std::max(0, combo->findData(text)));
}

QString ChipEditorDialog::fieldError(const std::string& key) const {
    const auto it = fields_.find(key);
    return it == fields_.end() || it->second.problem->isHidden() ? QString()
                                                                 : it->second.problem->text();
}

QString ChipEditorDialog::error() const {
    return error_->isHidden() ? QString() : error_->text();
}

QString ChipEditorDialog::textOf(const Field& field) const {
    if (auto* edit = qobject_cast<QLineEdit*>(field.editor))
        return edit->text().trimmed();
    if (auto* combo = qobject_cast<QComboBox*>(field.editor))
        return combo->currentData().toString();
    return {};
}

void ChipEditorDialog::revalidate(const std::string& key) {
    Field& field = fields_.at(key);
    const QString text = textOf(field);
    const bool changed = text != field.original;
    QString problem;
    if (changed) {
        try {
            data::fieldEditPatch(chip_.name, key, text.toStdString());
        } catch (const std::exception& e) {
            problem = QString::fromUtf8(e.what());
        }
    }
    field.problem->setText(problem);
    field.problem->setVisible(!problem.isEmpty());
    field.source->setEnabled(changed && problem.isEmpty());
    error_->hide();
    updateSave();
}

std::vector<std::string> ChipEditorDialog::changedFields() const {
    std::vector<std::string> out;
    for (const std::string& key : data::chipFieldKeys()) {
        const Field& field = fields_.at(key);
        if (textOf(field) != field.original && field.problem->isHidden())
            out.push_back(key);
    }
    return out;
}

void ChipEditorDialog::updateSave() {
    int refused = 0;
    for (const auto& [key, field] : fields_)
        refused += field.problem->isHidden() ? 0 : 1;
    const bool altRefused = !alternativesError().isEmpty();
    if (altRefused && refused == 0) {
        save_->setEnabled(false);
        changes_->setText(QStringLiteral("An alternative value is refused: correct it to save."));
        return;
    }
    const auto changed = changedFields();
    const bool altChanged = alternativesChanged();
    save_->setEnabled(refused == 0 && !altRefused && (!changed.empty() || altChanged));
    if (refused > 0)
        changes_->setText(QStringLiteral("%1 field%2 refused: correct %3 to save.")
                              .arg(refused)
                              .arg(refused == 1 ? QString() : QStringLiteral("s"),
                                   refused == 1 ? QStringLiteral("it") : QStringLiteral("them")));
    else if (changed.empty())
        changes_->setText(altChanged ? QStringLiteral("Alternative values changed.")
                                     : QStringLiteral("No changes."));
    else
        changes_->setText(
            QStringLiteral("%1 figure%2 changed%3.")
                .arg(changed.size())
                .arg(changed.size() == 1 ? QString() : QStringLiteral("s"),
                     altChanged ? QStringLiteral("; alternative values changed") : QString()));
}

int ChipEditorDialog::addAlternative(const std::string& field, const QString& value,
                                     const QString& citation) {
    const int row = alternatives_->rowCount();
    alternatives_->insertRow(row);
    auto* combo = new QComboBox(alternatives_);
    for (const std::string& key : data::chipFieldKeys())
        if (analysis::isAlternativeField(key))
            combo->addItem(QStringLiteral("%1 (%2)").arg(labelOf(key), toQString(key)),
                           toQString(key));
    if (!field.empty())
        combo->setCurrentIndex(std::max(0, combo->findData(toQString(field))));
    auto* valueEdit = new QLineEdit(value, alternatives_);
    valueEdit->setPlaceholderText(QStringLiteral("value"));
    auto* citationEdit = new QLineEdit(citation, alternatives_);
    citationEdit->setPlaceholderText(QStringLiteral("who gives this value, e.g. Epoch AI, 2025"));
    citationEdit->setCursorPosition(0); // a long stored citation shows its start
    citationEdit->setToolTip(citation);
    alternatives_->setCellWidget(row, 0, combo);
    alternatives_->setCellWidget(row, 1, valueEdit);
    alternatives_->setCellWidget(row, 2, citationEdit);
    connect(combo, &QComboBox::currentIndexChanged, this, [this] { revalidateAlternatives(); });
    connect(valueEdit, &QLineEdit::textChanged, this, [this] { revalidateAlternatives(); });
    connect(citationEdit, &QLineEdit::textChanged, this, [this] { revalidateAlternatives(); });
    revalidateAlternatives();
    return row;
}

void ChipEditorDialog::removeAlternative(int row) {
    if (row < 0 || row >= alternatives_->rowCount())
        return;
    alternatives_->removeRow(row);
    revalidateAlternatives();
}

std::optional<analysis::FigureAlternative> ChipEditorDialog::alternativeAt(int row,
                                                                           QString* problem) const {
    const auto* combo = qobject_cast<QComboBox*>(alternatives_->cellWidget(row, 0));
    const auto* valueEdit = qobject_cast<QLineEdit*>(alternatives_->cellWidget(row, 1));
    const auto* citationEdit = qobject_cast<QLineEdit*>(alternatives_->cellWidget(row, 2));
    if (!combo || !valueEdit || !citationEdit)
        return std::nullopt;
    analysis::FigureAlternative a;
    a.field = combo->currentData().toString().toStdString();
    a.citation = citationEdit->text().trimmed().toStdString();
    a.confidence = combo->property("confidence").toString().toStdString();
    const QString where =
        QStringLiteral("alternative %1 (%2)").arg(row + 1).arg(toQString(a.field));
    QString why;
    try {
        // Read as the figure itself is: a negative, NaN or zero value is refused naming the field.
        const data::ChipPatch one =
            data::fieldEditPatch(chip_.name, a.field, valueEdit->text().trimmed().toStdString());
        const auto text = data::chipFieldText(one.values, a.field);
        if (!text)
            why = QStringLiteral("%1 needs a value").arg(toQString(a.field));
        else
            a.value = std::stod(*text);
    } catch (const std::exception& e) {
        why = QString::fromUtf8(e.what());
    }
    if (why.isEmpty() && a.citation.empty())
        why = QStringLiteral("say which source gives this value (a citation)");
    if (!why.isEmpty()) {
        if (problem)
            *problem = QStringLiteral("%1: %2").arg(where, why);
        return std::nullopt;
    }
    return a;
}

std::vector<analysis::FigureAlternative> ChipEditorDialog::alternatives() const {
    std::vector<analysis::FigureAlternative> out;
    for (int r = 0; r < alternatives_->rowCount(); ++r)
        if (auto a = alternativeAt(r, nullptr))
            out.push_back(std::move(*a));
    return out;
}

QString ChipEditorDialog::alternativesError() const {
    for (int r = 0; r < alternatives_->rowCount(); ++r) {
        QString problem;
        if (!alternativeAt(r, &problem))
            return problem;
    }
    return {};
}

bool ChipEditorDialog::alternativesChanged() const {
    return alternativesError().isEmpty() && alternatives() != chip_.alternatives;
}

void ChipEditorDialog::revalidateAlternatives() {
    if (!save_) // still being built
        return;
    const QString problem = alternativesError();
    alternativesProblem_->setText(problem);
    alternativesProblem_->setVisible(!problem.isEmpty());
    error_->hide();
    updateSave();
}

bool ChipEditorDialog::save() {
    for (const auto& [key, field] : fields_)
        if (!field.problem->isHidden()) {
            error_->setText(QStringLiteral("Not saved: %1").arg(field.problem->text()));
            error_->show();
            return false;
        }
    if (const QString problem = alternativesError(); !problem.isEmpty()) {
        error_->setText(QStringLiteral("Not saved: %1").arg(problem));
        error_->show();
        return false;
    }
    // One patch with every changed field, each read as an import reads its cell.
    data::ChipPatch edit;
    edit.values.name = chip_.name;
    edit.origin = "editor";
    try {
        for (const std::string& key : changedFields()) {
            const Field& field = fields_.at(key);
            const data::ChipPatch one =
                data::fieldEditPatch(chip_.name, key, textOf(field).toStdString());
            data::copyChipField(edit.values, one.values, key);
            edit.fields.insert(key);
            const QString source = field.source->text().trimmed();
            if (!source.isEmpty())
                edit.sources.push_back({key, source.toStdString(), ""});
        }
        if (alternativesChanged()) {
            edit.values.alternatives = alternatives();
            edit.replaces_alternatives = true;
        }
        if (edit.fields.empty() && !edit.replaces_alternatives) {
            error_->setText(QStringLiteral("Nothing to save: no field changed."));
            error_->show();
            return false;
        }
        data::Store store(storePath_);
        chip_ = store.editChip(toQString(chip_.name), edit, "editor");
    } catch (const std::exception& e) {
        error_->setText(QStringLiteral("Not saved: %1").arg(QString::fromUtf8(e.what())));
        error_->show();
        return false;
    }
    Q_EMIT saved(chip_);
    accept();
    return true;
}

} // namespace crossroads::gui
