// A parsed policy spec "name:key=value,key=value" with checked getters. Every error is one line naming the
// whole spec, the key and what was expected (std::invalid_argument). Internal to traces/policies.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>

namespace hgca::traces::detail {

class SpecArgs {
 public:
  explicit SpecArgs(const std::string& spec);

  const std::string& name() const { return name_; }
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  // A number in [lo, hi] (lo excluded when lo_open). The key must be present.
  double number(const std::string& key, double lo, double hi, bool lo_open = false) const;
  // An integer in [lo, hi].
  std::int64_t integer(const std::string& key, std::int64_t lo, std::int64_t hi) const;
  // One of the given words.
  std::string word(const std::string& key, std::initializer_list<const char*> allowed) const;

  // Rejects any key not in `accepted` (call after reading the keys).
  void only(std::initializer_list<const char*> accepted) const;
  [[noreturn]] void fail(const std::string& why) const;

 private:
  const std::string& raw(const std::string& key) const;
  std::string spec_;
  std::string name_;
  std::map<std::string, std::string> values_;
};

// Shortest decimal text that reads back to the same double ("0.02", "1e-05", "256").
std::string format_number(double v);

}  // namespace hgca::traces::detail
