// hgca calibrate: a hardware profile fitted to measured primitive timings (docs/CALIBRATION.md).
//
// --from-measurements reads a table of timings taken elsewhere (a paper's artifact, a PyTorch script, a
// colleague's machine). Without it, the microbenchmarks (kernels/microbench) measure this machine, write the
// same table (NAME.measurements.csv, and NAME.calibration.h5) and hand it to the same fit, so both modes
// write the same kind of profile; the measured one is stamped with the machine, driver and date.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "kernels/cpu/settle.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "sim/calibration/fit.hpp"
#include "sim/calibration/measurements.hpp"
#include "sim/calibration/measurements_h5.hpp"
#include "sim/calibration/report.hpp"
#include "sim/cli/common.hpp"
#include "sim/config/loader.hpp"
#include "sim/results/atomic_file.hpp"

#ifdef HGCA_HAVE_MICROBENCH
#include "kernels/microbench/microbench.hpp"
#endif

namespace hgca::cli {

namespace {

// UTC now, or SOURCE_DATE_EPOCH when set (reproducible outputs, tests).
std::string utc_date() {
  std::time_t t = std::time(nullptr);
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) t = static_cast<std::time_t>(std::atoll(epoch));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string command_line(const Args& args) {
  std::string s = "hgca calibrate";
  for (const std::string& a : args) s += " " + a;
  return s;
}

// `stem.ext` beside `out` (configs/hw/NAME.yaml -> configs/hw/NAME.measurements.csv).
std::string beside(const std::string& out, const std::string& suffix) {
  std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + suffix)).string();
}

#ifdef HGCA_HAVE_MICROBENCH
// Runs the microbenchmarks on this machine and writes the table (CSV, atomically) and its HDF5 copy.
// Returns 0, or the exit status of a failure (its line already printed).
int measure(const std::string& csv_path, const std::string& h5_path, bool quick, int passes, int worker_spin_us, double settle_s,
            MachineStamp& stamp, const std::string& command) {
  namespace mb = hgca::kernels::microbench;
  std::string why;
  if (!mb::gpu_available(&why)) {
    std::cerr << "hgca calibrate: no usable GPU here (" << why
              << "); run it on the machine to calibrate, or fit timings from elsewhere with --from-measurements FILE.csv\n";
    return 2;
  }
  hgca::kernels::SettleOptions settle;
  settle.min_uptime_s = settle_s;
  settle.log = [](const std::string& line) { std::cerr << "hgca calibrate: " << line << "\n"; };
  hgca::kernels::settle_machine(settle);
  mb::Options options;
  options.quick = quick;
  options.worker_spin = std::chrono::microseconds(worker_spin_us);
  options.log = [](const std::string& line) { std::cerr << "  " << line << "\n"; };
  const mb::MachineInfo info = mb::machine_info();
  stamp.gpu = info.gpu;
  stamp.driver = info.driver;
  stamp.cuda_runtime = info.cuda_runtime;
  stamp.cpu = info.cpu;
  stamp.host = info.host;
  std::vector<mb::Row> rows;
  try {
    std::cerr << "hgca calibrate: measuring " << info.gpu << " and " << info.cpu << (quick ? " (quick grid)" : "")
              << ", " << passes << (passes == 1 ? " pass" : " passes") << "\n";
    std::vector<std::vector<mb::Row>> all;
    for (int p = 0; p < passes; ++p) {
      if (passes > 1) std::cerr << "hgca calibrate: pass " << p + 1 << " of " << passes << "\n";
      std::vector<mb::Row> pass = mb::run_gpu(options);
      const std::vector<mb::Row> cpu = mb::run_cpu(options);
      pass.insert(pass.end(), cpu.begin(), cpu.end());
      all.push_back(std::move(pass));
    }
    rows = mb::median_over_passes(all);
  } catch (const std::exception& e) {
    std::cerr << "hgca calibrate: a microbenchmark failed: " << e.what() << "\n";
    return 1;
  }
  try {
    write_file_atomically(csv_path, [&](std::ostream& out) {
      out << "# " << command << "\n# machine: " << stamp.gpu << ", driver " << stamp.driver << ", CUDA runtime "
          << stamp.cuda_runtime << "; " << stamp.cpu << "; host " << stamp.host << "; " << stamp.date << "\n";
      mb::write_csv(out, rows);
    });
    const MeasurementTable table = read_measurements(csv_path);  // the schema check of what was written
    write_measurements_h5(h5_path, table.rows,
                          {{"command", command}, {"gpu", stamp.gpu}, {"driver", stamp.driver},
                           {"cuda_runtime", stamp.cuda_runtime}, {"cpu", stamp.cpu}, {"host", stamp.host},
                           {"date", stamp.date}, {"measurements", csv_path}});
  } catch (const std::exception& e) {
    std::cerr << "hgca calibrate: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "hgca calibrate: wrote " << rows.size() << " rows to " << csv_path << " and " << h5_path << "\n";
  return 0;
}
#endif

}  // namespace

int cmd_calibrate(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts(
      "hgca calibrate --out configs/hw/NAME.yaml [--base PROFILE] [--quick] [--measurements-out X.csv]\n"
      "hgca calibrate --from-measurements FILE.csv --base PROFILE [--out configs/hw/NAME.yaml] [options]");
  std::string measurements, base, out, name, measurements_out;
  bool quick = false;
  int passes = 0;
  double settle_s = 90;
  std::vector<std::string> release;  // --free
  int worker_spin_us = static_cast<int>(hgca::kernels::kDefaultWorkerSpin.count());
  std::vector<std::string> checks;
  bool show_rows = false;
  bool one_start = false;
  FitOptions fit_options;
  opts.add_options()("help,h", "this help")(
      "from-measurements", po::value(&measurements), "CSV of measured primitive timings (docs/CALIBRATION.md); "
                                                     "without it, the microbenchmarks measure this machine (needs a GPU)")(
      "quick", po::bool_switch(&quick), "microbenchmarks: a tiny grid (a smoke test, not a calibration)")(
      "passes", po::value(&passes)->default_value(0),
      "microbenchmarks: run the whole grid this many times, one pass after the other, and keep each row's median "
      "over the passes (0: 3, or 1 with --quick)")(
      "worker-spin-us", po::value(&worker_spin_us)->default_value(worker_spin_us),
      "microbenchmarks: how long the CPU workers spin between calls before parking, as the hybrid runner's "
      "(hgca validate measure --worker-spin-us); 0 parks at once")(
      "settle-s", po::value(&settle_s)->default_value(settle_s),
      "microbenchmarks: on a machine up less than this many seconds, stream memory until it has been (a fresh "
      "virtual machine reads memory 1.5-2x slow for its first ~50 s); 0: measure at once")(
      "measurements-out", po::value(&measurements_out),
      "microbenchmarks: where to write the table (default: beside --out, NAME.measurements.csv; the HDF5 copy "
      "goes beside it as NAME.calibration.h5)")(
      "base", po::value(&base), "profile to start from: a name in configs/hw or a path; parameters the data "
                                "cannot determine keep its values")(
      "out", po::value(&out), "where to write the fitted profile (written atomically); without it, only the report")(
      "name", po::value(&name), "profile name (default: the stem of --out)")(
      "check", po::value(&checks)->composing(),
      "another CSV to predict with the fitted profile, without fitting to it (repeatable): cross-validation")(
      "rows", po::bool_switch(&show_rows), "print every row: measured, predicted, error")(
      "hold", po::value(&fit_options.hold)->composing(),
      "a parameter key to keep at its base value, e.g. gpu.attention_fixed (repeatable)")(
      "free", po::value(&release)->composing(),
      "fit a parameter held by default (cpu.flops_per_core; docs/CALIBRATION.md says why it is held) (repeatable)")(
      "max-error", po::value(&fit_options.max_relative_error)->default_value(0.2),
      "a parameter counts as determined when one standard error is below this share of its value")(
      "outlier-scale", po::value(&fit_options.outlier_scale)->default_value(0.1),
      "relative error beyond which a row's pull on the fit grows linearly, not quadratically (soft-L1 loss); "
      "0: plain least squares")(
      "jobs", po::value(&fit_options.jobs)->default_value(0),
      "threads that simulate the rows during the fit (0: hardware threads); the fit does not depend on it")(
      "one-start", po::bool_switch(&one_start),
      "solve the CPU part from the base's values alone, not from the grid of starts (cpu.row_cost 0/30/100 ns x "
      "cpu.llc_bytes at its start and a quarter; docs/CALIBRATION.md)");
  const po::options_description hidden;
  const po::positional_options_description no_positionals;
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, no_positionals, vm, "calibrate")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  // Checked before anything is measured: a typo must not cost a calibration.
  for (const std::string& key : fit_options.hold)
    if (!is_fit_parameter(key)) {
      std::cerr << "hgca calibrate: --hold " << key << ": not a fitted parameter; expected a key of the parameter table, "
                   "such as gpu.attention_fixed or cpu.bandwidth_by_threads.8\n";
      return 2;
    }
  const std::vector<std::string>& by_default = held_by_default_keys();
  for (const std::string& key : release)
    if (std::find(by_default.begin(), by_default.end(), key) == by_default.end()) {
      std::cerr << "hgca calibrate: --free " << key << ": not held by default; expected one of:";
      for (const std::string& k : by_default) std::cerr << " " << k;
      std::cerr << "\n";
      return 2;
    }
  fit_options.held_by_default.clear();
  for (const std::string& key : by_default)
    if (std::find(release.begin(), release.end(), key) == release.end()) fit_options.held_by_default.push_back(key);
  fit_options.multi_start = !one_start;
  MachineStamp stamp;
  const bool measuring = measurements.empty();
  if (measuring) {
    if (out.empty()) {
      std::cerr << "hgca calibrate: missing --out configs/hw/NAME.yaml (where the profile of this machine goes), or "
                   "--from-measurements FILE.csv to fit timings from elsewhere\n";
      return 2;
    }
    if (base.empty()) base = "device-h100";  // only its capacities, counts and names survive a full calibration
    if (measurements_out.empty()) measurements_out = beside(out, ".measurements.csv");
    stamp.date = utc_date();
#ifdef HGCA_HAVE_MICROBENCH
    std::string h5 = measurements_out;
    if (h5.size() > 17 && h5.substr(h5.size() - 17) == ".measurements.csv") h5 = h5.substr(0, h5.size() - 17);
    else h5 = std::filesystem::path(h5).replace_extension().string();
    if (passes < 0 || passes > 99) {
      std::cerr << "hgca calibrate: --passes must be 1 to 99 (0: the default), got " << passes << "\n";
      return 2;
    }
    if (passes == 0) passes = quick ? 1 : 3;
    if (worker_spin_us < 0 || worker_spin_us > 1000000) {
      std::cerr << "hgca calibrate: --worker-spin-us must be 0 to 1000000, got " << worker_spin_us << "\n";
      return 2;
    }
    if (!(settle_s >= 0) || settle_s > hgca::kernels::kMaxSettleSeconds) {
      std::cerr << "hgca calibrate: --settle-s must be 0 to " << hgca::kernels::kMaxSettleSeconds << " (seconds), got " << settle_s << "\n";
      return 2;
    }
    if (const int rc = measure(measurements_out, h5 + ".calibration.h5", quick, passes, worker_spin_us, settle_s, stamp,
                               command_line(args));
        rc != 0)
      return rc;
    measurements = measurements_out;
#else
    std::cerr << "hgca calibrate: this hgca was built without the microbenchmarks (they need HGCA_CUDA=ON and "
                 "cuBLAS); rebuild with CUDA, or fit timings from elsewhere with --from-measurements FILE.csv\n";
    return 2;
#endif
  } else if (quick || !measurements_out.empty() || passes != 0 || !vm["worker-spin-us"].defaulted() || !vm["settle-s"].defaulted()) {
    std::cerr << "hgca calibrate: --quick, --passes, --worker-spin-us, --settle-s and --measurements-out belong to the microbenchmark mode, not to "
                 "--from-measurements\n";
    return 2;
  }
  if (base.empty()) {
    std::cerr << "hgca calibrate: missing --base PROFILE (the profile whose undetermined parameters are kept)\n";
    return 2;
  }
  if (!(fit_options.max_relative_error > 0)) {
    std::cerr << "hgca calibrate: --max-error must be positive, got " << fit_options.max_relative_error << "\n";
    return 2;
  }
  if (!(fit_options.outlier_scale >= 0) || !std::isfinite(fit_options.outlier_scale)) {
    std::cerr << "hgca calibrate: --outlier-scale must be a finite number >= 0 (0: plain least squares), got "
              << fit_options.outlier_scale << "\n";
    return 2;
  }
  if (name.empty() && !out.empty()) name = std::filesystem::path(out).stem().string();
  if (name.empty()) name = "calibrated";

  MeasurementTable table;
  std::vector<MeasurementTable> check_tables;
  HardwareProfile base_profile;
  try {
    table = read_measurements(measurements);
    for (const std::string& c : checks) check_tables.push_back(read_measurements(c));
    base_profile = load_hardware(base);
  } catch (const std::exception& e) {  // MeasurementError, ConfigError: one line each
    std::cerr << e.what() << "\n";
    return 2;
  }

  FitResult fit = fit_profile(base_profile, table.rows, fit_options);
  if (measuring) fit.profile.machine = stamp;
  std::cout << "Fitted " << table.rows.size() << " rows of " << measurements << " on base " << base_profile.name << "\n\n"
            << parameter_table(fit) << "\n" << start_table(fit) << (fit.cpu_starts.size() > 1 ? "\n" : "")
            << "Error on the fitted rows:\n"
            << error_table(fit.rows);
  if (show_rows) std::cout << "\n" << row_table(fit.rows);
  for (const MeasurementTable& t : check_tables) {
    const std::vector<RowResult> predicted = predict_rows(fit.profile, t.rows, fit_options.jobs);
    std::cout << "\nPrediction of " << t.source << " (not fitted):\n" << error_table(predicted);
    if (show_rows) std::cout << "\n" << row_table(predicted);
  }

  if (out.empty()) {
    std::cout << "\nNo --out given: no profile written.\n";
    return 0;
  }
  const CalibrationStamp written{measurements, base, measuring ? stamp.date : utc_date(), command_line(args)};
  try {
    write_profile(out, calibrated_profile_yaml(fit, name, written));
  } catch (const ConfigError& e) {  // the fitted profile does not load: a bug, not bad input
    std::cerr << "hgca calibrate: the fitted profile does not load (" << e.what() << "); nothing written\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "hgca calibrate: " << e.what() << "\n";
    return 1;
  }
  std::cout << "\nWrote " << out << "\n";
  return 0;
}

HGCA_COMMAND("calibrate",
             "--out configs/hw/NAME.yaml [--quick] | --from-measurements FILE.csv --base PROFILE [--out ...]\n"
             "                              measure this machine (or take timings from elsewhere) and fit a hardware profile",
             cmd_calibrate);

}  // namespace hgca::cli
