// Builds the one-line ConfigError message "WHERE: key.path: problem; expected …". Internal to sim/config/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/config/config_error.hpp"
#include "sim/config/node.hpp"

namespace hgca::cfg {

[[noreturn]] void fail(const Origin& where, std::string_view key_path, std::string_view problem,
                       std::string_view expected = {});

// "'text'" with any line break flattened, for quoting user values in messages.
std::string quote(std::string_view text);

// The candidate closest to `word` by edit distance, or "" when none is reasonably close.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

std::string join(const std::vector<std::string>& words, std::string_view separator = ", ");

// open + text + close. (GCC 12 warns falsely, -Wrestrict, about "literal" + std::string at -O2.)
std::string enclose(std::string_view open, std::string_view text, std::string_view close);

}  // namespace hgca::cfg
