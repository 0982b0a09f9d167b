// AVX-512 path (F, BW, VL, plus F16C). Compiled with -mavx512f -mavx512bw -mavx512vl -mf16c -mfma on this
// file only; reached only after isa.cpp has confirmed the CPU and OS support it. See kernel_table.hpp for
// the rules this file follows (no shared inline code, everything in an anonymous namespace).
// GCC 12's AVX-512 headers build their "undefined" vectors by self-initialization, which trips
// -Wmaybe-uninitialized wherever the intrinsics inline (GCC bug 105593, fixed in later releases). The
// warning is about the header, not this code, so it is silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/kernel_table.hpp"

namespace hgca::kernels::detail {
namespace {

struct V {
  using vec = __m512;
  static constexpr int W = 16;
  static vec zero() { return _mm512_setzero_ps(); }
  static vec set1(float x) { return _mm512_set1_ps(x); }
  static vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, vec v) { _mm512_storeu_ps(p, v); }
  static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
  static vec mul(vec a, vec b) { return _mm512_mul_ps(a, b); }
  static vec max(vec a, vec b) { return _mm512_max_ps(a, b); }
  static vec fmadd(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
  static float reduce_add(vec v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(vec v) { return _mm512_reduce_max_ps(v); }
  // Four horizontal sums at once: [sum a0, sum a1, sum a2, sum a3] -> out[0..3].
  static void reduce_add4(const vec* a, float* out) {
    __m256 h[4];
    for (int k = 0; k < 4; ++k) h[k] = _mm256_add_ps(_mm512_castps512_ps256(a[k]),
                                   _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[k]), 1)));
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(h[0], h[1]), _mm256_hadd_ps(h[2], h[3]));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)));
  }
  static __mmask16 first(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static vec load_partial(const float* p, int n, float fill) { return _mm512_mask_loadu_ps(set1(fill), first(n), p); }
  static void store_partial(float* p, vec v, int n) { _mm512_mask_storeu_ps(p, first(n), v); }

  // exp(x) = 2^k * e^r with k = round(x / ln2) and |r| <= ln2/2; e^r by its Taylor polynomial of degree 7
  // (truncation below 1e-8 relative); scalef applies 2^k. Inputs below ln(2^-126) flush to exactly 0, which
  // covers -inf (a masked-out score) without producing NaN.
  static vec exp(vec x) {
    const __mmask16 tiny = _mm512_cmp_ps_mask(x, set1(-87.33654f), _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, set1(-87.33654f)), set1(88.0f));
    const vec k = _mm512_roundscale_ps(mul(x, set1(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vec r = _mm512_fnmadd_ps(k, set1(0.693359375f), x);  // ln2 split in two so that k * hi is exact
    r = _mm512_fnmadd_ps(k, set1(-2.12194440e-4f), r);
    vec p = set1(1.0f / 5040);
    p = fmadd(p, r, set1(1.0f / 720));
    p = fmadd(p, r, set1(1.0f / 120));
    p = fmadd(p, r, set1(1.0f / 24));
    p = fmadd(p, r, set1(1.0f / 6));
    p = fmadd(p, r, set1(0.5f));
    p = fmadd(p, r, set1(1.0f));
    p = fmadd(p, r, set1(1.0f));
    return _mm512_maskz_mov_ps(static_cast<__mmask16>(~tiny), _mm512_scalef_ps(p, k));
  }

  template <KvType T>
  static vec widen(__m256i raw) {
    if constexpr (T == KvType::f16) return _mm512_cvtph_ps(raw);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));  // bf16: the high half
  }
  template <KvType T>
  static vec load_kv(const std::byte* p) {
    if constexpr (T == KvType::f32) return _mm512_loadu_ps(p);
    else return widen<T>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  // Masked loads do not touch (or fault on) the lanes past n.
  template <KvType T>
  static vec load_kv_partial(const std::byte* p, int n) {
    if constexpr (T == KvType::f32) return _mm512_maskz_loadu_ps(first(n), p);
    else return widen<T>(_mm256_maskz_loadu_epi16(first(n), p));
  }
};

#include "kernels/cpu/simd_kernels_body.inc"

}  // namespace

const KernelTable* avx512_kernel_table() { return &kTable; }

}  // namespace hgca::kernels::detail
