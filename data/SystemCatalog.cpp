#include "data/SystemCatalog.h"

#include "data/Store.h"

#include <QFile>

namespace crossroads::data {

std::vector<analysis::SystemDefinition> bundledSystems() {
    QFile file(QStringLiteral(":/seed/systems.json"));
    if (!file.open(QIODevice::ReadOnly))
        throw StoreError("the bundled dataset is missing :/seed/systems.json (was crossroads_data "
                         "linked with its resources?)");
    try {
        return analysis::systemDefinitionsFromJsonText(file.readAll().toStdString());
    } catch (const std::exception& e) {
        throw StoreError(std::string("the bundled systems are broken: ") + e.what());
    }
}

} // namespace crossroads::data
