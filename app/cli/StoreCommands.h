// The verbs over the store's own data: import (merging, with --dry-run), history (the audit
// trail) and results (the saved benchmark results). Same conventions as Commands.h.
#pragma once

#include <QString>
#include <QStringList>

namespace crossroads::cli {

int importCommand(const QStringList& arguments, const QString& storePath);
int historyCommand(const QStringList& arguments, const QString& storePath);
int resultsCommand(const QStringList& arguments, const QString& storePath);

} // namespace crossroads::cli
