// Maps an ISA path to its kernel table. Internal to kernels/cpu (the launchers use it); compiled without
// ISA flags.
#pragma once

#include "kernels/cpu/isa.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace hgca::kernels::detail {

// The table of `isa`, or null when that path is not compiled in. Does not check that the CPU can run it:
// callers resolve the ISA first (resolve_isa below).
const KernelTable* kernel_table(Isa isa);

// The path a call should use: the requested one when this CPU can run it, active_isa() when none is
// requested. Sets `status` to `unsupported` (and returns null) for a path the CPU cannot run.
const KernelTable* resolve_kernels(const std::optional<Isa>& requested, Status& status);

}  // namespace hgca::kernels::detail
