// The host CPU's attention workers: N cores sharing one DRAM bandwidth that saturates.
//
// A task runs in up to four phases on one core: wake-up (only if the core was parked when work arrived:
// cpu.wakeup, plus cpu.wakeup_stagger for each worker the same dispatch woke before it, in core order),
// per-task overhead (cpu.task_overhead, plus cpu.select_key_cost per key a selection ranks), reading its bytes,
// and the rest of its floor: a task takes at least max(flops / flops_per_core, gather_rows x cpu.row_cost) from
// the start of its read (a per-task roofline). The per-row term is the latency side of a gather: a core keeps
// only so many misses in flight, so scattered rows arrive no faster than one per row_cost however much DRAM
// bandwidth is free; with many cores reading, the shared bandwidth binds instead and the two overlap. During the
// read phase the k cores that are reading share the bandwidth the profile gives for k threads (interpolated,
// flat past the last point) equally. Equal sharing means one clock serves all readers: `service_` counts the
// bytes each reader has been able to read since the start, so a reader finishes when it reaches its target
// and a change in the number of readers costs O(1), not a rate update per reader. Two min-heaps (readers by
// target, other busy cores by phase end) make each event O(log cores) instead of a scan of every core; cores
// that change phase at the same instant are handled in core-index order. Scattered (gather) reads
// run at the profile's gather efficiency. Scheduling is `static` (task i of a batch goes to core i mod N) or
// `dynamic` (one FIFO queue; an idle core takes the next task). Unequal tasks make stragglers visible.
//
// Last-level cache: a task's hit share (the share of its reads the cache serves: llc_hit_share of
// sim/hw/llc_residency.hpp, from the task's working set and how its step reads it, which the policy that builds
// the tasks decides, cpu.llc_bytes, cpu.llc_residency and the reuse period, the time from the previous step's
// reads to this one's, which Machine sets: its previous graph's makespan) makes its reads cost
// 1 - hit + hit / llc_bandwidth_factor of the same reads from DRAM, in bytes on the shared clock and in per-row
// latency alike (a hit is a short miss). A reader with hit 1 takes part in the shared clock like any reader but
// needs only bytes / factor of it: with k readers that are all resident each reads at factor x the DRAM share
// for k readers (the cache's bandwidth assumed to saturate with threads in the same shape as DRAM's, factor
// times higher), and a resident reader among DRAM readers holds its share for 1/factor of the time. The per-key
// selection costs and the compute floor are unchanged.
//
// NUMA: with a per-socket curve (cpu.socket_bandwidth_by_threads), workers are spread evenly over the sockets
// (worker i on socket i * sockets / N) and each socket is its own bandwidth domain with its own shared clock:
// a task reads at the share its socket's readers get. A static schedule therefore places a batch's tasks (and,
// by the strategies' task order, heads) on sockets by index.
//
// The host thread may share core `host_core` (SharedCore): it takes the core whenever the task running there
// ends, and the core takes no work while the host holds it.
#pragma once

#include <deque>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/engine/simulator.hpp"
#include "sim/hw/host_thread.hpp"
#include "sim/hw/unit.hpp"

namespace hgca {

// Total read bandwidth of `threads` cores reading at once, from a profile's saturating curve.
double cpu_bandwidth(const CpuSpec& spec, int threads);

// Bandwidth of `threads` cores of one socket reading at once (the per-socket curve).
double socket_bandwidth(const CpuSpec& spec, int threads);

class CpuPool : public EventTarget, public SharedCore {
 public:
  CpuPool(Simulator& sim, OpListener& listener, const CpuSpec& spec, int threads, CpuSchedule schedule);
  // Makes worker `core` the one the host thread shares (call before the first batch).
  void set_host_core(int core) { host_core_ = core; }
  bool acquire_for_host(std::function<void()> on_free) override;
  void release_from_host() override;
  void bind(std::vector<Op>* ops, const std::vector<CpuTask>* tasks);
  void submit(OpId batch);
  void set_span_sink(TaskSpanSink* sink) { spans_ = sink; }
  // Seconds from the previous step's reads of the CPU-resident KV to this step's (0 = unknown): how long other
  // traffic had to evict it (sim/hw/llc_residency.hpp).
  void set_reuse_period(double seconds) { reuse_period_s_ = seconds; }
  double reuse_period() const { return reuse_period_s_; }

  int threads() const { return static_cast<int>(cores_.size()); }
  double core_seconds() const { return to_seconds(core_busy_); }
  // Mean over finished batches of (busiest core's time in the batch / mean core time in the batch).
  double mean_imbalance() const { return batches_done_ ? imbalance_sum_ / batches_done_ : 1.0; }
  bool idle() const;
  void on_event(uint64_t generation) override;

 private:
  enum class Phase : uint8_t { Idle, Wake, Overhead, Memory, Compute };
  struct Core {
    Phase phase = Phase::Idle;
    OpId op = kNoOp;
    uint32_t task = 0;
    SimTime phase_end = kNever;
    SimTime task_start = 0;
    SimTime read_start = 0;
    double target = 0;     // reading: done when service_ reaches this
    bool reading = false;  // counted among the cores sharing DRAM bandwidth
  };
  struct WorkItem {
    OpId op;
    uint32_t task;
  };
  struct BatchState {
    uint32_t left = 0;
    std::vector<SimTime> core_busy;
  };
  // One DRAM bandwidth domain (the whole machine, or one socket) with its shared service clock.
  struct Domain {
    std::vector<double> share_by_readers;  // per-core read rate when k cores of the domain read, index k
    // Min-heap (std::push_heap with greater<>) of readers by (target, core).
    std::vector<std::pair<double, int>> heap;
    int readers = 0;
    double service = 0;      // bytes one reader has read since the start (the shared clock)
    double share = 0;        // bytes/s each reader gets now
    SimTime service_at = 0;  // time service is valid at
  };

  bool take_work(int core, WorkItem& out);
  // wake_rank: how many parked workers this dispatch woke before this one (cpu.wakeup_stagger each).
  void start_task(int core, const WorkItem& w, bool was_parked, int wake_rank = 0);
  void begin_work(int core);  // after wake-up: overhead phase, or straight to reading
  void begin_read(int core);
  void finish_task(int core);
  void dispatch_idle();
  void advance_service();  // brings every domain's clock up to now at its current share
  static SimTime read_finish(const Domain& d, double target);
  // Cost of a task's reads relative to DRAM: 1 - hit + hit / llc_bandwidth_factor (1 without a cache model).
  double llc_scale(const CpuTask& t) const;
  double llc_hit(const CpuTask& t) const;
  // The task's floor from the start of its read: max(compute, per-row latency), see the header.
  double floor_seconds(const CpuTask& t) const;
  bool host_blocks(int core) const { return core == host_core_ && (host_holds_ || host_waiting_); }
  void arm(int core);  // a core in a timed phase (wake, overhead, compute) waits in timed_
  void reschedule();

  Simulator& sim_;
  OpListener& listener_;
  CpuSpec spec_;
  double reuse_period_s_ = 0;
  // llc_hit's last answer: a step's tasks share their LlcReads.
  mutable LlcReads memo_reads_{-1, {}};
  mutable double memo_period_ = -1, memo_hit_ = 0;
  CpuSchedule schedule_;
  std::vector<Op>* ops_ = nullptr;
  const std::vector<CpuTask>* tasks_ = nullptr;
  TaskSpanSink* spans_ = nullptr;
  std::vector<Core> cores_;
  std::vector<int> domain_of_;  // per core
  std::vector<Domain> domains_;
  std::deque<WorkItem> shared_queue_;
  std::vector<std::deque<WorkItem>> core_queue_;
  std::vector<BatchState> batches_;  // indexed by op id
  std::vector<OpId> finished_batches_;
  // Min-heap (std::push_heap with greater<>) of timed phases by (end, core).
  std::vector<std::pair<SimTime, int>> timed_;
  std::vector<int> due_;  // scratch: cores with a transition now, sorted by index
  int host_core_ = -1;
  bool host_holds_ = false, host_waiting_ = false, handoff_ = false;
  std::function<void()> host_on_free_;
  SimTime core_busy_ = 0;
  double imbalance_sum_ = 0;
  uint64_t batches_done_ = 0;
  uint64_t generation_ = 0;
  SimTime scheduled_ = kNever;
  SimTime wakeup_ = 0, overhead_ = 0;  // the profile's fixed phases, converted once
};

}  // namespace hgca
