#include "app/gui/models/EditionListModel.h"

#include "app/gui/models/DisplayText.h"

#include <utility>

namespace crossroads::gui {

QString editionDisplayText(const analysis::Edition& edition) {
    QString text = toQString(edition.id);
    if (edition.scenario) { // "tpp-4000 (scenario of 2026-01) · the note"
        text += QStringLiteral(" (scenario of %1)").arg(toQString(edition.base));
        if (!edition.note.empty())
            text += QStringLiteral(" · ") + toQString(edition.note);
        return text;
    }
    // The status goes before the long title so that eliding the title never hides it.
    if (!edition.status.empty() && edition.status != "in force")
        text += QStringLiteral(" (%1)").arg(toQString(edition.status));
    if (!edition.title.empty())
        text += QStringLiteral(" · ") + toQString(edition.title);
    return text;
}

QString editionCitationText(const analysis::Edition& edition) {
    QStringList parts;
    if (!edition.citation.text.empty())
        parts << toQString(edition.citation.text);
    if (!edition.effective.empty())
        parts << QStringLiteral("effective %1").arg(toQString(edition.effective));
    if (!edition.status.empty())
        parts << toQString(edition.status);
    QString text = parts.join(QStringLiteral(", "));
    if (!edition.status_note.empty())
        text += QStringLiteral(": ") + toQString(edition.status_note);
    return text;
}

EditionListModel::EditionListModel(QObject* parent) : QAbstractListModel(parent) {}

void EditionListModel::setEditions(std::vector<analysis::Edition> editions) {
    beginResetModel();
    editions_ = std::move(editions);
    endResetModel();
}

const analysis::Edition* EditionListModel::editionAt(int row) const {
    if (row < 0 || static_cast<size_t>(row) >= editions_.size())
        return nullptr;
    return &editions_[static_cast<size_t>(row)];
}

int EditionListModel::rowOfEdition(const QString& id) const {
    for (size_t i = 0; i < editions_.size(); ++i)
        if (toQString(editions_[i].id) == id)
            return static_cast<int>(i);
    return -1;
}

int EditionListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(editions_.size());
}

QVariant EditionListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto& edition = editions_[static_cast<size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return editionDisplayText(edition);
    case Qt::ToolTipRole:
        return QStringLiteral("%1\n%2").arg(toQString(edition.title), editionCitationText(edition));
    case EditionIdRole:
        return toQString(edition.id);
    case StatusRole:
        return toQString(edition.status);
    default:
        return {};
    }
}

} // namespace crossroads::gui
