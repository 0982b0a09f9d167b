// hgca with preset `paper`: the mechanism as its authors built it (sim/policy/paper_selection.hpp), with the
// costs their implementation pays. Per layer and decode step:
//  - GPU: the window attention over (recall, window, new token) also writes its softmax weights; a score
//    update smooths every attended position's score; with `recall_reload` the recall blocks are copied H2D
//    again first, and with `framework_copies` torch.cat copies the attended KV (the authors' code does both).
//  - Queries go to the host; the host forks one CPU task per (sequence, head group), each a dense attention
//    over its heads' sparse sets (contiguous copies); the host waits for them, the output and LSE go back, the
//    merge runs on the GPU and the host synchronises with the device (torch.cuda.synchronize) before going on.
//  - When a block leaves the window, its KV is copied D2H on the copy stream; when tokens leave the recall
//    region, their scores follow, and one CPU task (a Python thread per layer in the authors' code) counts,
//    groups and top-k-selects them and copies the kept rows into the heads' sparse sets, overlapped with the
//    rest of the step.
// The kept amounts come from the selection model (per (layer, head) keep rates: fraction, distribution or a
// profile) through the paper's group rule, so sparse sets grow eviction by eviction as the mechanism dictates.
#include <algorithm>
#include <map>

#include "sim/policy/cpu_attention_tasks.hpp"
#include "sim/policy/paper_selection.hpp"
#include "sim/policy/strategies/strategies.hpp"

namespace hgca {

namespace {

using paper::BlockMove;
using paper::BlockWindow;

// Per-head tokens kept when `leaving` tokens of a layer are selected: the selection model's per-head count
// (its keep rate times the tokens), then the paper's group maximum and keep_min.
class KeepRule {
 public:
  explicit KeepRule(const StrategyContext& ctx) : ctx_(ctx) {}
  int heads() const {
    return ctx_.exp.system.paper.selection == PaperSelectionScope::KvHead ? ctx_.costs.shape().kv_heads
                                                                          : ctx_.costs.shape().q_heads;
  }
  const std::vector<int64_t>& keep(int layer, int64_t leaving) const {
    auto [it, fresh] = cache_.try_emplace({layer, leaving});
    if (fresh) {
      const bool kv = ctx_.exp.system.paper.selection == PaperSelectionScope::KvHead;
      const double n = static_cast<double>(leaving);
      std::vector<int64_t> counts(heads());
      for (int h = 0; h < heads(); ++h)
        counts[h] = static_cast<int64_t>(kv ? ctx_.selection.group_entries(layer, h, n) : ctx_.selection.entries(layer, h, n));
      const PaperSpec& p = ctx_.exp.system.paper;
      it->second = paper::group_keep(counts, p.head_groups, p.keep_min, leaving);
    }
    return it->second;
  }

 private:
  const StrategyContext& ctx_;
  mutable std::map<std::pair<int, int64_t>, std::vector<int64_t>> cache_;
};

// One sequence from its prompt on: where its tokens are and how large every head's sparse set is.
class SequenceHistory {
 public:
  SequenceHistory(const KeepRule& rule, const PaperSpec& spec, int layers, int64_t prompt)
      : rule_(rule), layers_(layers), layout_(spec), sparse_(static_cast<size_t>(layers) * rule.heads(), 0.0) {
    apply(layout_.append(prompt));  // the prompt is one multi-token append
  }
  void advance_to(int64_t context) {
    while (layout_.context() < context) apply(last_ = layout_.append(1));
  }
  const BlockWindow& layout() const { return layout_; }
  const std::vector<double>& sparse() const { return sparse_; }  // [layer * heads + head]
  const BlockMove& last_move() const { return last_; }

 private:
  void apply(const BlockMove& m) {
    if (m.left_recall <= 0) return;
    const int heads = rule_.heads();
    for (int l = 0; l < layers_; ++l) {
      const std::vector<int64_t>& k = rule_.keep(l, m.left_recall);
      for (int h = 0; h < heads; ++h) sparse_[static_cast<size_t>(l) * heads + h] += static_cast<double>(k[h]);
    }
  }
  const KeepRule& rule_;
  int layers_;
  BlockWindow layout_;
  std::vector<double> sparse_;
  BlockMove last_;
};

class HgcaPaper final : public Strategy {
 public:
  explicit HgcaPaper(const StrategyContext& ctx) : Strategy(ctx), rule_(ctx) {}
  const char* name() const override { return "hgca"; }
  int64_t reported_window() const override { return capacity(); }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    const PaperSpec& p = spec();
    const ModelCosts& c = ctx_.costs;
    const int layers = c.shape().layers;
    const double per_token = c.kv_bytes_per_token_layer() * layers;
    const double batch = static_cast<double>(finals.size());
    const double attended = static_cast<double>(capacity() + recall_capacity());
    MemoryPlan m = base_memory(prompts);
    // GPU: the window buffers (allocated at capacity, as the authors do), the recall blocks (kept, or one
    // layer's reload buffer), the score buffer over (window + recall) per selection head.
    m.gpu.kv = batch * capacity() * per_token;
    const double recall = batch * recall_capacity() * c.kv_bytes_per_token_layer();
    if (p.recall_reload)
      m.gpu.staging += recall;
    else
      m.gpu.kv += recall * layers;
    m.gpu.metadata = batch * rule_.heads() * attended * kScoreBytes * layers;
    // The window attention's weights (one layer) and, in prefill, the full (queries x keys) weight matrix.
    double prefill_weights = 0;
    for (int64_t pr : prompts) {
      const double q = ctx_.exp.workload.prefill_chunk > 0 ? std::min(pr, ctx_.exp.workload.prefill_chunk) : pr;
      prefill_weights += q * static_cast<double>(pr) * c.shape().q_heads * kScoreBytes;
    }
    const double decode_weights = batch * c.shape().q_heads * (attended + 1) * kScoreBytes;
    m.gpu.activations += std::max(decode_weights, ctx_.exp.workload.simulate_prefill ? prefill_weights : 0.0);
    // CPU: every evicted token (the authors keep the whole CPU cache) plus the heads' sparse sets (copies).
    const double row = c.kv_bytes_per_token_head();
    for (size_t i = 0; i < finals.size(); ++i) {
      SequenceHistory h(rule_, p, layers, prompts[i]);
      h.advance_to(finals[i]);
      m.cpu.kv += static_cast<double>(h.layout().cpu_only() + h.layout().recall()) * per_token;
      for (double n : h.sparse()) m.cpu.kv += n * row;
    }
    const double exchange = c.cpu_query_bytes(batch) + c.partial_bytes(batch);
    const double evict = batch * p.block_size * (c.kv_bytes_per_token_layer() + rule_.heads() * kScoreBytes);
    m.gpu.staging += exchange + evict;
    m.cpu.staging = exchange + evict;
    return m;
  }

 protected:
  static constexpr double kScoreBytes = 2;  // fp16 weights and scores, as the authors store them

  const PaperSpec& spec() const { return ctx_.exp.system.paper; }
  int64_t capacity() const { return spec().block_size * spec().gpu_blocks; }
  int64_t recall_capacity() const { return spec().block_size * spec().recall_blocks; }

  // The step's view of every sequence, computed once at layer 0.
  struct SeqView {
    int64_t prompt = 0;
    int64_t attended = 0;  // recall + window before this token
    int64_t recall = 0;
    BlockMove move;        // what this token's append moves
    std::vector<double> sparse;  // sparse-set sizes before this step's selection, [layer * heads + head]
  };

  void prepare(const DecodeStep& step) const {
    views_.clear();
    views_.reserve(step.contexts.size());
    const int layers = ctx_.costs.shape().layers;
    for (int64_t ctx : step.contexts) {
      const int64_t prompt = ctx - step.step - 1;  // the runner appends one token per step
      auto it = histories_.find(prompt);
      if (it == histories_.end()) it = histories_.try_emplace(prompt, rule_, spec(), layers, prompt).first;
      SequenceHistory& h = it->second;
      SeqView v;
      if (h.layout().context() >= ctx) {  // another sequence with this prompt already advanced it this step
        v = *std::find_if(views_.begin(), views_.end(), [&](const SeqView& x) { return x.prompt == prompt; });
      } else {
        h.advance_to(ctx - 1);
        v.attended = h.layout().attended();
        v.recall = h.layout().recall();
        v.sparse = h.sparse();
        h.advance_to(ctx);
        v.move = h.last_move();
      }
      v.prompt = prompt;
      views_.push_back(std::move(v));
    }
  }

  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId q_ready) const override {
    const ModelCosts& c = ctx_.costs;
    const PaperSpec& p = spec();
    const HostSpec& host = ctx_.exp.hardware.host;
    if (layer == 0) prepare(step);
    const double batch = static_cast<double>(views_.size());
    const double kv_layer = c.kv_bytes_per_token_layer();
    const int heads = rule_.heads(), q_heads = c.shape().q_heads;
    Cost window{};
    double attended = 0, recall = 0, left_window = 0, left_recall = 0, kept_bytes = 0;
    sets_.clear();
    for (const SeqView& v : views_) {
      const double n = static_cast<double>(v.attended + 1);
      const Cost a = c.attention(1, n);
      window.flops += a.flops;
      window.bytes += a.bytes + n * q_heads * kScoreBytes;  // the softmax weights are written out
      attended += n;
      recall += static_cast<double>(v.recall);
      left_window += static_cast<double>(v.move.left_window);
      if (v.move.left_recall > 0) {
        left_recall += static_cast<double>(v.move.left_recall);
        for (int64_t k : rule_.keep(layer, v.move.left_recall)) kept_bytes += static_cast<double>(k) * c.kv_bytes_per_token_head();
      }
      const double* set = v.sparse.data() + static_cast<size_t>(layer) * heads;
      if (std::any_of(set, set + heads, [](double x) { return x > 0; })) sets_.push_back(set);
    }
    OpId reload = kNoOp;
    if (p.recall_reload && recall > 0) reload = g.copy(Unit::H2D, 1, "recall KV", layer, recall * kv_layer);
    OpId cat = kNoOp;
    if (p.framework_copies)  // torch.cat of (recall, window, new): read and write the attended KV
      cat = gpu_kernel(g, KernelKind::Elementwise, "kv concat", layer, Cost{0, 2.0 * attended * kv_layer}, {reload});
    const bool any_cpu = !sets_.empty();
    OpId q_host = kNoOp;
    if (any_cpu) q_host = g.copy(Unit::D2H, 0, "queries to host", layer, c.cpu_query_bytes(batch), {q_ready});
    const OpId win = gpu_kernel(g, KernelKind::Attention, "window-attn+weights", layer, window, {reload, cat});
    // s <- alpha a + (1 - alpha) s: read a and s, write s; the authors' code also copies the buffer back.
    const double passes = 3.0 + (p.framework_copies ? 2.0 : 0.0);
    const OpId scores = gpu_kernel(g, KernelKind::Elementwise, "score update", layer,
                                   Cost{3.0 * attended * heads, passes * attended * heads * kScoreBytes});
    OpId out = win;
    if (any_cpu) {
      const double tasks = static_cast<double>(sets_.size()) * std::min(p.head_groups, heads);
      // One fork per task on the host (the batch's own issue op counts as the first).
      if (tasks > 1 && host.framework_op_s > 0) g.host("fork CPU tasks", layer, (tasks - 1) * host.framework_op_s);
      const OpId sparse = g.cpu_batch(0, "sparse-attn", layer, {q_host});
      add_head_group_tasks(g, ctx_, sets_, p.head_groups, p.selection == PaperSelectionScope::KvHead);
      g.host_after_cpu("wait CPU tasks", layer, 0, sparse);
      const OpId back = g.copy(Unit::H2D, 0, "partials to GPU", layer, c.partial_bytes(batch), {sparse});
      out = gpu_kernel(g, KernelKind::Merge, "lse-merge", layer, c.merge(batch), {back, win, scores});
      g.host("cuda sync", layer, 0, {out});
    }
    if (left_window > 0) {
      const OpId kv = g.copy(Unit::D2H, 1, "evict KV", layer, left_window * kv_layer, {win});
      if (left_recall > 0) {
        const OpId sc = g.copy(Unit::D2H, 1, "evict scores", layer, left_recall * heads * kScoreBytes, {scores});
        // Count, group and top-k the leaving tokens, then copy the kept rows into the sparse sets.
        g.cpu_batch(1, "select on eviction", layer, {kv, sc});
        CpuTask t;
        t.bytes = left_recall * heads * kScoreBytes + kept_bytes;  // scores read, kept rows written
        t.gather_bytes = kept_bytes;                                // kept rows read where they lie
        t.flops = 4.0 * left_recall * heads;                        // threshold, group max, top-k
        g.cpu_task(t);
      }
    }
    return out;
  }

  PrefillKv prefill_kv() const override { return {true, false}; }
  int64_t prefill_gpu_resident(int64_t prompt) const override {
    BlockWindow w(spec());
    w.append(prompt);
    return w.window() + (spec().recall_reload ? 0 : w.recall());
  }

  // The prompt's attention writes its (queries x keys) weights; their mean over the queries becomes the
  // scores, those of the tokens leaving for CPU memory go to the host, and the CPU selects among them.
  void prefill_layer_extra(int layer, const PrefillChunk& chunk, StepGraph& g, OpId attn) const override {
    const ModelCosts& c = ctx_.costs;
    const int heads = rule_.heads();
    double weights = 0, leaving = 0, kept_bytes = 0;
    for (size_t i = 0; i < chunk.begin.size(); ++i) {
      const double n = static_cast<double>(chunk.end[i] - chunk.begin[i]);
      weights += n * (static_cast<double>(chunk.begin[i]) + (n + 1) / 2) * c.shape().q_heads;
      if (!chunk.last) continue;
      BlockWindow w(spec());
      const int64_t left = w.append(chunk.prompt[i]).left_recall;
      leaving += static_cast<double>(left);
      if (left > 0)
        for (int64_t k : rule_.keep(layer, left)) kept_bytes += static_cast<double>(k) * c.kv_bytes_per_token_head();
    }
    // Written by the attention, then read once to average over the queries.
    const OpId mean = gpu_kernel(g, KernelKind::Elementwise, "attn weights+mean", layer,
                                 Cost{weights, 2.0 * weights * kScoreBytes}, {attn});
    if (leaving <= 0) return;
    const OpId sc = g.copy(Unit::D2H, 1, "evict scores", layer, leaving * heads * kScoreBytes, {mean});
    g.cpu_batch(1, "select on eviction", layer, {sc});
    CpuTask t;
    t.bytes = leaving * heads * kScoreBytes + kept_bytes;
    t.gather_bytes = kept_bytes;
    t.flops = 4.0 * leaving * heads;
    g.cpu_task(t);
  }

 private:
  KeepRule rule_;
  mutable std::map<int64_t, SequenceHistory> histories_;  // by prompt length: equal prompts, equal histories
  mutable std::vector<SeqView> views_;
  mutable std::vector<const double*> sets_;
};

}  // namespace

std::unique_ptr<Strategy> make_hgca_paper(const StrategyContext& ctx) { return std::make_unique<HgcaPaper>(ctx); }

}  // namespace hgca
