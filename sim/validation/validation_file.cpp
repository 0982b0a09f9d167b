#include "sim/validation/validation_file.hpp"

#include <H5Cpp.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <stdexcept>
#include <unistd.h>

namespace hgca::validation {

namespace {

H5::StrType utf8() {
  H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
  t.setCset(H5T_CSET_UTF8);
  return t;
}

void put_attr(H5::H5Object& where, const char* name, const std::string& value) {
  const H5::StrType t = utf8();
  H5::Attribute a = where.createAttribute(name, t, H5::DataSpace(H5S_SCALAR));
  const char* p = value.c_str();
  a.write(t, &p);
}

void put_strings(H5::Group& g, const char* name, const std::vector<std::string>& v) {
  const hsize_t n = v.size();
  const H5::StrType t = utf8();
  H5::DataSet d = g.createDataSet(name, t, H5::DataSpace(1, &n));
  std::vector<const char*> p;
  for (const auto& s : v) p.push_back(s.c_str());
  if (n) d.write(p.data(), t);
}

void put_doubles(H5::Group& g, const char* name, const std::vector<double>& v) {
  const hsize_t n = v.size();
  H5::DataSet d = g.createDataSet(name, H5::PredType::NATIVE_DOUBLE, H5::DataSpace(1, &n));
  if (n) d.write(v.data(), H5::PredType::NATIVE_DOUBLE);
}

void put_ints(H5::Group& g, const char* name, const std::vector<std::int64_t>& v) {
  const hsize_t n = v.size();
  H5::DataSet d = g.createDataSet(name, H5::PredType::NATIVE_INT64, H5::DataSpace(1, &n));
  if (n) d.write(v.data(), H5::PredType::NATIVE_INT64);
}

template <class T, class F>
std::vector<T> column(const std::vector<PredictedRow>& rows, F f) {
  std::vector<T> v;
  v.reserve(rows.size());
  for (const PredictedRow& r : rows) v.push_back(static_cast<T>(f(r)));
  return v;
}

void write_h5(const std::string& path, const ValidationFileInfo& info, const std::vector<PredictedRow>& rows,
              const std::vector<ErrorSummary>& summary, const std::vector<std::string>& yaml) {
  H5::H5File f(path, H5F_ACC_TRUNC);
  H5::Group root = f.openGroup("/");
  put_attr(root, "format", "hgca-validation");
  {
    const std::int64_t version = 1;
    H5::Attribute a = root.createAttribute("version", H5::PredType::NATIVE_INT64, H5::DataSpace(H5S_SCALAR));
    a.write(H5::PredType::NATIVE_INT64, &version);
  }
  put_attr(root, "hardware", info.hardware);
  put_attr(root, "hardware_source", info.hardware_source);
  put_attr(root, "measured_file", info.measured_file);

  H5::Group g = f.createGroup("/rows");
  using R = const PredictedRow&;
  put_ints(g, "id", column<std::int64_t>(rows, [](R r) { return r.measured.point.id; }));
  put_strings(g, "role", column<std::string>(rows, [](R r) { return to_string(r.measured.point.role); }));
  put_strings(g, "kind", column<std::string>(rows, [](R r) { return to_string(r.measured.point.kind); }));
  put_strings(g, "model", column<std::string>(rows, [](R r) { return r.measured.point.model; }));
  put_ints(g, "layers", column<std::int64_t>(rows, [](R r) { return r.measured.point.layers; }));
  put_ints(g, "batch", column<std::int64_t>(rows, [](R r) { return r.measured.point.batch; }));
  put_ints(g, "q_heads", column<std::int64_t>(rows, [](R r) { return r.measured.point.q_heads; }));
  put_ints(g, "kv_heads", column<std::int64_t>(rows, [](R r) { return r.measured.point.kv_heads; }));
  put_ints(g, "head_dim", column<std::int64_t>(rows, [](R r) { return r.measured.point.head_dim; }));
  put_ints(g, "context", column<std::int64_t>(rows, [](R r) { return r.measured.point.context; }));
  put_ints(g, "window", column<std::int64_t>(rows, [](R r) { return r.measured.point.window; }));
  put_strings(g, "budget", column<std::string>(rows, [](R r) { return r.measured.point.budget; }));
  put_ints(g, "cpu_select", column<std::int64_t>(rows, [](R r) { return r.measured.point.cpu_select; }));
  put_ints(g, "threads", column<std::int64_t>(rows, [](R r) { return r.measured.point.threads; }));
  put_strings(g, "cpu_task", column<std::string>(rows, [](R r) { return r.measured.point.cpu_task; }));
  put_doubles(g, "measured_ms", column<double>(rows, [](R r) { return r.measured.total_ms; }));
  put_doubles(g, "measured_p10_ms", column<double>(rows, [](R r) { return r.measured.total_p10_ms; }));
  put_doubles(g, "measured_p90_ms", column<double>(rows, [](R r) { return r.measured.total_p90_ms; }));
  put_doubles(g, "measured_standard_error", column<double>(rows, [](R r) { return pass_standard_error(r.measured); }));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  put_doubles(g, "predicted_ms", column<double>(rows, [&](R r) { return r.feasible ? r.predicted_ms : nan; }));
  put_doubles(g, "error", column<double>(rows, [&](R r) { return r.feasible ? r.error : nan; }));
  put_strings(g, "note", column<std::string>(rows, [](R r) { return r.note; }));
  put_doubles(g, "gpu_window_ms", column<double>(rows, [](R r) { return r.measured.phases.gpu_window_ms; }));
  put_doubles(g, "d2h_query_ms", column<double>(rows, [](R r) { return r.measured.phases.d2h_query_ms; }));
  put_doubles(g, "cpu_attention_ms", column<double>(rows, [](R r) { return r.measured.phases.cpu_attention_ms; }));
  put_doubles(g, "h2d_result_ms", column<double>(rows, [](R r) { return r.measured.phases.h2d_result_ms; }));
  put_doubles(g, "merge_ms", column<double>(rows, [](R r) { return r.measured.phases.merge_ms; }));
  for (const PhaseField& ph : kPhases) {  // the simulator's phases next to the measured ones
    put_doubles(g, (std::string("predicted_") + ph.name + "_ms").c_str(),
                column<double>(rows, [&](R r) { return r.feasible ? r.predicted_phases.*ph.ms : nan; }));
    put_doubles(g, (std::string(ph.name) + "_error").c_str(), column<double>(rows, [&](R r) {
                  return r.feasible ? phase_error(r.predicted_phases.*ph.ms, r.measured.phases.*ph.ms) : nan;
                }));
  }
  put_strings(g, "gpu", column<std::string>(rows, [](R r) { return r.measured.gpu; }));
  put_strings(g, "cpu", column<std::string>(rows, [](R r) { return r.measured.cpu; }));
  put_strings(g, "date", column<std::string>(rows, [](R r) { return r.measured.date; }));
  put_strings(g, "experiment_yaml", yaml);

  H5::Group s = f.createGroup("/summary");
  std::vector<std::string> role, kind;
  std::vector<std::int64_t> count;
  std::vector<double> med, p90, noise;
  std::vector<std::int64_t> with_passes;
  for (const ErrorSummary& e : summary) {
    with_passes.push_back(e.rows_with_passes);
    noise.push_back(e.median_standard_error);
    role.push_back(e.role);
    kind.push_back(e.kind);
    count.push_back(e.count);
    med.push_back(e.median_abs_error);
    p90.push_back(e.p90_abs_error);
  }
  put_strings(s, "role", role);
  put_strings(s, "kind", kind);
  put_ints(s, "count", count);
  put_doubles(s, "median_abs_error", med);
  put_doubles(s, "p90_abs_error", p90);
  put_ints(s, "rows_with_passes", with_passes);
  put_doubles(s, "median_standard_error", noise);
}

}  // namespace

void write_validation_file(const std::string& path, const ValidationFileInfo& info, const std::vector<PredictedRow>& rows,
                           const std::vector<ErrorSummary>& summary, const std::vector<std::string>& experiment_yaml) {
  namespace fs = std::filesystem;
  if (experiment_yaml.size() != rows.size()) throw std::logic_error("write_validation_file: one YAML per row expected");
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  try {
    H5::Exception::dontPrint();
    write_h5(tmp.string(), info, rows, summary, experiment_yaml);
    fs::rename(tmp, target);
  } catch (const H5::Exception& e) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + path + ": " + e.getDetailMsg());
  } catch (const std::exception& e) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + path + ": " + e.what());
  }
}

}  // namespace hgca::validation
