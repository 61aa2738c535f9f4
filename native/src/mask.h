// XOR masking (RFC 6455 section 5.3): dst[i] = src[i] ^ key[i % 4]. One loop per instruction set;
// src == dst (unmasking in place) is allowed, any other overlap is not (the caller moves first),
// and the key must not lie inside dst.
// Every load and store stays inside [0, n) of src and dst: the bytes before the first aligned
// block and after the last one go by smaller steps, so nothing past a buffer's end is read.
#ifndef SIMDWS_MASK_H
#define SIMDWS_MASK_H

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu.h"

#if SIMDWS_X86_SIMD
#include <immintrin.h>
#endif

namespace simdws {

using XorFn = void (*)(const std::uint8_t* src, std::uint8_t* dst, std::size_t n,
                       const std::uint8_t* key);

namespace detail {

// Below this many bytes, reaching an aligned dst costs more byte steps than split vector accesses
// cost: short runs go unaligned from their first byte.
constexpr std::size_t kAlignMinBytes = 256;

// Bytes to go before dst sits on a multiple of `align` (a power of two); 0 for short runs.
inline std::size_t aligned_lead(const std::uint8_t* dst, std::size_t n, std::size_t align) {
  if (n < kAlignMinBytes) return 0;
  return (align - (reinterpret_cast<std::uintptr_t>(dst) & (align - 1))) & (align - 1);
}

// The 4 key bytes that line up with payload bytes at, at + 1, at + 2, at + 3, as they lie in
// memory; repeated, they are the pattern for any block starting at a multiple of 4 past `at`.
inline std::uint32_t key_word(const std::uint8_t* key, std::size_t at) {
  const std::uint8_t rotated[4] = {key[at & 3], key[(at + 1) & 3], key[(at + 2) & 3], key[(at + 3) & 3]};
  std::uint32_t word;
  std::memcpy(&word, rotated, 4);
  return word;
}

// Bytes [at, at + n) of the payload, with src and dst already advanced to byte `at`: 64-bit words
// through memcpy (plain loads and stores, any alignment), then single bytes. Used for short runs,
// for the lead before an aligned dst, and for what the vector loops leave at the end.
inline void xor_short(const std::uint8_t* src, std::uint8_t* dst, std::size_t n, const std::uint8_t* key,
                      std::size_t at) {
  const std::uint32_t word = key_word(key, at);
  const std::uint64_t k = (static_cast<std::uint64_t>(word) << 32) | word;  // both halves equal: any endianness
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, src + i, 8);
    w ^= k;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < n; i++) dst[i] = static_cast<std::uint8_t>(src[i] ^ key[(at + i) & 3]);
}

}  // namespace detail

// The portable loop: 64-bit words, dst aligned to 8 for long runs.
inline void xor_words(const std::uint8_t* src, std::uint8_t* dst, std::size_t n, const std::uint8_t* key) {
  const std::size_t lead = detail::aligned_lead(dst, n, 8);
  detail::xor_short(src, dst, lead, key, 0);
  detail::xor_short(src + lead, dst + lead, n - lead, key, lead);
}

#if SIMDWS_X86_SIMD

// SSE2, the x86-64 baseline: four 16-byte blocks per iteration, dst aligned to 16 for long runs.
inline void xor_sse2(const std::uint8_t* src, std::uint8_t* dst, std::size_t n, const std::uint8_t* key) {
  std::size_t i = detail::aligned_lead(dst, n, 16);
  detail::xor_short(src, dst, i, key, 0);
  const __m128i k = _mm_set1_epi32(static_cast<int>(detail::key_word(key, i)));
  for (; i + 64 <= n; i += 64) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 32));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 48));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_xor_si128(a, k));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 16), _mm_xor_si128(b, k));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 32), _mm_xor_si128(c, k));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 48), _mm_xor_si128(d, k));
  }
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_xor_si128(a, k));
  }
  detail::xor_short(src + i, dst + i, n - i, key, i);
}

// AVX2: four 32-byte blocks per iteration, dst aligned to 32 for long runs. Compiled for AVX2
// whatever the build's -march, and only called when cpu_has_avx2() said so.
__attribute__((target("avx2"))) inline void xor_avx2(const std::uint8_t* src, std::uint8_t* dst, std::size_t n,
                                                     const std::uint8_t* key) {
  std::size_t i = detail::aligned_lead(dst, n, 32);
  detail::xor_short(src, dst, i, key, 0);
  const __m256i k = _mm256_set1_epi32(static_cast<int>(detail::key_word(key, i)));
  for (; i + 128 <= n; i += 128) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 32));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 64));
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 96));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(a, k));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 32), _mm256_xor_si256(b, k));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 64), _mm256_xor_si256(c, k));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 96), _mm256_xor_si256(d, k));
  }
  for (; i + 32 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(a, k));
  }
  if (i + 16 <= n) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_xor_si128(a, _mm256_castsi256_si128(k)));
    i += 16;
  }
  detail::xor_short(src + i, dst + i, n - i, key, i);
}

#endif  // SIMDWS_X86_SIMD

// The loop for an instruction set; the caller has checked isa_supported(isa).
inline XorFn xor_for(Isa isa) {
#if SIMDWS_X86_SIMD
  if (isa == Isa::kAvx2) return xor_avx2;
  if (isa == Isa::kSse2) return xor_sse2;
#else
  (void)isa;  // off x86-64 the word loop is the only one
#endif
  return xor_words;
}

}  // namespace simdws

#endif  // SIMDWS_MASK_H
