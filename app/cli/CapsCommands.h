// `crossroads caps`: the cap calculator (analysis/Caps.h) over the store's chips and the
// 2025-01 edition's cap data: what an LPP, Tier-2 or custom TPP allocation buys, chip by chip.
#pragma once

#include "analysis/Edition.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace crossroads::cli {

int capsCommand(const QStringList& arguments, const QString& storePath);
// `crossroads capability`: the capability index of every chip beside its export class, with the
// measured-against-projected calibration from the store's benchmark results.
int capabilityCommand(const QStringList& arguments, const QString& storePath);

// The edition whose cap data an --allocation reads: `requested` (an unknown id throws
// UsageFailure), else the newest that sets caps (2025-01 in the bundle), else the default one.
const analysis::Edition& capsEdition(const std::vector<analysis::Edition>& editions,
                                     const QString& requested);

} // namespace crossroads::cli
