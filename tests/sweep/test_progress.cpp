#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "sim/sweep/progress.hpp"

namespace hgca {
namespace {

TEST(Progress, LineShowsBarCountShareRateAndEta) {
  // 412 of 1000 done, 400 of them computed in 20 s: 20 points/s, 588 left -> 29.4 s.
  EXPECT_EQ(Progress::line(412, 1000, 400, 20.0, true),
            "[#########---------------]   412/1000 points   41%  20.0 points/s  ETA 29 s");
  EXPECT_EQ(Progress::line(412, 1000, 400, 20.0, false), " 412/1000 points   41%  20.0 points/s  ETA 29 s");
  // Nothing computed yet (all reused so far): no rate, no ETA.
  EXPECT_EQ(Progress::line(10, 30, 0, 1.0, false), "10/30 points   33%");
  EXPECT_EQ(Progress::line(30, 30, 30, 1.5, false), "30/30 points  100%  20.0 points/s");
}

TEST(Progress, DurationsReadNaturally) {
  EXPECT_EQ(Progress::duration(0.44), "0.4 s");
  EXPECT_EQ(Progress::duration(48.2), "48 s");
  EXPECT_EQ(Progress::duration(185), "3 min 05 s");
  EXPECT_EQ(Progress::duration(7625), "2 h 07 min");
}

TEST(Progress, WithoutATerminalItPrintsPlainLinesAndAFinalSummary) {
  std::ostringstream out;
  Progress p(out, 3, 1, /*terminal=*/false, /*log_interval_s=*/0.0);
  p.advance();
  p.advance();
  p.finish();
  p.finish();  // idempotent
  const std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find("\033"), std::string::npos);
  EXPECT_NE(text.find("hgca: 2/3 points   66%"), std::string::npos) << text;
  EXPECT_NE(text.find("hgca: 3/3 points in "), std::string::npos) << text;
  EXPECT_NE(text.find("(1 reused from the journal)"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;  // one progress line, one summary
}

TEST(Progress, OnATerminalItRedrawsOneLine) {
  std::ostringstream out;
  Progress p(out, 2, 0, /*terminal=*/true);
  p.advance();
  p.finish();
  const std::string text = out.str();
  EXPECT_EQ(text.rfind("\r[", 0), 0u) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;  // only after the final line
}

}  // namespace
}  // namespace hgca
