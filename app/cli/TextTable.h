// A plain-text table for terminal output: columns padded to their widest cell.
#pragma once

#include <QString>
#include <QStringList>
#include <vector>

namespace crossroads::cli {

class TextTable {
public:
    explicit TextTable(QStringList header, std::vector<bool> rightAligned = {});
    void addRow(QStringList cells);
    QString render() const;

private:
    QStringList header_;
    std::vector<bool> right_;
    std::vector<QStringList> rows_;
};

} // namespace crossroads::cli
