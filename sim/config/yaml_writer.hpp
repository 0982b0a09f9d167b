// Typed configuration back to YAML, in the same schema the loader reads (docs/CONFIG.md).
//
// Quantities are written with units (format_bytes & co.), chosen so that reading the text back gives every
// value bit for bit: load(write(x)) == x. Every field is written, defaults included, so the text is a complete
// record of what was simulated.
#pragma once

#include <string>

#include "sim/config/experiment.hpp"

namespace hgca {

std::string hardware_to_yaml(const HardwareProfile& hardware);  // a configs/hw/*.yaml file
std::string model_to_yaml(const ModelShape& model);             // a configs/models/*.yaml file
// The resolved experiment: hardware and model inline, no sweep; the point label as a comment.
std::string experiment_to_yaml(const Experiment& experiment);

}  // namespace hgca
