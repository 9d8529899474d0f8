#include "app/charts/ChipChart.h"

#include "analysis/Capability.h"
#include "analysis/Classifier.h"
#include "analysis/Precedents.h"
#include "analysis/Projection.h"
#include "app/charts/LabelPlacer.h"
#include "app/charts/ZoneMap.h"
#include "inference/model/Presets.h"

#include <QFontMetricsF>
#include <QMouseEvent>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace crossroads::charts {

namespace {

using analysis::ChipSpec;
using analysis::ClassificationResult;
using analysis::Edition;

constexpr double kMarkerRadiusPixels = 4.0;
constexpr double kHitRadiusPixels = 7.0;
constexpr int kStripHeightPixels = 84;
constexpr int kClickSlopPixels = 4;
constexpr std::string_view kReferenceChip = "H100 SXM5 80GB";

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

QString fig(double v) {
    return q(analysis::formatFigure(v));
}

QString editionLine(const Edition& e) {
    QString line =
        QStringLiteral("%1 (%2, %3): %4").arg(q(e.id), q(e.status), q(e.effective), q(e.title));
    if (!e.hypothetical_chips.empty()) {
        QStringList names;
        for (const ChipSpec& c : e.hypothetical_chips)
            names << q(c.name);
        line += QStringLiteral("; hypothetical chips: %1").arg(names.join(QStringLiteral(", ")));
    }
    return line;
}

// Paragraph order for the legend: controlled first.
int paragraphRank(const std::string& p) {
    if (p == "a")
        return 0;
    if (p == "b")
        return 1;
    if (p == "c")
        return 2;
    if (p == "none")
        return 3;
    return 4;
}

QCPRange logRange(std::vector<double> values, double pad) {
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !(v > 0); }),
                 values.end());
    if (values.empty())
        return QCPRange(1, 10);
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    return QCPRange(*lo / pad, *hi * pad);
}

// Log axes labelled 1, 2, 5, 10, 20, ...: a log ticker labels only the powers of ten, too few
// for a plane that spans two decades.
QSharedPointer<QCPAxisTickerText> oneTwoFiveTicker() {
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int exponent = -3; exponent <= 7; ++exponent)
        for (double mantissa : {1.0, 2.0, 5.0}) {
            const double v = mantissa * std::pow(10.0, exponent);
            ticker->addTick(v, q(analysis::formatFigure(v)));
        }
    ticker->setSubTickCount(0);
    return ticker;
}

QString zoneText(const ZoneCell& cell) {
    if (cell.paragraph == "none")
        return QStringLiteral("outside 3A090");
    if (cell.paragraph.empty())
        return QStringLiteral("undetermined");
    QStringList ids;
    for (const std::string& c : cell.classes)
        ids << q(c);
    return ids.isEmpty() ? paragraphLabel(cell.paragraph) : ids.join(QStringLiteral(" + "));
}

QString wrapped(const QString& text, int width) {
    QStringList lines;
    QString line;
    for (const QString& word : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        if (!line.isEmpty() && line.size() + 1 + word.size() > width) {
            lines << line;
            line.clear();
        }
        line += (line.isEmpty() ? QString() : QStringLiteral(" ")) + word;
    }
    if (!line.isEmpty())
        lines << line;
    return lines.join(QLatin1Char('\n'));
}

QString classTooltip(const ClassificationResult& r) {
    QString out = QStringLiteral("%1 under %2")
                      .arg(paragraphLabel(r.paragraph.value_or("")), q(r.edition_id));
    if (!r.classes.empty()) {
        QStringList ids;
        for (const std::string& c : r.classes)
            ids << q(c);
        out += QStringLiteral(" (%1)").arg(ids.join(QStringLiteral(", ")));
    }
    return out;
}

} // namespace

ChipChart::ChipChart(QWidget* parent) : QCustomPlot(parent), theme_(ChartTheme::light()) {
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    setAutoAddPlottableToLegend(false); // each chart builds its own legends
    setMouseTracking(true);
    setMinimumSize(320, 240);
    // Labels are placed for the geometry being drawn: on screen, and in every export.
    connect(this, &QCustomPlot::afterLayout, this, &ChipChart::layoutChipLabels);
}

ChipChart::~ChipChart() = default;

void ChipChart::setTheme(const ChartTheme& theme) {
    theme_ = theme;
}

void ChipChart::setCompact(bool compact) {
    compact_ = compact;
}

void ChipChart::reset() {
    clearItems();
    clearPlottables();
    plotLayout()->clear();
    plotted_.clear();
    reservedTexts_.clear();
    reservedLines_.clear();
    legends_.clear();
    classGraphs_.clear();
    classCounts_.clear();
    ring_ = nullptr;
    title_.clear();
    subtitle_.clear();
    footnote_.clear();
    setBackground(theme_.background);
    if (!layer(QStringLiteral("zones")))
        addLayer(QStringLiteral("zones"), layer(QStringLiteral("grid")), QCustomPlot::limBelow);
}

void ChipChart::addTitle(const QString& title, const QString& subtitle) {
    title_ = title;
    subtitle_ = subtitle;
    QFont bold = font();
    bold.setPointSizeF(bold.pointSizeF() + (compact_ ? 1 : 3));
    bold.setBold(true);
    auto* t = new QCPTextElement(this, title, bold);
    t->setTextColor(theme_.foreground);
    plotLayout()->addElement(0, 0, t);
    if (compact_)
        return; // the panel shows the subtitle and the footnote beside the chart
    QFont small = font();
    auto* s = new QCPTextElement(this, subtitle, small);
    s->setTextColor(theme_.subtle);
    s->setMargins(QMargins(8, 0, 8, 4));
    plotLayout()->addElement(1, 0, s);
}

void ChipChart::addFootnote() {
    if (footnote_.isEmpty() || compact_)
        return;
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1));
    auto* f = new QCPTextElement(this, wrapped(footnote_, 150), small);
    f->setTextColor(theme_.subtle);
    f->setTextFlags(Qt::AlignLeft | Qt::AlignVCenter);
    f->setMargins(QMargins(10, 2, 10, 6));
    plotLayout()->addElement(plotLayout()->rowCount(), 0, f);
}

QCPAxisRect* ChipChart::addAxisRect() {
    auto* rect = new QCPAxisRect(this, true);
    plotLayout()->addElement(plotLayout()->rowCount(), 0, rect);
    styleAxisRect(rect);
    rect->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    rect->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    return rect;
}

void ChipChart::styleAxisRect(QCPAxisRect* rect) {
    for (QCPAxis* axis : rect->axes()) {
        axis->setBasePen(QPen(theme_.subtle));
        axis->setTickPen(QPen(theme_.subtle));
        axis->setSubTickPen(QPen(theme_.subtle));
        axis->setTickLabelColor(theme_.foreground);
        axis->setLabelColor(theme_.foreground);
        axis->grid()->setPen(QPen(theme_.grid, 0, Qt::DotLine));
        axis->grid()->setSubGridPen(
            QPen(theme_.grid.lighter(theme_.dark ? 80 : 108), 0, Qt::DotLine));
        axis->grid()->setZeroLinePen(Qt::NoPen);
    }
}

QCPGraph* ChipChart::addPoints(QCPAxisRect* rect, const QColor& color, const QString& legendName) {
    auto* g = new QCPGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color.darker(125), color,
                                       2 * kMarkerRadiusPixels));
    g->setName(legendName);
    return g;
}

QCPItemText* ChipChart::addText(QCPAxisRect* rect, double x, double y, const QString& text,
                                const QColor& color, Qt::Alignment alignment, int pointSizeDelta) {
    auto* t = new QCPItemText(this);
    t->setClipAxisRect(rect);
    t->position->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    t->position->setCoords(x, y);
    t->setPositionAlignment(alignment);
    t->setText(text);
    t->setColor(color);
    QFont f = font();
    f.setPointSizeF(std::max(6.0, f.pointSizeF() + pointSizeDelta));
    t->setFont(f);
    t->setPadding(QMargins(3, 1, 3, 1));
    return t;
}

QCPItemLine* ChipChart::addLine(QCPAxisRect* rect, double x1, double y1, double x2, double y2,
                                const QColor& color, Qt::PenStyle style) {
    auto* l = new QCPItemLine(this);
    l->setClipAxisRect(rect);
    for (QCPItemPosition* p : {l->start, l->end})
        p->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    l->start->setCoords(x1, y1);
    l->end->setCoords(x2, y2);
    l->setPen(QPen(color, 1.4, style));
    return l;
}

QCPItemRect* ChipChart::addRect(QCPAxisRect* rect, double x1, double y1, double x2, double y2,
                                const QBrush& brush, const QPen& pen) {
    auto* r = new QCPItemRect(this);
    r->setClipAxisRect(rect);
    for (QCPItemPosition* p : {r->topLeft, r->bottomRight})
        p->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    r->topLeft->setCoords(x1, y2);
    r->bottomRight->setCoords(x2, y1);
    r->setBrush(brush);
    r->setPen(pen);
    r->setSelectable(false);
    return r;
}

QCPLegend* ChipChart::addLegend(QCPAxisRect* rect, Qt::Alignment corner) {
    auto* legendBox = new QCPLegend;
    rect->insetLayout()->addElement(legendBox, corner);
    legendBox->setLayer(QStringLiteral("legend"));
    QColor fill = theme_.background;
    fill.setAlpha(225);
    legendBox->setBrush(fill);
    legendBox->setBorderPen(QPen(theme_.grid));
    legendBox->setTextColor(theme_.foreground);
    QFont f = font();
    f.setPointSizeF(std::max(6.0, f.pointSizeF() - 1));
    legendBox->setFont(f);
    legends_.push_back(legendBox);
    return legendBox;
}

void ChipChart::addChipLabel(Plotted& p) {
    auto* label = new QCPItemText(this);
    label->setClipToAxisRect(false);
    label->position->setType(QCPItemPosition::ptAbsolute);
    label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    label->setText(p.name);
    label->setColor(theme_.foreground);
    QFont f = font();
    f.setPointSizeF(std::max(6.0, f.pointSizeF() - 1.5));
    label->setFont(f);
    label->setPadding(QMargins(1, 0, 1, 0));
    label->setLayer(QStringLiteral("legend"));
    p.label = label;
    auto* leader = new QCPItemLine(this);
    leader->setClipToAxisRect(false);
    leader->start->setAxes(p.rect->axis(QCPAxis::atBottom), p.rect->axis(QCPAxis::atLeft));
    leader->start->setCoords(p.x, p.y);
    leader->end->setType(QCPItemPosition::ptAbsolute);
    leader->setPen(QPen(theme_.subtle, 0.8));
    leader->setVisible(false);
    p.leader = leader;
}

void ChipChart::plotChip(Plotted p, const std::string& paragraph) {
    const int rank = paragraphRank(paragraph);
    ClassGraph* found = nullptr;
    for (ClassGraph& g : classGraphs_)
        if (g.rank == rank && g.graph->keyAxis()->axisRect() == p.rect)
            found = &g;
    if (!found) {
        classGraphs_.push_back(
            {rank, addPoints(p.rect, theme_.paragraphColor(paragraph), paragraphLabel(paragraph))});
        found = &classGraphs_.back();
    }
    found->graph->addData(p.x, p.y);
    ++classCounts_[rank];
    plotted_.push_back(std::move(p));
}

void ChipChart::finishChips(QCPLegend* legendBox) {
    // One legend entry per class, controlled first, from the first graph made for it.
    std::map<int, QCPGraph*> first;
    for (const ClassGraph& g : classGraphs_)
        first.emplace(g.rank, g.graph);
    for (const auto& [rank, graph] : first) {
        graph->setName(QStringLiteral("%1 (%2)").arg(graph->name()).arg(classCounts_[rank]));
        graph->addToLegend(legendBox);
    }
    for (Plotted& p : plotted_)
        addChipLabel(p);
}

void ChipChart::showChart(ChartKind kind, const ChartInputs& inputs) {
    reset();
    kind_ = kind;
    try {
        switch (kind) {
        case ChartKind::TppPd:
        case ChartKind::TppIo:
            buildTppPlane(kind == ChartKind::TppIo, inputs);
            break;
        case ChartKind::BandwidthTpp:
            buildBandwidthTpp(inputs);
            break;
        case ChartKind::Timeline:
            buildTimeline(inputs);
            break;
        case ChartKind::BenchHistory:
            buildBenchHistory(inputs);
            break;
        case ChartKind::Capability:
            buildCapability(inputs);
            break;
        }
    } catch (...) {
        reset();
        replot();
        throw;
    }
    addFootnote();
    if (!selected_.isEmpty())
        selectChip(selected_);
    replot();
}

namespace {

const Edition& requireEdition(const ChartInputs& inputs) {
    if (const Edition* e = analysis::findEdition(inputs.editions, inputs.edition_id))
        return *e;
    throw ChartError("unknown edition \"" + inputs.edition_id + "\"");
}

struct Classified {
    const ChipSpec* chip;
    ClassificationResult result;
};

std::vector<Classified> classifyAll(const ChartInputs& inputs, const Edition& edition,
                                    QStringList& withoutRate) {
    std::vector<Classified> out;
    // A scenario's hypothetical chips are drawn with the stored ones (they live in the edition).
    std::vector<const ChipSpec*> all;
    for (const ChipSpec& chip : inputs.chips)
        all.push_back(&chip);
    for (const ChipSpec& chip : edition.hypothetical_chips)
        if (std::none_of(inputs.chips.begin(), inputs.chips.end(), [&](const ChipSpec& c) {
                return q(c.name).compare(q(chip.name), Qt::CaseInsensitive) == 0;
            }))
            all.push_back(&chip);
    for (const ChipSpec* each : all) {
        const ChipSpec& chip = *each;
        if (chip.kind == analysis::ChipKind::Hbm)
            continue; // memory stacks: no processing rate, nothing on a TPP axis
        ClassificationResult r = analysis::classify(chip, edition);
        if (!r.tppValue() || *r.tppValue() <= 0) {
            withoutRate << q(chip.name);
            continue;
        }
        out.push_back({&chip, std::move(r)});
    }
    return out;
}

} // namespace

void ChipChart::buildTppPlane(bool ioView, const ChartInputs& inputs) {
    const Edition& edition = requireEdition(inputs);
    // The 2022 edition tests I/O, not density: its plane is TPP x I/O.
    bool autoIo = false;
    if (!ioView && !editionTests(edition, "performance_density") &&
        editionTests(edition, "io_bidirectional_gb_per_s")) {
        ioView = true;
        autoIo = true;
    }
    const ZoneAxis axis = ioView ? ZoneAxis::IoBandwidth : ZoneAxis::PerformanceDensity;
    const QString yName = ioView ? QStringLiteral("I/O") : QStringLiteral("PD");

    QStringList withoutRate;
    std::vector<Classified> chips = classifyAll(inputs, edition, withoutRate);
    if (chips.empty())
        throw ChartError("no chip in the store has a TPP to plot");
    auto yOf = [&](const Classified& c) -> std::optional<double> {
        return ioView ? c.chip->io_bidirectional_gb_per_s : c.result.performance_density;
    };

    std::vector<double> xs, ys;
    for (const Classified& c : chips) {
        xs.push_back(*c.result.tppValue());
        if (auto y = yOf(c))
            ys.push_back(*y);
    }
    for (double t : criterionThresholds(edition, "tpp"))
        xs.push_back(t);
    for (double t : criterionThresholds(edition, zoneAxisMetric(axis)))
        ys.push_back(t);
    const QCPRange xRange = logRange(xs, 1.7);
    const QCPRange yRange = logRange(ys, 1.7);

    const QString title = ioView ? QStringLiteral("TPP and I/O bandwidth under %1")
                                 : QStringLiteral("TPP and performance density under %1");
    QString subtitle = editionLine(edition);
    subtitle += inputs.zones_for_datacenter ? QStringLiteral("\nZones: a datacenter chip")
                                            : QStringLiteral("\nZones: a non-datacenter chip");
    if (autoIo)
        subtitle += QStringLiteral("; this edition tests I/O, not performance density");
    addTitle(title.arg(q(edition.id)), subtitle);

    bool needStrip = std::any_of(chips.begin(), chips.end(),
                                 [&](const Classified& c) { return !yOf(c).has_value(); });
    QCPAxisRect* main = addAxisRect();
    QCPAxisRect* strip = needStrip ? addAxisRect() : nullptr;
    auto logAxis = [](QCPAxis* a, const QCPRange& r) {
        a->setScaleType(QCPAxis::stLogarithmic);
        a->setTicker(oneTwoFiveTicker());
        a->setRange(r);
    };
    logAxis(main->axis(QCPAxis::atBottom), xRange);
    logAxis(main->axis(QCPAxis::atLeft), yRange);
    main->axis(QCPAxis::atLeft)
        ->setLabel(ioView ? QStringLiteral("I/O bandwidth, bidirectional (GB/s)")
                          : QStringLiteral("performance density (TPP / mm²)"));
    QCPAxis* xLabelAxis = main->axis(QCPAxis::atBottom);
    if (strip) {
        auto* group = new QCPMarginGroup(this);
        main->setMarginGroup(QCP::msLeft | QCP::msRight, group);
        strip->setMarginGroup(QCP::msLeft | QCP::msRight, group);
        const int stripHeight = compact_ ? kStripHeightPixels * 3 / 4 : kStripHeightPixels;
        strip->setMinimumSize(0, stripHeight);
        strip->setMaximumSize(QWIDGETSIZE_MAX, stripHeight);
        logAxis(strip->axis(QCPAxis::atBottom), xRange);
        QCPAxis* sy = strip->axis(QCPAxis::atLeft);
        sy->setRange(0, 1);
        sy->setTicks(false);
        sy->setTickLabels(false);
        sy->grid()->setVisible(false);
        sy->setLabel(yName + QStringLiteral(" unknown"));
        strip->setRangeDrag(Qt::Horizontal);
        strip->setRangeZoom(Qt::Horizontal);
        main->axis(QCPAxis::atBottom)->setTickLabels(false);
        connect(main->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::rangeChanged),
                strip->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::setRange));
        connect(strip->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::rangeChanged),
                main->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::setRange));
        xLabelAxis = strip->axis(QCPAxis::atBottom);
    }
    xLabelAxis->setLabel(QStringLiteral("TPP (bit length × TOPS, dense)"));

    // Zones, cut at the edition's own thresholds and classified by the classifier; drawn over a
    // wide span so that panning does not run off them.
    const double span = 100.0;
    const std::vector<ZoneCell> cells =
        zoneCells(edition, axis, xRange.lower / span, xRange.upper * span, yRange.lower / span,
                  yRange.upper * span, inputs.zones_for_datacenter);
    std::map<QString, const ZoneCell*> labelCell; // the largest visible cell of each zone
    std::map<QString, double> labelArea;
    for (const ZoneCell& c : cells) {
        QCPItemRect* r = addRect(main, c.tpp_from, c.y_from, c.tpp_to, c.y_to,
                                 QBrush(theme_.zoneColor(c.paragraph)), Qt::NoPen);
        r->setLayer(QStringLiteral("zones"));
        r->setAntialiased(false);
        const double x0 = std::max(c.tpp_from, xRange.lower), x1 = std::min(c.tpp_to, xRange.upper);
        const double y0 = std::max(c.y_from, yRange.lower), y1 = std::min(c.y_to, yRange.upper);
        if (x1 <= x0 || y1 <= y0)
            continue;
        const double area = std::log(x1 / x0) * std::log(y1 / y0);
        const QString key = zoneText(c);
        if (area > labelArea[key]) {
            labelArea[key] = area;
            labelCell[key] = &c;
        }
    }
    for (const auto& [text, cell] : labelCell) {
        const double x0 = std::max(cell->tpp_from, xRange.lower);
        const double y1 = std::min(cell->y_to, yRange.upper);
        QColor c =
            cell->paragraph == "none" ? theme_.outside : theme_.paragraphColor(cell->paragraph);
        reservedTexts_.push_back(addText(main, x0 * 1.04, y1 / 1.04, text, c.darker(110),
                                         Qt::AlignLeft | Qt::AlignTop, 1));
        QFont f = reservedTexts_.back()->font();
        f.setBold(true);
        reservedTexts_.back()->setFont(f);
    }
    if (strip) {
        for (const ZoneCell& c : zoneStrip(edition, axis, xRange.lower / span, xRange.upper * span,
                                           inputs.zones_for_datacenter)) {
            if (c.paragraph.empty())
                continue; // TPP alone does not settle it: no zone
            QCPItemRect* r = addRect(strip, c.tpp_from, 0, c.tpp_to, 1,
                                     QBrush(theme_.zoneColor(c.paragraph)), Qt::NoPen);
            r->setLayer(QStringLiteral("zones"));
            r->setAntialiased(false);
        }
    }

    // Points, one graph per class (the legend), strip chips in their own graphs.
    std::sort(chips.begin(), chips.end(), [](const Classified& a, const Classified& b) {
        return *a.result.tppValue() < *b.result.tppValue();
    });
    QCPLegend* legendBox = addLegend(main, Qt::AlignBottom | Qt::AlignRight);
    int stripIndex = 0;
    for (const Classified& c : chips) {
        const std::optional<double> y = yOf(c);
        Plotted p;
        p.name = q(c.chip->name);
        p.x = *c.result.tppValue();
        QString figures = QStringLiteral("TPP %1").arg(fig(p.x));
        if (c.result.performance_density)
            figures += QStringLiteral(", PD %1").arg(fig(*c.result.performance_density));
        if (c.chip->io_bidirectional_gb_per_s)
            figures += QStringLiteral(", I/O %1 GB/s").arg(fig(*c.chip->io_bidirectional_gb_per_s));
        p.tooltip = QStringLiteral("%1\n%2\n%3").arg(p.name, figures, classTooltip(c.result));
        if (y) {
            p.rect = main;
            p.y = *y;
        } else {
            p.rect = strip;
            static constexpr double kLanes[] = {0.5, 0.25, 0.75};
            p.y = kLanes[stripIndex++ % 3];
            p.tooltip += QStringLiteral("\n%1 unknown").arg(yName);
        }
        plotChip(std::move(p), c.result.paragraph.value_or(""));
    }
    finishChips(legendBox);

    QStringList notes;
    notes << QStringLiteral("Zones are the classifier's own answer for a probe chip in each cell "
                            "cut at the edition's thresholds (%1).")
                 .arg(inputs.zones_for_datacenter
                          ? QStringLiteral("designed or marketed for datacenters")
                          : QStringLiteral("not designed or marketed for datacenters"));
    for (const analysis::ExclusionNote& n : edition.notes)
        notes << QStringLiteral("%1 (%2) applies to the points by their own datacenter flag.")
                     .arg(q(n.id), q(n.citation.text));
    if (!withoutRate.isEmpty())
        notes << QStringLiteral("No dense rate known, not plotted: %1.")
                     .arg(withoutRate.join(QStringLiteral(", ")));
    footnote_ = notes.join(QLatin1Char(' '));
}

void ChipChart::buildBandwidthTpp(const ChartInputs& inputs) {
    const Edition& edition = requireEdition(inputs);
    QStringList withoutRate;
    std::vector<Classified> chips = classifyAll(inputs, edition, withoutRate);
    QStringList withoutBandwidth;
    std::vector<Classified> drawn;
    for (Classified& c : chips) {
        if (c.chip->memory_bandwidth_gb_per_s)
            drawn.push_back(std::move(c));
        else
            withoutBandwidth << q(c.chip->name);
    }
    if (drawn.empty())
        throw ChartError("no chip in the store has both a TPP and a memory bandwidth");
    addTitle(QStringLiteral("Memory bandwidth and TPP under %1").arg(q(edition.id)),
             editionLine(edition) +
                 QStringLiteral("\nMoE decode is bound by memory bandwidth: a chip outside "
                                "3A090 can still decode like a controlled one"));
    QCPAxisRect* rect = addAxisRect();
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);

    // Every edition's lines; a scenario's (when drawn under one) in place of its base's.
    std::vector<Edition> lined;
    for (const Edition& e : inputs.editions)
        if (e.scenario ? e.id == edition.id : !(edition.scenario && e.id == edition.base))
            lined.push_back(e);
    const std::vector<BandwidthRegion> regions = bandwidthRegions(lined);
    std::vector<double> xs, bws;
    for (const Classified& c : drawn) {
        xs.push_back(*c.result.tppValue());
        bws.push_back(*c.chip->memory_bandwidth_gb_per_s);
    }
    for (const BandwidthRegion& r : regions) {
        for (const auto& v : {r.tpp_below, r.tpp_at_least})
            if (v)
                xs.push_back(*v);
        for (const auto& v : {r.bandwidth_below, r.bandwidth_at_least})
            if (v)
                bws.push_back(*v);
    }
    const QCPRange xRange = logRange(xs, 1.6);
    x->setScaleType(QCPAxis::stLogarithmic);
    x->setTicker(oneTwoFiveTicker());
    x->setRange(xRange);
    x->setLabel(QStringLiteral("TPP (bit length × TOPS, dense)"));
    y->setRange(0, *std::max_element(bws.begin(), bws.end()) * 1.12);
    y->setLabel(QStringLiteral("memory bandwidth (GB/s)"));

    // The lines of the editions that bound memory bandwidth (flags, not clauses), drawn for every
    // edition that has one, whatever edition the points are classified under.
    const double far = 1e9;
    for (const BandwidthRegion& r : regions) {
        const QString label = QStringLiteral("%1 (%2)").arg(q(r.text), q(r.citation.text));
        if (r.bandwidth_below) {
            const double x0 = r.tpp_at_least.value_or(1e-3), x1 = r.tpp_below.value_or(far);
            const double y1 = *r.bandwidth_below, y0 = r.bandwidth_at_least.value_or(0);
            QColor fill = theme_.box;
            fill.setAlpha(theme_.dark ? 45 : 32);
            QCPItemRect* box =
                addRect(rect, x0, y0, x1, y1, QBrush(fill), QPen(theme_.box, 1.6, Qt::DashLine));
            box->setLayer(QStringLiteral("zones"));
            QString bounds;
            if (r.tpp_below)
                bounds += QStringLiteral("TPP < %1").arg(fig(*r.tpp_below));
            bounds += QStringLiteral("%1bandwidth < %2 GB/s")
                          .arg(bounds.isEmpty() ? QString() : QStringLiteral(", "),
                               fig(*r.bandwidth_below));
            reservedTexts_.push_back(addText(rect, std::min(x1, xRange.upper) / 1.03, y1 * 0.985,
                                             label + QStringLiteral("\n") + bounds,
                                             theme_.box.darker(theme_.dark ? 90 : 130),
                                             Qt::AlignRight | Qt::AlignTop));
        } else if (r.bandwidth_at_least) {
            const double v = *r.bandwidth_at_least;
            addLine(rect, 1e-3, v, far, v, theme_.heuristic, Qt::DashLine);
            reservedTexts_.push_back(addText(
                rect, xRange.upper / 1.03, v, label + QStringLiteral(": ≥ %1 GB/s").arg(fig(v)),
                theme_.heuristic.darker(theme_.dark ? 90 : 115), Qt::AlignRight | Qt::AlignBottom));
        }
    }
    // The selected edition's TPP lines.
    for (double t : criterionThresholds(edition, "tpp")) {
        addLine(rect, t, 0, t, far, theme_.subtle, Qt::DotLine);
        reservedTexts_.push_back(addText(rect, t, y->range().upper,
                                         QStringLiteral("TPP %1").arg(fig(t)), theme_.subtle,
                                         Qt::AlignLeft | Qt::AlignTop, -1));
    }

    QCPLegend* legendBox = addLegend(rect, Qt::AlignBottom | Qt::AlignRight);
    for (const Classified& c : drawn) {
        Plotted p;
        p.name = q(c.chip->name);
        p.x = *c.result.tppValue();
        p.y = *c.chip->memory_bandwidth_gb_per_s;
        p.rect = rect;
        p.tooltip = QStringLiteral("%1\nTPP %2, memory bandwidth %3 GB/s\n%4")
                        .arg(p.name, fig(p.x), fig(p.y), classTooltip(c.result));
        for (const std::string& flag : c.result.flags)
            p.tooltip += QStringLiteral("\n") + q(flag);
        plotChip(std::move(p), c.result.paragraph.value_or(""));
    }
    finishChips(legendBox);
    QStringList notes;
    notes << QStringLiteral("Points classified under %1; the bandwidth lines are the flags of "
                            "every edition that has one.")
                 .arg(q(edition.id));
    if (!withoutBandwidth.isEmpty())
        notes << QStringLiteral("No memory bandwidth known, not plotted: %1.")
                     .arg(withoutBandwidth.join(QStringLiteral(", ")));
    if (!withoutRate.isEmpty())
        notes << QStringLiteral("No dense rate known, not plotted: %1.")
                     .arg(withoutRate.join(QStringLiteral(", ")));
    footnote_ = notes.join(QLatin1Char(' '));
}

void ChipChart::buildTimeline(const ChartInputs& inputs) {
    if (inputs.editions.empty())
        throw ChartError("the store has no edition");
    std::vector<const Edition*> editions;
    for (const Edition& e : inputs.editions)
        // A scenario shares its base's date: the timeline is the regulation's.
        if (!e.scenario && QDate::fromString(q(e.effective), Qt::ISODate).isValid())
            editions.push_back(&e);
    std::sort(editions.begin(), editions.end(),
              [](const Edition* a, const Edition* b) { return a->effective < b->effective; });
    if (editions.empty())
        throw ChartError("no edition has an effective date");
    auto seconds = [](const std::string& iso) {
        return double(QDateTime(QDate::fromString(q(iso), Qt::ISODate), QTime(0, 0), Qt::UTC)
                          .toSecsSinceEpoch());
    };
    std::vector<double> starts;
    for (const Edition* e : editions)
        starts.push_back(seconds(e->effective));
    const double year = 365.25 * 86400;
    const double end = std::max(starts.back() + year / 2,
                                double(QDateTime::currentDateTimeUtc().toSecsSinceEpoch()));

    // Rows: the chips with a TPP under the newest edition, the strongest on top.
    QStringList withoutRate;
    std::vector<Classified> rows = classifyAll(inputs, *editions.back(), withoutRate);
    if (rows.empty())
        throw ChartError("no chip in the store has a TPP to plot");
    std::sort(rows.begin(), rows.end(), [](const Classified& a, const Classified& b) {
        return *a.result.tppValue() < *b.result.tppValue();
    });
    addTitle(QStringLiteral("What each edition controls, %1 to %2")
                 .arg(q(editions.front()->effective.substr(0, 4)))
                 .arg(QDateTime::fromSecsSinceEpoch(qint64(end), Qt::UTC).date().year()),
             QStringLiteral("Each column is an edition from its effective date; chips by TPP. "
                            "★ marks a chip designed around the line of that edition"));
    QCPAxisRect* rect = addAxisRect();
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    auto dates = QSharedPointer<QCPAxisTickerDateTime>::create();
    dates->setDateTimeFormat(QStringLiteral("yyyy-MM"));
    dates->setDateTimeSpec(Qt::UTC);
    x->setTicker(dates);
    x->setRange(starts.front() - 0.08 * year, end);
    x->setLabel(QStringLiteral("effective date"));
    auto names = QSharedPointer<QCPAxisTickerText>::create();
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1.5));
    y->setTickLabelFont(small);
    y->setTicker(names);
    const double top = double(rows.size()) + 2.4; // room for the column heads
    y->setRange(-0.6, top);
    y->grid()->setVisible(false);
    rect->setRangeDrag(Qt::Horizontal | Qt::Vertical);

    std::map<std::string, int> editionIndex;
    for (size_t j = 0; j < editions.size(); ++j)
        editionIndex[editions[j]->id] = int(j);
    std::set<int> usedRanks;
    bool anyDerivative = false;
    for (size_t i = 0; i < rows.size(); ++i) {
        const ChipSpec& chip = *rows[i].chip;
        const double row = double(i);
        const std::vector<analysis::Precedent> derived = analysis::precedentsOf(chip.name);
        names->addTick(row, (derived.empty() ? QString() : QStringLiteral("★ ")) + q(chip.name));
        Plotted p;
        p.name = q(chip.name);
        p.rect = rect;
        p.y = row;
        p.x = (starts.back() + end) / 2;
        p.tooltip = p.name;
        for (size_t j = 0; j < editions.size(); ++j) {
            const ClassificationResult r = analysis::classify(chip, *editions[j]);
            const std::string paragraph = r.paragraph.value_or("");
            usedRanks.insert(paragraphRank(paragraph));
            const double x1 = j + 1 < editions.size() ? starts[j + 1] : end;
            QColor fill = theme_.paragraphColor(paragraph);
            fill.setAlpha(paragraph == "none" ? 70 : paragraph.empty() ? 110 : 200);
            const QBrush brush(fill);
            QCPItemRect* cell = addRect(rect, starts[j], row - 0.42, x1, row + 0.42, brush,
                                        QPen(theme_.background, 1));
            cell->setLayer(QStringLiteral("zones"));
            p.tooltip += QStringLiteral("\n%1: %2").arg(q(editions[j]->id), classTooltip(r));
        }
        for (const analysis::Precedent& d : derived) {
            auto it = editionIndex.find(d.designed_around);
            if (it == editionIndex.end())
                continue;
            anyDerivative = true;
            addText(rect, starts[size_t(it->second)], row, QStringLiteral("★"), theme_.derivative,
                    Qt::AlignLeft | Qt::AlignVCenter, 1);
            p.tooltip += QStringLiteral("\n★ designed around %1 (from %2): %3 [%4, %5]")
                             .arg(q(d.designed_around), q(d.derived_from), q(d.note), q(d.citation),
                                  q(d.evidence));
        }
        plotted_.push_back(p);
    }
    // Column heads: the edition and its status.
    for (size_t j = 0; j < editions.size(); ++j) {
        addLine(rect, starts[j], -0.6, starts[j], top, theme_.subtle, Qt::DotLine);
        // Heads at the column's start, on two levels, so that editions a month apart
        // (2024-12, 2025-01) do not write over each other.
        addText(rect, starts[j], double(rows.size()) + (j % 2 ? 1.6 : 0.2),
                q(editions[j]->id) + QStringLiteral(" (") + q(editions[j]->status) +
                    QStringLiteral(")"),
                theme_.foreground, Qt::AlignLeft | Qt::AlignBottom, -1);
    }
    // The legend, in a row of its own under the plot: the cells fill the plot to its edges.
    QCPLegend* legendBox = addLegend(rect, Qt::AlignBottom | Qt::AlignRight);
    rect->insetLayout()->take(legendBox);
    rect->insetLayout()->simplify();
    legendBox->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legendBox->setWrap(6);
    legendBox->setMargins(QMargins(6, 2, 6, 2));
    plotLayout()->addElement(plotLayout()->rowCount(), 0, legendBox);
    legendBox->setMaximumSize(QWIDGETSIZE_MAX, 28);
    legendBox->setMinimumSize(0, 0);
    for (const std::string paragraph : {"a", "b", "c", "none", ""}) {
        if (!usedRanks.count(paragraphRank(paragraph)))
            continue;
        QCPGraph* g = addPoints(rect, theme_.paragraphColor(paragraph), paragraphLabel(paragraph));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare,
                                           theme_.paragraphColor(paragraph),
                                           theme_.paragraphColor(paragraph), 9));
        g->addToLegend(legendBox);
    }
    QStringList notes;
    notes << QStringLiteral("Cells: the chip's class under each edition, from its effective date "
                            "to the next one's.");
    if (anyDerivative)
        notes << QStringLiteral("★: the derivative stays under that edition's line (hover for "
                                "what was cut and the source).");
    if (!withoutRate.isEmpty())
        notes << QStringLiteral("No dense rate known, not shown: %1.")
                     .arg(withoutRate.join(QStringLiteral(", ")));
    footnote_ = notes.join(QLatin1Char(' '));
}

void ChipChart::buildBenchHistory(const ChartInputs& inputs) {
    std::vector<BenchRun> runs;
    for (const BenchRun& r : inputs.bench_runs)
        if (inputs.device.isEmpty() || r.device == inputs.device)
            runs.push_back(r);
    if (runs.empty())
        throw ChartError(inputs.device.isEmpty()
                             ? std::string("no benchmark results in the store (crossroads bench "
                                           "saves them)")
                             : "no benchmark results for device \"" + inputs.device.toStdString() +
                                   "\" in the store");
    addTitle(inputs.device.isEmpty() ? QStringLiteral("Benchmark history")
                                     : QStringLiteral("Benchmark history of %1").arg(inputs.device),
             QStringLiteral("Tokens per second of each saved run (left) and decode's fraction of "
                            "the measured read bandwidth (right)"));
    QCPAxisRect* rect = addAxisRect();
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    QCPAxis* y2 = rect->axis(QCPAxis::atRight);
    y2->setVisible(true);
    y2->setTickLabels(true);
    auto dates = QSharedPointer<QCPAxisTickerDateTime>::create();
    dates->setDateTimeFormat(QStringLiteral("yyyy-MM-dd\nhh:mm"));
    dates->setDateTimeSpec(Qt::UTC);
    x->setTicker(dates);
    y->setLabel(QStringLiteral("tokens/s"));
    y2->setLabel(QStringLiteral("decode: fraction of measured bandwidth (%)"));
    y2->setRange(0, 110);

    // One series per device, model, backend and phase.
    struct Series {
        QString name;
        QVector<double> t, v;
    };
    std::map<QString, Series> tokens, fractions;
    std::vector<double> values, times;
    for (const BenchRun& r : runs) {
        const QString what = QStringLiteral("%1, %2, %3").arg(r.device, r.model, r.backend);
        const double t = double(r.at.toSecsSinceEpoch());
        times.push_back(t);
        for (const auto& [phase, v] :
             {std::pair{QStringLiteral("prefill"), r.prefill_tokens_per_s},
              std::pair{QStringLiteral("decode"), r.decode_tokens_per_s}}) {
            if (!v)
                continue;
            Series& s = tokens[what + QStringLiteral(": ") + phase];
            s.name = phase + QStringLiteral(" tokens/s, ") + what;
            s.t << t;
            s.v << *v;
            values.push_back(*v);
        }
        if (r.decode_fraction_of_measured_bandwidth) {
            Series& s = fractions[what];
            s.name = QStringLiteral("decode % of bandwidth, ") + what;
            s.t << t;
            s.v << 100 * *r.decode_fraction_of_measured_bandwidth;
        }
    }
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    if (*hi / std::max(*lo, 1e-9) > 30) {
        y->setScaleType(QCPAxis::stLogarithmic);
        y->setTicker(oneTwoFiveTicker());
        y->setRange(*lo / 1.5, *hi * 1.5);
    } else {
        y->setRange(0, *hi * 1.15);
    }
    const auto [t0, t1] = std::minmax_element(times.begin(), times.end());
    const double pad = std::max(3600.0, (*t1 - *t0) * 0.06);
    x->setRange(*t0 - pad, *t1 + pad);

    static const QColor kSeriesColors[] = {QColor(0x00, 0x72, 0xB2), QColor(0xD5, 0x5E, 0x00),
                                           QColor(0x00, 0x9E, 0x73), QColor(0xCC, 0x79, 0xA7),
                                           QColor(0xE6, 0x9F, 0x00), QColor(0x56, 0xB4, 0xE9)};
    QCPLegend* legendBox = addLegend(rect, Qt::AlignTop | Qt::AlignLeft);
    int index = 0;
    for (auto& [key, s] : tokens) {
        const QColor c = kSeriesColors[index++ % std::size(kSeriesColors)];
        auto* g = new QCPGraph(x, y);
        g->setName(s.name);
        g->setData(s.t, s.v);
        g->setPen(QPen(c, 1.6));
        g->setScatterStyle(QCPScatterStyle(key.endsWith(QLatin1String("prefill"))
                                               ? QCPScatterStyle::ssSquare
                                               : QCPScatterStyle::ssDisc,
                                           c, c, 7));
        g->addToLegend(legendBox);
    }
    for (auto& [key, s] : fractions) {
        const QColor c = kSeriesColors[index++ % std::size(kSeriesColors)];
        auto* g = new QCPGraph(x, y2);
        g->setName(s.name);
        g->setData(s.t, s.v);
        g->setPen(QPen(c, 1.2, Qt::DashLine));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, c, c, 7));
        g->addToLegend(legendBox);
    }
    footnote_ = QStringLiteral("%1 saved run(s), from the store's benchmark results "
                               "(crossroads results lists them).")
                    .arg(runs.size());
}

void ChipChart::buildCapability(const ChartInputs& inputs) {
    const Edition& edition = requireEdition(inputs);
    static const inference::ModelConfig deepseekV3 = inference::presetConfig("deepseek-v3");
    QStringList withoutRate;
    std::vector<Classified> chips = classifyAll(inputs, edition, withoutRate);
    struct Point {
        const Classified* c;
        double decode;
    };
    std::vector<Point> points;
    QStringList withoutBandwidth;
    for (const Classified& c : chips) {
        const auto index = analysis::capabilityIndex(*c.chip, *c.chip, edition.bit_lengths);
        if (index.deepseek_v3_decode_tokens_per_s)
            points.push_back({&c, *index.deepseek_v3_decode_tokens_per_s});
        else
            withoutBandwidth << q(c.chip->name);
    }
    if (points.empty())
        throw ChartError("no chip in the store has the figures to project DeepSeek-V3 decode");

    // The headline, from the data: the best uncontrolled decoder against the controlled chips it
    // out-decodes.
    const Point* bestFree = nullptr;
    for (const Point& p : points)
        if (p.c->result.controlled == std::optional(false) &&
            (!bestFree || p.decode > bestFree->decode))
            bestFree = &p;
    QString headline;
    if (bestFree) {
        int beaten = 0;
        const Point* example = nullptr;
        // The example named: the H100 SXM, the unit of H100-equivalents, when it is beaten;
        // else the beaten chip with the highest TPP.
        for (const Point& p : points)
            if (p.c->result.controlled == std::optional(true) && p.decode < bestFree->decode) {
                ++beaten;
                const bool reference = p.c->chip->name == kReferenceChip;
                if (!example || reference ||
                    (example->c->chip->name != kReferenceChip &&
                     *p.c->result.tppValue() > *example->c->result.tppValue()))
                    example = &p;
            }
        headline = beaten == 0
                       ? QStringLiteral("No chip outside 3A090 out-decodes a controlled one")
                       : QStringLiteral("Outside 3A090, %1 projects %2 tokens/s: more than %3 "
                                        "controlled chip%4, the %5 (TPP %6) among them at %7")
                             .arg(q(bestFree->c->chip->name), fig(std::round(bestFree->decode)))
                             .arg(beaten)
                             .arg(beaten == 1 ? QString() : QStringLiteral("s"))
                             .arg(q(example->c->chip->name), fig(*example->c->result.tppValue()),
                                  fig(std::round(example->decode)));
    }
    addTitle(QStringLiteral("DeepSeek-V3 decode per GPU and TPP under %1").arg(q(edition.id)),
             QStringLiteral("Roofline projection: FP8 weights, batch 1, context 4,096, one GPU's "
                            "memory bandwidth (as if the weights fit)\n") +
                 headline);
    QCPAxisRect* rect = addAxisRect();
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    std::vector<double> xs, ys;
    for (const Point& p : points) {
        xs.push_back(*p.c->result.tppValue());
        ys.push_back(p.decode);
    }
    for (double t : criterionThresholds(edition, "tpp"))
        xs.push_back(t);
    x->setScaleType(QCPAxis::stLogarithmic);
    x->setTicker(oneTwoFiveTicker());
    x->setRange(logRange(xs, 1.6));
    x->setLabel(QStringLiteral("TPP (bit length × TOPS, dense)"));

    // The local measurement, as `crossroads capability` reads it (analysis/Capability.h): a run
    // whose device is a chip of the store calibrates that chip's projection (the median fraction
    // of roofline its decode achieved); a run on a device that is no chip (a CPU) is drawn as
    // what its decode bandwidth would give on DeepSeek-V3.
    analysis::ChipRoof unit;
    unit.name = "1 GB/s";
    unit.memory_bandwidth_gb_per_s = 1;
    unit.bf16_tflops = 1e9;
    unit.fp8_tflops = 1e9;
    analysis::ProjectionOptions fp8;
    fp8.dtype = analysis::WeightDtype::Fp8;
    const double tokensPerGbPerS = analysis::project(deepseekV3, unit, fp8).decode_tokens_per_s;
    std::map<QString, std::pair<double, double>> local; // device -> (GB/s, equivalent tokens/s)
    std::vector<analysis::BenchRun> matchedRuns;        // newest first, as the store has them
    int localRuns = 0;
    for (auto it = inputs.bench_runs.rbegin(); it != inputs.bench_runs.rend(); ++it) {
        const BenchRun& r = *it;
        if (!inputs.device.isEmpty() && r.device != inputs.device)
            continue;
        ++localRuns;
        const analysis::BenchFigures figures = analysis::readBenchFigures(r.result_json);
        if (figures.readable && analysis::benchChip(r.backend.toStdString(), r.device.toStdString(),
                                                    figures, inputs.chips))
            matchedRuns.push_back({r.id, r.at.toString(Qt::ISODate).toStdString(),
                                   r.device.toStdString(), r.backend.toStdString(),
                                   r.model.toStdString(), r.dtype.toStdString(), r.result_json});
        else if (r.decode_achieved_gb_per_s && !local.count(r.device))
            local[r.device] = {*r.decode_achieved_gb_per_s,
                               *r.decode_achieved_gb_per_s * tokensPerGbPerS};
    }
    struct Measured {
        const Point* point;
        const analysis::CapabilityRow* row;
    };
    const analysis::CapabilityReport calibration =
        analysis::capabilityTable(inputs.chips, edition, nullptr, matchedRuns);
    std::vector<Measured> measured;
    for (const analysis::CapabilityRow& row : calibration.results) {
        if (!row.calibrated_deepseek_v3_decode_tokens_per_s || row.measured.empty())
            continue;
        const auto point = std::find_if(points.begin(), points.end(), [&](const Point& p) {
            return p.c->chip->name == row.index.chip;
        });
        if (point != points.end()) {
            measured.push_back({&*point, &row});
            ys.push_back(*row.calibrated_deepseek_v3_decode_tokens_per_s);
        }
    }
    for (const auto& [device, v] : local)
        ys.push_back(v.second);
    y->setRange(0, *std::max_element(ys.begin(), ys.end()) * 1.15);
    y->setLabel(QStringLiteral("projected DeepSeek-V3 decode (tokens/s per GPU)"));

    for (double t : criterionThresholds(edition, "tpp")) {
        addLine(rect, t, 0, t, 1e9, theme_.subtle, Qt::DotLine);
        reservedTexts_.push_back(addText(rect, t, y->range().upper,
                                         QStringLiteral("TPP %1").arg(fig(t)), theme_.subtle,
                                         Qt::AlignLeft | Qt::AlignTop, -1));
    }
    for (const auto& [device, v] : local) {
        addLine(rect, 1e-3, v.second, 1e12, v.second, theme_.heuristic, Qt::DashLine);
        reservedTexts_.push_back(addText(
            rect, x->range().upper / 1.03, v.second,
            QStringLiteral("%1, measured: %2 GB/s in decode ≈ %3 tokens/s on DeepSeek-V3")
                .arg(device, fig(v.first), fig(std::round(v.second * 10) / 10)),
            theme_.heuristic.darker(theme_.dark ? 90 : 115), Qt::AlignRight | Qt::AlignBottom));
    }

    QCPLegend* legendBox = addLegend(rect, Qt::AlignTop | Qt::AlignLeft);
    // Measured against projected: a hollow diamond at the calibrated decode, a dashed line up to
    // the chip's projection, one legend entry per chip measured. Their legend sits top right, in
    // the band the y range leaves above the highest chip, so the class legend keeps its width
    // and the TPP lines' labels stay clear.
    const QColor measuredColor = theme_.highlight;
    QCPLegend* measuredLegend =
        measured.empty() ? nullptr : addLegend(rect, Qt::AlignTop | Qt::AlignRight);
    QStringList calibrationNotes;
    for (const Measured& m : measured) {
        const analysis::Calibration& newest = m.row->measured.front();
        const double tpp = *m.point->c->result.tppValue();
        const double calibrated = *m.row->calibrated_deepseek_v3_decode_tokens_per_s;
        const double fraction = *m.row->calibration_fraction;
        reservedLines_.push_back(
            addLine(rect, tpp, m.point->decode, tpp, calibrated, measuredColor, Qt::DashLine));
        auto* g = new QCPGraph(x, y);
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(measuredColor, 2), Qt::NoBrush, 12));
        g->addData(tpp, calibrated);
        const QString device = q(newest.device);
        const QString date = q(newest.created_at).left(10);
        g->setName(QStringLiteral("measured on %1 (%2)").arg(device, date));
        g->addToLegend(measuredLegend);
        // Named: chips of one TPP (H100 and H200) share the dashed line's column.
        reservedTexts_.push_back(addText(
            rect, tpp * 1.05, calibrated,
            QStringLiteral("%1 calibrated: %2 tokens/s (%3% of roofline)")
                .arg(q(m.row->index.chip), fig(std::round(calibrated * 10) / 10))
                .arg(std::round(fraction * 1000) / 10),
            measuredColor.darker(theme_.dark ? 90 : 115), Qt::AlignLeft | Qt::AlignVCenter, -1));
        QStringList models;
        for (const analysis::Calibration& c : m.row->measured)
            if (!models.contains(q(c.model)))
                models << q(c.model);
        calibrationNotes << QStringLiteral(
                                "Measured on %1 (%2, %3 %4): the decode phase achieved %5 GB/s of "
                                "the %6's datasheet %7 GB/s, %8% of roofline%9; calibrated "
                                "DeepSeek-V3 decode = projected %10 × %11 = %12 tokens/s.")
                                .arg(device, date, models.join(QStringLiteral(", ")),
                                     q(newest.dtype), fig(std::round(newest.achieved_gb_per_s)),
                                     q(m.row->index.chip), fig(newest.datasheet_bandwidth_gb_per_s))
                                .arg(std::round(newest.fraction_of_roofline * 1000) / 10)
                                .arg(
                                    m.row->measured.size() == 1
                                        ? QString()
                                        : QStringLiteral(" (the fraction is the median of %1 runs)")
                                              .arg(m.row->measured.size()))
                                .arg(fig(std::round(m.point->decode * 10) / 10),
                                     q(analysis::formatFigure(std::round(fraction * 1000) / 1000)),
                                     fig(std::round(calibrated * 10) / 10));
    }
    for (const Point& pt : points) {
        Plotted p;
        p.name = q(pt.c->chip->name);
        p.x = *pt.c->result.tppValue();
        p.y = pt.decode;
        p.rect = rect;
        p.tooltip = QStringLiteral("%1\nTPP %2, memory bandwidth %3 GB/s\nDeepSeek-V3 decode "
                                   "(projected): %4 tokens/s\n%5")
                        .arg(p.name, fig(p.x), fig(*pt.c->chip->memory_bandwidth_gb_per_s),
                             fig(std::round(p.y * 10) / 10), classTooltip(pt.c->result));
        plotChip(std::move(p), pt.c->result.paragraph.value_or(""));
    }
    finishChips(legendBox);
    QStringList notes;
    notes << QStringLiteral("Decode is bound by memory bandwidth at batch 1: bytes per step = "
                            "active weights (8 of 256 experts per layer) + KV reads; compute "
                            "roof from the chip's FP8 (else BF16) rate. crossroads project "
                            "gives the figures and other batches.");
    notes << calibrationNotes;
    if (!local.empty())
        notes << QStringLiteral("The local line converts the decode bandwidth measured by "
                                "crossroads bench on a device that is no chip of the store into "
                                "DeepSeek-V3 tokens/s at the same bytes per step.");
    if (localRuns == 0)
        notes << (inputs.device.isEmpty()
                      ? QStringLiteral("No local measurement in the store (crossroads bench "
                                       "saves one).")
                      : QStringLiteral("No local measurement of %1 in the store.")
                            .arg(inputs.device));
    else if (measured.empty() && local.empty())
        notes << QStringLiteral("No local measurement to draw: the store's benchmark results "
                                "lack a decode phase with its achieved GB/s.");
    if (!withoutBandwidth.isEmpty())
        notes << QStringLiteral("No memory bandwidth or rate known, not plotted: %1.")
                     .arg(withoutBandwidth.join(QStringLiteral(", ")));
    if (!withoutRate.isEmpty())
        notes << QStringLiteral("No dense rate known, not plotted: %1.")
                     .arg(withoutRate.join(QStringLiteral(", ")));
    footnote_ = notes.join(QLatin1Char(' '));
}

QPointF ChipChart::pixelOf(const Plotted& p) const {
    return QPointF(p.rect->axis(QCPAxis::atBottom)->coordToPixel(p.x),
                   p.rect->axis(QCPAxis::atLeft)->coordToPixel(p.y));
}

void ChipChart::layoutChipLabels() {
    if (laying_ || plotted_.empty() || kind_ == ChartKind::Timeline)
        return;
    laying_ = true;
    std::vector<LabelRequest> requests;
    std::vector<size_t> which;
    QRectF bounds;
    for (const Plotted& p : plotted_)
        bounds = bounds.united(QRectF(p.rect->rect()));
    for (size_t i = 0; i < plotted_.size(); ++i) {
        Plotted& p = plotted_[i];
        const QPointF at = pixelOf(p);
        const bool visible = QRectF(p.rect->rect()).contains(at);
        p.label->setVisible(visible);
        p.leader->setVisible(false);
        if (!visible)
            continue;
        const QFontMetricsF metrics(p.label->font());
        const QRectF box = metrics.boundingRect(p.name);
        requests.push_back({at, QSizeF(box.width() + 3, metrics.height() + 1)});
        which.push_back(i);
    }
    std::vector<QRectF> reserved;
    for (QCPItemText* t : reservedTexts_)
        if (t->visible())
            reserved.push_back(
                QRectF(t->topLeft->pixelPosition(), t->bottomRight->pixelPosition()).normalized());
    for (QCPLegend* legendBox : legends_)
        if (legendBox->visible())
            reserved.push_back(QRectF(legendBox->outerRect()));
    for (QCPItemLine* line : reservedLines_) {
        const QPointF end = line->end->pixelPosition();
        reserved.push_back(
            QRectF(line->start->pixelPosition(), end).normalized().adjusted(-2, -2, 2, 2));
        const double r = 2 * kMarkerRadiusPixels - 1;
        reserved.push_back(QRectF(end.x() - r, end.y() - r, 2 * r, 2 * r));
    }
    const std::vector<LabelPlacement> placed =
        placeLabels(requests, bounds, kMarkerRadiusPixels, reserved);
    for (size_t k = 0; k < placed.size(); ++k) {
        Plotted& p = plotted_[which[k]];
        p.label->position->setCoords(placed[k].rect.topLeft());
        if (placed[k].leader) {
            const QPointF at = requests[k].anchor;
            const QRectF& r = placed[k].rect;
            p.leader->end->setCoords(std::clamp(at.x(), r.left(), r.right()),
                                     std::clamp(at.y(), r.top(), r.bottom()));
            p.leader->setVisible(true);
        }
    }
    laying_ = false;
}

QStringList ChipChart::plottedChips() const {
    QStringList out;
    for (const Plotted& p : plotted_)
        out << p.name;
    return out;
}

QString ChipChart::chipAt(const QPointF& pixel) const {
    if (kind_ == ChartKind::Timeline) {
        for (const Plotted& p : plotted_) {
            if (!p.rect->rect().contains(pixel.toPoint()))
                return QString();
            const double row = p.rect->axis(QCPAxis::atLeft)->pixelToCoord(pixel.y());
            const long index = std::lround(row);
            if (index >= 0 && size_t(index) < plotted_.size() &&
                std::abs(row - double(index)) < 0.45)
                return plotted_[size_t(index)].name;
            return QString();
        }
        return QString();
    }
    QString best;
    double bestDistance = kHitRadiusPixels;
    for (const Plotted& p : plotted_) {
        const QPointF at = pixelOf(p);
        if (!QRectF(p.rect->rect()).contains(at))
            continue;
        const double d = std::hypot(at.x() - pixel.x(), at.y() - pixel.y());
        if (d <= bestDistance) {
            bestDistance = d;
            best = p.name;
        }
    }
    return best;
}

std::optional<QPointF> ChipChart::chipPixel(const QString& name) const {
    for (const Plotted& p : plotted_)
        if (p.name == name)
            return pixelOf(p);
    return std::nullopt;
}

bool ChipChart::selectChip(const QString& name) {
    if (ring_) {
        removeGraph(ring_);
        ring_ = nullptr;
    }
    selected_ = name;
    auto it = std::find_if(plotted_.begin(), plotted_.end(),
                           [&](const Plotted& p) { return p.name == name; });
    if (it == plotted_.end() || kind_ == ChartKind::BenchHistory) {
        replot(QCustomPlot::rpQueuedReplot);
        return false;
    }
    ring_ = new QCPGraph(it->rect->axis(QCPAxis::atBottom), it->rect->axis(QCPAxis::atLeft));
    ring_->setLineStyle(QCPGraph::lsNone);
    ring_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(theme_.highlight, 2),
                                           Qt::NoBrush, kind_ == ChartKind::Timeline ? 0 : 16));
    if (kind_ == ChartKind::Timeline) {
        // A frame around the row instead of a ring.
        ring_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssNone));
        ring_->setLineStyle(QCPGraph::lsLine);
        ring_->setPen(QPen(theme_.highlight, 2));
        const QCPRange xr = it->rect->axis(QCPAxis::atBottom)->range();
        ring_->setData(QVector<double>{xr.lower, xr.upper},
                       QVector<double>{it->y - 0.5, it->y - 0.5});
    } else {
        ring_->addData(it->x, it->y);
    }
    ring_->removeFromLegend();
    replot(QCustomPlot::rpQueuedReplot);
    return true;
}

std::vector<QRectF> ChipChart::chipLabelRects() const {
    std::vector<QRectF> out;
    for (const Plotted& p : plotted_)
        if (p.label && p.label->visible())
            out.push_back(
                QRectF(p.label->topLeft->pixelPosition(), p.label->bottomRight->pixelPosition())
                    .normalized());
    return out;
}

QString ChipChart::toolTipFor(const QString& chip) const {
    for (const Plotted& p : plotted_)
        if (p.name == chip)
            return p.tooltip;
    return QString();
}

void ChipChart::mousePressEvent(QMouseEvent* event) {
    pressPosition_ = event->pos();
    QCustomPlot::mousePressEvent(event);
}

void ChipChart::mouseReleaseEvent(QMouseEvent* event) {
    QCustomPlot::mouseReleaseEvent(event);
    if (event->button() != Qt::LeftButton ||
        (event->pos() - pressPosition_).manhattanLength() > kClickSlopPixels)
        return;
    const QString name = chipAt(event->position());
    if (name.isEmpty())
        return;
    selectChip(name);
    Q_EMIT chipClicked(name);
}

void ChipChart::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    if (event->buttons() != Qt::NoButton)
        return;
    const QString name = chipAt(event->position());
    if (name.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), toolTipFor(name), this);
}

} // namespace crossroads::charts
