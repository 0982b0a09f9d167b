// The checkpoint of a sweep: an append-only file beside the results file (R.h5 -> R.h5.journal) holding the
// result of every point as soon as it is finished. A sweep that is killed leaves the journal behind; run again
// with --resume, it reuses every finished point whose resolved configuration is unchanged and computes only the
// rest. The results file itself is written once, atomically, at the end, so it is never half-written.
//
// File layout (docs/EXPERIMENTS.md, "Resuming"): two text lines, "HGCA-SWEEP-JOURNAL 1" and "stamp <text>",
// then records [u32 'HGRJ'][u32 0][u64 n][n bytes: encode_run()][u64 fnv1a64 of the n bytes]. A record cut
// short or damaged (the process was killed while writing it) ends the usable part; it is cut off on resume.
// Records are matched to points by the whole resolved configuration (RunResult::resolved_yaml), and only
// under the same stamp (tool version, codec schema, simulation options).
#pragma once

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>

#include "sim/results/run_result.hpp"

namespace hgca {

struct JournalError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Journal {
 public:
  enum class Mode {
    Refuse,  // an existing journal is an error (the user must choose --resume or --fresh)
    Resume,  // reuse an existing journal's records (a journal of another stamp is discarded, with a note)
    Fresh,   // discard any existing journal
  };

  static std::string path_for(const std::string& results_path) { return results_path + ".journal"; }

  // Opens (creating it when missing) and locks the journal. Throws JournalError with a one-line message when
  // it is locked by another running hgca, exists in Refuse mode, or cannot be read or written.
  Journal(const std::string& path, const std::string& stamp, Mode mode);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // The finished result of the point with this resolved configuration (found on opening or appended since),
  // or nullptr.
  const RunResult* find(const std::string& resolved_yaml) const;
  size_t records() const { return finished_.size(); }
  // What opening found, for the user: "" or e.g. "discarded 1 damaged record at the end".
  const std::string& note() const { return note_; }

  // Appends one finished result. Data reaches the disk at least once a second (fdatasync) and on close.
  // Callers serialize calls.
  void append(const RunResult& run);
  // Deletes the journal: call once the results file is written.
  void remove();

  const std::string& path() const { return path_; }

 private:
  // Reads the records; with `repair`, also discards a journal of another stamp and cuts off a damaged tail.
  void load(const std::string& stamp, bool repair);
  void start_fresh(const std::string& stamp);
  void write_all(const std::string& bytes);

  std::string path_;
  int fd_ = -1;
  std::map<std::string, RunResult> finished_;
  std::string note_;
  std::chrono::steady_clock::time_point last_sync_;
};

}  // namespace hgca
