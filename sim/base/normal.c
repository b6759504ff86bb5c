/* normal.c -- xoshiro256++ and the ziggurat (see normal.h). */
#include "sim/base/normal.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

/* A ziggurat of C layers (Doornik's ZIGNOR): layer i spans |x| < x[i]; layer 0 is the base
 * strip with the tail, which starts at R; every layer has area V. */
typedef struct zig {
    unsigned c;
    double tail;
    double *x, *r, *f; /* edges [c + 1], r[i] = x[i + 1] / x[i] [c], density exp(-x^2 / 2) at
                          each edge [c + 1] */
} zig;

static void zig_build(const zig *z, double v)
{
    double f = exp(-0.5 * z->tail * z->tail);
    z->x[0] = v / f;
    z->x[1] = z->tail;
    z->x[z->c] = 0;
    for (unsigned i = 2; i < z->c; i++) {
        z->x[i] = sqrt(-2 * log(v / z->x[i - 1] + f));
        f = exp(-0.5 * z->x[i] * z->x[i]);
    }
    for (unsigned i = 0; i < z->c; i++)
        z->r[i] = z->x[i + 1] / z->x[i];
    for (unsigned i = 0; i <= z->c; i++)
        z->f[i] = exp(-0.5 * z->x[i] * z->x[i]);
}

/* The scalar draws: 128 layers (Marsaglia and Tsang's constants), the tables that normal.h's
 * inline fast path reads. */
#define ZIG_C 128
double imc_normal_zig_x_[ZIG_C + 1], imc_normal_zig_r_[ZIG_C];
static double zig_f[ZIG_C + 1];
static const zig zig128 = {ZIG_C, 3.442619855899, imc_normal_zig_x_, imc_normal_zig_r_, zig_f};
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_init(void)
{
    zig_build(&zig128, 9.91256303526217e-3);
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

/* A draw of uniform U on (-1, 1) and layer I of Z missed I's rectangle: the tail, a wedge, or a
 * fresh 64-bit draw from R (52-bit uniform, layer from the low bits), as often as needed. */
static double slow(const zig *z, imc_normal_rng *r, double u, unsigned i)
{
    for (;;) {
        if (fabs(u) < z->r[i])
            return u * z->x[i];
        if (i == 0) {
            double x, y;
            do {
                x = log(uniform_open(r)) / z->tail;
                y = log(uniform_open(r));
            } while (-2 * y < x * x);
            return u < 0 ? x - z->tail : z->tail - x;
        }
        /* the wedge: under the density between the layer's edges, y = f[i + 1] + v (f[i] -
         * f[i + 1]) for a uniform v. The chord between the edges decides without the exp where
         * it can: y is under the chord when v > t (the fraction of the way from x[i + 1] to
         * x[i]), so under the density where it is concave (|x| < 1), and over it when v < t
         * where it is convex (|x| > 1); the margin keeps rounding from deciding. */
        double x = u * z->x[i], v = uniform_open(r);
        double t = (fabs(x) - z->x[i + 1]) / (z->x[i] - z->x[i + 1]);
        if (z->x[i] <= 1 && v > t + 1e-12)
            return x;
        int over = z->x[i + 1] >= 1 && v < t - 1e-12;
        if (!over && z->f[i + 1] + v * (z->f[i] - z->f[i + 1]) < exp(-0.5 * x * x))
            return x;
        uint64_t b = next(r);
        u = ((double)(b >> 11) + 0.5) * 0x1p-52 - 1;
        i = (unsigned)(b & (z->c - 1));
    }
}

double imc_normal_slow_(imc_normal_rng *r, uint64_t b)
{
    return slow(&zig128, r, ((double)(b >> 11) + 0.5) * 0x1p-52 - 1, (unsigned)(b & (ZIG_C - 1)));
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

/* ---- the lanes: 32-bit draws, 256 layers --------------------------------------------------
 *
 * Sixteen deviates per vector of eight 64-bit xoshiro256++ draws, each draw split in two 32-bit
 * ones. Draw D gives the layer I = D mod 256 (its low 8 bits) and, from its top 24 bits as a
 * signed S in [-2^23, 2^23), the odd H = 2S + 1, so that u = H / 2^24 is uniform on (-1, 1) and
 * symmetric about 0 (H is exact in float). The rectangle's test |u| < r[I] is, in integers and
 * exactly, |H| < ceil(r[I] 2^24); the deviate is H x (x[I] / 2^24), one float multiply. 256
 * layers (Marsaglia and Tsang's constants for them) miss their rectangle on 1.5 % of draws
 * against 2.8 % for 128, and a miss (the wedge's exp) costs some 40 ns. So the deviates are
 * N(0, 1) up to float resolution (the uniforms' 24 bits, the layers' edges rounded to float),
 * finer than the float column values they scale. The AVX-512 code and the portable code do the
 * same integer and float operations: the same deviates on any CPU. */
#define LZ_C 256
static double lz_x[LZ_C + 1], lz_r[LZ_C], lz_f[LZ_C + 1];
static const zig zig256 = {LZ_C, 3.6541528853610088, lz_x, lz_r, lz_f}; /* Marsaglia and Tsang */
static int32_t lz_k[LZ_C]; /* ceil(r[i] 2^24) */
static float lz_w[LZ_C];   /* x[i] / 2^24 */

static void lz_init(void)
{
    zig_build(&zig256, 4.92867323399e-3);
    for (int i = 0; i < LZ_C; i++) {
        lz_k[i] = (int32_t)ceil(lz_r[i] * 0x1p24);
        lz_w[i] = (float)(lz_x[i] * 0x1p-24);
    }
}

/* A lane's draw (odd H, layer I) missed I's rectangle. */
static double lanes_slow(imc_normal_rng *r, int32_t h, unsigned i)
{
    return slow(&zig256, r, h * 0x1p-24, i);
}

/* One xoshiro256++ step of lane L; returns its 64-bit draw. */
static inline uint64_t lane_next(imc_normal_lanes *r, int l)
{
    imc_normal_rng one = {{r->s[0][l], r->s[1][l], r->s[2][l], r->s[3][l]}};
    uint64_t out = next(&one);
    for (int w = 0; w < 4; w++)
        r->s[w][l] = one.s[w];
    return out;
}

/* V[k] *= 1 + SIGMA x z_k in float (no contraction under -std=c11: the same on every CPU), for
 * k < N, sixteen deviates per step of the lanes: lane l's draw gives those of elements 2l (its
 * low half) and 2l + 1 of the step; a step's unused deviates are dropped. Draws that miss their
 * rectangle take the slow path from R's rare stream in element order. */
static void lanes_scale_portable(imc_normal_lanes *r, float *v, size_t n, float sigma)
{
    for (size_t j = 0; j < n; j += 2 * IMC_NORMAL_LANES)
        for (int l = 0; l < IMC_NORMAL_LANES; l++) {
            uint64_t b = lane_next(r, l);
            for (size_t half = 0, k = j + 2 * (size_t)l; half < 2 && k < n; half++, k++) {
                uint32_t d = (uint32_t)(b >> (32 * half));
                int32_t hv = 2 * ((int32_t)(d >> 8) - (int32_t)(d >> 31 << 24)) + 1;
                unsigned i = d & (LZ_C - 1);
                float z = (hv < 0 ? -hv : hv) < lz_k[i] ? (float)hv * lz_w[i]
                                                        : (float)lanes_slow(&r->rare, hv, i);
                v[k] *= 1.0f + sigma * z;
            }
        }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_LANES_AVX512 1

/* The same with AVX-512: the tables read by gathers, the rare misses patched lane by lane. */
__attribute__((target("avx512f"))) static void lanes_scale_avx512(imc_normal_lanes *r, float *v,
                                                                  size_t n, float sigma)
{
    __m512i s0 = _mm512_loadu_si512(r->s[0]), s1 = _mm512_loadu_si512(r->s[1]);
    __m512i s2 = _mm512_loadu_si512(r->s[2]), s3 = _mm512_loadu_si512(r->s[3]);
    const __m512i low8 = _mm512_set1_epi32(LZ_C - 1), one = _mm512_set1_epi32(1);
    const __m512 sig = _mm512_set1_ps(sigma), fone = _mm512_set1_ps(1.0f);
    for (size_t j = 0; j < n; j += 16) {
        __m512i x = _mm512_add_epi64(s0, s3), t = _mm512_slli_epi64(s1, 17);
        __m512i d = _mm512_add_epi64(_mm512_rol_epi64(x, 23), s0);
        s2 = _mm512_xor_si512(s2, s0);
        s3 = _mm512_xor_si512(s3, s1);
        s1 = _mm512_xor_si512(s1, s2);
        s0 = _mm512_xor_si512(s0, s3);
        s2 = _mm512_xor_si512(s2, t);
        s3 = _mm512_rol_epi64(s3, 45);
        __m512i i = _mm512_and_si512(d, low8);
        __m512i hv = _mm512_or_si512(_mm512_slli_epi32(_mm512_srai_epi32(d, 8), 1), one);
        __mmask16 miss =
            _mm512_cmpge_epi32_mask(_mm512_abs_epi32(hv), _mm512_i32gather_epi32(i, lz_k, 4));
        __m512 z = _mm512_mul_ps(_mm512_cvtepi32_ps(hv), _mm512_i32gather_ps(i, lz_w, 4));
        __mmask16 live = n - j >= 16 ? 0xffff : (__mmask16)((1u << (n - j)) - 1);
        miss &= live;
        if (miss) {
            float zs[16];
            int32_t hs[16], is[16];
            _mm512_storeu_ps(zs, z);
            _mm512_storeu_si512(hs, hv);
            _mm512_storeu_si512(is, i);
            for (unsigned m = miss; m; m &= m - 1) {
                int k = __builtin_ctz(m);
                zs[k] = (float)lanes_slow(&r->rare, hs[k], (unsigned)is[k]);
            }
            z = _mm512_loadu_ps(zs);
        }
        __m512 f = _mm512_add_ps(fone, _mm512_mul_ps(sig, z));
        __m512 vv = _mm512_maskz_loadu_ps(live, v + j);
        _mm512_mask_storeu_ps(v + j, live, _mm512_mul_ps(vv, f));
    }
    _mm512_storeu_si512(r->s[0], s0), _mm512_storeu_si512(r->s[1], s1);
    _mm512_storeu_si512(r->s[2], s2), _mm512_storeu_si512(r->s[3], s3);
}
#endif

typedef void lanes_fn(imc_normal_lanes *, float *, size_t, float);
static lanes_fn *lanes_scale;
static pthread_once_t lanes_once = PTHREAD_ONCE_INIT;

/* The CPU's fastest code for the lanes. */
static lanes_fn *lanes_fastest(void)
{
#ifdef HAVE_LANES_AVX512
    if (__builtin_cpu_supports("avx512f"))
        return lanes_scale_avx512;
#endif
    return lanes_scale_portable;
}

static void lanes_init(void)
{
    lz_init();
    lanes_scale = lanes_fastest();
}

int imc_normal_lanes_portable(int on)
{
    pthread_once(&lanes_once, lanes_init);
    lanes_scale = on ? lanes_scale_portable : lanes_fastest();
    return lanes_fastest() != lanes_scale_portable;
}

void imc_normal_lanes_scale(imc_normal_lanes *r, float *v, size_t n, double sigma)
{
    pthread_once(&lanes_once, lanes_init);
    lanes_scale(r, v, n, (float)sigma);
}
