// The detail pane's content for one chip under one edition, as HTML for a QTextBrowser: the
// classification, one explanation line per deciding criterion, the remarks, and every figure
// beside its sources. Kept free of Widgets so it is tested with the models.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Classifier.h"
#include "analysis/Edition.h"

#include <QPalette>
#include <QString>

namespace crossroads::gui {

// Every string from the data is HTML-escaped; colours come from `palette`.
QString chipDetailHtml(const analysis::ChipSpec& chip, const analysis::ClassificationResult& result,
                       const analysis::Edition& edition, const QPalette& palette);

// Shown when nothing is selected.
QString emptyDetailHtml(const QPalette& palette);

} // namespace crossroads::gui
