// The bundled example systems (data/seed/systems.json): DGX H100 = 8 x H100 SXM5, HGX H20 =
// 8 x H20, ..., read at use like the bibliography and the aliases (reference data that ships
// with the app, not a table).
#pragma once

#include "analysis/Systems.h"

#include <vector>

namespace crossroads::data {

// Throws StoreError (data/Store.h) when the bundle is missing or broken.
std::vector<analysis::SystemDefinition> bundledSystems();

} // namespace crossroads::data
