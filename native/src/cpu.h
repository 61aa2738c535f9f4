// Which instruction set the masking loop uses: AVX2 when the CPU and OS support it, SSE2 (part of
// x86-64 itself) otherwise, and a portable 64-bit word loop everywhere else. Detected once.
#ifndef SIMDWS_CPU_H
#define SIMDWS_CPU_H

// Per-function target attributes and __builtin_cpu_supports are GCC/Clang features; other x86-64
// compilers (MSVC) get the word loop rather than a build failure.
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define SIMDWS_X86_SIMD 1
#else
#define SIMDWS_X86_SIMD 0
#endif

namespace simdws {

enum class Isa { kWords, kSse2, kAvx2 };

inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx2:
      return "avx2";
    case Isa::kSse2:
      return "sse2";
    case Isa::kWords:
      break;
  }
  return "words";
}

inline bool cpu_has_avx2() {
#if SIMDWS_X86_SIMD
  // libgcc's check also requires the OS to save YMM state (XGETBV), not only the CPUID bit.
  // __builtin_cpu_init makes the check safe even if it first runs before libgcc's constructor.
  static const bool has_avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2") != 0);
  return has_avx2;
#else
  return false;
#endif
}

inline bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::kAvx2:
      return cpu_has_avx2();
    case Isa::kSse2:
      return SIMDWS_X86_SIMD != 0;
    case Isa::kWords:
      break;
  }
  return true;
}

inline Isa best_isa() {
  if (isa_supported(Isa::kAvx2)) return Isa::kAvx2;
  if (isa_supported(Isa::kSse2)) return Isa::kSse2;
  return Isa::kWords;
}

}  // namespace simdws

#endif  // SIMDWS_CPU_H
