// The crossroads binary run as tools run it, for the CLI tests (each test target defines
// CROSSROADS_BINARY): exit code, stdout and stderr of one run on a given store.
#pragma once

#include <nlohmann/json.hpp>

#include <QByteArray>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QtGlobal>

namespace crossroads::testing {

struct CliRun {
    int code = -1; // -1: crashed or timed out
    QByteArray out;
    QByteArray err;
};

inline CliRun
runCrossroads(const QString& db, const QStringList& arguments,
              const QProcessEnvironment& environment = QProcessEnvironment::systemEnvironment()) {
    QProcess p;
    p.setProcessEnvironment(environment);
    // An empty `db`: no --db (the default store, or --db among the arguments).
    p.start(QStringLiteral(CROSSROADS_BINARY),
            db.isEmpty() ? arguments : QStringList{QStringLiteral("--db"), db} + arguments);
    p.waitForFinished(120000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

// stdout parsed as JSON; a failed run warns with its stderr (the parse then fails the test).
inline nlohmann::json runCrossroadsJson(const QString& db, const QStringList& arguments) {
    const CliRun r = runCrossroads(db, arguments);
    if (r.code != 0)
        qWarning("stderr: %s", r.err.constData());
    return nlohmann::json::parse(r.out.toStdString(), nullptr, false);
}

} // namespace crossroads::testing
