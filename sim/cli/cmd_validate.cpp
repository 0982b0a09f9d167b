// hgca validate: the simulator against the real hybrid runner (docs/VALIDATION.md).
//
//   validate measure  runs grid points on the runner (GPU needed) and writes the measured table (CSV);
//   validate predict  simulates every row of a measured table on a hardware profile (no GPU needed), prints
//                     measured vs predicted with the error, and writes HDF5 (+ CSV) for the plot.
// Split so that a prediction can be re-run anywhere, from shipped measurements.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "kernels/cpu/settle.hpp"
#include "sim/cli/common.hpp"
#include "sim/config/loader.hpp"
#include "sim/config/units.hpp"
#include "sim/config/yaml_writer.hpp"
#include "sim/engine/parallel_for.hpp"
#include "sim/results/atomic_file.hpp"
#include "sim/results/csv.hpp"
#include "sim/results/number_format.hpp"
#include "sim/validation/grid.hpp"
#include "sim/validation/step_fit.hpp"
#include "sim/validation/measure.hpp"
#include "sim/validation/measured_table.hpp"
#include "sim/validation/prediction.hpp"
#include "sim/validation/validation_file.hpp"

namespace hgca::cli {

namespace {

using namespace hgca::validation;

void print_points(const std::vector<ValidationPoint>& points) {
  std::printf("%4s %-7s %-11s %5s %7s %7s %6s %8s %7s %3s %-8s %6s\n", "id", "role", "kind", "batch", "context", "window",
              "budget", "rows/hd", "heads", "thr", "task", "poolGB");
  for (const ValidationPoint& p : points) {
    char heads[32];
    std::snprintf(heads, sizeof heads, "%d/%d/%d", p.q_heads, p.kv_heads, p.head_dim);
    std::printf("%4d %-7s %-11s %5d %7lld %7lld %6s %8lld %7s %3d %-8s %6.2f\n", p.id, to_string(p.role), to_string(p.kind),
                p.batch, static_cast<long long>(p.context), static_cast<long long>(p.window), p.budget.c_str(),
                static_cast<long long>(p.cpu_select), heads, p.threads, p.cpu_task.c_str(), p.pool_bytes() / 1e9);
  }
  double total = 0;
  for (const ValidationPoint& p : points) total += estimated_measure_seconds(p);
  std::printf("# %zu points, about %.0f s to measure on an H100 + 16-core Xeon (a rough, pessimistic estimate)\n",
              points.size(), total);
}

// Per phase and kind: the median signed error and the median |error| over the rows that measured the phase.
void print_phase_summary(const std::vector<PredictedRow>& pred) {
  for (const PointKind kind : {PointKind::Attention, PointKind::DecodeStep})
    for (const PhaseField& ph : kPhases) {
      std::vector<double> err, abs_err, meas, predicted;
      for (const PredictedRow& r : pred) {
        if (!r.feasible || r.measured.point.kind != kind) continue;
        const double e = phase_error(r.predicted_phases.*ph.ms, r.measured.phases.*ph.ms);
        if (std::isnan(e)) continue;
        err.push_back(e);
        abs_err.push_back(std::abs(e));
        meas.push_back(r.measured.phases.*ph.ms);
        predicted.push_back(r.predicted_phases.*ph.ms);
      }
      if (err.empty()) continue;
      std::printf("phase %-11s %-13s n=%-3zu median measured %9.4f ms predicted %9.4f ms  median error %+7.1f%%  "
                  "median |error| %6.1f%%\n",
                  to_string(kind), ph.name, err.size(), percentile(meas, 50), percentile(predicted, 50),
                  100.0 * percentile(err, 50), 100.0 * percentile(abs_err, 50));
    }
}

// One line per row: each phase measured / predicted (ms) and the error.
void print_phase_rows(const std::vector<PredictedRow>& pred) {
  std::printf("%4s %-7s", "id", "role");
  for (const PhaseField& ph : kPhases) std::printf(" | %-29s", ph.name);
  std::printf("\n%4s %-7s", "", "");
  for (std::size_t i = 0; i < kPhases.size(); ++i) std::printf(" | %9s %9s %7s", "meas_ms", "pred_ms", "error");
  std::printf("\n");
  for (const PredictedRow& r : pred) {
    std::printf("%4d %-7s", r.measured.point.id, to_string(r.measured.point.role));
    for (const PhaseField& ph : kPhases) {
      const double m = r.measured.phases.*ph.ms;
      if (!r.feasible) {
        std::printf(" | %9.4f %9s %7s", m, "-", "-");
        continue;
      }
      const double e = phase_error(r.predicted_phases.*ph.ms, m);
      std::printf(" | %9.4f %9.4f ", m, r.predicted_phases.*ph.ms);
      if (std::isnan(e)) std::printf("%7s", "-");
      else std::printf("%+6.0f%%", 100.0 * e);
    }
    std::printf("\n");
  }
}

}  // namespace

int cmd_validate_measure(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts(
      "hgca validate measure [--grid FILE.yaml | --preset default|quick] [--role fit|holdout] --out measured.csv");
  std::string grid, preset, out, role;
  bool dry_run = false, base_pages = false, cold_pool = false;
  double settle_s = 90;
  MeasureOptions mo;
  opts.add_options()("help,h", "this help")("grid", po::value(&grid), "grid file (YAML, docs/VALIDATION.md)")(
      "preset", po::value(&preset), "shipped grid: default (86 points, ~3 min) or quick (5 points, a few seconds)")(
      "out", po::value(&out),
      "measured table to write (CSV, atomically); rewritten after every pass, so a call cut short keeps the passes "
      "it completed (its first line then says K of N passes; nothing is written before the first pass ends)")(
      "role", po::value(&role), "only the points of this role: fit (what a calibration measures) or holdout (what "
                                "only validation measures); default every point")(
      "passes", po::value(&mo.passes)->default_value(3),
      "sweep the grid this many times, each point set up afresh per pass, and pool each point's steps")(
      "worker-spin-us", po::value(&mo.worker_spin_us)->default_value(mo.worker_spin_us),
      "how long the runner's CPU workers spin between steps before parking (0: park at once)")(
      "base-pages", po::bool_switch(&base_pages), "the runner's CPU pool on 4 KB pages (default: transparent huge pages)")(
      "cold-pool", po::bool_switch(&cold_pool),
      "do not read each point's CPU pool once before its first step (default: read it, so the last-level cache "
      "holds what a long run of steps leaves there, the state the simulator's cache term describes)")(
      "settle-s", po::value(&settle_s)->default_value(settle_s),
      "on a machine up less than this many seconds, stream memory until it has been (a fresh virtual machine reads "
      "memory 1.5-2x slow for its first ~50 s); 0: measure at once")(
      "dry-run", po::bool_switch(&dry_run), "list the grid points and exit (no GPU needed)");
  const po::options_description hidden;
  const po::positional_options_description no_positionals;
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, no_positionals, vm, "validate measure")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (!grid.empty() && !preset.empty()) {
    std::cerr << "hgca validate measure: give --grid or --preset, not both\n";
    return 2;
  }
  if (mo.passes < 1 || mo.passes > 99) {
    std::cerr << "hgca validate measure: --passes must be 1 to 99, got " << mo.passes << "\n";
    return 2;
  }
  if (mo.worker_spin_us < 0 || mo.worker_spin_us > 1000000) {
    std::cerr << "hgca validate measure: --worker-spin-us must be 0 to 1000000, got " << mo.worker_spin_us << "\n";
    return 2;
  }
  if (!(settle_s >= 0) || settle_s > kernels::kMaxSettleSeconds) {
    std::cerr << "hgca validate measure: --settle-s must be 0 to " << kernels::kMaxSettleSeconds << " (seconds), got " << settle_s << "\n";
    return 2;
  }
  mo.huge_pages = !base_pages;
  mo.warm_pool = !cold_pool;
  std::vector<ValidationPoint> points;
  try {
    points = grid.empty() ? preset_points(preset.empty() ? "default" : preset) : read_grid_file(grid);
  } catch (const GridError& e) {
    std::cerr << "hgca validate measure: " << e.what() << "\n";
    return 2;
  }
  if (!role.empty()) {
    if (role != "fit" && role != "holdout") {
      std::cerr << "hgca validate measure: --role '" << role << "' is not a role; expected fit or holdout\n";
      return 2;
    }
    const PointRole keep = role == "fit" ? PointRole::Fit : PointRole::Holdout;
    std::erase_if(points, [&](const ValidationPoint& p) { return p.role != keep; });
  }
  if (dry_run) {
    print_points(points);
    return 0;
  }
  if (out.empty()) {
    std::cerr << "hgca validate measure: missing --out measured.csv\n";
    return 2;
  }
  if (const std::string why = measure_unavailable(); !why.empty()) {
    std::cerr << "hgca validate measure: " << why << "\n";
    return 2;
  }
  int kept = 0;  // passes in the table on disk
  try {
    mo.log = &std::cout;
    kernels::SettleOptions settle;
    settle.min_uptime_s = settle_s;
    settle.log = [](const std::string& line) { std::cout << line << "\n" << std::flush; };
    kernels::settle_machine(settle);
    // The table is rewritten (atomically) after every pass: a call cut short keeps the passes it completed, and
    // its first line says how many of those asked for they are.
    mo.after_pass = [&](int done, const std::vector<MeasuredRow>& so_far) {
      const std::string passes = done == mo.passes ? std::to_string(done) + " passes"
                                                   : std::to_string(done) + " of " + std::to_string(mo.passes) + " passes (so far)";
      write_measured_file(out, so_far,
                          "runner: " + passes + ", workers spin " + std::to_string(mo.worker_spin_us) +
                              " us, pool on " + (mo.huge_pages ? "transparent huge pages" : "4 KB pages") +
                              (mo.warm_pool ? ", read into the cache before the first step" : ", not read before the first step") +
                              "; decode steps: a pool copy per layer (kernels/hybrid layer_pool_copies)");
      kept = done;
    };
    const std::vector<MeasuredRow> rows = measure_points(points, mo);
    std::cout << "wrote " << rows.size() << " measured points to " << out << "\n";
    if (const std::string drift = describe_pass_drift(rows); !drift.empty()) std::cout << drift << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "hgca validate measure: " << e.what();
    if (kept > 0 && kept < mo.passes)
      std::cerr << "; " << out << " keeps the " << kept << " of " << mo.passes << " passes completed (its first line says so)";
    std::cerr << "\n";
    return 1;
  }
}

int cmd_validate_predict(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts(
      "hgca validate predict --measured measured.csv --hw PROFILE [--out validation.h5] [--csv table.csv]");
  std::string measured, hw, out, csv, dump;
  int jobs = 0;
  bool phases = false;
  opts.add_options()("help,h", "this help")("measured", po::value(&measured), "measured table (CSV) from validate measure")(
      "phases", po::bool_switch(&phases), "also print each row's phases (measured, predicted, error)")(
      "hw", po::value(&hw), "hardware profile: a name in configs/hw or a path")(
      "out", po::value(&out), "HDF5 with every row and the summary (atomically)")(
      "csv", po::value(&csv), "the printed table as CSV (atomically)")(
      "experiments", po::value(&dump), "write each row's experiment as DIR/point-<id>.yaml (runnable with hgca run)")(
      "jobs", po::value(&jobs)->default_value(0), "simulation threads (0: hardware threads); results do not depend on it");
  const po::options_description hidden;
  const po::positional_options_description no_positionals;
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, no_positionals, vm, "validate predict")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (measured.empty() || hw.empty()) {
    std::cerr << "hgca validate predict: missing " << (measured.empty() ? "--measured measured.csv" : "--hw PROFILE") << "\n";
    return 2;
  }
  jobs = resolve_jobs(jobs);
  std::vector<MeasuredRow> rows;
  HardwareProfile profile;
  std::vector<PredictedRow> pred;
  std::vector<std::string> yaml;
  try {
    rows = read_measured(measured);
    profile = load_hardware(hw);
    for (const MeasuredRow& r : rows) yaml.push_back(experiment_for(r, profile).resolved_yaml);
    pred = predict_rows(rows, profile, {}, jobs);
  } catch (const std::exception& e) {  // TableError, ConfigError, a row the simulator cannot describe
    std::cerr << "hgca validate predict: " << e.what() << "\n";
    return 2;
  }
  const std::vector<ErrorSummary> summary = summarize(pred);

  std::printf("validation on %s (%s)\n", profile.name.c_str(), profile.calibrated ? "calibrated" : "not calibrated");
  std::printf("%4s %-7s %-11s %5s %7s %6s %7s %3s %-8s %12s %12s %8s\n", "id", "role", "kind", "batch", "context", "window",
              "rows/hd", "thr", "task", "measured_ms", "predicted_ms", "error");
  for (const PredictedRow& r : pred) {
    const ValidationPoint& p = r.measured.point;
    std::printf("%4d %-7s %-11s %5d %7lld %6lld %7lld %3d %-8s %12.4f ", p.id, to_string(p.role), to_string(p.kind), p.batch,
                static_cast<long long>(p.context), static_cast<long long>(p.window), static_cast<long long>(p.cpu_select),
                p.threads, p.cpu_task.c_str(), r.measured.total_ms);
    if (r.feasible) std::printf("%12.4f %+7.1f%%\n", r.predicted_ms, 100.0 * r.error);
    else std::printf("%12s %8s  (%s)\n", "-", "-", r.note.c_str());
  }
  for (const ErrorSummary& s : summary) {
    std::printf("summary %-11s %-7s n=%-3d median |error| %5.1f%%  p90 |error| %5.1f%%", s.kind.c_str(), s.role.c_str(),
                s.count, 100.0 * s.median_abs_error, 100.0 * s.p90_abs_error);
    if (s.rows_with_passes > 0)
      std::printf("  measured s.e. (from %d rows' passes) median %4.1f%%", s.rows_with_passes, 100.0 * s.median_standard_error);
    std::printf("\n");
  }
  if (const std::string drift = describe_pass_drift(rows); !drift.empty()) std::printf("measured %s\n", drift.c_str());
  if (phases) print_phase_rows(pred);
  print_phase_summary(pred);

  try {
    if (!dump.empty()) {
      for (std::size_t i = 0; i < rows.size(); ++i)
        write_file_atomically(dump + "/point-" + std::to_string(rows[i].point.id) + ".yaml",
                              [&](std::ostream& o) { o << yaml[i]; });
    }
    if (!csv.empty()) {
      write_file_atomically(csv, [&](std::ostream& o) {
        o << "id,role,kind,model,batch,q_heads,kv_heads,head_dim,context,window,cpu_select,threads,cpu_task,measured_ms,"
             "predicted_ms,error";
        for (const PhaseField& ph : kPhases)
          o << ",measured_" << ph.name << "_ms,predicted_" << ph.name << "_ms," << ph.name << "_error";
        o << "\n";
        for (const PredictedRow& r : pred) {
          const ValidationPoint& p = r.measured.point;
          o << p.id << "," << to_string(p.role) << "," << to_string(p.kind) << "," << csv_quote(p.model) << "," << p.batch
            << "," << p.q_heads << "," << p.kv_heads << "," << p.head_dim << "," << p.context << "," << p.window << ","
            << p.cpu_select << "," << p.threads << "," << p.cpu_task << "," << format_shortest(r.measured.total_ms) << ","
            << (r.feasible ? format_shortest(r.predicted_ms) : "") << "," << (r.feasible ? format_shortest(r.error) : "");
          for (const PhaseField& ph : kPhases) {
            const double m = r.measured.phases.*ph.ms, e = phase_error(r.predicted_phases.*ph.ms, m);
            o << "," << (m > 0 ? format_shortest(m) : "") << "," << (r.feasible ? format_shortest(r.predicted_phases.*ph.ms) : "")
              << "," << (r.feasible && !std::isnan(e) ? format_shortest(e) : "");
          }
          o << "\n";
        }
      });
    }
    if (!out.empty())
      write_validation_file(out, {profile.name, profile.source, measured}, pred, summary, yaml);
  } catch (const std::exception& e) {
    std::cerr << "hgca validate predict: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int cmd_validate_fit(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts("hgca validate fit --measured measured.csv --hw BASE --out PROFILE.yaml [--params LIST]");
  std::string measured, hw, out, params = "framework_op,framework_step,sync";
  int jobs = 0;
  double phase_weight = 0;
  opts.add_options()("help,h", "this help")("measured", po::value(&measured), "measured table (CSV); only role=fit rows are read")(
      "hw", po::value(&hw), "base hardware profile: a name in configs/hw or a path")(
      "out", po::value(&out), "the fitted profile to write (YAML, atomically)")(
      "params", po::value(&params),
      ("parameters to fit (default framework_op,framework_step,sync; \"host.\" optional): " + fittable_param_names())
          .c_str())(
      "phase-weight", po::value(&phase_weight)->default_value(0),
      "weight of the CPU attention phase's squared relative error in the objective (0: step time only)")(
      "jobs", po::value(&jobs)->default_value(0), "simulation threads (0: hardware threads); results do not depend on it");
  const po::options_description hidden;
  const po::positional_options_description no_positionals;
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, no_positionals, vm, "validate fit")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (measured.empty() || hw.empty() || out.empty()) {
    std::cerr << "hgca validate fit: missing "
              << (measured.empty() ? "--measured measured.csv" : hw.empty() ? "--hw BASE" : "--out PROFILE.yaml") << "\n";
    return 2;
  }
  jobs = resolve_jobs(jobs);
  HardwareProfile base;
  StepFit fit;
  StepFitOptions fo;
  try {
    fo.params = parse_fit_params(params);
    fo.jobs = jobs;
    fo.phase_weight = phase_weight;
    const std::vector<MeasuredRow> rows = read_measured(measured);
    base = load_hardware(hw);
    fit = fit_to_steps(rows, base, fo);
  } catch (const std::exception& e) {
    std::cerr << "hgca validate fit: " << e.what() << "\n";
    return 2;
  }
  HardwareProfile fitted = fit.profile;
  std::string names, values;
  for (const FitParam& p : fo.params) {
    names += (names.empty() ? "" : ",") + p.name;
    const double v = p.field(fitted);
    values += (values.empty() ? "" : ", ") + p.name + " " +
              (p.kind == FitParam::Kind::Duration ? format_duration(v)
               : p.kind == FitParam::Kind::Bytes  ? format_bytes(v)
                                                  : format_number(v));
  }
  const std::string what = names + " fitted by hgca validate fit on the " + std::to_string(fit.fit_rows) +
                           " role=fit rows of " + measured + " (holdout rows not read)";
  fitted.source = base.source.empty() ? what : base.source + "; " + what;
  std::printf("fit on %d fit rows of %s, base %s, %d evaluations\n", fit.fit_rows, measured.c_str(), base.name.c_str(),
              fit.evaluations);
  for (const FitParam& p : fo.params) {
    const bool us = p.kind == FitParam::Kind::Duration, mib = p.kind == FitParam::Kind::Bytes;
    const double scale = us ? 1e6 : mib ? 1.0 / (1024 * 1024) : 1.0;
    std::printf("%-24s %10.4g %s (base %.4g)\n", p.name.c_str(), p.field(fitted) * scale, us ? "us " : mib ? "MiB" : "   ",
                p.field(base) * scale);
  }
  std::printf("objective (sum of squared relative errors%s) %.6g\n", phase_weight > 0 ? ", CPU phase weighted in" : "",
              fit.objective);
  std::printf("%4s %-11s %5s %7s %6s %7s %3s %-8s %12s %12s %8s\n", "id", "kind", "batch", "context", "window", "rows/hd",
              "thr", "task", "measured_ms", "predicted_ms", "error");
  for (const PredictedRow& r : fit.rows) {
    const ValidationPoint& p = r.measured.point;
    std::printf("%4d %-11s %5d %7lld %6lld %7lld %3d %-8s %12.4f ", p.id, to_string(p.kind), p.batch,
                static_cast<long long>(p.context), static_cast<long long>(p.window), static_cast<long long>(p.cpu_select),
                p.threads, p.cpu_task.c_str(), r.measured.total_ms);
    if (r.feasible) std::printf("%12.4f %+7.1f%%\n", r.predicted_ms, 100.0 * r.error);
    else std::printf("%12s %8s  (%s)\n", "-", "-", r.note.c_str());
  }
  for (const ErrorSummary& s : summarize(fit.rows))
    if (s.role == "fit")
      std::printf("summary %-11s %-7s n=%-3d median |error| %5.1f%%  p90 |error| %5.1f%%\n", s.kind.c_str(), s.role.c_str(),
                  s.count, 100.0 * s.median_abs_error, 100.0 * s.p90_abs_error);
  try {
    write_file_atomically(out, [&](std::ostream& o) {
      o << "# " << what << ":\n#   " << values << "; objective (sum of squared relative errors of the step time"
        << (phase_weight > 0 ? " + " + format_number(phase_weight) + " x those of the CPU phase" : std::string()) << ") "
        << fit.objective
        << ".\n# Every other key is the base profile's (" << hw << ").\n"
        << hardware_to_yaml(fitted);
    });
  } catch (const std::exception& e) {
    std::cerr << "hgca validate fit: " << e.what() << "\n";
    return 1;
  }
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

HGCA_COMMAND("validate measure",
             "[--grid FILE.yaml | --preset default|quick] [--role fit|holdout] --out measured.csv [--dry-run]\n"
             "                              time grid points on the real hybrid runner (needs a GPU)",
             cmd_validate_measure);
HGCA_COMMAND("validate predict",
             "--measured measured.csv --hw PROFILE [--out validation.h5] [--csv table.csv]\n"
             "                              simulate every measured point; measured vs predicted and the error",
             cmd_validate_predict);
HGCA_COMMAND("validate fit",
             "--measured measured.csv --hw BASE --out PROFILE.yaml [--params framework_op,framework_step,sync,cpu.llc_bandwidth_factor]\n"
             "                              fit the host parameters to the role=fit rows (holdout rows not read)",
             cmd_validate_fit);

}  // namespace hgca::cli
