#include "sim/hw/machine.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "sim/hw/gpu_cost.hpp"

namespace hgca {

Machine::Machine(Simulator& sim, const HardwareProfile& hw, int cpu_threads, CpuSchedule schedule)
    : sim_(sim),
      hw_(hw),
      host_(sim, *this,
            [this](const Op& op) {
              switch (op.host_work) {
                case HostWork::Launch: return hw_.gpu.kernel_launch_s + hw_.host.framework_op_s;
                case HostWork::Issue: return hw_.host.framework_op_s;
                case HostWork::AfterCpu: {
                  const Op& cpu = graph_->ops()[op.after];  // ended: it is a dependency
                  return op.fixed_s + hw_.host.after_cpu_seconds(to_seconds(cpu.end - cpu.start));
                }
                case HostWork::Fixed: break;
              }
              return op.fixed_s;
            }),
      gpu_(sim, *this,
           [this](const Op& op) { return gpu_kernel_seconds(hw_.gpu, op.kind, op.flops, op.bytes) + op.fixed_s; }),
      link_(sim, *this, hw.pcie),
      cpu_(sim, *this, hw.cpu, cpu_threads, schedule) {
  shares_core_ = hw.host.shares_cpu_core && cpu_threads >= hw.cpu.cores;
  if (shares_core_) {
    cpu_.set_host_core(cpu_threads - 1);
    host_.share_core(&cpu_);
  }
}

SimTime Machine::execute(StepGraph& graph) {
  graph.finalize();
  graph_ = &graph;
  done_ = 0;
  auto& ops = graph.ops();
  host_.bind(&ops);
  gpu_.bind(&ops);
  link_.bind(&ops);
  cpu_.bind(&ops, &graph.tasks());
  cpu_.set_span_sink(recorder_ ? this : nullptr);
  const SimTime start = sim_.now();
  for (OpId id = 0; id < ops.size(); ++id)
    if (ops[id].deps_left == 0) make_ready(id);
  sim_.run();
  if (done_ != ops.size())
    throw std::logic_error("Machine: step graph stalled with " + std::to_string(ops.size() - done_) +
                           " ops unfinished (dependency cycle?)");
  graph_ = nullptr;
  const SimTime makespan = sim_.now() - start;
  cpu_.set_reuse_period(to_seconds(makespan));
  return makespan;
}

void Machine::make_ready(OpId id) {
  Op& op = graph_->ops()[id];
  op.ready = sim_.now();
  switch (op.unit) {
    case Unit::Host: host_.submit(id); break;
    case Unit::Gpu: gpu_.submit(id); break;
    case Unit::H2D:
    case Unit::D2H: link_.submit(id); break;
    case Unit::Cpu: cpu_.submit(id); break;
  }
}

void Machine::op_started(OpId) {}

void Machine::op_finished(OpId id) {
  auto& ops = graph_->ops();
  Op& op = ops[id];
  if (op.end < 0) op.end = sim_.now();
  ++done_;
  if (recorder_ && op.unit != Unit::Cpu) recorder_->span(op, 0, op.start, op.end);
  const auto& succ = graph_->successors();
  for (uint32_t i = op.succ_begin; i < op.succ_end; ++i) {
    Op& s = ops[succ[i]];
    if (--s.deps_left == 0) make_ready(succ[i]);
  }
}

void Machine::task_span(int core, OpId op, SimTime start, SimTime end) {
  if (recorder_) recorder_->span(graph_->ops()[op], core, start, end);
}

double steady_reuse_period(const HardwareProfile& hw, int cpu_threads, CpuSchedule schedule, const StepGraph& graph,
                           double tolerance, int max_rounds) {
  if (!(hw.cpu.llc_bytes > 0) || !(hw.cpu.llc_residency_s > 0)) return 0;
  auto makespan = [&](double period) {  // one scratch execution on a fresh machine
    Simulator sim;
    Machine m(sim, hw, cpu_threads, schedule);
    m.set_reuse_period(period);
    StepGraph g = graph;
    return to_seconds(m.execute(g));
  };
  // The fixed point of period = makespan(period), by iteration from the knee (period 0). A longer period leaves
  // less cached and makes the step longer: the iterates rise to the smallest fixed point, the steady state a
  // loop reaches from a warm cache, at the rate d makespan / d period, typically a few tenths. (A bracketing
  // root finder was tried: on profiles a fit passes through, the makespan can cross the period more than once,
  // and it landed on different crossings as the fit moved the profile.)
  double period = 0;
  for (int i = 0; i < max_rounds; ++i) {
    const double next = makespan(period);
    const bool converged = std::abs(next - period) <= tolerance * next;
    period = next;
    if (converged) break;
  }
  return period;
}

}  // namespace hgca
