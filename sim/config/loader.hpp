// Loading configuration files into the typed structs of experiment.hpp. File formats: docs/CONFIG.md.
//
// Every function throws ConfigError with a one-line message "FILE:LINE: key.path: problem; expected …".
#pragma once

#include <string>
#include <vector>

#include "sim/config/config_error.hpp"
#include "sim/config/experiment.hpp"
#include "sim/config/units.hpp"

namespace hgca {

struct LoadOptions {
  // "key.path=value" (value read as YAML: a scalar or a flow node such as {source: topk, top_k: 512}), applied
  // to the document before the sweep is expanded and before validation. For load_hardware and load_model the
  // key paths are relative to the profile ("gpu.memory=40 GiB").
  std::vector<std::string> overrides;
  // Extra directories searched for hardware and model names; each holds hw/ and models/.
  std::vector<std::string> config_dirs;
};

// Loads an experiment file and expands its sweep: one Experiment per point (at least one), in sweep order
// (product keys: first outermost, last fastest; then the zip lists as the innermost dimension).
std::vector<Experiment> load_experiment(const std::string& path, const LoadOptions& opts = {});

// A hardware profile or model shape by name (searched as configs/hw/<name>.yaml, configs/models/<name>.yaml)
// or by path (anything containing '/' or ending in .yaml).
HardwareProfile load_hardware(const std::string& name_or_path, const LoadOptions& opts = {});
ModelShape load_model(const std::string& name_or_path, const LoadOptions& opts = {});

}  // namespace hgca
