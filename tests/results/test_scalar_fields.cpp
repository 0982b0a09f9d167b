#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sim/results/scalar_fields.hpp"
#include "tests/results/sample_runs.hpp"
#include "tests/results/scratch_dir.hpp"

namespace hgca {
namespace {

TEST(ScalarFields, NamesAreUniqueAndOnlyResolvedYamlIsLeftOutOfTables) {
  std::set<std::string> names;
  for (const auto& f : scalar_fields()) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate " << f.name;
    EXPECT_EQ(f.derived, f.set == nullptr) << f.name;
    EXPECT_EQ(f.tabular, std::string(f.name) != "resolved_yaml") << f.name;
  }
  EXPECT_EQ(find_scalar_field("tokens_per_s")->type, FieldType::Real);
  EXPECT_EQ(find_scalar_field("seed")->type, FieldType::UInt);
  EXPECT_EQ(find_scalar_field("batch")->type, FieldType::Int);
  EXPECT_EQ(find_scalar_field("feasible")->type, FieldType::Bool);
  EXPECT_EQ(find_scalar_field("no_such_field"), nullptr);
}

TEST(ScalarFields, GettersAndSettersReachTheRightMembers) {
  RunResult r;
  find_scalar_field("busy_cpu_core_s")->set(r, 3.5);
  find_scalar_field("cpu_mem_staging_bytes")->set(r, 7.0);
  find_scalar_field("batch")->set(r, int64_t{12});
  find_scalar_field("seed")->set(r, uint64_t{99});
  find_scalar_field("feasible")->set(r, false);
  find_scalar_field("hardware")->set(r, std::string("h200"));
  EXPECT_EQ(r.busy.cpu_core_seconds, 3.5);
  EXPECT_EQ(r.cpu_memory.staging, 7.0);
  EXPECT_EQ(r.gpu_memory.staging, 0.0);
  EXPECT_EQ(r.batch, 12);
  EXPECT_EQ(r.seed, 99u);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.hardware, "h200");

  const RunResult full = test::fully_populated_run();
  EXPECT_EQ(std::get<double>(find_scalar_field("gpu_mem_total_bytes")->get(full)), 1.1 + 1.2 + 1.3 + 1.4 + 1.5);
  EXPECT_EQ(std::get<double>(find_scalar_field("busy_d2h_s")->get(full)), 0.13);
  EXPECT_EQ(std::get<int64_t>(find_scalar_field("context")->get(full)), 123456789012);
  const RunResult simple = test::simple_feasible_run("hgca", 1, 4096);
  EXPECT_EQ(std::get<double>(find_scalar_field("cpu_share")->get(simple)), 0.75);
  EXPECT_EQ(std::get<double>(find_scalar_field("d2h_share")->get(simple)), 0.1);
}

TEST(ScalarFields, SettersRejectValuesTheMemberCannotHold) {
  RunResult r;
  EXPECT_THROW(find_scalar_field("batch")->set(r, int64_t{1} << 40), std::out_of_range);
  EXPECT_THROW(find_scalar_field("cpu_cores_used")->set(r, int64_t{-1} << 40), std::out_of_range);
  EXPECT_EQ(r.batch, 0);
}

TEST(ScalarFields, EveryFieldIsDocumented) {
  const std::string docs = test::read_text(std::string(HGCA_SOURCE_DIR) + "/docs/RESULTS.md");
  ASSERT_FALSE(docs.empty()) << "docs/RESULTS.md not found";
  for (const auto& f : scalar_fields()) {
    EXPECT_NE(docs.find(std::string("`") + f.name + "`"), std::string::npos) << f.name << " is not in RESULTS.md";
  }
}

}  // namespace
}  // namespace hgca
