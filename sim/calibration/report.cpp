#include "sim/calibration/report.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/config/loader.hpp"
#include "sim/config/names.hpp"
#include "sim/config/units.hpp"
#include "sim/config/yaml_writer.hpp"
#include "sim/results/atomic_file.hpp"

namespace hgca {

namespace {

std::string pct(double share) {
  if (!std::isfinite(share)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g %%", share * 100);
  return buf;
}

std::string signed_pct(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f %%", share * 100);
  return buf;
}

std::string pad(std::string s, size_t width) {
  s.append(s.size() < width ? width - s.size() : 1, ' ');  // at least one space: a long cell stays apart
  return s;
}

std::string shape_of(const Measurement& m) {
  std::ostringstream s;
  switch (m.primitive) {
    case Primitive::PcieCopy:
      s << (m.direction == CopyDirection::H2D ? "h2d" : m.direction == CopyDirection::D2H ? "d2h" : "both") << " "
        << format_bytes(m.bytes) << (m.pageable ? " pageable" : " pinned");
      break;
    case Primitive::GpuAttention:
    case Primitive::CpuAttention:
      s << m.batch << "x" << m.kv_len << " q" << m.q_heads << "/kv" << m.kv_heads << " d" << m.head_dim << " " << m.dtype;
      if (m.q_len != 1) s << " q_len " << m.q_len;
      if (m.primitive == Primitive::CpuAttention) {
        s << " " << m.threads << "t " << to_string(m.task);
        if (m.method != CpuAttentionMethod::Dense) s << " " << to_string(m.method) << " " << m.selected;
      }
      break;
    case Primitive::GpuGemm: s << m.m << "x" << m.k << "x" << m.n << " " << m.dtype; break;
    case Primitive::GpuMerge: s << m.batch << " q" << m.q_heads << " d" << m.head_dim; break;
    case Primitive::GpuLaunch: s << m.count << " launches"; break;
    case Primitive::CpuStream:
    case Primitive::CpuGather: s << m.threads << "t " << format_bytes(m.bytes); break;
  }
  return s.str();
}

std::string prefixed(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) out += (line.empty() ? "#" : prefix + line) + "\n";
  return out;
}

// How the fit weighed the rows (FitResult::outlier_scale), for the written profile's header.
std::string loss_description(double outlier_scale) {
  if (!(outlier_scale > 0)) return "least squares";
  std::ostringstream s;
  s << "soft-L1 loss (outlier scale " << outlier_scale * 100 << " %)";
  return s.str();
}

}  // namespace

std::string parameter_table(const FitResult& fit) {
  std::ostringstream out;
  out << pad("parameter", 40) << pad("base", 14) << pad("fitted", 14) << pad("±1 s.e.", 10) << "status\n";
  for (const ParameterResult& p : fit.parameters) {
    out << pad(p.key, 40) << pad(format_quantity(p.kind, p.base), 14)
        << pad(p.fitted ? format_quantity(p.kind, p.value) : "-", 14) << pad(p.fitted ? pct(p.relative_error) : "-", 10);
    if (p.fitted)
      out << "fitted" << (p.reason.empty() ? "" : " (" + p.reason + ")");
    else
      out << "kept from base: " << p.reason;
    out << "\n";
  }
  return out.str();
}

std::string start_table(const FitResult& fit) {
  if (fit.cpu_starts.size() < 2) return "";
  std::ostringstream out;
  out << "CPU part solved from " << fit.cpu_starts.size() << " starts (kept: the lowest objective, a later start only when 1 % lower):\n"
      << pad("start row_cost", 16) << pad("start llc", 14) << pad("objective", 12) << pad("row_cost", 12) << pad("llc", 14)
      << "\n";
  for (const FitStart& s : fit.cpu_starts) {
    char obj[32];
    std::snprintf(obj, sizeof obj, "%.6g", s.objective);
    out << pad(format_quantity(QuantityKind::Duration, s.row_cost_s), 16) << pad(format_quantity(QuantityKind::Bytes, s.llc_bytes), 14)
        << pad(obj, 12) << pad(format_quantity(QuantityKind::Duration, s.fitted_row_cost_s), 12)
        << pad(format_quantity(QuantityKind::Bytes, s.fitted_llc_bytes), 14) << (s.chosen ? "kept" : "") << "\n";
  }
  return out.str();
}

std::string error_table(const std::vector<RowResult>& rows) {
  std::ostringstream out;
  out << pad("primitive", 16) << pad("rows", 6) << pad("rms error", 11) << pad("max error", 11) << "worst line\n";
  for (const PrimitiveSummary& s : summarize(rows))
    out << pad(std::string(to_string(s.primitive)), 16) << pad(std::to_string(s.rows), 6) << pad(pct(s.rms_relative), 11)
        << pad(pct(s.max_relative), 11) << s.worst_line << "\n";
  return out.str();
}

std::string row_table(const std::vector<RowResult>& rows) {
  std::ostringstream out;
  out << pad("line", 6) << pad("primitive", 15) << pad("shape", 64) << pad("measured", 12) << pad("predicted", 12)
      << "error\n";
  for (const RowResult& r : rows)
    out << pad(std::to_string(r.row.line), 6) << pad(std::string(to_string(r.row.primitive)), 15)
        << pad(shape_of(r.row), 64) << pad(format_quantity(QuantityKind::Duration, r.row.seconds), 12)
        << pad(format_quantity(QuantityKind::Duration, r.predicted), 12) << signed_pct(r.relative_error()) << "\n";
  return out.str();
}

std::string calibrated_profile_yaml(const FitResult& fit, const std::string& name, const CalibrationStamp& stamp) {
  HardwareProfile hw = fit.profile;
  std::vector<std::string> fitted, kept;
  for (const ParameterResult& p : fit.parameters) (p.fitted ? fitted : kept).push_back(p.key);
  std::string fitted_list, kept_list;
  for (const std::string& k : fitted) fitted_list += (fitted_list.empty() ? "" : ", ") + k;
  for (const std::string& k : kept) kept_list += (kept_list.empty() ? "" : ", ") + k;
  hw.name = name;
  hw.calibrated = kept.empty();
  hw.source = "hgca calibrate --from-measurements " + stamp.measurements + " (" + std::to_string(fit.rows.size()) +
              " rows) on " + stamp.date + ", base " + stamp.base + "; fitted: " +
              (fitted_list.empty() ? "none" : fitted_list) + "; kept from base: " + (kept_list.empty() ? "none" : kept_list);

  std::ostringstream head;
  head << "Hardware profile fitted to measured primitive timings by `hgca calibrate` (docs/CALIBRATION.md).\n"
       << "Command:      " << stamp.command << "\n"
       << "Measurements: " << stamp.measurements << " (" << fit.rows.size() << " rows)\n"
       << "Base profile: " << stamp.base << " (every parameter not fitted keeps its value from there)\n"
       << "Written:      " << stamp.date << "\n"
       << "calibrated is " << (hw.calibrated ? "true: every timing parameter was determined by the measurements"
                                             : "false: some parameters were kept from the base profile (below)")
       << "\n\n"
       << "Fit: " << loss_description(fit.outlier_scale)
       << " on relative error, predicted by the simulator's own cost functions (sim/hw).\n"
       << parameter_table(fit) << "\n"
       << (fit.cpu_starts.size() > 1 ? start_table(fit) + "\n" : "")
       << "Error of the fitted profile on the measurements (relative, predicted vs measured):\n"
       << error_table(fit.rows);
  return prefixed(head.str(), "# ") + hardware_to_yaml(hw) + "\n";
}

void write_profile(const std::string& path, const std::string& yaml) {
  namespace fs = std::filesystem;
  // Load the text back through the loader before anything is written where the user asked.
  std::string probe = (fs::temp_directory_path() / "hgca-calibrate-XXXXXX.yaml").string();
  const int fd = ::mkstemps(probe.data(), 5);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": cannot create a temporary file to check it");
  ::close(fd);
  try {
    {
      std::ofstream out(probe);
      out << yaml;
    }
    (void)load_hardware(probe);
  } catch (...) {
    std::error_code ec;
    fs::remove(probe, ec);
    throw;
  }
  std::error_code ec;
  fs::remove(probe, ec);
  write_file_atomically(path, [&](std::ostream& out) { out << yaml; });
}

}  // namespace hgca
