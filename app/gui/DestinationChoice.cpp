#include "app/gui/DestinationChoice.h"

#include "analysis/Countries.h"

#include <QComboBox>
#include <QString>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace crossroads::gui {

void fillDestinationChoices(QComboBox* combo) {
    combo->addItem(QStringLiteral("None"), QString());
    const auto label = [](const std::string& code) {
        return QStringLiteral("%1 (%2)").arg(QString::fromStdString(analysis::countryName(code)),
                                             QString::fromStdString(code));
    };
    for (const char* code : {"CN", "HK", "MO", "RU", "AE", "SA", "SG", "MY", "IN", "VN"})
        combo->addItem(label(code), QString::fromLatin1(code));
    combo->insertSeparator(combo->count());
    std::vector<std::pair<QString, QString>> everyCountry;
    for (const std::string& code : analysis::countryCodes())
        everyCountry.emplace_back(label(code), QString::fromStdString(code));
    std::sort(everyCountry.begin(), everyCountry.end());
    for (const auto& [text, code] : everyCountry)
        combo->addItem(text, code);
}

} // namespace crossroads::gui
