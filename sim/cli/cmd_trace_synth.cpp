// hgca trace synth: writes a synthetic trace of any length from a fitted attention model, streamed one
// (layer, head) at a time (traces/synth/synthetic_trace.hpp), deterministic for a seed.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "sim/cli/common.hpp"
#include "traces/format/trace.hpp"
#include "traces/synth/attention_model.hpp"
#include "traces/synth/synthetic_trace.hpp"

namespace hgca::cli {

int cmd_trace_synth(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts(
      "hgca trace synth MODEL.yaml|json --length N --decode-steps S -o OUT.h5 [--seed X] [--dtype float16] "
      "[--compression L] [--threads T]");
  std::string model_file, out;
  traces::synth::SynthOptions so;
  int compression = 0;
  opts.add_options()("help,h", "this help")("output,o", po::value(&out), "trace file to write")(
      "length", po::value(&so.length), "positions (prompt + decode steps)")(
      "decode-steps", po::value(&so.decode_steps), "decode steps (queries), the last positions")(
      "seed", po::value(&so.seed), "random seed (default 1); the same seed gives the same trace")(
      "dtype", po::value(&so.dtype), "storage dtype: float16 (default), bfloat16, float32")(
      "compression", po::value(&compression), "gzip level 0-9 of the datasets (default 0: random data barely "
                                              "compresses)")(
      "threads", po::value(&so.threads), "generation threads (default: all cores; same result)");
  po::options_description hidden;
  hidden.add_options()("model", po::value(&model_file));
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "trace synth")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  for (const char* need : {"length", "decode-steps", "output"}) {
    if (!vm.count(need)) {
      std::cerr << "hgca trace synth: missing --" << need << "\n";
      return 2;
    }
  }
  if (model_file.empty()) {
    std::cerr << "hgca trace synth: missing the model file\n";
    return 2;
  }
  if (compression < 0 || compression > 9) {
    std::cerr << "hgca trace synth: --compression must be 0..9, got " << compression << "\n";
    return 2;
  }
  so.model_source = model_file;
  try {
    const auto start = std::chrono::steady_clock::now();
    traces::synth::AttentionModel model = traces::synth::load_model(model_file);
    const traces::synth::SyntheticTrace trace(std::move(model), so);
    traces::TraceWriteOptions wo;
    wo.compression_level = compression;
    traces::write_trace(trace, out, wo);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char line[160];
    std::snprintf(line, sizeof line, " in %.2f s", s);
    std::cout << "wrote " << out << ": " << so.length << " positions, " << so.decode_steps << " decode steps, "
              << so.dtype << ", seed " << so.seed << line << "\n";
  } catch (const traces::TraceError& e) {
    std::cerr << "hgca trace synth: " << e.what() << "\n";
    return 2;
  } catch (const traces::synth::ModelError& e) {
    std::cerr << "hgca trace synth: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hgca trace synth: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

HGCA_COMMAND("trace synth",
             "MODEL --length N --decode-steps S -o OUT.h5 [--seed X] [--dtype float16]\n                         "
             "     synthesize a trace of any length from a fitted model (streamed, deterministic)",
             cmd_trace_synth);

}  // namespace hgca::cli
