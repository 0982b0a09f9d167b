#include "sim/hw/op_graph.hpp"

#include <stdexcept>

namespace hgca {

void StepGraph::clear() {
  ops_.clear();
  tasks_.clear();
  edges_.clear();
  successors_.clear();
  for (auto& unit : last_in_stream_) unit.fill(kNoOp);
}

OpId StepGraph::add(Op op, std::initializer_list<OpId> deps) {
  if (op.stream >= kStreamsPerUnit) throw std::logic_error("StepGraph: stream index out of range");
  const OpId id = static_cast<OpId>(ops_.size());
  OpId& last = last_in_stream_[static_cast<int>(op.unit)][op.stream];
  ops_.push_back(op);
  if (last != kNoOp) depend(id, last);  // in-order stream semantics
  for (OpId d : deps) depend(id, d);
  last = id;
  return id;
}

void StepGraph::depend(OpId op, OpId on) {
  if (on == kNoOp) return;
  if (on >= op) throw std::logic_error("StepGraph: an op may only depend on earlier ops");
  edges_.emplace_back(on, op);
  ++ops_[op].deps_left;
}

OpId StepGraph::issue(HostWork work, int layer) {
  Op h;
  h.unit = Unit::Host;
  h.kind = KernelKind::Other;
  h.name = work == HostWork::Launch ? "launch" : "issue";
  h.layer = static_cast<int16_t>(layer);
  h.host_work = work;  // the Machine substitutes the profile's cost
  return add(h, {});
}

OpId StepGraph::kernel(int stream, KernelKind kind, const char* name, int layer, double flops, double bytes,
                       std::initializer_list<OpId> deps) {
  const OpId launch_id = issue(HostWork::Launch, layer);
  Op k;
  k.unit = Unit::Gpu;
  k.kind = kind;
  k.stream = static_cast<uint8_t>(stream);
  k.name = name;
  k.layer = static_cast<int16_t>(layer);
  k.flops = flops;
  k.bytes = bytes;
  const OpId id = add(k, deps);
  depend(id, launch_id);
  return id;
}

OpId StepGraph::copy(Unit direction, int stream, const char* name, int layer, double bytes,
                     std::initializer_list<OpId> deps, bool pageable) {
  if (direction != Unit::H2D && direction != Unit::D2H) throw std::logic_error("StepGraph::copy: not a link");
  const OpId issued = issue(HostWork::Issue, layer);
  Op c;
  c.unit = direction;
  c.stream = static_cast<uint8_t>(stream);
  c.name = name;
  c.layer = static_cast<int16_t>(layer);
  c.bytes = bytes;
  c.pageable = pageable;
  const OpId id = add(c, deps);
  depend(id, issued);
  return id;
}

OpId StepGraph::cpu_batch(int stream, const char* name, int layer, std::initializer_list<OpId> deps) {
  const OpId issued = issue(HostWork::Issue, layer);
  Op b;
  b.unit = Unit::Cpu;
  b.stream = static_cast<uint8_t>(stream);
  b.name = name;
  b.layer = static_cast<int16_t>(layer);
  b.task_begin = b.task_end = static_cast<uint32_t>(tasks_.size());
  const OpId id = add(b, deps);
  depend(id, issued);
  return id;
}

void StepGraph::cpu_task(const CpuTask& t) {
  if (ops_.empty() || ops_.back().unit != Unit::Cpu || ops_.back().task_end != tasks_.size())
    throw std::logic_error("StepGraph::cpu_task: must follow its cpu_batch");
  tasks_.push_back(t);
  ops_.back().task_end = static_cast<uint32_t>(tasks_.size());
}

void StepGraph::cpu_tasks(const std::vector<CpuTask>& ts) {
  if (ops_.empty() || ops_.back().unit != Unit::Cpu || ops_.back().task_end != tasks_.size())
    throw std::logic_error("StepGraph::cpu_tasks: must follow its cpu_batch");
  tasks_.insert(tasks_.end(), ts.begin(), ts.end());
  ops_.back().task_end = static_cast<uint32_t>(tasks_.size());
}

OpId StepGraph::host(const char* name, int layer, double seconds, std::initializer_list<OpId> deps) {
  Op h;
  h.unit = Unit::Host;
  h.name = name;
  h.layer = static_cast<int16_t>(layer);
  h.fixed_s = seconds;
  return add(h, deps);
}

OpId StepGraph::host_after_cpu(const char* name, int layer, double seconds, OpId cpu) {
  if (cpu >= ops_.size() || ops_[cpu].unit != Unit::Cpu) throw std::logic_error("StepGraph::host_after_cpu: not a CPU batch");
  Op h;
  h.unit = Unit::Host;
  h.name = name;
  h.layer = static_cast<int16_t>(layer);
  h.fixed_s = seconds;
  h.host_work = HostWork::AfterCpu;
  h.after = cpu;
  return add(h, {cpu});
}

void StepGraph::finalize() {
  // Counting sort of edges by source: successor lists in a flat array, in edge insertion order.
  for (auto& op : ops_) op.succ_begin = op.succ_end = 0;
  std::vector<uint32_t> count(ops_.size() + 1, 0);
  for (const auto& [from, to] : edges_) ++count[from + 1];
  for (size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
  successors_.assign(edges_.size(), kNoOp);
  for (size_t i = 0; i < ops_.size(); ++i) ops_[i].succ_begin = ops_[i].succ_end = count[i];
  for (const auto& [from, to] : edges_) successors_[ops_[from].succ_end++] = to;
}

}  // namespace hgca
