// ISA probing, forcing a path by name (environment) and by API.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "kernels/cpu/isa.hpp"
#include "kernels/cpu/sparse_attention.hpp"

namespace hgca::kernels {
namespace {

TEST(Isa, NamesParseBack) {
  for (const Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) EXPECT_EQ(parse_isa(isa_name(isa)), isa);
  EXPECT_FALSE(parse_isa("sse2"));
  EXPECT_FALSE(parse_isa(""));
}

TEST(Isa, SupportIsConsistentWithTheProbe) {
  const CpuFeatures& f = cpu_features();
  EXPECT_TRUE(isa_supported(Isa::scalar));
  if (isa_supported(Isa::avx2)) {
    EXPECT_TRUE(f.avx2 && f.fma && f.f16c && f.os_ymm);
  }
  if (isa_supported(Isa::avx512)) {
    EXPECT_TRUE(f.avx512f && f.avx512bw && f.avx512vl && f.os_zmm);
  }
  // best_isa is the widest supported path.
  const Isa best = best_isa();
  EXPECT_TRUE(isa_supported(best));
  for (const Isa isa : {Isa::avx2, Isa::avx512})
    if (isa_supported(isa)) {
      EXPECT_GE(static_cast<int>(best), static_cast<int>(isa));
    }
}

TEST(Isa, ResolveRequest) {
  EXPECT_EQ(resolve_isa_request(nullptr), best_isa());
  EXPECT_EQ(resolve_isa_request(""), best_isa());
  EXPECT_EQ(resolve_isa_request("scalar"), Isa::scalar);
  std::string warning;
  EXPECT_EQ(resolve_isa_request("avx9000", &warning), best_isa());
  EXPECT_NE(warning.find("avx9000"), std::string::npos);
  for (const Isa isa : {Isa::avx2, Isa::avx512}) {
    warning.clear();
    EXPECT_EQ(resolve_isa_request(isa_name(isa), &warning), isa_supported(isa) ? isa : best_isa());
    EXPECT_EQ(warning.empty(), isa_supported(isa));
  }
}

TEST(Isa, ApiForcesAndRefuses) {
  const Isa before = active_isa();
  ASSERT_TRUE(set_active_isa(Isa::scalar).ok());
  EXPECT_EQ(active_isa(), Isa::scalar);
  for (const Isa isa : {Isa::avx2, Isa::avx512}) {
    const Status s = set_active_isa(isa);
    EXPECT_EQ(s.ok(), isa_supported(isa));
    if (!s.ok()) {
      EXPECT_EQ(s.code, StatusCode::unsupported);
      EXPECT_EQ(active_isa(), Isa::scalar);  // a refused request changes nothing
    }
  }
  ASSERT_TRUE(set_active_isa(before).ok());
}

TEST(Isa, LauncherRefusesAPathTheCpuCannotRun) {
  KvStore kv(KvType::f16, 1, 16, {4});
  std::vector<float> q(16, 0.5f), out(16), lse(1);
  const TokenRange range{0, 4};
  for (const Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    AttentionOptions opts;
    opts.isa = isa;
    const Status s = dense_attention(kv, 1, q, {&range, 1}, {out, lse}, opts);
    EXPECT_EQ(s.ok(), isa_supported(isa)) << isa_name(isa);
    if (!s.ok()) {
      EXPECT_EQ(s.code, StatusCode::unsupported);
    }
  }
}

// Run by ctest (kernels.isa_env_*) in processes of their own with HGCA_CPU_ISA set (tests/kernels/CMakeLists.txt); also
// meaningful without it (then the best path must be active).
TEST(IsaEnvironment, ActivePathFollowsTheVariable) {
  const char* env = std::getenv("HGCA_CPU_ISA");
  const Isa active = active_isa();
  if (env == nullptr) {
    EXPECT_EQ(active, best_isa());
    return;
  }
  const std::optional<Isa> wanted = parse_isa(env);
  ASSERT_TRUE(wanted.has_value()) << env;
  EXPECT_EQ(active, isa_supported(*wanted) ? *wanted : best_isa()) << env;
}

}  // namespace
}  // namespace hgca::kernels
