#include "app/charts/LabelPlacer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>

namespace crossroads::charts {

namespace {

constexpr double kGap = 1.5;                // free space kept around a label
constexpr double kLeaderFromPixels = 12.0;  // beyond this distance a line joins label and point
constexpr double kCrowdRadiusPixels = 60.0; // neighbours within it make a point crowded
constexpr int kDirections = 16;
constexpr double kRadii[] = {3, 9, 16, 26, 38, 54, 74, 100, 130, 170, 220};

QRectF rectAt(const QPointF& anchor, double radius, double angle, const QSizeF& size) {
    const double c = std::cos(angle), s = std::sin(angle);
    const QPointF p = anchor + QPointF(radius * c, radius * s);
    QRectF r(QPointF(0, 0), size);
    if (c > 0.38)
        r.moveLeft(p.x());
    else if (c < -0.38)
        r.moveRight(p.x());
    else
        r.moveLeft(p.x() - size.width() / 2);
    if (s > 0.38)
        r.moveTop(p.y());
    else if (s < -0.38)
        r.moveBottom(p.y());
    else
        r.moveTop(p.y() - size.height() / 2);
    return r;
}

double overlapArea(const QRectF& a, const QRectF& b) {
    const QRectF i = a.intersected(b);
    return i.isValid() ? i.width() * i.height() : 0.0;
}

} // namespace

std::vector<LabelPlacement> placeLabels(const std::vector<LabelRequest>& requests,
                                        const QRectF& bounds, double markerRadius,
                                        const std::vector<QRectF>& reserved) {
    const size_t n = requests.size();
    std::vector<QRectF> markers;
    markers.reserve(n);
    for (const LabelRequest& r : requests)
        markers.emplace_back(r.anchor.x() - markerRadius, r.anchor.y() - markerRadius,
                             2 * markerRadius, 2 * markerRadius);

    // Most crowded first: they have the fewest free positions.
    std::vector<int> crowd(n, 0);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j)
            if (i != j &&
                std::hypot(requests[i].anchor.x() - requests[j].anchor.x(),
                           requests[i].anchor.y() - requests[j].anchor.y()) < kCrowdRadiusPixels)
                ++crowd[i];
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return crowd[a] > crowd[b]; });

    std::vector<LabelPlacement> out(n);
    std::vector<QRectF> placed = reserved;
    for (size_t index : order) {
        const LabelRequest& req = requests[index];
        double bestCost = std::numeric_limits<double>::infinity();
        QRectF best;
        double bestRadius = 0;
        bool free = false;
        for (double step : kRadii) {
            const double radius = markerRadius + step;
            for (int d = 0; d < kDirections && !free; ++d) {
                // Right, left, up, down first, then the diagonals and the rest.
                static constexpr int kOrder[kDirections] = {0,  8, 12, 4, 14, 2,  10, 6,
                                                            15, 1, 7,  9, 13, 11, 3,  5};
                const double angle = 2 * std::numbers::pi * kOrder[d] / kDirections;
                const QRectF r = rectAt(req.anchor, radius, angle, req.size);
                const QRectF padded = r.adjusted(-kGap, -kGap, kGap, kGap);
                double cost = 0;
                if (!bounds.contains(r))
                    cost += 1e6 + r.width() * r.height() - overlapArea(r, bounds);
                for (const QRectF& other : placed)
                    cost += overlapArea(padded, other);
                for (size_t m = 0; m < n; ++m)
                    cost += overlapArea(padded, markers[m]);
                if (cost == 0) {
                    best = r;
                    bestRadius = radius;
                    free = true;
                } else if (cost + radius < bestCost) {
                    bestCost = cost + radius;
                    best = r;
                    bestRadius = radius;
                }
            }
            if (free)
                break;
        }
        out[index] = {best, bestRadius - markerRadius > kLeaderFromPixels, !free};
        placed.push_back(best.adjusted(-kGap, -kGap, kGap, kGap));
    }
    return out;
}

} // namespace crossroads::charts
