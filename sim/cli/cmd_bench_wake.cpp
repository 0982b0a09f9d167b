// hgca bench wake: what the end of a hybrid step costs after the GPU has waited a given time for the CPU.
//
// The hybrid runner's step ends with a tail: the CPU part's H2D copy, a stream wait and the LSE merge
// kernel, then an event synchronisation. Validation found the time outside the measured phases growing with
// the length of the CPU phase before it. This probe separates the candidate causes: after `tau` of
//   idle      the calling thread alone spinning (GPU and link idle, CPU cores idle), or
//   cpu-load  every worker of a pool streaming a large buffer, as the CPU phase does,
// it times the same tail on the host clock. A cost that grows with tau in both modes points at the GPU or
// the link waking up; one that grows only under load points at the host (memory traffic, its threads).
// Needs a CUDA build and a GPU.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "sim/cli/common.hpp"
#include "sim/engine/parallel_for.hpp"

#ifdef HGCA_HAVE_HYBRID
#include "kernels/cpu/thread_pool.hpp"
#include "kernels/cuda/merge.hpp"
#include "kernels/cuda/runtime.hpp"
#endif

namespace hgca::cli {

namespace {

#ifdef HGCA_HAVE_HYBRID
using namespace hgca::kernels;
using Clock = std::chrono::steady_clock;

double percentile_of(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5)];
}

int run_wake(int reps, int threads, int rows, int head_dim) {
  const std::size_t part_bytes = static_cast<std::size_t>(rows) * (head_dim + 1) * 4;
  cuda::DeviceBuffer out_w(static_cast<std::size_t>(rows) * head_dim * 4), lse_w(static_cast<std::size_t>(rows) * 4),
      part(part_bytes), out(static_cast<std::size_t>(rows) * head_dim * 4), lse(static_cast<std::size_t>(rows) * 4);
  cuda::PinnedBuffer h_part(part_bytes);
  std::fill_n(h_part.as<float>(), part_bytes / 4, 0.0f);
  for (auto* b : {&out_w, &out}) cuda::fill_floats(b->as<float>(), 0.0f, b->bytes() / 4, nullptr);
  for (auto* b : {&lse_w, &lse}) cuda::fill_floats(b->as<float>(), 0.0f, b->bytes() / 4, nullptr);
  cuda::synchronize_device();
  cuda::Stream main, copy;
  cuda::Event h2d_end, merge_end;
  // The runner's tail, as kernels/hybrid HybridStep::run issues it.
  auto tail = [&] {
    cuda::copy_to_device(part.data(), h_part.data(), part_bytes, copy.get());
    h2d_end.record(copy.get());
    main.wait(h2d_end);
    const float* c = part.as<float>();
    const Status st = cuda::merge_attention(out_w.as<float>(), lse_w.as<float>(), c, c + static_cast<std::size_t>(rows) * head_dim,
                                            out.as<float>(), lse.as<float>(), static_cast<std::size_t>(rows), head_dim, main.get());
    if (!st.ok()) throw cuda::CudaError(st.message);
    merge_end.record(main.get());
    merge_end.synchronize();
  };
  ThreadPool pool(threads, kDefaultWorkerSpin);
  const std::size_t words = std::size_t{1} << 27;  // 1 GiB: beyond any last-level cache
  std::vector<std::uint64_t> buf(words, 1);
  std::atomic<std::uint64_t> sink{0};
  auto load_for = [&](std::chrono::microseconds tau) {
    const auto end = Clock::now() + tau;
    pool.parallel_for(threads, Partition::static_round_robin, [&](std::int64_t t, int) {
      const std::size_t lo = words * static_cast<std::size_t>(t) / threads, hi = words * static_cast<std::size_t>(t + 1) / threads;
      std::uint64_t s = 0;
      for (std::size_t i = lo; Clock::now() < end; i = i + 512 < hi ? i + 512 : lo)
        for (std::size_t j = i; j < i + 512 && j < hi; ++j) s += buf[j];
      sink += s;
    });
  };
  auto idle_for = [](std::chrono::microseconds tau) {
    const auto end = Clock::now() + tau;
    while (Clock::now() < end) {
    }
  };
  std::printf("%-9s %8s %10s %10s %10s\n", "mode", "tau_us", "median_us", "p10_us", "p90_us");
  for (const char* mode : {"idle", "cpu-load"}) {
    for (const int tau_us : {0, 30, 100, 300, 1000, 3000, 10000}) {
      std::vector<double> us;
      for (int r = 0; r < reps + 3; ++r) {
        tail();  // the GPU and the link have just worked, as at the end of the runner's window phase
        const std::chrono::microseconds tau(tau_us);
        if (std::string(mode) == "idle") idle_for(tau);
        else load_for(tau);
        const auto t0 = Clock::now();
        tail();
        if (r >= 3) us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      std::printf("%-9s %8d %10.1f %10.1f %10.1f\n", mode, tau_us, percentile_of(us, 50), percentile_of(us, 10),
                  percentile_of(us, 90));
      std::fflush(stdout);
    }
  }
  std::fprintf(stderr, "(load checksum %llu)\n", static_cast<unsigned long long>(sink.load()));  // keeps the loads alive
  return 0;
}
#endif

}  // namespace

int cmd_bench_wake(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts("hgca bench wake [--reps N] [--threads N] [--rows N] [--head-dim N]");
  int reps = 40, threads = 0, rows = 512, head_dim = 128;
  opts.add_options()("help,h", "this help")("reps", po::value(&reps)->default_value(40), "timed tails per point")(
      "threads", po::value(&threads)->default_value(0), "CPU threads of the load, caller included (0: all cores)")(
      "rows", po::value(&rows)->default_value(512), "(sequence, query head) rows of the CPU part (batch x query heads)")(
      "head-dim", po::value(&head_dim)->default_value(128), "head dimension");
  po::options_description hidden;
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "bench wake")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (reps < 1 || threads < 0 || rows < 1 || head_dim < 1) {
    std::cerr << "hgca bench wake: --reps, --rows and --head-dim must be >= 1 and --threads >= 0\n";
    return 2;
  }
#ifdef HGCA_HAVE_HYBRID
  std::string why;
  if (cuda::device_count(&why) == 0) {
    std::cerr << "hgca bench wake: no CUDA device (" << why << ")\n";
    return 1;
  }
  threads = resolve_jobs(threads);  // 0: every hardware thread
  try {
    return run_wake(reps, threads, rows, head_dim);
  } catch (const std::exception& e) {
    std::cerr << "hgca bench wake: " << e.what() << "\n";
    return 1;
  }
#else
  std::cerr << "hgca bench wake: this hgca was built without CUDA (HGCA_CUDA=OFF or no nvcc found)\n";
  return 1;
#endif
}

HGCA_COMMAND("bench wake", "[--reps N] [--threads N]\n"
                           "                              the hybrid step's tail (H2D, merge, sync) after the GPU waited tau for the CPU",
             cmd_bench_wake);

}  // namespace hgca::cli
