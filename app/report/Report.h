// A comparison report of two editions (or scenarios) for a briefing: title page, summary of what
// changes, the classification tables of both, the charts, the explanations, every figure's
// source with its full citation, data provenance and a timestamp. PDF (paged, A4) or one HTML
// file with its charts inside, by the file's extension.
#pragma once

#include "analysis/Compare.h"
#include "app/charts/ChartKind.h"
#include "data/Bibliography.h"
#include "data/Store.h"

#include <QDateTime>
#include <QImage>
#include <QString>
#include <map>
#include <stdexcept>
#include <vector>

namespace crossroads::report {

class ReportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ReportInputs {
    charts::ChartInputs data; // chips, editions, results (edition_id is ignored)
    std::string baseline, vs; // edition ids
    // ISO 3166-1 alpha-2: the licence each chip needs to ship there under both editions (the
    // buyer headquartered there); empty: the section says how to ask for it.
    std::string destination;
    std::vector<data::BibliographyEntry> bibliography;
    QString store_path;
    int schema_version = 0;
    QString app_version;
    QDateTime generated = QDateTime::currentDateTimeUtc();
};

// Everything a report reads from the store (chips, editions and scenarios, benchmark runs,
// bibliography, provenance), with no editions chosen yet: the CLI and the window start here.
ReportInputs reportInputsFromStore(const data::Store& store);

struct ReportSection {
    QString id, title; // "summary", "What changes"
};
// The sections every report has, in order (tests check that each is present).
const std::vector<ReportSection>& reportSections();

// The report as HTML; images are referenced as "chart:NAME" and returned in `images`.
QString reportHtml(const ReportInputs& in, std::map<QString, QImage>& images);

// Writes FILE.pdf or FILE.html (charts as data: URIs), whole or not at all. Throws ReportError
// (unknown edition, unknown destination, unknown extension, unwritable folder).
void writeReport(const ReportInputs& in, const QString& path);

} // namespace crossroads::report
