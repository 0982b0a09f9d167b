// hgca config check: validates an experiment (every sweep point) without simulating, and lists the points.
#include <iostream>

#include "sim/cli/common.hpp"

namespace hgca::cli {

int cmd_config_check(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts("hgca config check FILE.yaml [--set key=value]...");
  std::string file;
  std::vector<std::string> sets;
  bool print_yaml = false;
  opts.add_options()("help,h", "this help")("set", po::value(&sets)->composing(), "override a key (repeatable)")(
      "print", po::bool_switch(&print_yaml), "print each point's fully resolved configuration");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file));
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "config check")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (file.empty()) {
    std::cerr << "hgca config check: missing the experiment file\n";
    return 2;
  }
  std::vector<Experiment> points;
  if (!load_points(file, sets, points)) return 2;
  std::cout << file << ": ok, " << points.size() << " point" << (points.size() == 1 ? "" : "s") << "\n";
  for (size_t i = 0; i < points.size(); ++i) {
    const Experiment& e = points[i];
    std::cout << "  [" << i << "] " << e.system.strategy << " on " << e.hardware.name << " / " << e.model.name
              << ", batch " << e.workload.batch << ", prompt " << e.workload.prompt << ", decode " << e.workload.decode;
    if (!e.point_label.empty()) std::cout << "  (" << e.point_label << ")";
    std::cout << "\n";
    if (print_yaml) std::cout << e.resolved_yaml << "\n";
  }
  return 0;
}

HGCA_COMMAND("config check", "FILE.yaml [--set key=value]...\n                              validate an experiment and list its points", cmd_config_check);

}  // namespace hgca::cli
