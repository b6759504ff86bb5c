/* normal.c -- xoshiro256++ and the ziggurat (see normal.h). */
#include "sim/base/normal.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#define ZIG_C 128
#define ZIG_R 3.442619855899           /* start of the tail */
#define ZIG_V 9.91256303526217e-3      /* area of every layer */

#define zig_x imc_normal_zig_x_
#define zig_r imc_normal_zig_r_
double zig_x[ZIG_C + 1], zig_r[ZIG_C];
static double zig_f[ZIG_C + 1]; /* the density exp(-x^2 / 2) at each layer's edge */
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

/* Layer i spans |x| < zig_x[i]; layer 0 is the base strip with the tail (Doornik's ZIGNOR). */
static void zig_init(void)
{
    double f = exp(-0.5 * ZIG_R * ZIG_R);
    zig_x[0] = ZIG_V / f;
    zig_x[1] = ZIG_R;
    zig_x[ZIG_C] = 0;
    for (int i = 2; i < ZIG_C; i++) {
        zig_x[i] = sqrt(-2 * log(ZIG_V / zig_x[i - 1] + f));
        f = exp(-0.5 * zig_x[i] * zig_x[i]);
    }
    for (int i = 0; i < ZIG_C; i++)
        zig_r[i] = zig_x[i + 1] / zig_x[i];
    for (int i = 0; i <= ZIG_C; i++)
        zig_f[i] = exp(-0.5 * zig_x[i] * zig_x[i]);
}

#define next imc_normal_next_

/* uniform on (0, 1): never 0, for the logarithms of the tail */
static inline double uniform_open(imc_normal_rng *r)
{
    return ((double)(next(r) >> 11) + 0.5) * 0x1p-53;
}

void imc_normal_seed(imc_normal_rng *r, uint64_t seed)
{
    pthread_once(&zig_once, zig_init);
    for (int i = 0; i < 4; i++) { /* splitmix64: never the all-zero state */
        uint64_t z = (seed += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        r->s[i] = z ^ (z >> 31);
    }
}

static double tail(imc_normal_rng *r, int negative)
{
    double x, y;
    do {
        x = log(uniform_open(r)) / ZIG_R;
        y = log(uniform_open(r));
    } while (-2 * y < x * x);
    return negative ? x - ZIG_R : ZIG_R - x;
}

/* A draw of uniform U on (-1, 1) and layer I missed I's rectangle: the tail, a wedge, or a
 * fresh draw from R (as often as needed). */
static double slow(imc_normal_rng *r, double u, unsigned i)
{
    for (;;) {
        if (fabs(u) < zig_r[i])
            return u * zig_x[i];
        if (i == 0)
            return tail(r, u < 0);
        /* the wedge: under the density between the layer's edges */
        double x = u * zig_x[i];
        if (zig_f[i + 1] + uniform_open(r) * (zig_f[i] - zig_f[i + 1]) < exp(-0.5 * x * x))
            return x;
        uint64_t b = next(r);
        u = ((double)(b >> 11) + 0.5) * 0x1p-52 - 1;
        i = (unsigned)(b & (ZIG_C - 1));
    }
}

double imc_normal_slow_(imc_normal_rng *r, uint64_t b)
{
    return slow(r, ((double)(b >> 11) + 0.5) * 0x1p-52 - 1, (unsigned)(b & (ZIG_C - 1)));
}

void imc_normal_fill(imc_normal_rng *r, double *out, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = imc_normal(r);
}

void imc_normal_lanes_seed(imc_normal_lanes *r, uint64_t seed)
{
    imc_normal_rng one;
    imc_normal_seed(&r->rare, seed);
    for (int l = 0; l < IMC_NORMAL_LANES; l++) { /* each lane seeded by a draw of the ninth */
        imc_normal_seed(&one, imc_normal_next_(&r->rare));
        for (int w = 0; w < 4; w++)
            r->s[w][l] = one.s[w];
    }
}

/* Vector code for the CPU's widest unit, chosen when the program starts (GCC on x86-64). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define WIDEST __attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
#else
#define WIDEST
#endif

enum { BLOCK = 64 }; /* deviates per round of the lanes */

/* A lane's u, uniform on (-1, 1) and symmetric about 0, from the top 52 bits of draw B (as the
 * mantissa of a double in [2, 4)); the layer comes from the low 7 bits. */
static inline double lane_uniform(uint64_t b)
{
    uint64_t m = (b >> 12) | 0x4000000000000000u;
    double u;
    memcpy(&u, &m, sizeof u);
    return u - 3.0 + 0x1p-52;
}

typedef uint64_t u64v __attribute__((vector_size(8 * IMC_NORMAL_LANES)));
typedef double f64v __attribute__((vector_size(8 * IMC_NORMAL_LANES)));

/* BLOCK fast-path deviates into Z from fresh draws B of every lane; FAST[k] is 0 where the draw
 * missed its layer's rectangle (the caller then takes the slow path with B[k]). The lanes are
 * one vector each (GCC's vector extensions: one AVX-512 register, or split for narrower
 * units); the ziggurat's tables are read lane by lane. */
static WIDEST void lanes_block(imc_normal_lanes *r, uint64_t *b, double *z, int64_t *fast)
{
    u64v s0, s1, s2, s3;
    memcpy(&s0, r->s[0], sizeof s0);
    memcpy(&s1, r->s[1], sizeof s1);
    memcpy(&s2, r->s[2], sizeof s2);
    memcpy(&s3, r->s[3], sizeof s3);
    const u64v mant = (u64v){0} + 0x4000000000000000u, layer = (u64v){0} + (ZIG_C - 1),
               nosign = (u64v){0} + 0x7fffffffffffffffu;
    for (int j = 0; j < BLOCK; j += IMC_NORMAL_LANES) {
        u64v x = s0 + s3, t = s1 << 17;
        u64v bv = ((x << 23) | (x >> 41)) + s0; /* xoshiro256++ */
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 45) | (s3 >> 19);
        /* u uniform on (-1, 1), symmetric about 0, from the top 52 bits (the mantissa of a
         * double in [2, 4)); the layer from the low 7 */
        f64v u = (f64v)((bv >> 12) | mant) - 3.0 + 0x1p-52;
        u64v i = bv & layer;
        f64v zr, zx;
        for (int l = 0; l < IMC_NORMAL_LANES; l++) {
            zr[l] = zig_r[i[l]];
            zx[l] = zig_x[i[l]];
        }
        f64v au = (f64v)((u64v)u & nosign);
        u64v in = (u64v)(au < zr);
        f64v zv = u * zx;
        memcpy(b + j, &bv, sizeof bv);
        memcpy(z + j, &zv, sizeof zv);
        memcpy(fast + j, &in, sizeof in);
    }
    memcpy(r->s[0], &s0, sizeof s0);
    memcpy(r->s[1], &s1, sizeof s1);
    memcpy(r->s[2], &s2, sizeof s2);
    memcpy(r->s[3], &s3, sizeof s3);
}

/* The multiply of a block: vector code as well. */
static WIDEST void scale_block(float *v, const double *z, size_t m, double sigma)
{
    for (size_t k = 0; k < m; k++)
        v[k] *= (float)(1 + sigma * z[k]);
}

void imc_normal_lanes_scale(imc_normal_lanes *r, float *v, size_t n, double sigma)
{
    uint64_t b[BLOCK];
    double z[BLOCK];
    int64_t fast[BLOCK];
    for (size_t k0 = 0; k0 < n; k0 += BLOCK) {
        lanes_block(r, b, z, fast);
        for (int k = 0; k < BLOCK; k++)
            if (__builtin_expect(!fast[k], 0))
                z[k] = slow(&r->rare, lane_uniform(b[k]), (unsigned)(b[k] & (ZIG_C - 1)));
        scale_block(v + k0, z, n - k0 < BLOCK ? n - k0 : BLOCK, sigma);
    }
}
