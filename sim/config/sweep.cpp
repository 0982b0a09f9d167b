#include "sim/config/sweep.hpp"

#include "sim/config/errors.hpp"
#include "sim/config/map_reader.hpp"

namespace hgca::cfg {
namespace {

constexpr size_t kMaxPoints = 100'000;

std::vector<SweepAxis> read_axes(const MapReader& sweep, std::string_view group) {
  std::vector<SweepAxis> axes;
  const Node* map = sweep.find(group);
  if (!map) return axes;
  const std::string group_path = sweep.key_path(group);
  const std::string expected = "a map of key paths to lists, e.g. {system.window: [1024, 2048]}";
  if (!map->is_map()) fail(map->origin, group_path, std::string("got ") + kind_name(map->kind), expected);
  for (const Node::Entry& e : map->entries) {
    const std::string path = group_path + "." + e.key;
    std::vector<std::string> parts = split_key_path(e.key);
    for (const std::string& part : parts)
      if (part.empty()) fail(e.key_origin, path, "malformed key path", "words joined by dots");
    if (parts.front() == "sweep") fail(e.key_origin, path, "a sweep cannot sweep itself", "a key path outside sweep");
    if (e.value.kind != Node::Kind::Sequence)
      fail(e.value.origin, path, std::string("got ") + kind_name(e.value.kind), "a list of values");
    if (e.value.items.empty()) fail(e.value.origin, path, "empty list", "at least one value");
    axes.push_back({std::move(parts), e.key, e.key_origin, e.value.items});
  }
  return axes;
}

}  // namespace

Sweep take_sweep(Node& doc) {
  Sweep sweep;
  if (!doc.is_map() || !doc.find("sweep")) return sweep;
  const Node node = *doc.find("sweep");
  doc.erase("sweep");
  const MapReader r(node, "sweep", {"product", "zip"});
  sweep.product = read_axes(r, "product");
  sweep.zip = read_axes(r, "zip");

  for (const SweepAxis& z : sweep.zip)
    if (z.values.size() != sweep.zip.front().values.size())
      fail(z.origin, "sweep.zip." + z.key,
           std::to_string(z.values.size()) + " values, but sweep.zip." + sweep.zip.front().key + " has " +
               std::to_string(sweep.zip.front().values.size()),
           "zip lists of equal length");

  std::vector<const SweepAxis*> all;
  for (const SweepAxis& a : sweep.product) all.push_back(&a);
  for (const SweepAxis& a : sweep.zip) all.push_back(&a);
  for (size_t i = 0; i < all.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (key_paths_overlap(all[i]->path, all[j]->path))
        fail(all[i]->origin, "sweep", quote(all[i]->key) + " overlaps " + quote(all[j]->key) + ", swept already",
             "each key swept once, and not inside another swept key");
  return sweep;
}

std::vector<SweepPoint> expand(const Sweep& sweep) {
  // Dimensions from outermost to innermost; the zip lists move together as the last one.
  std::vector<size_t> sizes;
  for (const SweepAxis& a : sweep.product) sizes.push_back(a.values.size());
  if (!sweep.zip.empty()) sizes.push_back(sweep.zip.front().values.size());
  size_t total = 1;
  for (size_t n : sizes) {
    if (total > kMaxPoints / n)
      fail(sweep.product.empty() ? sweep.zip.front().origin : sweep.product.front().origin, "sweep",
           "more than " + std::to_string(kMaxPoints) + " points", "a smaller sweep");
    total *= n;
  }

  std::vector<SweepPoint> points;
  std::vector<size_t> index(sizes.size(), 0);
  for (size_t p = 0; p < total; ++p) {
    SweepPoint point;
    std::vector<std::string> words;
    auto add = [&](const SweepAxis& axis, size_t i) {
      point.values.emplace_back(&axis, &axis.values[i]);
      words.push_back(axis.key + "=" + axis.values[i].flow());
    };
    for (size_t d = 0; d < sweep.product.size(); ++d) add(sweep.product[d], index[d]);
    for (const SweepAxis& z : sweep.zip) add(z, index.back());
    point.label = join(words, " ");
    points.push_back(std::move(point));
    // Advance the mixed-radix counter, innermost dimension fastest.
    for (size_t d = sizes.size(); d-- > 0;) {
      if (++index[d] < sizes[d]) break;
      index[d] = 0;
    }
  }
  return points;
}

void apply_point(const SweepPoint& point, Node& doc) {
  for (const auto& [axis, value] : point.values) set_at_path(doc, axis->path, *value);
}

}  // namespace hgca::cfg
