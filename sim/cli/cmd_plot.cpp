// hgca plot: runs the Python plotting package (analysis/) on a results file. Needs a python3 that imports
// h5py and matplotlib (Debian's /usr/bin/python3 with python3-h5py, python3-matplotlib).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "sim/cli/commands.hpp"

namespace hgca::cli {

namespace {
std::string self_dir() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}
std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

int cmd_plot(const Args& args) {
  // The repository root holds analysis/: look next to the binary (build/bin/../..) and in the current dir.
  std::string root;
  for (const std::string cand : {self_dir() + "/../..", self_dir() + "/../share/hgca", std::string(".")}) {
    if (std::filesystem::exists(cand + "/analysis/plot.py")) {
      root = cand;
      break;
    }
  }
  if (root.empty()) {
    std::cerr << "hgca plot: cannot find the analysis/ package next to the binary or in the current directory\n";
    return 2;
  }
  const char* env = std::getenv("HGCA_PYTHON");
  const std::string python = env && *env ? env : "/usr/bin/python3";
  std::string cmd = "cd " + quote(root) + " && " + quote(python) + " -m analysis.plot";
  // Paths given relative to where the user stands must survive the cd: existing inputs and the --out
  // directory (which may not exist yet) are made absolute.
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool out_dir = i > 0 && args[i - 1] == "--out";
    const bool path = !a.empty() && a[0] != '-' && (out_dir || std::filesystem::exists(a));
    cmd += " " + quote(path ? std::filesystem::absolute(a).string() : a);
  }
  const int rc = std::system(cmd.c_str());
  return rc == 0 ? 0 : (WIFEXITED(rc) ? WEXITSTATUS(rc) : 1);
}

HGCA_COMMAND("plot", "RESULTS.h5 --out DIR\n                              paper-style figures from a results file (needs python3 with h5py)", cmd_plot);

}  // namespace hgca::cli
