#include "app/gui/models/ChipFiguresModel.h"

#include "app/gui/models/DisplayText.h"
#include "app/gui/models/TableRoles.h"
#include "data/ChipPatch.h"

#include <algorithm>

namespace crossroads::gui {

namespace {

// "name", then the fields of a patch in the order diffs list them.
const std::vector<std::string>& columnKeys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> out{"name"};
        const auto& fields = data::chipFieldKeys();
        out.insert(out.end(), fields.begin(), fields.end());
        return out;
    }();
    return keys;
}

std::optional<double> numberOf(const analysis::ChipSpec& chip, const std::string& key) {
    if (key == "year")
        return chip.year ? std::optional<double>(*chip.year) : std::nullopt;
    if (const auto precision = analysis::precisionFromKey(key))
        return chip.dense_tops[*precision];
    for (const auto& field : analysis::kFigureFields)
        if (field.key == key)
            return chip.*field.member;
    return std::nullopt;
}

bool isNumeric(const std::string& key) {
    return key == "year" || analysis::precisionFromKey(key) ||
           std::any_of(analysis::kFigureFields.begin(), analysis::kFigureFields.end(),
                       [&](const auto& f) { return f.key == key; });
}

} // namespace

ChipFiguresModel::ChipFiguresModel(QObject* parent) : QAbstractTableModel(parent) {}

void ChipFiguresModel::setChips(std::vector<analysis::ChipSpec> chips) {
    beginResetModel();
    chips_ = std::move(chips);
    endResetModel();
}

std::string ChipFiguresModel::columnKey(int column) {
    const auto& keys = columnKeys();
    if (column < 0 || static_cast<std::size_t>(column) >= keys.size())
        return {};
    return keys[static_cast<std::size_t>(column)];
}

int ChipFiguresModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(chips_.size());
}

int ChipFiguresModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(columnKeys().size());
}

QVariant ChipFiguresModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const analysis::ChipSpec& chip = chips_[static_cast<std::size_t>(index.row())];
    const std::string key = columnKey(index.column());
    switch (role) {
    case Qt::DisplayRole: {
        if (key == "name")
            return toQString(chip.name);
        if (key == "datacenter")
            return yesNoUnknown(chip.datacenter, QString());
        const auto text = data::chipFieldText(chip, key);
        return text ? toQString(*text) : QString();
    }
    case NumberRole:
        if (const auto n = numberOf(chip, key))
            return *n;
        return {};
    case Qt::TextAlignmentRole:
        if (isNumeric(key))
            return (Qt::AlignRight | Qt::AlignVCenter).toInt();
        return {};
    default:
        return {};
    }
}

QVariant ChipFiguresModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 ||
        section >= columnCount())
        return {};
    const std::string key = columnKey(section);
    if (key == "datacenter")
        return QStringLiteral("Datacenter");
    if (key == "notes")
        return QStringLiteral("Notes");
    if (analysis::precisionFromKey(key))
        return figureLabel("dense_tops." + key);
    return figureLabel(key);
}

} // namespace crossroads::gui
