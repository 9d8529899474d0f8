#include "app/gui/models/ChipDetailHtml.h"

#include "analysis/Countries.h"
#include "analysis/SourceSensitivity.h"

#include "app/gui/models/DisplayText.h"
#include "app/gui/models/EditionListModel.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace crossroads::gui {

namespace {

QString esc(const QString& text) {
    return text.toHtmlEscaped();
}
QString esc(std::string_view text) {
    return toQString(text).toHtmlEscaped();
}

// Rich text drops a colour's alpha, and the placeholder colour is often Text at half alpha:
// flatten it onto Base first.
QString opaqueName(const QColor& color, const QColor& background) {
    const double a = color.alphaF();
    auto mix = [a](int fg, int bg) { return static_cast<int>(std::lround(fg * a + bg * (1 - a))); };
    return QColor(mix(color.red(), background.red()), mix(color.green(), background.green()),
                  mix(color.blue(), background.blue()))
        .name();
}

class HtmlWriter {
public:
    explicit HtmlWriter(const QPalette& palette)
        : muted_(
              opaqueName(palette.color(QPalette::PlaceholderText), palette.color(QPalette::Base))),
          rule_(palette.color(QPalette::Mid).name()),
          header_(palette.color(QPalette::AlternateBase).name()) {}

    QString muted(const QString& escapedText) const {
        return QStringLiteral("<span style=\"color:%1\">%2</span>").arg(muted_, escapedText);
    }

    void heading(const QString& escapedText) {
        html_ += QStringLiteral("<h3 style=\"margin-top:14px; margin-bottom:4px\">%1</h3>")
                     .arg(escapedText);
    }

    void paragraph(const QString& escapedText) {
        html_ += QStringLiteral("<p style=\"margin-top:2px; margin-bottom:2px\">%1</p>")
                     .arg(escapedText);
    }

    void list(const std::vector<std::string>& items) {
        html_ += QStringLiteral("<ul style=\"margin-top:2px; margin-bottom:2px\">");
        for (const auto& item : items)
            html_ += QStringLiteral("<li>%1</li>").arg(esc(item));
        html_ += QStringLiteral("</ul>");
    }

    void beginTable(const QStringList& headers) {
        html_ += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"3\" width=\"100%\" "
                                "style=\"border-collapse:collapse\">");
        if (headers.isEmpty())
            return;
        html_ += QStringLiteral("<tr>");
        for (const auto& header : headers)
            html_ += QStringLiteral("<th align=\"left\" style=\"background-color:%1; "
                                    "border-bottom:1px solid %2\">%3</th>")
                         .arg(header_, rule_, esc(header));
        html_ += QStringLiteral("</tr>");
    }

    // Cells are already escaped (they may hold markup).
    void row(const QStringList& cells) {
        html_ += QStringLiteral("<tr>");
        for (const auto& cell : cells)
            html_ += QStringLiteral("<td valign=\"top\" style=\"border-bottom:1px solid %1\">%2"
                                    "</td>")
                         .arg(rule_, cell);
        html_ += QStringLiteral("</tr>");
    }

    void endTable() { html_ += QStringLiteral("</table>"); }

    void raw(const QString& html) { html_ += html; }
    QString html() const { return html_; }

private:
    QString muted_;
    QString rule_;
    QString header_;
    QString html_;
};

QString joinedOr(const std::vector<std::string>& items, const QString& separator,
                 const QString& none, const HtmlWriter& w) {
    if (items.empty())
        return w.muted(esc(none));
    QStringList escaped;
    for (const auto& item : items)
        escaped << esc(item);
    return escaped.join(separator);
}

QString badge(const QPalette& palette, Tone tone, const QString& escapedText) {
    return QStringLiteral("<span style=\"background-color:%1; color:%2\">&nbsp;%3&nbsp;</span>")
        .arg(toneWash(palette, tone).name(), palette.color(QPalette::Text).name(), escapedText);
}

bool sourceMatches(const analysis::Source& source, std::string_view key) {
    if (source.field == key)
        return true;
    // A source for all the rates ("dense_tops") backs each rate; a rate's own source may name
    // it as Crossroads CSV does ("fp16").
    return key.starts_with("dense_tops.") &&
           (source.field == "dense_tops" || source.field == key.substr(11));
}

QString sourceText(const analysis::Source& source) {
    QString text = esc(source.citation);
    if (!source.confidence.empty())
        text += QStringLiteral(" <i>(confidence: %1)</i>").arg(esc(source.confidence));
    return text;
}

struct FigureRow {
    std::string key;
    QString value; // plain text
};

std::vector<FigureRow> figureRows(const analysis::ChipSpec& chip) {
    const QString unknown = QStringLiteral("unknown");
    std::vector<FigureRow> rows;
    rows.push_back({"year", chip.year ? QString::number(*chip.year) : unknown});
    rows.push_back({"kind", toQString(analysis::chipKindKey(chip.kind))});
    rows.push_back({"datacenter", yesNoUnknown(chip.datacenter, QStringLiteral("ambiguous"))});
    for (auto precision : analysis::kAllPrecisions) {
        if (const auto& rate = chip.dense_tops[precision])
            rows.push_back({"dense_tops." + std::string(analysis::precisionKey(precision)),
                            formatFigure(*rate)});
    }
    if (!chip.dense_tops.any())
        rows.push_back({"dense_tops", unknown});
    rows.push_back(
        {"applicable_die_area_mm2", formatFigure(chip.applicable_die_area_mm2, unknown)});
    if (chip.kind == analysis::ChipKind::Hbm || chip.package_area_mm2)
        rows.push_back({"package_area_mm2", formatFigure(chip.package_area_mm2, unknown)});
    rows.push_back({"memory_capacity_gb", formatFigure(chip.memory_capacity_gb, unknown)});
    rows.push_back(
        {"memory_bandwidth_gb_per_s", formatFigure(chip.memory_bandwidth_gb_per_s, unknown)});
    rows.push_back(
        {"io_bidirectional_gb_per_s", formatFigure(chip.io_bidirectional_gb_per_s, unknown)});
    rows.push_back({"tdp_w", formatFigure(chip.tdp_w, unknown)});
    rows.push_back({"tpp_reported", formatFigure(chip.tpp_reported, unknown)});
    return rows;
}

void writeClassification(HtmlWriter& w, const analysis::ClassificationResult& r,
                         const QPalette& palette) {
    QString status;
    if (!r.controlled)
        status = badge(palette, Tone::Warning, QStringLiteral("Undetermined"));
    else if (*r.controlled)
        status = badge(palette, Tone::Controlled, QStringLiteral("Controlled"));
    else
        status = badge(palette, Tone::Clear, QStringLiteral("Not controlled"));
    if (r.borderline)
        status += QStringLiteral(" ") + badge(palette, Tone::Warning, QStringLiteral("Borderline"));
    w.raw(QStringLiteral("<p style=\"margin-top:6px; margin-bottom:4px\">%1</p>").arg(status));

    w.beginTable({});
    auto field = [&](const QString& name, const QString& escapedValue) {
        w.row({QStringLiteral("<b>%1</b>").arg(esc(name)), escapedValue});
    };
    field(QStringLiteral("Class"), esc(classText(r)));
    field(QStringLiteral("Controlled"), esc(controlledText(r)));
    field(QStringLiteral("Paragraph"),
          r.paragraph ? esc(*r.paragraph) : w.muted(QStringLiteral("undetermined")));
    field(QStringLiteral("TPP"),
          r.tpp ? esc(formatFigure(r.tpp->tpp)) : w.muted(QStringLiteral("unknown")));
    field(QStringLiteral("Performance density"), r.performance_density
                                                     ? esc(formatFigure(*r.performance_density))
                                                     : w.muted(QStringLiteral("unknown")));
    if (r.memory_bandwidth_density)
        field(QStringLiteral("Memory bandwidth density"),
              esc(formatFigure(*r.memory_bandwidth_density)) + QStringLiteral(" GB/s/mm²"));
    field(QStringLiteral("License exceptions"),
          joinedOr(r.license_exceptions, QStringLiteral(", "), QStringLiteral("none"), w));
    field(QStringLiteral("Flags"),
          joinedOr(r.flags, QStringLiteral("<br>"), QStringLiteral("none"), w));
    if (r.borderline)
        field(QStringLiteral("Borderline"),
              joinedOr(r.borderline_reasons, QStringLiteral("<br>"), QStringLiteral("yes"), w));
    else
        field(QStringLiteral("Borderline"), esc(QStringLiteral("No")));
    if (!r.undetermined.empty()) {
        QStringList missing;
        for (const auto& key : r.undetermined)
            missing << QStringLiteral("%1 <code>%2</code>").arg(esc(figureLabel(key)), esc(key));
        field(QStringLiteral("Needs"), missing.join(QStringLiteral("<br>")));
    }
    w.endTable();
}

void writeFigures(HtmlWriter& w, const analysis::ChipSpec& chip,
                  const analysis::ClassificationResult& r) {
    std::set<const analysis::Source*> shown;
    w.beginTable({QStringLiteral("Figure"), QStringLiteral("Value"), QStringLiteral("Source")});
    for (const auto& figure : figureRows(chip)) {
        QStringList sources;
        for (const auto& source : chip.sources) {
            if (sourceMatches(source, figure.key)) {
                sources << sourceText(source);
                shown.insert(&source);
            }
        }
        const bool known = figure.value != QStringLiteral("unknown");
        w.row({esc(figureLabel(figure.key)), known ? esc(figure.value) : w.muted(esc(figure.value)),
               sources.isEmpty() ? w.muted(QStringLiteral("row sources"))
                                 : sources.join(QStringLiteral("<br>"))});
    }
    // Derived figures: their source is the arithmetic, shown so the analyst can redo it.
    const QString computed = QStringLiteral("computed");
    w.row({esc(QStringLiteral("TPP (computed)")),
           r.tpp ? esc(formatFigure(r.tpp->tpp)) : w.muted(QStringLiteral("unknown")),
           w.muted(esc(r.tpp ? tppBasisText(r) : computed))});
    w.row({esc(figureLabel("performance_density")),
           r.performance_density ? esc(formatFigure(*r.performance_density))
                                 : w.muted(QStringLiteral("unknown")),
           w.muted(esc(QStringLiteral("computed: TPP / applicable die area")))});
    if (r.memory_bandwidth_density)
        w.row({esc(figureLabel("memory_bandwidth_density")),
               esc(formatFigure(*r.memory_bandwidth_density)),
               w.muted(esc(QStringLiteral("computed: memory bandwidth / package area")))});
    w.endTable();

    // Per-field sources naming a field the table has no row for still belong on the page.
    std::vector<std::string> others;
    for (const auto& source : chip.sources) {
        if (source.field == "*" || shown.count(&source))
            continue;
        others.push_back(
            source.field + ": " + source.citation +
            (source.confidence.empty() ? "" : " (confidence: " + source.confidence + ")"));
    }
    if (!others.empty()) {
        w.paragraph(w.muted(QStringLiteral("Other field sources:")));
        w.list(others);
    }
}

// The figure key an alternative's field is shown under ("bf16" -> "dense_tops.bf16") and the
// chip's own value of it.
std::string alternativeFigureKey(const std::string& field) {
    return analysis::precisionFromKey(field) ? "dense_tops." + field : field;
}
std::optional<double> storedFigure(const analysis::ChipSpec& chip, const std::string& field) {
    if (const auto precision = analysis::precisionFromKey(field))
        return chip.dense_tops[*precision];
    for (const analysis::FigureField& f : analysis::kFigureFields)
        if (f.key == field)
            return chip.*f.member;
    return std::nullopt;
}

// Whether the class (or a flag) depends on which source is believed: the chip reclassified with
// each alternative alone, each source's together and all together (analysis/SourceSensitivity.h,
// as `crossroads classify` prints it). Only for a chip whose figures carry other sources' values.
void writeSourceSensitivity(HtmlWriter& w, const analysis::ChipSpec& chip,
                            const analysis::ClassificationResult& result,
                            const analysis::Edition& edition, const QPalette& palette) {
    if (chip.alternatives.empty())
        return;
    // Anchored, so the pane can scroll to it.
    w.heading(QStringLiteral("<a name=\"source-sensitivity\"></a>Source sensitivity"));
    analysis::SourceSensitivity sensitivity;
    try {
        sensitivity = analysis::sourceSensitivity(chip, edition, result);
    } catch (const std::exception& e) {
        w.paragraph(w.muted(esc(QStringLiteral("Not tried: %1").arg(QString::fromUtf8(e.what())))));
        return;
    }
    const QString under = esc(toQString(edition.id));
    if (sensitivity.sensitive()) {
        w.paragraph(
            badge(palette, Tone::Warning, QStringLiteral("Source-dependent")) +
            QStringLiteral(" Under %1 the class depends on which source is believed:").arg(under));
        w.list(analysis::sourceSensitivityLines(sensitivity, result));
    } else {
        w.paragraph(
            QStringLiteral("Under %1 the class and flags hold whichever source is believed (%2).")
                .arg(under)
                .arg(sensitivity.cases.size() == 1
                         ? QStringLiteral("the other source's value tried")
                         : QStringLiteral("%1 cases tried: each alternative alone, each "
                                          "source's together, all together")
                               .arg(sensitivity.cases.size())));
    }
    w.beginTable({QStringLiteral("Figure"), QStringLiteral("Stored"),
                  QStringLiteral("Other source"), QStringLiteral("Citation")});
    for (const analysis::FigureAlternative& a : chip.alternatives) {
        QString citation = esc(a.citation);
        if (!a.confidence.empty())
            citation += QStringLiteral(" <i>(confidence: %1)</i>").arg(esc(a.confidence));
        w.row({esc(figureLabel(alternativeFigureKey(a.field))),
               esc(formatFigure(storedFigure(chip, a.field), QStringLiteral("unknown"))),
               esc(formatFigure(a.value)), citation});
    }
    w.endTable();
}

} // namespace

QString chipDetailHtml(const analysis::ChipSpec& chip, const analysis::ClassificationResult& result,
                       const analysis::Edition& edition, const QPalette& palette,
                       const CitationResolver& resolveCitation,
                       const analysis::LicenseResult* license) {
    HtmlWriter w(palette);
    w.raw(QStringLiteral("<h2 style=\"margin-bottom:2px\">%1</h2>").arg(esc(chip.name)));
    QStringList meta;
    if (!chip.vendor.empty())
        meta << esc(chip.vendor);
    if (chip.year)
        meta << QString::number(*chip.year);
    meta << esc(analysis::chipKindKey(chip.kind));
    meta << esc(QStringLiteral("datacenter: %1")
                    .arg(yesNoUnknown(chip.datacenter, QStringLiteral("ambiguous"))));
    w.paragraph(w.muted(meta.join(QStringLiteral(" · "))));

    // The id and status head the section; the rule's long title follows in small print.
    QString under = QStringLiteral("Under ") + toQString(edition.id);
    if (!edition.status.empty() && edition.status != "in force")
        under += QStringLiteral(" (%1)").arg(toQString(edition.status));
    w.heading(esc(under));
    if (!edition.title.empty())
        w.paragraph(w.muted(esc(edition.title)));
    writeClassification(w, result, palette);

    w.heading(QStringLiteral("Why"));
    if (result.explanation.empty())
        w.paragraph(w.muted(QStringLiteral("No criterion decided this result.")));
    else
        w.list(result.explanation);

    writeSourceSensitivity(w, chip, result, edition, palette);

    if (license) {
        const QString where =
            QStringLiteral("%1 (%2)").arg(toQString(analysis::countryName(license->destination)),
                                          toQString(license->destination));
        const QString answer = !license->license_required   ? QStringLiteral("depends")
                               : *license->license_required ? QStringLiteral("required")
                                                            : QStringLiteral("not required");
        w.heading(esc(QStringLiteral("License to %1: %2").arg(where, answer)));
        w.paragraph(
            w.muted(QStringLiteral("The buyer taken to be headquartered in the destination")));
        w.list(license->basis);
        if (license->review_policy) {
            w.paragraph(
                esc(QStringLiteral("Review policy: %1").arg(toQString(*license->review_policy))));
            w.list(license->review_conditions);
        }
        if (!license->license_exceptions.empty()) {
            std::vector<std::string> exceptions;
            for (const auto& e : license->license_exceptions)
                exceptions.push_back(e.id + ": " + e.summary + " (" + e.citation.text + " [" +
                                     e.citation.evidence + "])");
            w.paragraph(QStringLiteral("License exceptions available:"));
            w.list(exceptions);
        }
        if (!license->other_restrictions.empty()) {
            w.paragraph(QStringLiteral("Other restrictions (named, not modelled):"));
            w.list(license->other_restrictions);
        }
        if (!license->undetermined.empty()) {
            w.paragraph(w.muted(QStringLiteral("Depends on facts or figures not given:")));
            w.list(license->undetermined);
        }
    }

    if (!result.remarks.empty()) {
        w.heading(QStringLiteral("Remarks"));
        w.list(result.remarks);
    }
    if (!chip.notes.empty()) {
        w.heading(QStringLiteral("Notes"));
        w.paragraph(esc(chip.notes));
    }

    w.heading(QStringLiteral("Sources for the whole row"));
    std::vector<QString> rowSources;
    for (const auto& source : chip.sources)
        if (source.field == "*")
            rowSources.push_back(sourceText(source));
    if (rowSources.empty()) {
        w.paragraph(w.muted(QStringLiteral("none recorded")));
    } else {
        w.raw(QStringLiteral("<ul style=\"margin-top:2px; margin-bottom:2px\">"));
        for (const auto& text : rowSources)
            w.raw(QStringLiteral("<li>%1</li>").arg(text));
        w.raw(QStringLiteral("</ul>"));
    }

    w.heading(QStringLiteral("Figures"));
    writeFigures(w, chip, result);

    if (resolveCitation) {
        // Each key once, in the order the chip's sources first name it.
        std::vector<SourceReference> cited;
        for (const auto& source : chip.sources)
            for (auto& reference : resolveCitation(source.citation))
                if (std::none_of(cited.begin(), cited.end(),
                                 [&](const auto& c) { return c.key == reference.key; }))
                    cited.push_back(std::move(reference));
        if (!cited.empty()) {
            w.heading(QStringLiteral("Source keys"));
            w.raw(QStringLiteral("<ul style=\"margin-top:2px; margin-bottom:2px\">"));
            for (const auto& c : cited) {
                QString item = QStringLiteral("<b>%1</b>: %2").arg(esc(c.key), esc(c.citation));
                if (!c.date.empty())
                    item += QStringLiteral(" (%1)").arg(esc(c.date));
                if (!c.url.empty())
                    item += QStringLiteral(" <a href=\"%1\">%1</a>").arg(esc(c.url));
                w.raw(QStringLiteral("<li>%1</li>").arg(item));
            }
            w.raw(QStringLiteral("</ul>"));
        }
    }

    w.paragraph(w.muted(esc(QStringLiteral("Edition %1: %2")
                                .arg(toQString(edition.id), editionCitationText(edition)))));
    return w.html();
}

QString emptyDetailHtml(const QPalette& palette) {
    HtmlWriter w(palette);
    w.paragraph(w.muted(QStringLiteral("Select a chip to see its classification, the reasons and "
                                       "the source of every figure.")));
    return w.html();
}

} // namespace crossroads::gui
