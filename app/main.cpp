// crossroads: with a verb it runs headless (app/cli); without one it opens the workbench.
#include "app/cli/Cli.h"
#include "app/gui/Workbench.h"

#include <QApplication>
#include <QCoreApplication>

#include <cstdio>

namespace {

QtMessageHandler qtDefaultHandler = nullptr;

// Headless verbs keep stderr to their one line per error: Qt's note that XDG_RUNTIME_DIR is
// unset (usual on servers and in CI, and harmless off screen) is dropped; all else passes.
void quietHeadlessMessages(QtMsgType type, const QMessageLogContext& context,
                           const QString& message) {
    if (type == QtWarningMsg && message.contains(QLatin1String("XDG_RUNTIME_DIR")))
        return;
    qtDefaultHandler(type, context, message);
}

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
        if (crossroads::cli::needsWidgets(arguments)) {
            // Charts and reports draw with widgets, on screen or not: off screen without one.
            if (qEnvironmentVariableIsEmpty("DISPLAY") &&
                qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
                qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
                qputenv("QT_QPA_PLATFORM", "offscreen");
            qtDefaultHandler = qInstallMessageHandler(quietHeadlessMessages);
            QApplication app(argc, argv);
            nameApplication();
            return crossroads::cli::run(QApplication::arguments());
        }
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
