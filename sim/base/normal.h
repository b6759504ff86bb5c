/* normal.h -- many standard normal deviates, fast: for noise drawn per column and per read
 * (billions per DeiT-S image), where GSL's gsl_ran_gaussian (polar Box-Muller over a generator
 * called through a pointer, one deviate per call) costs more than the arithmetic it perturbs.
 *
 * xoshiro256++ (Blackman and Vigna, 2019) seeded through splitmix64, and Marsaglia and Tsang's
 * ziggurat (J. Stat. Softw. 5(8), 2000) with 128 layers as Doornik (2005) corrects it: the
 * layer index and the uniform come from disjoint bits of one 64-bit draw. Exact in
 * distribution: the deviates are N(0, 1) up to the 53-bit resolution of the uniforms (the
 * ziggurat samples the density exactly, tail included, by rejection). The stream is fixed by
 * the seed alone, so results are reproducible whatever the thread count. */
#ifndef IMC_NORMAL_H
#define IMC_NORMAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct imc_normal_rng {
    uint64_t s[4];
} imc_normal_rng;

void imc_normal_seed(imc_normal_rng *r, uint64_t seed);

/* N standard normal deviates into OUT. */
void imc_normal_fill(imc_normal_rng *r, double *out, size_t n);

/* One standard normal deviate. */
double imc_normal(imc_normal_rng *r);

#endif
