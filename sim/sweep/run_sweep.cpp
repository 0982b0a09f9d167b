#include "sim/sweep/run_sweep.hpp"

#include <csignal>
#include <iostream>
#include <mutex>
#include <optional>

#include "sim/results/run_codec.hpp"
#include "sim/sweep/point_details.hpp"
#include "sim/sweep/progress.hpp"

namespace hgca {
namespace {

std::string journal_stamp(const SweepOptions& o) {
  char schema[20];
  std::snprintf(schema, sizeof schema, "%016llx", static_cast<unsigned long long>(run_codec_schema()));
  return "hgca " + o.tool_version + "; codec " + schema + "; timeline_steps " +
         std::to_string(o.simulate.timeline_steps) + "; timeline_prefill " + (o.simulate.timeline_prefill ? "1" : "0");
}

PointOutcome simulate_point(const Experiment& point, const SimulateOptions& options) {
  PointOutcome outcome;
  try {
    outcome.result = simulate(point, options);
    add_point_details(point, outcome.result);
  } catch (const std::exception& e) {
    outcome.error = e.what();
    if (outcome.error.empty()) outcome.error = "unknown error";
  }
  return outcome;
}

std::string point_name(const std::vector<Experiment>& points, size_t i) {
  return "point " + std::to_string(i) + (points[i].point_label.empty() ? "" : " (" + points[i].point_label + ")");
}

}  // namespace

uint64_t sweep_fingerprint(const std::vector<Experiment>& points) {
  uint64_t h = fnv1a64("hgca-sweep");
  for (const auto& p : points) h = fnv1a64(p.resolved_yaml, h ^ 0x9e3779b97f4a7c15ull);
  return h;
}

SweepOutcome run_sweep(const std::vector<Experiment>& points, const SweepOptions& options, Cluster& cluster) {
  const bool root = cluster.rank() == 0;
  // Every rank loaded the experiment itself (from a shared file system): make sure they all see the same.
  const uint64_t mine = sweep_fingerprint(points);
  if (!cluster.all_ok(cluster.broadcast(mine) == mine)) {
    throw SweepError(2, "the ranks resolved the experiment differently (different files or config paths on "
                        "different nodes?); every rank must see the same experiment, configs and profiles");
  }

  SweepOutcome out;
  std::vector<std::optional<RunResult>> slots(root ? points.size() : 0);
  std::vector<size_t> pending;
  std::string journal_problem;
  if (root) {
    try {
      if (!options.journal_path.empty()) {
        out.journal = std::make_unique<Journal>(options.journal_path, journal_stamp(options), options.journal_mode);
        out.note = out.journal->note();
      }
    } catch (const JournalError& e) {
      journal_problem = e.what();
    }
    for (size_t i = 0; i < points.size() && journal_problem.empty(); ++i) {
      const RunResult* done = out.journal ? out.journal->find(points[i].resolved_yaml) : nullptr;
      if (done) {
        slots[i] = *done;
        ++out.reused;
      } else {
        pending.push_back(i);
      }
    }
  }
  if (!cluster.all_ok(journal_problem.empty())) throw SweepError(2, journal_problem, !root);

  std::unique_ptr<Progress> progress;
  if (root && options.progress) {
    progress = std::make_unique<Progress>(std::cerr, points.size(), out.reused, options.progress_terminal);
  }
  WorkQueue queue(std::move(pending));
  std::mutex collect;
  std::vector<std::string> errors(root ? points.size() : 0);
  std::string fatal;
  size_t journaled = 0;
  const DoneFn done = [&](size_t i, PointOutcome&& outcome) {
    std::lock_guard lock(collect);
    if (outcome.ok()) {
      if (out.journal && fatal.empty()) {
        try {
          out.journal->append(outcome.result);
        } catch (const std::exception& e) {
          fatal = e.what();  // stop: a sweep that cannot checkpoint is not what was asked for
          queue.cancel();
        }
        if (options.kill_after && ++journaled == options.kill_after) std::raise(SIGKILL);
      }
      slots[i] = std::move(outcome.result);
    } else {
      errors[i] = std::move(outcome.error);
    }
    if (progress) progress->advance();
  };
  const PointFn simulate_fn = [&](size_t i) { return simulate_point(points[i], options.simulate); };
  cluster.run(queue, options.jobs, simulate_fn, done);
  if (!root) return out;

  if (progress) progress->finish();
  if (!fatal.empty()) throw SweepError(1, fatal);
  for (size_t i = 0; i < points.size(); ++i) {
    if (!errors[i].empty()) throw SweepError(2, point_name(points, i) + ": " + errors[i]);
  }
  out.runs.reserve(points.size());
  for (auto& slot : slots) out.runs.push_back(std::move(*slot));
  return out;
}

}  // namespace hgca
