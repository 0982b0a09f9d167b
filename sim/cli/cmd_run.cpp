// hgca run: every point of an experiment, simulated in parallel over --jobs threads. Results are collected
// in point order, so output is identical whatever the thread count; files are written only once every point
// has run, each atomically.
#include <atomic>
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <thread>

#include "sim/cli/commands.hpp"
#include "sim/cli/common.hpp"
#include "sim/config/loader.hpp"
#include "sim/results/csv.hpp"
#include "sim/results/hdf5.hpp"
#include "sim/results/table.hpp"
#include "sim/results/timeline_json.hpp"
#include "sim/runner/simulate.hpp"

namespace hgca::cli {

namespace po = boost::program_options;

std::vector<RunResult> run_points(const std::vector<Experiment>& points, int jobs, const SimulateOptions& opts) {
  std::vector<RunResult> results(points.size());
  std::vector<std::string> errors(points.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < points.size();) {
      try {
        results[i] = simulate(points[i], opts);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  };
  const int n = std::max(1, std::min<int>(jobs, static_cast<int>(points.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < points.size(); ++i)
    if (!errors[i].empty())
      throw std::runtime_error("point " + std::to_string(i) + (points[i].point_label.empty() ? "" : " (" + points[i].point_label + ")") + ": " + errors[i]);
  return results;
}

int cmd_run(const Args& args) {
  po::options_description opts("hgca run FILE.yaml [options]");
  std::string file, out, csv, timeline;
  std::vector<std::string> sets;
  int jobs = 1, timeline_steps = 1;
  bool quiet = false;
  opts.add_options()("help,h", "this help")(
      "output,o", po::value(&out), "results file (HDF5); default results/<experiment>.h5; a CSV is written beside it")(
      "csv", po::value(&csv), "CSV path (default: the HDF5 path with .csv)")(
      "timeline", po::value(&timeline), "write a Chrome trace (Perfetto) of the first decode steps")(
      "timeline-steps", po::value(&timeline_steps)->default_value(1), "decode steps in the timeline")(
      "set", po::value(&sets)->composing(), "override a key: --set system.window=2048 (repeatable)")(
      "jobs,j", po::value(&jobs)->default_value(1), "points simulated in parallel (results do not depend on it)")(
      "quiet,q", po::bool_switch(&quiet), "no table");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file));
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "run")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (file.empty()) {
    std::cerr << "hgca run: missing the experiment file\n" << opts;
    return 2;
  }
  if (jobs < 1) {
    std::cerr << "hgca run: --jobs must be at least 1\n";
    return 2;
  }
  std::vector<Experiment> points;
  if (!load_points(file, sets, points)) return 2;

  SimulateOptions so;
  so.timeline_steps = timeline.empty() ? 0 : timeline_steps;
  std::vector<RunResult> results;
  try {
    results = run_points(points, jobs, so);
  } catch (const std::exception& e) {
    std::cerr << "hgca run: " << file << ": " << e.what() << "\n";
    return 2;
  }
  if (!quiet) print_table(std::cout, results);

  if (out.empty()) out = "results/" + points.front().name + ".h5";
  if (csv.empty()) csv = std::filesystem::path(out).replace_extension(".csv").string();
  try {
    write_hdf5(out, results, kVersion);
    write_csv(csv, results);
    if (!timeline.empty()) write_timeline_json(timeline, results);
  } catch (const std::exception& e) {
    std::cerr << "hgca run: " << e.what() << "\n";
    return 1;
  }
  if (!quiet) {
    std::cout << "\nwrote " << out << " and " << csv;
    if (!timeline.empty()) std::cout << " and " << timeline << " (open in https://ui.perfetto.dev)";
    std::cout << "\n";
  }
  return 0;
}

HGCA_COMMAND("run", "FILE.yaml [-o OUT.h5] [--timeline T.json] [--set key=value]... [--jobs N]\n                              simulate every point of an experiment; table, HDF5 + CSV, timeline", cmd_run);

}  // namespace hgca::cli
