// The `hgca` subcommands. Each takes its own arguments (after the subcommand words) and returns the
// process exit code: 0 success, 1 a failure while running, 2 bad input (usage, configuration, files).
#pragma once

#include <string>
#include <vector>

namespace hgca::cli {

using Args = std::vector<std::string>;

int cmd_run(const Args& args);
int cmd_config_check(const Args& args);
int cmd_bench_engine(const Args& args);
int cmd_plot(const Args& args);

extern const char* const kVersion;

}  // namespace hgca::cli
