// Compiled WITHOUT ISA flags (see kernels/CMakeLists.txt): nothing here may execute an instruction the CPU
// might lack before the probe has said it has it.
#include "kernels/cpu/isa.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HGCA_X86 1
#endif

namespace hgca::kernels {
namespace {

#if HGCA_X86
// XGETBV through inline assembly: the _xgetbv intrinsic would need -mxsave on this file.
unsigned long long read_xcr0() {
  unsigned int lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}
#endif

CpuFeatures probe() {
  CpuFeatures f;
#if HGCA_X86
  unsigned int a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  const bool avx = (c >> 28) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  if (osxsave && avx) {
    const unsigned long long xcr0 = read_xcr0();
    f.os_ymm = (xcr0 & 0x6) == 0x6;      // SSE and AVX state
    f.os_zmm = (xcr0 & 0xE6) == 0xE6;    // plus opmask, ZMM0-15 upper halves, ZMM16-31
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = (b >> 5) & 1;
    f.avx512f = (b >> 16) & 1;
    f.avx512bw = (b >> 30) & 1;
    f.avx512vl = (b >> 31) & 1;
    f.avx512_fp16 = (d >> 23) & 1;
    f.amx_tile = (d >> 24) & 1;
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512_bf16 = (a >> 5) & 1;
#endif
  return f;
}

std::atomic<int> g_active{-1};  // -1: not resolved yet

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (const Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (name == isa_name(isa)) return isa;
  return std::nullopt;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = probe();
  return features;
}

bool isa_compiled(Isa isa) {
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2:
#ifdef HGCA_KERNELS_HAVE_AVX2
      return true;
#else
      return false;
#endif
    case Isa::avx512:
#ifdef HGCA_KERNELS_HAVE_AVX512
      return true;
#else
      return false;
#endif
  }
  return false;
}

bool isa_supported(Isa isa) {
  if (!isa_compiled(isa)) return false;
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return f.avx2 && f.fma && f.f16c && f.os_ymm;
    case Isa::avx512: return f.avx512f && f.avx512bw && f.avx512vl && f.f16c && f.os_zmm;
  }
  return false;
}

Isa best_isa() {
  if (isa_supported(Isa::avx512)) return Isa::avx512;
  if (isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::scalar;
}

Isa resolve_isa_request(const char* env_value, std::string* warning) {
  if (env_value == nullptr || *env_value == '\0') return best_isa();
  const std::optional<Isa> wanted = parse_isa(env_value);
  if (!wanted) {
    if (warning) *warning = std::string("HGCA_CPU_ISA=") + env_value + " is not scalar|avx2|avx512; using " + isa_name(best_isa());
    return best_isa();
  }
  if (!isa_supported(*wanted)) {
    if (warning) *warning = std::string("HGCA_CPU_ISA=") + env_value + " cannot run on this CPU; using " + isa_name(best_isa());
    return best_isa();
  }
  return *wanted;
}

Isa active_isa() {
  int v = g_active.load(std::memory_order_acquire);
  if (v < 0) {
    std::string warning;
    const Isa chosen = resolve_isa_request(std::getenv("HGCA_CPU_ISA"), &warning);
    int expected = -1;
    if (g_active.compare_exchange_strong(expected, static_cast<int>(chosen)) && !warning.empty())
      std::fprintf(stderr, "hgca kernels: %s\n", warning.c_str());
    v = g_active.load(std::memory_order_acquire);
  }
  return static_cast<Isa>(v);
}

Status set_active_isa(Isa isa) {
  if (!isa_supported(isa)) return Status::unsupported(std::string(isa_name(isa)) + " cannot run on this CPU or build");
  g_active.store(static_cast<int>(isa), std::memory_order_release);
  return Status::success();
}

}  // namespace hgca::kernels
