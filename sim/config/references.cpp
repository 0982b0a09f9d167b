#include "sim/config/references.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <system_error>

#include "sim/config/errors.hpp"
#include "sim/config/map_reader.hpp"

namespace hgca::cfg {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxBaseDepth = 8;

const char* subdir(RefKind kind) { return kind == RefKind::Hardware ? "hw" : "models"; }
const char* noun(RefKind kind) { return kind == RefKind::Hardware ? "hardware profile" : "model"; }

bool looks_like_path(const std::string& ref) {
  return ref.find('/') != std::string::npos || ref.ends_with(".yaml") || ref.ends_with(".yml");
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

std::vector<std::string> known_names(const std::vector<fs::path>& dirs) {
  std::set<std::string> names;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".yaml") names.insert(entry.path().stem().string());
  }
  return {names.begin(), names.end()};
}

fs::path locate(const Node& ref, RefKind kind, const std::string& key_path, const SearchPaths& paths) {
  const std::string written = text_of(ref, key_path);
  if (written.empty()) fail(ref.origin, key_path, "empty reference", std::string("the name of a ") + noun(kind));
  if (looks_like_path(written)) {
    const fs::path file = resolve_relative(written, ref.origin);
    if (!fs::is_regular_file(file))
      fail(ref.origin, key_path, "file not found: " + file.string(),
           "a path to a YAML file, relative to the file that names it");
    return file;
  }
  const std::vector<fs::path> dirs = search_dirs(kind, paths);
  for (const fs::path& dir : dirs) {
    const fs::path file = dir / (written + ".yaml");
    if (fs::is_regular_file(file)) return file;
  }
  const std::vector<std::string> known = known_names(dirs);
  const std::string near = closest(written, known);
  std::vector<std::string> searched;
  for (const fs::path& dir : dirs) searched.push_back(dir.string());
  fail(ref.origin, key_path,
       std::string("unknown ") + noun(kind) + " " + quote(written) +
           (near.empty() ? "" : " (did you mean " + quote(near) + "?)"),
       (known.empty() ? std::string("a name, but none were found") : "one of " + join(known)) + " (searched " +
           join(searched) + ")");
}

ResolvedDocument resolve(const Node& ref, RefKind kind, const std::string& key_path, const SearchPaths& paths,
                         int depth) {
  if (depth > kMaxBaseDepth)
    fail(ref.origin, key_path, "more than " + std::to_string(kMaxBaseDepth) + " nested bases (a cycle?)",
         "a base that does not refer back to itself");
  if (ref.kind == Node::Kind::Scalar) {
    const fs::path file = locate(ref, kind, key_path, paths);
    Node doc = parse_file(file.string());
    const std::string name = looks_like_path(ref.scalar) ? file.stem().string() : ref.scalar;
    if (doc.is_map() && doc.find("base")) {
      ResolvedDocument based = resolve(doc, kind, key_path, paths, depth + 1);
      return {std::move(based.doc), name};
    }
    return {std::move(doc), name};
  }
  if (ref.is_map() && ref.find("base")) {
    const Node& base = *ref.find("base");
    const std::string base_path = key_path.empty() ? "base" : key_path + ".base";
    if (base.kind != Node::Kind::Scalar)
      fail(base.origin, base_path, std::string("got ") + kind_name(base.kind),
           std::string("the name or path of a ") + noun(kind));
    ResolvedDocument result = resolve(base, kind, base_path, paths, depth + 1);
    Node overrides = ref;
    overrides.erase("base");
    merge_into(result.doc, overrides);
    return result;
  }
  if (ref.is_map()) return {ref, "inline"};
  fail(ref.origin, key_path, std::string("got ") + kind_name(ref.kind),
       std::string("the name or path of a ") + noun(kind) + ", {base: <name>, …overrides} or a full inline map");
}

}  // namespace

fs::path resolve_relative(const std::string& written, const Origin& origin) {
  fs::path p(written);
  if (p.is_relative() && origin.set_key.empty() && !origin.file.empty()) p = fs::path(origin.file).parent_path() / p;
  return fs::absolute(p).lexically_normal();
}

std::vector<fs::path> search_dirs(RefKind kind, const SearchPaths& paths) {
  std::vector<fs::path> roots;
  if (!paths.experiment_file.empty())
    roots.push_back(fs::absolute(paths.experiment_file).parent_path() / ".." / "configs");
  for (const std::string& dir : paths.config_dirs) roots.emplace_back(dir);
  if (const char* env = std::getenv("HGCA_CONFIG_PATH")) {
    const std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      const size_t colon = std::min(list.find(':', start), list.size());
      if (colon > start) roots.emplace_back(list.substr(start, colon - start));
      start = colon + 1;
    }
  }
  if (const fs::path exe = executable_dir(); !exe.empty()) {
    roots.push_back(exe / ".." / ".." / "configs");
    roots.push_back(exe / ".." / "share" / "hgca" / "configs");
  }
  roots.emplace_back("configs");

  std::vector<fs::path> dirs;
  for (const fs::path& root : roots) {
    const fs::path dir = (fs::absolute(root) / subdir(kind)).lexically_normal();
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  }
  return dirs;
}

ResolvedDocument resolve_reference(const Node& ref, RefKind kind, const std::string& key_path,
                                   const SearchPaths& paths) {
  return resolve(ref, kind, key_path, paths, 0);
}

}  // namespace hgca::cfg
