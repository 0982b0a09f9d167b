// hgca calibrate: a hardware profile fitted to measured primitive timings (docs/CALIBRATION.md).
//
// --from-measurements reads a table of timings taken elsewhere (a paper's artifact, a PyTorch script, a
// colleague's machine). Running our own microbenchmarks on this machine (issue 5) will produce the same table
// and hand it to the same fit, so both modes write the same kind of profile.
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "sim/calibration/fit.hpp"
#include "sim/calibration/measurements.hpp"
#include "sim/calibration/report.hpp"
#include "sim/cli/common.hpp"
#include "sim/config/loader.hpp"

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

}  // namespace

int cmd_calibrate(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts(
      "hgca calibrate --from-measurements FILE.csv --base PROFILE --out configs/hw/NAME.yaml [options]");
  std::string measurements, base, out, name;
  std::vector<std::string> checks;
  bool show_rows = false;
  FitOptions fit_options;
  opts.add_options()("help,h", "this help")(
      "from-measurements", po::value(&measurements), "CSV of measured primitive timings (docs/CALIBRATION.md)")(
      "base", po::value(&base), "profile to start from: a name in configs/hw or a path; parameters the data "
                                "cannot determine keep its values")(
      "out", po::value(&out), "where to write the fitted profile (written atomically); without it, only the report")(
      "name", po::value(&name), "profile name (default: the stem of --out)")(
      "check", po::value(&checks)->composing(),
      "another CSV to predict with the fitted profile, without fitting to it (repeatable): cross-validation")(
      "rows", po::bool_switch(&show_rows), "print every row: measured, predicted, error")(
      "max-error", po::value(&fit_options.max_relative_error)->default_value(0.2),
      "a parameter counts as determined when one standard error is below this share of its value");
  const po::options_description hidden;
  const po::positional_options_description no_positionals;
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, no_positionals, vm, "calibrate")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (measurements.empty()) {
    std::cerr << "hgca calibrate: running the microbenchmarks on this machine is not available yet (issue 5); "
                 "give timings measured elsewhere with --from-measurements FILE.csv\n";
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

  const FitResult fit = fit_profile(base_profile, table.rows, fit_options);
  std::cout << "Fitted " << table.rows.size() << " rows of " << measurements << " on base " << base_profile.name << "\n\n"
            << parameter_table(fit) << "\nError on the fitted rows:\n"
            << error_table(fit.rows);
  if (show_rows) std::cout << "\n" << row_table(fit.rows);
  for (const MeasurementTable& t : check_tables) {
    const std::vector<RowResult> predicted = predict_rows(fit.profile, t.rows);
    std::cout << "\nPrediction of " << t.source << " (not fitted):\n" << error_table(predicted);
    if (show_rows) std::cout << "\n" << row_table(predicted);
  }

  if (out.empty()) {
    std::cout << "\nNo --out given: no profile written.\n";
    return 0;
  }
  const CalibrationStamp stamp{measurements, base, utc_date(), command_line(args)};
  try {
    write_profile(out, calibrated_profile_yaml(fit, name, stamp));
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
             "--from-measurements FILE.csv --base PROFILE --out configs/hw/NAME.yaml [--check FILE.csv]... [--rows]\n"
             "                              fit a hardware profile to measured primitive timings",
             cmd_calibrate);

}  // namespace hgca::cli
