// Policy spec strings: canonical forms and one-line errors naming the spec and the key.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "traces/policies/policy.hpp"

namespace hgca::traces {
namespace {

std::string error_of(const std::string& spec, bool shared = false) {
  try {
    make_policy(spec, PolicyOptions{shared});
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(PolicySpec, CanonicalForms) {
  EXPECT_EQ(make_policy("topk:k=256")->spec(), "topk:k=256");
  EXPECT_EQ(make_policy(" topk : frac = 0.02 ")->spec(), "topk:frac=0.02");
  EXPECT_EQ(make_policy("topk:frac=0.02,adapt=entropy")->spec(), "topk:frac=0.02,adapt=entropy");
  EXPECT_EQ(make_policy("topp:p=0.95")->spec(), "topp:p=0.95");
  EXPECT_EQ(make_policy("threshold:t=1e-3")->spec(), "threshold:t=0.001");
  EXPECT_EQ(make_policy("block:size=16,k=32")->spec(), "block:size=16,k=32");
  EXPECT_EQ(make_policy("h2o:budget=0.05")->spec(), "h2o:budget=0.05");
  EXPECT_EQ(make_policy("random:frac=0.05,seed=1")->spec(), "random:frac=0.05,seed=1");
  EXPECT_EQ(make_policy("oracle:frac=0.02")->spec(), "oracle:frac=0.02");
  EXPECT_EQ(make_policy("sinks:n=4")->spec(), "sinks:n=4");
  EXPECT_EQ(make_policy("sinks")->spec(), "sinks:n=0");
  EXPECT_EQ(make_policy("none")->spec(), "sinks:n=0");
  EXPECT_EQ(make_policy("topk:k=8", {true})->spec(), "topk:k=8,share=sum");
  EXPECT_EQ(make_policy("topk:k=8,share=union", {true})->spec(), "topk:k=8,share=union");
  EXPECT_TRUE(make_policy("topk:k=8", {true})->options().shared_kv);
  EXPECT_EQ(make_policy("random:k=3", {true})->spec(), "random:k=3,seed=0,shared");
}

TEST(PolicySpec, WhatEachPolicyNeedsAndCosts) {
  EXPECT_TRUE(make_policy("topk:k=1")->needs().scores);
  EXPECT_EQ(make_policy("block:size=16,k=2")->needs().summary_block, 16);
  EXPECT_FALSE(make_policy("block:size=16,k=2")->needs().scores);
  EXPECT_FALSE(make_policy("random:k=1")->needs().scores);
  EXPECT_STREQ(make_policy("topk:k=1")->selection_method(), "key-scan");
  EXPECT_STREQ(make_policy("block:size=8,k=1")->selection_method(), "block-summary");
  EXPECT_STREQ(make_policy("h2o:k=1")->selection_method(), "accumulated");
  EXPECT_STREQ(make_policy("oracle:k=1")->selection_method(), "oracle");
  EXPECT_NE(make_policy("oracle:k=1")->planner(), nullptr);
  EXPECT_EQ(make_policy("topk:k=1")->planner(), nullptr);
  EXPECT_NE(make_policy("topk:k=1,adapt=entropy")->planner(), nullptr);
}

TEST(PolicySpec, ErrorsNameTheSpecAndTheKey) {
  const struct {
    std::string spec;
    std::string want;
    bool shared = false;
  } cases[] = {
      {"magic:k=1", "unknown policy \"magic\" (known: topk, topp"},
      {"topk:kk=3", "unknown key \"kk\" for topk (accepted: k, frac, adapt, share)"},
      {"topk", "give exactly one budget"},
      {"topk:k=3,frac=0.1", "give exactly one budget"},
      {"topk:k=0", "k=0 is out of range"},
      {"topk:k=abc", "k=abc is not an integer"},
      {"topk:frac=0", "frac=0 is out of range (expected (0, 1])"},
      {"topk:frac=1.5", "frac=1.5 is out of range"},
      {"topk:frac=nan", "frac=nan is not a number"},
      {"topk:k", "\"k\" is not key=value"},
      {"topk:k=1,k=2", "key \"k\" given twice"},
      {"topk:k=1,share=sum", "share= applies only with a shared KV-group selection"},
      {"topk:k=1,share=max", "share=max is not one of sum | union", true},
      {"topk:k=1,adapt=entropy", "not with --shared-kv", true},
      {"topk:k=1,adapt=magic", "adapt=magic is not one of none | entropy"},
      {"topp:p=0", "p=0 is out of range"},
      {"topp:p=1.01", "p=1.01 is out of range"},
      {"threshold:t=-1", "t=-1 is out of range"},
      {"block:k=3", "missing key \"size\""},
      {"block:size=0,k=3", "size=0 is out of range"},
      {"h2o:budget=0.1,k=3", "give exactly one budget"},
      {"random:frac=0.1,seed=-1", "seed=-1 is out of range"},
      {"oracle:k=2,share=sum", "unknown key \"share\" for oracle"},
      {"sinks:n=-1", "n=-1 is out of range"},
      {":k=1", "missing the policy name"},
  };
  for (const auto& c : cases) {
    const std::string e = error_of(c.spec, c.shared);
    EXPECT_NE(e.find("policy \"" + c.spec + "\""), std::string::npos) << c.spec << " -> " << e;
    EXPECT_NE(e.find(c.want), std::string::npos) << c.spec << " -> " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << c.spec;
  }
}

}  // namespace
}  // namespace hgca::traces
