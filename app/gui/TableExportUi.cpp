#include "app/gui/TableExportUi.h"

#include "app/export/TableExport.h"
#include "app/gui/models/TableRoles.h"

#include <QAction>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QMainWindow>
#include <QMessageBox>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <memory>

namespace crossroads::gui {

namespace {

const QString kCsvFilter = QStringLiteral("CSV (*.csv)");
const QString kXlsxFilter = QStringLiteral("Excel workbook (*.xlsx)");

std::unique_ptr<QSettings> settings() {
    if (QCoreApplication::organizationName().isEmpty())
        return std::make_unique<QSettings>(QStringLiteral("Crossroads"),
                                           QStringLiteral("crossroads"));
    return std::make_unique<QSettings>();
}

QString lastFolder() {
    const QString saved = settings()->value(QStringLiteral("export/folder")).toString();
    if (!saved.isEmpty() && QDir(saved).exists())
        return saved;
    return QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
}

} // namespace

bool exportTableTo(QWidget* parent, const QAbstractItemModel& model, const QString& path,
                   const QString& sheetName) {
    exporting::TableExportOptions options;
    options.numberRole = NumberRole;
    options.sheetName = sheetName;
    try {
        QGuiApplication::setOverrideCursor(Qt::WaitCursor);
        exporting::exportTable(model, path, options);
        QGuiApplication::restoreOverrideCursor();
    } catch (const std::exception& e) {
        QGuiApplication::restoreOverrideCursor();
        QMessageBox::warning(parent, QStringLiteral("Export table"), QString::fromUtf8(e.what()));
        return false;
    }
    // The window's status bar, when there is one, says where the table went.
    for (QWidget* w = parent; w; w = w->parentWidget())
        if (auto* window = qobject_cast<QMainWindow*>(w)) {
            window->statusBar()->showMessage(
                QStringLiteral("Exported %1 rows to %2").arg(model.rowCount()).arg(path), 8000);
            break;
        }
    return true;
}

QString exportTableWithDialog(QWidget* parent, const QAbstractItemModel& model,
                              const QString& baseName, const QString& sheetName) {
    QString filter = kCsvFilter;
    const QString suggested = QDir(lastFolder()).filePath(baseName + QStringLiteral(".csv"));
    QString path =
        QFileDialog::getSaveFileName(parent, QStringLiteral("Export table"), suggested,
                                     kCsvFilter + QStringLiteral(";;") + kXlsxFilter, &filter);
    if (path.isEmpty())
        return {};
    // A name typed without an extension takes the chosen filter's.
    if (!exporting::tableFormatForPath(path))
        path += filter == kXlsxFilter ? QStringLiteral(".xlsx") : QStringLiteral(".csv");
    settings()->setValue(QStringLiteral("export/folder"), QFileInfo(path).absolutePath());
    return exportTableTo(parent, model, path, sheetName) ? path : QString();
}

QAction* addExportToContextMenu(QTableView* view, const QString& baseName,
                                const QString& sheetName) {
    auto* action = new QAction(QStringLiteral("Export table…"), view);
    action->setObjectName(QStringLiteral("exportTableAction"));
    action->setToolTip(QStringLiteral("Save this table, as shown, as CSV or XLSX"));
    QObject::connect(action, &QAction::triggered, view, [view, baseName, sheetName] {
        if (view->model())
            exportTableWithDialog(view, *view->model(), baseName, sheetName);
    });
    view->setContextMenuPolicy(Qt::ActionsContextMenu);
    view->addAction(action);
    return action;
}

} // namespace crossroads::gui
