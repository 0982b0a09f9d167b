#include "traces/format/hdf5_layout.hpp"

#include <algorithm>

namespace hgca::traces::layout {
namespace {

thread_local std::string last_error;

herr_t record_innermost(unsigned n, const H5E_error2_t* error, void*) {
  if (n == 0 && error->desc != nullptr) last_error = error->desc;
  return 0;
}

herr_t capture_error(hid_t stack, void*) {
  last_error.clear();
  H5Ewalk2(stack, H5E_WALK_UPWARD, record_innermost, nullptr);
  return 0;
}

H5::FloatType make_fp16() {
  // IEEE binary16: sign bit 15, exponent bits 10..14 (bias 15), mantissa bits 0..9. h5py defines the same
  // type, so numpy sees float16.
  H5::FloatType type(H5::PredType::IEEE_F32LE);
  type.setFields(15, 10, 5, 0, 10);
  type.setOffset(0);
  type.setPrecision(16);
  type.setSize(2);
  type.setEbias(15);
  return type;
}

}  // namespace

size_t element_size(const std::string& storage_dtype) { return storage_dtype == "float32" ? 4 : 2; }

H5::DataType file_type(const std::string& storage_dtype) {
  if (storage_dtype == "float16") return make_fp16();
  if (storage_dtype == "bfloat16") return H5::PredType::STD_U16LE;
  return H5::PredType::IEEE_F32LE;
}

bool matches_storage_dtype(const H5::DataType& type, const std::string& storage_dtype) {
  const H5T_class_t cls = type.getClass();
  if (storage_dtype == "float32") return cls == H5T_FLOAT && type.getSize() == 4;
  if (storage_dtype == "bfloat16") {
    if (cls != H5T_INTEGER || type.getSize() != 2) return false;
    const H5::IntType it(type.getId());
    return it.getSign() == H5T_SGN_NONE && it.getOrder() == H5T_ORDER_LE;
  }
  if (storage_dtype == "float16") {
    if (cls != H5T_FLOAT || type.getSize() != 2) return false;
    const H5::FloatType ft(type.getId());
    size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    ft.getFields(spos, epos, esize, mpos, msize);
    return ft.getOrder() == H5T_ORDER_LE && spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 &&
           ft.getEbias() == 15;
  }
  return false;
}

std::string describe_type(const H5::DataType& type) {
  const size_t bits = type.getSize() * 8;
  switch (type.getClass()) {
    case H5T_FLOAT: return "float" + std::to_string(bits);
    case H5T_INTEGER: {
      const H5::IntType it(type.getId());
      return std::string(it.getSign() == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    }
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    default: return "another HDF5 type";
  }
}

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex m;
  return m;
}

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

}  // namespace hgca::traces::layout
