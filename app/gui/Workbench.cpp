#include "app/gui/Workbench.h"

#include "app/gui/MainWindow.h"
#include "data/Store.h"

#include <QApplication>
#include <QMessageBox>
#include <exception>
#include <memory>

namespace crossroads::gui {

int runWorkbench(QApplication& app, const QString& dbPath) {
    std::unique_ptr<data::Store> store;
    std::unique_ptr<MainWindow> window;
    try {
        store = std::make_unique<data::Store>(dbPath);
        window = std::make_unique<MainWindow>(*store);
    } catch (const data::StoreError& e) {
        QMessageBox::critical(
            nullptr, QStringLiteral("Crossroads"),
            QStringLiteral("Cannot open the store:\n%1").arg(QString::fromUtf8(e.what())));
        return 1;
    } catch (const std::exception& e) {
        // A malformed edition or chip in the store: same outcome, a message and exit code 1.
        QMessageBox::critical(nullptr, QStringLiteral("Crossroads"),
                              QStringLiteral("Cannot load the store %1:\n%2")
                                  .arg(dbPath, QString::fromUtf8(e.what())));
        return 1;
    }
    window->show();
    const int code = app.exec();
    // The window goes before the store it was read from.
    window.reset();
    return code;
}

} // namespace crossroads::gui
