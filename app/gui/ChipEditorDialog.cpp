#include "app/gui/ChipEditorDialog.h"

#include "app/gui/models/DisplayText.h"
#include "data/ChipFiles.h"
#include "data/ChipPatch.h"
#include "data/Store.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace crossroads::gui {

namespace {

QString labelOf(const std::string& key) {
    if (analysis::precisionFromKey(key))
        return figureLabel("dense_tops." + key);
    if (key == "notes")
        return QStringLiteral("Notes");
    return figureLabel(key);
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
    resize(820, 720);
    updateSave();
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
    const auto changed = changedFields();
    save_->setEnabled(refused == 0 && !changed.empty());
    if (refused > 0)
        changes_->setText(QStringLiteral("%1 field%2 refused: correct %3 to save.")
                              .arg(refused)
                              .arg(refused == 1 ? QString() : QStringLiteral("s"),
                                   refused == 1 ? QStringLiteral("it") : QStringLiteral("them")));
    else if (changed.empty())
        changes_->setText(QStringLiteral("No changes."));
    else
        changes_->setText(QStringLiteral("%1 figure%2 changed.")
                              .arg(changed.size())
                              .arg(changed.size() == 1 ? QString() : QStringLiteral("s")));
}

bool ChipEditorDialog::save() {
    for (const auto& [key, field] : fields_)
        if (!field.problem->isHidden()) {
            error_->setText(QStringLiteral("Not saved: %1").arg(field.problem->text()));
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
        if (edit.fields.empty()) {
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
