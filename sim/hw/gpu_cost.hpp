// Time of one GPU kernel from what it computes and reads: a roofline with efficiencies,
// max(FLOPs / achievable FLOP/s, bytes / achievable HBM bandwidth), never shorter than the device's minimum
// kernel time. GEMMs and attention use tensor-core peak; merges and elementwise kernels the vector peak.
// Calibrated per-kind tables (hgca calibrate) will slot in behind the same function.
#pragma once

#include "sim/config/experiment.hpp"
#include "sim/hw/op_graph.hpp"

namespace hgca {

double gpu_kernel_seconds(const GpuSpec& gpu, KernelKind kind, double flops, double bytes);

}  // namespace hgca
