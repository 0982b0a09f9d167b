// The CUDA runtime as the rest of the project sees it: plain C++ (no CUDA headers), so code outside
// kernels/cuda compiles with any C++ compiler. Device memory, pinned host memory, streams and events are
// RAII values; constructors throw CudaError (allocation failing is not a shape error), launchers elsewhere in
// kernels/cuda return a Status.
//
// GpuStream is CUDA's own cudaStream_t (a pointer to the opaque CUstream_st), declared here without the
// header; nullptr is the legacy default stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

struct CUstream_st;
struct CUevent_st;

namespace hgca::kernels::cuda {

using GpuStream = CUstream_st*;

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Number of usable CUDA devices; 0 when there is none or no driver. `why` (optional) receives the runtime's
// reason in that case, e.g. "CUDA driver version is insufficient" or "no CUDA-capable device is detected".
int device_count(std::string* why = nullptr);

struct DeviceInfo {
  std::string name;
  int sm_count = 0;
  int major = 0, minor = 0;
  std::size_t global_memory = 0;
  std::size_t l2_bytes = 0;
  int memory_clock_khz = 0;
  int memory_bus_bits = 0;
  int driver_version = 0, runtime_version = 0;
};
DeviceInfo device_info(int device = 0);  // throws CudaError
// One line for logs: name, SMs, compute capability, memory, driver.
std::string describe(const DeviceInfo& info);

// Throws CudaError naming `what` if the last asynchronous error or `code` is not success.
void check(int code, const char* what);
void synchronize_device();

// Where an owned CUDA allocation lives. Pinned (page-locked host) memory is the only kind the copy engines
// move asynchronously at full PCIe speed.
enum class MemoryKind { Device, Pinned };

// One owned allocation (cudaMalloc or cudaMallocHost), freed with its matching call; move-only.
template <MemoryKind Kind>
class CudaBuffer {
 public:
  CudaBuffer() = default;
  explicit CudaBuffer(std::size_t bytes);  // throws CudaError naming the allocator and size
  ~CudaBuffer();
  CudaBuffer(CudaBuffer&& o) noexcept;
  CudaBuffer& operator=(CudaBuffer&& o) noexcept;
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;

  void* data() const { return ptr_; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};
using DeviceBuffer = CudaBuffer<MemoryKind::Device>;
using PinnedBuffer = CudaBuffer<MemoryKind::Pinned>;

class Stream {
 public:
  Stream();  // non-blocking with respect to the legacy default stream
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  GpuStream get() const { return s_; }
  void synchronize() const;
  // Later work on this stream waits until `event` (recorded on any stream) has happened.
  void wait(const class Event& event) const;

 private:
  GpuStream s_ = nullptr;
};

class Event {
 public:
  Event();  // with timing
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  CUevent_st* get() const { return e_; }
  void record(GpuStream stream) const;
  void synchronize() const;
  // Milliseconds from `start` to this event; both recorded and completed.
  float since(const Event& start) const;

 private:
  CUevent_st* e_ = nullptr;
};

// Asynchronous copies on `stream` (pinned host memory for real asynchrony) and a memset; throw CudaError.
void copy_to_device(void* dst, const void* src, std::size_t bytes, GpuStream stream);
void copy_to_host(void* dst, const void* src, std::size_t bytes, GpuStream stream);
void copy_on_device(void* dst, const void* src, std::size_t bytes, GpuStream stream);
void fill_bytes(void* dst, int value, std::size_t bytes, GpuStream stream);
// Fills `count` floats with `value` (tests poison outputs with NaN this way).
void fill_floats(float* dst, float value, std::size_t count, GpuStream stream);

}  // namespace hgca::kernels::cuda
