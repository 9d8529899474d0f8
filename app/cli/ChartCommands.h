// `crossroads chart`: a chart of the store exported as PNG, PDF or SVG (needs QApplication;
// it renders off screen when there is no display).
#pragma once

#include <QString>
#include <QStringList>

namespace crossroads::cli {

int chartCommand(const QStringList& arguments, const QString& storePath);

} // namespace crossroads::cli
