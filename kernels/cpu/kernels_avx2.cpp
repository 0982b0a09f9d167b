// AVX2 path (AVX2, FMA, F16C). Compiled with -mavx2 -mfma -mf16c on this file only; reached only after
// isa.cpp has confirmed the CPU and OS support it. See kernel_table.hpp for the rules this file follows.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/kernel_table.hpp"

namespace hgca::kernels::detail {
namespace {

struct V {
  using vec = __m256;
  static constexpr int W = 8;
  static vec zero() { return _mm256_setzero_ps(); }
  static vec set1(float x) { return _mm256_set1_ps(x); }
  static vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, vec v) { _mm256_storeu_ps(p, v); }
  static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
  static vec mul(vec a, vec b) { return _mm256_mul_ps(a, b); }
  static vec max(vec a, vec b) { return _mm256_max_ps(a, b); }
  static vec fmadd(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
  static float reduce_add(vec v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_max(vec v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // Four horizontal sums at once: [sum a0, sum a1, sum a2, sum a3] -> out[0..3].
  static void reduce_add4(const vec* a, float* out) {
    __m256 h[4];
    for (int k = 0; k < 4; ++k) h[k] = a[k];
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(h[0], h[1]), _mm256_hadd_ps(h[2], h[3]));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)));
  }
  static __m256i first(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static vec load_partial(const float* p, int n, float fill) {
    const __m256i m = first(n);
    return _mm256_blendv_ps(set1(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static void store_partial(float* p, vec v, int n) { _mm256_maskstore_ps(p, first(n), v); }

  // Same method as the AVX-512 exp; 2^k is built in the exponent field (k >= -126 after the clamp).
  static vec exp(vec x) {
    const vec tiny = _mm256_cmp_ps(x, set1(-87.33654f), _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, set1(-87.33654f)), set1(88.0f));
    const vec k = _mm256_round_ps(mul(x, set1(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vec r = _mm256_fnmadd_ps(k, set1(0.693359375f), x);
    r = _mm256_fnmadd_ps(k, set1(-2.12194440e-4f), r);
    vec p = set1(1.0f / 5040);
    p = fmadd(p, r, set1(1.0f / 720));
    p = fmadd(p, r, set1(1.0f / 120));
    p = fmadd(p, r, set1(1.0f / 24));
    p = fmadd(p, r, set1(1.0f / 6));
    p = fmadd(p, r, set1(0.5f));
    p = fmadd(p, r, set1(1.0f));
    p = fmadd(p, r, set1(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(tiny, mul(p, _mm256_castsi256_ps(bits)));
  }

  template <KvType T>
  static vec widen(__m128i raw) {
    if constexpr (T == KvType::f16) return _mm256_cvtph_ps(raw);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));  // bf16: the high half
  }
  template <KvType T>
  static vec load_kv(const std::byte* p) {
    if constexpr (T == KvType::f32) return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
    else return widen<T>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  // AVX2 has no 16-bit masked load: copy the n < 8 elements into a zeroed buffer so nothing past the row is
  // read.
  template <KvType T>
  static vec load_kv_partial(const std::byte* p, int n) {
    if constexpr (T == KvType::f32) {
      return _mm256_maskload_ps(reinterpret_cast<const float*>(p), first(n));
    } else {
      alignas(16) unsigned char buf[16] = {};
      __builtin_memcpy(buf, p, static_cast<std::size_t>(n) * 2);
      return widen<T>(_mm_load_si128(reinterpret_cast<const __m128i*>(buf)));
    }
  }
};

#include "kernels/cpu/simd_kernels_body.inc"

}  // namespace

const KernelTable* avx2_kernel_table() { return &kTable; }

}  // namespace hgca::kernels::detail
