#include <algorithm>

#include "sim/config/map_reader.hpp"
#include "sim/config/readers.hpp"

namespace hgca::cfg {
namespace {

int64_t tokens(const MapReader& r, std::string_view key, std::string_view example) {
  const int64_t value = r.integer(key);
  r.check(value >= 1, key, "must be at least 1, got " + std::to_string(value), example);
  return value;
}

std::vector<RequestSpec> read_requests(const Node& list, const std::string& path) {
  constexpr std::string_view expected = "a non-empty list of {prompt: tokens, decode: tokens}";
  if (list.kind != Node::Kind::Sequence) fail(list.origin, path, std::string("got ") + kind_name(list.kind), expected);
  if (list.items.empty()) fail(list.origin, path, "empty list", expected);
  std::vector<RequestSpec> requests;
  for (size_t i = 0; i < list.items.size(); ++i) {
    const MapReader r(list.items[i], path + "." + std::to_string(i), {"prompt", "decode"});
    requests.push_back(
        {tokens(r, "prompt", "a token count such as 1000"), tokens(r, "decode", "a token count such as 64")});
  }
  return requests;
}

}  // namespace

WorkloadSpec read_workload(const Node& node, const std::string& path) {
  const MapReader r(node, path, {"batch", "prompt", "decode", "requests", "prefill_chunk", "simulate_prefill"});
  WorkloadSpec w;
  if (const Node* list = r.find("requests")) {
    for (std::string_view key : {"batch", "prompt", "decode"})
      r.check(!r.has(key), key, "given together with " + r.key_path("requests"),
              "either requests or batch/prompt/decode, not both");
    w.requests = read_requests(*list, r.key_path("requests"));
    w.batch = int(w.requests.size());
    // prompt and decode hold the longest request, so "whole context" checks work for both forms.
    for (const RequestSpec& q : w.requests) {
      w.prompt = std::max(w.prompt, q.prompt);
      w.decode = std::max(w.decode, q.decode);
    }
  } else {
    w.batch = r.small_integer("batch", 1);
    r.check(w.batch >= 1, "batch", "must be at least 1, got " + std::to_string(w.batch), "a batch size such as 8");
    w.prompt = tokens(r, "prompt", "a token count such as 32768");
    w.decode = tokens(r, "decode", "a token count such as 64");
  }
  w.prefill_chunk = r.integer("prefill_chunk", 0);
  r.check(w.prefill_chunk >= 0, "prefill_chunk", "must not be negative, got " + std::to_string(w.prefill_chunk),
          "a token count, or 0 for the whole prompt at once");
  w.simulate_prefill = r.flag("simulate_prefill", true);
  return w;
}

}  // namespace hgca::cfg
