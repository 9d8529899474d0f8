// Loaders for the project's own reference files, shared by the tests: the bundled editions
// (data/seed/editions), the bundled chips (data/seed/chips.json) and the reference table
// (docs/reference/chips.csv) the expected outcomes come from.
#pragma once

#include "analysis/ChipJson.h"
#include "analysis/Edition.h"

#include <QDir>
#include <QFile>
#include <QString>
#include <QStringList>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace crossroads::testing {

inline QString sourcePath(const QString& relative) {
    return QStringLiteral(CROSSROADS_SOURCE_DIR) + QLatin1Char('/') + relative;
}

inline std::string readText(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot read " + path.toStdString());
    return f.readAll().toStdString();
}

inline std::vector<analysis::Edition> bundledEditions() {
    QDir dir(sourcePath(QStringLiteral("data/seed/editions")));
    std::vector<std::string> texts;
    for (const QString& name : dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name))
        texts.push_back(readText(dir.filePath(name)));
    return analysis::editionsFromJsonTexts(texts);
}

inline std::vector<analysis::ChipSpec> bundledChips() {
    return analysis::chipsFromJsonText(
        readText(sourcePath(QStringLiteral("data/seed/chips.json"))));
}

// One bundled chip by exact name, and one bundled edition by id (each set read once per test
// executable); a name or id the seed lacks throws naming it.
inline analysis::ChipSpec bundledChip(const std::string& name) {
    static const std::vector<analysis::ChipSpec> all = bundledChips();
    for (const analysis::ChipSpec& c : all)
        if (c.name == name)
            return c;
    throw std::runtime_error("no chip " + name);
}

inline const analysis::Edition& bundledEdition(const std::string& id) {
    static const std::vector<analysis::Edition> all = bundledEditions();
    const analysis::Edition* e = analysis::findEdition(all, id);
    if (!e)
        throw std::runtime_error("no edition " + id);
    return *e;
}

// RFC 4180 rows of a small CSV file (quoted fields with commas; no embedded newlines needed).
inline std::vector<std::map<QString, QString>> readCsv(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text))
        throw std::runtime_error("cannot read " + path.toStdString());
    auto split = [](const QString& line) {
        QStringList fields;
        QString field;
        bool quoted = false;
        for (qsizetype i = 0; i < line.size(); ++i) {
            const QChar c = line[i];
            if (quoted) {
                if (c == QLatin1Char('"') && i + 1 < line.size() && line[i + 1] == QLatin1Char('"'))
                    field += c, ++i;
                else if (c == QLatin1Char('"'))
                    quoted = false;
                else
                    field += c;
            } else if (c == QLatin1Char('"')) {
                quoted = true;
            } else if (c == QLatin1Char(',')) {
                fields << field;
                field.clear();
            } else {
                field += c;
            }
        }
        fields << field;
        return fields;
    };
    const QStringList header = split(QString::fromUtf8(f.readLine()).trimmed());
    std::vector<std::map<QString, QString>> rows;
    while (!f.atEnd()) {
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty())
            continue;
        const QStringList fields = split(line);
        std::map<QString, QString> row;
        for (qsizetype i = 0; i < header.size() && i < fields.size(); ++i)
            row[header[i]] = fields[i].trimmed();
        rows.push_back(std::move(row));
    }
    return rows;
}

} // namespace crossroads::testing
