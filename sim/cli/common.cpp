#include "sim/cli/common.hpp"

#include <iostream>

#include "sim/config/loader.hpp"
#include "sim/sweep/run_sweep.hpp"

namespace hgca::cli {

const char* const kVersion = "0.1.0";

bool parse_args(const Args& args, const boost::program_options::options_description& visible,
                const boost::program_options::options_description& hidden,
                const boost::program_options::positional_options_description& pos,
                boost::program_options::variables_map& vm, const char* command) {
  namespace po = boost::program_options;
  po::options_description all;
  all.add(visible).add(hidden);
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "hgca " << command << ": " << e.what() << "\n";
    return false;
  }
  return true;
}

bool load_points(const std::string& file, const std::vector<std::string>& sets, std::vector<Experiment>& out,
                 std::string* error) {
  LoadOptions lo;
  lo.overrides = sets;
  try {
    out = load_experiment(file, lo);
  } catch (const ConfigError& e) {
    const std::string message = std::string("error: ") + e.what();
    if (error) *error = message;
    else std::cerr << message << "\n";
    return false;
  }
  return true;
}

std::vector<RunResult> run_points(const std::vector<Experiment>& points, int jobs, const SimulateOptions& opts) {
  Cluster single_process;
  SweepOptions options;
  options.jobs = jobs;
  options.simulate = opts;
  try {
    return run_sweep(points, options, single_process).runs;
  } catch (const SweepError& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace hgca::cli
