// Time of one GPU kernel from what it computes and reads:
//
//   max(kernel_min, fixed(kind) + max(FLOPs / achievable FLOP/s, bytes / achievable HBM bandwidth))
//
// a roofline with efficiencies plus a fixed device time per kernel kind (grid ramp-up, the last wave's tail,
// a split-combine pass), never shorter than the device's minimum kernel time. GEMMs and attention use the
// tensor-core peak; merges and elementwise kernels the vector peak. The fixed term is what makes small
// kernels slow: our decode attention on an H100 takes about 20 us + bytes / 3.08 TB/s from 4 MB to 8.6 GB
// (docs/CALIBRATION.md, "The GPU kernel model"); with fixed costs of 0 this is the plain roofline.
#pragma once

#include "sim/config/experiment.hpp"
#include "sim/hw/op_graph.hpp"

namespace hgca {

double gpu_kernel_seconds(const GpuSpec& gpu, KernelKind kind, double flops, double bytes);

// The fixed device time the profile charges a kernel of `kind` on top of its roofline time.
double gpu_kernel_fixed_seconds(const GpuSpec& gpu, KernelKind kind);

}  // namespace hgca
