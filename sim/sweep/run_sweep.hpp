// Runs every point of an experiment: on this machine's cores (--jobs), across MPI ranks, resuming from and
// writing to a journal, with a progress line. Results come back in point order whatever ran where, so the
// output is the same for any number of threads or ranks, and for a run resumed after a kill.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/results/run_result.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/sweep/cluster.hpp"
#include "sim/sweep/journal.hpp"

namespace hgca {

struct SweepOptions {
  int jobs = 1;                                       // threads per process (per rank under MPI)
  SimulateOptions simulate;
  std::string journal_path;                           // "" = no journal (nothing to resume from)
  Journal::Mode journal_mode = Journal::Mode::Refuse;
  std::string tool_version;                           // part of the journal stamp
  bool progress = false;                              // progress on stderr (rank 0)
  bool progress_terminal = false;                     // redraw one line (stderr is a terminal)
  // Test hook (fault injection): kill this process with SIGKILL once this many new points are journaled.
  size_t kill_after = 0;
};

struct SweepError : std::runtime_error {
  SweepError(int exit_code, const std::string& message, bool already_reported = false)
      : std::runtime_error(message), exit_code(exit_code), already_reported(already_reported) {}
  int exit_code;          // 1: failure while running; 2: bad input
  bool already_reported;  // another rank reports it: print nothing
};

struct SweepOutcome {
  std::vector<RunResult> runs;       // every point, in point order (rank 0 only; empty on other ranks)
  size_t reused = 0;                 // taken from the journal
  std::unique_ptr<Journal> journal;  // rank 0, when journaling: remove() it once the outputs are written
  std::string note;                  // what opening the journal found ("" if nothing to say)
};

// Collective over `cluster`. Simulates each point with simulate() plus its details (point_details.hpp).
// Throws SweepError: a point that fails (exit 2, "point 7 (label): problem", after all others ran), a
// journal problem (exit 2 for a journal the user must decide about, 1 for I/O), ranks that resolved the
// experiment differently (exit 2).
SweepOutcome run_sweep(const std::vector<Experiment>& points, const SweepOptions& options, Cluster& cluster);

// FNV-1a over every point's resolved configuration: ranks compare it to make sure they run the same sweep.
uint64_t sweep_fingerprint(const std::vector<Experiment>& points);

}  // namespace hgca
