/* normal.h -- many standard normal deviates, fast: for noise drawn per column and per read
 * (billions per DeiT-S image), where GSL's gsl_ran_gaussian (polar Box-Muller over a generator
 * called through a pointer, one deviate per call) costs more than the arithmetic it perturbs.
 *
 * xoshiro256++ (Blackman and Vigna, 2019) seeded through splitmix64. One deviate at a time
 * (imc_normal, for programming each cell): Marsaglia and Tsang's ziggurat (J. Stat. Softw. 5(8),
 * 2000) with 128 layers as Doornik (2005) corrects it, the layer index and the uniform from
 * disjoint bits of one 64-bit draw; exact in distribution, N(0, 1) up to the 53-bit resolution
 * of the uniforms (the ziggurat samples the density exactly, tail included, by rejection). Many
 * at once (the lanes, for read noise): Box and Muller's transform in vector code. A stream is
 * fixed by its seed alone, so results are reproducible whatever the thread count. */
#ifndef IMC_NORMAL_H
#define IMC_NORMAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct imc_normal_rng {
    uint64_t s[4];
} imc_normal_rng;

void imc_normal_seed(imc_normal_rng *r, uint64_t seed);

/* The ziggurat's tables (normal.c) and its rare path: a draw outside the layer's rectangle. */
extern double imc_normal_zig_x_[129], imc_normal_zig_r_[128];
double imc_normal_slow_(imc_normal_rng *r, uint64_t b);

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

/* One standard normal deviate: inline, for the 98.8 % of draws inside a layer's rectangle. */
static inline double imc_normal(imc_normal_rng *r)
{
    uint64_t b = imc_normal_next_(r);
    /* u uniform on (-1, 1) from the top 53 bits, the layer from the low 7 */
    double u = ((double)(b >> 11) + 0.5) * 0x1p-52 - 1;
    unsigned i = (unsigned)(b & 127);
    double au = u < 0 ? -u : u;
    if (__builtin_expect(au < imc_normal_zig_r_[i], 1))
        return u * imc_normal_zig_x_[i];
    return imc_normal_slow_(r, b);
}

/* Many deviates at once, for the noise of a crossbar's reads: IMC_NORMAL_LANES xoshiro256++
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

/* V[k] *= 1 + SIGMA x n_k in float for k < N, each n_k a fresh N(0, 1) deviate. */
void imc_normal_lanes_scale(imc_normal_lanes *r, float *v, size_t n, double sigma);

/* For tests: the lanes' two deviates from the 32-bit draws D1 (radius) and D2 (angle). */
void imc_normal_box_muller(uint32_t d1, uint32_t d2, float *z0, float *z1);

/* For tests: ON = 1 makes the lanes use their portable code, 0 the CPU's fastest; returns whether
 * the CPU has faster code than the portable one (else both are the same). Not thread-safe. */
int imc_normal_lanes_portable(int on);

#endif
