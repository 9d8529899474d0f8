#include "app/cli/Cli.h"

#include "app/cli/Commands.h"
#include "data/Store.h"

#include <QCoreApplication>
#include <QTextStream>

#include <exception>

namespace crossroads::cli {

namespace {

// The first argument that is neither an option nor the value of --db.
qsizetype verbIndex(const QStringList& arguments) {
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString& a = arguments[i];
        if (a == QLatin1String("--db")) {
            ++i;
            continue;
        }
        if (!a.startsWith(QLatin1Char('-')))
            return i;
    }
    return -1;
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
    if (verbIndex(arguments) > 0)
        return true;
    for (const QString& a : arguments.mid(1))
        if (a == QLatin1String("--help") || a == QLatin1String("-h") ||
            a == QLatin1String("--version") || a == QLatin1String("-v"))
            return true;
    return false;
}

QString storePath(const QStringList& arguments) {
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        if (arguments[i] == QLatin1String("--db") && i + 1 < arguments.size())
            return arguments[i + 1];
        if (arguments[i].startsWith(QLatin1String("--db=")))
            return arguments[i].mid(5);
    }
    return data::Store::defaultPath();
}

int run(const QStringList& arguments) {
    QTextStream out(stdout);
    QTextStream err(stderr);
    const qsizetype v = verbIndex(arguments);
    if (v < 0) {
        if (arguments.contains(QLatin1String("--version")) ||
            arguments.contains(QLatin1String("-v"))) {
            out << "crossroads " << QCoreApplication::applicationVersion() << '\n';
            return Ok;
        }
        printHelp(out);
        return Ok;
    }
    for (qsizetype i = 1; i < v; ++i) // only --db may stand before the verb
        if (arguments[i] != QLatin1String("--db") &&
            !arguments[i].startsWith(QLatin1String("--db=")) &&
            !(i > 1 && arguments[i - 1] == QLatin1String("--db"))) {
            err << "crossroads: unknown option " << arguments[i] << " before " << arguments[v]
                << '\n';
            return UsageError;
        }
    if (arguments.contains(QLatin1String("--db")) &&
        arguments.indexOf(QLatin1String("--db")) + 1 >= arguments.size()) {
        err << "crossroads: --db needs a path\n";
        return UsageError;
    }
    const QString verb = arguments[v];
    for (const Command& c : commands()) {
        if (verb != QLatin1String(c.name))
            continue;
        // The verb's own parser sees "crossroads VERB options..." without the global --db.
        QStringList own{arguments[0] + QLatin1Char(' ') + verb};
        for (qsizetype i = 1; i < arguments.size(); ++i) {
            if (i == v)
                continue;
            if (arguments[i] == QLatin1String("--db")) {
                ++i;
                continue;
            }
            if (arguments[i].startsWith(QLatin1String("--db=")))
                continue;
            own << arguments[i];
        }
        try {
            return c.run(own, storePath(arguments));
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
