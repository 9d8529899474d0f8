#include "app/gui/ImportDialog.h"

#include "app/gui/models/DisplayText.h"
#include "app/gui/models/ImportDiffModel.h"
#include "data/ChipFiles.h"
#include "data/Store.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTreeView>
#include <QVBoxLayout>

namespace crossroads::gui {

namespace {

QString formatName(data::ChipFileFormat format) {
    switch (format) {
    case data::ChipFileFormat::Json:
        return QStringLiteral("chip JSON (a key the file lacks keeps the stored figure, null "
                              "clears it)");
    case data::ChipFileFormat::CrossroadsCsv:
        return QStringLiteral("Crossroads CSV (a column the file lacks keeps the stored figure, "
                              "an empty cell clears it)");
    case data::ChipFileFormat::EpochCsv:
        return QStringLiteral("Epoch AI hardware CSV (names matched to the store's; an empty "
                              "cell keeps the stored figure)");
    }
    return {};
}

} // namespace

ImportDialog::ImportDialog(const QString& storePath, QWidget* parent)
    : QDialog(parent), storePath_(storePath), model_(new ImportDiffModel(this)) {
    setObjectName(QStringLiteral("importDialog"));
    setWindowTitle(QStringLiteral("Import chips"));
    auto* layout = new QVBoxLayout(this);

    auto* fileRow = new QHBoxLayout;
    file_ = new QLineEdit(this);
    file_->setObjectName(QStringLiteral("importFile"));
    file_->setPlaceholderText(QStringLiteral("A .csv (Crossroads or Epoch AI) or .json file"));
    auto* browse = new QPushButton(QStringLiteral("&Choose…"), this);
    fileRow->addWidget(new QLabel(QStringLiteral("File"), this));
    fileRow->addWidget(file_, 1);
    fileRow->addWidget(browse);
    layout->addLayout(fileRow);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString start =
            file_->text().isEmpty() ? QDir::homePath() : QFileInfo(file_->text()).absolutePath();
        const QString chosen = QFileDialog::getOpenFileName(
            this, QStringLiteral("Import chips"), start,
            QStringLiteral("Chip files (*.csv *.json);;CSV (*.csv);;JSON (*.json)"));
        if (!chosen.isEmpty())
            load(chosen);
    });
    connect(file_, &QLineEdit::returnPressed, this, [this] { load(file_->text().trimmed()); });

    format_ = new QLabel(this);
    format_->setObjectName(QStringLiteral("importFormat"));
    format_->setWordWrap(true);
    layout->addWidget(format_);
    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("importSummary"));
    summary_->setWordWrap(true);
    layout->addWidget(summary_);
    error_ = new QLabel(this);
    error_->setObjectName(QStringLiteral("importError"));
    error_->setWordWrap(true);
    error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QPalette warn = error_->palette();
    warn.setColor(QPalette::WindowText, toneColor(palette(), Tone::Controlled));
    error_->setPalette(warn);
    error_->hide();
    layout->addWidget(error_);

    unchanged_ =
        new QCheckBox(QStringLiteral("Show the chips the import leaves as they are"), this);
    unchanged_->setObjectName(QStringLiteral("importShowUnchanged"));
    unchanged_->setChecked(false);
    model_->setShowUnchanged(false);
    connect(unchanged_, &QCheckBox::toggled, this, [this](bool on) {
        model_->setShowUnchanged(on);
        tree_->expandAll();
    });
    layout->addWidget(unchanged_);

    tree_ = new QTreeView(this);
    tree_->setObjectName(QStringLiteral("importDiff"));
    tree_->setModel(model_);
    tree_->setAlternatingRowColors(true);
    tree_->setUniformRowHeights(true);
    tree_->header()->setStretchLastSection(true);
    layout->addWidget(tree_, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    apply_ = buttons->addButton(QStringLiteral("&Apply import"), QDialogButtonBox::AcceptRole);
    apply_->setObjectName(QStringLiteral("importApply"));
    apply_->setEnabled(false);
    connect(apply_, &QPushButton::clicked, this, [this] { apply(); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(1000, 640);
}

QString ImportDialog::summary() const {
    return summary_->text();
}

QString ImportDialog::error() const {
    return error_->isHidden() ? QString() : error_->text();
}

void ImportDialog::showError(const QString& text) {
    error_->setText(text);
    error_->setVisible(!text.isEmpty());
}

bool ImportDialog::load(const QString& path) {
    file_->setText(path);
    path_ = path;
    rows_.clear();
    model_->setDiff({});
    summary_->clear();
    format_->clear();
    apply_->setEnabled(false);
    showError({});
    if (path.isEmpty()) {
        showError(QStringLiteral("Choose a file to import."));
        return false;
    }
    try {
        data::ChipFile file = data::readChipPatches(path); // every row checked first
        format_->setText(
            QStringLiteral("%1 rows of %2.").arg(file.rows.size()).arg(formatName(file.format)));
        data::Store store(storePath_);
        model_->setDiff(store.diffImport(file.rows));
        rows_ = std::move(file.rows);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
    const data::ImportDiff& diff = model_->diff();
    const bool changes = diff.addedChips() > 0 || diff.changedChips() > 0;
    summary_->setText(QStringLiteral("<b>Importing would give:</b> %1.%2")
                          .arg(model_->summary().toHtmlEscaped(),
                               changes ? QString()
                                       : QStringLiteral(" Nothing to change: the store already "
                                                        "holds these figures.")));
    apply_->setEnabled(changes);
    tree_->expandAll();
    // Long citations stay in their tooltips; the change column stays in view.
    for (int c = 0; c < ImportDiffModel::ChangeColumn; ++c) {
        tree_->resizeColumnToContents(c);
        tree_->setColumnWidth(c, std::min(tree_->columnWidth(c), c == 0 ? 300 : 360));
    }
    return true;
}

bool ImportDialog::apply() {
    if (rows_.empty()) {
        showError(QStringLiteral("Nothing loaded to import."));
        return false;
    }
    try {
        data::Store store(storePath_);
        imported_ = store.importChips(rows_, "import " + path_.toStdString());
    } catch (const std::exception& e) {
        showError(QStringLiteral("Nothing was imported: %1").arg(QString::fromUtf8(e.what())));
        return false;
    }
    ImportDiffModel done;
    done.setDiff(imported_);
    Q_EMIT importedChips(path_, done.summary());
    accept();
    return true;
}

} // namespace crossroads::gui
