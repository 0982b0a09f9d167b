#include "sim/policy/cpu_attention_tasks.hpp"

#include <algorithm>
#include <cmath>

namespace hgca {

namespace {

// Work of one query head against one KV head's CPU-resident entries.
struct HeadWork {
  double key_scan_bytes = 0;  // selection: keys or summaries read (streamed; shared within a KV group)
  double stream_bytes = 0;    // attention reads of contiguous rows
  double gather_bytes = 0;    // attention reads of scattered rows
  double gather_rows = 0;     // how many scattered rows (cpu.row_cost each)
  double select_keys = 0;     // keys (or block summaries) this head scores and ranks (cpu.select_key_cost each)
  double flops = 0;
};

// Whether a step does selection work, reading keys (or block summaries) to choose its rows: key-scan and
// block-summary steps, reuse-last's rescan steps; never with given lists.
bool selects(const SystemSpec& s, int step) {
  switch (s.selection_method) {
    case SelectionMethod::KeyScan:
    case SelectionMethod::BlockSummary: return true;
    case SelectionMethod::ReuseLast: return step % std::max(1, s.reselect_interval) == 0;
    case SelectionMethod::Given: return false;
  }
  return false;
}

HeadWork sparse_head_work(const StrategyContext& ctx, int step, double n, double sel) {
  const SystemSpec& s = ctx.exp.system;
  const ModelCosts& c = ctx.costs;
  const double d = c.shape().head_dim;
  HeadWork w;
  if (n <= 0) return w;
  if (s.selection_method == SelectionMethod::BlockSummary) {
    const double blk = static_cast<double>(std::max<int64_t>(1, s.summary_block));
    const double blocks = std::ceil(n / blk);
    w.key_scan_bytes = blocks * 2.0 * c.key_bytes_per_token_head();  // per-block min and max keys
    w.flops += 4.0 * blocks * d + blocks;
    w.select_keys = blocks;
    const double read = std::min(n, std::ceil(sel / blk) * blk);  // whole blocks, contiguous
    w.stream_bytes = read * c.kv_bytes_per_token_head();
    w.flops += 4.0 * read * d;
    return w;
  }
  if (selects(s, step)) {  // a key scan: block summaries returned above
    w.key_scan_bytes = n * c.key_bytes_per_token_head();
    w.flops += 2.0 * n * d + n;  // q.k for every key, then a linear-time top-k
    w.select_keys = n;
  }
  w.gather_bytes = sel * c.kv_bytes_per_token_head();
  w.gather_rows = sel;
  w.flops += 4.0 * sel * d;
  return w;
}

// Rows of one KV head (n CPU-resident) that its group's attention reads in one step: the shared list's rows, or
// the union of the query heads' reads taken as independent draws, n (1 - prod_h (1 - r_h / n)): exact for the
// random lists the hybrid runner draws, a lower bound on overlap for real top-k lists. Block-summary heads
// read whole blocks.
double group_rows_read(const StrategyContext& ctx, int layer, int step, int kv, double n) {
  if (n <= 0) return 0;
  const int group = ctx.costs.group_size();
  const double row = ctx.costs.kv_bytes_per_token_head();
  if (ctx.selection.granularity() == SelectionGranularity::KvHead) {
    const HeadWork w = sparse_head_work(ctx, step, n, ctx.selection.group_entries(layer, kv, n));
    return std::min(n, (w.stream_bytes + w.gather_bytes) / row);
  }
  double miss = 1;  // the share of rows no head of the group reads
  for (int h = kv * group; h < (kv + 1) * group; ++h) {
    const HeadWork w = sparse_head_work(ctx, step, n, ctx.selection.entries(layer, h, n));
    miss *= 1.0 - std::min(n, (w.stream_bytes + w.gather_bytes) / row) / n;
  }
  return n * (1.0 - miss);
}

// The CPU kernels' rule (kernels/cpu/sparse_attention.cpp): KV-group tasks whose heads' lists hold fewer than
// 1.5 entries per distinct row are run as per-head tasks (the union saves few reads, and shorter tasks
// balance better). Asked only for per-head lists on steps that do not select.
bool barely_overlapping(const StrategyContext& ctx, int layer, int step, int kv, double n) {
  const int group = ctx.costs.group_size();
  if (group <= 1 || n <= 0) return false;
  double listed = 0;
  for (int h = kv * group; h < (kv + 1) * group; ++h) listed += std::min(n, ctx.selection.entries(layer, h, n));
  const double distinct = group_rows_read(ctx, layer, step, kv, n);
  return distinct > 0 && listed < 1.5 * distinct;
}

void emit(StepGraph& g, CpuTask& acc, const LlcReads& cache) {
  acc.llc = cache;
  if (acc.bytes + acc.gather_bytes + acc.flops > 0) g.cpu_task(acc);
  acc = CpuTask{};
}

}  // namespace

double step_cpu_working_set(const StrategyContext& ctx, const std::vector<int64_t>& entries) {
  double tokens = 0;
  for (int64_t n : entries) tokens += static_cast<double>(std::max<int64_t>(n, 0));
  const ModelShape& m = ctx.costs.shape();
  return static_cast<double>(m.layers) * tokens * m.kv_heads * ctx.costs.kv_bytes_per_token_head();
}

LlcReads sparse_step_cache_use(const StrategyContext& ctx, int layer, int step, const std::vector<int64_t>& entries) {
  // u: the share of rows the step's lists pick (group_rows_read), averaged over (sequence, KV head) by rows.
  double rows = 0, picked = 0;
  for (int64_t n_i : entries) {
    const double n = static_cast<double>(n_i);
    if (n <= 0) continue;
    for (int kv = 0; kv < ctx.costs.shape().kv_heads; ++kv) {
      rows += n;
      picked += group_rows_read(ctx, layer, step, kv, n);
    }
  }
  const double ws = step_cpu_working_set(ctx, entries);
  const double u = rows > 0 ? picked / rows : 0;
  const double kf = ctx.costs.key_bytes_per_token_head() / ctx.costs.kv_bytes_per_token_head();  // keys' share of a row
  const SystemSpec& s = ctx.exp.system;
  const int interval = std::max(1, s.reselect_interval);
  const bool key_scan = s.selection_method == SelectionMethod::KeyScan ||
                        (s.selection_method == SelectionMethod::ReuseLast && interval == 1);
  if (key_scan)  // every key, every step; the values of the rows picked, drawn afresh
    return {ws, {{{kf, 1, 1}, {1 - kf, u, u}, {}}}};
  if (s.selection_method == SelectionMethod::ReuseLast) {
    // The picked rows come back every step of an interval, and a new list keeps a share u of the old one (its
    // rows drawn afresh): read the step before with probability 1 - (1 - u) / interval. The other rows' keys
    // are read once per interval, on its rescan step; their values only once picked, u per interval.
    const bool rescan = selects(s, step);
    return {ws, {{{u, 1 - (1 - u) / interval, 1},
                  {kf * (1 - u), 1.0 / interval, rescan ? 1.0 : 0.0},
                  {(1 - kf) * (1 - u), u / interval, 0}}}};
  }
  return LlcReads::drawn(ws, u);  // given lists and block summaries: the rows picked, drawn afresh
}

void add_sparse_attention_tasks(StepGraph& g, const StrategyContext& ctx, int layer, int step,
                                const std::vector<int64_t>& cpu_entries) {
  const ModelShape& m = ctx.costs.shape();
  const int group = ctx.costs.group_size();
  const CpuTaskGranularity task_gran = ctx.exp.system.cpu_task;
  const bool shared_selection = ctx.selection.granularity() == SelectionGranularity::KvHead;
  const LlcReads cache = sparse_step_cache_use(ctx, layer, step, cpu_entries);
  // (Only for the attention itself: a step that also selects keeps the group's one shared scan.)
  const bool scans = selects(ctx.exp.system, step);
  CpuTask acc;
  for (int64_t n_i : cpu_entries) {
    const double n = static_cast<double>(n_i);
    if (n <= 0) continue;
    for (int kv = 0; kv < m.kv_heads; ++kv) {
      const double group_sel = shared_selection ? ctx.selection.group_entries(layer, kv, n) : 0;
      const CpuTaskGranularity gran = (task_gran == CpuTaskGranularity::KvHead && !shared_selection && !scans &&
                                       barely_overlapping(ctx, layer, step, kv, n))
                                          ? CpuTaskGranularity::Head
                                          : task_gran;
      bool group_read_charged = false;
      for (int h = kv * group; h < (kv + 1) * group; ++h) {
        const double sel = shared_selection ? group_sel : ctx.selection.entries(layer, h, n);
        const HeadWork w = sparse_head_work(ctx, step, n, sel);
        // Within one task, the query heads of a KV group read the keys once; with a shared selection they
        // also read the selected rows once. Separate per-head tasks each pay for their own reads.
        const bool first_in_task = gran == CpuTaskGranularity::Head || !group_read_charged;
        if (first_in_task) acc.bytes += w.key_scan_bytes;
        if (!shared_selection || first_in_task) {
          acc.bytes += w.stream_bytes;
          acc.gather_bytes += w.gather_bytes;
          acc.gather_rows += w.gather_rows;
          acc.select_keys += w.select_keys;  // per-head lists rank per head; a shared list once per task
        }
        acc.flops += w.flops;
        group_read_charged = true;
        if (gran == CpuTaskGranularity::Head) emit(g, acc, cache);
      }
      if (gran == CpuTaskGranularity::KvHead) emit(g, acc, cache);
    }
    if (task_gran == CpuTaskGranularity::Sequence) emit(g, acc, cache);
  }
}

void add_dense_attention_tasks(StepGraph& g, const StrategyContext& ctx, const std::vector<int64_t>& entries) {
  const ModelShape& m = ctx.costs.shape();
  const int group = ctx.costs.group_size();
  const CpuTaskGranularity gran = ctx.exp.system.cpu_task;
  const double row = ctx.costs.kv_bytes_per_token_head();
  const LlcReads cache = LlcReads::drawn(step_cpu_working_set(ctx, entries), 1.0);  // every row, every step
  CpuTask acc;
  for (int64_t n_i : entries) {
    const double n = static_cast<double>(n_i);
    if (n <= 0) continue;
    for (int kv = 0; kv < m.kv_heads; ++kv) {
      for (int h = 0; h < group; ++h) {
        // Per-head tasks each stream the whole KV head; grouped tasks read it once for all their heads.
        if (gran == CpuTaskGranularity::Head || h == 0) acc.bytes += n * row;
        acc.flops += 4.0 * n * m.head_dim;
        if (gran == CpuTaskGranularity::Head) emit(g, acc, cache);
      }
      if (gran == CpuTaskGranularity::KvHead) emit(g, acc, cache);
    }
    if (gran == CpuTaskGranularity::Sequence) emit(g, acc, cache);
  }
}

void add_head_group_tasks(StepGraph& g, const StrategyContext& ctx, const std::vector<const double*>& sets,
                          int head_groups, bool per_kv_head) {
  const ModelShape& m = ctx.costs.shape();
  const int heads = per_kv_head ? m.kv_heads : m.q_heads;
  const double row = ctx.costs.kv_bytes_per_token_head();
  const double queries_per_set = per_kv_head ? ctx.costs.group_size() : 1.0;
  const int groups = std::max(1, std::min(head_groups, heads));
  for (const double* set : sets) {
    for (int gi = 0; gi < groups; ++gi) {
      const int first = heads * gi / groups, last = heads * (gi + 1) / groups;
      CpuTask t;
      for (int h = first; h < last; ++h) {
        t.bytes += set[h] * row;  // K and V rows of the set, contiguous copies
        t.flops += queries_per_set * 4.0 * set[h] * m.head_dim;
      }
      if (t.bytes > 0) g.cpu_task(t);
    }
  }
}

double add_row_gather_tasks(StepGraph& g, const StrategyContext& ctx, const std::vector<double>& rows) {
  const ModelShape& m = ctx.costs.shape();
  const double row = ctx.costs.kv_bytes_per_token_head();
  double total = 0;
  for (double r : rows) {
    if (r <= 0) continue;
    for (int kv = 0; kv < m.kv_heads; ++kv) {
      CpuTask t;
      t.gather_bytes = r * row;
      t.gather_rows = r;
      t.bytes = r * row;  // written contiguously into the staging buffer
      total += r * row;
      g.cpu_task(t);
    }
  }
  return total;
}

double add_gather_tasks(StepGraph& g, const StrategyContext& ctx, int layer, const std::vector<int64_t>& cpu_entries) {
  const ModelShape& m = ctx.costs.shape();
  const int group = ctx.costs.group_size();
  const double row = ctx.costs.kv_bytes_per_token_head();
  const bool shared = ctx.selection.granularity() == SelectionGranularity::KvHead;
  double total = 0;
  for (int64_t n_i : cpu_entries) {
    const double n = static_cast<double>(n_i);
    if (n <= 0) continue;
    for (int kv = 0; kv < m.kv_heads; ++kv) {
      // Rows fetched for a KV head: the shared selection, or (conservatively) every query head's own rows.
      double sel = 0;
      if (shared) {
        sel = ctx.selection.group_entries(layer, kv, n);
      } else {
        for (int h = kv * group; h < (kv + 1) * group; ++h) sel += ctx.selection.entries(layer, h, n);
        sel = std::min(sel, n);
      }
      CpuTask t;
      t.gather_bytes = sel * row;
      t.gather_rows = sel;
      t.bytes = sel * row;  // writing them contiguously into the staging buffer
      total += sel * row;
      if (sel > 0) g.cpu_task(t);
    }
  }
  return total;
}

}  // namespace hgca
