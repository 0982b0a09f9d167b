// Helpers shared by the subcommands: argument parsing with one-line errors, loading experiment points.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "sim/cli/commands.hpp"
#include "sim/config/experiment.hpp"
#include "sim/results/run_result.hpp"
#include "sim/runner/simulate.hpp"

namespace hgca::cli {

// Parses; on a usage error prints one line naming the command and returns false.
bool parse_args(const Args& args, const boost::program_options::options_description& visible,
                const boost::program_options::options_description& hidden,
                const boost::program_options::positional_options_description& pos,
                boost::program_options::variables_map& vm, const char* command);

// Loads and validates an experiment with --set overrides. On error returns false after printing the one-line
// message, or, when `error` is given, storing it there instead.
bool load_points(const std::string& file, const std::vector<std::string>& sets, std::vector<Experiment>& out,
                 std::string* error = nullptr);

// Simulates every point over `jobs` threads of this process (no journal, no MPI); results in point order.
// Throws std::runtime_error("point 3 (label): problem") for the first point that failed.
std::vector<RunResult> run_points(const std::vector<Experiment>& points, int jobs, const SimulateOptions& opts);

}  // namespace hgca::cli
