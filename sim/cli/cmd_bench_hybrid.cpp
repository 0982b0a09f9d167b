// hgca bench hybrid: one HGCA attention step on the real kernels (GPU window attention, CPU sparse
// attention over the pool, LSE merge on the GPU, overlapped with streams, events and pinned memory), timed
// phase by phase and checked against the double reference on a sample of heads. Needs a CUDA build and a
// GPU; says which is missing and exits 1 otherwise.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"
#include "sim/cli/common.hpp"

#ifdef HGCA_HAVE_HYBRID
#include "kernels/cuda/runtime.hpp"
#include "kernels/hybrid/hybrid_step.hpp"
#endif

namespace hgca::cli {

namespace {

#ifdef HGCA_HAVE_HYBRID
using namespace hgca::kernels;
using namespace hgca::kernels::hybrid;

// A JSON number, or null where a ratio has no value (0/0 on an empty CPU side, an infinite error).
std::string json_number(double x, const char* format) {
  if (!std::isfinite(x)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

struct Summary {
  PhaseTimes med, min;
};

Summary summarize(const std::vector<PhaseTimes>& runs) {
  Summary s;
  auto field = [&](double PhaseTimes::*f, double PhaseTimes::*out) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*f);
    s.med.*out = median(v);
    s.min.*out = *std::min_element(v.begin(), v.end());
  };
  for (auto f : {&PhaseTimes::gpu_window_ms, &PhaseTimes::d2h_query_ms, &PhaseTimes::cpu_select_ms,
                 &PhaseTimes::cpu_attention_ms, &PhaseTimes::h2d_result_ms, &PhaseTimes::merge_ms,
                 &PhaseTimes::total_ms})
    field(f, f);
  return s;
}

int run_hybrid(const HybridConfig& c, int iters, int warmup, int check_rows, bool json) {
  std::string why;
  if (kernels::cuda::device_count(&why) == 0) {
    std::cerr << "hgca bench hybrid: no CUDA device (" << why << "): the hybrid step needs a GPU\n";
    return 1;
  }
  const std::string device = kernels::cuda::describe(kernels::cuda::device_info(0));
  try {
    HybridStep step(c);
    for (int i = 0; i < warmup; ++i) step.run();
    std::vector<PhaseTimes> runs;
    std::vector<double> overhead;
    for (int i = 0; i < iters; ++i) {
      runs.push_back(step.run());
      overhead.push_back(runs.back().overhead_ms());
    }
    const Summary s = summarize(runs);
    const double over = median(overhead);
    const double slower = std::max(s.med.gpu_window_ms, s.med.cpu_side_ms());
    const CheckResult chk = step.check(check_rows);
    const double gpu_gbs = step.gpu_bytes() / (s.med.gpu_window_ms * 1e-3) / 1e9;
    const double cpu_gbs = step.cpu_bytes() / (s.med.cpu_side_ms() * 1e-3) / 1e9;
    const bool ok = chk.max_rel_error < 1e-3;
    if (json) {
      std::printf(
          "{\"benchmark\": \"hybrid\", \"device\": \"%s\", \"batch\": %d, \"q_heads\": %d, \"kv_heads\": %d, "
          "\"head_dim\": %d, \"context\": %lld, \"window\": %lld, \"sinks\": %lld, \"dtype\": \"%s\", "
          "\"selection\": \"%s\", \"fresh_lists_each_step\": %s, \"pool_warmed\": %s, \"pageable_cpu_io\": %s, \"selected_per_head\": %lld, \"pool_rows\": %lld, \"cpu_task\": \"%s\", "
          "\"threads\": %d, \"iters\": %d, \"warmup\": %d, \"seed\": %llu, "
          "\"gpu_window_ms\": %.4f, \"d2h_query_ms\": %.4f, \"cpu_select_ms\": %.4f, \"cpu_attention_ms\": %.4f, "
          "\"h2d_result_ms\": %.4f, \"merge_ms\": %.4f, \"total_ms\": %.4f, \"total_min_ms\": %.4f, "
          "\"overhead_ms\": %.4f, \"overhead_fraction\": %s, \"gpu_bytes\": %.0f, \"gpu_gbs\": %s, "
          "\"cpu_bytes\": %.0f, \"cpu_gbs\": %s, \"checked_rows\": %d, \"max_rel_error\": %s, "
          "\"max_lse_error\": %s, \"ok\": %s}\n",
          device.c_str(), c.batch, c.q_heads, c.kv_heads, c.head_dim, static_cast<long long>(c.context),
          static_cast<long long>(c.window), static_cast<long long>(c.sinks), kv_type_name(c.type),
          selection_name(c.selection), c.redraw ? "true" : "false", c.warm_pool ? "true" : "false",
          c.pageable_cpu_io ? "true" : "false", static_cast<long long>(c.selected_per_head()), static_cast<long long>(c.pool_rows()), granularity_name(c.granularity), step.cpu_threads(), iters, warmup,
          static_cast<unsigned long long>(c.seed), s.med.gpu_window_ms, s.med.d2h_query_ms, s.med.cpu_select_ms,
          s.med.cpu_attention_ms, s.med.h2d_result_ms, s.med.merge_ms, s.med.total_ms, s.min.total_ms, over,
          json_number(over / slower, "%.4f").c_str(), step.gpu_bytes(), json_number(gpu_gbs, "%.1f").c_str(),
          step.cpu_bytes(), json_number(cpu_gbs, "%.2f").c_str(), chk.rows, json_number(chk.max_rel_error, "%.3g").c_str(),
          json_number(chk.max_lse_error, "%.3g").c_str(), ok ? "true" : "false");
    } else {
      std::printf("hybrid attention step on %s\n", device.c_str());
      std::printf("  batch %d, %d q heads / %d kv heads, head_dim %d, %s KV; context %lld = GPU window %lld "
                  "(%lld sinks) + CPU pool %lld rows\n",
                  c.batch, c.q_heads, c.kv_heads, c.head_dim, kv_type_name(c.type), static_cast<long long>(c.context),
                  static_cast<long long>(c.window), static_cast<long long>(c.sinks),
                  static_cast<long long>(c.pool_rows()));
      std::printf("  CPU: %s selection (fresh lists each step: %s, pool read into the cache first: %s, pageable "
                  "query/result buffers: %s), %lld rows per head, %s tasks, %d threads; %d iterations after %d warm-up\n",
                  selection_name(c.selection), c.redraw ? "true" : "false", c.warm_pool ? "true" : "false",
                  c.pageable_cpu_io ? "true" : "false", static_cast<long long>(c.selected_per_head()),
                  granularity_name(c.granularity), step.cpu_threads(), iters, warmup);
      std::printf("  phase                      median ms    min ms\n");
      auto row = [](const char* name, double m, double mn) { std::printf("  %-26s %9.4f %9.4f\n", name, m, mn); };
      row("GPU window attention", s.med.gpu_window_ms, s.min.gpu_window_ms);
      row("queries D2H", s.med.d2h_query_ms, s.min.d2h_query_ms);
      row("CPU top-k selection", s.med.cpu_select_ms, s.min.cpu_select_ms);
      row("CPU sparse attention", s.med.cpu_attention_ms, s.min.cpu_attention_ms);
      row("CPU output + LSE H2D", s.med.h2d_result_ms, s.min.h2d_result_ms);
      row("merge", s.med.merge_ms, s.min.merge_ms);
      row("total (host clock)", s.med.total_ms, s.min.total_ms);
      std::printf("  GPU side %.1f GB/s over %.1f MB; CPU side %.2f GB/s over %.1f MB (bytes that must be read)\n",
                  gpu_gbs, step.gpu_bytes() / 1e6, cpu_gbs, step.cpu_bytes() / 1e6);
      std::printf("  overhead beyond the slower side (%s): %.4f ms = %.1f%%\n",
                  s.med.gpu_window_ms > s.med.cpu_side_ms() ? "GPU" : "CPU", over, 100.0 * over / slower);
      std::printf("  check vs double reference on %d heads: max relative error %.3g, max lse error %.3g: %s\n",
                  chk.rows, chk.max_rel_error, chk.max_lse_error, ok ? "ok" : "FAILED (limit 1e-3)");
    }
    return ok ? 0 : 1;
  } catch (const std::invalid_argument& e) {
    std::cerr << "hgca bench hybrid: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hgca bench hybrid: " << e.what() << "\n";
    return 1;
  }
}
#endif

}  // namespace

int cmd_bench_hybrid(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts("hgca bench hybrid [options]");
  int batch = 16, q_heads = 32, kv_heads = 8, head_dim = 128, threads = 0, iters = 20, warmup = 3, check = 8;
  int splits = 0, warps = 4, unroll = 4;
  long long context = 32768, window = 4096, sinks = 0, cpu_select = -1;
  double cpu_fraction = 0.1;
  unsigned long long seed = 1;
  std::string dtype = "fp16", select = "random", task = "kv_group";
  bool json = false, same_lists = false, base_pages = false, cold_pool = false, pageable_cpu_io = false;
  int worker_spin_us = static_cast<int>(hgca::kernels::kDefaultWorkerSpin.count());
  opts.add_options()("help,h", "this help")("batch", po::value(&batch)->default_value(16), "sequences")(
      "q-heads", po::value(&q_heads)->default_value(32), "query heads")(
      "kv-heads", po::value(&kv_heads)->default_value(8), "KV heads")(
      "head-dim", po::value(&head_dim)->default_value(128), "head dimension (64, 128, 256)")(
      "context", po::value(&context)->default_value(32768), "tokens per sequence")(
      "window", po::value(&window)->default_value(4096), "GPU window rows per sequence, sinks included")(
      "sinks", po::value(&sinks)->default_value(0), "attention-sink tokens kept in the window")(
      "cpu-fraction", po::value(&cpu_fraction)->default_value(0.1), "fraction of the pool rows each head attends")(
      "cpu-select", po::value(&cpu_select)->default_value(-1), "rows per head (overrides --cpu-fraction when >= 0)")(
      "select", po::value(&select)->default_value("random"), "random | topk (exact scores, every step)")(
      "cpu-task", po::value(&task)->default_value("kv_group"), "CPU task: kv_group | head | sequence")(
      "threads", po::value(&threads)->default_value(0), "CPU threads, caller included (0: all cores)")(
      "dtype", po::value(&dtype)->default_value("fp16"), "KV storage: fp16 | bf16")(
      "iters", po::value(&iters)->default_value(20), "timed steps")(
      "warmup", po::value(&warmup)->default_value(3), "untimed steps first")(
      "check-heads", po::value(&check)->default_value(8), "(sequence, head) rows checked against the reference (0: all)")(
      "seed", po::value(&seed)->default_value(1), "data seed")(
      "splits", po::value(&splits)->default_value(0), "GPU split-K count (0: automatic)")(
      "warps", po::value(&warps)->default_value(4), "GPU warps per CTA")(
      "unroll", po::value(&unroll)->default_value(4), "GPU rows in flight per thread (4, 8)")(
      "worker-spin-us", po::value(&worker_spin_us)->default_value(worker_spin_us),
      "how long CPU workers spin between steps before parking (0: park at once, every step wakes them)")(
      "base-pages", po::bool_switch(&base_pages), "the CPU pool on 4 KB pages (default: transparent huge pages)")(
      "same-lists", po::bool_switch(&same_lists),
      "reuse the first random lists every step (the rows then stay in the CPU cache: measures the cache)")(
      "cold-pool", po::bool_switch(&cold_pool),
      "do not read the CPU pool once before the first step (default: read it, so the cache holds what a long run "
      "leaves there)")(
      "pageable-cpu-io", po::bool_switch(&pageable_cpu_io),
      "the CPU phase reads its queries from and writes its result to pageable buffers, copied to and from the "
      "pinned ones outside its timer (a probe of pinned host memory's cost; default: the pinned buffers)")(
      "json", po::bool_switch(&json), "print one JSON object");
  po::options_description hidden;
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "bench hybrid")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (iters < 1 || warmup < 0) {
    std::cerr << "hgca bench hybrid: --iters must be >= 1 and --warmup >= 0\n";
    return 2;
  }
#ifdef HGCA_HAVE_HYBRID
  HybridConfig c;
  c.batch = batch;
  c.q_heads = q_heads;
  c.kv_heads = kv_heads;
  c.head_dim = head_dim;
  c.context = context;
  c.window = window;
  c.sinks = sinks;
  c.cpu_fraction = cpu_fraction;
  c.cpu_select = cpu_select;
  c.threads = threads;
  c.worker_spin_us = worker_spin_us;
  c.huge_pages = !base_pages;
  c.seed = seed;
  c.redraw = !same_lists;
  c.warm_pool = !cold_pool;
  c.pageable_cpu_io = pageable_cpu_io;
  c.gpu.splits = splits;
  c.gpu.warps = warps;
  c.gpu.unroll = unroll;
  if (dtype == "fp16") c.type = KvType::f16;
  else if (dtype == "bf16") c.type = KvType::bf16;
  else {
    std::cerr << "hgca bench hybrid: --dtype must be fp16 or bf16, got '" << dtype << "'\n";
    return 2;
  }
  if (select == "random") c.selection = Selection::random;
  else if (select == "topk") c.selection = Selection::topk;
  else {
    std::cerr << "hgca bench hybrid: --select must be random or topk, got '" << select << "'\n";
    return 2;
  }
  if (task == "kv_group") c.granularity = TaskGranularity::kv_group;
  else if (task == "head") c.granularity = TaskGranularity::head;
  else if (task == "sequence") c.granularity = TaskGranularity::sequence;
  else {
    std::cerr << "hgca bench hybrid: --cpu-task must be kv_group, head or sequence, got '" << task << "'\n";
    return 2;
  }
  if (const Status st = validate(c); !st.ok()) {
    std::cerr << "hgca bench hybrid: " << st.message << "\n";
    return 2;
  }
  return run_hybrid(c, iters, warmup, check, json);
#else
  (void)json;
  (void)same_lists;
  (void)base_pages;
  (void)cold_pool;
  (void)pageable_cpu_io;
  (void)worker_spin_us;
  std::cerr << "hgca bench hybrid: this hgca was built without CUDA (HGCA_CUDA=OFF or no nvcc found), so it has no "
               "hybrid runner\n";
  return 1;
#endif
}

HGCA_COMMAND("bench hybrid",
             "[--batch N] [--context N] [--window N] [--cpu-fraction F | --cpu-select N] [--threads N] [--json] ...\n"
             "                              one HGCA attention step on the real GPU and CPU kernels, timed by phase",
             cmd_bench_hybrid);

}  // namespace hgca::cli
