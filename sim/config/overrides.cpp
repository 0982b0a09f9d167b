#include "sim/config/overrides.hpp"

#include "sim/config/errors.hpp"

namespace hgca::cfg {
namespace {

std::string trimmed(std::string s) {
  const size_t first = s.find_first_not_of(" \t");
  const size_t last = s.find_last_not_of(" \t");
  return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

}  // namespace

std::vector<Override> parse_overrides(const std::vector<std::string>& texts) {
  std::vector<Override> overrides;
  for (const std::string& text : texts) {
    const size_t eq = text.find('=');
    const std::string key = trimmed(text.substr(0, eq));
    const Origin origin{{}, 0, key.empty() ? text : key};
    if (eq == std::string::npos || key.empty())
      fail(origin, "", "malformed override " + quote(text), "key.path=value, e.g. system.window=2048");
    std::vector<std::string> path = split_key_path(key);
    for (const std::string& part : path)
      if (part.empty() || part.find_first_of(" \t") != std::string::npos)
        fail(origin, "", "malformed key path " + quote(key), "words joined by dots, e.g. system.selection.fraction");
    overrides.push_back({std::move(path), key, parse_text(text.substr(eq + 1), origin)});
  }
  return overrides;
}

}  // namespace hgca::cfg
