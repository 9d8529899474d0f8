// The detail pane's content for one chip under one edition, as HTML for a QTextBrowser: the
// classification, one explanation line per deciding criterion, whether the class depends on which
// source is believed (for a chip whose figures carry other sources' values), the remarks, and every
// figure beside its sources. Kept free of Widgets so it is tested with the models.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Classifier.h"
#include "analysis/Edition.h"
#include "analysis/License.h"

#include <QPalette>
#include <QString>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::gui {

// The full citation behind a short source key ("SA", "NV-8K-2023-10") of a chip's citations.
struct SourceReference {
    std::string key;
    std::string citation;
    std::string url;  // empty when not public
    std::string date; // ISO 8601 or empty
};

// The references a citation text names, in order. The window builds it over the store's
// bibliography (data::Store::bibliography() and data::citedEntries), so this helper needs no
// store.
using CitationResolver = std::function<std::vector<SourceReference>(std::string_view citation)>;

// Every string from the data is HTML-escaped; colours come from `palette`. With a resolver, the
// page ends with the full citation of every source key the chip's sources use. With a licence
// answer (the window's destination), a section says whether a licence is needed and why.
QString chipDetailHtml(const analysis::ChipSpec& chip, const analysis::ClassificationResult& result,
                       const analysis::Edition& edition, const QPalette& palette,
                       const CitationResolver& resolveCitation = {},
                       const analysis::LicenseResult* license = nullptr);

// Shown when nothing is selected.
QString emptyDetailHtml(const QPalette& palette);

} // namespace crossroads::gui
