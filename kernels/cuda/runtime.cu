#include "kernels/cuda/runtime.hpp"

#include <cuda_runtime.h>

#include <cstdio>
#include <utility>

#include "kernels/cuda/cuda_check.cuh"

namespace hgca::kernels::cuda {

using detail::cuda_message;

void check(int code, const char* what) {
  auto e = static_cast<cudaError_t>(code);
  if (e == cudaSuccess) e = cudaGetLastError();
  if (e != cudaSuccess) throw CudaError(cuda_message(e, what));
}

int device_count(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    if (why) *why = cudaGetErrorString(e);
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA-capable device is detected";
  return n;
}

DeviceInfo device_info(int device) {
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
  DeviceInfo info;
  info.name = p.name;
  info.sm_count = p.multiProcessorCount;
  info.major = p.major;
  info.minor = p.minor;
  info.global_memory = p.totalGlobalMem;
  info.l2_bytes = static_cast<std::size_t>(p.l2CacheSize);
  int v = 0;
  if (cudaDeviceGetAttribute(&v, cudaDevAttrMemoryClockRate, device) == cudaSuccess) info.memory_clock_khz = v;
  if (cudaDeviceGetAttribute(&v, cudaDevAttrGlobalMemoryBusWidth, device) == cudaSuccess) info.memory_bus_bits = v;
  cudaDriverGetVersion(&info.driver_version);
  cudaRuntimeGetVersion(&info.runtime_version);
  return info;
}

std::string describe(const DeviceInfo& info) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s, %d SMs, sm_%d%d, %.1f GiB, L2 %.0f MB, CUDA driver %d.%d, runtime %d.%d",
                info.name.c_str(), info.sm_count, info.major, info.minor,
                static_cast<double>(info.global_memory) / (1 << 30), static_cast<double>(info.l2_bytes) / 1e6,
                info.driver_version / 1000, (info.driver_version % 1000) / 10, info.runtime_version / 1000,
                (info.runtime_version % 1000) / 10);
  return buf;
}

void synchronize_device() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

namespace {
cudaError_t allocate(MemoryKind kind, void** ptr, std::size_t bytes) {
  return kind == MemoryKind::Device ? cudaMalloc(ptr, bytes) : cudaMallocHost(ptr, bytes);
}
void release(MemoryKind kind, void* ptr) {
  if (!ptr) return;
  if (kind == MemoryKind::Device)
    cudaFree(ptr);
  else
    cudaFreeHost(ptr);
}
}  // namespace

template <MemoryKind Kind>
CudaBuffer<Kind>::CudaBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  const cudaError_t e = allocate(Kind, &ptr_, bytes);
  if (e != cudaSuccess) {
    ptr_ = nullptr;
    const char* call = Kind == MemoryKind::Device ? "cudaMalloc(" : "cudaMallocHost(";
    throw CudaError(cuda_message(e, (call + std::to_string(bytes) + " bytes)").c_str()));
  }
}
template <MemoryKind Kind>
CudaBuffer<Kind>::~CudaBuffer() {
  release(Kind, ptr_);
}
template <MemoryKind Kind>
CudaBuffer<Kind>::CudaBuffer(CudaBuffer&& o) noexcept
    : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
template <MemoryKind Kind>
CudaBuffer<Kind>& CudaBuffer<Kind>::operator=(CudaBuffer&& o) noexcept {
  if (this != &o) {
    release(Kind, ptr_);
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}
template class CudaBuffer<MemoryKind::Device>;
template class CudaBuffer<MemoryKind::Pinned>;

Stream::Stream() { check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreate"); }
Stream::~Stream() {
  if (s_) cudaStreamDestroy(s_);
}
void Stream::synchronize() const { check(cudaStreamSynchronize(s_), "cudaStreamSynchronize"); }
void Stream::wait(const Event& event) const {
  check(cudaStreamWaitEvent(s_, event.get(), 0), "cudaStreamWaitEvent");
}

Event::Event() { check(cudaEventCreate(&e_), "cudaEventCreate"); }
Event::~Event() {
  if (e_) cudaEventDestroy(e_);
}
void Event::record(GpuStream stream) const { check(cudaEventRecord(e_, stream), "cudaEventRecord"); }
void Event::synchronize() const { check(cudaEventSynchronize(e_), "cudaEventSynchronize"); }
float Event::since(const Event& start) const {
  float ms = 0;
  check(cudaEventElapsedTime(&ms, start.e_, e_), "cudaEventElapsedTime");
  return ms;
}

void copy_to_device(void* dst, const void* src, std::size_t bytes, GpuStream stream) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync(host to device)");
}
void copy_to_host(void* dst, const void* src, std::size_t bytes, GpuStream stream) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync(device to host)");
}
void copy_on_device(void* dst, const void* src, std::size_t bytes, GpuStream stream) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync(device to device)");
}
void fill_bytes(void* dst, int value, std::size_t bytes, GpuStream stream) {
  check(cudaMemsetAsync(dst, value, bytes, stream), "cudaMemsetAsync");
}

namespace {
__global__ void fill_floats_kernel(float* dst, float value, std::size_t count) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    dst[i] = value;
}
}  // namespace

void fill_floats(float* dst, float value, std::size_t count, GpuStream stream) {
  if (count == 0) return;
  const unsigned blocks = static_cast<unsigned>(count / 256 + 1 < 4096 ? count / 256 + 1 : 4096);
  fill_floats_kernel<<<blocks, 256, 0, stream>>>(dst, value, count);
  check(cudaGetLastError(), "fill_floats");
}

}  // namespace hgca::kernels::cuda
