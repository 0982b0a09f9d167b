#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <iterator>
#include <ostream>
#include <ctime>
#include <stdexcept>

#include "sim/results/atomic_file.hpp"
#include "sim/results/hdf5.hpp"
#include "sim/results/hdf5_support.hpp"
#include "sim/results/scalar_fields.hpp"

namespace hgca {
namespace {

// File types are explicit little-endian standard types so a file reads the same on any machine.
// (Returned by value: HDF5 objects must not outlive the library, so none is kept in a static.)
H5::DataType file_type(FieldType type) {
  switch (type) {
    case FieldType::String: return hdf5::utf8_string_type();
    case FieldType::Int: return H5::PredType::STD_I64LE;
    case FieldType::UInt: return H5::PredType::STD_U64LE;
    case FieldType::Real: return H5::PredType::IEEE_F64LE;
    case FieldType::Bool: return H5::PredType::STD_U8LE;  // 0 or 1
  }
  throw std::logic_error("unknown field type");
}

void write_string_attribute(H5::H5Object& object, const char* name, const std::string& value) {
  const H5::StrType type = hdf5::utf8_string_type();
  object.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, value);
}

void write_attribute(H5::H5Object& object, const char* name, const FieldValue& value) {
  struct Visitor {
    H5::H5Object& object;
    const char* name;
    void scalar(const H5::DataType& file, const H5::PredType& memory, const void* data) const {
      object.createAttribute(name, file, H5::DataSpace(H5S_SCALAR)).write(memory, data);
    }
    void operator()(const std::string& v) const { write_string_attribute(object, name, v); }
    void operator()(int64_t v) const { scalar(file_type(FieldType::Int), H5::PredType::NATIVE_INT64, &v); }
    void operator()(uint64_t v) const { scalar(file_type(FieldType::UInt), H5::PredType::NATIVE_UINT64, &v); }
    void operator()(double v) const { scalar(file_type(FieldType::Real), H5::PredType::NATIVE_DOUBLE, &v); }
    void operator()(bool v) const {
      const uint8_t byte = v ? 1 : 0;
      scalar(file_type(FieldType::Bool), H5::PredType::NATIVE_UINT8, &byte);
    }
  };
  std::visit(Visitor{object, name}, value);
}

H5::DataSpace vector_space(size_t n) {
  const hsize_t dims[1] = {n};
  return H5::DataSpace(1, dims);
}

void write_run(H5::Group& group, const RunResult& run) {
  for (const auto& field : scalar_fields()) write_attribute(group, field.name, field.get(run));
  const auto& steps = run.step_latency_s;
  H5::DataSet latencies =
      group.createDataSet("step_latency_s", file_type(FieldType::Real), vector_space(steps.size()));
  if (!steps.empty()) latencies.write(steps.data(), H5::PredType::NATIVE_DOUBLE);
  write_string_attribute(latencies, "unit", "s");
  const HeadSelection& heads = run.head_selection;
  if (!heads.fraction.empty()) {
    if (heads.layers <= 0 || heads.heads <= 0 ||
        heads.fraction.size() != static_cast<size_t>(heads.layers) * static_cast<size_t>(heads.heads)) {
      throw std::invalid_argument("head selection of run '" + run.point_label + "' has " +
                                  std::to_string(heads.fraction.size()) + " values for " +
                                  std::to_string(heads.layers) + " layers x " + std::to_string(heads.heads) +
                                  " heads");
    }
    const hsize_t dims[2] = {static_cast<hsize_t>(heads.layers), static_cast<hsize_t>(heads.heads)};
    H5::DataSet fraction =
        group.createDataSet("head_selection_fraction", file_type(FieldType::Real), H5::DataSpace(2, dims));
    fraction.write(heads.fraction.data(), H5::PredType::NATIVE_DOUBLE);
    write_string_attribute(fraction, "unit", "1");
  }
}

// One column per parameter key (in order of first appearance), one row per run; a run without the key
// holds NaN or "". Written only when some run has parameters.
void write_parameters(H5::H5File& file, const std::vector<RunResult>& runs) {
  struct Column {
    std::string key, unit;
    bool is_text;
  };
  std::vector<Column> columns;
  for (const auto& run : runs) {
    for (const auto& p : run.parameters) {
      auto found = std::find_if(columns.begin(), columns.end(), [&](const Column& c) { return c.key == p.key; });
      if (found == columns.end()) columns.push_back({p.key, p.unit, p.is_text});
      else if (found->is_text != p.is_text) {
        throw std::invalid_argument("parameter '" + p.key + "' is a number in one run and text in another");
      }
    }
  }
  if (columns.empty()) return;
  H5::Group group = file.createGroup("parameters");
  std::vector<const char*> names;
  for (const auto& column : columns) {
    const auto value_of = [&](const RunResult& run) -> const Parameter* {
      for (const auto& p : run.parameters)
        if (p.key == column.key) return &p;
      return nullptr;
    };
    H5::DataSet data = group.createDataSet(column.key, file_type(column.is_text ? FieldType::String : FieldType::Real),
                                           vector_space(runs.size()));
    if (column.is_text) {
      std::vector<std::string> values;
      for (const auto& run : runs) values.push_back(value_of(run) ? value_of(run)->text : std::string());
      std::vector<const char*> pointers;
      for (const auto& v : values) pointers.push_back(v.c_str());
      data.write(pointers.data(), file_type(FieldType::String));
    } else {
      std::vector<double> values;
      for (const auto& run : runs)
        values.push_back(value_of(run) ? value_of(run)->number : std::numeric_limits<double>::quiet_NaN());
      data.write(values.data(), H5::PredType::NATIVE_DOUBLE);
    }
    write_string_attribute(data, "unit", column.unit);
    names.push_back(column.key.c_str());
  }
  const H5::StrType type = hdf5::utf8_string_type();
  group.createAttribute("columns", type, vector_space(names.size())).write(type, names.data());
}

// One column of the summary table: the values of `field` for all runs.
void write_column(H5::Group& summary, const ScalarField& field, const std::vector<RunResult>& runs) {
  const size_t n = runs.size();
  H5::DataSet column = summary.createDataSet(field.name, file_type(field.type), vector_space(n));
  write_string_attribute(column, "unit", field.unit);
  if (n == 0) return;
  switch (field.type) {
    case FieldType::String: {
      std::vector<std::string> values;
      std::vector<const char*> pointers;
      for (const auto& run : runs) values.push_back(std::get<std::string>(field.get(run)));
      for (const auto& value : values) pointers.push_back(value.c_str());
      column.write(pointers.data(), file_type(FieldType::String));
      break;
    }
    case FieldType::Int: {
      std::vector<int64_t> values;
      for (const auto& run : runs) values.push_back(std::get<int64_t>(field.get(run)));
      column.write(values.data(), H5::PredType::NATIVE_INT64);
      break;
    }
    case FieldType::UInt: {
      std::vector<uint64_t> values;
      for (const auto& run : runs) values.push_back(std::get<uint64_t>(field.get(run)));
      column.write(values.data(), H5::PredType::NATIVE_UINT64);
      break;
    }
    case FieldType::Real: {
      std::vector<double> values;
      for (const auto& run : runs) values.push_back(std::get<double>(field.get(run)));
      column.write(values.data(), H5::PredType::NATIVE_DOUBLE);
      break;
    }
    case FieldType::Bool: {
      std::vector<uint8_t> values;
      for (const auto& run : runs) values.push_back(std::get<bool>(field.get(run)) ? 1 : 0);
      column.write(values.data(), H5::PredType::NATIVE_UINT8);
      break;
    }
  }
}

void write_summary(H5::Group& summary, const std::vector<RunResult>& runs) {
  std::vector<const char*> names;
  for (const auto& field : scalar_fields()) {
    if (!field.tabular) continue;
    write_column(summary, field, runs);
    names.push_back(field.name);
  }
  // The column order, since HDF5 lists a group's members alphabetically.
  const H5::StrType type = hdf5::utf8_string_type();
  summary.createAttribute("columns", type, vector_space(names.size())).write(type, names.data());
}

std::string utc_timestamp_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// The whole file, built in memory by HDF5's core driver. HDF5 never touches the disk: a file it fails to
// flush stays open inside the library until exit (and can crash it there), so all disk I/O, with its
// errors, goes through write_file_atomically instead.
std::vector<char> build_image(const std::vector<RunResult>& runs, const ResultsFileInfo& info) {
  static std::atomic<int> files_built{0};  // unique in-memory names; HDF5 itself is not thread-safe
  hdf5::ErrorCapture errors;
  try {
    H5::FileAccPropList in_memory;
    in_memory.setCore(1 << 20, /*backing_store=*/false);
    H5::H5File file("hgca-results-in-memory-" + std::to_string(files_built++), H5F_ACC_TRUNC,
                    H5::FileCreatPropList::DEFAULT, in_memory);
    write_string_attribute(file, "format", kResultsFormatName);
    const int64_t version = kResultsFormatVersion;
    file.createAttribute("format_version", H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR))
        .write(H5::PredType::NATIVE_INT64, &version);
    write_string_attribute(file, "tool_version", info.tool_version);
    write_string_attribute(file, "created", utc_timestamp_now());
    if (!info.description.empty()) write_string_attribute(file, "description", info.description);
    if (!info.figures.empty()) {
      std::vector<const char*> names;
      for (const auto& name : info.figures) names.push_back(name.c_str());
      const H5::StrType type = hdf5::utf8_string_type();
      file.createAttribute("figures", type, vector_space(names.size())).write(type, names.data());
    }
    {
      H5::Group runs_group = file.createGroup("runs");
      for (size_t i = 0; i < runs.size(); ++i) {
        H5::Group group = runs_group.createGroup(hdf5::run_group_name(i, runs.size()));
        write_run(group, runs[i]);
      }
      H5::Group summary = file.createGroup("summary");
      write_summary(summary, runs);
      write_parameters(file, runs);
    }  // every object closed: the image below is complete
    file.flush(H5F_SCOPE_GLOBAL);
    const ssize_t size = H5Fget_file_image(file.getId(), nullptr, 0);
    if (size < 0) throw H5::FileIException("H5Fget_file_image", "cannot size the file image");
    std::vector<char> image(static_cast<size_t>(size));
    if (H5Fget_file_image(file.getId(), image.data(), image.size()) != size) {
      throw H5::FileIException("H5Fget_file_image", "cannot copy the file image");
    }
    file.close();
    return image;
  } catch (const H5::Exception& e) {
    throw std::runtime_error(hdf5::ErrorCapture::describe(e));
  }
}

}  // namespace

void write_hdf5(const std::string& path, const std::vector<RunResult>& runs, const ResultsFileInfo& info) {
  write_file_atomically(path, [&](std::ostream& out) {
    const std::vector<char> image = build_image(runs, info);
    out.write(image.data(), std::ssize(image));
  });
}

void write_hdf5(const std::string& path, const std::vector<RunResult>& runs, const std::string& tool_version) {
  write_hdf5(path, runs, ResultsFileInfo{.tool_version = tool_version});
}

}  // namespace hgca
