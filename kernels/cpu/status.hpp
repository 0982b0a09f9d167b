// Result of a kernel launcher. Shape and range checks happen once, at the public entry points, and are
// reported here; the inner kernels assume valid arguments and never check again.
#pragma once

#include <string>
#include <utility>

namespace hgca::kernels {

enum class StatusCode { ok, invalid_argument, unsupported };

struct Status {
  StatusCode code = StatusCode::ok;
  std::string message;

  bool ok() const { return code == StatusCode::ok; }
  static Status success() { return {}; }
  static Status invalid(std::string why) { return {StatusCode::invalid_argument, std::move(why)}; }
  static Status unsupported(std::string why) { return {StatusCode::unsupported, std::move(why)}; }
};

}  // namespace hgca::kernels
