#include "sim/config/loader.hpp"

#include <filesystem>

#include "sim/config/errors.hpp"
#include "sim/config/map_reader.hpp"
#include "sim/config/overrides.hpp"
#include "sim/config/readers.hpp"
#include "sim/config/references.hpp"
#include "sim/config/sweep.hpp"
#include "sim/config/yaml_writer.hpp"

namespace hgca {
namespace {

using cfg::Node;

// --set values may not touch the sweep, nor a key the sweep sets (one of them would silently lose).
void check_against_sweep(const cfg::Override& o, const cfg::Sweep& sweep) {
  if (o.path.front() == "sweep")
    cfg::fail(o.value.origin, "", "--set cannot change the sweep", "a key path outside sweep");
  for (const auto* axes : {&sweep.product, &sweep.zip})
    for (const cfg::SweepAxis& axis : *axes)
      if (cfg::key_paths_overlap(o.path, axis.path))
        cfg::fail(o.value.origin, "", "conflicts with the sweep over " + axis.key + " (" + axis.origin.where() + ")",
                  "either --set or the sweep for one key, not both");
}

Experiment read_point(const Node& doc, const std::string& file, const cfg::SearchPaths& paths) {
  const cfg::MapReader r(doc, "", {"name", "description", "hardware", "model", "seed", "workload", "system"});
  Experiment e;
  e.source_file = file;
  e.name = r.text("name", std::filesystem::path(file).stem().string());
  e.description = r.text("description", "");
  const int64_t seed = r.integer("seed", 1);
  r.check(seed >= 0, "seed", "must not be negative, got " + std::to_string(seed), "a whole number >= 0");
  e.seed = uint64_t(seed);

  if (!r.has("hardware")) r.fail("hardware", "missing required key", "a hardware profile name such as device-h100");
  cfg::ResolvedDocument hw = cfg::resolve_reference(*r.find("hardware"), cfg::RefKind::Hardware, "hardware", paths);
  e.hardware = cfg::read_hardware(hw.doc, "hardware", hw.default_name);

  if (!r.has("model")) r.fail("model", "missing required key", "a model name such as llama-3.1-8b");
  cfg::ResolvedDocument model = cfg::resolve_reference(*r.find("model"), cfg::RefKind::Model, "model", paths);
  e.model = cfg::read_model(model.doc, "model", model.default_name);

  if (!r.has("workload")) r.fail("workload", "missing required key", "a map with batch, prompt and decode");
  e.workload = cfg::read_workload(*r.find("workload"), "workload");
  Node no_system;  // an absent system block means every default
  no_system.kind = Node::Kind::Map;
  no_system.origin = doc.origin;
  const Node* system = r.find("system");
  e.system = cfg::read_system(system ? *system : no_system, "system", e.workload, e.hardware);
  return e;
}

template <class Read>
auto load_reference(const std::string& name_or_path, const LoadOptions& opts, cfg::RefKind kind, Read read) {
  const cfg::Node ref = cfg::scalar_node(name_or_path, cfg::Origin{});
  cfg::ResolvedDocument resolved = cfg::resolve_reference(ref, kind, "", cfg::SearchPaths{"", opts.config_dirs});
  for (cfg::Override& o : cfg::parse_overrides(opts.overrides))
    cfg::set_at_path(resolved.doc, o.path, std::move(o.value));
  return read(resolved.doc, "", resolved.default_name);
}

}  // namespace

std::vector<Experiment> load_experiment(const std::string& path, const LoadOptions& opts) {
  Node doc = cfg::parse_file(path);
  const std::string file = doc.origin.file;
  if (!doc.is_map())
    cfg::fail(doc.origin, "", std::string("the document is ") + cfg::kind_name(doc.kind),
              "a map with hardware, model, workload and system");
  const cfg::Sweep sweep = cfg::take_sweep(doc);
  for (cfg::Override& o : cfg::parse_overrides(opts.overrides)) {
    check_against_sweep(o, sweep);
    cfg::set_at_path(doc, o.path, std::move(o.value));
  }

  const cfg::SearchPaths paths{path, opts.config_dirs};
  std::vector<Experiment> experiments;
  for (const cfg::SweepPoint& point : cfg::expand(sweep)) {
    Node point_doc = doc;
    try {
      cfg::apply_point(point, point_doc);
      Experiment e = read_point(point_doc, file, paths);
      e.point_label = point.label;
      e.resolved_yaml = experiment_to_yaml(e);
      experiments.push_back(std::move(e));
    } catch (const ConfigError& error) {
      if (point.label.empty()) throw;
      throw ConfigError(std::string(error.what()) + " (at sweep point " + point.label + ")");
    }
  }
  return experiments;
}

HardwareProfile load_hardware(const std::string& name_or_path, const LoadOptions& opts) {
  return load_reference(name_or_path, opts, cfg::RefKind::Hardware, cfg::read_hardware);
}

ModelShape load_model(const std::string& name_or_path, const LoadOptions& opts) {
  return load_reference(name_or_path, opts, cfg::RefKind::Model, cfg::read_model);
}

}  // namespace hgca
