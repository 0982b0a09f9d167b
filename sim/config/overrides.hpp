// --set overrides: "key.path=value", the value read as YAML (a scalar or a flow node). Internal to sim/config/.
#pragma once

#include <string>
#include <vector>

#include "sim/config/node.hpp"

namespace hgca::cfg {

struct Override {
  std::vector<std::string> path;  // split key path
  std::string key;                // as written, for messages
  Node value;                     // every node's origin names this --set
};

// Throws ConfigError for text without '=' or with an empty key path segment.
std::vector<Override> parse_overrides(const std::vector<std::string>& texts);

}  // namespace hgca::cfg
