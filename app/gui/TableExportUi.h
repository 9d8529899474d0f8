// The window's face of table export (app/export): a save dialog offering CSV and XLSX that
// remembers its folder, one message box on failure, and an "Export table…" entry for a table
// view's context menu. What is written is the view's model as the view shows it (a proxy's
// filter and order included).
#pragma once

#include <QString>

class QAbstractItemModel;
class QAction;
class QTableView;
class QWidget;

namespace crossroads::gui {

// Writes `model` to `path` (CSV or XLSX by the extension; numbers at NumberRole go in as
// numbers). On failure shows one message naming the file and the problem and returns false.
bool exportTableTo(QWidget* parent, const QAbstractItemModel& model, const QString& path,
                   const QString& sheetName);

// Asks where to save (suggesting `baseName`.csv in the last folder used), then exportTableTo.
// Returns the path written; empty when cancelled or failed.
QString exportTableWithDialog(QWidget* parent, const QAbstractItemModel& model,
                              const QString& baseName, const QString& sheetName);

// An "Export table…" action on `view`'s context menu (and returned, for buttons and menus) that
// exports the view's model.
QAction* addExportToContextMenu(QTableView* view, const QString& baseName,
                                const QString& sheetName);

} // namespace crossroads::gui
