// Helpers for the configuration tests: a scratch directory, YAML templates whose line numbers the tests rely
// on, and error capture.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "sim/config/loader.hpp"

namespace hgca::testing {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return root_; }
  // Writes `text` to root/relative (creating folders) and returns the full path as a string.
  std::string write(const std::string& relative, const std::string& text) const;

 private:
  std::filesystem::path root_;
};

// `text` with the one line equal to `old_line` replaced by `new_line` (several lines allowed). Fails the test
// (and returns `text`) when `old_line` is not present exactly once.
std::string replace_line(const std::string& text, const std::string& old_line, const std::string& new_line);

// The what() of the ConfigError that `action` throws, or "<no error>".
std::string error_of(const std::function<void()>& action);

// gtest predicate: `text` contains `part`.
::testing::AssertionResult contains(const std::string& text, const std::string& part);

// A complete hardware profile. Line numbers matter: `memory: 80 GiB` of the GPU is line 6, see the .cpp.
extern const char* const kHardwareYaml;
// A complete model: layers on line 3, q_heads 4, kv_heads 5.
extern const char* const kModelYaml;

// A complete experiment naming hardware "test-hw" and model "test-model" (see the .cpp for line numbers:
// workload.batch is line 7, system.window line 14, system.selection line 17).
extern const char* const kExperimentYaml;

// A project layout in `dir`: configs/hw/test-hw.yaml, configs/models/test-model.yaml, and the experiment
// `experiment_text` at experiments/exp.yaml, whose path is returned.
std::string write_project(const ScratchDir& dir, const std::string& experiment_text);

// Every field of two experiments, except source_file, point_label and resolved_yaml.
void expect_same_point(const Experiment& a, const Experiment& b);

}  // namespace hgca::testing
