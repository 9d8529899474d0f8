// `crossroads design-around`: margins of a chip to every threshold of an edition, the smallest
// single change that leaves each line, and the real derivatives (analysis/DesignAround.h).
#pragma once

#include <QString>
#include <QStringList>

namespace crossroads::cli {

int designAroundCommand(const QStringList& arguments, const QString& storePath);

} // namespace crossroads::cli
