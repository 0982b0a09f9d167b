// The operations of one simulated phase (a decode step, a prefill chunk) and the dependencies between them.
//
// Strategies build a StepGraph in program order; the Machine executes it on the hardware models. Each unit
// has numbered streams with in-order semantics (an op waits for the previous op of its stream), and explicit
// dependencies play the role of CUDA events between streams. A GPU kernel is preceded by its launch on the
// host thread, which issues launches in program order, so launch overhead shows up where it really binds.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/hw/llc_residency.hpp"

namespace hgca {

using OpId = uint32_t;
constexpr OpId kNoOp = UINT32_MAX;

enum class Unit : uint8_t { Host, Gpu, H2D, D2H, Cpu };
constexpr int kUnitCount = 5;
constexpr int kStreamsPerUnit = 8;

// What a GPU op computes: chooses the roofline peak (tensor cores or not) and, once calibrated, the table.
enum class KernelKind : uint8_t { Gemm, Attention, Merge, Elementwise, Selection, Other };

// What a host-thread op costs: a fixed duration, a kernel launch (gpu.kernel_launch + host.framework_op),
// issuing a copy or a batch of CPU tasks (host.framework_op), or the return from waiting for a CPU batch
// (the fixed duration + host.after_cpu of the batch's length, known only once it ran).
enum class HostWork : uint8_t { Fixed, Launch, Issue, AfterCpu };

// One CPU task: a unit of work one core does alone (attention of one head of one sequence, say).
struct CpuTask {
  double bytes = 0;         // bytes streamed from DRAM (contiguous rows)
  double gather_bytes = 0;  // bytes read as scattered rows: at the profile's gather efficiency
  double flops = 0;         // floating-point work, bounds the task when it is compute-heavy
  double gather_rows = 0;   // scattered rows the gathered bytes come in: cpu.row_cost each (last: {b, g, f} inits)
  double select_keys = 0;   // keys a selection scores and ranks (summed over query heads): cpu.select_key_cost each
  // The last-level cache (sim/hw/llc_residency.hpp): the CPU-resident KV of the whole step this task belongs
  // to (every layer's) and how the step reads it; working set 0: no cache term for this task.
  LlcReads llc{};
};

struct Op {
  Unit unit = Unit::Gpu;
  KernelKind kind = KernelKind::Other;
  uint8_t stream = 0;
  bool pageable = false;  // copies: host side is pageable memory
  HostWork host_work = HostWork::Fixed;  // host ops: what they cost
  int16_t layer = -1;
  const char* name = "";  // static string: no allocation per op
  double flops = 0;
  double bytes = 0;       // GPU: HBM bytes; copies: bytes moved
  double fixed_s = 0;     // host ops (Fixed): duration; GPU ops: added to the roofline time
  uint32_t task_begin = 0, task_end = 0;  // CPU ops: their tasks in StepGraph::tasks
  OpId after = UINT32_MAX;                 // host ops (AfterCpu): the CPU batch waited for
  uint32_t deps_left = 0;
  uint32_t succ_begin = 0, succ_end = 0;  // successors in StepGraph::successors (after finalize)
  SimTime ready = -1, start = -1, end = -1;
};

class StepGraph {
 public:
  StepGraph() { clear(); }
  void clear();

  // A GPU kernel on `stream`, launched by the host thread; returns the kernel's id.
  OpId kernel(int stream, KernelKind kind, const char* name, int layer, double flops, double bytes,
              std::initializer_list<OpId> deps = {});
  // A DMA copy over PCIe (unit H2D or D2H), issued by the host thread in program order.
  OpId copy(Unit direction, int stream, const char* name, int layer, double bytes,
            std::initializer_list<OpId> deps = {}, bool pageable = false);
  // A batch of CPU tasks, dispatched by the host thread in program order; add its tasks with cpu_task() right
  // after, before adding any other op.
  OpId cpu_batch(int stream, const char* name, int layer, std::initializer_list<OpId> deps = {});
  void cpu_task(const CpuTask& t);
  // Appends many tasks to the batch just added (same rule as cpu_task).
  void cpu_tasks(const std::vector<CpuTask>& ts);
  // Work on the host thread that drives the GPU (synchronisation, framework overhead).
  OpId host(const char* name, int layer, double seconds, std::initializer_list<OpId> deps = {});
  // The host thread waiting for CPU batch `cpu` (a join of the workers): costs `seconds` plus
  // host.after_cpu of the batch's duration.
  OpId host_after_cpu(const char* name, int layer, double seconds, OpId cpu);
  // Adds a dependency after the fact (for dependencies collected in loops).
  void depend(OpId op, OpId on);

  // Builds successor lists; call once, after the last op is added.
  void finalize();

  std::vector<Op>& ops() { return ops_; }
  const std::vector<Op>& ops() const { return ops_; }
  const std::vector<CpuTask>& tasks() const { return tasks_; }
  const std::vector<OpId>& successors() const { return successors_; }

 private:
  OpId add(Op op, std::initializer_list<OpId> deps);
  OpId issue(HostWork work, int layer);  // the host-thread op that launches or issues the next op
  std::vector<Op> ops_;
  std::vector<CpuTask> tasks_;
  std::vector<std::pair<OpId, OpId>> edges_;  // (from, to)
  std::vector<OpId> successors_;
  std::array<std::array<OpId, kStreamsPerUnit>, kUnitCount> last_in_stream_{};
};

}  // namespace hgca
