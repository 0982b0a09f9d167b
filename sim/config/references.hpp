// Finding hardware profiles and model files by name or path, and expanding {base: …} references.
// Internal to sim/config/.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sim/config/node.hpp"

namespace hgca::cfg {

enum class RefKind { Hardware, Model };

struct SearchPaths {
  std::string experiment_file;           // "" when not loading an experiment
  std::vector<std::string> config_dirs;  // LoadOptions::config_dirs
};

// Directories searched for a name, in order, each ending in hw/ or models/:
// <experiment dir>/../configs, each config_dirs entry, each $HGCA_CONFIG_PATH entry,
// <executable dir>/../../configs, <executable dir>/../share/hgca/configs, ./configs.
std::vector<std::filesystem::path> search_dirs(RefKind kind, const SearchPaths& paths);

struct ResolvedDocument {
  Node doc;                  // one map: the referenced file(s) with the overrides merged in
  std::string default_name;  // the name used when the document has no `name` key
};

// `ref` is a name ("device-h100"), a path ("../hw/x.yaml", relative to the file that holds it, or to the
// working directory for --set values), a map {base: <name or path>, <overrides>…}, or a full inline map.
// A referenced file may itself start from a `base:`.
ResolvedDocument resolve_reference(const Node& ref, RefKind kind, const std::string& key_path,
                                   const SearchPaths& paths);

// A path written in a file, made absolute relative to that file's directory (or the working directory for
// --set values and API arguments).
std::filesystem::path resolve_relative(const std::string& written, const Origin& origin);

}  // namespace hgca::cfg
