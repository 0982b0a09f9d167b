// settle_machine: waits only while the machine's uptime is below the minimum, never past max_wait, and says so.
#include "kernels/cpu/settle.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace hgca::kernels {
namespace {

SettleOptions small(std::function<double()> uptime, std::vector<std::string>* lines) {
  SettleOptions o;
  o.threads = 2;
  o.buffer_bytes = 1 << 20;
  o.uptime = std::move(uptime);
  o.log = [lines](const std::string& l) { lines->push_back(l); };
  return o;
}

TEST(Settle, NoWaitOnAMachineUpLongEnoughOrOfUnknownUptime) {
  std::vector<std::string> lines;
  SettleOptions o = small([] { return 1000.0; }, &lines);
  EXPECT_EQ(settle_machine(o), 0.0);
  o.uptime = [] { return -1.0; };  // /proc/uptime unreadable: measure anyway
  EXPECT_EQ(settle_machine(o), 0.0);
  o.uptime = [] { return 1.0; };
  o.min_uptime_s = 0;  // --settle-s 0
  EXPECT_EQ(settle_machine(o), 0.0);
  EXPECT_TRUE(lines.empty());
}

TEST(Settle, WaitsUntilTheUptimeIsReached) {
  // The machine "booted" 0.25 s before the minimum: the wait ends when its clock passes the minimum.
  const auto t0 = std::chrono::steady_clock::now();
  auto uptime = [t0] { return 10.0 + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  std::vector<std::string> lines;
  SettleOptions o = small(uptime, &lines);
  o.min_uptime_s = 10.25;
  const double waited = settle_machine(o);
  EXPECT_GE(uptime(), 10.25);
  EXPECT_GE(waited, 0.2);
  EXPECT_LT(waited, 5.0);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "settling: the machine has been up 10 s; streaming memory for 0 s first");
  EXPECT_EQ(lines[1].rfind("settling: done after", 0), 0u);
}

TEST(Settle, NeverWaitsLongerThanMaxWait) {
  std::vector<std::string> lines;
  SettleOptions o = small([] { return 0.0; }, &lines);  // a clock that never advances
  o.min_uptime_s = 3600;
  o.max_wait_s = 0.2;
  const double waited = settle_machine(o);
  EXPECT_GE(waited, 0.2);
  EXPECT_LT(waited, 5.0);
  EXPECT_NE(lines.at(0).find("for 0 s first"), std::string::npos);  // min(3600 - 0, 0.2) s, rounded
}

TEST(Settle, ReadsThisMachinesUptime) {
  const double up = machine_uptime_seconds();
  if (up < 0) GTEST_SKIP() << "no /proc/uptime here";
  EXPECT_GT(up, 0.0);
}

}  // namespace
}  // namespace hgca::kernels
