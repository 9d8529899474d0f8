// `crossroads systems`: 4A090 classification of systems of N identical chips (analysis/Systems.h),
// the bundled examples (data/seed/systems.json) or --system "NAME=N x CHIP", with how many fit a
// 2025-01 TPP allocation.
#pragma once

#include <QString>
#include <QStringList>

namespace crossroads::cli {

int systemsCommand(const QStringList& arguments, const QString& storePath);

} // namespace crossroads::cli
