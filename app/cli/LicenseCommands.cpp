#include "app/cli/LicenseCommands.h"

#include "analysis/Countries.h"
#include "analysis/License.h"
#include "app/cli/Commands.h"
#include "app/cli/ScenarioCommands.h"
#include "data/Store.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>

namespace crossroads::cli {

namespace {

using nlohmann::json;

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

QString answer(const analysis::LicenseResult& r) {
    if (!r.license_required)
        return QStringLiteral("licence requirement undetermined");
    if (!*r.license_required)
        return QStringLiteral("no licence required");
    return QStringLiteral("licence required") +
           (r.review_policy ? QStringLiteral(" (%1)").arg(q(*r.review_policy)) : QString());
}

} // namespace

int licenseCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption chip(QStringLiteral("chip"),
                                  QStringLiteral("A chip of the store, by name (repeatable)."),
                                  QStringLiteral("NAME"));
    const QCommandLineOption destination(
        QStringLiteral("destination"),
        QStringLiteral("Destination country, ISO 3166-1 alpha-2 (DE, CN, AE)."),
        QStringLiteral("CC"));
    const QCommandLineOption headquarters(
        QStringLiteral("headquarters"),
        QStringLiteral("Country of the buyer's (or its ultimate parent's) headquarters; default: "
                       "taken as the destination, which the result says."),
        QStringLiteral("CC"));
    const QCommandLineOption edition(QStringLiteral("edition"),
                                     QStringLiteral("Edition id (default: the newest in force)."),
                                     QStringLiteral("ID"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print JSON for tools."));
    parser.addOptions({chip, destination, headquarters, edition, jsonOption});
    if (!parseVerb(parser, arguments,
                   "Does shipping these chips to a destination need a licence under an edition? "
                   "With the basis (cited), the review policy, the licence exceptions open and "
                   "the restrictions outside 3A090."))
        return 0;
    if (!parser.isSet(chip))
        throw UsageFailure("license needs --chip NAME (repeatable)");
    if (!parser.isSet(destination))
        throw UsageFailure("license needs --destination CC (ISO 3166-1 alpha-2)");
    analysis::LicenseQuery query;
    query.destination = countryOption(parser, destination, "destination");
    if (parser.isSet(headquarters))
        query.headquarters = countryOption(parser, headquarters, "headquarters");

    data::Store store(storePath);
    const auto editions = store.editions();
    const analysis::Edition& chosen = chooseEdition(editions, parser.value(edition));
    std::vector<analysis::LicenseResult> results;
    for (const QString& name : parser.values(chip)) {
        auto c = chipUnder(store, chosen, name); // a scenario's hypothetical chips too
        if (!c)
            throw std::runtime_error(noSuchChipMessage(chosen, name));
        results.push_back(analysis::determineLicense(*c, chosen, query));
    }

    if (parser.isSet(jsonOption)) {
        json out = {{"edition", chosen.id},
                    {"destination", query.destination},
                    {"headquarters", query.headquarters ? json(*query.headquarters) : json()},
                    {"results", json::array()}};
        markScenario(out, chosen);
        for (const analysis::LicenseResult& r : results) {
            out["results"].push_back(analysis::licenseResultToJson(r));
            markHypothetical(out["results"].back(), chosen, r.chip_name);
        }
        print(q(out.dump(2)) + QLatin1Char('\n'));
        return 0;
    }
    QString text = QStringLiteral("Edition %1 (%2, %3); destination %4 (%5)")
                       .arg(q(chosen.id), q(chosen.citation.text), q(chosen.status),
                            q(query.destination), q(analysis::countryName(query.destination)));
    if (query.headquarters)
        text += QStringLiteral("; buyer headquartered in %1 (%2)")
                    .arg(q(*query.headquarters), q(analysis::countryName(*query.headquarters)));
    text += QStringLiteral("\n");
    for (const analysis::LicenseResult& r : results) {
        text += QStringLiteral("\n%1: %2\n").arg(q(r.chip_name), answer(r));
        for (const std::string& line : r.basis)
            text += QStringLiteral("  %1\n").arg(q(line));
        for (const std::string& line : r.review_conditions)
            text += QStringLiteral("  condition: %1\n").arg(q(line));
        for (const analysis::AvailableException& x : r.license_exceptions) {
            text += QStringLiteral("  License Exception %1: %2 (%3 [%4])\n")
                        .arg(q(x.id), q(x.summary), q(x.citation.text), q(x.citation.evidence));
            for (const std::string& c : x.conditions)
                text += QStringLiteral("    - %1\n").arg(q(c));
        }
        for (const std::string& line : r.other_restrictions)
            text += QStringLiteral("  also: %1\n").arg(q(line));
        if (!r.undetermined.empty()) {
            QStringList missing;
            for (const std::string& u : r.undetermined)
                missing << q(u);
            text += QStringLiteral("  undetermined: %1\n").arg(missing.join(QStringLiteral(", ")));
        }
    }
    print(text);
    return 0;
}

} // namespace crossroads::cli
