#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "sim/results/timeline_json.hpp"
#include "tests/results/json_parser.hpp"
#include "tests/results/sample_runs.hpp"
#include "tests/results/scratch_dir.hpp"

namespace hgca {
namespace {

using test::JsonValue;

TimelineSpan span(const std::string& track, const std::string& name, double start_s, double dur_s, int step = 0,
                  int layer = 0) {
  return {track, name, start_s, dur_s, step, layer};
}

// Events of the trace for process `pid`, by phase.
std::vector<JsonValue> events_of(const JsonValue& trace, int pid, const std::string& phase) {
  std::vector<JsonValue> out;
  for (const auto& e : trace["traceEvents"].array()) {
    if (e["pid"].number() == pid && e["ph"].string() == phase) out.push_back(e);
  }
  return out;
}

JsonValue write_and_parse(const std::vector<RunResult>& runs) {
  test::ScratchDir dir("timeline");
  const std::string path = dir.file("trace.json");
  write_timeline_json(path, runs);
  return test::parse_json(test::read_text(path));
}

TEST(JsonParser, RejectsWhatAStrictParserMust) {
  // The validator must itself catch malformed output, or the tests below prove nothing.
  for (const char* bad : {"{\"a\":1,}", "[1,]", "{\"a\":NaN}", "[01]", "\"tab\there\"", "{\"a\":1}{",
                          "\"\\x41\"", "{\"a\":1,\"a\":2}", "[1.]", "\"\xff\"", "\"\\ud800\""}) {
    EXPECT_THROW(test::parse_json(bad), std::runtime_error) << bad;
  }
  EXPECT_EQ(test::parse_json("\"\\u00e9\\ud83d\\ude00\"").string(), "\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(test::parse_json(" [1.5e3, -0.25] ").array()[0].number(), 1500.0);
}

TEST(TimelineJson, SpansBecomeCompleteEventsInMicroseconds) {
  RunResult run = test::simple_feasible_run("hgca", 1, 4096);
  run.timeline = {span("GPU compute", "L0 window-attn", 0.0015, 2.5e-6, 3, 0),
                  span("CPU core 1", "L7 sparse-attn", 1.25, 0.000125, 4, 7),
                  span("host thread", "prefill", 0.0, 2.0, -1, -1)};
  const JsonValue trace = write_and_parse({run});
  ASSERT_TRUE(trace.is_object());
  EXPECT_EQ(trace["displayTimeUnit"].string(), "ms");
  const auto spans = events_of(trace, 0, "X");
  ASSERT_EQ(spans.size(), 3u);
  // 0.0015 s = 1500 us; 2.5e-6 s = 2.5 us; 1.25 s = 1250000 us; 0.000125 s = 125 us.
  EXPECT_EQ(spans[0]["name"].string(), "L0 window-attn");
  EXPECT_EQ(spans[0]["ts"].number(), 1500.0);
  EXPECT_EQ(spans[0]["dur"].number(), 2.5);
  EXPECT_EQ(spans[0]["args"]["step"].number(), 3);
  EXPECT_EQ(spans[0]["args"]["layer"].number(), 0);
  EXPECT_EQ(spans[1]["ts"].number(), 1250000.0);
  EXPECT_EQ(spans[1]["dur"].number(), 125.0);
  EXPECT_EQ(spans[1]["args"]["layer"].number(), 7);
  EXPECT_EQ(spans[2]["args"]["step"].number(), -1);
  EXPECT_EQ(spans[2]["dur"].number(), 2e6);
  // Nanosecond resolution: 1.234567891 ms is written with three decimals of microseconds.
  run.timeline = {span("GPU compute", "k", 0.001234567891, 1e-9)};
  const auto fine = events_of(write_and_parse({run}), 0, "X");
  EXPECT_EQ(fine[0]["ts"].number(), 1234.568);
  EXPECT_EQ(fine[0]["dur"].number(), 0.001);
}

TEST(TimelineJson, TracksGetStableThreadsInDisplayOrder) {
  RunResult run = test::simple_feasible_run("hgca", 1, 4096);
  // Tracks appear out of order, CPU cores with numbers that sort wrongly as text.
  run.timeline = {span("CPU core 10", "a", 0, 1), span("PCIe D2H", "b", 0, 1), span("zzz extra", "c", 0, 1),
                  span("CPU core 2", "d", 0, 1),  span("GPU compute", "e", 0, 1), span("PCIe H2D", "f", 0, 1),
                  span("host thread", "g", 0, 1), span("CPU core 2", "h", 1, 1),  span("aaa extra", "i", 0, 1)};
  const JsonValue trace = write_and_parse({run});
  std::map<double, std::string> name_by_tid;
  std::map<double, double> sort_index_by_tid;
  for (const auto& e : events_of(trace, 0, "M")) {
    if (e["name"].string() == "thread_name") name_by_tid[e["tid"].number()] = e["args"]["name"].string();
    if (e["name"].string() == "thread_sort_index") sort_index_by_tid[e["tid"].number()] = e["args"]["sort_index"].number();
  }
  std::vector<std::string> order;
  for (const auto& [tid, name] : name_by_tid) {
    order.push_back(name);
    EXPECT_EQ(sort_index_by_tid.at(tid), tid);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"host thread", "GPU compute", "PCIe H2D", "PCIe D2H", "CPU core 2",
                                              "CPU core 10", "aaa extra", "zzz extra"}));
  // Each span sits on the thread of its track.
  for (const auto& e : events_of(trace, 0, "X")) {
    EXPECT_EQ(name_by_tid.at(e["tid"].number()), e["cat"].string()) << e["name"].string();
  }
}

TEST(TimelineJson, OneProcessPerRunNamedByStrategyAndLabel) {
  RunResult a = test::simple_feasible_run("hgca", 1, 4096);
  a.point_label = "ctx=4096";
  a.timeline = {span("GPU compute", "x", 0, 1)};
  RunResult no_timeline = test::simple_feasible_run("gpu-full", 1, 4096);
  RunResult c = test::simple_feasible_run("offload-fetch", 1, 4096);
  c.timeline = {span("PCIe H2D", "y", 0, 1)};
  const JsonValue trace = write_and_parse({a, no_timeline, c});
  std::map<double, std::string> process_names;
  for (const auto& e : trace["traceEvents"].array()) {
    if (e["ph"].string() == "M" && e["name"].string() == "process_name") {
      process_names[e["pid"].number()] = e["args"]["name"].string();
    }
  }
  // pid is the run's index; runs without a timeline get no process.
  EXPECT_EQ(process_names, (std::map<double, std::string>{{0, "hgca ctx=4096"}, {2, "offload-fetch"}}));
  EXPECT_EQ(events_of(trace, 2, "X").size(), 1u);
  EXPECT_TRUE(events_of(trace, 1, "X").empty());
}

TEST(TimelineJson, StringsAreEscaped) {
  RunResult run = test::simple_feasible_run("say \"hi\"\\", 1, 4096);
  run.point_label = "line\nbreak\ttab\x01";
  const std::string weird = "q\"b\\s/n\nr\rt\tc\x1f \xce\xbc" "s bad\xff end";
  run.timeline = {span("CPU core 0", weird, 0, 1)};
  const JsonValue trace = write_and_parse({run});
  const auto spans = events_of(trace, 0, "X");
  ASSERT_EQ(spans.size(), 1u);
  // The invalid byte 0xff becomes U+FFFD; everything else survives exactly.
  EXPECT_EQ(spans[0]["name"].string(), "q\"b\\s/n\nr\rt\tc\x1f \xce\xbcs bad\xef\xbf\xbd end");
  const auto meta = events_of(trace, 0, "M");
  bool found = false;
  for (const auto& e : meta) {
    if (e["name"].string() == "process_name") {
      EXPECT_EQ(e["args"]["name"].string(), "say \"hi\"\\ line\nbreak\ttab\x01");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(TimelineJson, NoRunsIsAnEmptyButValidTrace) {
  const JsonValue trace = write_and_parse({});
  EXPECT_TRUE(trace["traceEvents"].array().empty());
}

TEST(TimelineJson, NonFiniteOrNegativeTimesAreRejectedAndTheOldFileStays) {
  test::ScratchDir dir("timeline-bad");
  const std::string path = dir.file("trace.json");
  test::write_text(path, "old");
  RunResult good = test::simple_feasible_run("hgca", 1, 4096);
  good.timeline = {span("GPU compute", "fine", 0, 1)};
  for (const auto& [start, dur, problem] :
       {std::tuple{std::numeric_limits<double>::quiet_NaN(), 1.0, "start is not a finite number"},
        std::tuple{0.0, std::numeric_limits<double>::infinity(), "duration is not a finite number"},
        std::tuple{0.0, -1e-6, "duration is negative"}}) {
    RunResult bad = test::simple_feasible_run("gpu-full", 1, 4096);
    bad.timeline = {span("GPU compute", "fine", 0, 1), span("PCIe H2D", "broken", start, dur)};
    try {
      write_timeline_json(path, {good, bad});
      ADD_FAILURE() << "accepted " << problem;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()),
                "cannot write " + path + ": run 1 (gpu-full), span 'broken' on track 'PCIe H2D': " + problem);
    }
    EXPECT_EQ(test::read_text(path), "old");
    EXPECT_EQ(dir.entries(), std::set<std::string>{"trace.json"});
  }
}

TEST(TrackOrder, ParsesCoreNumbersStrictly) {
  EXPECT_LT(track_order("CPU core 9"), track_order("CPU core 10"));
  EXPECT_EQ(track_order("CPU core 12").core, 12);
  EXPECT_EQ(track_order("CPU core 1x").group, 5);  // not a core number: an "other" track
  EXPECT_EQ(track_order("CPU core ").group, 5);
  EXPECT_EQ(track_order("CPU core -1").group, 5);
  EXPECT_LT(track_order("PCIe D2H"), track_order("CPU core 0"));
}

}  // namespace
}  // namespace hgca
