// `crossroads license`: does a chip need a licence to go to a destination under an edition, on
// which basis, how would BIS review it, which licence exceptions are open (analysis/License.h).
#pragma once

#include <QString>
#include <QStringList>

namespace crossroads::cli {

int licenseCommand(const QStringList& arguments, const QString& storePath);

} // namespace crossroads::cli
