// cuBLAS, loaded when first used (dlopen), not linked: only the calibration microbenchmarks and the decode-step
// runner need it, and a linked libcublas/libcublasLt is mapped at every start of `hgca` (about 200 MB of RSS for
// `hgca --help`). Include <cublas_v2.h> for its types only; call through cublas() instead of the functions.
#pragma once

#include <cublas_v2.h>

namespace hgca::kernels::cuda {

struct CublasApi {
  cublasStatus_t (*create)(cublasHandle_t*);
  cublasStatus_t (*destroy)(cublasHandle_t);
  cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t);
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
                            const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*,
                            cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
  const char* (*status_string)(cublasStatus_t);
};

// Loads libcublas.so.<CUDA major> (then libcublas.so) on the first call, thread-safely, and returns its entry
// points; throws CudaError naming the library or symbol that could not be found.
const CublasApi& cublas();

}  // namespace hgca::kernels::cuda
