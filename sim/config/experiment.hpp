// Typed, validated description of one simulated configuration.
//
// Everything downstream (workload, policy, engine, results) reads these plain structs and never YAML:
// sim/config/ is the only folder that knows about files, units and key paths. All quantities are in SI
// base units (bytes, seconds, bytes/second, FLOP/second) as doubles; counts are integers.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hgca {

// ---------------------------------------------------------------- hardware

struct GpuSpec {
  std::string name;
  double memory_bytes = 0;       // physical HBM capacity
  double reserved_bytes = 0;     // CUDA context, allocator slack, fragmentation: never usable
  double hbm_bandwidth = 0;      // B/s, practical read roofline
  double hbm_efficiency = 1.0;   // share of hbm_bandwidth a decode kernel reaches (0, 1]
  double matmul_flops = 0;       // FLOP/s, dense fp16/bf16 tensor-core peak
  double matmul_efficiency = 1.0;
  double vector_flops = 0;       // FLOP/s without tensor cores (softmax, elementwise)
  double kernel_launch_s = 0;    // host-thread time to launch one kernel
  double kernel_min_s = 0;       // shortest possible kernel on the device (ramp-up, tail)
  // Fixed device time of one kernel of a kind, added to its roofline time (docs/CALIBRATION.md, "The GPU
  // kernel model"): grid launch and ramp-up, the tail of the last wave, a split-combine pass. Measured decode
  // attention is affine in the bytes it reads (about 20 us + bytes / 3.08 TB/s on an H100), which no
  // max(kernel_min, roofline) reproduces. 0 (the default) is the plain roofline of older profiles.
  double attention_fixed_s = 0;  // KernelKind::Attention
  double gemm_fixed_s = 0;       // KernelKind::Gemm
  double vector_fixed_s = 0;     // merges, elementwise and selection kernels
};

struct LinkDirectionSpec {
  double bandwidth = 0;  // B/s for pinned memory, one transfer alone
  double latency_s = 0;  // fixed per-transfer cost (DMA setup, completion)
};

struct PcieSpec {
  LinkDirectionSpec h2d;
  LinkDirectionSpec d2h;
  double duplex_bandwidth = 0;    // cap on h2d+d2h together, B/s; 0 = no cap (perfect full duplex)
  double pageable_bandwidth = 0;  // B/s for transfers from/to pageable host memory (staged by the driver)
  int copy_engines_per_direction = 1;  // concurrent DMA transfers per direction; they share the bandwidth
};

struct CpuSpec {
  std::string name;
  int cores = 0;
  int sockets = 1;
  double memory_bytes = 0;
  // Achievable streaming-read bandwidth against the number of active threads, ascending by threads.
  // Interpolated linearly between points and held flat past the last: this is how DRAM saturates.
  std::vector<std::pair<int, double>> bandwidth_by_threads;
  double flops_per_core = 0;     // FLOP/s of one core on the attention inner loop (fp32 FMA, SIMD)
  double task_overhead_s = 0;    // per-task cost: dequeue, setup, result write
  double wakeup_s = 0;           // a parked worker's wake-up latency at the start of a batch of tasks
  // ... plus this much per worker woken before it in the same dispatch: the dispatcher wakes parked workers one
  // after the other (a futex wake each), so the k-th one starts k x stagger later.
  double wakeup_stagger_s = 0;
  double gather_efficiency = 1;  // share of streaming bandwidth kept when reading scattered rows
  // Per scattered row a task reads (its gathered rows only), on top of the row's bytes: a DRAM miss the
  // prefetcher cannot hide and the index arithmetic. Streamed rows are prefetched and cost only bytes.
  double row_cost_s = 0;
  // Per key a selection scores and ranks (per query head; a block summary counts as a key), on top of the
  // keys' bytes and the dot products' FLOPs: the top-k bookkeeping and score writes that a FLOP count misses.
  // Without it, timings of selection-heavy tasks drag flops_per_core down for the attention as well.
  double select_key_cost_s = 0;
  // NUMA: when non-empty (and sockets > 1), each socket is its own DRAM-bandwidth domain with this curve
  // (threads of that socket -> bandwidth); cores are split evenly over the sockets, and a task reads the
  // bandwidth of the socket its core is on. Empty: one domain with bandwidth_by_threads.
  std::vector<std::pair<int, double>> socket_bandwidth_by_threads;
  // Shared last-level cache. A share of a step's attention reads comes from the cache, llc_bandwidth_factor
  // times cheaper than from DRAM: without other traffic, llc_bytes / (the CPU-resident KV one step reads, every
  // layer's), at most 1 (sim/hw/llc_residency.hpp, sim/hw/cpu_pool.hpp). llc_bytes 0 = no cache model.
  double llc_bytes = 0;
  double llc_bandwidth_factor = 1;
  // How long a line stays in the cache after its last use when everything else on the host (other tenants, the
  // runtime, this process's other data) turns the cache over: other traffic of llc_bytes / llc_residency per
  // second. With it, how much of the KV stays cached also depends on how often a step comes back to each row
  // (sim/hw/llc_residency.hpp). 0 = no other traffic, the cache serves only the KV: min(1, llc_bytes / ws).
  double llc_residency_s = 0;
};

// The host thread that drives the GPU and the framework around it (PyTorch and Python threads in the
// authors' implementation). Every kernel launch (gpu.kernel_launch), copy and CPU-task dispatch is issued by
// this one thread in program order; a framework adds time per operation and per step.
struct HostSpec {
  double framework_op_s = 0;     // per operation the host issues (kernel launch, copy, CPU task dispatch)
  double framework_step_s = 0;   // per decode step or prefill chunk (sampling, scheduling, bookkeeping)
  // Per host wait on the device (an event or stream synchronisation): the time from the awaited work's end to
  // the host thread running again. When > 0 the host blocks where a synchronous runner does (strategy hgca:
  // on the QKV output and on the query copy before the CPU tasks, on the CPU tasks before the result copy, on
  // the merge); 0 keeps the asynchronous host of earlier profiles.
  double sync_s = 0;
  // The host's first work after it waited for a CPU phase of length t costs
  // after_cpu_max * (1 - exp(-t / after_cpu_time)) more (a blocking host only). Measured by `hgca bench
  // wake`: after t of CPU load the runner's tail (result copy, merge, synchronisation) grows with t, after t
  // of idle it does not; a host whose caches, TLBs and driver state the CPU phase pushed out, paying to bring
  // them back. 0 (the default) charges nothing.
  double after_cpu_max_s = 0;
  double after_cpu_time_s = 1e-3;
  double after_cpu_seconds(double cpu_phase_s) const {
    return after_cpu_max_s > 0 ? after_cpu_max_s * -std::expm1(-cpu_phase_s / after_cpu_time_s) : 0.0;
  }
  bool shares_cpu_core = false;  // the host thread runs on one of cpu.cores, which attention workers then lack
};

// Where a profile written by `hgca calibrate`'s microbenchmarks was measured (the `machine:` map); empty
// fields in other profiles. Stale profiles are the common failure of measured cost models: this says which
// machine, driver and date the figures belong to.
struct MachineStamp {
  std::string gpu;           // device name as the driver reports it
  std::string driver;        // CUDA driver version, e.g. "13.0"
  std::string cuda_runtime;  // CUDA runtime version the benchmarks were built with
  std::string cpu;           // CPU model name
  std::string host;          // host name
  std::string date;          // UTC, ISO 8601
  bool empty() const { return gpu.empty() && driver.empty() && cuda_runtime.empty() && cpu.empty() && host.empty() && date.empty(); }
};

struct HardwareProfile {
  std::string name;
  std::string source;      // where the figures come from
  bool calibrated = false; // true only for profiles written by `hgca calibrate`
  MachineStamp machine;    // set by `hgca calibrate --out` when it measured this machine itself
  GpuSpec gpu;
  PcieSpec pcie;
  CpuSpec cpu;
  HostSpec host;
};

// ---------------------------------------------------------------- model

struct ModelShape {
  std::string name;
  int layers = 0;
  int q_heads = 0;
  int kv_heads = 0;       // == q_heads for MHA, 1 for MQA
  int head_dim = 0;
  int hidden = 0;
  int intermediate = 0;   // MLP inner size
  int vocab = 0;
  bool gated_mlp = true;  // SwiGLU (gate, up, down) vs two-matrix MLP
  bool tied_embeddings = false;
  double weight_bytes_per_param = 2;  // from dtype: fp16/bf16 = 2, fp8/int8 = 1, fp32 = 4
  double kv_bytes_per_elem = 2;
  std::string weight_dtype = "bf16";
  std::string kv_dtype = "bf16";
  std::string source;  // where the shape comes from (the published config)
};

// ---------------------------------------------------------------- workload

struct RequestSpec {
  int64_t prompt = 0;  // tokens already in context when decoding starts
  int64_t decode = 0;  // tokens generated
};

struct WorkloadSpec {
  // Either `batch` identical requests of (prompt, decode), or an explicit list of requests run as one batch
  // (a sequence leaves the batch when its decode length is reached).
  int batch = 1;
  int64_t prompt = 0;
  int64_t decode = 0;
  std::vector<RequestSpec> requests;  // empty unless given explicitly; then batch == requests.size()
  int64_t prefill_chunk = 0;          // tokens per prefill chunk; 0 = whole prompt at once
  bool simulate_prefill = true;
};

// ---------------------------------------------------------------- system (strategy and its parameters)

enum class SelectionSource {
  Fraction,      // each head selects `fraction` of its CPU-resident entries
  TopK,          // each head selects min(top_k, CPU-resident entries)
  Distribution,  // per-head fractions drawn once (seeded) from a log-normal: heads differ a lot
  Profile,       // per-(layer, head) amounts from a selection-profile file written by trace replay
};

enum class SelectionGranularity { QueryHead, KvHead };

struct SelectionSpec {
  SelectionSource source = SelectionSource::Fraction;
  double fraction = 0.05;
  int64_t top_k = 0;
  // Distribution: fraction per head = clamp(median * exp(sigma * N(0,1)), min_fraction, max_fraction)
  double median_fraction = 0.01;
  double sigma = 1.5;
  double min_fraction = 0.0;
  double max_fraction = 0.4;
  std::string profile_path;  // Profile: an HDF5 selection profile (see docs/SELECTION_PROFILE.md)
  SelectionGranularity granularity = SelectionGranularity::QueryHead;
};

// How the CPU side finds the entries it attends to each step (what that costs is charged).
enum class SelectionMethod {
  KeyScan,       // score every CPU-resident key of the head (reads all keys), then attend to the selection
  BlockSummary,  // score per-block summaries (Quest-like), then read the selected blocks
  ReuseLast,     // reuse the selection of an earlier step; rescan every `reselect_interval` steps
  Given,         // lists come from outside the step at no cost, drawn afresh each step (an oracle; what the
                 // hybrid runner and the calibration's given-list rows time with lists drawn outside the timing)
};

enum class CpuSchedule {
  Static,   // tasks partitioned over cores up front (round-robin by task index)
  Dynamic,  // one shared work queue; an idle core takes the next task
};

enum class CpuTaskGranularity {
  Head,      // one task per (sequence, query head)
  KvHead,    // one task per (sequence, KV head): the query heads of a group share the reads
  Sequence,  // one task per sequence (all heads)
};

// hgca as configured by our own parameters (default) or as its authors built it (paper).
enum class HgcaPreset { Default, Paper };

// Which heads own a sparse set under the paper preset: every query head, or every KV head (GQA: the query
// heads of a group share one set, selected from the mean of their scores, which stays a distribution so
// the beta / n threshold means the same as for one head; replay's `scope=kv-head` does the same).
enum class PaperSelectionScope { QueryHead, KvHead };

// The n of the paper's threshold beta / n: the tokens the window attention covered this step (recall +
// window + new, as the authors' code computes it) or the whole context.
enum class PaperThresholdBase { Attended, Context };

// The authors' mechanism (system.paper.*, used with strategy hgca and preset paper).
struct PaperSpec {
  int64_t block_size = 64;   // tokens per block: the unit of eviction
  int gpu_blocks = 16;       // window capacity in blocks per sequence and layer
  int recall_blocks = 2;     // most recently evicted blocks also kept (and attended) on the GPU; 0 = none
  double alpha = 0.5;        // score smoothing s <- alpha * a + (1 - alpha) * s
  double beta = 0.5;         // keep tokens with s >= beta / n
  int head_groups = 4;       // heads of a layer split into this many groups; a group keeps its largest count
  int64_t keep_min = 10;     // at least this many tokens kept per head and eviction
  PaperSelectionScope selection = PaperSelectionScope::QueryHead;
  PaperThresholdBase threshold_over = PaperThresholdBase::Attended;
  bool recall_reload = true;     // authors' code: the recall blocks are copied H2D again every layer and step
  bool framework_copies = true;  // authors' code: torch.cat copies the window KV and the score buffer per step
};

struct H2oSpec {
  double budget = 0.2;       // share of the context kept on the GPU (heavy hitters + recent tokens)
  double heavy_share = 0.5;  // share of the budget given to heavy hitters (the rest: most recent tokens)
};

struct InfinigenSpec {
  double budget = 0.2;         // share of the KV fetched per layer (speculated top-k)
  double partial_ratio = 0.2;  // share of query/key dimensions used for speculation (partial weights, keys)
};

struct FlexgenSpec {
  bool cpu_attention = false;  // FlexGen's --cpu-cache-compute: attention over offloaded KV on the CPU
  double kv_on_gpu = 0;        // share of each sequence's KV kept on the GPU (FlexGen's cache GPU percent)
};

struct SystemSpec {
  std::string strategy = "hgca";  // see kStrategyNames (sim/config/names.hpp)
  int64_t window = 4096;          // recent tokens per sequence kept on the GPU
  int64_t sinks = 0;              // first tokens kept on the GPU as attention sinks
  int64_t eviction_batch = 64;    // tokens leaving the window are written back to CPU memory this many at a time
  SelectionSpec selection;
  SelectionMethod selection_method = SelectionMethod::BlockSummary;
  int64_t summary_block = 16;     // BlockSummary: tokens per block
  int reselect_interval = 8;      // ReuseLast: rescan every this many steps
  int cpu_threads = 0;            // attention workers; 0 = all cores
  CpuSchedule cpu_schedule = CpuSchedule::Dynamic;
  CpuTaskGranularity cpu_task = CpuTaskGranularity::Head;
  int prefetch_layers = 1;        // offload-fetch / fetch-topk: layers fetched ahead
  bool pinned = true;             // host buffers pinned (page-locked) or pageable
  int64_t activation_tokens = 0;  // decode activations workspace, tokens; 0 = batch
  // Weight placement (every strategy): this share of each layer's weights lives on the GPU; the rest stays in
  // CPU memory and is streamed over PCIe layer by layer, one layer ahead (FlexGen-style).
  double weights_on_gpu = 1.0;
  bool overlap_io = true;         // weight and KV streaming overlapped with compute (FlexGen's --overlap)
  bool attention_only = false;    // simulate only each layer's attention (kernel-level studies)
  HgcaPreset preset = HgcaPreset::Default;
  PaperSpec paper;
  H2oSpec h2o;
  InfinigenSpec infinigen;
  FlexgenSpec flexgen;
};

// ---------------------------------------------------------------- one experiment point

struct Experiment {
  std::string name;          // experiment name (from the file, or the file stem)
  std::string description;   // free text from the file ("" if none)
  std::string source_file;   // the YAML it came from
  std::string point_label;   // e.g. "system.window=2048 workload.batch=16" for a sweep point; "" if none
  HardwareProfile hardware;
  ModelShape model;
  WorkloadSpec workload;
  SystemSpec system;
  uint64_t seed = 1;
  std::string resolved_yaml;  // the fully resolved configuration (references expanded), stored with results
};

}  // namespace hgca
