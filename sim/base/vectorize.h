/* vectorize.h -- how imcsim asks GCC for vector code in its few hot numeric loops.
 *
 * VECTORIZE: GCC vectorises loops only from -O3 on, and the build is -O2; the attribute raises
 * one function. WIDEST: the same, compiled once per vector unit (AVX-512, AVX2, baseline) and
 * chosen when the program starts (GCC's target_clones, on x86-64), for loops whose width pays.
 * Neither changes a result: without -ffast-math GCC vectorises no floating-point reduction it
 * would have to reassociate, and under -std=c11 it contracts nothing into an FMA. Other
 * compilers get plain functions. */
#ifndef IMC_VECTORIZE_H
#define IMC_VECTORIZE_H

#if defined(__GNUC__) && !defined(__clang__)
#define VECTORIZE __attribute__((optimize("O3")))
#else
#define VECTORIZE
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define WIDEST __attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
#else
#define WIDEST VECTORIZE
#endif

#endif
