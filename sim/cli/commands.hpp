// The `hgca` subcommands. Each lives in its own cmd_*.cpp and registers itself with HGCA_COMMAND, so adding
// a command touches no shared file. A command takes its own arguments (after the command words) and returns
// the process exit code: 0 success, 1 a failure while running, 2 bad input (usage, configuration, files).
#pragma once

#include <string>
#include <vector>

namespace hgca::cli {

using Args = std::vector<std::string>;
using CommandFn = int (*)(const Args& args);

struct Command {
  std::string words;     // "run", "bench engine", "trace synth": one or two words
  std::string synopsis;  // the usage line(s) printed by `hgca --help`, after the words
  CommandFn fn;
};

// All registered commands, sorted by words (stable across builds, whatever the link order).
const std::vector<Command>& commands();

// Registration object: one static instance per command file (HGCA_COMMAND below).
struct CommandRegistration {
  CommandRegistration(const char* words, const char* synopsis, CommandFn fn);
};

#define HGCA_COMMAND_CAT2(a, b) a##b
#define HGCA_COMMAND_CAT(a, b) HGCA_COMMAND_CAT2(a, b)
#define HGCA_COMMAND(words, synopsis, fn) \
  static const ::hgca::cli::CommandRegistration HGCA_COMMAND_CAT(hgca_command_, __LINE__)(words, synopsis, fn)

extern const char* const kVersion;

}  // namespace hgca::cli
