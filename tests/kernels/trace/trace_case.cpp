#include "tests/kernels/trace/trace_case.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include "traces/format/trace.hpp"

namespace hgca::kernels::test {

std::string check_trace_path() {
  if (const char* env = std::getenv("HGCA_CHECK_TRACE"); env && *env) return env;
  const std::filesystem::path built = HGCA_SHIPPED_CHECK_TRACE;
  if (built.empty() || std::filesystem::exists(built)) return built.string();
  // A binary carried to another machine (the device runs from a copy of the repository root): the same file
  // under traces/data of the current directory.
  const std::filesystem::path here = std::filesystem::path("traces/data") / built.filename();
  return std::filesystem::exists(here) ? here.string() : built.string();
}

namespace {

ref::RowMatrix rows_of(const std::vector<float>& data, std::int64_t rows, int head_dim) {
  ref::RowMatrix m(rows, head_dim);
  for (std::int64_t r = 0; r < rows; ++r)
    for (int i = 0; i < head_dim; ++i) m(r, i) = data[static_cast<std::size_t>(r * head_dim + i)];
  return m;
}

}  // namespace

TraceCase make_trace_case(const std::string& path, int layer, const TraceSplit& split) {
  const auto trace = traces::open_trace(path);
  const traces::TraceMeta& m = trace->meta();
  if (layer < 0 || layer >= m.num_layers) throw std::invalid_argument("layer out of range");
  TraceCase c;
  c.q_heads = m.num_q_heads;
  c.kv_heads = m.num_kv_heads;
  c.head_dim = m.head_dim;
  c.scale = m.softmax_scale;
  const int steps = static_cast<int>(std::min<std::int64_t>(split.steps, m.decode_steps));
  std::vector<std::int64_t> step_index;
  for (int s = 0; s < steps; ++s)
    step_index.push_back(steps == 1 ? m.decode_steps - 1 : s * (m.decode_steps - 1) / (steps - 1));
  for (std::int64_t t : step_index) c.positions.push_back(m.prompt_length + t + 1);

  std::vector<std::vector<float>> k(m.num_kv_heads), v(m.num_kv_heads);
  for (int h = 0; h < m.num_kv_heads; ++h) {
    trace->keys(layer, h, k[h]);
    trace->values(layer, h, v[h]);
  }
  c.kv = KvStore(KvType::f16, m.num_kv_heads, m.head_dim, c.positions);
  c.k_orig.resize(steps);
  c.v_orig.resize(steps);
  c.k_stored.resize(steps);
  c.v_stored.resize(steps);
  for (int s = 0; s < steps; ++s) {
    const std::int64_t n = c.positions[s];
    for (int h = 0; h < m.num_kv_heads; ++h) {
      c.k_orig[s].push_back(rows_of(k[h], n, m.head_dim));
      c.v_orig[s].push_back(rows_of(v[h], n, m.head_dim));
      ref::RowMatrix ks(n, m.head_dim), vs(n, m.head_dim);
      for (std::int64_t t = 0; t < n; ++t) {
        const std::span<const float> krow(k[h].data() + t * m.head_dim, m.head_dim);
        const std::span<const float> vrow(v[h].data() + t * m.head_dim, m.head_dim);
        c.kv.set_key(s, h, t, krow);
        c.kv.set_value(s, h, t, vrow);
        for (int i = 0; i < m.head_dim; ++i) {
          ks(t, i) = c.kv.key(s, h, t, i);
          vs(t, i) = c.kv.value(s, h, t, i);
        }
      }
      c.k_stored[s].push_back(std::move(ks));
      c.v_stored[s].push_back(std::move(vs));
    }
  }

  std::vector<float> qh;
  c.q.assign(static_cast<std::size_t>(steps) * m.num_q_heads * m.head_dim, 0.0f);
  for (int h = 0; h < m.num_q_heads; ++h) {
    trace->queries(layer, h, qh);
    for (int s = 0; s < steps; ++s)
      std::copy_n(qh.data() + step_index[s] * m.head_dim, m.head_dim,
                  c.q.data() + (static_cast<std::size_t>(s) * m.num_q_heads + h) * m.head_dim);
  }

  // The split: sinks and the recent window on the GPU side, the rest in the pool; each head keeps the top
  // of the pool by its own true (stored-value) score.
  for (int s = 0; s < steps; ++s) {
    const std::int64_t n = c.positions[s];
    for (int h = 0; h < m.num_q_heads; ++h) {
      std::vector<std::int32_t> win, pool;
      for (std::int64_t t = 0; t < n; ++t) {
        const bool gpu = t < split.sinks || t >= n - split.window;
        (gpu ? win : pool).push_back(static_cast<std::int32_t>(t));
      }
      const int kvh = ref::kv_head_for(h, m.num_q_heads, m.num_kv_heads);
      Eigen::VectorXd q(m.head_dim);
      for (int i = 0; i < m.head_dim; ++i)
        q(i) = c.q[(static_cast<std::size_t>(s) * m.num_q_heads + h) * m.head_dim + i];
      std::vector<double> score(pool.size());
      for (std::size_t j = 0; j < pool.size(); ++j) score[j] = c.k_stored[s][kvh].row(pool[j]).dot(q);
      const auto keep = static_cast<std::size_t>(std::ceil(split.cpu_fraction * static_cast<double>(pool.size())));
      std::vector<std::size_t> order(pool.size());
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(std::min(keep, pool.size())),
                        order.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
      std::vector<std::int32_t> chosen;
      for (std::size_t j = 0; j < std::min(keep, pool.size()); ++j) chosen.push_back(pool[order[j]]);
      c.pool_selected += static_cast<std::int64_t>(chosen.size());
      c.window.add(win);
      c.pool.add(chosen);
    }
  }
  return c;
}

ref::Result trace_reference(const TraceCase& c, int step, int q_head, const std::vector<std::int64_t>& positions,
                            bool stored_values) {
  const int kvh = ref::kv_head_for(q_head, c.q_heads, c.kv_heads);
  Eigen::VectorXd q(c.head_dim);
  for (int i = 0; i < c.head_dim; ++i)
    q(i) = c.q[(static_cast<std::size_t>(step) * c.q_heads + q_head) * c.head_dim + i];
  const auto& k = stored_values ? c.k_stored : c.k_orig;
  const auto& v = stored_values ? c.v_stored : c.v_orig;
  return ref::attend_subset(q, k[step][kvh], v[step][kvh], positions, c.scale);
}

std::vector<std::int64_t> all_positions(const TraceCase& c, int step) {
  std::vector<std::int64_t> p(static_cast<std::size_t>(c.positions[step]));
  std::iota(p.begin(), p.end(), 0);
  return p;
}

std::vector<std::int64_t> union_positions(const TraceCase& c, int step, int q_head) {
  const std::size_t r = static_cast<std::size_t>(step) * c.q_heads + q_head;
  std::vector<std::int64_t> p = c.window.list(r);
  const std::vector<std::int64_t> extra = c.pool.list(r);
  p.insert(p.end(), extra.begin(), extra.end());
  std::sort(p.begin(), p.end());
  return p;
}

}  // namespace hgca::kernels::test
