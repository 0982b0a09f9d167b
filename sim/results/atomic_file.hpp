// All-or-nothing output files. The content is written to a temporary file in the target's directory and
// renamed over the target only when writing succeeded, so a reader (or a resumed sweep) never sees a
// half-written file and a failed write leaves any previous file untouched.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

namespace hgca {

// Creates missing parent directories of `path`, lets `write` fill a binary stream opened on a fresh
// temporary file, makes the file durable (fsync) and renames it over `path`. On any failure, including an
// exception thrown by `write` and a stream error (disk full, file size limit), the temporary is removed and
// std::runtime_error("cannot write <path>: <problem>") is thrown (one line); an existing file at `path` is
// left as it was.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace hgca
