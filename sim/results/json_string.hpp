// JSON string literals for the timeline writer.
#pragma once

#include <string>

namespace hgca {

// `text` as a quoted JSON string: '"' and '\' escaped, control characters as \n, \t, ... or \u00XX, valid
// UTF-8 passed through unchanged, and every byte that is not part of a valid UTF-8 sequence replaced by
// U+FFFD (written as \ufffd) so the output is always valid JSON.
std::string json_string(const std::string& text);

}  // namespace hgca
