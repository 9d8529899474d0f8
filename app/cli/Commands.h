// One function per subcommand. Each parses its own options (QCommandLineParser), prints to
// stdout, reports errors by throwing UsageFailure (exit 2) or std::exception (exit 1).
#pragma once

#include <QString>
#include <QStringList>
#include <stdexcept>

namespace crossroads::cli {

class UsageFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Command {
    const char* name;
    const char* summary;
    int (*run)(const QStringList& arguments, const QString& storePath);
};

// Every verb, in the order `crossroads --help` lists them.
const std::vector<Command>& commands();

} // namespace crossroads::cli
