// The one chart widget of Crossroads (QCustomPlot): it draws every chart kind from the same
// inputs for the window, the command line and the reports. Chip labels are placed after every
// layout (resize, zoom, pan, export at another size), so they never collide; hovering a chip
// shows its figures and class, clicking one emits chipClicked, and selectChip rings it.
#pragma once

#include "app/charts/ChartKind.h"
#include "app/charts/ChartTheme.h"

#include <qcustomplot.h>

#include <QPointF>
#include <QRectF>
#include <QString>
#include <QStringList>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace crossroads::charts {

class ChipChart : public QCustomPlot {
    Q_OBJECT

public:
    explicit ChipChart(QWidget* parent = nullptr);
    ~ChipChart() override;

    void setTheme(const ChartTheme& theme);
    const ChartTheme& theme() const { return theme_; }
    // Compact (the window's panel): the title only, no subtitle or footnote rows; the panel
    // shows those itself. Off by default (exports, reports).
    void setCompact(bool compact);

    // Draws `kind` anew. Throws ChartError when the inputs cannot make it (unknown edition, no
    // benchmark results, no chip with the figures the kind plots); the chart is then empty.
    void showChart(ChartKind kind, const ChartInputs& inputs);
    ChartKind chartKind() const { return kind_; }
    QString chartTitle() const { return title_; }
    QString chartSubtitle() const { return subtitle_; }

    // The chips drawn, in the order drawn; chips whose figures the kind lacks are named in the
    // footnote instead.
    QStringList plottedChips() const;
    QString footnote() const { return footnote_; }
    // The chip under a pixel (within a few pixels of its marker), empty when none.
    QString chipAt(const QPointF& pixel) const;
    std::optional<QPointF> chipPixel(const QString& name) const;
    // Rings the chip; false when it is not drawn (the ring is then removed).
    bool selectChip(const QString& name);
    QString selectedChip() const { return selected_; }
    // The chip labels' boxes in pixels, as last laid out (tests check that none collide).
    std::vector<QRectF> chipLabelRects() const;
    QString toolTipFor(const QString& chip) const;

Q_SIGNALS:
    void chipClicked(const QString& name);

protected:
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    struct Plotted {
        QString name;
        double x = 0, y = 0;
        QCPAxisRect* rect = nullptr;
        QString tooltip;
        QCPItemText* label = nullptr;
        QCPItemLine* leader = nullptr;
    };

    void reset();
    void addTitle(const QString& title, const QString& subtitle);
    void addFootnote();
    QCPAxisRect* addAxisRect(); // in a new row under the others
    void styleAxisRect(QCPAxisRect* rect);
    QCPGraph* addPoints(QCPAxisRect* rect, const QColor& color, const QString& legendName);
    void addChipLabel(Plotted& p);
    // One chip's point, in the graph of its class on its rect (made on first use).
    void plotChip(Plotted p, const std::string& paragraph);
    // Names each class graph with its count, one legend entry per class, labels every chip.
    void finishChips(QCPLegend* legendBox);
    QCPItemText* addText(QCPAxisRect* rect, double x, double y, const QString& text,
                         const QColor& color, Qt::Alignment alignment, int pointSizeDelta = 0);
    QCPItemLine* addLine(QCPAxisRect* rect, double x1, double y1, double x2, double y2,
                         const QColor& color, Qt::PenStyle style);
    QCPItemRect* addRect(QCPAxisRect* rect, double x1, double y1, double x2, double y2,
                         const QBrush& brush, const QPen& pen);
    QCPLegend* addLegend(QCPAxisRect* rect, Qt::Alignment corner);

    void buildTppPlane(bool ioView, const ChartInputs& inputs);
    void buildBandwidthTpp(const ChartInputs& inputs);
    void buildTimeline(const ChartInputs& inputs);
    void buildBenchHistory(const ChartInputs& inputs);
    void buildCapability(const ChartInputs& inputs);

    void layoutChipLabels();
    QPointF pixelOf(const Plotted& p) const;

    ChartTheme theme_;
    ChartKind kind_ = ChartKind::TppPd;
    QString title_, subtitle_, footnote_;
    std::vector<Plotted> plotted_;
    std::vector<QCPItemText*> reservedTexts_; // zone and line labels the chip labels avoid
    // Lines from a chip to a marker of its own (the calibrated decode at the line's end) that the
    // chip labels avoid, with that marker.
    std::vector<QCPItemLine*> reservedLines_;
    std::vector<QCPLegend*> legends_;
    struct ClassGraph {
        int rank;
        QCPGraph* graph;
    };
    std::vector<ClassGraph> classGraphs_; // in the order made
    std::map<int, int> classCounts_;      // chips per class
    QString selected_;
    QCPGraph* ring_ = nullptr;
    QPoint pressPosition_;
    bool laying_ = false;
    bool compact_ = false;
};

} // namespace crossroads::charts
