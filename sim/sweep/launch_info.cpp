#include <cstdlib>
#include <string>

#include "sim/sweep/cluster.hpp"

namespace hgca {
namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return end && *end == '\0' && n >= 0 ? static_cast<int>(n) : fallback;
}

}  // namespace

LaunchInfo launch_info_from_environment() {
  // Size and rank variables of each launcher, most specific first. Slurm's SLURM_NTASKS alone is not used:
  // a batch script sees it without having been started by srun.
  static const struct {
    const char* size;
    const char* rank;
  } kLaunchers[] = {
      {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},  // Open MPI mpirun
      {"PMI_SIZE", "PMI_RANK"},                          // MPICH hydra, srun --mpi=pmi2
      {"PMIX_SIZE", "PMIX_RANK"},                        // PMIx launchers
  };
  for (const auto& l : kLaunchers) {
    const int size = env_int(l.size, -1);
    if (size >= 1) return {env_int(l.rank, 0), size, l.size};
  }
  // srun --mpi=pmix sets PMIX_RANK and the step's task count.
  if (std::getenv("PMIX_RANK") && env_int("SLURM_STEP_NUM_TASKS", -1) >= 1) {
    return {env_int("PMIX_RANK", 0), env_int("SLURM_STEP_NUM_TASKS", 1), "SLURM_STEP_NUM_TASKS"};
  }
  return {};
}

}  // namespace hgca
