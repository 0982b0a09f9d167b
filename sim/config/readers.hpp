// Turning resolved YAML trees into the typed structs of experiment.hpp, with every validation rule.
// Internal to sim/config/. `path` is the key path of the node ("hardware", or "" for a file read alone).
#pragma once

#include <string>

#include "sim/config/experiment.hpp"
#include "sim/config/node.hpp"

namespace hgca::cfg {

HardwareProfile read_hardware(const Node& doc, const std::string& path, const std::string& default_name);
ModelShape read_model(const Node& doc, const std::string& path, const std::string& default_name);
WorkloadSpec read_workload(const Node& node, const std::string& path);
// Checks that need the rest of the point (window against context length, threads against cores) are made here.
SystemSpec read_system(const Node& node, const std::string& path, const WorkloadSpec& workload,
                       const HardwareProfile& hardware);

}  // namespace hgca::cfg
