// CPU primitives: streaming reads and gathered rows against thread count, sparse decode attention with its
// key-scan selection, and sparse decode attention over lists given in advance (the hybrid runner's CPU phase),
// as the simulator's CPU pool charges them (docs/CALIBRATION.md).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>

#include "kernels/cpu/half.hpp"
#include "kernels/cpu/selection.hpp"
#include "kernels/cpu/sparse_attention.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "kernels/microbench/microbench.hpp"
#include "kernels/microbench/timing.hpp"

namespace hgca::kernels::microbench {
namespace {

void say(const Options& o, const std::string& s) {
  if (o.log) o.log(s);
}

std::vector<int> thread_grid(const Options& o) {
  if (!o.cpu_threads.empty()) return o.cpu_threads;
  const int all = o.max_threads > 0 ? o.max_threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<int> t = o.quick ? std::vector<int>{1, all} : std::vector<int>{1, 2, 4, 8, all};
  t.erase(std::remove_if(t.begin(), t.end(), [all](int x) { return x > all; }), t.end());
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

// Sums 64-bit words with four independent accumulators (enough loads in flight to stream at DRAM speed).
std::uint64_t sum_words(const std::uint64_t* p, std::size_t n) {
  std::uint64_t a = 0, b = 0, c = 0, d = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

struct AlignedFree {
  void operator()(std::uint64_t* p) const { std::free(p); }
};
using Words = std::unique_ptr<std::uint64_t[], AlignedFree>;
Words alloc_words(std::size_t n) {
  void* p = std::aligned_alloc(64, ((n * 8 + 63) / 64) * 64);
  if (!p) throw std::runtime_error("microbench: cannot allocate " + std::to_string(n * 8) + " bytes");
  return Words(static_cast<std::uint64_t*>(p));
}

volatile std::uint64_t g_sink;  // keeps the reads from being optimised away

// A new pool's first calls run slow: its threads are new to the scheduler (on a virtual machine, vCPUs that
// were halted), their stacks untouched. On the device machine the first row timed after creating a pool of 8
// or 16 threads measured up to 10x its neighbours, run after run. Every bench calls this before timing: a few
// hundred short calls, each task busy for a few microseconds so that every thread takes part.
void warm_up(ThreadPool& pool, int threads) {
  std::vector<std::uint64_t> spins(static_cast<size_t>(threads));
  for (int call = 0; call < 300; ++call) {
    pool.parallel_for(threads, Partition::static_round_robin, [&](std::int64_t task, int) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(5);
      std::uint64_t n = 0;
      while (std::chrono::steady_clock::now() < until) ++n;
      spins[static_cast<size_t>(task)] += n;
    });
  }
  g_sink = std::accumulate(spins.begin(), spins.end(), std::uint64_t{0});
}

// One cpu_attention row of the table (fp16 KV), as the key-scan and the given-list benches both record it.
Row attention_row(int batch, int q_heads, int kv_heads, std::int64_t kv_len, int head_dim, int threads,
                  const char* method, std::int64_t selected, const std::string& task, double seconds,
                  const char* note) {
  Row r;
  r.primitive = "cpu_attention";
  r.batch = batch;
  r.q_heads = q_heads;
  r.kv_heads = kv_heads;
  r.kv_len = kv_len;
  r.head_dim = head_dim;
  r.dtype = "fp16";
  r.threads = threads;
  r.method = method;
  r.selected = selected;
  r.task = task;
  r.time_s = seconds;
  r.note = note;
  return r;
}

// `threads` threads each stream bytes / threads from a buffer far larger than the caches (touched first,
// in parallel, so its pages are spread as a real KV cache's would be).
void bench_stream(const Options& o, std::vector<Row>& rows) {
  const double bytes = o.cpu_stream_bytes > 0 ? o.cpu_stream_bytes : o.quick ? 64.0 * (1 << 20) : 1024.0 * (1 << 20);
  const std::size_t words = static_cast<std::size_t>(bytes) / 8;
  Words buf = alloc_words(words);
  for (int t : thread_grid(o)) {
    ThreadPool pool(t, o.worker_spin);
    warm_up(pool, t);
    pool.parallel_for(t, Partition::static_round_robin, [&](std::int64_t task, int) {
      const std::size_t lo = words * task / t, hi = words * (task + 1) / t;
      for (std::size_t i = lo; i < hi; ++i) buf[i] = i * 0x9E3779B97F4A7C15ull;
    });
    std::vector<std::uint64_t> sums(static_cast<size_t>(t));
    const double s = median_seconds(1, o.quick ? 3 : 5, [&] {
      return wall_seconds([&] {
        pool.parallel_for(t, Partition::static_round_robin, [&](std::int64_t task, int) {
          const std::size_t lo = words * task / t, hi = words * (task + 1) / t;
          sums[task] = sum_words(buf.get() + lo, hi - lo);
        });
      });
    });
    g_sink = std::accumulate(sums.begin(), sums.end(), std::uint64_t{0});
    Row r;
    r.primitive = "cpu_stream";
    r.bytes = static_cast<double>(words * 8);
    r.threads = t;
    r.time_s = s;
    r.note = std::to_string(static_cast<int>(words * 8 / s / 1e9 + 0.5)) + " GB/s";
    rows.push_back(r);
    say(o, "cpu_stream threads=" + std::to_string(t) + " " + r.note);
  }
}

// The same volume as 256-byte rows (a 128-dim fp16 KV row) at random positions of a buffer twice as large,
// read in ascending order: what sparse attention reads (its lists are sorted, kernels/cpu reads dense
// selections in ascending order). A random-order permutation measured 3x slower than the attention kernels
// read and made one gather_efficiency fit neither.
void bench_gather(const Options& o, std::vector<Row>& rows) {
  constexpr std::size_t kRowWords = 32;  // 256 B
  const double bytes = o.cpu_stream_bytes > 0 ? o.cpu_stream_bytes : o.quick ? 64.0 * (1 << 20) : 1024.0 * (1 << 20);
  const std::size_t n_rows = static_cast<std::size_t>(bytes) / (kRowWords * 8);
  Words buf = alloc_words(2 * n_rows * kRowWords);
  std::vector<std::uint32_t> order(2 * n_rows);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
  order.resize(n_rows);
  std::sort(order.begin(), order.end());
  for (int t : thread_grid(o)) {
    ThreadPool pool(t, o.worker_spin);
    warm_up(pool, t);
    pool.parallel_for(t, Partition::static_round_robin, [&](std::int64_t task, int) {
      const std::size_t lo = 2 * n_rows * kRowWords * task / t, hi = 2 * n_rows * kRowWords * (task + 1) / t;
      for (std::size_t i = lo; i < hi; ++i) buf[i] = i;
    });
    std::vector<std::uint64_t> sums(static_cast<size_t>(t));
    const double s = median_seconds(1, o.quick ? 3 : 5, [&] {
      return wall_seconds([&] {
        pool.parallel_for(t, Partition::static_round_robin, [&](std::int64_t task, int) {
          const std::size_t lo = n_rows * task / t, hi = n_rows * (task + 1) / t;
          std::uint64_t acc = 0;
          for (std::size_t i = lo; i < hi; ++i) acc += sum_words(buf.get() + std::size_t{order[i]} * kRowWords, kRowWords);
          sums[task] = acc;
        });
      });
    });
    g_sink = std::accumulate(sums.begin(), sums.end(), std::uint64_t{0});
    Row r;
    r.primitive = "cpu_gather";
    r.bytes = static_cast<double>(n_rows * kRowWords * 8);
    r.threads = t;
    r.time_s = s;
    r.note = "256 B rows, random, ascending; " + std::to_string(static_cast<int>(r.bytes / s / 1e9 + 0.5)) + " GB/s";
    rows.push_back(r);
    say(o, "cpu_gather threads=" + std::to_string(t) + " " + r.note);
  }
}

// Fills every K and V block with fp16 values in [-1, 1) from a hash, in parallel (gigabytes; set_key per
// element would take longer than the benchmark).
void fill_kv(KvStore& kv, ThreadPool& pool) {
  const int units = kv.num_sequences() * kv.kv_heads();
  pool.parallel_for(units, Partition::dynamic, [&](std::int64_t u, int) {
    const int seq = static_cast<int>(u / kv.kv_heads()), head = static_cast<int>(u % kv.kv_heads());
    const std::size_t n = static_cast<std::size_t>(kv.tokens(seq)) * kv.head_dim();
    for (std::byte* base : {kv.keys(seq, head), kv.values(seq, head)}) {
      auto* h = reinterpret_cast<std::uint16_t*>(base);
      std::uint64_t x = 0x243F6A8885A308D3ull ^ (static_cast<std::uint64_t>(u) << 20) ^ reinterpret_cast<std::uintptr_t>(base);
      for (std::size_t i = 0; i < n; ++i) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        h[i] = float_to_fp16_bits(static_cast<float>(static_cast<std::int64_t>(x >> 40) - (1 << 23)) / (1 << 23));
      }
    }
  });
}

TaskGranularity granularity_of(const std::string& task) {
  return task == "head" ? TaskGranularity::head : task == "sequence" ? TaskGranularity::sequence : TaskGranularity::kv_group;
}

// One decode step of sparse attention with key-scan selection, as the simulator's `hgca` strategy charges it
// (method key-scan): every selection unit (a query head, a KV-head group or a sequence, per `task`) scans all
// keys of its KV heads, keeps the top `selected` per query head, and attends them. Selection and attention
// are two parallel phases of the same pool, timed together.
void bench_attention(const Options& o, std::vector<Row>& rows) {
  const int batch = o.quick ? 2 : 8, q_heads = 32, kv_heads = 8, head_dim = 128;
  const std::int64_t kv_len = o.quick ? 2048 : 32768;  // full: 1 GiB of K and V, keys well beyond a 300 MB L3
  const int group = q_heads / kv_heads;
  // The full grid keeps the thread counts where the selection work is short (the given-list rows below carry
  // the per-row and per-task costs); one thread alone scanning 1 GiB would take seconds per point.
  std::vector<int> threads = thread_grid(o);
  if (!o.quick && o.cpu_threads.empty() && threads.back() >= 4)
    threads.erase(std::remove_if(threads.begin(), threads.end(), [](int t) { return t < 4; }), threads.end());
  const std::vector<std::int64_t> selected = o.quick ? std::vector<std::int64_t>{64} : std::vector<std::int64_t>{64, 4096};
  const std::vector<std::string> tasks = o.quick ? std::vector<std::string>{"kv-head"} : std::vector<std::string>{"kv-head", "head"};

  KvStore kv(KvType::f16, kv_heads, head_dim, std::vector<std::int64_t>(batch, kv_len));
  {
    ThreadPool fill_pool(threads.back());
    fill_kv(kv, fill_pool);
  }
  std::vector<float> q(static_cast<size_t>(batch) * q_heads * head_dim);
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<float>((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  std::vector<float> out(q.size()), lse(static_cast<size_t>(batch) * q_heads);
  const std::int64_t list_rows = static_cast<std::int64_t>(batch) * q_heads;

  for (int t : threads) {
    ThreadPool pool(t, o.worker_spin);
    warm_up(pool, t);
    for (const std::string& task : tasks) {
      for (std::int64_t sel : selected) {
        std::vector<std::int64_t> offsets(list_rows + 1);
        for (std::int64_t r = 0; r <= list_rows; ++r) offsets[r] = r * sel;
        std::vector<std::int32_t> indices(static_cast<size_t>(list_rows * sel));
        // Selection units: (seq, query head) for `head`, (seq, KV head) for `kv-head`, sequences for `sequence`.
        const bool per_head = task == "head";
        const std::int64_t units = per_head ? list_rows : task == "sequence" ? batch : std::int64_t{batch} * kv_heads;
        std::vector<std::vector<float>> scores(static_cast<size_t>(t));
        AttentionOptions ao;
        ao.granularity = granularity_of(task);
        const double s = median_seconds(1, o.quick ? 2 : 3, [&] {
          return wall_seconds([&] {
            pool.parallel_for(units, Partition::dynamic, [&](std::int64_t u, int thread) {
              std::vector<float>& sc = scores[static_cast<size_t>(thread)];
              auto select = [&](int seq, int kvh, int first_q, int n_q) {
                sc.resize(static_cast<size_t>(n_q * kv_len));
                const float* qp = q.data() + (static_cast<size_t>(seq) * q_heads + first_q) * head_dim;
                const Status st = score_keys(kv, seq, kvh, {qp, static_cast<size_t>(n_q) * head_dim}, n_q, 0.0f, sc);
                if (!st.ok()) throw std::runtime_error("microbench: score_keys: " + st.message);
                for (int g = 0; g < n_q; ++g) {
                  const std::vector<std::int32_t> top = top_k({sc.data() + static_cast<size_t>(g) * kv_len, static_cast<size_t>(kv_len)}, sel);
                  std::copy(top.begin(), top.end(), indices.begin() + offsets[static_cast<size_t>(seq) * q_heads + first_q + g]);
                }
              };
              if (per_head) {
                const int seq = static_cast<int>(u / q_heads), h = static_cast<int>(u % q_heads);
                select(seq, h / group, h, 1);
              } else if (task == "sequence") {
                for (int kvh = 0; kvh < kv_heads; ++kvh) select(static_cast<int>(u), kvh, kvh * group, group);
              } else {
                const int seq = static_cast<int>(u / kv_heads), kvh = static_cast<int>(u % kv_heads);
                select(seq, kvh, kvh * group, group);
              }
            });
            const Status st = sparse_attention(kv, q_heads, q, {offsets, indices}, {out, lse}, ao, &pool);
            if (!st.ok()) throw std::runtime_error("microbench: sparse_attention: " + st.message);
          });
        });
        rows.push_back(attention_row(batch, q_heads, kv_heads, kv_len, head_dim, t, "key-scan", sel, task, s,
                                     "kernels/cpu score_keys + top_k + sparse_attention"));
        say(o, "cpu_attention threads=" + std::to_string(t) + " task=" + task + " selected=" + std::to_string(sel) +
                   " " + std::to_string(s * 1e3) + " ms");
      }
    }
  }
}

// `k` distinct token indices out of [0, n), ascending (front-to-back reads, as the hybrid runner draws them).
void draw_list(std::uint64_t seed, std::int64_t n, std::int64_t k, std::int32_t* out) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> pick(0, n - 1);
  std::vector<std::int32_t> v;
  v.reserve(static_cast<size_t>(k));
  while (static_cast<std::int64_t>(v.size()) < k) {
    while (static_cast<std::int64_t>(v.size()) < k) v.push_back(static_cast<std::int32_t>(pick(rng)));
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  std::copy(v.begin(), v.end(), out);
}

// The attention shape of a given-list step (bench_given, bench_llc).
struct HeadShape {
  int q_heads, kv_heads, head_dim;
};

// A KV pool of `batch` sequences of `kv_len` tokens (fp16), filled, with the queries and outputs of one step.
struct GivenRig {
  int batch, q_heads, kv_heads, head_dim;
  std::int64_t kv_len;
  KvStore kv;
  std::vector<float> q, out, lse;
  GivenRig(int batch_, int q_heads_, int kv_heads_, int head_dim_, std::int64_t kv_len_, int fill_threads)
      : batch(batch_), q_heads(q_heads_), kv_heads(kv_heads_), head_dim(head_dim_), kv_len(kv_len_),
        kv(KvType::f16, kv_heads_, head_dim_, std::vector<std::int64_t>(static_cast<size_t>(batch_), kv_len_)),
        q(static_cast<size_t>(batch_) * q_heads_ * head_dim_), out(q.size()), lse(static_cast<size_t>(batch_) * q_heads_) {
    ThreadPool fill_pool(fill_threads);
    fill_kv(kv, fill_pool);
    for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<float>((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  }
};

// Times sparse attention over per-head lists of `sel` tokens given in advance, each query head its own random
// list drawn afresh (untimed) before every repetition; `draw` counts draws across a whole grid so that no two
// repetitions anywhere read the same lists. Returns the cpu_attention row (method given).
Row time_given(const Options& o, GivenRig& rig, ThreadPool& pool, int threads, const std::string& task,
               std::int64_t sel, std::uint64_t& draw, const char* note) {
  const std::int64_t list_rows = static_cast<std::int64_t>(rig.batch) * rig.q_heads;
  std::vector<std::int64_t> offsets(static_cast<size_t>(list_rows) + 1);
  for (std::int64_t r = 0; r <= list_rows; ++r) offsets[static_cast<size_t>(r)] = r * sel;
  std::vector<std::int32_t> indices(static_cast<size_t>(list_rows * sel));
  AttentionOptions ao;
  ao.granularity = granularity_of(task);
  // Rows span 20 us to 30 ms: at least 5 repetitions and 20 ms of them (up to 200), so a small step's median
  // does not rest on five samples of a noisy machine.
  const double s = median_seconds_for(o.quick ? 1 : 3, o.quick ? 2 : 5, o.quick ? 2 : 200, o.quick ? 0.0 : 0.02, [&] {
    ++draw;
    pool.parallel_for(list_rows, Partition::dynamic, [&](std::int64_t r, int) {
      draw_list((draw << 32) ^ (static_cast<std::uint64_t>(r) * 0x9E3779B97F4A7C15ull), rig.kv_len, sel,
                indices.data() + offsets[static_cast<size_t>(r)]);
    });
    return wall_seconds([&] {
      const Status st = sparse_attention(rig.kv, rig.q_heads, rig.q, {offsets, indices}, {rig.out, rig.lse}, ao, &pool);
      if (!st.ok()) throw std::runtime_error("microbench: sparse_attention: " + st.message);
    });
  });
  return attention_row(rig.batch, rig.q_heads, rig.kv_heads, rig.kv_len, rig.head_dim, threads, "given", sel, task, s, note);
}

int all_threads(const Options& o) {
  return o.max_threads > 0 ? o.max_threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Sparse attention over per-head lists given in advance (method given): what the hybrid runner's CPU phase
// does, with no selection work, out of a KV pool of about 2 GiB per batch: the rows one repetition reads are
// not the last one's, so the 300 MB L3 of the device's Xeon does not serve them (bench_llc measures what it
// does serve). Two shapes (head_dim 128 and 64) give rows of two sizes, so a per-row cost separates from
// bandwidth; batch and selected span one task per thread to dozens.
void bench_given(const Options& o, std::vector<Row>& rows) {
  const std::vector<HeadShape> shapes = o.quick ? std::vector<HeadShape>{{32, 8, 128}} : std::vector<HeadShape>{{32, 8, 128}, {16, 4, 64}};
  const std::vector<int> batches = o.quick ? std::vector<int>{2} : std::vector<int>{1, 4, 16};
  const std::vector<std::int64_t> selected = o.quick ? std::vector<std::int64_t>{64} : std::vector<std::int64_t>{64, 512, 4096};
  const std::vector<std::string> tasks = o.quick ? std::vector<std::string>{"kv-head"} : std::vector<std::string>{"kv-head", "head"};
  const int all = all_threads(o);
  std::vector<int> threads = thread_grid(o);
  if (!o.quick && o.cpu_threads.empty()) {
    threads.clear();
    for (int t : {4, 8, 16})
      if (t <= all) threads.push_back(t);
    if (threads.empty()) threads.push_back(all);
  }
  const double pool_bytes = o.quick ? 64.0 * (1 << 20) : 2048.0 * (1 << 20);
  const std::int64_t max_sel = *std::max_element(selected.begin(), selected.end());
  std::uint64_t draw = 0;

  for (const HeadShape& sh : shapes) {
    for (int batch : batches) {
      const double token_bytes = 2.0 * 2.0 * sh.head_dim * sh.kv_heads;  // fp16 K and V of every KV head
      const std::int64_t kv_len = std::max<std::int64_t>(4 * max_sel, static_cast<std::int64_t>(pool_bytes / (batch * token_bytes)));
      GivenRig rig(batch, sh.q_heads, sh.kv_heads, sh.head_dim, kv_len, all);
      for (int t : threads) {
        ThreadPool pool(t, o.worker_spin);
        warm_up(pool, t);
        for (const std::string& task : tasks) {
          for (std::int64_t sel : selected) {
            rows.push_back(time_given(o, rig, pool, t, task, sel, draw, "kernels/cpu sparse_attention over fresh random lists"));
            say(o, "cpu_attention given batch=" + std::to_string(batch) + " head_dim=" + std::to_string(sh.head_dim) +
                       " threads=" + std::to_string(t) + " task=" + task + " selected=" + std::to_string(sel) + " " +
                       std::to_string(rows.back().time_s * 1e3) + " ms");
          }
        }
      }
    }
  }
}

// The last-level cache as the runner's CPU phase meets it: the same given-list step (batch 4, 64 and 256 tokens
// per query head (quick: 64), KV-group tasks) over pools of 16 MiB to 2 GiB, in two shapes: Llama-3.1-8B's
// attention (head_dim 128) and a small GQA shape with head_dim 64 (16 query heads, 4 KV heads): the validation
// grid's two head_dims. A step draws fresh random lists, so the share of its rows found in the cache is about
// (cache the KV gets) / (pool); the rows read per step change little with the pool (at 256 rows per head and
// head_dim 128 the union of a group's four lists grows from ~700 rows, 68 % of the smallest pool's 1024-token
// sequences, to nearly 1024 on large pools), so what changes along the sweep is where they come from. Two row
// sizes tell how much of a row the cache shortens (run 13: about as much at head_dim 64 as at 128). Two step
// sizes are there because the runner's small steps (64 rows per head) on pools that fit the cache ran at the
// uncached cost while its large ones did not (docs/VALIDATION.md, runs 13 and 14): whether this step, outside
// the runner, finds the cache at 64 rows decides between the model's cache term and the runner's surroundings. These rows determine cpu.llc_bytes and cpu.llc_bandwidth_factor
// (sim/hw/cpu_pool.cpp llc_scale).
void bench_llc(const Options& o, std::vector<Row>& rows) {
  constexpr int kBatch = 4;
  const std::vector<HeadShape> shapes = {{32, 8, 128}, {16, 4, 64}};
  const std::vector<std::int64_t> selected = o.quick ? std::vector<std::int64_t>{64} : std::vector<std::int64_t>{64, 256};
  const std::int64_t max_sel = *std::max_element(selected.begin(), selected.end());
  const std::vector<double> pool_mib = o.quick ? std::vector<double>{8, 32} : std::vector<double>{16, 32, 64, 128, 256, 512, 1024, 2048};
  const int all = all_threads(o);
  std::vector<int> threads = o.cpu_threads;
  if (threads.empty()) threads = o.quick ? std::vector<int>{all} : std::vector<int>{std::min(4, all), all};
  threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
  std::uint64_t draw = 1ull << 24;  // apart from bench_given's draws
  for (const HeadShape& sh : shapes) {
    const double token_bytes = 2.0 * 2.0 * sh.head_dim * sh.kv_heads * kBatch;  // one token of every sequence
    for (double mib : pool_mib) {
      const std::int64_t kv_len = std::max<std::int64_t>(4 * max_sel, static_cast<std::int64_t>(mib * (1 << 20) / token_bytes));
      GivenRig rig(kBatch, sh.q_heads, sh.kv_heads, sh.head_dim, kv_len, all);
      for (int t : threads) {
        ThreadPool pool(t, o.worker_spin);
        warm_up(pool, t);
        for (std::int64_t sel : selected) {
          rows.push_back(time_given(o, rig, pool, t, "kv-head", sel, draw, "kernels/cpu sparse_attention, LLC sweep"));
          say(o, "cpu_attention llc head_dim=" + std::to_string(sh.head_dim) + " pool=" + std::to_string(static_cast<int>(mib)) +
                     " MiB threads=" + std::to_string(t) + " selected=" + std::to_string(sel) + " " +
                     std::to_string(rows.back().time_s * 1e3) + " ms");
        }
      }
    }
  }
}

}  // namespace

std::vector<Row> run_cpu(const Options& options) {
  std::vector<Row> rows;
  bench_stream(options, rows);
  bench_gather(options, rows);
  bench_attention(options, rows);
  bench_given(options, rows);
  bench_llc(options, rows);
  return rows;
}

}  // namespace hgca::kernels::microbench
