// crossroads: with a verb it runs headless (app/cli); without one it opens the workbench.
#include "app/cli/Cli.h"
#include "app/gui/Workbench.h"

#include <QApplication>
#include <QCoreApplication>

#include <cstdio>

namespace {
void nameApplication() {
    QCoreApplication::setOrganizationName(QStringLiteral("Crossroads"));
    QCoreApplication::setApplicationName(QStringLiteral("crossroads"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CROSSROADS_VERSION));
}
} // namespace

int main(int argc, char** argv) {
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    if (crossroads::cli::wantsCommandLine(arguments)) {
        QCoreApplication app(argc, argv);
        nameApplication();
        return crossroads::cli::run(QCoreApplication::arguments());
    }
    // Without a display Qt aborts with a page of plugin messages: say it in one line instead.
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        std::fputs(
            "crossroads: no display to open the workbench on (DISPLAY is not set); run it in "
            "a desktop session, or give a verb (crossroads --help)\n",
            stderr);
        return crossroads::cli::RuntimeError;
    }
    QApplication app(argc, argv);
    nameApplication();
    return crossroads::gui::runWorkbench(app, crossroads::cli::storePath(arguments));
}
