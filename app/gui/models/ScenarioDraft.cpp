#include "app/gui/models/ScenarioDraft.h"

#include "analysis/Classifier.h"
#include "app/gui/models/DisplayText.h"

#include <QFont>
#include <QUndoCommand>
#include <algorithm>
#include <cmath>

namespace crossroads::gui {

using analysis::ChipSpec;
using analysis::Comparator;
using Row = ScenarioCriteriaModel::Row;

namespace {

bool sameName(const QString& a, const QString& b) {
    return a.compare(b, Qt::CaseInsensitive) == 0;
}

QString opSymbol(Comparator op) {
    return toQString(analysis::comparatorSymbol(op));
}

std::optional<Comparator> comparatorFromText(const QString& text) {
    const QString t = text.trimmed();
    for (Comparator c : {Comparator::Less, Comparator::LessEqual, Comparator::Greater,
                         Comparator::GreaterEqual, Comparator::Equal, Comparator::NotEqual})
        if (t == opSymbol(c))
            return c;
    if (t == QStringLiteral("≥"))
        return Comparator::GreaterEqual;
    if (t == QStringLiteral("≤"))
        return Comparator::LessEqual;
    return std::nullopt;
}

QString metricLabel(const std::string& metric) {
    if (metric == "tpp")
        return QStringLiteral("TPP");
    if (metric == "performance_density")
        return QStringLiteral("performance density");
    if (metric == "io_bidirectional_gb_per_s")
        return QStringLiteral("I/O (GB/s)");
    if (metric == "memory_bandwidth_gb_per_s")
        return QStringLiteral("memory bandwidth (GB/s)");
    if (metric == "memory_bandwidth_density")
        return QStringLiteral("memory bandwidth density (GB/s/mm²)");
    if (metric == "memory_capacity_gb")
        return QStringLiteral("memory (GB)");
    if (metric == "tdp_w")
        return QStringLiteral("TDP (W)");
    return toQString(metric);
}

// Plain digits for an editor to start from: "4800", "5.92".
QString editText(double v) {
    return QString::number(v, 'g', 12);
}

std::optional<double>* chipFigure(ChipSpec& chip, int column) {
    if (column >= HypotheticalChipsModel::FirstRateColumn &&
        column < HypotheticalChipsModel::DieAreaColumn)
        return &chip.dense_tops[analysis::kAllPrecisions[size_t(
            column - HypotheticalChipsModel::FirstRateColumn)]];
    switch (column) {
    case HypotheticalChipsModel::DieAreaColumn:
        return &chip.applicable_die_area_mm2;
    case HypotheticalChipsModel::MemoryBandwidthColumn:
        return &chip.memory_bandwidth_gb_per_s;
    case HypotheticalChipsModel::IoColumn:
        return &chip.io_bidirectional_gb_per_s;
    default:
        return nullptr;
    }
}

const std::optional<double>* chipFigure(const ChipSpec& chip, int column) {
    return chipFigure(const_cast<ChipSpec&>(chip), column);
}

enum CommandId { NameCommandId = 1, NoteCommandId, CriterionCommandId, ChipCommandId };

} // namespace

// ---- commands ---------------------------------------------------------------------------------

class ScenarioTextCommand : public QUndoCommand {
public:
    ScenarioTextCommand(ScenarioDraft* draft, bool note, QString before, QString after)
        : draft_(draft), note_(note), before_(std::move(before)), after_(std::move(after)),
          session_(draft->session()) {
        updateText();
    }
    int id() const override { return note_ ? NoteCommandId : NameCommandId; }
    bool mergeWith(const QUndoCommand* other) override {
        const auto* o = static_cast<const ScenarioTextCommand*>(other);
        if (o->session_ != session_)
            return false;
        after_ = o->after_;
        setObsolete(after_ == before_);
        updateText();
        return true;
    }
    void redo() override { apply(after_); }
    void undo() override { apply(before_); }

private:
    void apply(const QString& text) {
        if (note_)
            draft_->applyNote(text);
        else
            draft_->applyName(text);
    }
    void updateText() {
        setText(note_ ? QStringLiteral("note") : QStringLiteral("name \"%1\"").arg(after_));
    }
    ScenarioDraft* draft_;
    bool note_;
    QString before_, after_;
    int session_;
};

class ScenarioBaseCommand : public QUndoCommand {
public:
    ScenarioBaseCommand(ScenarioDraft* draft, QString beforeId, std::vector<Row> beforeRows,
                        QString afterId, std::vector<Row> afterRows)
        : QUndoCommand(QStringLiteral("extend %1").arg(afterId)), draft_(draft),
          beforeId_(std::move(beforeId)), afterId_(std::move(afterId)),
          beforeRows_(std::move(beforeRows)), afterRows_(std::move(afterRows)) {}
    void redo() override { draft_->applyBase(afterId_, afterRows_); }
    void undo() override { draft_->applyBase(beforeId_, beforeRows_); }

private:
    ScenarioDraft* draft_;
    QString beforeId_, afterId_;
    std::vector<Row> beforeRows_, afterRows_;
};

class ScenarioCriterionCommand : public QUndoCommand {
public:
    ScenarioCriterionCommand(ScenarioDraft* draft, int row, Row before, Row after)
        : draft_(draft), row_(row), before_(std::move(before)), after_(std::move(after)),
          session_(draft->session()) {
        updateText();
    }
    int id() const override { return CriterionCommandId; }
    bool mergeWith(const QUndoCommand* other) override {
        const auto* o = static_cast<const ScenarioCriterionCommand*>(other);
        if (o->session_ != session_ || o->row_ != row_)
            return false;
        after_ = o->after_;
        setObsolete(after_ == before_);
        updateText();
        return true;
    }
    void redo() override { apply(after_); }
    void undo() override { apply(before_); }

private:
    void apply(const Row& r) {
        draft_->criteria_->applyRow(row_, r.op, r.threshold);
        Q_EMIT draft_->changed();
    }
    void updateText() {
        const auto& b = after_.base;
        setText(after_.changed() ? QStringLiteral("%1 %2 %3 %4")
                                       .arg(toQString(b.clause), toQString(b.metric),
                                            opSymbol(after_.op.value_or(b.op)),
                                            formatFigure(after_.threshold.value_or(b.threshold)))
                                 : QStringLiteral("%1 %2 back to the base's")
                                       .arg(toQString(b.clause), toQString(b.metric)));
    }
    ScenarioDraft* draft_;
    int row_;
    Row before_, after_;
    int session_;
};

class ScenarioChipCommand : public QUndoCommand {
public:
    enum class Kind { Add, Remove, Change };
    ScenarioChipCommand(ScenarioDraft* draft, Kind kind, int row, std::optional<ChipSpec> before,
                        std::optional<ChipSpec> after)
        : draft_(draft), kind_(kind), row_(row), before_(std::move(before)),
          after_(std::move(after)), session_(draft->session()) {
        updateText();
    }
    int id() const override { return kind_ == Kind::Change ? ChipCommandId : -1; }
    bool mergeWith(const QUndoCommand* other) override {
        const auto* o = static_cast<const ScenarioChipCommand*>(other);
        if (o->kind_ != Kind::Change || o->session_ != session_ || o->row_ != row_)
            return false;
        after_ = o->after_;
        setObsolete(after_ == before_);
        updateText();
        return true;
    }
    void redo() override {
        switch (kind_) {
        case Kind::Add:
            draft_->chips_->insertChip(row_, *after_);
            break;
        case Kind::Remove:
            draft_->chips_->removeChipAt(row_);
            break;
        case Kind::Change:
            draft_->chips_->replaceChip(row_, *after_);
            break;
        }
        Q_EMIT draft_->changed();
    }
    void undo() override {
        switch (kind_) {
        case Kind::Add:
            draft_->chips_->removeChipAt(row_);
            break;
        case Kind::Remove:
            draft_->chips_->insertChip(row_, *before_);
            break;
        case Kind::Change:
            draft_->chips_->replaceChip(row_, *before_);
            break;
        }
        Q_EMIT draft_->changed();
    }

private:
    void updateText() {
        const QString name = toQString(after_ ? after_->name : before_->name);
        switch (kind_) {
        case Kind::Add:
            setText(QStringLiteral("add chip %1").arg(name));
            break;
        case Kind::Remove:
            setText(QStringLiteral("remove chip %1").arg(name));
            break;
        case Kind::Change:
            setText(QStringLiteral("change chip %1").arg(name));
            break;
        }
    }
    ScenarioDraft* draft_;
    Kind kind_;
    int row_;
    std::optional<ChipSpec> before_, after_;
    int session_;
};

// ---- parsing ----------------------------------------------------------------------------------

std::optional<double> parseThreshold(const QString& text, bool* ok) {
    QString t = text.trimmed();
    t.remove(QLatin1Char(','));
    t.remove(QLatin1Char(' '));
    t.remove(QChar(0x202F)); // narrow no-break space, a thousands separator
    t.remove(QChar(0x00A0));
    if (t.isEmpty()) {
        *ok = true;
        return std::nullopt;
    }
    bool parsed = false;
    const double v = t.toDouble(&parsed); // QString::toDouble reads the C locale
    *ok = parsed && std::isfinite(v) && v >= 0;
    return *ok ? std::optional(v) : std::nullopt;
}

// ---- criteria model ---------------------------------------------------------------------------

bool ScenarioCriteriaModel::Row::operator==(const Row& other) const {
    return base.clause == other.base.clause && base.metric == other.base.metric &&
           base.op == other.base.op && base.threshold == other.base.threshold && op == other.op &&
           threshold == other.threshold;
}

ScenarioCriteriaModel::ScenarioCriteriaModel(ScenarioDraft* draft)
    : QAbstractTableModel(draft), draft_(draft) {}

int ScenarioCriteriaModel::rowOf(const std::string& clause, const std::string& metric,
                                 Comparator direction) const {
    for (size_t i = 0; i < rows_.size(); ++i)
        if (rows_[i].base.clause == clause && rows_[i].base.metric == metric &&
            analysis::sameDirection(rows_[i].base.op, direction))
            return int(i);
    return -1;
}

void ScenarioCriteriaModel::reset(std::vector<Row> rows) {
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
}

void ScenarioCriteriaModel::applyRow(int row, std::optional<Comparator> op,
                                     std::optional<double> threshold) {
    if (row < 0 || size_t(row) >= rows_.size())
        return;
    rows_[size_t(row)].op = op;
    rows_[size_t(row)].threshold = threshold;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int ScenarioCriteriaModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(rows_.size());
}

int ScenarioCriteriaModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ScenarioCriteriaModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row& r = rows_[size_t(index.row())];
    const Comparator op = r.op.value_or(r.base.op);
    const double threshold = r.threshold.value_or(r.base.threshold);
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case ClauseColumn:
            return toQString(r.base.clause);
        case MetricColumn:
            return metricLabel(r.base.metric);
        case OperatorColumn:
            return opSymbol(op);
        case BaseThresholdColumn:
            return QStringLiteral("%1 %2").arg(opSymbol(r.base.op), formatFigure(r.base.threshold));
        case ThresholdColumn:
            return r.threshold ? formatFigure(*r.threshold) : QString();
        default:
            return {};
        }
    case Qt::EditRole:
        if (index.column() == OperatorColumn)
            return opSymbol(op);
        if (index.column() == ThresholdColumn)
            return editText(threshold);
        return data(index, Qt::DisplayRole);
    case Qt::ToolTipRole:
        return QStringLiteral("%1 %2: %3 %4 in the base. Type a threshold (and an operator of the "
                              "same direction) to change it; clear it to keep the base's.")
            .arg(toQString(r.base.kind), toQString(r.base.clause), metricLabel(r.base.metric),
                 QStringLiteral("%1 %2").arg(opSymbol(r.base.op), formatFigure(r.base.threshold)));
    case Qt::FontRole:
        if (r.changed() && (index.column() == OperatorColumn || index.column() == ThresholdColumn ||
                            index.column() == ClauseColumn)) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == BaseThresholdColumn || index.column() == ThresholdColumn)
            return (Qt::AlignRight | Qt::AlignVCenter).toInt();
        return {};
    case ChangedRole:
        return r.changed();
    case NumberRole:
        return threshold;
    default:
        return {};
    }
}

QVariant ScenarioCriteriaModel::headerData(int section, Qt::Orientation orientation,
                                           int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case ClauseColumn:
        return QStringLiteral("Clause");
    case MetricColumn:
        return QStringLiteral("Metric");
    case OperatorColumn:
        return QStringLiteral("Operator");
    case BaseThresholdColumn:
        return QStringLiteral("Base threshold");
    case ThresholdColumn:
        return QStringLiteral("Scenario threshold");
    default:
        return {};
    }
}

Qt::ItemFlags ScenarioCriteriaModel::flags(const QModelIndex& index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && (index.column() == OperatorColumn || index.column() == ThresholdColumn))
        f |= Qt::ItemIsEditable;
    return f;
}

bool ScenarioCriteriaModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (role != Qt::EditRole ||
        !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    const Row& r = rows_[size_t(index.row())];
    std::optional<Comparator> op = r.op;
    std::optional<double> threshold = r.threshold;
    if (index.column() == OperatorColumn) {
        const auto parsed = comparatorFromText(value.toString());
        if (!parsed || !analysis::sameDirection(*parsed, r.base.op)) {
            Q_EMIT draft_->editRejected(
                QStringLiteral("\"%1\" is not an operator of the direction of %2 (%3 %4 keeps "
                               "its direction)")
                    .arg(value.toString(), opSymbol(r.base.op), toQString(r.base.clause),
                         metricLabel(r.base.metric)));
            return false;
        }
        op = *parsed == r.base.op ? std::nullopt : parsed;
        if (op && !threshold)
            threshold = r.base.threshold;
    } else if (index.column() == ThresholdColumn) {
        bool ok = false;
        const auto parsed = value.typeId() == QMetaType::Double
                                ? std::optional(value.toDouble())
                                : parseThreshold(value.toString(), &ok);
        if (value.typeId() == QMetaType::Double)
            ok = std::isfinite(*parsed) && *parsed >= 0;
        if (!ok) {
            Q_EMIT draft_->editRejected(
                QStringLiteral("\"%1\" is not a threshold: a number of zero or more (empty: the "
                               "base's)")
                    .arg(value.toString()));
            return false;
        }
        threshold = parsed;
        if (!threshold)
            op.reset(); // cleared: back to the base's criterion
    } else {
        return false;
    }
    if (threshold && *threshold == r.base.threshold && !op)
        threshold.reset();
    return draft_->setCriterion(index.row(), op, threshold);
}

// ---- chips model ------------------------------------------------------------------------------

HypotheticalChipsModel::HypotheticalChipsModel(ScenarioDraft* draft)
    : QAbstractTableModel(draft), draft_(draft) {}

void HypotheticalChipsModel::reset(std::vector<ChipSpec> chips) {
    beginResetModel();
    chips_ = std::move(chips);
    endResetModel();
}

void HypotheticalChipsModel::insertChip(int row, const ChipSpec& chip) {
    row = std::clamp(row, 0, int(chips_.size()));
    beginInsertRows({}, row, row);
    chips_.insert(chips_.begin() + row, chip);
    endInsertRows();
}

void HypotheticalChipsModel::removeChipAt(int row) {
    if (row < 0 || size_t(row) >= chips_.size())
        return;
    beginRemoveRows({}, row, row);
    chips_.erase(chips_.begin() + row);
    endRemoveRows();
}

void HypotheticalChipsModel::replaceChip(int row, const ChipSpec& chip) {
    if (row < 0 || size_t(row) >= chips_.size())
        return;
    chips_[size_t(row)] = chip;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int HypotheticalChipsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(chips_.size());
}

int HypotheticalChipsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HypotheticalChipsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ChipSpec& chip = chips_[size_t(index.row())];
    const int column = index.column();
    if (column == DatacenterColumn) {
        if (role == Qt::CheckStateRole)
            return !chip.datacenter ? Qt::PartiallyChecked
                                    : (*chip.datacenter ? Qt::Checked : Qt::Unchecked);
        if (role == Qt::ToolTipRole)
            return QStringLiteral("Designed or marketed for datacenters: %1 (partly checked: "
                                  "ambiguous)")
                .arg(yesNoUnknown(chip.datacenter));
        return {};
    }
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        if (column == NameColumn)
            return toQString(chip.name);
        if (column == VendorColumn)
            return toQString(chip.vendor);
        if (const auto* v = chipFigure(chip, column)) {
            if (!*v)
                return QString();
            return role == Qt::EditRole ? editText(**v) : formatFigure(**v);
        }
        return {};
    }
    if (role == Qt::TextAlignmentRole && chipFigure(chip, column))
        return (Qt::AlignRight | Qt::AlignVCenter).toInt();
    if (role == Qt::ToolTipRole && column >= FirstRateColumn && column < DieAreaColumn)
        return QStringLiteral("Dense %1 rate, TFLOPS or TOPS; empty: not supported")
            .arg(toQString(analysis::precisionKey(
                               analysis::kAllPrecisions[size_t(column - FirstRateColumn)]))
                     .toUpper());
    return {};
}

QVariant HypotheticalChipsModel::headerData(int section, Qt::Orientation orientation,
                                            int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (section >= FirstRateColumn && section < DieAreaColumn)
        return toQString(analysis::precisionKey(
                             analysis::kAllPrecisions[size_t(section - FirstRateColumn)]))
            .toUpper();
    switch (section) {
    case NameColumn:
        return QStringLiteral("Name");
    case VendorColumn:
        return QStringLiteral("Vendor");
    case DatacenterColumn:
        return QStringLiteral("DC");
    case DieAreaColumn:
        return QStringLiteral("Die mm²");
    case MemoryBandwidthColumn:
        return QStringLiteral("Memory GB/s");
    case IoColumn:
        return QStringLiteral("I/O GB/s");
    default:
        return {};
    }
}

Qt::ItemFlags HypotheticalChipsModel::flags(const QModelIndex& index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (!index.isValid())
        return f;
    if (index.column() == DatacenterColumn)
        return f | Qt::ItemIsUserCheckable | Qt::ItemIsUserTristate;
    return f | Qt::ItemIsEditable;
}

bool HypotheticalChipsModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    ChipSpec chip = chips_[size_t(index.row())];
    const int column = index.column();
    if (column == DatacenterColumn) {
        if (role != Qt::CheckStateRole)
            return false;
        const auto state = static_cast<Qt::CheckState>(value.toInt());
        chip.datacenter =
            state == Qt::PartiallyChecked ? std::nullopt : std::optional(state == Qt::Checked);
    } else if (role != Qt::EditRole) {
        return false;
    } else if (column == NameColumn) {
        chip.name = value.toString().trimmed().toStdString();
    } else if (column == VendorColumn) {
        chip.vendor = value.toString().trimmed().toStdString();
    } else if (auto* figure = chipFigure(chip, column)) {
        bool ok = false;
        const auto parsed = parseThreshold(value.toString(), &ok);
        if (!ok || (parsed && *parsed <= 0)) {
            Q_EMIT draft_->editRejected(
                QStringLiteral("\"%1\" is not a figure: a number above zero (empty: unknown)")
                    .arg(value.toString()));
            return false;
        }
        *figure = parsed;
    } else {
        return false;
    }
    return draft_->setChip(index.row(), chip);
}

// ---- the draft --------------------------------------------------------------------------------

ScenarioDraft::ScenarioDraft(std::vector<analysis::Edition> editions,
                             std::vector<std::string> storedChipNames, QObject* parent)
    : QObject(parent), editions_(std::move(editions)), storedChipNames_(std::move(storedChipNames)),
      undo_(new QUndoStack(this)), criteria_(new ScenarioCriteriaModel(this)),
      chips_(new HypotheticalChipsModel(this)) {}

ScenarioDraft::~ScenarioDraft() {
    // The commands point at the models: clear them while both still stand.
    undo_->clear();
}

const analysis::Edition* ScenarioDraft::base() const {
    return analysis::findEdition(editions_, baseId_.toStdString());
}

std::vector<const analysis::Edition*> ScenarioDraft::possibleBases() const {
    std::vector<const analysis::Edition*> out;
    for (const analysis::Edition& e : editions_) {
        bool excluded = false;
        // Walk up the chain of bases: reaching the scenario being changed excludes it.
        for (const analysis::Edition* up = &e; up && !editing_.isEmpty();) {
            if (up->scenario && sameName(toQString(up->id), editing_)) {
                excluded = true;
                break;
            }
            up = up->scenario ? analysis::findEdition(editions_, up->base) : nullptr;
        }
        if (!excluded)
            out.push_back(&e);
    }
    return out;
}

std::vector<Row> ScenarioDraft::rowsFor(const analysis::Edition& base,
                                        const std::vector<Row>& carried) const {
    std::vector<Row> rows;
    for (analysis::NumericCriterion& k : analysis::numericCriteria(base))
        rows.push_back({std::move(k), std::nullopt, std::nullopt});
    for (const Row& c : carried) {
        if (!c.changed())
            continue;
        for (Row& r : rows)
            if (r.base.clause == c.base.clause && r.base.metric == c.base.metric &&
                analysis::sameDirection(r.base.op, c.base.op)) {
                const Comparator op = c.op.value_or(c.base.op);
                r.op = op == r.base.op ? std::nullopt : std::optional(op);
                r.threshold = c.threshold.value_or(c.base.threshold);
            }
    }
    return rows;
}

bool ScenarioDraft::startNew(const QString& baseId) {
    const analysis::Edition* e = analysis::findEdition(editions_, baseId.toStdString());
    if (!e) {
        problem_ = QStringLiteral("no edition \"%1\"").arg(baseId);
        return false;
    }
    undo_->clear();
    problem_.clear();
    editing_.clear();
    name_.clear();
    note_.clear();
    baseId_ = baseId;
    criteria_->reset(rowsFor(*e, {}));
    chips_->reset({});
    Q_EMIT nameChanged(name_);
    Q_EMIT noteChanged(note_);
    Q_EMIT baseChanged(baseId_);
    Q_EMIT changed();
    return true;
}

bool ScenarioDraft::load(const analysis::Scenario& scenario) {
    const analysis::Edition* e = analysis::findEdition(editions_, scenario.base);
    if (!e) {
        problem_ = QStringLiteral("its base edition \"%1\" is not in the store")
                       .arg(toQString(scenario.base));
        return false;
    }
    std::vector<Row> rows = rowsFor(*e, {});
    for (const analysis::ThresholdOverride& o : scenario.overrides) {
        auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) {
            return r.base.clause == o.clause && r.base.metric == o.metric &&
                   analysis::sameDirection(r.base.op, o.op);
        });
        if (it == rows.end()) {
            problem_ =
                QStringLiteral("%1 no longer applies to %2")
                    .arg(toQString(analysis::thresholdOverrideText(o)), toQString(scenario.base));
            return false;
        }
        it->op = o.op == it->base.op ? std::nullopt : std::optional(o.op);
        it->threshold = o.threshold;
    }
    undo_->clear();
    problem_.clear();
    editing_ = toQString(scenario.name);
    name_ = editing_;
    note_ = toQString(scenario.note);
    baseId_ = toQString(e->id);
    criteria_->reset(std::move(rows));
    chips_->reset(scenario.hypothetical_chips);
    Q_EMIT nameChanged(name_);
    Q_EMIT noteChanged(note_);
    Q_EMIT baseChanged(baseId_);
    Q_EMIT changed();
    return true;
}

void ScenarioDraft::setName(const QString& name) {
    if (name == name_)
        return; // a saved scenario may be renamed too: saveProblem checks the new name
    undo_->push(new ScenarioTextCommand(this, false, name_, name));
}

void ScenarioDraft::setNote(const QString& note) {
    if (note == note_)
        return;
    undo_->push(new ScenarioTextCommand(this, true, note_, note));
}

bool ScenarioDraft::setBase(const QString& id) {
    const analysis::Edition* e = analysis::findEdition(editions_, id.toStdString());
    if (!e)
        return false;
    const auto bases = possibleBases();
    if (std::find(bases.begin(), bases.end(), e) == bases.end())
        return false;
    if (id == baseId_)
        return true;
    undo_->push(new ScenarioBaseCommand(this, baseId_, criteria_->rows(), id,
                                        rowsFor(*e, criteria_->rows())));
    return true;
}

bool ScenarioDraft::setCriterion(int row, std::optional<Comparator> op,
                                 std::optional<double> threshold) {
    if (row < 0 || size_t(row) >= criteria_->rows().size())
        return false;
    const Row& before = criteria_->rows()[size_t(row)];
    if (op && !analysis::sameDirection(*op, before.base.op))
        return false;
    if (threshold && !(std::isfinite(*threshold) && *threshold >= 0))
        return false;
    Row after = before;
    after.op = op;
    after.threshold = threshold;
    if (after == before)
        return true;
    undo_->push(new ScenarioCriterionCommand(this, row, before, after));
    return true;
}

void ScenarioDraft::setStoredChipNames(std::vector<std::string> names) {
    storedChipNames_ = std::move(names);
    Q_EMIT changed();
}

QString ScenarioDraft::chipProblem(const ChipSpec& chip, int row) const {
    if (chip.name.empty())
        return QStringLiteral("a hypothetical chip needs a name");
    const auto problems = analysis::validateChip(chip);
    if (!problems.empty())
        return toQString(problems.front());
    const QString name = toQString(chip.name);
    for (const std::string& stored : storedChipNames_)
        if (sameName(toQString(stored), name))
            return QStringLiteral("\"%1\" is the name of a stored chip").arg(name);
    for (size_t i = 0; i < chips_->chips().size(); ++i)
        if (int(i) != row && sameName(toQString(chips_->chips()[i].name), name))
            return QStringLiteral("a hypothetical chip is named \"%1\" already").arg(name);
    return {};
}

int ScenarioDraft::addChip() {
    ChipSpec chip;
    chip.vendor = "Analyst";
    chip.datacenter = true;
    for (int n = 1;; ++n) { // the chip is valid but for its name: the first free one ends this
        chip.name = "Hypothetical " + std::to_string(n);
        if (chipProblem(chip, -1).isEmpty())
            break;
    }
    addChip(chip);
    return int(chips_->chips().size()) - 1;
}

bool ScenarioDraft::addChip(const ChipSpec& chip) {
    const QString why = chipProblem(chip, -1);
    if (!why.isEmpty()) {
        Q_EMIT editRejected(why);
        return false;
    }
    undo_->push(new ScenarioChipCommand(this, ScenarioChipCommand::Kind::Add,
                                        int(chips_->chips().size()), std::nullopt, chip));
    return true;
}

bool ScenarioDraft::removeChip(int row) {
    if (row < 0 || size_t(row) >= chips_->chips().size())
        return false;
    undo_->push(new ScenarioChipCommand(this, ScenarioChipCommand::Kind::Remove, row,
                                        chips_->chips()[size_t(row)], std::nullopt));
    return true;
}

bool ScenarioDraft::setChip(int row, const ChipSpec& chip) {
    if (row < 0 || size_t(row) >= chips_->chips().size())
        return false;
    const QString why = chipProblem(chip, row);
    if (!why.isEmpty()) {
        Q_EMIT editRejected(why);
        return false;
    }
    if (chip == chips_->chips()[size_t(row)])
        return true;
    undo_->push(new ScenarioChipCommand(this, ScenarioChipCommand::Kind::Change, row,
                                        chips_->chips()[size_t(row)], chip));
    return true;
}

void ScenarioDraft::applyName(const QString& name) {
    name_ = name;
    Q_EMIT nameChanged(name_);
    Q_EMIT changed();
}

void ScenarioDraft::applyNote(const QString& note) {
    note_ = note;
    Q_EMIT noteChanged(note_);
    Q_EMIT changed();
}

void ScenarioDraft::applyBase(const QString& id, std::vector<Row> rows) {
    baseId_ = id;
    criteria_->reset(std::move(rows));
    Q_EMIT baseChanged(baseId_);
    Q_EMIT changed();
}

analysis::Scenario ScenarioDraft::scenario() const {
    analysis::Scenario s;
    s.name = name_.trimmed().toStdString();
    s.base = baseId_.toStdString();
    s.note = note_.trimmed().toStdString();
    for (const Row& r : criteria_->rows())
        if (r.changed())
            s.overrides.push_back({r.base.clause, r.base.metric, r.op.value_or(r.base.op),
                                   r.threshold.value_or(r.base.threshold)});
    s.hypothetical_chips = chips_->chips();
    return s;
}

std::optional<analysis::Edition> ScenarioDraft::resolve(QString* why) const {
    const analysis::Edition* b = base();
    if (!b) {
        if (why)
            *why = QStringLiteral("choose the edition it extends");
        return std::nullopt;
    }
    analysis::Scenario s = scenario();
    try {
        analysis::checkScenarioName(s.name);
    } catch (const analysis::ScenarioError&) {
        s.name = "unsaved scenario";
    }
    try {
        return analysis::resolveScenario(s, *b);
    } catch (const analysis::ScenarioError& e) {
        if (why)
            *why = toQString(e.what());
        return std::nullopt;
    }
}

QString ScenarioDraft::saveProblem() const {
    const analysis::Edition* b = base();
    if (!b)
        return QStringLiteral("Choose the edition it extends.");
    const analysis::Scenario s = scenario();
    if (s.name.empty())
        return QStringLiteral("Give the scenario a name.");
    try {
        analysis::checkScenarioName(s.name);
    } catch (const analysis::ScenarioError& e) {
        return toQString(e.what());
    }
    for (const analysis::Edition& e : editions_) {
        if (!sameName(toQString(e.id), name_.trimmed()))
            continue;
        if (!e.scenario)
            return QStringLiteral("\"%1\" is the id of an edition: choose another name.")
                .arg(toQString(s.name));
        // A new scenario, or a saved one renamed, may not take another scenario's name.
        if (editing_.isEmpty() || !sameName(toQString(e.id), editing_))
            return QStringLiteral("A scenario named \"%1\" exists already: choose another name "
                                  "(Scenario > Edit scenario changes it).")
                .arg(toQString(e.id));
    }
    try {
        analysis::validateScenario(s, *b, storedChipNames_);
    } catch (const analysis::ScenarioError& e) {
        return toQString(e.what());
    }
    return {};
}

} // namespace crossroads::gui
