#include "sim/sweep/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "sim/results/run_codec.hpp"

namespace hgca {
namespace {

constexpr const char* kMagicLine = "HGCA-SWEEP-JOURNAL 1\n";
constexpr uint32_t kRecordMarker = 0x4A524748;  // "HGRJ" read as little-endian bytes

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string header_for(const std::string& stamp) { return std::string(kMagicLine) + "stamp " + stamp + "\n"; }

std::string read_whole(int fd, const std::string& path) {
  std::string bytes;
  char buffer[1 << 16];
  if (::lseek(fd, 0, SEEK_SET) < 0) throw JournalError("cannot read " + path + ": " + errno_text(errno));
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw JournalError("cannot read " + path + ": " + errno_text(errno));
    if (n == 0) return bytes;
    bytes.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

Journal::Journal(const std::string& path, const std::string& stamp, Mode mode) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool existed = fs::exists(path, ec);
  if (!existed) {
    const fs::path dir = fs::absolute(path).parent_path();
    fs::create_directories(dir, ec);
    if (ec) throw JournalError("cannot create directory " + dir.string() + " for " + path + ": " + ec.message());
  }
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) throw JournalError("cannot open sweep journal " + path + ": " + errno_text(errno));
  // One sweep per journal: a second hgca writing the same results file would interleave records.
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw JournalError(path + " is in use by another running hgca (one sweep per results file)");
    }
    throw JournalError("cannot lock sweep journal " + path + ": " + errno_text(err));
  }
  try {
    if (!existed || mode == Mode::Fresh) {
      start_fresh(stamp);
    } else if (mode == Mode::Refuse) {
      load(stamp, /*repair=*/false);
      throw JournalError(path + " holds " + std::to_string(records()) +
                         " finished point(s) of an interrupted run: pass --resume to reuse them or --fresh to "
                         "start over");
    } else {
      load(stamp, /*repair=*/true);
    }
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
  last_sync_ = std::chrono::steady_clock::now();
}

Journal::~Journal() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

void Journal::start_fresh(const std::string& stamp) {
  finished_.clear();
  if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) < 0) {
    throw JournalError("cannot reset sweep journal " + path_ + ": " + errno_text(errno));
  }
  write_all(header_for(stamp));
  ::fdatasync(fd_);
}

void Journal::load(const std::string& stamp, bool repair) {
  const std::string bytes = read_whole(fd_, path_);
  const std::string header = header_for(stamp);
  if (bytes.compare(0, std::strlen(kMagicLine), kMagicLine) != 0) {
    throw JournalError(path_ + " is not an hgca sweep journal (first line is not '" +
                       std::string(kMagicLine, std::strlen(kMagicLine) - 1) + "'); remove it or pass --fresh");
  }
  if (bytes.compare(0, header.size(), header) != 0) {
    if (!repair) return;
    note_ = "discarded " + path_ + ": written by another hgca build or with other simulation options";
    start_fresh(stamp);
    return;
  }
  size_t pos = header.size(), good_end = pos, damaged = 0;
  const auto read_u64 = [&](size_t at) {
    uint64_t v;
    std::memcpy(&v, bytes.data() + at, sizeof v);
    return v;
  };
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 16) {
      damaged = 1;
      break;
    }
    uint32_t marker;
    std::memcpy(&marker, bytes.data() + pos, sizeof marker);
    const uint64_t n = read_u64(pos + 8);
    if (marker != kRecordMarker || n > bytes.size() - pos - 16 || bytes.size() - pos - 16 - n < 8) {
      damaged = 1;
      break;
    }
    const std::string_view payload(bytes.data() + pos + 16, n);
    if (read_u64(pos + 16 + n) != fnv1a64(payload)) {
      damaged = 1;
      break;
    }
    try {
      RunResult run = decode_run(payload);
      std::string key = run.resolved_yaml;
      finished_.insert_or_assign(std::move(key), std::move(run));
    } catch (const std::runtime_error&) {
      damaged = 1;
      break;
    }
    pos += 16 + n + 8;
    good_end = pos;
  }
  if (damaged && repair) {
    // Killed while appending: the tail is cut off so that new records follow the last good one.
    note_ = "cut off " + std::to_string(bytes.size() - good_end) + " bytes of an unfinished record at the end of " + path_;
    if (::ftruncate(fd_, static_cast<off_t>(good_end)) != 0) {
      throw JournalError("cannot repair sweep journal " + path_ + ": " + errno_text(errno));
    }
  }
  if (::lseek(fd_, 0, SEEK_END) < 0) throw JournalError("cannot seek in " + path_ + ": " + errno_text(errno));
}

const RunResult* Journal::find(const std::string& resolved_yaml) const {
  const auto it = finished_.find(resolved_yaml);
  return it == finished_.end() ? nullptr : &it->second;
}

void Journal::write_all(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw JournalError("cannot write sweep journal " + path_ + ": " + errno_text(errno));
    done += static_cast<size_t>(n);
  }
}

void Journal::append(const RunResult& run) {
  const std::string payload = encode_run(run);
  std::string record(16, '\0');
  const uint32_t marker = kRecordMarker, zero = 0;
  const uint64_t n = payload.size(), sum = fnv1a64(payload);
  std::memcpy(record.data(), &marker, 4);
  std::memcpy(record.data() + 4, &zero, 4);
  std::memcpy(record.data() + 8, &n, 8);
  record += payload;
  record.append(reinterpret_cast<const char*>(&sum), 8);
  write_all(record);  // one write(2): a kill leaves at most this record unfinished
  finished_.insert_or_assign(run.resolved_yaml, run);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_sync_ >= std::chrono::seconds(1)) {
    ::fdatasync(fd_);
    last_sync_ = now;
  }
}

void Journal::remove() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

}  // namespace hgca
