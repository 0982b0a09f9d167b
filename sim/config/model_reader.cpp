#include "sim/config/map_reader.hpp"
#include "sim/config/names.hpp"
#include "sim/config/readers.hpp"

namespace hgca::cfg {
namespace {

int count(const MapReader& r, std::string_view key, std::string_view example) {
  const int value = r.small_integer(key);
  r.check(value >= 1, key, "must be at least 1, got " + std::to_string(value), example);
  return value;
}

// Reads a dtype name and returns it with its size in bytes per element.
std::pair<std::string, double> dtype(const MapReader& r, std::string_view key) {
  std::vector<std::string> names;
  for (const auto& [name, bytes] : kDtypeBytes) names.emplace_back(name);
  const std::string name = r.text(key, "bf16");
  for (const auto& [known, bytes] : kDtypeBytes)
    if (known == name) return {name, bytes};
  const std::string near = closest(name, names);
  r.fail(key, "unknown dtype " + quote(name) + (near.empty() ? "" : " (did you mean " + quote(near) + "?)"),
         "one of " + join(names));
}

}  // namespace

ModelShape read_model(const Node& doc, const std::string& path, const std::string& default_name) {
  const MapReader r(doc, path,
                    {"name", "source", "layers", "q_heads", "kv_heads", "head_dim", "hidden", "intermediate", "vocab",
                     "gated_mlp", "tied_embeddings", "weight_dtype", "kv_dtype"});
  ModelShape m;
  m.name = r.text("name", default_name);
  m.source = r.text("source", "");
  m.layers = count(r, "layers", "a layer count such as 32");
  m.q_heads = count(r, "q_heads", "a head count such as 32");
  m.kv_heads = count(r, "kv_heads", "a head count such as 8");
  r.check(
      m.q_heads % m.kv_heads == 0, "kv_heads",
      "q_heads (" + std::to_string(m.q_heads) + ") is not a multiple of kv_heads (" + std::to_string(m.kv_heads) + ")",
      "a divisor of q_heads (grouped-query attention)");
  m.head_dim = count(r, "head_dim", "a size such as 128");
  m.hidden = count(r, "hidden", "a size such as 4096");
  m.intermediate = count(r, "intermediate", "a size such as 14336");
  m.vocab = count(r, "vocab", "a size such as 128256");
  m.gated_mlp = r.flag("gated_mlp", true);
  m.tied_embeddings = r.flag("tied_embeddings", false);
  std::tie(m.weight_dtype, m.weight_bytes_per_param) = dtype(r, "weight_dtype");
  std::tie(m.kv_dtype, m.kv_bytes_per_elem) = dtype(r, "kv_dtype");
  return m;
}

}  // namespace hgca::cfg
