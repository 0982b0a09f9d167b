#include "kernels/cuda/cublas_loader.hpp"

#include <dlfcn.h>

#include <string>
#include <type_traits>

#include "kernels/cuda/runtime.hpp"

namespace hgca::kernels::cuda {

namespace {

template <class F>
void bind(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (!fn) throw CudaError(std::string("cuBLAS: symbol ") + name + " not found in the loaded libcublas");
}

CublasApi load() {
  const std::string versioned = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  void* lib = dlopen(versioned.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) lib = dlopen("libcublas.so", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    throw CudaError("cuBLAS: cannot load " + versioned + " (" + dlerror() +
                    "); put the CUDA libraries on LD_LIBRARY_PATH, e.g. /usr/local/cuda/lib64");
  CublasApi api{};
  // The pointers have exactly the declared types of the functions (decltype does not need them linked).
  static_assert(std::is_same_v<decltype(api.create), decltype(&cublasCreate_v2)>);
  static_assert(std::is_same_v<decltype(api.destroy), decltype(&cublasDestroy_v2)>);
  static_assert(std::is_same_v<decltype(api.set_stream), decltype(&cublasSetStream_v2)>);
  // cublasGemmEx is overloaded in C++: the cast picks the overload of our type or fails to compile (unevaluated).
  static_assert(sizeof(static_cast<decltype(api.gemm_ex)>(&cublasGemmEx)) > 0);
  bind(lib, "cublasCreate_v2", api.create);
  bind(lib, "cublasDestroy_v2", api.destroy);
  bind(lib, "cublasSetStream_v2", api.set_stream);
  bind(lib, "cublasGemmEx", api.gemm_ex);
  bind(lib, "cublasGetStatusString", api.status_string);
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const CublasApi& cublas() {
  static const CublasApi api = load();
  return api;
}

}  // namespace hgca::kernels::cuda
