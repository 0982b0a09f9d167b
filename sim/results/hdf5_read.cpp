#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <utility>

#include "sim/results/hdf5.hpp"
#include "sim/results/hdf5_support.hpp"
#include "sim/results/scalar_fields.hpp"

namespace hgca {
namespace {

// A problem with the file's content; becomes "cannot read <path>: <problem>" at the boundary.
struct ReadProblem : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* class_name(H5T_class_t type_class) {
  switch (type_class) {
    case H5T_INTEGER: return "an integer";
    case H5T_FLOAT: return "a float";
    case H5T_STRING: return "a string";
    case H5T_COMPOUND: return "a compound";
    case H5T_ENUM: return "an enum";
    case H5T_ARRAY: return "an array";
    default: return "of another HDF5 type";
  }
}

H5T_class_t expected_class(FieldType type) {
  switch (type) {
    case FieldType::String: return H5T_STRING;
    case FieldType::Real: return H5T_FLOAT;
    default: return H5T_INTEGER;
  }
}

// Integers are accepted at any width and signedness (files written by other tools, e.g. h5py) as long as
// the value fits the field.
FieldValue read_integer(const H5::Attribute& attribute, FieldType type, const std::string& what) {
  const bool is_signed = attribute.getIntType().getSign() != H5T_SGN_NONE;
  int64_t signed_value = 0;
  uint64_t unsigned_value = 0;
  if (is_signed) attribute.read(H5::PredType::NATIVE_INT64, &signed_value);
  else attribute.read(H5::PredType::NATIVE_UINT64, &unsigned_value);
  const auto out_of_range = [&] {
    return ReadProblem(what + " has value " +
                       (is_signed ? std::to_string(signed_value) : std::to_string(unsigned_value)) +
                       ", out of range for " + field_type_name(type));
  };
  switch (type) {
    case FieldType::Int:
      if (!is_signed && !std::in_range<int64_t>(unsigned_value)) throw out_of_range();
      return is_signed ? signed_value : static_cast<int64_t>(unsigned_value);
    case FieldType::UInt:
      if (is_signed && signed_value < 0) throw out_of_range();
      return is_signed ? static_cast<uint64_t>(signed_value) : unsigned_value;
    case FieldType::Bool: {
      const bool zero = is_signed ? signed_value == 0 : unsigned_value == 0;
      const bool one = is_signed ? signed_value == 1 : unsigned_value == 1;
      if (!zero && !one) throw out_of_range();
      return one;
    }
    default: throw std::logic_error("read_integer: not an integer field");
  }
}

FieldValue read_attribute(const H5::H5Object& object, const std::string& where, const char* name,
                          FieldType type) {
  const std::string what = where + " attribute '" + name + "'";
  if (!object.attrExists(name)) throw ReadProblem(what + " is missing");
  const H5::Attribute attribute = object.openAttribute(name);
  const H5T_class_t found = attribute.getTypeClass();
  if (found != expected_class(type)) {
    throw ReadProblem(what + " is " + class_name(found) + ", expected " + field_type_name(type));
  }
  if (attribute.getSpace().getSimpleExtentNpoints() != 1) throw ReadProblem(what + " is not a single value");
  switch (type) {
    case FieldType::String: {
      std::string value;
      attribute.read(attribute.getStrType(), value);
      return value;
    }
    case FieldType::Real: {
      double value = 0;
      attribute.read(H5::PredType::NATIVE_DOUBLE, &value);
      return value;
    }
    default: return read_integer(attribute, type, what);
  }
}

std::vector<double> read_step_latencies(const H5::Group& group, const std::string& where) {
  const std::string what = where + "/step_latency_s";
  if (!group.nameExists("step_latency_s") || group.childObjType("step_latency_s") != H5O_TYPE_DATASET) {
    throw ReadProblem("dataset " + what + " is missing");
  }
  const H5::DataSet data = group.openDataSet("step_latency_s");
  if (data.getTypeClass() != H5T_FLOAT) throw ReadProblem("dataset " + what + " is not float64");
  const H5::DataSpace space = data.getSpace();
  if (space.getSimpleExtentNdims() != 1) throw ReadProblem("dataset " + what + " is not one-dimensional");
  std::vector<double> values(static_cast<size_t>(space.getSimpleExtentNpoints()));
  if (!values.empty()) data.read(values.data(), H5::PredType::NATIVE_DOUBLE);
  return values;
}

HeadSelection read_head_selection(const H5::Group& group, const std::string& where) {
  HeadSelection heads;
  if (!group.nameExists("head_selection_fraction")) return heads;
  const std::string what = "dataset " + where + "/head_selection_fraction";
  const H5::DataSet data = group.openDataSet("head_selection_fraction");
  if (data.getTypeClass() != H5T_FLOAT) throw ReadProblem(what + " is not float64");
  const H5::DataSpace space = data.getSpace();
  if (space.getSimpleExtentNdims() != 2) throw ReadProblem(what + " is not two-dimensional");
  hsize_t dims[2] = {0, 0};
  space.getSimpleExtentDims(dims);
  heads.layers = static_cast<int>(dims[0]);
  heads.heads = static_cast<int>(dims[1]);
  heads.fraction.resize(dims[0] * dims[1]);
  if (!heads.fraction.empty()) data.read(heads.fraction.data(), H5::PredType::NATIVE_DOUBLE);
  return heads;
}

RunResult read_run(const H5::Group& group, const std::string& where) {
  RunResult run;
  for (const auto& field : scalar_fields()) {
    if (field.derived) continue;
    const FieldValue value = read_attribute(group, where, field.name, field.type);
    try {
      field.set(run, value);
    } catch (const std::out_of_range& e) {
      throw ReadProblem(where + " attribute '" + field.name + "': " + e.what());
    }
  }
  run.step_latency_s = read_step_latencies(group, where);
  run.head_selection = read_head_selection(group, where);
  return run;
}

// The optional /parameters table: its columns (in the `columns` attribute's order) appended to each run.
void read_parameters(const H5::H5File& file, std::vector<RunResult>& runs) {
  if (!file.nameExists("parameters")) return;
  if (file.childObjType("parameters") != H5O_TYPE_GROUP) throw ReadProblem("/parameters is not a group");
  const H5::Group group = file.openGroup("parameters");
  if (!group.attrExists("columns")) throw ReadProblem("/parameters attribute 'columns' is missing");
  const H5::Attribute columns = group.openAttribute("columns");
  if (columns.getTypeClass() != H5T_STRING) throw ReadProblem("/parameters attribute 'columns' is not strings");
  std::vector<char*> names(static_cast<size_t>(columns.getSpace().getSimpleExtentNpoints()));
  if (!names.empty()) columns.read(columns.getStrType(), names.data());
  std::vector<std::string> keys(names.begin(), names.end());
  if (!names.empty()) H5Dvlen_reclaim(columns.getStrType().getId(), columns.getSpace().getId(), H5P_DEFAULT, names.data());
  for (const auto& key : keys) {
    const std::string what = "dataset /parameters/" + key;
    if (!group.nameExists(key) || group.childObjType(key) != H5O_TYPE_DATASET) throw ReadProblem(what + " is missing");
    const H5::DataSet data = group.openDataSet(key);
    const H5::DataSpace space = data.getSpace();
    if (space.getSimpleExtentNdims() != 1 || static_cast<size_t>(space.getSimpleExtentNpoints()) != runs.size()) {
      throw ReadProblem(what + " does not have one value per run");
    }
    std::string unit;
    if (data.attrExists("unit")) unit = std::get<std::string>(read_attribute(data, what, "unit", FieldType::String));
    Parameter p{.key = key, .unit = unit};
    if (data.getTypeClass() == H5T_STRING) {
      std::vector<char*> values(runs.size());
      if (!values.empty()) data.read(values.data(), data.getStrType());
      for (size_t i = 0; i < runs.size(); ++i) {
        p.is_text = true;
        p.text = values[i] ? values[i] : "";
        runs[i].parameters.push_back(p);
      }
      if (!values.empty()) H5Dvlen_reclaim(data.getStrType().getId(), space.getId(), H5P_DEFAULT, values.data());
    } else if (data.getTypeClass() == H5T_FLOAT) {
      std::vector<double> values(runs.size());
      if (!values.empty()) data.read(values.data(), H5::PredType::NATIVE_DOUBLE);
      for (size_t i = 0; i < runs.size(); ++i) {
        p.number = values[i];
        runs[i].parameters.push_back(p);
      }
    } else {
      throw ReadProblem(what + " is neither float64 nor string");
    }
  }
}

void check_format(const H5::H5File& file) {
  if (!file.attrExists("format")) {
    throw ReadProblem("not an hgca results file (root attribute 'format' is missing)");
  }
  const auto format = std::get<std::string>(read_attribute(file, "root", "format", FieldType::String));
  if (format != kResultsFormatName) {
    throw ReadProblem("not an hgca results file (root attribute 'format' is '" + format + "', expected '" +
                      kResultsFormatName + "')");
  }
  const auto version = std::get<int64_t>(read_attribute(file, "root", "format_version", FieldType::Int));
  if (version != kResultsFormatVersion) {
    throw ReadProblem("format_version " + std::to_string(version) + " is not supported (this build reads " +
                      std::to_string(kResultsFormatVersion) + ")");
  }
}

// Names of the run groups in run order; they must be the decimal numbers 0..n-1.
std::vector<std::string> run_group_names(const H5::Group& runs) {
  std::vector<std::pair<uint64_t, std::string>> numbered;
  for (hsize_t i = 0; i < runs.getNumObjs(); ++i) {
    const std::string name = runs.getObjnameByIdx(i);
    const bool digits = !name.empty() && name.size() <= 18 &&
                        std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || runs.childObjType(name) != H5O_TYPE_GROUP) {
      throw ReadProblem("/runs/" + name + " is not a run group (expected groups named by run index)");
    }
    numbered.emplace_back(std::stoull(name), name);
  }
  std::sort(numbered.begin(), numbered.end());
  std::vector<std::string> names;
  for (size_t i = 0; i < numbered.size(); ++i) {
    if (numbered[i].first != i) {
      throw ReadProblem("run " + std::to_string(i) + " is missing from /runs (found /runs/" + numbered[i].second +
                        " in its place)");
    }
    names.push_back(numbered[i].second);
  }
  return names;
}

}  // namespace

std::vector<RunResult> read_hdf5(const std::string& path) {
  namespace fs = std::filesystem;
  try {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw ReadProblem("no such file");
    if (fs::is_directory(path, ec)) throw ReadProblem("it is a directory");
    hdf5::ErrorCapture errors;
    if (H5Fis_hdf5(path.c_str()) <= 0) throw ReadProblem("not an HDF5 file");
    try {
      const H5::H5File file(path, H5F_ACC_RDONLY);
      check_format(file);
      if (!file.nameExists("runs") || file.childObjType("runs") != H5O_TYPE_GROUP) {
        throw ReadProblem("group /runs is missing");
      }
      const H5::Group runs_group = file.openGroup("runs");
      std::vector<RunResult> runs;
      for (const auto& name : run_group_names(runs_group)) {
        runs.push_back(read_run(runs_group.openGroup(name), "/runs/" + name));
      }
      read_parameters(file, runs);
      return runs;
    } catch (const H5::Exception& e) {
      throw ReadProblem(hdf5::ErrorCapture::describe(e));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read " + path + ": " + e.what());
  }
}

}  // namespace hgca
