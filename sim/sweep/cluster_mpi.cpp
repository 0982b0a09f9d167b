// join_cluster() of a build with MPI, and the protocol between rank 0 and the others:
//   rank k -> 0, tag kRequest: [u8 has_outcome][u64 point][u8 ok][encode_run() bytes, or the error text]
//                              (the outcome of the point it simulated last, if any) asking for the next point
//   0 -> rank k, tag kAssign:  int64 point index, or -1 when there is nothing left
//   rank k -> 0, tag kFinished: empty, once all of rank k's threads have been told -1
// Rank 0 simulates with its own threads too; its main thread only answers requests.
#include <mpi.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

#include "sim/results/run_codec.hpp"
#include "sim/sweep/cluster.hpp"

namespace hgca {
namespace {

enum Tag : int { kRequest = 1, kAssign = 2, kFinished = 3 };
constexpr int64_t kStop = -1;

// Sleeps between polls: MPI implementations busy-poll inside blocking calls, which on a machine with as many
// ranks as cores would take the cores the simulation itself needs.
class Backoff {
 public:
  void pause() {
    std::this_thread::sleep_for(wait_);
    wait_ = std::min(wait_ * 2, std::chrono::microseconds(1000));
  }
  void reset() { wait_ = std::chrono::microseconds(20); }

 private:
  std::chrono::microseconds wait_{20};
};

void wait_for(MPI_Request& request) {
  Backoff backoff;
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    backoff.pause();
  }
}

std::string encode_request(size_t index, const PointOutcome* outcome) {
  std::string m(10, '\0');
  m[0] = outcome ? 1 : 0;
  const uint64_t i = index;
  std::memcpy(m.data() + 1, &i, 8);
  m[9] = outcome && outcome->ok() ? 1 : 0;
  if (outcome) m += outcome->ok() ? encode_run(outcome->result) : outcome->error;
  return m;
}

[[noreturn]] void abort_job(const std::string& problem) {
  std::cerr << "hgca: MPI: " << problem << "\n" << std::flush;
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

class MpiCluster final : public Cluster {
 public:
  MpiCluster() {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
      throw ClusterError("MPI_Init_thread failed");
    }
    threads_allowed_ = provided >= MPI_THREAD_SERIALIZED;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCluster() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override { return std::to_string(size_) + " MPI ranks"; }

  bool all_ok(bool mine) override {
    int v = mine ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    return v != 0;
  }

  uint64_t broadcast(uint64_t value) override {
    MPI_Bcast(&value, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    return value;
  }

  void run(WorkQueue& queue, int threads, const PointFn& simulate_point, const DoneFn& done) override {
    if (size_ == 1) return run_locally(queue, threads, simulate_point, done);
    if (rank_ == 0) coordinate(queue, threads, simulate_point, done);
    else serve(threads_allowed_ ? threads : 1, simulate_point);
  }

 private:
  void coordinate(WorkQueue& queue, int threads, const PointFn& simulate_point, const DoneFn& done) {
    BackgroundWorkers local(queue, std::max(1, threads), simulate_point, done);
    Backoff backoff;
    for (int finished = 0; finished < size_ - 1;) {
      int flag = 0;
      MPI_Status status;
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status);
      if (!flag) {
        backoff.pause();
        continue;
      }
      backoff.reset();
      const int source = status.MPI_SOURCE;
      if (status.MPI_TAG == kFinished) {
        MPI_Recv(nullptr, 0, MPI_BYTE, source, kFinished, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        ++finished;
        continue;
      }
      if (status.MPI_TAG != kRequest) abort_job("unexpected message tag " + std::to_string(status.MPI_TAG));
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      std::string message(static_cast<size_t>(count), '\0');
      MPI_Recv(message.data(), count, MPI_BYTE, source, kRequest, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (message.size() < 10) abort_job("short request from rank " + std::to_string(source));
      if (message[0]) {
        uint64_t index;
        std::memcpy(&index, message.data() + 1, 8);
        PointOutcome outcome;
        const std::string_view body(message.data() + 10, message.size() - 10);
        if (message[9]) {
          try {
            outcome.result = decode_run(body);
          } catch (const std::exception& e) {
            abort_job("result from rank " + std::to_string(source) + ": " + e.what());
          }
        } else {
          outcome.error = std::string(body);
        }
        done(static_cast<size_t>(index), std::move(outcome));
      }
      const auto next = queue.take();
      const int64_t assigned = next ? static_cast<int64_t>(*next) : kStop;
      MPI_Send(&assigned, 1, MPI_INT64_T, source, kAssign, MPI_COMM_WORLD);
    }
  }

  void serve(int threads, const PointFn& simulate_point) {
    std::mutex mpi;  // MPI_THREAD_SERIALIZED: one thread in MPI at a time, for a whole request/answer
    const auto ask = [&](const std::string& request) -> std::optional<size_t> {
      std::lock_guard lock(mpi);
      MPI_Request r;
      MPI_Isend(request.data(), static_cast<int>(request.size()), MPI_BYTE, 0, kRequest, MPI_COMM_WORLD, &r);
      wait_for(r);
      int64_t assigned = kStop;
      MPI_Irecv(&assigned, 1, MPI_INT64_T, 0, kAssign, MPI_COMM_WORLD, &r);
      wait_for(r);
      if (assigned < 0) return std::nullopt;
      return static_cast<size_t>(assigned);
    };
    const auto work = [&] {
      std::string request = encode_request(0, nullptr);
      while (const auto index = ask(request)) {
        const PointOutcome outcome = simulate_point(*index);
        request = encode_request(*index, &outcome);
      }
    };
    std::vector<std::thread> others;
    for (int t = 1; t < threads; ++t) others.emplace_back(work);
    work();
    for (auto& t : others) t.join();
    MPI_Send(nullptr, 0, MPI_BYTE, 0, kFinished, MPI_COMM_WORLD);
  }

  int rank_ = 0, size_ = 1;
  bool threads_allowed_ = false;
};

}  // namespace

bool built_with_mpi() { return true; }

std::unique_ptr<Cluster> join_cluster() {
  const LaunchInfo launch = launch_info_from_environment();
  if (launch.size <= 1) return std::make_unique<Cluster>();  // not launched as several ranks: no MPI at all
  auto cluster = std::make_unique<MpiCluster>();
  if (cluster->size() != launch.size) {
    throw ClusterError("the launcher started " + std::to_string(launch.size) + " ranks (" + launch.variable +
                       ") but MPI sees " + std::to_string(cluster->size()) +
                       ": is hgca linked with the MPI whose mpirun/srun started it?");
  }
  return cluster;
}

}  // namespace hgca
