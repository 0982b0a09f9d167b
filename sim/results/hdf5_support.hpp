// HDF5 plumbing shared by the results writer and reader; nothing outside sim/results includes it.
#pragma once

#include <H5Cpp.h>

#include <string>

namespace hgca::hdf5 {

// While alive, HDF5 prints nothing to stderr and the innermost error of the last failing call is kept for
// describe(); the previous error handler is restored on destruction.
class ErrorCapture {
 public:
  ErrorCapture();
  ~ErrorCapture();
  ErrorCapture(const ErrorCapture&) = delete;
  ErrorCapture& operator=(const ErrorCapture&) = delete;

  // One line: the failing C++ call, then what the library said at the bottom of its error stack
  // (e.g. "unable to open file: ... errno = 13, error message = 'Permission denied'").
  static std::string describe(const H5::Exception& e);

 private:
  H5E_auto2_t saved_function_ = nullptr;
  void* saved_data_ = nullptr;
};

// Variable-length UTF-8 string type, used for every string attribute and column.
H5::StrType utf8_string_type();

// Name of run group `index` among `count` runs: zero-padded to at least 4 digits, wider when needed, so
// names sort in run order.
std::string run_group_name(size_t index, size_t count);

}  // namespace hgca::hdf5
