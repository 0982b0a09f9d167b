#include "traces/replay/replay.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <mutex>
#include <stdexcept>

#include "kernels/cpu/attention_state.hpp"
#include "kernels/cpu/selection.hpp"
#include "kernels/cpu/sparse_attention.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "traces/replay/output_quality.hpp"
#include "traces/replay/paper_replay.hpp"

namespace hgca::traces {

namespace {

using kernels::KvStore;

// Score rows (steps x heads of a group) computed per score_keys call: a block of steps shares every key row
// read. Capped so the scores of one block stay around 32 MiB whatever the trace length.
constexpr std::int64_t kMaxStepBlock = 64;
constexpr std::int64_t kScoreBlockFloats = std::int64_t{8} << 20;

void check(const kernels::Status& s, const char* what) {
  if (!s.ok()) throw std::logic_error(std::string("replay: ") + what + ": " + s.message);
}

// Where the positions of step t live.
struct StepLayout {
  std::int64_t position;     // p
  std::int64_t begin, end;   // CPU-resident candidates [begin, end)
};

StepLayout layout(const TraceMeta& m, const ReplayOptions& o, int step) {
  StepLayout s;
  s.position = m.prompt_length + step;
  s.begin = o.sinks;
  s.end = std::max(o.sinks, s.position - o.window + 1);
  return s;
}

// One (layer, KV head): its keys and values in a one-sequence KvStore, its queries interleaved by step.
struct GroupData {
  std::unique_ptr<KvStore> store;
  std::vector<float> q;  // [step][g][head_dim]
  std::unique_ptr<kernels::BlockSummaries> summaries;
};

class Replayer {
 public:
  Replayer(const TraceSource& trace, const Policy& policy, const ReplayOptions& options, ReplayResult& r)
      : trace_(trace), policy_(policy), o_(options), m_(trace.meta()), r_(r), needs_(policy.needs()) {
    G_ = m_.group_size();
    d_ = m_.head_dim;
    N_ = m_.num_positions();
    T_ = m_.decode_steps;
    scale_ = static_cast<float>(m_.softmax_scale);
    step_block_ = std::clamp<std::int64_t>(kScoreBlockFloats / std::max<std::int64_t>(1, G_ * N_), 1, kMaxStepBlock);
    attn_.scale = scale_;
    attn_.granularity = G_ <= 64 ? kernels::TaskGranularity::kv_group : kernels::TaskGranularity::head;
  }

  void run() {
    kernels::ThreadPool pool(std::max(1, o_.threads));
    const std::int64_t tasks = std::int64_t{m_.num_layers} * m_.num_kv_heads;
    if (const BudgetPlanner* planner = policy_.planner()) {
      records_.assign(static_cast<size_t>(m_.num_layers) * m_.num_q_heads * T_, {});
      pool.parallel_for(tasks, kernels::Partition::dynamic, [&](std::int64_t task, int) { measure(task, *planner); });
      budgets_.assign(records_.size(), 0);
      pool.parallel_for(m_.num_layers, kernels::Partition::dynamic, [&](std::int64_t layer, int) { plan(static_cast<int>(layer), *planner); });
      records_.clear();
    }
    pool.parallel_for(tasks, kernels::Partition::dynamic, [&](std::int64_t task, int) { replay_group(task); });
  }

 private:
  GroupData load(int layer, int kvh, bool values) {
    GroupData g;
    std::vector<float> buf;
    g.store = std::make_unique<KvStore>(kernels::KvType::f32, 1, d_, std::vector<std::int64_t>{N_});
    const size_t bytes = static_cast<size_t>(N_) * static_cast<size_t>(d_) * sizeof(float);
    std::vector<std::vector<float>> q(static_cast<size_t>(G_));
    {
      // Trace files are read one call at a time (HDF5 is not thread-safe); the arithmetic runs in parallel.
      std::lock_guard<std::mutex> lock(read_mutex_);
      trace_.keys(layer, kvh, buf);
      check_size(buf, N_, "keys", layer, kvh);
      std::memcpy(g.store->keys(0, 0), buf.data(), bytes);
      if (values) {
        trace_.values(layer, kvh, buf);
        check_size(buf, N_, "values", layer, kvh);
        std::memcpy(g.store->values(0, 0), buf.data(), bytes);
      }
      for (int i = 0; i < G_; ++i) {
        trace_.queries(layer, kvh * G_ + i, q[static_cast<size_t>(i)]);
        check_size(q[static_cast<size_t>(i)], T_, "queries", layer, kvh * G_ + i);
      }
    }
    g.q.resize(static_cast<size_t>(T_) * G_ * d_);
    for (std::int64_t t = 0; t < T_; ++t)
      for (int i = 0; i < G_; ++i)
        std::memcpy(&g.q[(static_cast<size_t>(t) * G_ + i) * d_], &q[static_cast<size_t>(i)][static_cast<size_t>(t) * d_],
                    static_cast<size_t>(d_) * sizeof(float));
    if (needs_.summary_block > 0)
      g.summaries = std::make_unique<kernels::BlockSummaries>(kernels::summarize_blocks(*g.store, 0, 0, needs_.summary_block));
    return g;
  }

  void check_size(const std::vector<float>& v, std::int64_t rows, const char* what, int layer, int head) const {
    if (v.size() != static_cast<size_t>(rows) * static_cast<size_t>(d_))
      throw TraceError(std::string("trace: ") + what + " of layer " + std::to_string(layer) + " head " +
                       std::to_string(head) + " hold " + std::to_string(v.size()) + " values, expected " +
                       std::to_string(rows) + " x " + std::to_string(d_));
  }

  // Logits of the steps [t0, t0 + n) against every key: scores[((t - t0) * G + g) * N + j].
  void score_block(const GroupData& g, std::int64_t t0, std::int64_t n, std::vector<float>& scores) const {
    scores.resize(static_cast<size_t>(n * G_ * N_));
    const std::span<const float> q(&g.q[static_cast<size_t>(t0 * G_ * d_)], static_cast<size_t>(n * G_ * d_));
    check(kernels::score_keys(*g.store, 0, 0, q, static_cast<int>(n * G_), scale_, scores), "score_keys");
  }

  StepView view_of(int layer, int kvh, int step, const GroupData& g, std::span<const float* const> logits) const {
    const StepLayout s = layout(m_, o_, step);
    StepView v;
    v.layer = layer;
    v.kv_head = kvh;
    v.group = G_;
    v.q_heads = m_.num_q_heads;
    v.step = step;
    v.position = s.position;
    v.begin = s.begin;
    v.end = s.end;
    v.head_dim = d_;
    v.scale = scale_;
    v.q = std::span<const float>(&g.q[static_cast<size_t>(step) * G_ * d_], static_cast<size_t>(G_ * d_));
    v.logits = logits;
    v.kv = g.store.get();
    v.summaries = g.summaries.get();
    if (!budgets_.empty())
      v.budgets = std::span<const std::int64_t>(&budgets_[budget_index(layer, step, kvh * G_)], static_cast<size_t>(G_));
    return v;
  }

  // Budgets are laid out [layer][step][q_head] so a group's heads are adjacent.
  size_t budget_index(int layer, int step, int q_head) const {
    return (static_cast<size_t>(layer) * static_cast<size_t>(T_) + static_cast<size_t>(step)) * static_cast<size_t>(m_.num_q_heads) +
           static_cast<size_t>(q_head);
  }

  // Budget planning, first pass: a record per (layer, head, step).
  void measure(std::int64_t task, const BudgetPlanner& planner) {
    const int layer = static_cast<int>(task / m_.num_kv_heads), kvh = static_cast<int>(task % m_.num_kv_heads);
    const GroupData g = load(layer, kvh, /*values=*/false);
    std::vector<float> scores;
    std::vector<const float*> logits(static_cast<size_t>(G_));
    for (std::int64_t t0 = 0; t0 < T_; t0 += step_block_) {
      const std::int64_t n = std::min(step_block_, T_ - t0);
      score_block(g, t0, n, scores);
      for (std::int64_t t = t0; t < t0 + n; ++t) {
        for (int i = 0; i < G_; ++i) logits[static_cast<size_t>(i)] = &scores[static_cast<size_t>(((t - t0) * G_ + i) * N_)];
        const StepView v = view_of(layer, kvh, static_cast<int>(t), g, logits);
        for (int i = 0; i < G_; ++i)
          planner.measure(v, i, records_[r_.head_index(layer, kvh * G_ + i, static_cast<int>(t))]);
      }
    }
  }

  void plan(int layer, const BudgetPlanner& planner) {
    const int H = m_.num_q_heads;
    std::vector<const std::vector<float>*> recs(static_cast<size_t>(H));
    std::vector<std::int64_t> b(static_cast<size_t>(H));
    for (std::int64_t t = 0; t < T_; ++t) {
      for (int h = 0; h < H; ++h) recs[static_cast<size_t>(h)] = &records_[r_.head_index(layer, h, static_cast<int>(t))];
      const StepLayout s = layout(m_, o_, static_cast<int>(t));
      planner.plan(s.end - s.begin, recs, b);
      for (int h = 0; h < H; ++h) budgets_[budget_index(layer, static_cast<int>(t), h)] = b[static_cast<size_t>(h)];
    }
  }

  void replay_group(std::int64_t task) {
    const int layer = static_cast<int>(task / m_.num_kv_heads), kvh = static_cast<int>(task % m_.num_kv_heads);
    const GroupData g = load(layer, kvh, /*values=*/true);
    const std::unique_ptr<GroupSelector> selector = policy_.make_selector(layer, kvh, G_);
    const size_t G = static_cast<size_t>(G_), D = static_cast<size_t>(d_);

    std::vector<float> scores;
    std::vector<const float*> logits(G);
    GroupSelection sel;
    std::vector<std::int32_t> window, window_lists, cpu_lists;
    std::vector<int> seen(static_cast<size_t>(N_), 0);  // step + 1 where a position was last counted
    std::vector<std::int64_t> window_offsets(G + 1), cpu_offsets(G + 1);
    std::vector<float> out_e(G * D), out_w(G * D), out_c(G * D), out_h(G * D);
    std::vector<float> lse_e(G), lse_w(G), lse_c(G), lse_h(G);

    for (std::int64_t t0 = 0; t0 < T_; t0 += step_block_) {
      const std::int64_t nsteps = std::min(step_block_, T_ - t0);
      if (needs_.scores) score_block(g, t0, nsteps, scores);
      for (std::int64_t t = t0; t < t0 + nsteps; ++t) {
        const int step = static_cast<int>(t);
        if (needs_.scores)
          for (size_t i = 0; i < G; ++i) logits[i] = &scores[((static_cast<size_t>(t - t0)) * G + i) * static_cast<size_t>(N_)];
        const StepView v = view_of(layer, kvh, step, g, needs_.scores ? std::span<const float* const>(logits) : std::span<const float* const>());
        selector->select(v, sel);
        check_selection(v, sel);

        // GPU part: sinks and window, the same list for every head of the group.
        window.clear();
        for (std::int64_t j = 0; j < std::min(o_.sinks, v.position + 1); ++j) window.push_back(static_cast<std::int32_t>(j));
        for (std::int64_t j = std::max(o_.sinks, v.position - o_.window + 1); j <= v.position; ++j)
          window.push_back(static_cast<std::int32_t>(j));
        window_lists.clear();
        cpu_lists.clear();
        for (size_t i = 0; i < G; ++i) {
          window_offsets[i] = static_cast<std::int64_t>(window_lists.size());
          window_lists.insert(window_lists.end(), window.begin(), window.end());
          cpu_offsets[i] = static_cast<std::int64_t>(cpu_lists.size());
          cpu_lists.insert(cpu_lists.end(), sel.heads[i].begin(), sel.heads[i].end());
        }
        window_offsets[G] = static_cast<std::int64_t>(window_lists.size());
        cpu_offsets[G] = static_cast<std::int64_t>(cpu_lists.size());

        const kernels::TokenRange all{0, v.position + 1};
        check(kernels::dense_attention(*g.store, G_, v.q, {&all, 1}, {out_e, lse_e}, attn_), "exact attention");
        check(kernels::sparse_attention(*g.store, G_, v.q, {window_offsets, window_lists}, {out_w, lse_w}, attn_),
              "window attention");
        check(kernels::sparse_attention(*g.store, G_, v.q, {cpu_offsets, cpu_lists}, {out_c, lse_c}, attn_),
              "CPU attention");
        kernels::merge_normalized(out_w, lse_w, out_c, lse_c, out_h, lse_h, d_);

        for (size_t i = 0; i < G; ++i) {
          const int h = kvh * G_ + static_cast<int>(i);
          const size_t at = r_.head_index(layer, h, step);
          record_quality(&out_e[i * D], &out_h[i * D], lse_e[i], lse_h[i], at);
          r_.selected[at] = static_cast<std::int32_t>(sel.heads[i].size());
          if (o_.keep_selections) r_.selections[at] = sel.heads[i];
        }
        // Union size of the group's lists: positions stamped with this step's number count once.
        std::int32_t united = 0;
        for (size_t i = 0; i < G; ++i)
          for (const std::int32_t j : sel.heads[i])
            if (seen[static_cast<size_t>(j)] != step + 1) {
              seen[static_cast<size_t>(j)] = step + 1;
              ++united;
            }
        const size_t at = r_.group_index(layer, kvh, step);
        r_.group_selected[at] = united;
        r_.keys_scored[at] = sel.cost.keys_scored;
        r_.summary_rows[at] = sel.cost.summary_rows;
        r_.state_entries[at] = sel.cost.state_entries;
        r_.indices[at] = sel.cost.indices;

        selector->observe(v, sel, StepOutcome{window, lse_h});
      }
    }
  }

  // A policy bug must not pass silently as a quality figure.
  void check_selection(const StepView& v, const GroupSelection& sel) const {
    if (sel.heads.size() != static_cast<size_t>(G_))
      throw std::logic_error("policy " + policy_.spec() + " returned lists for the wrong number of heads");
    for (const auto& list : sel.heads)
      for (size_t j = 0; j < list.size(); ++j)
        if (list[j] < v.begin || list[j] >= v.end || (j > 0 && list[j] <= list[j - 1]))
          throw std::logic_error("policy " + policy_.spec() + " selected position " + std::to_string(list[j]) +
                                 " outside the CPU-resident range [" + std::to_string(v.begin) + ", " +
                                 std::to_string(v.end) + ") or out of order at step " + std::to_string(v.step));
  }

  void record_quality(const float* exact, const float* hgca, float lse_e, float lse_h, size_t at) {
    const detail::OutputQuality q = detail::compare_outputs(exact, hgca, d_, lse_e, lse_h);
    r_.rel_l2[at] = q.rel_l2;
    r_.cosine[at] = q.cosine;
    r_.mass[at] = q.mass;
  }

  const TraceSource& trace_;
  const Policy& policy_;
  const ReplayOptions& o_;
  const TraceMeta& m_;
  ReplayResult& r_;
  const PolicyNeeds needs_;
  int G_ = 1, d_ = 0;
  std::int64_t N_ = 0, T_ = 0, step_block_ = 1;
  float scale_ = 0;
  kernels::AttentionOptions attn_;
  std::mutex read_mutex_;
  std::vector<std::vector<float>> records_;  // planner records [layer][q_head][step]
  std::vector<std::int64_t> budgets_;        // planned budgets [layer][step][q_head]
};

void validate(const TraceMeta& m, const ReplayOptions& o) {
  if (m.num_layers <= 0 || m.num_q_heads <= 0 || m.num_kv_heads <= 0 || m.head_dim <= 0 ||
      m.num_q_heads % m.num_kv_heads != 0 || m.decode_steps <= 0 || m.prompt_length < 0 ||
      !(m.softmax_scale > 0) || !std::isfinite(m.softmax_scale))
    throw TraceError("trace: inconsistent metadata (layers, heads, head_dim, decode_steps or softmax_scale)");
  if (m.num_positions() > INT32_MAX) throw TraceError("trace: more than 2^31 - 1 positions");
  if (o.window < 1) throw std::invalid_argument("--window must be at least 1 (the decoded token's own position)");
  if (o.sinks < 0) throw std::invalid_argument("--sinks must not be negative");
  if (o.sinks > m.prompt_length)
    throw std::invalid_argument("--sinks " + std::to_string(o.sinks) + " exceeds the prompt (" +
                                std::to_string(m.prompt_length) + " positions)");
  if (o.window + o.sinks >= m.num_positions())
    throw std::invalid_argument("--window " + std::to_string(o.window) + " (+ --sinks " + std::to_string(o.sinks) +
                                ") covers the whole context: the trace has " + std::to_string(m.num_positions()) +
                                " positions, so none would ever be CPU-resident");
  if (o.threads < 1) throw std::invalid_argument("--threads must be at least 1");
}

}  // namespace

namespace {
ReplayResult replay_per_step(const TraceSource& trace, const Policy& policy, const ReplayOptions& options);
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

void ReplayResult::allocate(bool keep_selections) {
  const auto heads = static_cast<std::size_t>(meta.num_layers) * meta.num_q_heads * meta.decode_steps;
  const auto groups = static_cast<std::size_t>(meta.num_layers) * meta.num_kv_heads * meta.decode_steps;
  rel_l2.assign(heads, 0);
  cosine.assign(heads, 0);
  mass.assign(heads, 0);
  selected.assign(heads, 0);
  if (keep_selections) selections.assign(heads, {});
  group_selected.assign(groups, 0);
  keys_scored.assign(groups, 0);
  summary_rows.assign(groups, 0);
  state_entries.assign(groups, 0);
  indices.assign(groups, 0);
}

ReplayResult replay(const TraceSource& trace, const Policy& policy, const ReplayOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = process_cpu_seconds();
  ReplayResult r;
  if (policy.paper()) {
    r = detail::replay_paper(trace, policy, options);
  } else {
    r = replay_per_step(trace, policy, options);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.cpu_seconds = process_cpu_seconds() - cpu_start;
  return r;
}

namespace {
ReplayResult replay_per_step(const TraceSource& trace, const Policy& policy, const ReplayOptions& options) {
  const TraceMeta& m = trace.meta();
  validate(m, options);
  ReplayResult r;
  r.meta = m;
  r.meta.tokens.clear();
  r.policy = policy.spec();
  r.selection_method = policy.selection_method();
  r.shared_kv = policy.options().shared_kv;
  r.summary_block = policy.needs().summary_block;
  r.options = options;
  r.allocate(options.keep_selections);
  r.cpu_resident.resize(static_cast<size_t>(m.decode_steps));
  double attended = 0;  // sum over steps of p + 1
  for (int t = 0; t < m.decode_steps; ++t) {
    const StepLayout s = layout(m, options, t);
    r.cpu_resident[static_cast<size_t>(t)] = s.end - s.begin;
    attended += static_cast<double>(s.position + 1);
  }
  r.kv_bytes = attended * m.num_layers * m.num_kv_heads * m.head_dim * 2.0 * sizeof(float);

  Replayer(trace, policy, options, r).run();
  return r;
}
}  // namespace

}  // namespace hgca::traces
