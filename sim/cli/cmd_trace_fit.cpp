// hgca trace fit: fits the parametric attention model (traces/synth/attention_model.hpp) to a trace, per layer
// and query head, and writes it as YAML or JSON with the source trace and the fit quality stamped in.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "sim/cli/common.hpp"
#include "traces/format/trace.hpp"
#include "traces/synth/attention_model.hpp"
#include "traces/synth/model_fit.hpp"

namespace hgca::cli {

int cmd_trace_fit(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts(
      "hgca trace fit TRACE.h5 -o MODEL.yaml|MODEL.json [--window W] [--sinks S] [--seed X] [--eval-steps N] "
      "[--max-steps N] [--threads T]");
  std::string file, out;
  traces::synth::FitOptions fo;
  opts.add_options()("help,h", "this help")("output,o", po::value(&out), "model file (.json: JSON, else YAML)")(
      "window", po::value(&fo.window), "window of the reported quality figures (default 1024)")(
      "sinks", po::value(&fo.sinks), "attention-sink positions (default 4)")(
      "seed", po::value(&fo.seed), "random numbers of the model evaluations (default 1)")(
      "eval-steps", po::value(&fo.eval_steps), "decode positions the model is evaluated on (default 8)")(
      "max-steps", po::value(&fo.max_steps), "real decode steps measured, evenly spaced (default all)")(
      "threads", po::value(&fo.threads), "heads fitted in parallel (default: all cores; same result)");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file));
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "trace fit")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (file.empty() || out.empty()) {
    std::cerr << "hgca trace fit: needs a trace file and -o MODEL.yaml|MODEL.json\n";
    return 2;
  }
  if (fo.max_steps < 0) {
    std::cerr << "hgca trace fit: --max-steps must be >= 0, got " << fo.max_steps << "\n";
    return 2;
  }
  fo.source_path = file;
  fo.fitted_by = std::string("hgca ") + kVersion + " trace fit";
  try {
    const auto trace = traces::open_trace(file);
    const traces::synth::AttentionModel model = traces::synth::fit_model(*trace, fo);
    traces::synth::save_model(model, out);
    double w = 0, f90 = 0, f99 = 0, e = 0;
    for (const auto& h : model.heads) {
      w += std::abs(h.fitted->window_mass - h.real->window_mass);
      f90 += std::abs(std::log(h.fitted->frac90 / h.real->frac90));
      f99 += std::abs(std::log(h.fitted->frac99 / h.real->frac99));
      e += std::abs(h.fitted->entropy - h.real->entropy);
    }
    const double n = static_cast<double>(model.heads.size());
    char line[256];
    std::snprintf(line, sizeof line,
                  "mean |error| over %zu heads: window mass %.4f, frac90 %.1f%%, frac99 %.1f%% (relative), "
                  "entropy %.3f nats",
                  model.heads.size(), w / n, 100 * (std::exp(f90 / n) - 1), 100 * (std::exp(f99 / n) - 1), e / n);
    std::cout << "wrote " << out << " (" << model.heads.size() << " heads from " << file << ")\n" << line << "\n";
  } catch (const traces::TraceError& e) {
    std::cerr << "hgca trace fit: " << e.what() << "\n";
    return 2;
  } catch (const traces::synth::ModelError& e) {
    std::cerr << "hgca trace fit: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hgca trace fit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

HGCA_COMMAND("trace fit",
             "TRACE.h5 -o MODEL.yaml|json [--window W] [--sinks S] [--seed X]\n                              fit "
             "the per-head parametric attention model (sinks, distance decay, spikes, noise)",
             cmd_trace_fit);

}  // namespace hgca::cli
