// The one exception the configuration layer throws. what() is a single line shaped
// "FILE:LINE: key.path: problem; expected …" (or "--set key.path: …" for a value given on the command line).
#pragma once

#include <stdexcept>

namespace hgca {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace hgca
