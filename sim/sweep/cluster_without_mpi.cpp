// join_cluster() of a build without MPI: one process, and a clear error when a launcher started several.
#include "sim/sweep/cluster.hpp"

namespace hgca {

bool built_with_mpi() { return false; }

std::unique_ptr<Cluster> join_cluster() {
  const LaunchInfo launch = launch_info_from_environment();
  if (launch.size > 1) {
    throw ClusterError("launched as " + std::to_string(launch.size) + " MPI ranks (" + launch.variable + "=" +
                       std::to_string(launch.size) +
                       ") but this hgca was built without MPI: install an MPI (Debian: libopenmpi-dev) and "
                       "rebuild, or run hgca without mpirun/srun (--jobs N uses the local cores)");
  }
  return std::make_unique<Cluster>();
}

}  // namespace hgca
