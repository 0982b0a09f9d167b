// hgca: the command-line entry point. Finds the registered command named by the first one or two words and
// runs it; the subcommand files (cmd_*.cpp) are the only places that wire config, runner and results together.
#include <algorithm>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>

#include "sim/cli/commands.hpp"

namespace hgca::cli {

namespace {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
}  // namespace

CommandRegistration::CommandRegistration(const char* words, const char* synopsis, CommandFn fn) {
  registry().push_back({words, synopsis, fn});
}

const std::vector<Command>& commands() {
  static std::once_flag sorted;
  std::call_once(sorted, [] {
    std::sort(registry().begin(), registry().end(),
              [](const Command& a, const Command& b) { return a.words < b.words; });
  });
  return registry();
}

}  // namespace hgca::cli

namespace {

void print_usage(std::ostream& os) {
  os << "usage: hgca <command> [options]\n\ncommands:\n";
  for (const auto& c : hgca::cli::commands()) os << "  " << c.words << " " << c.synopsis << "\n";
  os << "  version\n                              print the version\n"
     << "\nRun `hgca <command> --help` for a command's options. Documentation: README.md, docs/.\n";
}

}  // namespace

int main(int argc, char** argv) {
  using hgca::cli::Args;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_usage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  const std::string first = argv[1];
  if (first == "version" || first == "--version") {
    std::cout << "hgca " << hgca::cli::kVersion << "\n";
    return 0;
  }
  // Two-word commands ("bench engine") take precedence over one-word ones.
  const hgca::cli::Command* found = nullptr;
  int used = 1;
  bool is_group = false;
  for (const auto& c : hgca::cli::commands()) {
    if (argc >= 3 && c.words == first + " " + argv[2]) {
      found = &c;
      used = 2;
      break;
    }
    if (c.words == first) found = &c;
    if (c.words.rfind(first + " ", 0) == 0) is_group = true;
  }
  if (!found) {
    if (is_group) {
      std::cerr << "hgca " << first << ": " << (argc < 3 ? "missing subcommand" : "unknown subcommand '" + std::string(argv[2]) + "'")
                << "; one of:";
      for (const auto& c : hgca::cli::commands())
        if (c.words.rfind(first + " ", 0) == 0) std::cerr << " " << c.words.substr(first.size() + 1);
      std::cerr << "\n";
      return 2;
    }
    std::cerr << "hgca: unknown command '" << first << "'\n";
    print_usage(std::cerr);
    return 2;
  }
  Args rest(argv + 1 + used, argv + argc);
  try {
    return found->fn(rest);
  } catch (const std::exception& e) {
    std::cerr << "hgca " << found->words << ": error: " << e.what() << "\n";
    return 1;
  }
}
