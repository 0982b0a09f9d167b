#include "sim/config/node.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/config/errors.hpp"

namespace hgca::cfg {
namespace {

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

Origin at(const std::string& file, const YAML::Mark& mark) {
  return Origin{file, mark.line >= 0 ? mark.line + 1 : 0, {}};
}

// `path` is the node's key path, for messages.
Node convert(const YAML::Node& yaml, const std::string& file, const Origin& fallback, const std::string& path) {
  Node node;
  node.origin = at(file, yaml.Mark());
  if (node.origin.line == 0) node.origin = fallback;  // empty values carry no mark of their own
  switch (yaml.Type()) {
    case YAML::NodeType::Scalar:
      node.kind = Node::Kind::Scalar;
      node.scalar = yaml.Scalar();
      break;
    case YAML::NodeType::Sequence:
      node.kind = Node::Kind::Sequence;
      for (const YAML::Node& item : yaml)
        node.items.push_back(convert(item, file, node.origin, child_path(path, std::to_string(node.items.size()))));
      break;
    case YAML::NodeType::Map:
      node.kind = Node::Kind::Map;
      for (auto it = yaml.begin(); it != yaml.end(); ++it) {
        const Origin key_origin = at(file, it->first.Mark());
        if (!it->first.IsScalar()) fail(key_origin, path, "a map key must be a plain word", "key: value");
        const std::string key = it->first.Scalar();
        if (node.find(key)) fail(key_origin, child_path(path, key), "duplicate key", "each key once per map");
        Node value = convert(it->second, file, key_origin, child_path(path, key));
        // A nested block starts on the line after its key; "missing key" errors read better at the key.
        if (value.kind == Node::Kind::Map || value.kind == Node::Kind::Sequence) value.origin = key_origin;
        node.entries.push_back({key, key_origin, std::move(value)});
      }
      break;
    default:
      node.kind = Node::Kind::Null;
  }
  return node;
}

void set_origin_everywhere(Node& node, const Origin& origin) {
  node.origin = origin;
  for (Node& item : node.items) set_origin_everywhere(item, origin);
  for (Node::Entry& e : node.entries) {
    e.key_origin = origin;
    set_origin_everywhere(e.value, origin);
  }
}

bool needs_quotes(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return true;
  return s.find_first_of(",[]{}#:\"'&*!|>%@`\n") != std::string_view::npos;
}

std::string flow_scalar(const std::string& s) {
  if (!needs_quotes(s)) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string Origin::where() const {
  if (!set_key.empty()) return "--set " + set_key;
  if (line > 0) return file + ":" + std::to_string(line);
  return file;
}

const Node* Node::find(std::string_view key) const {
  for (const Entry& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

Node* Node::find(std::string_view key) { return const_cast<Node*>(static_cast<const Node*>(this)->find(key)); }

void Node::erase(std::string_view key) {
  std::erase_if(entries, [&](const Entry& e) { return e.key == key; });
}

std::string Node::flow() const {
  switch (kind) {
    case Kind::Scalar:
      return flow_scalar(scalar);
    case Kind::Sequence: {
      std::vector<std::string> parts;
      for (const Node& item : items) parts.push_back(item.flow());
      return enclose("[", join(parts), "]");
    }
    case Kind::Map: {
      std::vector<std::string> parts;
      for (const Entry& e : entries) parts.push_back(flow_scalar(e.key) + ": " + e.value.flow());
      return enclose("{", join(parts), "}");
    }
    default:
      return "null";
  }
}

const char* kind_name(Node::Kind kind) {
  switch (kind) {
    case Node::Kind::Scalar:
      return "a scalar";
    case Node::Kind::Sequence:
      return "a list";
    case Node::Kind::Map:
      return "a map";
    default:
      return "nothing";
  }
}

Node scalar_node(std::string text, Origin origin) {
  Node node;
  node.kind = Node::Kind::Scalar;
  node.scalar = std::move(text);
  node.origin = std::move(origin);
  return node;
}

Node parse_file(const std::string& path) {
  const std::string file = std::filesystem::path(path).lexically_normal().string();
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path))
    fail(Origin{file, 0, {}}, "", "cannot open file", "a readable YAML file");
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node yaml;
  try {
    yaml = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    fail(at(file, e.mark), "", "YAML syntax error: " + e.msg);
  }
  return convert(yaml, file, Origin{file, 1, {}}, "");
}

Node parse_text(const std::string& text, const Origin& origin) {
  YAML::Node yaml;
  try {
    yaml = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(origin, "", "YAML syntax error in value " + quote(text) + ": " + e.msg);
  }
  Node node = convert(yaml, "", origin, origin.set_key);
  set_origin_everywhere(node, origin);
  return node;
}

// A map keyed by numbers ({1: 12.3 GB/s, 16: 104.2 GB/s}) is one table, such as a curve: it is replaced
// whole, never mixed point by point with the table it overrides.
bool is_table(const Node& node) {
  if (!node.is_map() || node.entries.empty()) return false;
  for (const Node::Entry& e : node.entries) {
    int64_t number = 0;
    const auto [end, ec] = std::from_chars(e.key.data(), e.key.data() + e.key.size(), number);
    if (ec != std::errc() || end != e.key.data() + e.key.size()) return false;
  }
  return true;
}

void merge_into(Node& base, const Node& over) {
  if (!base.is_map() || !over.is_map() || is_table(over)) {
    base = over;
    return;
  }
  for (const Node::Entry& e : over.entries) {
    if (Node* existing = base.find(e.key))
      merge_into(*existing, e.value);
    else
      base.entries.push_back(e);
  }
}

std::vector<std::string> split_key_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string join_key_path(const std::vector<std::string>& parts) { return join(parts, "."); }

bool key_paths_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const size_t n = std::min(a.size(), b.size());
  return std::equal(a.begin(), a.begin() + long(n), b.begin());
}

void set_at_path(Node& root, const std::vector<std::string>& path, Node value) {
  Node* node = &root;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string here = join_key_path({path.begin(), path.begin() + long(i)});
    const bool last = i + 1 == path.size();
    if (node->kind == Node::Kind::Scalar && i == 1 && (path[0] == "hardware" || path[0] == "model")) {
      // A reference by name or path: keep it as the base and override on top of it.
      Node base = *node;
      node->kind = Node::Kind::Map;
      node->scalar.clear();
      node->entries.push_back({"base", base.origin, std::move(base)});
    }
    if (node->kind == Node::Kind::Sequence) {
      size_t index = 0;
      auto [end, ec] = std::from_chars(path[i].data(), path[i].data() + path[i].size(), index);
      if (ec != std::errc() || end != path[i].data() + path[i].size() || index >= node->items.size())
        fail(value.origin, join_key_path(path),
             here + " is a list of " + std::to_string(node->items.size()) + " items, so " + quote(path[i]) +
                 " cannot be set",
             "an index from 0 to " + std::to_string(node->items.size()) + " - 1");
      if (last) {
        node->items[index] = std::move(value);
        return;
      }
      node = &node->items[index];
      continue;
    }
    if (node->kind == Node::Kind::Null) {
      node->kind = Node::Kind::Map;
    } else if (node->kind != Node::Kind::Map) {
      fail(value.origin, join_key_path(path),
           here + " is " + kind_name(node->kind) + " " + quote(node->flow()) + ", so nothing can be set inside it",
           "a key path that runs through maps");
    }
    Node* child = node->find(path[i]);
    if (!child) {
      node->entries.push_back({path[i], value.origin, Node{}});
      child = &node->entries.back().value;
      child->origin = value.origin;
    }
    if (last) {
      *child = std::move(value);
      return;
    }
    node = child;
  }
}

}  // namespace hgca::cfg
