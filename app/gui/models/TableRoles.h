// The role at which the workbench's table models give a cell's value as a number (an int or a
// double; invalid when the cell is not a known figure), so that an export writes the number
// itself instead of its display text ("15,832", "unknown"). Far above the roles each model
// numbers from Qt::UserRole + 1.
#pragma once

#include <Qt>

namespace crossroads::gui {

inline constexpr int NumberRole = Qt::UserRole + 0x100;

} // namespace crossroads::gui
