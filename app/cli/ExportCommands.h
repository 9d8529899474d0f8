// `crossroads export`: the store's chips as interchange files (`export FILE.json|csv`), and
// the result tables the window shows as CSV or XLSX (`export --table chips|classification|
// compare|history|results --out FILE.csv|xlsx`), built by the window's own models so that both
// faces write the same table. Same conventions as Commands.h.
#pragma once

#include <QString>
#include <QStringList>

namespace crossroads::cli {

int exportCommand(const QStringList& arguments, const QString& storePath);

} // namespace crossroads::cli
