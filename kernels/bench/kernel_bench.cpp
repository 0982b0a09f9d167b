// hgca_kernel_bench: bandwidth of the CPU attention kernels, printed as JSON lines (one per configuration,
// after one "info" line describing the machine). Not a test.
//
// The figure of merit is GB/s of bytes that MUST be read: the K and V rows of every selected entry, counted
// once per (sequence, KV head) however many query heads of the group selected it (the union). A task split
// that reads a shared row once per head pays for it as a lower figure.
//
//   hgca_kernel_bench [--quick] [--isa=scalar,avx2,avx512] [--threads=1,2] [--reps=N]
//                     [--batch=B --context=C] [--only=sparse,dense,score_keys] [--group-tasks=both|union]
//   --group-tasks: KV-group tasks adapt how they read (default, AttentionOptions::adaptive_group_tasks);
//   union always reads the union of the group's lists in list order; both runs each sparse case both ways.
// --batch/--context replace the default shapes by one (32 query heads, 8 KV heads, head_dim 128).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu/selection.hpp"
#include "kernels/cpu/sparse_attention.hpp"

namespace hgca::kernels {
namespace {

struct Shape {
  int batch, q_heads, kv_heads, head_dim;
  std::int64_t context;
};

struct Config {
  bool quick = false;
  std::vector<Isa> isas;
  std::vector<int> threads;
  int reps = 5;
  int batch = 0;           // 0: default shapes
  std::int64_t context = 0;
  std::string only;        // empty: every bench
  std::vector<bool> group_modes{true};  // adaptive_group_tasks values to run (--group-tasks)
  bool wants(const char* bench) const { return only.empty() || only.find(bench) != std::string::npos; }
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b <= s.size()) {
    const std::size_t e = std::min(s.find(',', b), s.size());
    if (e > b) out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

// KV filled with random 16-bit patterns of magnitude in [0.5, 1): realistic enough for bandwidth, and
// written raw because converting a few hundred MB from float would dominate the run.
KvStore make_kv(const Shape& s, KvType type, std::mt19937_64& rng) {
  KvStore kv(type, s.kv_heads, s.head_dim, std::vector<std::int64_t>(static_cast<std::size_t>(s.batch), s.context));
  const std::size_t n16 = static_cast<std::size_t>(s.context) * static_cast<std::size_t>(s.head_dim);
  std::vector<std::uint16_t> buf(n16);
  for (int b = 0; b < s.batch; ++b) {
    for (int h = 0; h < s.kv_heads; ++h) {
      for (std::byte* dst : {kv.keys(b, h), kv.values(b, h)}) {
        for (std::size_t i = 0; i < n16; i += 4) {
          const std::uint64_t r = rng();
          for (std::size_t j = 0; j < 4 && i + j < n16; ++j) {
            const auto bits = static_cast<std::uint16_t>(r >> (16 * j));
            buf[i + j] = type == KvType::f16 ? static_cast<std::uint16_t>((bits & 0x83FF) | 0x3800)
                                             : static_cast<std::uint16_t>((bits & 0x807F) | 0x3F00);
          }
        }
        std::memcpy(dst, buf.data(), n16 * 2);
      }
    }
  }
  return kv;
}

// Sorted random k-subset (what top_k returns) of [0, n).
std::vector<std::int32_t> random_selection(std::int64_t n, std::int64_t k, std::mt19937_64& rng) {
  std::vector<std::int32_t> all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), 0);
  for (std::int64_t i = 0; i < k; ++i) {
    std::uniform_int_distribution<std::int64_t> pick(i, n - 1);
    std::swap(all[static_cast<std::size_t>(i)], all[static_cast<std::size_t>(pick(rng))]);
  }
  all.resize(static_cast<std::size_t>(k));
  std::sort(all.begin(), all.end());
  return all;
}

struct Selection {
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> indices;
  std::int64_t union_rows = 0;  // sum over (sequence, KV head) of the union of its heads' lists
};

// per_head: every query head draws its own fraction (HGCA's per-head sparsity); otherwise one draw per KV
// head shared by its query heads.
Selection make_selection(const Shape& s, double fraction, bool per_head, std::mt19937_64& rng) {
  Selection sel;
  const int group = s.q_heads / s.kv_heads;
  const auto k = static_cast<std::int64_t>(fraction * static_cast<double>(s.context));
  std::vector<char> in_union(static_cast<std::size_t>(s.context));
  for (int b = 0; b < s.batch; ++b) {
    for (int kvh = 0; kvh < s.kv_heads; ++kvh) {
      std::fill(in_union.begin(), in_union.end(), 0);
      std::vector<std::int32_t> shared = random_selection(s.context, k, rng);
      for (int g = 0; g < group; ++g) {
        const auto list = per_head ? random_selection(s.context, k, rng) : shared;
        for (const std::int32_t t : list) in_union[static_cast<std::size_t>(t)] = 1;
        sel.indices.insert(sel.indices.end(), list.begin(), list.end());
        sel.offsets.push_back(static_cast<std::int64_t>(sel.indices.size()));
      }
      sel.union_rows += std::count(in_union.begin(), in_union.end(), 1);
    }
  }
  return sel;
}

template <class Fn>
std::pair<double, double> time_it(int reps, Fn&& fn) {  // (median, best) seconds
  fn();  // warm-up: workspaces, page faults, thread start
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front()};
}

void emit(const char* bench, Isa isa, KvType type, const Shape& s, double fraction, const char* selection,
          TaskGranularity g, Partition p, int threads, double bytes, std::pair<double, double> secs,
          const char* group_tasks = "adaptive") {
  std::printf(
      "{\"bench\":\"%s\",\"group_tasks\":\"%s\",\"isa\":\"%s\",\"kv\":\"%s\",\"batch\":%d,\"q_heads\":%d,\"kv_heads\":%d,\"head_dim\":%d,"
      "\"context\":%lld,\"fraction\":%.3f,\"selection\":\"%s\",\"granularity\":\"%s\",\"partition\":\"%s\","
      "\"threads\":%d,\"bytes\":%.0f,\"seconds\":%.6f,\"gbps\":%.2f,\"gbps_best\":%.2f}\n",
      bench, group_tasks, isa_name(isa), kv_type_name(type), s.batch, s.q_heads, s.kv_heads, s.head_dim,
      static_cast<long long>(s.context), fraction, selection, granularity_name(g), partition_name(p), threads, bytes,
      secs.first, bytes / secs.first / 1e9, bytes / secs.second / 1e9);
  std::fflush(stdout);
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

void run_shape(const Config& cfg, const Shape& s, KvType type, std::mt19937_64& rng) {
  const KvStore kv = make_kv(s, type, rng);
  const std::size_t rows = static_cast<std::size_t>(s.batch) * static_cast<std::size_t>(s.q_heads);
  std::vector<float> q(rows * static_cast<std::size_t>(s.head_dim), 0.05f), out(q.size()), lse(rows);
  const double row_bytes = static_cast<double>(kv.row_bytes());

  struct SparseCase {
    double fraction;
    bool per_head;
    TaskGranularity granularity;
    Partition partition;
  };
  std::vector<SparseCase> cases = {{0.02, true, TaskGranularity::kv_group, Partition::dynamic},
                                   {0.10, true, TaskGranularity::kv_group, Partition::dynamic},
                                   {0.10, true, TaskGranularity::head, Partition::dynamic},
                                   {0.10, true, TaskGranularity::kv_group, Partition::static_round_robin},
                                   {0.10, false, TaskGranularity::kv_group, Partition::dynamic},
                                   {0.30, true, TaskGranularity::kv_group, Partition::dynamic}};
  std::vector<Selection> selections;
  for (const SparseCase& c : cases) selections.push_back(make_selection(s, c.fraction, c.per_head, rng));

  for (const int threads : cfg.threads) {
    ThreadPool pool(threads);
    for (const Isa isa : cfg.isas) {
      AttentionOptions opts;
      opts.isa = isa;
      for (std::size_t i = 0; i < cases.size() && cfg.wants("sparse"); ++i)
        for (const bool adaptive : cfg.group_modes) {
          const SparseCase& c = cases[i];
          const Selection& sel = selections[i];
          opts.granularity = c.granularity;
          opts.partition = c.partition;
          opts.adaptive_group_tasks = adaptive;
          Status st;
          const auto secs = time_it(cfg.reps, [&] {
            st = sparse_attention(kv, s.q_heads, q, {sel.offsets, sel.indices}, {out, lse}, opts, &pool);
          });
          if (!st.ok()) std::fprintf(stderr, "sparse_attention: %s\n", st.message.c_str());
          emit("sparse", isa, type, s, c.fraction, c.per_head ? "per_head" : "per_kv_head", c.granularity,
               c.partition, threads, 2.0 * row_bytes * static_cast<double>(sel.union_rows), secs,
               adaptive ? "adaptive" : "union");
        }
      opts.adaptive_group_tasks = true;
      if (!cfg.wants("dense")) continue;
      opts.granularity = TaskGranularity::kv_group;
      opts.partition = Partition::dynamic;
      const std::vector<TokenRange> ranges(static_cast<std::size_t>(s.batch), TokenRange{0, s.context});
      const auto secs = time_it(cfg.reps, [&] { (void)dense_attention(kv, s.q_heads, q, ranges, {out, lse}, opts, &pool); });
      emit("dense", isa, type, s, 1.0, "all", opts.granularity, opts.partition, threads,
           2.0 * row_bytes * static_cast<double>(s.batch) * s.kv_heads * static_cast<double>(s.context), secs);
    }
  }
  // Key scan for selection: every key of every (sequence, KV head), the group's query heads together.
  const int group = s.q_heads / s.kv_heads;
  std::vector<float> scores(static_cast<std::size_t>(group) * static_cast<std::size_t>(s.context));
  for (const Isa isa : cfg.wants("score_keys") ? cfg.isas : std::vector<Isa>{}) {
    const auto secs = time_it(cfg.reps, [&] {
      for (int b = 0; b < s.batch; ++b)
        for (int h = 0; h < s.kv_heads; ++h)
          (void)score_keys(kv, b, h, std::span<const float>(q).first(static_cast<std::size_t>(group * s.head_dim)),
                           group, 0.0f, scores, isa);
    });
    emit("score_keys", isa, type, s, 1.0, "all", TaskGranularity::kv_group, Partition::dynamic, 1,
         row_bytes * static_cast<double>(s.batch) * s.kv_heads * static_cast<double>(s.context), secs);
  }
}

int main_impl(int argc, char** argv) {
  Config cfg;
  std::string isas, threads = "1,2";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") cfg.quick = true;
    else if (a.rfind("--isa=", 0) == 0) isas = a.substr(6);
    else if (a.rfind("--threads=", 0) == 0) threads = a.substr(10);
    else if (a.rfind("--reps=", 0) == 0) cfg.reps = std::max(1, std::stoi(a.substr(7)));
    else if (a.rfind("--batch=", 0) == 0) cfg.batch = std::max(1, std::stoi(a.substr(8)));
    else if (a.rfind("--context=", 0) == 0) cfg.context = std::max<std::int64_t>(64, std::stoll(a.substr(10)));
    else if (a.rfind("--only=", 0) == 0) cfg.only = a.substr(7);
    else if (a == "--group-tasks=both") cfg.group_modes = {true, false};
    else if (a == "--group-tasks=union") cfg.group_modes = {false};
    else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--isa=scalar,avx2,avx512] [--threads=1,2] [--reps=N] [--batch=B "
                   "--context=C] [--only=sparse,dense,score_keys] [--group-tasks=both|union]\n",
                   argv[0]);
      return 2;
    }
  }
  for (const std::string& name : isas.empty() ? std::vector<std::string>{"scalar", "avx2", "avx512"} : split(isas)) {
    const auto isa = parse_isa(name);
    if (!isa) {
      std::fprintf(stderr, "unknown ISA %s\n", name.c_str());
      return 2;
    }
    if (isa_supported(*isa)) cfg.isas.push_back(*isa);
    else std::fprintf(stderr, "skipping %s: not supported here\n", name.c_str());
  }
  for (const std::string& t : split(threads)) cfg.threads.push_back(std::max(1, std::stoi(t)));

  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const CpuFeatures& f = cpu_features();
  std::printf("{\"bench\":\"info\",\"cpu\":\"%s\",\"hardware_threads\":%u,\"best_isa\":\"%s\",\"avx512_bf16\":%s,"
              "\"avx512_fp16\":%s,\"amx_tile\":%s,\"date\":\"%s\"}\n",
              cpu_model().c_str(), std::thread::hardware_concurrency(), isa_name(best_isa()),
              f.avx512_bf16 ? "true" : "false", f.avx512_fp16 ? "true" : "false", f.amx_tile ? "true" : "false", date);

  std::mt19937_64 rng(42);
  // Llama-3-8B-like attention (32 query heads, 8 KV heads, head_dim 128): many sequences, then one long one.
  std::vector<Shape> shapes = cfg.quick ? std::vector<Shape>{{2, 32, 8, 128, 2048}}
                                        : std::vector<Shape>{{4, 32, 8, 128, 16384}, {1, 32, 8, 128, 65536}};
  const bool custom = cfg.batch > 0 || cfg.context > 0;
  if (custom) shapes = {{cfg.batch > 0 ? cfg.batch : 4, 32, 8, 128, cfg.context > 0 ? cfg.context : 16384}};
  for (const Shape& s : shapes) run_shape(cfg, s, KvType::f16, rng);
  if (!cfg.quick && !custom) run_shape(cfg, shapes[0], KvType::bf16, rng);
  return 0;
}

}  // namespace
}  // namespace hgca::kernels

int main(int argc, char** argv) { return hgca::kernels::main_impl(argc, argv); }
