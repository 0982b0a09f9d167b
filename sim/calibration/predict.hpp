// What the simulator says one measured primitive takes on a hardware profile.
//
// Every prediction goes through the code the simulator itself runs: copies and CPU batches are executed by
// the Machine (sim/hw: PcieLink, CpuPool) from a one-op StepGraph; GPU kernels are timed by gpu_kernel_seconds
// (the function the Machine's GPU engine calls) on the FLOPs and bytes that ModelCosts charges (sim/model);
// CPU attention tasks are built by the same functions the strategies use (sim/policy/cpu_attention_tasks).
// A fit of these predictions and a simulation on the fitted profile therefore cannot disagree.
#pragma once

#include "sim/calibration/measurements.hpp"
#include "sim/config/experiment.hpp"

namespace hgca {

// Seconds the simulator gives for `m` on `hw` (the quantity `m.seconds` measures; see docs/CALIBRATION.md).
double predict_seconds(const HardwareProfile& hw, const Measurement& m);

}  // namespace hgca
