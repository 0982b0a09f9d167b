// The processes a sweep runs on: this one alone, or the ranks of an MPI job (mpirun, srun). Rank 0 reads the
// journal, hands out points one at a time to whichever rank asks (so fast and slow points balance), receives
// every result and writes the results file; the other ranks only simulate. MPI is optional at build time
// (HGCA_MPI, sim/sweep/CMakeLists.txt): without it a process launched as one of several ranks stops with a
// clear error instead of every rank running the whole sweep.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "sim/sweep/executor.hpp"

namespace hgca {

struct ClusterError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Cluster {
 public:
  virtual ~Cluster() = default;
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  // "1 process" or "2 MPI ranks"
  virtual std::string describe() const { return "1 process"; }
  // Collective: true on every rank when `mine` is true on every rank.
  virtual bool all_ok(bool mine) { return mine; }
  // Collective: rank 0's value on every rank.
  virtual uint64_t broadcast(uint64_t value) { return value; }
  // Collective: simulates every point of rank 0's `queue` with `threads` threads per rank; `done` is called on
  // rank 0 only, for every point (other ranks' outcomes are shipped to it). Other ranks ignore their queue.
  virtual void run(WorkQueue& queue, int threads, const PointFn& simulate_point, const DoneFn& done) {
    run_locally(queue, threads, simulate_point, done);
  }
};

// The rank and number of ranks a launcher (Open MPI's mpirun, MPICH's hydra, Slurm's srun with PMI/PMIx) gave
// this process through its environment; {0, 1} when it was not launched by one.
struct LaunchInfo {
  int rank = 0;
  int size = 1;
  std::string variable;  // the environment variable the size came from, e.g. "OMPI_COMM_WORLD_SIZE"
};
LaunchInfo launch_info_from_environment();

bool built_with_mpi();

// Joins the MPI job when launched as several ranks (built with MPI), else a single-process cluster. Throws
// ClusterError (one line) when launched as several ranks by a build without MPI, or when MPI cannot start.
std::unique_ptr<Cluster> join_cluster();

}  // namespace hgca
