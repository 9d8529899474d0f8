// One function per subcommand. Each parses its own options (QCommandLineParser), prints to
// stdout, reports errors by throwing UsageFailure (exit 2) or std::exception (exit 1).
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"

#include <QCommandLineParser>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace crossroads::data {
class Store;
}

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
    // Draws with Qt Widgets (charts, reports): runs under a QApplication, off screen when there
    // is no display.
    bool widgets = false;
};

// The edition `requested` names (empty: the newest in force), as `classify --edition` picks it;
// an unknown id throws UsageFailure naming the known ones. For verbs in other files.
const analysis::Edition& chooseEdition(const std::vector<analysis::Edition>& editions,
                                       const QString& requested);

// The integer value of `option`, or `fallback` when it is not given; a value that is not an
// integer, or is below `minimum`, throws UsageFailure naming the option ("--batch needs a
// positive integer, not \"x\"").
int64_t integerOption(const QCommandLineParser& parser, const QCommandLineOption& option,
                      int64_t fallback, int64_t minimum);

// An ISO 3166-1 alpha-2 code from the command line ("de" is read as "DE"); an unknown one throws
// UsageFailure naming it and the option (`name`, without the dashes).
std::string countryOption(const QCommandLineParser& parser, const QCommandLineOption& option,
                          const char* name);

// The store's chips named by --chip options, in order; an unknown name throws std::runtime_error
// naming it (exit 1).
std::vector<analysis::ChipSpec> chipsNamed(const data::Store& store, const QStringList& names);

// Every verb, in the order `crossroads --help` lists them.
const std::vector<Command>& commands();

} // namespace crossroads::cli
