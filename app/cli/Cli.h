// Entry of the headless command line: `crossroads [--db PATH] VERB [options]`.
#pragma once

#include <QStringList>

namespace crossroads::cli {

enum ExitCode { Ok = 0, RuntimeError = 1, UsageError = 2 };

// True when the arguments name a subcommand (or ask for --help/--version): the app then runs
// headless instead of opening the workbench.
bool wantsCommandLine(const QStringList& arguments);

// True when the verb draws with Qt Widgets (chart, report): main() then makes a QApplication,
// on the offscreen platform when there is no display.
bool needsWidgets(const QStringList& arguments);

// The --db value given anywhere on the line, or the default store path.
QString storePath(const QStringList& arguments);

// Runs the subcommand; prints tables for people or JSON for tools on stdout and one clear line
// per error on stderr. Returns an ExitCode.
int run(const QStringList& arguments);

} // namespace crossroads::cli
