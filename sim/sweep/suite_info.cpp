#include "sim/sweep/suite_info.hpp"

#include <sstream>
#include <stdexcept>

namespace hgca {

std::vector<std::string> declared_figures(const std::string& description) {
  std::vector<std::string> names;
  std::istringstream lines(description);
  for (std::string line; std::getline(lines, line);) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line.compare(start, 8, "figures:") != 0) continue;
    std::string list = line.substr(start + 8);
    for (char& c : list)
      if (c == ',') c = ' ';
    std::istringstream words(list);
    for (std::string word; words >> word;) {
      for (char c : word) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
          throw std::invalid_argument("description: figures: '" + word +
                                      "' is not a figure name; expected names such as throughput_vs_context, "
                                      "separated by commas");
        }
      }
      names.push_back(word);
    }
  }
  return names;
}

ResultsFileInfo results_file_info(const Experiment& first_point, const std::string& tool_version) {
  return {.tool_version = tool_version,
          .description = first_point.description,
          .figures = declared_figures(first_point.description)};
}

}  // namespace hgca
