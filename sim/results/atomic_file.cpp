#include "sim/results/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <system_error>

namespace hgca {
namespace fs = std::filesystem;
namespace {

// A problem found while writing; turned into the one-line "cannot write <path>: ..." error at the boundary.
struct WriteProblem : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// Hidden name beside the target, unique per process and call, so concurrent writers never collide.
fs::path temporary_path_for(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  static const unsigned salt = std::random_device{}();
  return target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(salt) + "-" + std::to_string(counter++));
}

fs::path prepare_target(const std::string& path) {
  if (path.empty()) throw WriteProblem("the output path is empty");
  fs::path target = fs::absolute(fs::path(path));
  if (!target.has_filename()) throw WriteProblem("the output path names a directory, not a file");
  std::error_code ec;
  if (fs::is_directory(target, ec)) throw WriteProblem("it is an existing directory");
  const fs::path dir = target.parent_path();
  if (!fs::is_directory(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) throw WriteProblem("cannot create directory " + dir.string() + ": " + ec.message());
  }
  return target;
}

// Flushes the file's data to stable storage before the rename makes it visible.
void sync_file(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw WriteProblem("cannot reopen temporary file " + file.string() + ": " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw WriteProblem("cannot sync temporary file " + file.string() + ": " + errno_text(err));
}

// Exclusive creation: a leftover or foreign file with the temporary's name is never reused or clobbered.
void create_exclusively(const fs::path& temp) {
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    throw WriteProblem("cannot create a file in " + temp.parent_path().string() + ": " + errno_text(errno));
  }
  ::close(fd);
}

void fill(const fs::path& temp, const std::function<void(std::ostream&)>& write) {
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  if (!out) throw WriteProblem("cannot open temporary file " + temp.string());
  errno = 0;
  write(out);
  out.flush();
  if (out) out.close();
  // libstdc++ reports failed write(2) calls only through the stream state; errno still says why.
  if (out.fail()) throw WriteProblem(errno != 0 ? "write error: " + errno_text(errno) : "write error");
}

}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  fs::path temp;
  try {
    const fs::path target = prepare_target(path);
    const fs::path candidate = temporary_path_for(target);
    create_exclusively(candidate);
    temp = candidate;  // ours from here on: removed on failure
    fill(temp, write);
    sync_file(temp);
    std::error_code ec;
    fs::rename(temp, target, ec);
    if (ec) throw WriteProblem("cannot rename temporary file over it: " + ec.message());
  } catch (const std::exception& e) {
    if (!temp.empty()) {
      std::error_code ignored;
      fs::remove(temp, ignored);
    }
    throw std::runtime_error("cannot write " + path + ": " + e.what());
  }
}

}  // namespace hgca
