#include "sim/results/hdf5_support.hpp"

#include <algorithm>

namespace hgca::hdf5 {
namespace {

thread_local std::string last_error;

herr_t record_innermost(unsigned n, const H5E_error2_t* error, void*) {
  if (n == 0 && error->desc != nullptr) last_error = error->desc;
  return 0;
}

// Called by the library when an API call fails; walking upward visits the innermost (most specific) first.
herr_t capture_error(hid_t stack, void*) {
  last_error.clear();
  H5Ewalk2(stack, H5E_WALK_UPWARD, record_innermost, nullptr);
  return 0;
}

}  // namespace

ErrorCapture::ErrorCapture() {
  H5Eget_auto2(H5E_DEFAULT, &saved_function_, &saved_data_);
  H5Eset_auto2(H5E_DEFAULT, capture_error, nullptr);
  last_error.clear();
}

ErrorCapture::~ErrorCapture() { H5Eset_auto2(H5E_DEFAULT, saved_function_, saved_data_); }

std::string ErrorCapture::describe(const H5::Exception& e) {
  std::string text = "HDF5 " + e.getDetailMsg();
  if (!last_error.empty()) text += " (" + last_error + ")";
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

H5::StrType utf8_string_type() {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  return type;
}

std::string run_group_name(size_t index, size_t count) {
  const size_t largest = count > 0 ? count - 1 : 0;
  const size_t width = std::max<size_t>(4, std::to_string(largest).size());
  std::string digits = std::to_string(index);
  return std::string(width > digits.size() ? width - digits.size() : 0, '0') + digits;
}

}  // namespace hgca::hdf5
