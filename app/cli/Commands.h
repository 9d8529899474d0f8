// One function per subcommand. Each parses its own options (QCommandLineParser), prints to
// stdout, reports errors by throwing UsageFailure (exit 2) or std::exception (exit 1).
#pragma once

#include <QCommandLineParser>
#include <QString>
#include <QStringList>
#include <stdexcept>
#include <vector>

namespace crossroads::cli {

class UsageFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Writes to stdout.
void print(const QString& text);

// Parses a verb's options with a --help option added; --help prints the verb's help and returns
// false. A parse error, or a positional argument when none is allowed, throws UsageFailure.
bool parseVerb(QCommandLineParser& parser, const QStringList& arguments, const char* description,
               bool positionalAllowed = false);

struct Command {
    const char* name;
    const char* summary;
    int (*run)(const QStringList& arguments, const QString& storePath);
};

// Every verb, in the order `crossroads --help` lists them.
const std::vector<Command>& commands();

} // namespace crossroads::cli
