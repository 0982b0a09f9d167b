#include "sim/results/timeline_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <ostream>
#include <stdexcept>

#include "sim/results/atomic_file.hpp"
#include "sim/results/json_string.hpp"
#include "sim/results/number_format.hpp"

namespace hgca {
namespace {

constexpr double kMicrosecondsPerSecond = 1e6;

std::string microseconds(double seconds) { return format_fixed(seconds * kMicrosecondsPerSecond, 3); }

void check_span(const RunResult& run, size_t run_index, const TimelineSpan& span) {
  const char* problem = nullptr;
  if (!std::isfinite(span.start_s)) problem = "start is not a finite number";
  else if (!std::isfinite(span.dur_s)) problem = "duration is not a finite number";
  else if (span.dur_s < 0) problem = "duration is negative";
  if (problem) {
    throw std::runtime_error("run " + std::to_string(run_index) + " (" + run.strategy + "), span '" + span.name +
                             "' on track '" + span.track + "': " + problem);
  }
}

// Thread id of each track of one run: its rank in display order, starting at 1 (0 is left unused so no
// track is confused with the process's main thread in viewers that treat tid 0 specially).
std::map<std::string, int> thread_ids(const RunResult& run) {
  std::set<std::string> names;
  for (const auto& span : run.timeline) names.insert(span.track);
  std::vector<TrackOrder> tracks;
  for (const auto& name : names) tracks.push_back(track_order(name));
  std::sort(tracks.begin(), tracks.end());
  std::map<std::string, int> ids;
  for (const auto& track : tracks) ids.emplace(track.name, static_cast<int>(ids.size()) + 1);
  return ids;
}

// Writes the events of the traceEvents array, one per line, with the commas between them.
class EventWriter {
 public:
  explicit EventWriter(std::ostream& out) : out_(out) {}
  std::ostream& next() {
    out_ << (first_ ? "\n" : ",\n");
    first_ = false;
    return out_;
  }
  void metadata(const char* what, int pid, int tid, const std::string& args) {
    next() << "{\"ph\":\"M\",\"name\":\"" << what << "\",\"pid\":" << pid << ",\"tid\":" << tid
           << ",\"args\":{" << args << "}}";
  }

 private:
  std::ostream& out_;
  bool first_ = true;
};

void write_run(EventWriter& events, const RunResult& run, int pid) {
  const std::string process = run.point_label.empty() ? run.strategy : run.strategy + " " + run.point_label;
  events.metadata("process_name", pid, 0, "\"name\":" + json_string(process));
  events.metadata("process_sort_index", pid, 0, "\"sort_index\":" + std::to_string(pid));
  const auto tids = thread_ids(run);
  std::vector<std::pair<int, std::string>> threads;  // metadata in display order, for readers of the file
  for (const auto& [track, tid] : tids) threads.emplace_back(tid, track);
  std::sort(threads.begin(), threads.end());
  for (const auto& [tid, track] : threads) {
    events.metadata("thread_name", pid, tid, "\"name\":" + json_string(track));
    events.metadata("thread_sort_index", pid, tid, "\"sort_index\":" + std::to_string(tid));
  }
  for (const auto& span : run.timeline) {
    events.next() << "{\"ph\":\"X\",\"name\":" << json_string(span.name) << ",\"cat\":" << json_string(span.track)
        << ",\"pid\":" << pid << ",\"tid\":" << tids.at(span.track) << ",\"ts\":" << microseconds(span.start_s)
        << ",\"dur\":" << microseconds(span.dur_s) << ",\"args\":{\"step\":" << span.step
        << ",\"layer\":" << span.layer << "}}";
  }
}

}  // namespace

TrackOrder track_order(const std::string& track) {
  static const char* const kFixed[] = {"host thread", "GPU compute", "PCIe H2D", "PCIe D2H"};
  for (int i = 0; i < 4; ++i) {
    if (track == kFixed[i]) return {i, 0, track};
  }
  const std::string core_prefix = "CPU core ";
  if (track.starts_with(core_prefix) && track.size() > core_prefix.size()) {
    long core = 0;
    const char* first = track.data() + core_prefix.size();
    const char* last = track.data() + track.size();
    auto [end, ec] = std::from_chars(first, last, core);
    if (ec == std::errc() && end == last && core >= 0) return {4, core, track};
  }
  return {5, 0, track};
}

void write_timeline_json(const std::string& path, const std::vector<RunResult>& runs) {
  write_file_atomically(path, [&](std::ostream& out) {
    // Checked before the first byte is written, so a bad span costs no work; the old file stays anyway.
    for (size_t i = 0; i < runs.size(); ++i) {
      for (const auto& span : runs[i].timeline) check_span(runs[i], i, span);
    }
    out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
    EventWriter events(out);
    for (size_t i = 0; i < runs.size(); ++i) {
      if (!runs[i].timeline.empty()) write_run(events, runs[i], static_cast<int>(i));
    }
    out << "\n]}\n";
  });
}

}  // namespace hgca
