// GPU primitives: PCIe copies (pinned each way, both ways at once on two streams, one pageable size), our
// decode attention and LSE merge kernels (kernels/cuda), cuBLAS GEMMs of decode shapes, and kernel launch
// overhead. Device times are CUDA events around the work on an otherwise idle device; the median of
// repetitions after warm-up. Inputs larger than L2 rotate over several copies, so that repetitions read
// HBM as a model's layers would, not a warm L2.
#include "kernels/cuda/cublas_loader.hpp"
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <unistd.h>

#include "kernels/cuda/decode_attention.hpp"
#include "kernels/cuda/merge.hpp"
#include "kernels/cuda/runtime.hpp"
#include "kernels/microbench/device_helpers.hpp"
#include "kernels/microbench/microbench.hpp"
#include "kernels/microbench/timing.hpp"

namespace hgca::kernels::microbench {
namespace {

using cuda::DeviceBuffer;
using cuda::Event;
using cuda::PinnedBuffer;
using cuda::Stream;

void say(const Options& o, const std::string& s) {
  if (o.log) o.log(s);
}

void require(const Status& st, const char* what) {
  if (!st.ok()) throw std::runtime_error(std::string("microbench: ") + what + ": " + st.message);
}
void require_cuda(int code, const char* what) { cuda::check(code, what); }
void require_blas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string("microbench: cuBLAS ") + what + ": " + cuda::cublas().status_string(s));
}

// Seconds between two events on the same stream around `enqueue`.
template <class Fn>
double event_seconds(const Stream& s, const Event& e0, const Event& e1, Fn&& enqueue) {
  e0.record(s.get());
  enqueue();
  e1.record(s.get());
  e1.synchronize();
  return e1.since(e0) * 1e-3;
}

std::string gbs(double bytes, double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB/s", bytes / s / 1e9);
  return buf;
}

// ------------------------------------------------------------------ PCIe

void bench_pcie(const Options& o, std::vector<Row>& rows) {
  std::vector<double> sizes;
  if (o.quick) sizes = {256, 1 << 20, 16 << 20};
  else
    for (double b = 256; b <= 256.0 * (1 << 20); b *= 4) sizes.push_back(b);
  const std::size_t max_bytes = static_cast<std::size_t>(sizes.back());
  PinnedBuffer host_a(max_bytes), host_b(max_bytes);
  DeviceBuffer dev_a(max_bytes), dev_b(max_bytes);
  std::memset(host_a.data(), 1, max_bytes);
  std::memset(host_b.data(), 2, max_bytes);
  Stream s1, s2;
  Event e0, e1, e2;
  for (double b : sizes) {
    const std::size_t n = static_cast<std::size_t>(b);
    const int reps = b >= (64 << 20) ? 10 : o.quick ? 10 : 30;
    for (const char* dir : {"h2d", "d2h", "both"}) {
      double s;
      if (std::strcmp(dir, "both") == 0) {
        // One copy each way, issued together on two streams; from the first issue until both have finished.
        s = median_seconds(2, reps, [&] {
          e0.record(s1.get());
          s2.wait(e0);
          cuda::copy_to_device(dev_a.data(), host_a.data(), n, s1.get());
          cuda::copy_to_host(host_b.data(), dev_b.data(), n, s2.get());
          e1.record(s1.get());
          e2.record(s2.get());
          e1.synchronize();
          e2.synchronize();
          return std::max(e1.since(e0), e2.since(e0)) * 1e-3;
        });
      } else {
        const bool h2d = dir[0] == 'h';
        s = median_seconds(2, reps, [&] {
          return event_seconds(s1, e0, e1, [&] {
            if (h2d) cuda::copy_to_device(dev_a.data(), host_a.data(), n, s1.get());
            else cuda::copy_to_host(host_a.data(), dev_a.data(), n, s1.get());
          });
        });
      }
      Row r;
      r.primitive = "pcie_copy";
      r.direction = dir;
      r.memory = "pinned";
      r.bytes = b;
      r.time_s = s;
      r.note = gbs(std::strcmp(dir, "both") == 0 ? 2 * b : b, s);
      rows.push_back(r);
      say(o, std::string("pcie_copy ") + dir + " " + std::to_string(n) + " B: " + r.note);
    }
  }
  // One pageable size, host to device: the driver stages it through its own pinned buffers.
  const std::size_t n = o.quick ? (16u << 20) : (256u << 20);
  std::vector<char> pageable(n, 3);
  const double s = median_seconds(1, o.quick ? 3 : 5, [&] {
    return event_seconds(s1, e0, e1, [&] { cuda::copy_to_device(dev_a.data(), pageable.data(), n, s1.get()); });
  });
  Row r;
  r.primitive = "pcie_copy";
  r.direction = "h2d";
  r.memory = "pageable";
  r.bytes = static_cast<double>(n);
  r.time_s = s;
  r.note = gbs(static_cast<double>(n), s);
  rows.push_back(r);
  say(o, "pcie_copy h2d pageable: " + r.note);
}

// ------------------------------------------------------------------ attention and merge

struct AttentionShape {
  int batch, q_heads, kv_heads, head_dim;
  std::int64_t window;
};

int rotation_copies(std::size_t bytes, std::size_t l2_bytes) {
  return static_cast<int>(std::clamp<std::size_t>((4 * l2_bytes) / std::max<std::size_t>(bytes, 1) + 1, 1, 16));
}

void bench_attention(const Options& o, const cuda::DeviceInfo& info, std::vector<Row>& rows) {
  std::vector<AttentionShape> shapes;
  const std::vector<int> batches = o.quick ? std::vector<int>{1, 16} : std::vector<int>{1, 4, 16, 64};
  const std::vector<std::int64_t> windows = o.quick ? std::vector<std::int64_t>{1024, 4096} : std::vector<std::int64_t>{256, 1024, 4096, 16384};
  for (int b : batches)
    for (std::int64_t w : windows) shapes.push_back({b, 32, 8, 128, w});
  if (!o.quick) {
    shapes.push_back({16, 32, 8, 64, 4096});  // head_dim 64
    shapes.push_back({16, 8, 1, 128, 4096});  // MQA (one KV head for a group of 8)
  }
  Stream stream;
  Event e0, e1;
  for (const AttentionShape& sh : shapes) {
    cuda::WindowShape ws{KvType::f16, sh.batch, sh.kv_heads, sh.head_dim, sh.window};
    cuda::DecodePlan plan;
    require(cuda::plan_decode_attention(ws, sh.q_heads, {}, info.sm_count, &plan), "plan_decode_attention");
    const std::size_t bytes = ws.array_bytes();
    const int copies = rotation_copies(2 * bytes, info.l2_bytes);
    DeviceBuffer k(bytes * copies), v(bytes * copies), lengths(sh.batch * 4), q(std::size_t{4} * sh.batch * sh.q_heads * sh.head_dim),
        out(std::size_t{4} * sh.batch * sh.q_heads * sh.head_dim), lse(std::size_t{4} * sh.batch * sh.q_heads),
        workspace(std::max<std::size_t>(plan.workspace_bytes, 16));
    require_cuda(fill_fp16(k.data(), bytes * copies / 2, 1, stream.get()), "fill K");
    require_cuda(fill_fp16(v.data(), bytes * copies / 2, 2, stream.get()), "fill V");
    cuda::fill_floats(q.as<float>(), 0.01f, std::size_t{1} * sh.batch * sh.q_heads * sh.head_dim, stream.get());
    std::vector<std::int32_t> len(sh.batch, static_cast<std::int32_t>(sh.window));
    cuda::copy_to_device(lengths.data(), len.data(), len.size() * 4, stream.get());
    stream.synchronize();
    int copy = 0;
    const double s = median_seconds(3, o.quick ? 10 : 30, [&] {
      cuda::DecodeArgs a;
      a.kv = {ws, static_cast<char*>(k.data()) + copy * bytes, static_cast<char*>(v.data()) + copy * bytes, lengths.as<std::int32_t>()};
      a.q_heads = sh.q_heads;
      a.q = q.as<float>();
      a.out = out.as<float>();
      a.lse = lse.as<float>();
      a.workspace = workspace.data();
      copy = (copy + 1) % copies;
      return event_seconds(stream, e0, e1, [&] { require(cuda::decode_attention(a, plan, stream.get()), "decode_attention"); });
    });
    Row r;
    r.primitive = "gpu_attention";
    r.batch = sh.batch;
    r.q_heads = sh.q_heads;
    r.kv_heads = sh.kv_heads;
    r.kv_len = sh.window;
    r.head_dim = sh.head_dim;
    r.dtype = "fp16";
    r.time_s = s;
    r.note = "kernels/cuda decode_attention, splits=" + std::to_string(plan.splits) + ", " + gbs(2.0 * bytes, s);
    rows.push_back(r);
    say(o, "gpu_attention " + std::to_string(sh.batch) + "x" + std::to_string(sh.window) + " q" + std::to_string(sh.q_heads) +
               "/kv" + std::to_string(sh.kv_heads) + " d" + std::to_string(sh.head_dim) + ": " + std::to_string(s * 1e6) + " us");
  }
}

void bench_merge(const Options& o, std::vector<Row>& rows) {
  const int q_heads = 32, head_dim = 128;
  const std::vector<int> batches = o.quick ? std::vector<int>{16} : std::vector<int>{1, 16, 128, 1024};
  Stream stream;
  Event e0, e1;
  for (int b : batches) {
    const std::size_t n_rows = static_cast<std::size_t>(b) * q_heads, n = n_rows * head_dim;
    DeviceBuffer a(n * 4), bb(n * 4), la(n_rows * 4), lb(n_rows * 4), out(n * 4), lse(n_rows * 4);
    cuda::fill_floats(a.as<float>(), 0.5f, n, stream.get());
    cuda::fill_floats(bb.as<float>(), 0.25f, n, stream.get());
    cuda::fill_floats(la.as<float>(), 1.0f, n_rows, stream.get());
    cuda::fill_floats(lb.as<float>(), 2.0f, n_rows, stream.get());
    const double s = median_seconds(3, o.quick ? 10 : 30, [&] {
      return event_seconds(stream, e0, e1, [&] {
        require(cuda::merge_attention(a.as<float>(), la.as<float>(), bb.as<float>(), lb.as<float>(), out.as<float>(),
                                      lse.as<float>(), n_rows, head_dim, stream.get()),
                "merge_attention");
      });
    });
    Row r;
    r.primitive = "gpu_merge";
    r.batch = b;
    r.q_heads = q_heads;
    r.head_dim = head_dim;
    r.time_s = s;
    r.note = "kernels/cuda merge_attention";
    rows.push_back(r);
    say(o, "gpu_merge " + std::to_string(n_rows) + " rows: " + std::to_string(s * 1e6) + " us");
  }
}

// ------------------------------------------------------------------ GEMM

// (m x k) . (k x n) in fp16 with fp32 accumulation, the weights [n x k] row-major as a model stores them.
void bench_gemm(const Options& o, const cuda::DeviceInfo& info, std::vector<Row>& rows) {
  struct Shape {
    std::int64_t k, n;
    const char* what;
  };
  // Llama-3.1-8B projections.
  const std::vector<Shape> shapes = o.quick ? std::vector<Shape>{{4096, 6144, "qkv"}}
                                            : std::vector<Shape>{{4096, 6144, "qkv"}, {4096, 4096, "o"}, {4096, 28672, "gate+up"}, {14336, 4096, "down"}};
  const std::vector<std::int64_t> ms = o.quick ? std::vector<std::int64_t>{1, 16} : std::vector<std::int64_t>{1, 4, 16, 64};
  cublasHandle_t h = nullptr;
  require_blas(cuda::cublas().create(&h), "cublasCreate");
  struct HandleGuard {
    cublasHandle_t h;
    ~HandleGuard() { cuda::cublas().destroy(h); }
  } guard{h};
  Stream stream;
  require_blas(cuda::cublas().set_stream(h, stream.get()), "cublasSetStream");
  Event e0, e1;
  for (const Shape& sh : shapes) {
    const std::size_t wbytes = static_cast<std::size_t>(sh.k * sh.n * 2);
    const int copies = rotation_copies(wbytes, info.l2_bytes);
    DeviceBuffer w(wbytes * copies), x(static_cast<std::size_t>(64 * sh.k * 2)), y(static_cast<std::size_t>(64 * sh.n * 2));
    require_cuda(fill_fp16(w.data(), wbytes * copies / 2, 3, stream.get()), "fill W");
    require_cuda(fill_fp16(x.data(), 64 * sh.k, 4, stream.get()), "fill X");
    for (std::int64_t m : ms) {
      const float alpha = 1.0f, beta = 0.0f;
      int copy = 0;
      const double s = median_seconds(3, o.quick ? 10 : 30, [&] {
        const void* wp = static_cast<const char*>(w.data()) + copy * wbytes;
        copy = (copy + 1) % copies;
        return event_seconds(stream, e0, e1, [&] {
          // Column-major: Y^T (n x m) = W (n x k, stored k-major) ^T-view . X^T (k x m).
          require_blas(cuda::cublas().gemm_ex(h, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(sh.n), static_cast<int>(m), static_cast<int>(sh.k),
                                    &alpha, wp, CUDA_R_16F, static_cast<int>(sh.k), x.data(), CUDA_R_16F, static_cast<int>(sh.k),
                                    &beta, y.data(), CUDA_R_16F, static_cast<int>(sh.n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                       "cublasGemmEx");
        });
      });
      Row r;
      r.primitive = "gpu_gemm";
      r.m = m;
      r.n = sh.n;
      r.k = sh.k;
      r.dtype = "fp16";
      r.time_s = s;
      r.note = std::string("cuBLAS GemmEx, Llama-3.1-8B ") + sh.what + ", " + gbs(static_cast<double>(wbytes), s);
      rows.push_back(r);
      say(o, "gpu_gemm m=" + std::to_string(m) + " " + sh.what + ": " + std::to_string(s * 1e6) + " us");
    }
  }
}

// ------------------------------------------------------------------ launches

void bench_launch(const Options& o, std::vector<Row>& rows) {
  const int count = o.quick ? 200 : 1000;
  Stream stream;
  auto launches = [&] {
    for (int i = 0; i < count; ++i) require_cuda(launch_empty_kernel(stream.get()), "empty kernel");
    stream.synchronize();
  };
  const double s = median_seconds(1, o.quick ? 3 : 7, [&] { return wall_seconds(launches); });
  Row r;
  r.primitive = "gpu_launch";
  r.count = count;
  r.time_s = s / count;
  r.note = "empty kernel, back to back, wall time / count";
  rows.push_back(r);
  say(o, "gpu_launch: " + std::to_string(r.time_s * 1e6) + " us per launch");
}

std::string version(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

}  // namespace

bool gpu_available(std::string* why) {
  std::string reason;
  if (cuda::device_count(&reason) > 0) return true;
  if (why) *why = reason.empty() ? "no CUDA device" : reason;
  return false;
}

std::vector<Row> run_gpu(const Options& options) {
  const cuda::DeviceInfo info = cuda::device_info(0);
  say(options, cuda::describe(info));
  std::vector<Row> rows;
  bench_pcie(options, rows);
  bench_launch(options, rows);
  bench_merge(options, rows);
  bench_attention(options, info, rows);
  bench_gemm(options, info, rows);
  return rows;
}

MachineInfo machine_info() {
  MachineInfo m;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0) {
      m.cpu = line.substr(line.find(':') + 2);
      break;
    }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) m.host = host;
  if (cuda::device_count() > 0) {
    const cuda::DeviceInfo info = cuda::device_info(0);
    m.gpu = info.name;
    m.driver = "CUDA " + version(info.driver_version);
    // The kernel module's own version (e.g. 580.159.04), when the driver exposes it.
    std::ifstream nv("/proc/driver/nvidia/version");
    std::string line;
    if (std::getline(nv, line)) {
      const auto k = line.find("Kernel Module");
      if (k != std::string::npos) {
        std::string rest = line.substr(k + 13);
        rest.erase(0, rest.find_first_not_of(" \t"));
        m.driver = rest.substr(0, rest.find_first_of(" \t")) + " (" + m.driver + ")";
      }
    }
    m.cuda_runtime = version(info.runtime_version);
  }
  return m;
}

}  // namespace hgca::kernels::microbench
