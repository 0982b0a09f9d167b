#include <cstdio>
#include <ostream>
#include <stdexcept>

#include "kernels/microbench/timing.hpp"

#include "kernels/microbench/microbench.hpp"

namespace hgca::kernels::microbench {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  return buf;
}
std::string count(std::int64_t v, std::int64_t absent = 0) { return v == absent ? "" : std::to_string(v); }

// Quotes a text cell when it holds a comma or a quote.
std::string text(const std::string& s) {
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::vector<Row> median_over_passes(const std::vector<std::vector<Row>>& passes) {
  if (passes.empty()) throw std::invalid_argument("median_over_passes: no pass");
  std::vector<Row> out = passes.front();
  for (const auto& p : passes) {
    bool same = p.size() == out.size();
    for (std::size_t i = 0; same && i < p.size(); ++i) {
      const Row &a = p[i], &b = out[i];
      same = a.primitive == b.primitive && a.direction == b.direction && a.memory == b.memory && a.bytes == b.bytes &&
             a.batch == b.batch && a.q_heads == b.q_heads && a.kv_heads == b.kv_heads && a.head_dim == b.head_dim &&
             a.kv_len == b.kv_len && a.dtype == b.dtype && a.m == b.m && a.n == b.n && a.k == b.k &&
             a.count == b.count && a.threads == b.threads && a.method == b.method && a.selected == b.selected &&
             a.task == b.task;
    }
    if (!same) throw std::invalid_argument("median_over_passes: the passes do not list the same rows");
  }
  std::vector<double> t(passes.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (std::size_t k = 0; k < passes.size(); ++k) t[k] = passes[k][i].time_s;
    out[i].time_s = median(t);
  }
  return out;
}

void write_csv(std::ostream& out, const std::vector<Row>& rows) {
  out << "primitive,direction,memory,bytes,batch,q_heads,kv_heads,kv_len,head_dim,dtype,m,n,k,count,threads,method,"
         "selected,task,time_s,note\n";
  for (const Row& r : rows) {
    out << r.primitive << ',' << r.direction << ',' << r.memory << ',' << (r.bytes > 0 ? count(static_cast<std::int64_t>(r.bytes)) : "") << ','
        << count(r.batch) << ',' << count(r.q_heads) << ',' << count(r.kv_heads) << ',' << count(r.kv_len) << ','
        << count(r.head_dim) << ',' << r.dtype << ',' << count(r.m) << ',' << count(r.n) << ',' << count(r.k) << ','
        << count(r.count) << ',' << count(r.threads) << ',' << r.method << ',' << count(r.selected, -1) << ','
        << r.task << ',' << number(r.time_s) << ',' << text(r.note) << '\n';
  }
}

}  // namespace hgca::kernels::microbench
