// The Qt Widgets workbench: the chip table under an edition, with the reasons.
#pragma once

#include <QString>

class QApplication;

namespace crossroads::gui {

// Opens the store at `dbPath` (an error is shown in a message box and returns 1), shows the main
// window and runs the event loop. Returns the application's exit code.
int runWorkbench(QApplication& app, const QString& dbPath);

} // namespace crossroads::gui
