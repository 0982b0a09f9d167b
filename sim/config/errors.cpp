#include "sim/config/errors.hpp"

#include <algorithm>

namespace hgca::cfg {
namespace {

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

void fail(const Origin& where, std::string_view key_path, std::string_view problem, std::string_view expected) {
  // Parts that are unknown (an API argument has no file; a document root has no key path) are left out.
  // "--set system.window: system.window: …" says the key twice; once is enough.
  std::string message;
  const std::string key = where.set_key == key_path ? std::string() : std::string(key_path);
  for (const std::string& part : {where.where(), key})
    if (!part.empty()) message += part + ": ";
  message += std::string(problem);
  if (!expected.empty()) message += "; expected " + std::string(expected);
  throw ConfigError(one_line(std::move(message)));
}

std::string enclose(std::string_view open, std::string_view text, std::string_view close) {
  std::string out(open);
  out += text;
  out += close;
  return out;
}

std::string quote(std::string_view text) { return one_line(enclose("'", text, "'")); }

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 0;
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (best.empty() || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  // A suggestion that needs more edits than a third of the word (at least 2) is noise.
  return best_distance <= std::max<size_t>(2, word.size() / 3) ? best : std::string();
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += separator;
    out += words[i];
  }
  return out;
}

}  // namespace hgca::cfg
