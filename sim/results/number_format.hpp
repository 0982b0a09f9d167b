// Locale-independent number formatting shared by the text writers (a global locale set by someone else
// must never turn "1.5" into "1,5" inside a CSV or JSON file).
#pragma once

#include <string>

namespace hgca {

// Fixed notation with `decimals` digits after the point ("nan", "inf", "-inf" for non-finite values).
std::string format_fixed(double value, int decimals);

// Shortest text that reads back to exactly the same double.
std::string format_shortest(double value);

}  // namespace hgca
