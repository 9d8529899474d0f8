// The destination choices of the window (the toolbar's licence destination, the report dialog):
// "None" (empty data), the usual destinations of AI-chip questions first, then every ISO 3166-1
// alpha-2 country by name. Item data: the code.
#pragma once

class QComboBox;

namespace crossroads::gui {

void fillDestinationChoices(QComboBox* combo);

} // namespace crossroads::gui
