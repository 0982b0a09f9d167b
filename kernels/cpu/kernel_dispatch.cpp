#include "kernels/cpu/kernel_dispatch.hpp"

#include <string>

namespace hgca::kernels::detail {

// Paths left out of this build (non-x86 target, or a compiler without the flags) resolve to null here.
#ifndef HGCA_KERNELS_HAVE_AVX2
const KernelTable* avx2_kernel_table() { return nullptr; }
#endif
#ifndef HGCA_KERNELS_HAVE_AVX512
const KernelTable* avx512_kernel_table() { return nullptr; }
#endif

const KernelTable* kernel_table(Isa isa) {
  switch (isa) {
    case Isa::scalar: return scalar_kernel_table();
    case Isa::avx2: return avx2_kernel_table();
    case Isa::avx512: return avx512_kernel_table();
  }
  return nullptr;
}

const KernelTable* resolve_kernels(const std::optional<Isa>& requested, Status& status) {
  const Isa isa = requested.value_or(active_isa());
  if (!isa_supported(isa)) {
    status = Status::unsupported(std::string("ISA path ") + isa_name(isa) + " cannot run on this CPU or build");
    return nullptr;
  }
  return kernel_table(isa);
}

}  // namespace hgca::kernels::detail
