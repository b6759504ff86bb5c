/* normal.h -- many standard normal deviates, fast: for noise drawn per column and per read
 * (billions per DeiT-S image) and for programming every cell (174 million each time a DeiT-S is
 * programmed), where GSL's gsl_ran_gaussian (polar Box-Muller over a generator called through a
 * pointer, one deviate per call) costs more than the arithmetic it perturbs.
 *
 * xoshiro256++ (Blackman and Vigna, 2019) seeded through splitmix64: one stream for scalar
 * draws (uniforms, for faults), and eight side by side (the lanes) through Box and Muller's
 * transform in vector code for the deviates. A stream is fixed by its seed alone, so results
 * are reproducible whatever the thread count. */
#ifndef IMC_NORMAL_H
#define IMC_NORMAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct imc_normal_rng {
    uint64_t s[4];
} imc_normal_rng;

void imc_normal_seed(imc_normal_rng *r, uint64_t seed);

static inline uint64_t imc_normal_next_(imc_normal_rng *r)
{
    uint64_t *s = r->s, x = s[0] + s[3], t = s[1] << 17;
    uint64_t out = ((x << 23) | (x >> 41)) + s[0];
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}

/* One uniform deviate on [0, 1), from the top 53 bits of one draw. */
static inline double imc_normal_uniform(imc_normal_rng *r)
{
    return (double)(imc_normal_next_(r) >> 11) * 0x1p-53;
}

/* Many deviates at once, for the noise of a crossbar's reads and the programming of its cells
 * (a stream seeded by a draw of the row's imc_normal_rng): IMC_NORMAL_LANES xoshiro256++
 * streams side by side, each 64-bit draw giving two 32-bit ones, through Box and Muller's
 * transform in float (AVX-512 code where the CPU has it, else portable code with the same
 * arithmetic). The lanes' states are the first 32 draws of the seed's splitmix64 stream (as
 * Blackman and Vigna advise), drawn by the first call that draws deviates (in vector code
 * where the CPU has it): a stream costs about 10 ns to seed, so every input vector's reads of
 * every crossbar have their own. N(0, 1) in distribution up to float resolution (normal.c says
 * how); the deviates are a function of the seed alone, the same on any CPU. */
#define IMC_NORMAL_LANES 8

typedef struct imc_normal_lanes {
    uint64_t s[4][IMC_NORMAL_LANES]; /* the lanes' states, once seeded */
    uint64_t seed;
    int seeded; /* 0 until the first draw sets s from seed */
} imc_normal_lanes;

void imc_normal_lanes_seed(imc_normal_lanes *r, uint64_t seed);

/* Seed lanes L from one draw of R: their deviates are then fixed by R's seed. */
static inline void imc_normal_lanes_from(imc_normal_lanes *l, imc_normal_rng *r)
{
    imc_normal_lanes_seed(l, imc_normal_next_(r));
}

/* V[k] *= 1 + SIGMA x n_k in float for k < N, each n_k a fresh N(0, 1) deviate. */
void imc_normal_lanes_scale(imc_normal_lanes *r, float *v, size_t n, double sigma);

/* Z[k] = n_k for k < N: the deviates imc_normal_lanes_scale would draw (about 0.7 ns each where
 * the CPU has AVX-512). A call's count past a multiple of 32 drops the rest of its last step. */
void imc_normal_lanes_fill(imc_normal_lanes *r, float *z, size_t n);

/* For tests: the lanes' two deviates from the 32-bit draws D1 (radius) and D2 (angle). */
void imc_normal_box_muller(uint32_t d1, uint32_t d2, float *z0, float *z1);

/* For tests: ON = 1 makes the lanes use their portable code, 0 the CPU's fastest; returns whether
 * the CPU has faster code than the portable one (else both are the same). Not thread-safe. */
int imc_normal_lanes_portable(int on);

#endif
