// Which instruction-set path the CPU kernels run.
//
// The probe (cpuid for the instructions, XGETBV for the OS saving the register state) lives in isa.cpp,
// which is compiled without any ISA flag so that probing cannot itself fault on an older CPU.
//   avx512: AVX-512 F+BW+VL and F16C, OS saves ZMM/opmask state (XCR0 bits 1,2,5,6,7)
//   avx2:   AVX2, FMA and F16C, OS saves YMM state (XCR0 bits 1,2)
//   scalar: always
// The active path is the best supported one unless HGCA_CPU_ISA=scalar|avx2|avx512 (read once, at the first
// use) or set_active_isa() forces another. Forcing a path the CPU cannot run falls back (environment, with a
// warning on stderr) or is refused (API).
#pragma once

#include <optional>
#include <string_view>

#include "kernels/cpu/status.hpp"

namespace hgca::kernels {

enum class Isa { scalar = 0, avx2 = 1, avx512 = 2 };
inline constexpr int kIsaCount = 3;

const char* isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);  // "scalar" | "avx2" | "avx512"

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false;
  bool avx512_bf16 = false, avx512_fp16 = false, amx_tile = false;  // reported only; no kernel uses them yet
  bool os_ymm = false, os_zmm = false;                             // XCR0 says the OS saves that state
};
const CpuFeatures& cpu_features();

bool isa_compiled(Isa isa);   // this build has the kernels for that path
bool isa_supported(Isa isa);  // compiled and runnable on this CPU
Isa best_isa();

// What an HGCA_CPU_ISA value resolves to on this CPU: the named path when supported, else best_isa(). A
// null or empty value means best_isa(). `warning` (if given) receives a message when the value is ignored.
Isa resolve_isa_request(const char* env_value, std::string* warning = nullptr);

Isa active_isa();
Status set_active_isa(Isa isa);  // refuses a path this CPU cannot run

}  // namespace hgca::kernels
