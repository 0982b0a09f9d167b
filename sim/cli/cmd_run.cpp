// hgca run: every point of an experiment, in parallel over --jobs threads and, launched by mpirun or srun,
// over MPI ranks. Finished points go to a journal beside the output (R.h5.journal) as they finish, so a killed
// sweep resumes with --resume; the results files are written once every point has run, each atomically, and
// are the same whatever the thread count, rank count or interruptions (sim/sweep/run_sweep.hpp).
#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "sim/cli/commands.hpp"
#include "sim/cli/common.hpp"
#include "sim/results/csv.hpp"
#include "sim/results/hdf5.hpp"
#include "sim/results/table.hpp"
#include "sim/results/timeline_json.hpp"
#include "sim/sweep/cluster.hpp"
#include "sim/sweep/progress.hpp"
#include "sim/sweep/run_sweep.hpp"
#include "sim/sweep/suite_info.hpp"

namespace hgca::cli {

namespace po = boost::program_options;

namespace {

// Test hook (fault injection, docs/EXPERIMENTS.md): SIGKILL the process after this many journaled points.
size_t kill_after_from_environment() {
  const char* v = std::getenv("HGCA_SWEEP_KILL_AFTER");
  return v && *v ? static_cast<size_t>(std::strtoull(v, nullptr, 10)) : 0;
}

// The work of rank 0 once every point has run: table, files, journal removal. Returns the exit code.
int write_outputs(SweepOutcome& outcome, const ResultsFileInfo& info,
                  const std::string& out, const std::string& csv, const std::string& timeline, bool quiet) {
  if (!quiet) print_table(std::cout, outcome.runs);
  try {
    write_hdf5(out, outcome.runs, info);
    write_csv(csv, outcome.runs);
    if (!timeline.empty()) write_timeline_json(timeline, outcome.runs);
  } catch (const std::exception& e) {
    std::cerr << "hgca run: " << e.what() << "\n";
    return 1;
  }
  if (outcome.journal) outcome.journal->remove();  // only now: the results are safely on disk
  if (!quiet) {
    std::cout << "\nwrote " << out << " and " << csv;
    if (!timeline.empty()) std::cout << " and " << timeline << " (open in https://ui.perfetto.dev)";
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int cmd_run(const Args& args) {
  po::options_description opts("hgca run FILE.yaml [options]");
  std::string file, out, csv, timeline;
  std::vector<std::string> sets;
  int jobs = 1, timeline_steps = 1;
  bool quiet = false, resume = false, fresh = false, no_journal = false, no_progress = false;
  opts.add_options()("help,h", "this help")(
      "output,o", po::value(&out), "results file (HDF5); default results/<experiment>.h5; a CSV is written beside it")(
      "csv", po::value(&csv), "CSV path (default: the HDF5 path with .csv)")(
      "timeline", po::value(&timeline), "write a Chrome trace (Perfetto) of the first decode steps")(
      "timeline-steps", po::value(&timeline_steps)->default_value(1), "decode steps in the timeline")(
      "set", po::value(&sets)->composing(), "override a key: --set system.window=2048 (repeatable)")(
      "jobs,j", po::value(&jobs)->default_value(1),
      "points simulated in parallel by this process (per rank under MPI); results do not depend on it")(
      "resume", po::bool_switch(&resume),
      "reuse the finished points of an interrupted run recorded in OUT.h5.journal (none: start afresh)")(
      "fresh", po::bool_switch(&fresh), "discard OUT.h5.journal of an interrupted run and start over")(
      "no-journal", po::bool_switch(&no_journal), "do not record finished points (a killed run cannot resume)")(
      "no-progress", po::bool_switch(&no_progress), "no progress line on stderr")(
      "quiet,q", po::bool_switch(&quiet), "no table and no progress");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file));
  po::positional_options_description pos;
  pos.add("file", 1);

  // Under mpirun every rank parses the same arguments: only rank 0 reports what is wrong with them.
  const bool first_rank = launch_info_from_environment().rank == 0;
  std::ostream& err = std::cerr;
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "run")) return 2;
  if (vm.count("help")) {
    if (first_rank) std::cout << opts;
    return 0;
  }
  const auto usage_error = [&](const std::string& message) {
    if (first_rank) err << "hgca run: " << message << "\n";
    return 2;
  };
  if (file.empty()) return usage_error("missing the experiment file (hgca run FILE.yaml; --help for options)");
  if (jobs < 1) return usage_error("--jobs must be at least 1");
  if (resume && fresh) return usage_error("--resume and --fresh exclude each other");
  if (no_journal && (resume || fresh)) return usage_error("--no-journal excludes --resume and --fresh");

  std::unique_ptr<Cluster> cluster;
  try {
    cluster = join_cluster();
  } catch (const ClusterError& e) {
    return usage_error(e.what());
  }
  const bool root = cluster->rank() == 0;

  // Every rank loads the experiment (they need the points to simulate them); rank 0 speaks for all, another
  // rank only for a problem of its own.
  std::vector<Experiment> points;
  std::string load_error;
  const bool loaded = load_points(file, sets, points, &load_error);
  ResultsFileInfo info;
  if (loaded) {
    try {
      info = results_file_info(points.front(), kVersion);
    } catch (const std::invalid_argument& e) {
      load_error = "error: " + file + ": " + e.what();
    }
  }
  const bool ok_here = load_error.empty();
  if (!cluster->all_ok(ok_here)) {
    const bool root_ok = cluster->broadcast(ok_here ? 1 : 0) == 1;
    if (!ok_here && (root || root_ok)) {
      err << (root ? "" : "rank " + std::to_string(cluster->rank()) + ": ") << load_error << "\n";
    }
    return 2;
  }

  if (out.empty()) out = "results/" + points.front().name + ".h5";
  if (csv.empty()) csv = std::filesystem::path(out).replace_extension(".csv").string();

  SweepOptions so;
  so.jobs = jobs;
  so.simulate.timeline_steps = timeline.empty() ? 0 : timeline_steps;
  so.tool_version = kVersion;
  so.journal_path = no_journal ? "" : Journal::path_for(out);
  so.journal_mode = resume ? Journal::Mode::Resume : fresh ? Journal::Mode::Fresh : Journal::Mode::Refuse;
  so.progress = !quiet && !no_progress;
  so.progress_terminal = Progress::stderr_is_terminal();
  so.kill_after = kill_after_from_environment();

  int rc = 0;
  try {
    SweepOutcome outcome = run_sweep(points, so, *cluster);
    if (root) {
      if (!outcome.note.empty()) err << "hgca run: note: " << outcome.note << "\n";
      if (outcome.reused && !quiet) {
        err << "hgca run: reused " << outcome.reused << " of " << points.size() << " points from "
            << so.journal_path << "\n";
      }
      rc = write_outputs(outcome, info, out, csv, timeline, quiet);
    }
  } catch (const SweepError& e) {
    if (root && !e.already_reported) err << "hgca run: " << file << ": " << e.what() << "\n";
    rc = e.exit_code;
  }
  // Every rank exits with rank 0's verdict, so mpirun's exit status is the sweep's.
  return static_cast<int>(cluster->broadcast(static_cast<uint64_t>(rc)));
}

HGCA_COMMAND("run", "FILE.yaml [-o OUT.h5] [--timeline T.json] [--set key=value]... [--jobs N] [--resume]\n"
             "                              simulate every point of an experiment (also under mpirun/srun);\n"
             "                              table, HDF5 + CSV, timeline; resumable from OUT.h5.journal",
             cmd_run);

}  // namespace hgca::cli
