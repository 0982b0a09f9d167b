// A YAML document as a tree that remembers where every value was written.
//
// yaml-cpp nodes know their line but not their file, and merging a hardware profile with its overrides, applying
// --set values and substituting sweep values mixes nodes from several sources. Every error must still point at
// the right file and line (or the --set that introduced the value), so the loader works on this tree instead.
// Internal to sim/config/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hgca::cfg {

// Where a value came from: a file and line, or a --set override.
struct Origin {
  std::string file;           // as opened (lexically normalised); empty for --set values
  int line = 0;               // 1-based; 0 when unknown
  std::string set_key;        // the key path of the --set that wrote this value; empty for file values
  std::string where() const;  // "FILE:LINE", "FILE" or "--set KEY"
};

struct Node {
  enum class Kind { Null, Scalar, Sequence, Map };
  struct Entry;

  Kind kind = Kind::Null;
  std::string scalar;          // Scalar only: the text as written
  std::vector<Node> items;     // Sequence only
  std::vector<Entry> entries;  // Map only, in document order, keys unique
  Origin origin;

  bool is_map() const { return kind == Kind::Map; }
  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  void erase(std::string_view key);
  // Compact one-line flow YAML of this node ("hgca", "[1, 2]", "{source: topk, top_k: 512}").
  std::string flow() const;
};

struct Node::Entry {
  std::string key;
  Origin key_origin;
  Node value;
};

const char* kind_name(Node::Kind kind);  // "a scalar", "a list", "a map", "nothing"

Node scalar_node(std::string text, Origin origin);

// Reads a YAML file. Throws ConfigError for a missing file, a syntax error or duplicate keys.
Node parse_file(const std::string& path);
// Reads a YAML text (a --set value); every node gets `origin`.
Node parse_text(const std::string& text, const Origin& origin);

// Recursively merges `over` into `base`: maps merge key by key, anything else replaces, and so does a map keyed
// by numbers (a table such as bandwidth_by_threads is one value).
void merge_into(Node& base, const Node& over);

std::vector<std::string> split_key_path(std::string_view path);  // "a.b.c" -> {a, b, c}
std::string join_key_path(const std::vector<std::string>& parts);

// True when one key path equals the other or lies inside it ("system" and "system.window").
bool key_paths_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b);

// Sets the value at `path` below `root`, creating maps on the way. A hardware or model reference written as a
// name or path becomes {base: <it>} so that a key inside it can be set. Throws ConfigError (at value.origin) when
// the path runs through a scalar or a list. `key_origin` is recorded for newly created keys.
void set_at_path(Node& root, const std::vector<std::string>& path, Node value);

}  // namespace hgca::cfg
