// `crossroads compare` (what changes between two editions, and why) and `crossroads report`
// (the same as a PDF or HTML briefing with tables, charts and sources).
#pragma once

#include <QString>
#include <QStringList>

namespace crossroads::cli {

int compareCommand(const QStringList& arguments, const QString& storePath);
int reportCommand(const QStringList& arguments, const QString& storePath);

} // namespace crossroads::cli
