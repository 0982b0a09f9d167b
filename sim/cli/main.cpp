// hgca: the command-line entry point. Dispatches to a subcommand; the only place that wires config,
// runner and results together is the subcommand files beside this one.
#include <cstring>
#include <iostream>
#include <string>

#include "sim/cli/commands.hpp"

namespace {

const char* kUsage =
    "usage: hgca <command> [options]\n"
    "\n"
    "commands:\n"
    "  run FILE.yaml [-o OUT.h5] [--timeline T.json] [--set key=value]... [--jobs N]\n"
    "                              simulate every point of an experiment; table, HDF5 + CSV, timeline\n"
    "  config check FILE.yaml [--set key=value]...\n"
    "                              validate an experiment and list its points\n"
    "  bench engine [--json] [--steps N]\n"
    "                              time the simulator on the reference run (Llama-3.1-8B, batch 32, 32K)\n"
    "  plot RESULTS.h5 --out DIR   paper-style figures from a results file (needs python3 with h5py)\n"
    "  version                     print the version\n"
    "\n"
    "Run `hgca <command> --help` for a command's options. Documentation: README.md, docs/CONFIG.md.\n";

}  // namespace

int main(int argc, char** argv) {
  using hgca::cli::Args;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  Args rest(argv + 2, argv + argc);
  try {
    if (cmd == "run") return hgca::cli::cmd_run(rest);
    if (cmd == "plot") return hgca::cli::cmd_plot(rest);
    if (cmd == "version" || cmd == "--version") {
      std::cout << "hgca " << hgca::cli::kVersion << "\n";
      return 0;
    }
    if (cmd == "config" || cmd == "bench") {
      if (rest.empty()) {
        std::cerr << "hgca " << cmd << ": missing subcommand (" << (cmd == "config" ? "check" : "engine") << ")\n";
        return 2;
      }
      const std::string sub = rest.front();
      rest.erase(rest.begin());
      if (cmd == "config" && sub == "check") return hgca::cli::cmd_config_check(rest);
      if (cmd == "bench" && sub == "engine") return hgca::cli::cmd_bench_engine(rest);
      std::cerr << "hgca " << cmd << ": unknown subcommand '" << sub << "'\n";
      return 2;
    }
    std::cerr << "hgca: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hgca " << cmd << ": error: " << e.what() << "\n";
    return 1;
  }
}
