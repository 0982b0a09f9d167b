#include "traces/replay/paper_replay.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "kernels/cpu/attention_state.hpp"
#include "kernels/cpu/selection.hpp"
#include "kernels/cpu/sparse_attention.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "sim/policy/paper_selection.hpp"
#include "traces/replay/output_quality.hpp"

namespace hgca::traces::detail {

namespace {

using kernels::KvStore;

// Logits of a block of decode steps against every key are computed at once (every key row read once per
// block), capped at about 32 MiB of scores per layer task.
constexpr std::int64_t kMaxStepBlock = 64;
constexpr std::int64_t kScoreBlockFloats = std::int64_t{8} << 20;
constexpr std::int64_t kPromptRows = 64;  // prompt queries scored per score_keys call

void check(const kernels::Status& s, const char* what) {
  if (!s.ok()) throw std::logic_error(std::string("paper replay: ") + what + ": " + s.message);
}

// Softmax of logits[0, n) in double, added (times `weight`) into acc[0, n).
void add_softmax(const float* logits, std::int64_t n, double weight, double* acc) {
  if (n <= 0) return;
  float mx = -std::numeric_limits<float>::infinity();
  for (std::int64_t j = 0; j < n; ++j) mx = std::max(mx, logits[j]);
  double sum = 0;
  for (std::int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(logits[j]) - mx);
  const double f = weight / sum;
  for (std::int64_t j = 0; j < n; ++j) acc[j] += f * std::exp(static_cast<double>(logits[j]) - mx);
}

// Region sizes through the trace: the layout is the same for every layer (it depends on token counts only).
struct Timeline {
  std::vector<std::int64_t> cpu_only, gpu_tokens;  // [step]
};

Timeline timeline(const TraceMeta& m, const PaperSpec& spec) {
  paper::BlockWindow w(spec);
  w.append(m.prompt_length);
  Timeline t;
  for (std::int64_t s = 0; s < m.decode_steps; ++s) {
    t.cpu_only.push_back(w.cpu_only());
    t.gpu_tokens.push_back(w.attended() + 1);
    w.append(1);
  }
  return t;
}

class PaperReplayer {
 public:
  PaperReplayer(const TraceSource& trace, const PaperPolicySpec& spec, const ReplayOptions& o, ReplayResult& r)
      : trace_(trace), spec_(spec), o_(o), m_(trace.meta()), r_(r) {
    G_ = m_.group_size();
    d_ = m_.head_dim;
    N_ = m_.num_positions();
    T_ = m_.decode_steps;
    H_ = m_.num_q_heads;
    K_ = m_.num_kv_heads;
    kv_scope_ = spec.mechanism.selection == PaperSelectionScope::KvHead;
    SH_ = kv_scope_ ? K_ : H_;
    step_block_ = std::clamp<std::int64_t>(kScoreBlockFloats / std::max<std::int64_t>(1, H_ * N_), 1, kMaxStepBlock);
    attn_.scale = static_cast<float>(m_.softmax_scale);
    attn_.granularity = kernels::TaskGranularity::kv_group;
  }

  void run() {
    kernels::ThreadPool pool(std::max(1, o_.threads));
    pool.parallel_for(m_.num_layers, kernels::Partition::dynamic,
                      [&](std::int64_t layer, int) { replay_layer(static_cast<int>(layer)); });
  }

 private:
  int selection_head(int q_head) const { return kv_scope_ ? q_head / G_ : q_head; }

  struct LayerData {
    std::vector<std::unique_ptr<KvStore>> stores;  // [kv_head], one sequence each
    std::vector<std::vector<float>> q;             // [kv_head]: [step][g][head_dim]
    std::vector<std::vector<float>> pq;            // [q_head]: [prompt query][head_dim] (prompt=queries)
  };

  void check_size(const std::vector<float>& v, std::int64_t rows, const char* what, int layer, int head) const {
    if (v.size() != static_cast<size_t>(rows) * static_cast<size_t>(d_))
      throw TraceError(std::string("trace: ") + what + " of layer " + std::to_string(layer) + " head " +
                       std::to_string(head) + " hold " + std::to_string(v.size()) + " values, expected " +
                       std::to_string(rows) + " x " + std::to_string(d_));
  }

  LayerData load(int layer) {
    LayerData L;
    const size_t bytes = static_cast<size_t>(N_) * static_cast<size_t>(d_) * sizeof(float);
    const size_t D = static_cast<size_t>(d_);
    std::vector<float> buf;
    // Trace files are read one call at a time (HDF5 is not thread-safe); the arithmetic runs in parallel.
    std::lock_guard<std::mutex> lock(read_mutex_);
    for (int k = 0; k < K_; ++k) {
      auto store = std::make_unique<KvStore>(kernels::KvType::f32, 1, d_, std::vector<std::int64_t>{N_});
      trace_.keys(layer, k, buf);
      check_size(buf, N_, "keys", layer, k);
      std::memcpy(store->keys(0, 0), buf.data(), bytes);
      trace_.values(layer, k, buf);
      check_size(buf, N_, "values", layer, k);
      std::memcpy(store->values(0, 0), buf.data(), bytes);
      L.stores.push_back(std::move(store));
      std::vector<float> q(static_cast<size_t>(T_) * G_ * D);
      for (int i = 0; i < G_; ++i) {
        trace_.queries(layer, k * G_ + i, buf);
        check_size(buf, T_, "queries", layer, k * G_ + i);
        for (std::int64_t t = 0; t < T_; ++t)
          std::memcpy(&q[(static_cast<size_t>(t) * G_ + i) * D], &buf[static_cast<size_t>(t) * D], D * sizeof(float));
      }
      L.q.push_back(std::move(q));
    }
    if (m_.prompt_length > 0 && spec_.prompt == PaperPolicySpec::Prompt::queries) {
      L.pq.resize(static_cast<size_t>(H_));
      for (int h = 0; h < H_; ++h) {
        trace_.prompt_queries(layer, h, L.pq[static_cast<size_t>(h)]);
        check_size(L.pq[static_cast<size_t>(h)], m_.num_prompt_queries(), "prompt queries", layer, h);
      }
    }
    return L;
  }

  // The prompt's scores per selection head: the mean causal attention weights of its queries over the prompt
  // positions (with kv-head, also the mean over the group's query heads).
  paper::PaperSelector::Weights prompt_weights(const LayerData& L) const {
    const std::int64_t P = m_.prompt_length;
    paper::PaperSelector::Weights w(static_cast<size_t>(SH_), std::vector<double>(static_cast<size_t>(P), 0.0));
    const double per_head = kv_scope_ ? 1.0 / G_ : 1.0;
    std::vector<float> scores;
    for (int h = 0; h < H_; ++h) {
      const int k = h / G_;
      double* acc = w[static_cast<size_t>(selection_head(h))].data();
      if (spec_.prompt == PaperPolicySpec::Prompt::first_decode) {
        // Decode step 0's query over the prompt positions [0, P) only: the last prompt query's stand-in.
        const std::span<const float> q(&L.q[static_cast<size_t>(k)][static_cast<size_t>(h % G_) * d_], static_cast<size_t>(d_));
        scores.resize(static_cast<size_t>(N_));
        check(kernels::score_keys(*L.stores[static_cast<size_t>(k)], 0, 0, q, 1, attn_.scale, scores), "score_keys");
        add_softmax(scores.data(), P, per_head, acc);
        continue;
      }
      const std::vector<float>& pq = L.pq[static_cast<size_t>(h)];
      const std::int64_t rows = m_.num_prompt_queries();
      for (std::int64_t r0 = 0; r0 < rows; r0 += kPromptRows) {
        const std::int64_t n = std::min(kPromptRows, rows - r0);
        scores.resize(static_cast<size_t>(n * N_));
        const std::span<const float> q(&pq[static_cast<size_t>(r0 * d_)], static_cast<size_t>(n * d_));
        check(kernels::score_keys(*L.stores[static_cast<size_t>(k)], 0, 0, q, static_cast<int>(n), attn_.scale, scores),
              "score_keys");
        for (std::int64_t r = 0; r < n; ++r) {
          const std::int64_t pos = m_.prompt_query_positions[static_cast<size_t>(r0 + r)];
          add_softmax(&scores[static_cast<size_t>(r * N_)], pos + 1, per_head / static_cast<double>(rows), acc);
        }
      }
    }
    return w;
  }

  void record(std::vector<float>& rel, std::vector<float>& cos, std::vector<float>& mass, size_t at, const float* e,
              const float* h, float lse_e, float lse_h) const {
    const OutputQuality q = compare_outputs(e, h, d_, lse_e, lse_h);
    rel[at] = q.rel_l2;
    cos[at] = q.cosine;
    mass[at] = q.mass;
  }

  void replay_layer(int layer) {
    const LayerData L = load(layer);
    PaperReplayData& pr = *r_.paper;
    paper::PaperSelector sel(spec_.mechanism, SH_);
    if (m_.prompt_length > 0) sel.append(m_.prompt_length, prompt_weights(L), {});

    const size_t G = static_cast<size_t>(G_), D = static_cast<size_t>(d_);
    std::vector<std::vector<float>> scores(static_cast<size_t>(K_));
    std::vector<std::int32_t> paper_lists, oracle_lists;
    std::vector<std::int64_t> paper_offsets(G + 1), oracle_offsets(G + 1);
    std::vector<float> out_e(G * D), out_w(G * D), out_c(G * D), out_h(G * D), out_o(G * D), out_ho(G * D);
    std::vector<float> lse_e(G), lse_w(G), lse_c(G), lse_h(G), lse_o(G), lse_ho(G);
    std::vector<int> seen(static_cast<size_t>(N_), 0);  // step + 1 where a position was last counted
    paper::PaperSelector::Weights gpu_w(static_cast<size_t>(SH_));

    for (std::int64_t t0 = 0; t0 < T_; t0 += step_block_) {
      const std::int64_t nsteps = std::min(step_block_, T_ - t0);
      for (int k = 0; k < K_; ++k) {
        std::vector<float>& s = scores[static_cast<size_t>(k)];
        s.resize(static_cast<size_t>(nsteps * G_ * N_));
        const std::span<const float> q(&L.q[static_cast<size_t>(k)][static_cast<size_t>(t0 * G_ * d_)],
                                       static_cast<size_t>(nsteps * G_ * d_));
        check(kernels::score_keys(*L.stores[static_cast<size_t>(k)], 0, 0, q, static_cast<int>(nsteps * G_), attn_.scale, s),
              "score_keys");
      }
      for (std::int64_t t = t0; t < t0 + nsteps; ++t) {
        const int step = static_cast<int>(t);
        const std::int64_t p = m_.prompt_length + t;
        const std::int64_t c = sel.layout().cpu_only();
        if (c + sel.layout().attended() != p) throw std::logic_error("paper replay: layout out of step with the trace");
        for (auto& w : gpu_w) w.assign(static_cast<size_t>(p - c + 1), 0.0);
        for (int k = 0; k < K_; ++k) {
          const KvStore& kv = *L.stores[static_cast<size_t>(k)];
          const std::span<const float> q(&L.q[static_cast<size_t>(k)][static_cast<size_t>(t * G_ * d_)], G * D);
          paper_lists.clear();
          oracle_lists.clear();
          for (size_t i = 0; i < G; ++i) {
            const int h = k * G_ + static_cast<int>(i);
            const float* logits = &scores[static_cast<size_t>(k)][((static_cast<size_t>(t - t0)) * G + i) * static_cast<size_t>(N_)];
            const std::vector<std::int64_t>& set = sel.kept(selection_head(h));
            paper_offsets[i] = static_cast<std::int64_t>(paper_lists.size());
            for (const std::int64_t j : set) paper_lists.push_back(static_cast<std::int32_t>(j));
            oracle_offsets[i] = static_cast<std::int64_t>(oracle_lists.size());
            const std::vector<std::int32_t> best =
                kernels::top_k(std::span<const float>(logits, static_cast<size_t>(c)), static_cast<std::int64_t>(set.size()));
            oracle_lists.insert(oracle_lists.end(), best.begin(), best.end());
            add_softmax(logits + c, p - c + 1, kv_scope_ ? 1.0 / G_ : 1.0, gpu_w[static_cast<size_t>(selection_head(h))].data());
          }
          paper_offsets[G] = static_cast<std::int64_t>(paper_lists.size());
          oracle_offsets[G] = static_cast<std::int64_t>(oracle_lists.size());

          const kernels::TokenRange all{0, p + 1}, gpu{c, p + 1};
          check(kernels::dense_attention(kv, G_, q, {&all, 1}, {out_e, lse_e}, attn_), "exact attention");
          check(kernels::dense_attention(kv, G_, q, {&gpu, 1}, {out_w, lse_w}, attn_), "GPU attention");
          check(kernels::sparse_attention(kv, G_, q, {paper_offsets, paper_lists}, {out_c, lse_c}, attn_), "CPU attention");
          check(kernels::sparse_attention(kv, G_, q, {oracle_offsets, oracle_lists}, {out_o, lse_o}, attn_),
                "oracle CPU attention");
          kernels::merge_normalized(out_w, lse_w, out_c, lse_c, out_h, lse_h, d_);
          kernels::merge_normalized(out_w, lse_w, out_o, lse_o, out_ho, lse_ho, d_);

          std::int32_t united = 0;
          for (size_t i = 0; i < G; ++i) {
            const int h = k * G_ + static_cast<int>(i);
            const size_t at = r_.head_index(layer, h, step);
            record(r_.rel_l2, r_.cosine, r_.mass, at, &out_e[i * D], &out_h[i * D], lse_e[i], lse_h[i]);
            record(pr.oracle_rel_l2, pr.oracle_cosine, pr.oracle_mass, at, &out_e[i * D], &out_ho[i * D], lse_e[i], lse_ho[i]);
            r_.selected[at] = static_cast<std::int32_t>(paper_offsets[i + 1] - paper_offsets[i]);
            if (o_.keep_selections)
              r_.selections[at].assign(paper_lists.begin() + paper_offsets[i], paper_lists.begin() + paper_offsets[i + 1]);
            for (std::int64_t x = paper_offsets[i]; x < paper_offsets[i + 1]; ++x) {
              const auto j = static_cast<size_t>(paper_lists[static_cast<size_t>(x)]);
              if (seen[j] != step + 1) {
                seen[j] = step + 1;
                ++united;
              }
            }
          }
          r_.group_selected[r_.group_index(layer, k, step)] = united;
        }
        for (int sh = 0; sh < SH_; ++sh)
          pr.sparse_set[pr.set_index(layer, sh, step, T_)] = static_cast<std::int32_t>(sel.kept(sh).size());

        sel.decode(gpu_w);  // smooths the scores; an eviction selects

        const std::int64_t leaving = sel.layout().cpu_only() - c;
        for (int sh = 0; sh < SH_; ++sh)
          pr.kept[pr.set_index(layer, sh, step, T_)] = static_cast<std::int32_t>(sel.last_keep()[static_cast<size_t>(sh)]);
        // Cost per KV group: the leaving tokens' scores each selection head reads, and the indices it keeps.
        for (int k = 0; k < K_; ++k) {
          const size_t at = r_.group_index(layer, k, step);
          const int first = kv_scope_ ? k : k * G_, count = kv_scope_ ? 1 : G_;
          r_.state_entries[at] = leaving * count;
          std::int64_t idx = 0;
          for (int sh = first; sh < first + count; ++sh) idx += sel.last_keep()[static_cast<size_t>(sh)];
          r_.indices[at] = idx;
        }
      }
    }
  }

  const TraceSource& trace_;
  const PaperPolicySpec& spec_;
  const ReplayOptions& o_;
  const TraceMeta& m_;
  ReplayResult& r_;
  int d_ = 0, G_ = 1, H_ = 0, K_ = 0, SH_ = 0;
  bool kv_scope_ = false;
  std::int64_t N_ = 0, T_ = 0, step_block_ = 1;
  kernels::AttentionOptions attn_;
  std::mutex read_mutex_;
};

void validate(const TraceMeta& m, const PaperPolicySpec& ps, const ReplayOptions& o, const Timeline& tl) {
  if (m.num_positions() > INT32_MAX) throw TraceError("trace: more than 2^31 - 1 positions");
  const PaperSpec& p = ps.mechanism;
  const std::int64_t capacity = p.block_size * p.gpu_blocks;
  if (o.window != 0 && o.window != capacity)
    throw std::invalid_argument("--window " + std::to_string(o.window) +
                                " does not apply to policy paper: its GPU window is gpu_blocks x block = " +
                                std::to_string(capacity) + " tokens (leave --window out)");
  if (o.sinks != 0) throw std::invalid_argument("--sinks does not apply to policy paper (the mechanism keeps no sinks)");
  if (o.threads < 1) throw std::invalid_argument("--threads must be at least 1");
  if (ps.prompt == PaperPolicySpec::Prompt::queries && m.prompt_length > 0 && !m.has_prompt_queries())
    throw std::invalid_argument(
        "policy paper: the trace stores no prompt queries (its prompt selection needs them); add prompt=first-decode "
        "to let decode step 0's query stand in for them (docs/REPLAY.md)");
  // Guards the prompt weights' indexing whatever source built the metadata (the file reader checks it too).
  for (const std::int64_t pos : m.prompt_query_positions)
    if (pos < 0 || pos >= m.prompt_length)
      throw TraceError("trace: prompt query position " + std::to_string(pos) + " is outside the prompt [0, " +
                       std::to_string(m.prompt_length) + ")");
  if (tl.cpu_only.back() == 0)
    throw std::invalid_argument("policy paper: the GPU window (" + std::to_string(p.gpu_blocks) + " x " +
                                std::to_string(p.block_size) + " tokens) and recall (" + std::to_string(p.recall_blocks) +
                                " blocks) hold all " + std::to_string(m.num_positions()) +
                                " positions of the trace: nothing is ever CPU-resident");
}

}  // namespace

ReplayResult replay_paper(const TraceSource& trace, const Policy& policy, const ReplayOptions& options) {
  const PaperPolicySpec& ps = *policy.paper();
  const TraceMeta& m = trace.meta();
  validate_meta(m, "trace");
  if (m.decode_steps <= 0) throw TraceError("trace: no decode steps to replay");
  const Timeline tl = timeline(m, ps.mechanism);
  validate(m, ps, options, tl);

  ReplayResult r;
  r.meta = m;
  r.meta.tokens.clear();
  r.policy = policy.spec();
  r.selection_method = policy.selection_method();
  r.shared_kv = ps.mechanism.selection == PaperSelectionScope::KvHead;
  r.options = options;
  r.options.window = ps.mechanism.block_size * ps.mechanism.gpu_blocks;
  r.options.sinks = 0;
  r.allocate(options.keep_selections);
  r.cpu_resident = tl.cpu_only;
  double attended = 0;
  for (std::int64_t t = 0; t < m.decode_steps; ++t) attended += static_cast<double>(m.prompt_length + t + 1);
  r.kv_bytes = attended * m.num_layers * m.num_kv_heads * m.head_dim * 2.0 * sizeof(float);

  PaperReplayData& pr = r.paper.emplace();
  pr.scope = r.shared_kv ? "kv-head" : "q-head";
  pr.selection_heads = r.shared_kv ? m.num_kv_heads : m.num_q_heads;
  const bool first_decode = ps.prompt == PaperPolicySpec::Prompt::first_decode;
  pr.prompt = first_decode ? "first-decode" : "queries";
  pr.prompt_queries_used = m.prompt_length == 0 ? 0 : first_decode ? 1 : m.num_prompt_queries();
  pr.gpu_tokens = tl.gpu_tokens;
  const size_t sets = static_cast<size_t>(m.num_layers) * pr.selection_heads * m.decode_steps;
  pr.sparse_set.assign(sets, 0);
  pr.kept.assign(sets, 0);
  pr.oracle_rel_l2.assign(r.rel_l2.size(), 0);
  pr.oracle_cosine.assign(r.rel_l2.size(), 0);
  pr.oracle_mass.assign(r.rel_l2.size(), 0);

  PaperReplayer(trace, ps, options, r).run();
  return r;
}

}  // namespace hgca::traces::detail
