// crossroads: with a verb it runs headless (app/cli); without one it opens the workbench.
#include "app/cli/Cli.h"
#include "app/gui/Workbench.h"

#include <QApplication>
#include <QCoreApplication>

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
    QApplication app(argc, argv);
    nameApplication();
    return crossroads::gui::runWorkbench(app, crossroads::cli::storePath(arguments));
}
