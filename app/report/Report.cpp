#include "app/report/Report.h"

#include "analysis/Classifier.h"
#include "analysis/Countries.h"
#include "analysis/License.h"
#include "analysis/Scenario.h"
#include "analysis/SourceSensitivity.h"
#include "app/charts/ChartTheme.h"
#include "app/charts/ChipChart.h"
#include "app/gui/models/DisplayText.h"

#include <QBuffer>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QPageLayout>
#include <QPageSize>
#include <QPdfWriter>
#include <QSaveFile>
#include <QTextDocument>
#include <QUrl>
#include <set>

namespace crossroads::report {

namespace {

using analysis::ChipSpec;
using analysis::ClassificationResult;
using analysis::Edition;

constexpr int kChartWidth = 1600;
constexpr int kChartHeight = 1000;
// The A4 text block (210 x 297 mm less 16 mm margins) in document pixels (96 per inch).
constexpr double kMarginMm = 16;
constexpr double kTextWidthPx = (210 - 2 * kMarginMm) / 25.4 * 96;
constexpr double kTextHeightPx = (297 - 2 * kMarginMm) / 25.4 * 96;
constexpr int kImageWidthInDocument = int(kTextWidthPx) - 4;

QString h(const std::string& s) {
    return QString::fromStdString(s).toHtmlEscaped();
}

QString h(const QString& s) {
    return s.toHtmlEscaped();
}

QString joined(const std::vector<std::string>& items, const char* empty = "—") {
    if (items.empty())
        return QString::fromUtf8(empty);
    QStringList out;
    for (const std::string& s : items)
        out << h(s);
    return out.join(QStringLiteral(", "));
}

QString lines(const std::vector<std::string>& items) {
    QStringList out;
    for (const std::string& s : items)
        out << h(s);
    return out.join(QStringLiteral("<br>"));
}

QString classText(const ClassificationResult& r) {
    if (!r.controlled)
        return QStringLiteral("undetermined (missing: %1)").arg(joined(r.undetermined));
    return h(analysis::classSummary(r));
}

QString controlledText(const ClassificationResult& r) {
    return !r.controlled   ? QStringLiteral("?")
           : *r.controlled ? QStringLiteral("yes")
                           : QStringLiteral("no");
}

QString figure(const std::optional<double>& v) {
    return v ? h(analysis::formatFigure(*v)) : QStringLiteral("?");
}

const Edition& requireEdition(const ReportInputs& in, const std::string& id) {
    if (const Edition* e = analysis::findEdition(in.data.editions, id))
        return *e;
    std::string known;
    for (const Edition& e : in.data.editions)
        known += (known.empty() ? "" : ", ") + e.id;
    throw ReportError("unknown edition \"" + id + "\" (known: " + known + ")");
}

// The chart as an image, and its subtitle (the capability chart's headline is its last line).
QImage renderChart(charts::ChartKind kind, charts::ChartInputs inputs, const std::string& edition,
                   QString* subtitle = nullptr) {
    inputs.edition_id = edition;
    charts::ChipChart chart;
    chart.setTheme(charts::ChartTheme::light());
    chart.resize(kChartWidth, kChartHeight);
    chart.setViewport(QRect(0, 0, kChartWidth, kChartHeight));
    chart.showChart(kind, inputs);
    if (subtitle)
        *subtitle = chart.chartSubtitle();
    return chart.toPixmap(kChartWidth, kChartHeight).toImage();
}

QString sectionHead(const QString& id) {
    for (const ReportSection& s : reportSections())
        if (s.id == id)
            return QStringLiteral("<h2 id=\"%1\">%2</h2>\n").arg(s.id, h(s.title));
    return QString();
}

QString editionRow(const Edition& e) {
    return QStringLiteral("<tr><td><b>%1</b></td><td>%2</td><td>%3</td><td>%4 [%5]</td><td>%6</td>"
                          "</tr>\n")
        .arg(h(e.id), h(e.effective), h(e.status), h(e.citation.text), h(e.citation.evidence),
             h(e.title));
}

QString classificationTable(const std::vector<ChipSpec>& chips,
                            const std::vector<ClassificationResult>& results) {
    QString out = QStringLiteral(
        "<table class=\"grid\" "
        "width=\"100%\"><tr><th>Chip</th><th>Vendor</th><th>TPP</th><th>PD</th>"
        "<th>Class</th><th>Controlled</th><th>Licence exceptions</th><th>Flags</th></tr>\n");
    for (size_t i = 0; i < chips.size(); ++i) {
        const ClassificationResult& r = results[i];
        out += QStringLiteral("<tr><td>%1</td><td>%2</td><td class=\"n\">%3</td><td class=\"n\">%4"
                              "</td><td>%5</td><td>%6</td><td>%7</td><td>%8</td></tr>\n")
                   .arg(h(chips[i].name), h(chips[i].vendor), figure(r.tppValue()),
                        figure(r.performance_density), classText(r), controlledText(r),
                        joined(r.license_exceptions), joined(r.flags));
    }
    return out + QStringLiteral("</table>\n");
}

QString explanationList(const ClassificationResult& r) {
    QString out = QStringLiteral("<ul>");
    for (const std::string& line : r.explanation)
        out += QStringLiteral("<li>%1</li>").arg(h(line));
    for (const std::string& line : r.remarks)
        out += QStringLiteral("<li class=\"remark\">%1</li>").arg(h(line));
    return out + QStringLiteral("</ul>");
}

// The licence each chip needs to ship to the destination under both editions, and the basis of
// every answer that differs between them.
std::string licenceAnswer(const analysis::LicenseResult& l) {
    return analysis::licenseSummary(
        l, [](std::string_view key) { return gui::figureShortLabel(key).toStdString(); });
}

QString licenceSection(const ReportInputs& in, const std::vector<ChipSpec>& chips,
                       const Edition& baseline, const Edition& vs,
                       const analysis::EditionComparison& cmp) {
    QString html = sectionHead(QStringLiteral("licences"));
    if (in.destination.empty())
        return html + QStringLiteral("<p>No destination chosen: <code>crossroads report "
                                     "--destination CC</code> (ISO 3166-1 alpha-2) adds whether "
                                     "each chip needs a licence to ship there under both "
                                     "editions, the basis and the review policy.</p>\n");
    const QString country =
        QStringLiteral("%1 (%2)").arg(h(analysis::countryName(in.destination)), h(in.destination));
    const analysis::LicenseQuery query{in.destination, std::nullopt};
    struct Pair {
        analysis::LicenseResult from, to;
    };
    std::vector<Pair> pairs;
    for (size_t i = 0; i < chips.size(); ++i)
        pairs.push_back(
            {analysis::determineLicense(chips[i], cmp.baseline_results[i], baseline, query),
             analysis::determineLicense(chips[i], cmp.vs_results[i], vs, query)});
    const auto required = [&](bool vsSide) {
        int n = 0;
        for (const Pair& p : pairs)
            n += (vsSide ? p.to : p.from).license_required.value_or(false) ? 1 : 0;
        return n;
    };
    std::vector<const Pair*> differing;
    for (const Pair& p : pairs)
        if (licenceAnswer(p.from) != licenceAnswer(p.to))
            differing.push_back(&p);
    html += QStringLiteral("<p>Export to <b>%1</b>, the buyer headquartered there: a licence is "
                           "required for %2 of %3 chips under %4 and %5 under %6; %7 chips' "
                           "answers differ.</p>\n")
                .arg(country)
                .arg(required(false))
                .arg(chips.size())
                .arg(h(baseline.id))
                .arg(required(true))
                .arg(h(vs.id))
                .arg(differing.size());
    html += QStringLiteral("<table class=\"grid\" width=\"100%\"><tr><th>Chip</th><th>%1</th>"
                           "<th>%2</th></tr>\n")
                .arg(h(baseline.id), h(vs.id));
    for (const Pair& p : pairs) {
        const QString from = h(licenceAnswer(p.from));
        const QString to = h(licenceAnswer(p.to));
        html += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td></tr>\n")
                    .arg(h(p.from.chip_name), from,
                         from == to ? to : QStringLiteral("<b>%1</b>").arg(to));
    }
    html += QStringLiteral("</table>\n");
    for (const Pair* p : differing) {
        html += QStringLiteral("<h3>%1: licence to %2</h3>\n").arg(h(p->from.chip_name), country);
        for (const auto* side : {&p->from, &p->to}) {
            html += QStringLiteral("<p><b>Under %1</b>: %2</p>")
                        .arg(h(side->edition_id), h(licenceAnswer(*side)));
            std::vector<std::string> lines = side->basis;
            lines.insert(lines.end(), side->review_conditions.begin(),
                         side->review_conditions.end());
            for (const analysis::AvailableException& e : side->license_exceptions)
                lines.push_back("Licence exception " + e.id + ": " + e.summary);
            lines.insert(lines.end(), side->other_restrictions.begin(),
                         side->other_restrictions.end());
            html += QStringLiteral("<ul>");
            for (const std::string& line : lines)
                html += QStringLiteral("<li>%1</li>").arg(h(line));
            html += QStringLiteral("</ul>\n");
        }
    }
    return html;
}

// Chips whose class or flags under either edition depend on which source is believed: each is
// reclassified with its figures' other sources' values (analysis/SourceSensitivity.h), and the
// cases that differ are listed as `crossroads classify` prints them.
QString sourceDependentSection(const std::vector<ChipSpec>& chips, const Edition& baseline,
                               const Edition& vs, const analysis::EditionComparison& cmp) {
    QString html = QStringLiteral("<h3 id=\"source-dependent\">Source-dependent classifications"
                                  "</h3>\n");
    QStringList withAlternatives;
    QString entries;
    for (size_t i = 0; i < chips.size(); ++i) {
        const ChipSpec& chip = chips[i];
        if (chip.alternatives.empty())
            continue;
        withAlternatives << h(chip.name);
        struct Side {
            const Edition* edition;
            const ClassificationResult* result;
            std::vector<std::string> lines;
            QString error;
        };
        std::vector<Side> sides = {{&baseline, &cmp.baseline_results[i], {}, {}},
                                   {&vs, &cmp.vs_results[i], {}, {}}};
        bool sensitive = false;
        for (Side& side : sides) {
            try {
                side.lines = analysis::sourceSensitivityLines(
                    analysis::sourceSensitivity(chip, *side.edition, *side.result), *side.result);
            } catch (const std::exception& e) {
                side.error = h(std::string(e.what()));
            }
            sensitive = sensitive || !side.lines.empty() || !side.error.isEmpty();
        }
        if (!sensitive)
            continue;
        entries += QStringLiteral("<p><b>%1</b></p><ul>").arg(h(chip.name));
        for (const Side& side : sides) {
            const QString under =
                QStringLiteral("Under %1 (%2)").arg(h(side.edition->id), classText(*side.result));
            if (!side.error.isEmpty())
                entries += QStringLiteral("<li>%1: not tried (%2)</li>").arg(under, side.error);
            else if (side.lines.empty())
                entries +=
                    QStringLiteral("<li>%1: holds whichever source is believed</li>").arg(under);
            else
                entries += QStringLiteral("<li>%1, the class depends on the source: %2</li>")
                               .arg(under, lines(side.lines));
        }
        entries += QStringLiteral("</ul>\n");
    }
    if (withAlternatives.isEmpty())
        return html + QStringLiteral("<p>No chip's figures carry another source's value.</p>\n");
    if (entries.isEmpty())
        return html +
               QStringLiteral("<p>%1 chips' figures carry other sources' values (%2); "
                              "under %3 and %4 every one keeps its class and flags "
                              "whichever source is believed.</p>\n")
                   .arg(withAlternatives.size())
                   .arg(withAlternatives.join(QStringLiteral(", ")), h(baseline.id), h(vs.id));
    return html +
           QStringLiteral("<p>These chips' class or flags under %1 or %2 depend on which "
                          "source's figure is believed (each alternative alone, each "
                          "source's together, all together):</p>\n")
               .arg(h(baseline.id), h(vs.id)) +
           entries;
}

} // namespace

ReportInputs reportInputsFromStore(const data::Store& store) {
    ReportInputs in;
    in.data.chips = store.chips();
    in.data.editions = store.editions();
    in.data.bench_runs = charts::benchRunsFromRecords(store.benchmarkResults());
    in.bibliography = store.bibliography();
    in.store_path = store.path();
    in.schema_version = store.schemaVersion();
    in.app_version = QCoreApplication::applicationVersion();
    return in;
}

const std::vector<ReportSection>& reportSections() {
    static const std::vector<ReportSection> sections = {
        {QStringLiteral("summary"), QStringLiteral("What changes")},
        {QStringLiteral("changes"), QStringLiteral("Chips that change class")},
        {QStringLiteral("charts"), QStringLiteral("Charts")},
        {QStringLiteral("baseline"), QStringLiteral("Classification under the baseline")},
        {QStringLiteral("vs"), QStringLiteral("Classification under the compared edition")},
        {QStringLiteral("licences"), QStringLiteral("Licences to the destination")},
        {QStringLiteral("explanations"), QStringLiteral("Explanations")},
        {QStringLiteral("sources"), QStringLiteral("Sources of the figures")},
        {QStringLiteral("provenance"), QStringLiteral("Data provenance")},
    };
    return sections;
}

QString reportHtml(const ReportInputs& in, std::map<QString, QImage>& images) {
    const Edition& baseline = requireEdition(in, in.baseline);
    const Edition& vs = requireEdition(in, in.vs);
    if (!in.destination.empty() && !analysis::isCountryCode(in.destination))
        throw ReportError("unknown destination \"" + in.destination +
                          "\" (ISO 3166-1 alpha-2, e.g. CN, AE)");
    // A scenario's hypothetical chips are in every table (compareEditions classifies them too).
    const std::vector<ChipSpec> chips =
        analysis::chipsWithHypothetical(in.data.chips, baseline, &vs);
    const analysis::EditionComparison cmp = analysis::compareEditions(chips, baseline, vs);
    const QString stamp = in.generated.toUTC().toString(Qt::ISODate);

    QString html;
    html += QStringLiteral("<html><head><meta charset=\"utf-8\"><title>Crossroads: %1 vs %2</title>"
                           "</head><body>\n")
                .arg(h(baseline.id), h(vs.id));
    // Title page.
    html += QStringLiteral("<div class=\"title\"><p class=\"kicker\">Crossroads comparison report"
                           "</p><h1>%1 → %2</h1><p class=\"lead\">What the %2 edition of the US "
                           "advanced-computing rules changes for the %3 chips of the store, "
                           "against %1.</p>\n")
                .arg(h(baseline.id), h(vs.id))
                .arg(chips.size());
    html +=
        QStringLiteral(
            "<table class=\"grid\" width=\"100%\"><tr><th>Edition</th><th>Effective</th><th>Status"
            "</th><th>Citation</th><th>Title</th></tr>\n") +
        editionRow(baseline) + editionRow(vs) + QStringLiteral("</table>\n");
    html += QStringLiteral("<p class=\"meta\" style=\"page-break-after: always\">Generated %1 by "
                           "Crossroads %2 from the store %3.</p></div>\n")
                .arg(h(stamp), h(in.app_version), h(in.store_path));

    // Summary.
    int tightened = 0, loosened = 0, changed = 0;
    for (const analysis::ChipChange& c : cmp.changes)
        (c.direction == analysis::ChangeDirection::Tightened  ? tightened
         : c.direction == analysis::ChangeDirection::Loosened ? loosened
                                                              : changed)++;
    html += sectionHead(QStringLiteral("summary"));
    html += QStringLiteral("<p>Of %1 chips, <b>%2 change class</b> (%3 tightened, %4 loosened, %5 "
                           "otherwise changed) and %6 keep it; %7 keep their class but gain or "
                           "lose a flag (a heuristic or a review policy).</p>\n")
                .arg(chips.size())
                .arg(cmp.changes.size())
                .arg(tightened)
                .arg(loosened)
                .arg(changed)
                .arg(cmp.unchanged)
                .arg(cmp.flag_changes.size());
    if (!cmp.changes.empty() || !cmp.flag_changes.empty()) {
        html += QStringLiteral("<ul>");
        for (const analysis::ChipChange& c : cmp.changes)
            html += QStringLiteral("<li><b>%1</b>: %2 → %3 (%4)</li>")
                        .arg(h(c.chip), classText(c.from), classText(c.to),
                             h(std::string(analysis::changeDirectionKey(c.direction))));
        for (const analysis::FlagChange& f : cmp.flag_changes) {
            QStringList parts;
            for (const std::string& a : f.added)
                parts << QStringLiteral("gains “%1”").arg(h(a));
            for (const std::string& r : f.removed)
                parts << QStringLiteral("loses “%1”").arg(h(r));
            html += QStringLiteral("<li><b>%1</b>: %2</li>")
                        .arg(h(f.chip), parts.join(QStringLiteral("; ")));
        }
        html += QStringLiteral("</ul>\n");
    }

    // Changes, with the lines that differ.
    html += sectionHead(QStringLiteral("changes"));
    if (cmp.changes.empty()) {
        html += QStringLiteral("<p>No chip changes paragraph or control status.</p>\n");
    } else {
        html += QStringLiteral(
                    "<table class=\"grid\" width=\"100%\"><tr><th>Chip</th><th>%1</th><th>%2</th>"
                    "<th>Direction</th><th>Because</th></tr>\n")
                    .arg(h(baseline.id), h(vs.id));
        for (const analysis::ChipChange& c : cmp.changes)
            html += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>%5</td>"
                                   "</tr>\n")
                        .arg(h(c.chip), classText(c.from), classText(c.to),
                             h(std::string(analysis::changeDirectionKey(c.direction))),
                             lines(c.because));
        html += QStringLiteral("</table>\n");
    }

    // Charts.
    html += sectionHead(QStringLiteral("charts"));
    struct Figure {
        QString name;
        charts::ChartKind kind;
        std::string edition;
        QString caption;
        // The chart's headline (its subtitle's last line, computed from the projection) joins
        // the caption.
        bool headline = false;
    };
    const QString measurement =
        in.data.bench_runs.empty()
            ? QStringLiteral("No local measurement in the store (crossroads bench saves one).")
            : QStringLiteral("The local measurement (%1 saved benchmark run%2) is overlaid as "
                             "crossroads capability calibrates it.")
                  .arg(in.data.bench_runs.size())
                  .arg(in.data.bench_runs.size() == 1 ? QString() : QStringLiteral("s"));
    const std::vector<Figure> figures = {
        {QStringLiteral("tpp-pd-baseline"), charts::ChartKind::TppPd, baseline.id,
         QStringLiteral("TPP and performance density under %1").arg(h(baseline.id))},
        {QStringLiteral("tpp-pd-vs"), charts::ChartKind::TppPd, vs.id,
         QStringLiteral("TPP and performance density under %1").arg(h(vs.id))},
        {QStringLiteral("bandwidth-tpp"), charts::ChartKind::BandwidthTpp, vs.id,
         QStringLiteral("Memory bandwidth and TPP under %1: what decodes MoE models")
             .arg(h(vs.id))},
        {QStringLiteral("timeline"), charts::ChartKind::Timeline, vs.id,
         QStringLiteral("What each edition controls, with the derivatives designed around them")},
        {QStringLiteral("capability"), charts::ChartKind::Capability, vs.id,
         QStringLiteral("Projected DeepSeek-V3 decode per GPU (FP8 weights, batch 1, roofline) "
                        "against TPP, coloured by class under %1")
             .arg(h(vs.id)),
         true},
    };
    for (const Figure& f : figures) {
        QString subtitle;
        try {
            images[f.name] = renderChart(f.kind, in.data, f.edition, &subtitle);
        } catch (const charts::ChartError& e) {
            html += QStringLiteral("<p class=\"meta\">%1: not drawn (%2).</p>\n")
                        .arg(f.caption, h(std::string(e.what())));
            continue;
        }
        QString caption = f.caption;
        if (f.headline) {
            const QString headline = subtitle.section(QLatin1Char('\n'), -1).trimmed();
            caption +=
                (headline.isEmpty() ? QStringLiteral(". ")
                                    : QStringLiteral(": ") + h(headline) + QStringLiteral(". ")) +
                h(measurement);
        }
        html += QStringLiteral("<p class=\"figure\"><img src=\"chart:%1\" width=\"%2\"><br>"
                               "<span class=\"caption\">%3</span></p>\n")
                    .arg(f.name)
                    .arg(kImageWidthInDocument)
                    .arg(caption);
    }

    // Both tables.
    html += sectionHead(QStringLiteral("baseline"));
    html += QStringLiteral("<p>%1 — %2</p>\n").arg(h(baseline.id), h(baseline.title));
    html += classificationTable(chips, cmp.baseline_results);
    html += sectionHead(QStringLiteral("vs"));
    html += QStringLiteral("<p>%1 — %2</p>\n").arg(h(vs.id), h(vs.title));
    html += classificationTable(chips, cmp.vs_results);

    html += licenceSection(in, chips, baseline, vs, cmp);

    // Explanations of the chips that change, under both.
    html += sectionHead(QStringLiteral("explanations"));
    if (cmp.changes.empty())
        html += QStringLiteral("<p>No chip changes class; each chip's explanation is in the "
                               "workbench and in <code>crossroads classify</code>.</p>\n");
    for (const analysis::ChipChange& c : cmp.changes) {
        html += QStringLiteral("<h3>%1</h3><p><b>Under %2</b>: %3</p>%4<p><b>Under %5</b>: %6</p>"
                               "%7\n")
                    .arg(h(c.chip), h(baseline.id), classText(c.from), explanationList(c.from),
                         h(vs.id), classText(c.to), explanationList(c.to));
    }
    html += sourceDependentSection(chips, baseline, vs, cmp);

    // Sources: each chip's figures, then the full citation of every key they use.
    html += sectionHead(QStringLiteral("sources"));
    html += QStringLiteral(
        "<table class=\"grid\" width=\"100%\"><tr><th>Chip</th><th>Figure</th><th>Source</th>"
        "<th>Confidence</th></tr>\n");
    std::vector<data::BibliographyEntry> cited;
    std::set<std::string> citedKeys;
    for (const ChipSpec& chip : chips) {
        for (const analysis::Source& s : chip.sources) {
            html +=
                QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td></tr>\n")
                    .arg(h(chip.name), s.field == "*" ? QStringLiteral("all figures") : h(s.field),
                         h(s.citation), h(s.confidence));
            for (const data::BibliographyEntry& e : data::citedEntries(in.bibliography, s.citation))
                if (citedKeys.insert(e.key).second)
                    cited.push_back(e);
        }
    }
    html += QStringLiteral("</table>\n");
    if (!cited.empty()) {
        std::sort(cited.begin(), cited.end(),
                  [](const auto& a, const auto& b) { return a.key < b.key; });
        html += QStringLiteral("<h3>Bibliography</h3><table class=\"grid\"><tr><th>Key</th>"
                               "<th>Citation</th><th>Date</th><th>URL</th></tr>\n");
        for (const data::BibliographyEntry& e : cited)
            html += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td></tr>\n")
                        .arg(h(e.key), h(e.citation), h(e.date),
                             e.url.empty() ? QStringLiteral("—")
                                           : QStringLiteral("<a href=\"%1\">%1</a>").arg(h(e.url)));
        html += QStringLiteral("</table>\n");
    }

    // Provenance.
    html += sectionHead(QStringLiteral("provenance"));
    html += QStringLiteral("<ul><li>Store: %1 (schema version %2), %3 chips, %4 editions.</li>"
                           "<li>Editions encoded as data from their primary texts; evidence marks: "
                           "P primary text, Q quoted by a named secondary source, S secondary "
                           "summary, D derived, U unverified.</li>"
                           "<li>Rules: %5 [%6]; %7 [%8].</li>"
                           "<li>Classification by Crossroads %9; generated %10.</li></ul>\n")
                .arg(h(in.store_path))
                .arg(in.schema_version)
                .arg(chips.size())
                .arg(in.data.editions.size())
                .arg(h(baseline.citation.text), h(baseline.citation.evidence), h(vs.citation.text),
                     h(vs.citation.evidence), h(in.app_version), h(stamp));
    html += QStringLiteral("</body></html>\n");
    return html;
}

namespace {

const char* kStyle = R"(
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; color: #1d1d1f; }
h1 { font-size: 22pt; margin-bottom: 4px; }
h2 { font-size: 14pt; margin-top: 18px; border-bottom: 1px solid #999; page-break-before: auto; }
h3 { font-size: 11pt; margin-top: 10px; }
p.kicker { font-size: 10pt; color: #666; text-transform: uppercase; }
p.lead { font-size: 11pt; }
p.meta, span.caption, li.remark { color: #555; }
table.grid { border-collapse: collapse; margin: 4px 0 8px 0; }
table.grid th { background-color: #e8eaee; text-align: left; padding: 2px 4px; }
table.grid td { padding: 2px 4px; border-bottom: 1px solid #ddd; vertical-align: top; }
td.n { text-align: right; }
p.figure { text-align: center; margin: 8px 0 14px 0; }
)";

QByteArray pngBytes(const QImage& image) {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return bytes;
}

} // namespace

void writeReport(const ReportInputs& in, const QString& path) {
    const QFileInfo info(path);
    const QString ext = info.suffix().toLower();
    if (ext != QLatin1String("pdf") && ext != QLatin1String("html"))
        throw ReportError("cannot write a report as \"." + ext.toStdString() + "\" (" +
                          path.toStdString() + "): use .pdf or .html");
    if (!info.absoluteDir().exists())
        throw ReportError("cannot write " + path.toStdString() + ": the folder " +
                          info.absolutePath().toStdString() + " does not exist");
    std::map<QString, QImage> images;
    QString html = reportHtml(in, images);

    QSaveFile file(path); // whole or not at all
    if (!file.open(QIODevice::WriteOnly))
        throw ReportError("cannot write " + path.toStdString() + ": " +
                          file.errorString().toStdString());
    if (ext == QLatin1String("html")) {
        html.replace(QStringLiteral("</head>"), QStringLiteral("<style>") +
                                                    QString::fromLatin1(kStyle) +
                                                    QStringLiteral("</style></head>"));
        for (const auto& [name, image] : images)
            html.replace(QStringLiteral("src=\"chart:%1\"").arg(name),
                         QStringLiteral("src=\"data:image/png;base64,%1\"")
                             .arg(QString::fromLatin1(pngBytes(image).toBase64())));
        file.write(html.toUtf8());
    } else {
        QPdfWriter writer(&file);
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait,
                                         QMarginsF(kMarginMm, kMarginMm, kMarginMm, kMarginMm),
                                         QPageLayout::Millimeter));
        writer.setTitle(
            QStringLiteral("Crossroads: %1 vs %2")
                .arg(QString::fromStdString(in.baseline), QString::fromStdString(in.vs)));
        writer.setCreator(QStringLiteral("Crossroads %1").arg(in.app_version));
        writer.setResolution(300);
        QTextDocument doc;
        doc.setDefaultStyleSheet(QString::fromLatin1(kStyle));
        for (const auto& [name, image] : images)
            doc.addResource(QTextDocument::ImageResource, QUrl(QStringLiteral("chart:") + name),
                            image);
        doc.setHtml(html);
        doc.setPageSize(QSizeF(kTextWidthPx, kTextHeightPx)); // laid out as it will print
        doc.print(&writer);
    }
    if (!file.commit())
        throw ReportError("cannot write " + path.toStdString() + ": " +
                          file.errorString().toStdString());
}

} // namespace crossroads::report
