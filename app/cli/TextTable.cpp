#include "app/cli/TextTable.h"

#include <algorithm>

namespace crossroads::cli {

TextTable::TextTable(QStringList header, std::vector<bool> rightAligned)
    : header_(std::move(header)), right_(std::move(rightAligned)) {
    right_.resize(static_cast<size_t>(header_.size()), false);
}

void TextTable::addRow(QStringList cells) {
    while (cells.size() < header_.size())
        cells << QString();
    rows_.push_back(std::move(cells));
}

QString TextTable::render() const {
    std::vector<qsizetype> width(static_cast<size_t>(header_.size()), 0);
    auto measure = [&](const QStringList& cells) {
        for (qsizetype i = 0; i < header_.size(); ++i)
            width[static_cast<size_t>(i)] =
                std::max(width[static_cast<size_t>(i)], cells[i].size());
    };
    measure(header_);
    for (const QStringList& r : rows_)
        measure(r);
    auto line = [&](const QStringList& cells) {
        QString out;
        for (qsizetype i = 0; i < header_.size(); ++i) {
            const auto w = static_cast<int>(width[static_cast<size_t>(i)]);
            const bool last = i + 1 == header_.size();
            if (right_[static_cast<size_t>(i)])
                out += cells[i].rightJustified(w);
            else
                out += last ? cells[i] : cells[i].leftJustified(w);
            if (!last)
                out += QStringLiteral("  ");
        }
        return out + QLatin1Char('\n');
    };
    QString out = line(header_);
    QStringList rule;
    for (qsizetype w : width)
        rule << QString(w, QLatin1Char('-'));
    out += line(rule);
    for (const QStringList& r : rows_)
        out += line(r);
    return out;
}

} // namespace crossroads::cli
