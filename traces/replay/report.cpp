#include "traces/replay/report.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>

#include "sim/results/json_string.hpp"
#include "sim/results/number_format.hpp"

namespace hgca::traces {

QualityStats summarize_quality(const ReplayResult& r, int layer, int q_head) {
  QualityStats s;
  s.rel_l2_max = 0;
  s.cosine_min = 1;
  s.mass_min = 1;
  double rel = 0, cos = 0, mass = 0, sel = 0, sel_frac_num = 0, sel_frac_den = 0;
  const int L = r.meta.num_layers, H = r.meta.num_q_heads;
  const auto T = static_cast<int>(r.meta.decode_steps);
  for (int l = 0; l < L; ++l) {
    if (layer >= 0 && l != layer) continue;
    for (int h = 0; h < H; ++h) {
      if (q_head >= 0 && h != q_head) continue;
      for (int t = 0; t < T; ++t) {
        const size_t i = r.head_index(l, h, t);
        ++s.samples;
        rel += r.rel_l2[i];
        cos += r.cosine[i];
        mass += r.mass[i];
        sel += r.selected[i];
        s.rel_l2_max = std::max<double>(s.rel_l2_max, r.rel_l2[i]);
        s.cosine_min = std::min<double>(s.cosine_min, r.cosine[i]);
        s.mass_min = std::min<double>(s.mass_min, r.mass[i]);
        const auto n = r.cpu_resident[static_cast<size_t>(t)];
        if (n > 0) {
          sel_frac_num += r.selected[i];
          sel_frac_den += static_cast<double>(n);
        }
      }
    }
  }
  if (s.samples > 0) {
    const auto n = static_cast<double>(s.samples);
    s.rel_l2_mean = rel / n;
    s.cosine_mean = cos / n;
    s.mass_mean = mass / n;
    s.selected_mean = sel / n;
  }
  s.selected_fraction = sel_frac_den > 0 ? sel_frac_num / sel_frac_den : 0;
  return s;
}

CostStats summarize_cost(const ReplayResult& r, int layer, int kv_head) {
  double den = 0, grp = 0, keys = 0, rows = 0, state = 0, idx = 0;
  const auto T = static_cast<int>(r.meta.decode_steps);
  for (int l = 0; l < r.meta.num_layers; ++l) {
    if (layer >= 0 && l != layer) continue;
    for (int k = 0; k < r.meta.num_kv_heads; ++k) {
      if (kv_head >= 0 && k != kv_head) continue;
      for (int t = 0; t < T; ++t) {
        const size_t i = r.group_index(l, k, t);
        den += static_cast<double>(r.cpu_resident[static_cast<size_t>(t)]);
        grp += r.group_selected[i];
        keys += static_cast<double>(r.keys_scored[i]);
        rows += static_cast<double>(r.summary_rows[i]);
        state += static_cast<double>(r.state_entries[i]);
        idx += static_cast<double>(r.indices[i]);
      }
    }
  }
  CostStats c;
  if (den > 0) c = {grp / den, keys / den, rows / den, state / den, idx / den};
  return c;
}

PaperStats summarize_paper(const ReplayResult& r, int layer, int q_head) {
  PaperStats s;
  if (!r.paper) return s;
  const PaperReplayData& p = *r.paper;
  const int L = r.meta.num_layers, H = r.meta.num_q_heads;
  const auto T = static_cast<int>(r.meta.decode_steps);
  double heads = 0, samples = 0, rel = 0, cos = 0, mass = 0;
  s.oracle_mass_min = 1;
  for (int l = 0; l < L; ++l) {
    if (layer >= 0 && l != layer) continue;
    for (int h = 0; h < H; ++h) {
      if (q_head >= 0 && h != q_head) continue;
      ++heads;
      s.set_first += r.selected[r.head_index(l, h, 0)];
      s.set_last += r.selected[r.head_index(l, h, T - 1)];
      for (int t = 0; t < T; ++t) {
        const size_t i = r.head_index(l, h, t);
        ++samples;
        rel += p.oracle_rel_l2[i];
        cos += p.oracle_cosine[i];
        mass += p.oracle_mass[i];
        s.oracle_mass_min = std::min<double>(s.oracle_mass_min, p.oracle_mass[i]);
      }
    }
  }
  if (heads > 0) {
    s.set_first /= heads;
    s.set_last /= heads;
  }
  if (samples > 0) {
    s.oracle_rel_l2_mean = rel / samples;
    s.oracle_cosine_mean = cos / samples;
    s.oracle_mass_mean = mass / samples;
  }
  return s;
}

namespace {

std::string fx(double v, int decimals) { return format_fixed(v, decimals); }

void row(std::ostream& out, const std::string& layer, const std::string& head, const QualityStats& s) {
  out << std::setw(6) << layer << std::setw(6) << head << std::setw(11) << fx(s.rel_l2_mean, 5) << std::setw(11)
      << fx(s.rel_l2_max, 5) << std::setw(10) << fx(s.cosine_mean, 5) << std::setw(10) << fx(s.cosine_min, 5)
      << std::setw(10) << fx(s.mass_mean, 4) << std::setw(10) << fx(s.mass_min, 4) << std::setw(11)
      << fx(s.selected_mean, 1) << std::setw(9) << fx(100.0 * s.selected_fraction, 2) << "\n";
}

void json_quality(std::ostream& out, const QualityStats& s) {
  out << "\"rel_l2_mean\": " << format_shortest(s.rel_l2_mean) << ", \"rel_l2_max\": " << format_shortest(s.rel_l2_max)
      << ", \"cosine_mean\": " << format_shortest(s.cosine_mean) << ", \"cosine_min\": " << format_shortest(s.cosine_min)
      << ", \"mass_mean\": " << format_shortest(s.mass_mean) << ", \"mass_min\": " << format_shortest(s.mass_min)
      << ", \"selected_mean\": " << format_shortest(s.selected_mean)
      << ", \"selected_fraction\": " << format_shortest(s.selected_fraction);
}

void json_cost(std::ostream& out, const CostStats& c) {
  out << "\"group_fraction\": " << format_shortest(c.group_fraction)
      << ", \"keys_scored_fraction\": " << format_shortest(c.keys_scored_fraction)
      << ", \"summary_rows_fraction\": " << format_shortest(c.summary_rows_fraction)
      << ", \"state_fraction\": " << format_shortest(c.state_fraction)
      << ", \"indices_fraction\": " << format_shortest(c.indices_fraction);
}

void paper_row(std::ostream& out, const std::string& layer, const std::string& head, const QualityStats& q,
               const PaperStats& p) {
  out << std::setw(6) << layer << std::setw(6) << head << std::setw(10) << fx(p.set_first, 1) << std::setw(10)
      << fx(p.set_last, 1) << std::setw(10) << fx(p.set_last - p.set_first, 1) << std::setw(10) << fx(q.mass_mean, 4)
      << std::setw(12) << fx(p.oracle_mass_mean, 4) << std::setw(10) << fx(q.rel_l2_mean, 5) << std::setw(12)
      << fx(p.oracle_rel_l2_mean, 5) << "\n";
}

void print_paper(std::ostream& out, const ReplayResult& r) {
  const PaperReplayData& p = *r.paper;
  const TraceMeta& m = r.meta;
  out << "\npaper: sparse sets per " << (p.scope == "kv-head" ? "KV head (shared by its query heads)" : "query head")
      << "; prompt selection from "
      << (p.prompt == "queries" ? std::to_string(p.prompt_queries_used) + " of " + std::to_string(m.prompt_length) +
                                      " prompt queries (mean weights)"
                                : std::string("decode step 0's query (prompt=first-decode)"))
      << "; GPU attends " << p.gpu_tokens.front() << " .. " << p.gpu_tokens.back() << " tokens (recall + window + new)"
      << ", CPU-only " << r.cpu_resident.front() << " .. " << r.cpu_resident.back() << "\n";
  out << "oracle: per head and step, the top-(sparse-set size) CPU-only positions by true attention weight\n\n";
  out << std::setw(6) << "layer" << std::setw(6) << "head" << std::setw(10) << "set@0" << std::setw(10) << "set@last"
      << std::setw(10) << "growth" << std::setw(10) << "mass" << std::setw(12) << "mass_orcl" << std::setw(10) << "relL2"
      << std::setw(12) << "relL2_orcl" << "\n";
  for (int l = 0; l < m.num_layers; ++l) {
    for (int h = 0; h < m.num_q_heads; ++h)
      paper_row(out, std::to_string(l), std::to_string(h), summarize_quality(r, l, h), summarize_paper(r, l, h));
    paper_row(out, std::to_string(l), "all", summarize_quality(r, l), summarize_paper(r, l));
  }
  paper_row(out, "all", "all", summarize_quality(r), summarize_paper(r));
}

void json_paper_stats(std::ostream& out, const PaperStats& p) {
  out << "\"set_first\": " << format_shortest(p.set_first) << ", \"set_last\": " << format_shortest(p.set_last)
      << ", \"oracle_rel_l2_mean\": " << format_shortest(p.oracle_rel_l2_mean)
      << ", \"oracle_cosine_mean\": " << format_shortest(p.oracle_cosine_mean)
      << ", \"oracle_mass_mean\": " << format_shortest(p.oracle_mass_mean)
      << ", \"oracle_mass_min\": " << format_shortest(p.oracle_mass_min);
}

void json_paper(std::ostream& out, const ReplayResult& r) {
  const PaperReplayData& p = *r.paper;
  const TraceMeta& m = r.meta;
  out << ", \"paper\": {\"scope\": " << json_string(p.scope) << ", \"prompt\": " << json_string(p.prompt)
      << ", \"prompt_queries_used\": " << p.prompt_queries_used << ", \"gpu_tokens_first\": " << p.gpu_tokens.front()
      << ", \"gpu_tokens_last\": " << p.gpu_tokens.back() << ", \"overall\": {";
  json_paper_stats(out, summarize_paper(r));
  out << "}, \"per_layer\": [";
  for (int l = 0; l < m.num_layers; ++l) {
    out << (l ? ", " : "") << "{\"layer\": " << l << ", ";
    json_paper_stats(out, summarize_paper(r, l));
    out << "}";
  }
  out << "], \"per_head\": [";
  for (int l = 0; l < m.num_layers; ++l)
    for (int h = 0; h < m.num_q_heads; ++h) {
      out << (l || h ? ", " : "") << "{\"layer\": " << l << ", \"head\": " << h << ", ";
      json_paper_stats(out, summarize_paper(r, l, h));
      out << "}";
    }
  // Per decode step, means over every (layer, query head): how the sets grow and what that buys.
  out << "], \"per_step\": [";
  const double n = static_cast<double>(m.num_layers) * m.num_q_heads;
  for (int t = 0; t < static_cast<int>(m.decode_steps); ++t) {
    double set = 0, mass = 0, rel = 0, omass = 0, orel = 0;
    for (int l = 0; l < m.num_layers; ++l)
      for (int h = 0; h < m.num_q_heads; ++h) {
        const size_t i = r.head_index(l, h, t);
        set += r.selected[i];
        mass += r.mass[i];
        rel += r.rel_l2[i];
        omass += p.oracle_mass[i];
        orel += p.oracle_rel_l2[i];
      }
    out << (t ? ", " : "") << "{\"step\": " << t << ", \"gpu_tokens\": " << p.gpu_tokens[static_cast<size_t>(t)]
        << ", \"cpu_only\": " << r.cpu_resident[static_cast<size_t>(t)] << ", \"set_mean\": " << format_shortest(set / n)
        << ", \"mass_mean\": " << format_shortest(mass / n) << ", \"rel_l2_mean\": " << format_shortest(rel / n)
        << ", \"oracle_mass_mean\": " << format_shortest(omass / n)
        << ", \"oracle_rel_l2_mean\": " << format_shortest(orel / n) << "}";
  }
  out << "]}";
}

double gb_per_s(const ReplayResult& r) { return r.seconds > 0 ? r.kv_bytes / r.seconds / 1e9 : 0; }

}  // namespace

void print_report(std::ostream& out, const ReplayResult& r, const std::string& trace_label) {
  const TraceMeta& m = r.meta;
  out << "replay " << trace_label << ": " << m.model_name << ", " << m.num_layers << " layers x " << m.num_q_heads
      << " query heads (" << m.num_kv_heads << " KV), head_dim " << m.head_dim << ", prompt " << m.prompt_length
      << " + " << m.decode_steps << " decode steps\n";
  out << "policy " << r.policy << " (" << r.selection_method << (r.shared_kv ? ", shared per KV group" : ", per query head")
      << "), " << (r.paper ? "block window of " : "window ") << r.options.window
      << (r.paper ? " + recall" : ", sinks " + std::to_string(r.options.sinks)) << "; CPU-resident entries per step "
      << r.cpu_resident.front() << " .. " << r.cpu_resident.back() << "\n\n";
  out << std::setw(6) << "layer" << std::setw(6) << "head" << std::setw(11) << "relL2" << std::setw(11) << "relL2max"
      << std::setw(10) << "cos" << std::setw(10) << "cos_min" << std::setw(10) << "mass" << std::setw(10) << "mass_min"
      << std::setw(11) << "selected" << std::setw(9) << "sel%" << "\n";
  for (int l = 0; l < m.num_layers; ++l) {
    for (int h = 0; h < m.num_q_heads; ++h) row(out, std::to_string(l), std::to_string(h), summarize_quality(r, l, h));
    row(out, std::to_string(l), "all", summarize_quality(r, l));
  }
  row(out, "all", "all", summarize_quality(r));
  if (r.paper) print_paper(out, r);
  const CostStats c = summarize_cost(r);
  out << "\nselection cost per CPU-resident entry: keys scored " << fx(c.keys_scored_fraction, 4)
      << ", summary rows " << fx(c.summary_rows_fraction, 4) << ", accumulator entries " << fx(c.state_fraction, 4)
      << ", indices " << fx(c.indices_fraction, 4) << "; rows a KV group reads " << fx(100.0 * c.group_fraction, 2)
      << "%\n";
  out << "replayed " << fx(r.kv_bytes / 1e9, 3) << " GB of KV (fp32, exact attention's reads) in " << fx(r.seconds, 3)
      << " s with " << r.options.threads << " thread(s): " << fx(gb_per_s(r), 3) << " GB/s (" << fx(r.cpu_seconds, 3)
      << " CPU-s, " << fx(r.cpu_seconds > 0 ? r.kv_bytes / r.cpu_seconds / 1e9 : 0, 3) << " GB per CPU-second)\n";
}

void print_json(std::ostream& out, const ReplayResult& r, const std::string& trace_label) {
  const TraceMeta& m = r.meta;
  out << "{\"trace\": " << json_string(trace_label) << ", \"model\": " << json_string(m.model_name)
      << ", \"policy\": " << json_string(r.policy) << ", \"selection_method\": " << json_string(r.selection_method)
      << ", \"shared_kv\": " << (r.shared_kv ? "true" : "false") << ", \"window\": " << r.options.window
      << ", \"sinks\": " << r.options.sinks << ", \"threads\": " << r.options.threads << ", \"layers\": " << m.num_layers
      << ", \"q_heads\": " << m.num_q_heads << ", \"kv_heads\": " << m.num_kv_heads << ", \"head_dim\": " << m.head_dim
      << ", \"prompt_length\": " << m.prompt_length << ", \"decode_steps\": " << m.decode_steps
      << ", \"cpu_resident_first\": " << r.cpu_resident.front() << ", \"cpu_resident_last\": " << r.cpu_resident.back();
  out << ", \"overall\": {";
  json_quality(out, summarize_quality(r));
  out << ", ";
  json_cost(out, summarize_cost(r));
  out << "}, \"per_layer\": [";
  for (int l = 0; l < m.num_layers; ++l) {
    out << (l ? ", " : "") << "{\"layer\": " << l << ", ";
    json_quality(out, summarize_quality(r, l));
    out << ", ";
    json_cost(out, summarize_cost(r, l));
    out << "}";
  }
  out << "], \"per_head\": [";
  for (int l = 0; l < m.num_layers; ++l)
    for (int h = 0; h < m.num_q_heads; ++h) {
      out << (l || h ? ", " : "") << "{\"layer\": " << l << ", \"head\": " << h << ", ";
      json_quality(out, summarize_quality(r, l, h));
      out << "}";
    }
  out << "]";
  if (r.paper) json_paper(out, r);
  out << ", \"speed\": {\"seconds\": " << format_shortest(r.seconds) << ", \"kv_bytes\": " << format_shortest(r.kv_bytes)
      << ", \"kv_bytes_per_s\": " << format_shortest(r.seconds > 0 ? r.kv_bytes / r.seconds : 0)
      << ", \"cpu_seconds\": " << format_shortest(r.cpu_seconds)
      << ", \"kv_bytes_per_cpu_s\": " << format_shortest(r.cpu_seconds > 0 ? r.kv_bytes / r.cpu_seconds : 0) << "}}\n";
}

}  // namespace hgca::traces
