// `crossroads project`: the roofline projection of a model's decode and prefill on the chips of
// the store (analysis/Projection.h), for any chip, whether or not it is at hand.
#pragma once

#include <QString>
#include <QStringList>

namespace crossroads::cli {

int projectCommand(const QStringList& arguments, const QString& storePath);

} // namespace crossroads::cli
