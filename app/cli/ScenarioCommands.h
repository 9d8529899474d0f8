// `crossroads scenario new|list|show|delete` (editions of the analyst's, analysis/Scenario.h),
// and what the verbs that take an edition id need to take a scenario's name as well.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"

#include <nlohmann/json_fwd.hpp>

#include <QString>
#include <QStringList>
#include <optional>

namespace crossroads::data {
class Store;
}

namespace crossroads::cli {

int scenarioCommand(const QStringList& arguments, const QString& storePath);

// The chip `name` of the store or, when `edition` is a scenario, one of its hypothetical chips
// (case-insensitive); nullopt when neither has it.
std::optional<analysis::ChipSpec> chipUnder(const data::Store& store,
                                            const analysis::Edition& edition, const QString& name);
// "no chip named \"X\" in the store (crossroads chips lists them)", naming the scenario's
// hypothetical chips too when `edition` is a scenario.
std::string noSuchChipMessage(const analysis::Edition& edition, const QString& name);
// A verb's JSON says "scenario": true and its "base" when the edition is a scenario.
void markScenario(nlohmann::json& out, const analysis::Edition& edition);
// A result object whose chip exists only in the scenario says "hypothetical": true.
void markHypothetical(nlohmann::json& result, const analysis::Edition& edition,
                      const std::string& chip);

} // namespace crossroads::cli
