#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <ostream>
#include <stdexcept>

#include "sim/results/atomic_file.hpp"
#include "sim/results/csv.hpp"
#include "sim/results/hdf5.hpp"
#include "sim/results/timeline_json.hpp"
#include "tests/results/sample_runs.hpp"
#include "tests/results/scratch_dir.hpp"

namespace hgca {
namespace {

namespace fs = std::filesystem;
using Writer = std::function<void(const std::string& path)>;

// The three file writers, each given a moderately large result so a write can fail part-way.
const std::vector<RunResult>& large_runs() {
  static const std::vector<RunResult> runs = [] {
    std::vector<RunResult> r(300, test::simple_feasible_run("hgca", 8, 65536));
    r[0] = test::fully_populated_run();
    r[0].step_latency_s.assign(20000, 0.01);
    for (int i = 0; i < 2000; ++i) {
      r[0].timeline.push_back({"CPU core " + std::to_string(i % 16), "L3 sparse-attn", i * 1e-3, 1e-3, i, 3});
    }
    return r;
  }();
  return runs;
}

std::vector<std::pair<std::string, Writer>> all_writers() {
  const auto& runs = large_runs();
  return {{"runs.csv", [&runs](const std::string& p) { write_csv(p, runs); }},
          {"runs.h5", [&runs](const std::string& p) { write_hdf5(p, runs, "test"); }},
          {"trace.json", [&runs](const std::string& p) { write_timeline_json(p, runs); }}};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(AtomicFile, WritesAndCreatesMissingParentDirectories) {
  test::ScratchDir dir("atomic-create");
  const std::string path = dir.file("a/b/c/out.txt");
  write_file_atomically(path, [](std::ostream& out) { out << "hello\n"; });
  EXPECT_EQ(test::read_text(path), "hello\n");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"a"});
  for (const auto& [name, write] : all_writers()) {
    write(dir.file("new/" + name));
    EXPECT_GT(fs::file_size(dir.file("new/" + name)), 10000u) << name;
  }
  std::set<std::string> expected;
  for (const auto& [name, write] : all_writers()) expected.insert(name);
  std::set<std::string> found;
  for (const auto& e : fs::directory_iterator(dir.path() / "new")) found.insert(e.path().filename());
  EXPECT_EQ(found, expected);  // no temporaries left behind
}

TEST(AtomicFile, AFailingWriterLeavesTheOldFileAndNoTemporary) {
  test::ScratchDir dir("atomic-fail");
  const std::string path = dir.file("out.txt");
  test::write_text(path, "old");
  const std::string error = error_of([&] {
    write_file_atomically(path, [](std::ostream& out) {
      out << std::string(100000, 'x');
      throw std::runtime_error("simulated failure");
    });
  });
  EXPECT_EQ(error, "cannot write " + path + ": simulated failure");
  EXPECT_EQ(test::read_text(path), "old");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"out.txt"});
}

TEST(AtomicFile, UncreatableLocationThrowsAndCreatesNothing) {
  test::ScratchDir dir("atomic-uncreatable");
  test::write_text(dir.file("plain-file"), "x");
  for (const auto& [name, write] : all_writers()) {
    // A path "through" a regular file can never be created, whoever we are (root included).
    const std::string path = dir.file("plain-file/sub/" + name);
    const std::string error = error_of([&] { write(path); });
    EXPECT_EQ(error.rfind("cannot write " + path + ": cannot create directory ", 0), 0u) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  EXPECT_EQ(dir.entries(), std::set<std::string>{"plain-file"});
}

TEST(AtomicFile, ExistingDirectoryAsTargetIsRefused) {
  test::ScratchDir dir("atomic-dir");
  fs::create_directory(dir.path() / "target");
  for (const auto& [name, write] : all_writers()) {
    const std::string path = dir.file("target");
    EXPECT_EQ(error_of([&] { write(path); }), "cannot write " + path + ": it is an existing directory") << name;
  }
  EXPECT_EQ(dir.entries(), std::set<std::string>{"target"});
  EXPECT_TRUE(fs::is_empty(dir.path() / "target"));
  EXPECT_EQ(error_of([] { write_csv("", {}); }), "cannot write : the output path is empty");
}

TEST(AtomicFile, ReadOnlyDirectoryThrowsAndCreatesNothing) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  test::ScratchDir dir("atomic-readonly");
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  for (const auto& [name, write] : all_writers()) {
    const std::string path = dir.file(name);
    const std::string error = error_of([&] { write(path); });
    EXPECT_EQ(error.rfind("cannot write " + path + ": ", 0), 0u) << error;
    EXPECT_NE(error.find("ermission denied"), std::string::npos) << error;
  }
  fs::permissions(dir.path(), fs::perms::owner_all);
  EXPECT_TRUE(dir.entries().empty());
}

// In the child: limit files to 4 KiB, write, and exit 0 only if the writer reported the failure.
[[noreturn]] void write_under_size_limit(const Writer& write, const std::string& path) {
  std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write(2) instead of being killed
  const rlimit limit{4096, 4096};
  setrlimit(RLIMIT_FSIZE, &limit);
  try {
    write(path);
  } catch (const std::runtime_error& e) {
    std::cerr << e.what() << std::endl;
    std::_Exit(0);
  }
  std::_Exit(1);
}

// A write that fails part-way (here: the file size limit, as a full disk would) must leave the previous
// file byte for byte and no temporary. Runs in a forked child (the "fast" death-test style, which shares
// this process's paths) so the limit does not touch other tests.
TEST(AtomicFileDeathTest, WriteFailingPartWayKeepsTheOldFile) {
  GTEST_FLAG_SET(death_test_style, "fast");
  for (const auto& [name, write] : all_writers()) {
    test::ScratchDir dir("atomic-partway");
    const std::string path = dir.file(name);
    const std::string old(5000, 'o');  // larger than the limit below: the limit only stops new writes
    test::write_text(path, old);
    EXPECT_EXIT(write_under_size_limit(write, path), ::testing::ExitedWithCode(0), "cannot write .*" + name)
        << name;
    EXPECT_EQ(test::read_text(path), old) << name;
    EXPECT_EQ(dir.entries(), std::set<std::string>{name}) << name;
  }
}

}  // namespace
}  // namespace hgca
