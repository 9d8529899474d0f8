// Greedy placement of point labels that do not collide: with each other, with any point marker,
// or with reserved areas (zone labels, the legend), inside the plot's bounds. Each label tries
// positions around its point at growing distances (a leader line joins the far ones); the
// most crowded points are placed first. Pixel geometry only (QtCore types).
#pragma once

#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <vector>

namespace crossroads::charts {

struct LabelRequest {
    QPointF anchor; // the point, in pixels
    QSizeF size;    // the label's text box
};

struct LabelPlacement {
    QRectF rect;
    bool leader = false;  // far enough from its point to need a line
    bool overlaps = true; // no free position: the one overlapping least
};

// One placement per request, in the requests' order.
std::vector<LabelPlacement> placeLabels(const std::vector<LabelRequest>& requests,
                                        const QRectF& bounds, double markerRadius,
                                        const std::vector<QRectF>& reserved = {});

} // namespace crossroads::charts
