#include "app/cli/Cli.h"

#include "app/cli/Commands.h"
#include "data/Store.h"

#include <QCoreApplication>
#include <QTextStream>

#include <exception>
#include <optional>

namespace crossroads::cli {

namespace {

// The command line with the global --db taken out (it may stand anywhere).
struct SplitArguments {
    std::optional<QString> db; // nullopt: not given
    bool dbWithoutPath = false;
    QStringList rest;    // everything else, the program name first
    qsizetype verb = -1; // index in `rest` of the first non-option, -1 when none
};

SplitArguments split(const QStringList& arguments) {
    SplitArguments out;
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString& a = arguments[i];
        if (i > 0 && a == QLatin1String("--db")) {
            if (i + 1 < arguments.size())
                out.db = arguments[++i];
            else
                out.dbWithoutPath = true;
        } else if (i > 0 && a.startsWith(QLatin1String("--db="))) {
            out.db = a.mid(5);
        } else {
            if (i > 0 && out.verb < 0 && !a.startsWith(QLatin1Char('-')))
                out.verb = out.rest.size();
            out.rest << a;
        }
    }
    return out;
}

void printHelp(QTextStream& out) {
    out << "Usage: crossroads [--db PATH] [VERB [options]]\n\n"
           "With no verb, opens the workbench. Verbs (crossroads VERB --help for options):\n";
    for (const Command& c : commands())
        out << "  " << QString::fromLatin1(c.name).leftJustified(10) << c.summary << '\n';
    out << "\n--db PATH selects a store (default: " << data::Store::defaultPath() << ").\n"
        << "Exit codes: 0 ok, 1 runtime error, 2 usage error.\n";
}

} // namespace

bool wantsCommandLine(const QStringList& arguments) {
    const SplitArguments a = split(arguments);
    if (a.verb > 0 || a.dbWithoutPath) // the latter so the usage error is reported
        return true;
    for (const QString& arg : a.rest.mid(1))
        if (arg == QLatin1String("--help") || arg == QLatin1String("-h") ||
            arg == QLatin1String("--version") || arg == QLatin1String("-v"))
            return true;
    return false;
}

bool needsWidgets(const QStringList& arguments) {
    const SplitArguments a = split(arguments);
    if (a.verb < 0)
        return false;
    for (const Command& c : commands())
        if (a.rest[a.verb] == QLatin1String(c.name))
            return c.widgets;
    return false;
}

QString storePath(const QStringList& arguments) {
    return split(arguments).db.value_or(data::Store::defaultPath());
}

int run(const QStringList& arguments) {
    QTextStream out(stdout);
    QTextStream err(stderr);
    const SplitArguments a = split(arguments);
    if (a.dbWithoutPath) {
        err << "crossroads: --db needs a path\n";
        return UsageError;
    }
    if (a.verb < 0) {
        if (a.rest.contains(QLatin1String("--version")) || a.rest.contains(QLatin1String("-v"))) {
            out << "crossroads " << QCoreApplication::applicationVersion() << '\n';
            return Ok;
        }
        printHelp(out);
        return Ok;
    }
    const QString verb = a.rest[a.verb];
    if (a.verb > 1) { // only --db may stand before the verb, and split() took it out
        err << "crossroads: unknown option " << a.rest[1] << " before " << verb << '\n';
        return UsageError;
    }
    for (const Command& c : commands()) {
        if (verb != QLatin1String(c.name))
            continue;
        // The verb's own parser sees "crossroads VERB options...".
        const QStringList own = QStringList{a.rest[0] + QLatin1Char(' ') + verb} + a.rest.mid(2);
        try {
            return c.run(own, a.db.value_or(data::Store::defaultPath()));
        } catch (const UsageFailure& e) {
            err << "crossroads " << verb << ": " << e.what() << '\n';
            return UsageError;
        } catch (const std::exception& e) {
            err << "crossroads " << verb << ": " << e.what() << '\n';
            return RuntimeError;
        }
    }
    err << "crossroads: unknown verb \"" << verb << "\" (crossroads --help lists them)\n";
    return UsageError;
}

} // namespace crossroads::cli
