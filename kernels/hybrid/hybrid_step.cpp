#include "kernels/hybrid/hybrid_step.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>

#include "kernels/cpu/half.hpp"
#include "kernels/cpu/kv_store.hpp"
#include "kernels/cpu/selection.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "kernels/cuda/kv_window.hpp"
#include "kernels/cuda/merge.hpp"
#include "kernels/cuda/runtime.hpp"
#include "kernels/hybrid/hybrid_data.hpp"
#include "kernels/ref/reference_attention.hpp"

namespace hgca::kernels::hybrid {

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::uint16_t to_bits(KvType t, float x) { return t == KvType::bf16 ? float_to_bf16_bits(x) : float_to_fp16_bits(x); }
double from_bits(KvType t, std::uint16_t b) {
  return t == KvType::bf16 ? bf16_bits_to_float(b) : fp16_bits_to_float(b);
}

// Validates before any member touches the GPU, and refuses early (with the runtime's reason) without one.
HybridConfig checked(const HybridConfig& c) {
  if (const Status s = validate(c); !s.ok()) throw std::invalid_argument(s.message);
  std::string why;
  if (cuda::device_count(&why) == 0) throw cuda::CudaError("no CUDA device (" + why + ")");
  return c;
}

int resolve_threads(int t) {
  if (t > 0) return t;
  const unsigned h = std::thread::hardware_concurrency();
  return h ? static_cast<int>(h) : 1;
}

}  // namespace

struct HybridStep::Impl {
  HybridConfig c;
  int threads;
  ThreadPool workers;
  KvStore pool;                // copy 0: filled, and what check() reads (every copy holds the same rows)
  std::vector<KvStore> copies;  // copies 1 .. pool_copies - 1 (HybridConfig::pool_copies)
  cuda::KvWindow window;
  cuda::DecodePlan plan;
  std::size_t rows;  // batch x q_heads
  std::int64_t per_head;
  // The CPU part travels as one block [out rows x head_dim | lse rows] so that it is a single H2D copy.
  cuda::DeviceBuffer d_q, d_out_w, d_lse_w, d_part_c, d_out, d_lse, workspace;
  cuda::PinnedBuffer h_q, h_part_c;
  std::vector<float> q_stage, part_stage;  // HybridConfig::pageable_cpu_io: the CPU phase's own buffers
  cuda::Stream main, copy;
  cuda::Event ev_start, ev_gpu_end, ev_d2h_start, ev_d2h_end, ev_h2d_start, ev_h2d_end, ev_merge_start, ev_merge_end;
  std::vector<std::int64_t> offsets;
  std::vector<std::int32_t> indices;
  std::vector<std::vector<float>> scores;  // per thread, top-k scoring scratch

  explicit Impl(const HybridConfig& config)
      : c(checked(config)),
        threads(resolve_threads(config.threads)),
        workers(threads, std::chrono::microseconds(config.worker_spin_us)),
        pool(config.type, config.kv_heads, config.head_dim,
             std::vector<std::int64_t>(static_cast<std::size_t>(config.batch), config.pool_rows()),
             config.huge_pages ? KvStore::Pages::huge : KvStore::Pages::base),
        window({config.type, config.batch, config.kv_heads, config.head_dim, config.window}, config.sinks),
        rows(static_cast<std::size_t>(config.batch) * static_cast<std::size_t>(config.q_heads)),
        per_head(config.selected_per_head()) {
    const Status ps = cuda::plan_decode_attention(window.shape(), c.q_heads, c.gpu, cuda::device_info(0).sm_count, &plan);
    if (!ps.ok()) throw std::invalid_argument(ps.message);
    fill_pool();
    copy_pool();
    fill_window();
    const std::size_t d = static_cast<std::size_t>(c.head_dim);
    std::vector<float> q(rows * d);
    for (int s = 0; s < c.batch; ++s)
      for (int h = 0; h < c.q_heads; ++h)
        for (int i = 0; i < c.head_dim; ++i)
          q[(static_cast<std::size_t>(s) * c.q_heads + h) * d + i] = query_value(c.seed, s, h, i);
    d_q = cuda::DeviceBuffer(q.size() * 4);
    cuda::copy_to_device(d_q.data(), q.data(), q.size() * 4, nullptr);
    for (auto* b : {&d_out_w, &d_out}) *b = cuda::DeviceBuffer(rows * d * 4);
    for (auto* b : {&d_lse_w, &d_lse}) *b = cuda::DeviceBuffer(rows * 4);
    d_part_c = cuda::DeviceBuffer(rows * (d + 1) * 4);
    workspace = cuda::DeviceBuffer(plan.workspace_bytes);
    h_q = cuda::PinnedBuffer(rows * d * 4);
    h_part_c = cuda::PinnedBuffer(rows * (d + 1) * 4);
    if (c.pageable_cpu_io) {
      q_stage.assign(rows * d, 0.0f);
      part_stage.assign(rows * (d + 1), 0.0f);
    }
    cuda::synchronize_device();
    offsets.resize(rows + 1);
    for (std::size_t r = 0; r <= rows; ++r) offsets[r] = static_cast<std::int64_t>(r) * per_head;
    indices.assign(rows * static_cast<std::size_t>(per_head), 0);
    if (c.selection == Selection::random) draw_random_lists();
    else scores.assign(static_cast<std::size_t>(threads), {});
    if (c.warm_pool) read_pool();  // last: nothing of the setup may come after it
  }

  std::size_t block_bytes() const { return static_cast<std::size_t>(c.pool_rows()) * pool.row_bytes(); }

  // f(sequence, kv_head, thread) for every (sequence, KV head) block of the pool, spread over `on`.
  template <class F>
  void for_each_block(ThreadPool& on, F&& f) const {
    on.parallel_for(static_cast<std::int64_t>(c.batch) * c.kv_heads, Partition::dynamic, [&](std::int64_t task, int thread) {
      f(static_cast<int>(task / c.kv_heads), static_cast<int>(task % c.kv_heads), thread);
    });
  }

  // The copy step `i` reads: successive steps (a model step's layers) go round the copies.
  int copy_of_step(std::uint64_t i) const { return static_cast<int>(i % static_cast<std::uint64_t>(c.pool_copies)); }
  const KvStore& pool_of_step(std::uint64_t i) const {
    const int k = copy_of_step(i);
    return k == 0 ? pool : copies[static_cast<std::size_t>(k - 1)];
  }

  void copy_pool() {
    if (c.pool_copies < 2) return;
    const std::size_t bytes = block_bytes();
    copies.reserve(static_cast<std::size_t>(c.pool_copies - 1));
    ThreadPool fillers(resolve_threads(0));  // setup, as fill_pool: every hardware thread
    for (int k = 1; k < c.pool_copies; ++k) {
      copies.emplace_back(c.type, c.kv_heads, c.head_dim, std::vector<std::int64_t>(static_cast<std::size_t>(c.batch), c.pool_rows()),
                          c.huge_pages ? KvStore::Pages::huge : KvStore::Pages::base);
      KvStore& dst = copies.back();
      for_each_block(fillers, [&](int s, int h, int) {
        std::memcpy(dst.keys(s, h), pool.keys(s, h), bytes);
        std::memcpy(dst.values(s, h), pool.values(s, h), bytes);
      });
    }
  }

  // One load per cache line of every key and value block, by the step's own workers (HybridConfig::warm_pool),
  // copy by copy in the order the steps read them, so that the first step's copy is the least recently read.
  void read_pool() {
    const std::size_t bytes = block_bytes();
    if (bytes == 0) return;
    std::vector<std::uint64_t> sums(static_cast<std::size_t>(threads), 0);
    for (int k = 0; k < c.pool_copies; ++k) {
      const KvStore& kv = pool_of_step(static_cast<std::uint64_t>(runs + static_cast<std::uint64_t>(k)));
      for_each_block(workers, [&](int s, int h, int thread) {
        std::uint64_t sum = 0;
        for (const std::byte* block : {kv.keys(s, h), kv.values(s, h)})
          for (std::size_t i = 0; i < bytes; i += 64) sum += static_cast<std::uint64_t>(block[i]);
        sums[static_cast<std::size_t>(thread)] += sum;
      });
    }
    read_sink = std::accumulate(sums.begin(), sums.end(), std::uint64_t{0});
  }
  volatile std::uint64_t read_sink = 0;  // keeps read_pool's loads

  // With every hardware thread, not just the step's: filling a pool of gigabytes is setup, not the step.
  void fill_pool() {
    const std::int64_t n = c.pool_rows();
    const int d = c.head_dim;
    ThreadPool fillers(resolve_threads(0));
    for_each_block(fillers, [&](int s, int h, int) {
      auto* k = reinterpret_cast<std::uint16_t*>(pool.keys(s, h));
      auto* v = reinterpret_cast<std::uint16_t*>(pool.values(s, h));
      for (std::int64_t r = 0; r < n; ++r)
        for (int i = 0; i < d; ++i) {
          k[r * d + i] = to_bits(c.type, kv_value(c.seed, 0, s, h, c.sinks + r, i));
          v[r * d + i] = to_bits(c.type, kv_value(c.seed, 1, s, h, c.sinks + r, i));
        }
    });
  }

  // Slot j of the window holds position j (context <= window or j < sinks) or context - window + j.
  std::int64_t window_position(std::int64_t slot) const {
    return (c.context <= c.window || slot < c.sinks) ? slot : c.context - c.window + slot;
  }

  void fill_window() {
    const std::int64_t n = c.window_rows();
    const auto d = static_cast<std::size_t>(c.head_dim);
    std::vector<std::uint16_t> k(static_cast<std::size_t>(c.kv_heads) * static_cast<std::size_t>(n) * d), v(k.size());
    for (int s = 0; s < c.batch; ++s) {
      workers.parallel_for(c.kv_heads, Partition::dynamic, [&](std::int64_t h, int) {
        for (std::int64_t j = 0; j < n; ++j)
          for (std::size_t i = 0; i < d; ++i) {
            const std::size_t e = (static_cast<std::size_t>(h) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)) * d + i;
            k[e] = to_bits(c.type, kv_value(c.seed, 0, s, static_cast<int>(h), window_position(j), static_cast<int>(i)));
            v[e] = to_bits(c.type, kv_value(c.seed, 1, s, static_cast<int>(h), window_position(j), static_cast<int>(i)));
          }
      });
      window.load(s, n, k, v);
    }
  }

  std::uint64_t draws = 0;  // lists drawn so far: the seed of the next draw
  std::uint64_t runs = 0;   // steps run so far

  void draw_random_lists() {
    const std::int64_t n = c.pool_rows();
    const std::uint64_t draw = draws++;
    workers.parallel_for(static_cast<std::int64_t>(rows), Partition::dynamic, [&](std::int64_t r, int) {
      std::mt19937_64 rng(c.seed * 0x9E3779B97F4A7C15ull + (draw << 32) + static_cast<std::uint64_t>(r) + 1);
      std::vector<std::int32_t> all(static_cast<std::size_t>(n));
      std::iota(all.begin(), all.end(), 0);
      for (std::int64_t i = 0; i < per_head; ++i) {  // partial Fisher-Yates: the first per_head are the sample
        std::uniform_int_distribution<std::int64_t> pick(i, n - 1);
        std::swap(all[static_cast<std::size_t>(i)], all[static_cast<std::size_t>(pick(rng))]);
      }
      std::sort(all.begin(), all.begin() + per_head);  // front-to-back reads
      std::copy_n(all.begin(), per_head, indices.begin() + offsets[static_cast<std::size_t>(r)]);
    });
  }

  // Top-k by exact score: every pool key of a KV head is scored once for the group's query heads.
  void select_topk(const KvStore& kv, const float* q) {
    const std::int64_t n = c.pool_rows();
    const int group = c.q_heads / c.kv_heads;
    const std::size_t d = static_cast<std::size_t>(c.head_dim);
    for_each_block(workers, [&](int s, int kvh, int thread) {
      auto& sc = scores[static_cast<std::size_t>(thread)];
      sc.resize(static_cast<std::size_t>(group) * static_cast<std::size_t>(n));
      const std::size_t r0 = static_cast<std::size_t>(s) * c.q_heads + static_cast<std::size_t>(kvh) * group;
      const Status st = score_keys(kv, s, kvh, {q + r0 * d, group * d}, group, c.gpu.scale, sc);
      if (!st.ok()) throw std::runtime_error("score_keys: " + st.message);
      for (int g = 0; g < group; ++g) {
        const auto top = top_k(std::span<const float>(sc).subspan(static_cast<std::size_t>(g) * n, n), per_head);
        std::copy(top.begin(), top.end(), indices.begin() + offsets[r0 + g]);
      }
    });
  }

  PhaseTimes run() {
    if (c.selection == Selection::random && c.redraw && runs > 0 && per_head > 0) draw_random_lists();  // untimed
    const KvStore& kv = pool_of_step(runs++);
    PhaseTimes t;
    const std::size_t d = static_cast<std::size_t>(c.head_dim);
    const auto t0 = Clock::now();
    ev_start.record(main.get());
    copy.wait(ev_start);  // in a model the queries come out of the QKV projection on the main stream
    ev_d2h_start.record(copy.get());
    cuda::copy_to_host(h_q.data(), d_q.data(), rows * d * 4, copy.get());
    ev_d2h_end.record(copy.get());

    cuda::DecodeArgs a;
    a.kv = window.view();
    a.q_heads = c.q_heads;
    a.q = d_q.as<float>();
    a.out = d_out_w.as<float>();
    a.lse = d_lse_w.as<float>();
    a.workspace = workspace.data();
    if (const Status st = cuda::decode_attention(a, plan, main.get()); !st.ok()) throw cuda::CudaError(st.message);
    ev_gpu_end.record(main.get());

    ev_d2h_end.synchronize();
    if (c.pageable_cpu_io) std::memcpy(q_stage.data(), h_q.data(), rows * d * 4);  // outside the CPU phase
    const auto c0 = Clock::now();
    const float* q = c.pageable_cpu_io ? q_stage.data() : h_q.as<const float>();
    if (c.selection == Selection::topk && per_head > 0) select_topk(kv, q);
    const auto c1 = Clock::now();
    AttentionOptions opts;
    opts.scale = c.gpu.scale;
    opts.granularity = c.granularity;
    float* h_out_c = c.pageable_cpu_io ? part_stage.data() : h_part_c.as<float>();
    float* h_lse_c = h_out_c + rows * d;
    const Status st = sparse_attention(kv, c.q_heads, {q, rows * d}, {offsets, indices},
                                       {{h_out_c, rows * d}, {h_lse_c, rows}}, opts, &workers);
    if (!st.ok()) throw std::runtime_error("sparse_attention: " + st.message);
    const auto c2 = Clock::now();
    if (c.pageable_cpu_io) std::memcpy(h_part_c.data(), part_stage.data(), h_part_c.bytes());

    ev_h2d_start.record(copy.get());
    cuda::copy_to_device(d_part_c.data(), h_part_c.data(), h_part_c.bytes(), copy.get());
    ev_h2d_end.record(copy.get());
    main.wait(ev_h2d_end);
    ev_merge_start.record(main.get());
    const float* d_out_c = d_part_c.as<float>();
    if (const Status ms = cuda::merge_attention(d_out_w.as<float>(), d_lse_w.as<float>(), d_out_c, d_out_c + rows * d,
                                                d_out.as<float>(), d_lse.as<float>(), rows,
                                                c.head_dim, main.get());
        !ms.ok())
      throw cuda::CudaError(ms.message);
    ev_merge_end.record(main.get());
    ev_merge_end.synchronize();
    const auto t1 = Clock::now();

    t.gpu_window_ms = ev_gpu_end.since(ev_start);
    t.d2h_query_ms = ev_d2h_end.since(ev_d2h_start);
    t.cpu_select_ms = ms_between(c0, c1);
    t.cpu_attention_ms = ms_between(c1, c2);
    t.h2d_result_ms = ev_h2d_end.since(ev_h2d_start);
    t.merge_ms = ev_merge_end.since(ev_merge_start);
    t.total_ms = ms_between(t0, t1);
    return t;
  }
};

HybridStep::HybridStep(const HybridConfig& config) : impl_(std::make_unique<Impl>(config)) {}
HybridStep::~HybridStep() = default;
const HybridConfig& HybridStep::config() const { return impl_->c; }
PhaseTimes HybridStep::run() { return impl_->run(); }
void HybridStep::read_pool() { impl_->read_pool(); }
int HybridStep::last_pool_copy() const {
  const Impl& m = *impl_;
  return m.runs == 0 ? 0 : m.copy_of_step(m.runs - 1);
}
int HybridStep::cpu_threads() const { return impl_->threads; }

void HybridStep::output(std::vector<float>& out, std::vector<float>& lse) const {
  const Impl& m = *impl_;
  out.resize(m.rows * static_cast<std::size_t>(m.c.head_dim));
  lse.resize(m.rows);
  cuda::copy_to_host(out.data(), m.d_out.data(), out.size() * 4, nullptr);
  cuda::copy_to_host(lse.data(), m.d_lse.data(), lse.size() * 4, nullptr);
  cuda::synchronize_device();
}

std::vector<std::int32_t> HybridStep::selected(int seq, int q_head) const {
  const Impl& m = *impl_;
  const std::size_t r = static_cast<std::size_t>(seq) * m.c.q_heads + static_cast<std::size_t>(q_head);
  std::vector<std::int32_t> v(m.indices.begin() + m.offsets[r], m.indices.begin() + m.offsets[r + 1]);
  std::sort(v.begin(), v.end());
  return v;
}

CheckResult HybridStep::check(int rows) const {
  const Impl& m = *impl_;
  const HybridConfig& c = m.c;
  std::vector<float> out, lse;
  output(out, lse);
  const std::size_t total = m.rows;
  const std::size_t n = rows <= 0 || static_cast<std::size_t>(rows) > total ? total : static_cast<std::size_t>(rows);
  const int group = c.q_heads / c.kv_heads;
  const std::int64_t wrows = c.window_rows();
  const auto d = static_cast<std::size_t>(c.head_dim);
  const double scale = c.gpu.scale > 0 ? c.gpu.scale : ref::default_scale(c.head_dim);
  CheckResult res;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = n == total ? i : i * (total - 1) / std::max<std::size_t>(n - 1, 1);
    const int s = static_cast<int>(r / static_cast<std::size_t>(c.q_heads));
    const int h = static_cast<int>(r % static_cast<std::size_t>(c.q_heads));
    const int kvh = h / group;
    // What the GPU actually holds for (s, kvh), plus the selected pool rows.
    std::vector<std::uint16_t> wk(static_cast<std::size_t>(wrows) * d), wv(wk.size());
    const std::size_t off = m.window.shape().row_offset(s, kvh, 0);
    cuda::copy_to_host(wk.data(), static_cast<const char*>(m.window.view().k) + off, wk.size() * 2, nullptr);
    cuda::copy_to_host(wv.data(), static_cast<const char*>(m.window.view().v) + off, wv.size() * 2, nullptr);
    cuda::synchronize_device();
    const auto sel = selected(s, h);
    const auto count = static_cast<Eigen::Index>(wrows + static_cast<std::int64_t>(sel.size()));
    ref::RowMatrix k(count, c.head_dim), v(count, c.head_dim);
    for (std::int64_t j = 0; j < wrows; ++j)
      for (std::size_t e = 0; e < d; ++e) {
        k(j, static_cast<Eigen::Index>(e)) = from_bits(c.type, wk[static_cast<std::size_t>(j) * d + e]);
        v(j, static_cast<Eigen::Index>(e)) = from_bits(c.type, wv[static_cast<std::size_t>(j) * d + e]);
      }
    for (std::size_t j = 0; j < sel.size(); ++j)
      for (int e = 0; e < c.head_dim; ++e) {
        k(wrows + static_cast<Eigen::Index>(j), e) = m.pool.key(s, kvh, sel[j], e);
        v(wrows + static_cast<Eigen::Index>(j), e) = m.pool.value(s, kvh, sel[j], e);
      }
    Eigen::VectorXd q(c.head_dim);
    for (int e = 0; e < c.head_dim; ++e) q[e] = query_value(c.seed, s, h, e);
    const ref::Result want = ref::attend_full(q, k, v, scale);
    double err = 0;
    for (std::size_t e = 0; e < d; ++e) {
      const double got = out[r * d + e];
      err = std::isfinite(got) ? std::max(err, std::abs(got - want.out[static_cast<Eigen::Index>(e)])) : INFINITY;
    }
    res.max_rel_error = std::max(res.max_rel_error, err / std::max(want.out.cwiseAbs().maxCoeff(), 1e-30));
    res.max_lse_error = std::max(res.max_lse_error, std::isfinite(lse[r]) ? std::abs(lse[r] - want.lse) : INFINITY);
    ++res.rows;
  }
  return res;
}

double HybridStep::gpu_bytes() const {
  const HybridConfig& c = impl_->c;
  return 2.0 * c.batch * c.kv_heads * static_cast<double>(c.window_rows()) * c.head_dim * kv_element_bytes(c.type);
}

double HybridStep::cpu_bytes() const {
  const Impl& m = *impl_;
  const HybridConfig& c = m.c;
  const int group = c.q_heads / c.kv_heads;
  const double row = static_cast<double>(c.head_dim) * kv_element_bytes(c.type);
  double rows_read = 0;
  std::vector<char> mark(static_cast<std::size_t>(c.pool_rows()));
  for (int s = 0; s < c.batch; ++s)
    for (int kvh = 0; kvh < c.kv_heads; ++kvh) {
      std::fill(mark.begin(), mark.end(), 0);
      const std::size_t r0 = static_cast<std::size_t>(s) * c.q_heads + static_cast<std::size_t>(kvh) * group;
      for (std::size_t r = r0; r < r0 + static_cast<std::size_t>(group); ++r)
        for (std::int64_t i = m.offsets[r]; i < m.offsets[r + 1]; ++i) mark[static_cast<std::size_t>(m.indices[i])] = 1;
      rows_read += 2.0 * static_cast<double>(std::count(mark.begin(), mark.end(), 1));
      if (c.selection == Selection::topk) rows_read += static_cast<double>(c.pool_rows());  // the key scan
    }
  return rows_read * row;
}

}  // namespace hgca::kernels::hybrid
