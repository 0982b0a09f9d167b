#include <cstdio>
#include <ostream>

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
