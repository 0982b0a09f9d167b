// Error checking inside kernels/cuda's .cu files (not part of the public C++ API).
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "kernels/cpu/status.hpp"
#include "kernels/cuda/runtime.hpp"

namespace hgca::kernels::cuda::detail {

inline std::string cuda_message(cudaError_t e, const char* what) {
  return std::string("cuda: ") + what + ": " + cudaGetErrorString(e);
}

// For launchers: the launch's own error (bad configuration, no device) as a Status.
inline Status launch_status(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return Status::success();
  return Status::unsupported(cuda_message(e, what));
}

}  // namespace hgca::kernels::cuda::detail
