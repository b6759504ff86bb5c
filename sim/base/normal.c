/* normal.c -- xoshiro256++ and Box-Muller in vector lanes (see normal.h). */
#include "sim/base/normal.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "sim/base/mix64.h"

#define next imc_normal_next_

void imc_normal_seed(imc_normal_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) /* draws 1 .. 4 of splitmix64: never the all-zero state */
        r->s[i] = imc_mix64(seed + IMC_MIX64_WEYL * (uint64_t)(i + 1));
}

void imc_normal_lanes_seed(imc_normal_lanes *r, uint64_t seed)
{
    r->seed = seed;
    r->seeded = 0;
}

/* Word W of lane L's state: draw 8 W + L + 1 of the seed's splitmix64 stream (four different
 * draws of a bijection: never the all-zero state). */
static void lanes_seed_portable(imc_normal_lanes *r)
{
    for (int w = 0; w < 4; w++)
        for (int l = 0; l < IMC_NORMAL_LANES; l++)
            r->s[w][l] = imc_mix64(r->seed + IMC_MIX64_WEYL * (uint64_t)(IMC_NORMAL_LANES * w + l + 1));
    r->seeded = 1;
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

/* ---- the lanes: Box and Muller's transform in float --------------------------------------
 *
 * Thirty-two deviates per two steps of the eight xoshiro256++ lanes: each step's eight 64-bit
 * draws are sixteen 32-bit ones (element 2l the low half of lane l's draw, 2l + 1 the high half),
 * element p of the first step giving the radius and element p of the second the angle of pair
 * p (Box and Muller, Ann. Math. Stat. 29(2), 1958): z = sqrt(-2 ln u) (cos 2 pi t, sin 2 pi t),
 * the cosine for element p of the 32 and the sine for element 16 + p. No draw is rejected, so
 * every deviate costs the same (the ziggurat in vector code spent half its time on the 1.5 % of
 * draws outside their rectangle, and on its table lookups). u = (2k + 1) / 2^31 from the draw's
 * top 30 bits k (so 0 < u < 1; deviates past sqrt(2 x 31 ln 2) = 6.55, a probability of 6e-11,
 * are never drawn), t = the draw's top 24 bits / 2^24. ln u = e ln 2 + ln m with m in
 * [sqrt(1/2), sqrt(2)), ln m = 2 atanh s = 2 (s + s^3/3 + ... + s^9/9) with s = (m - 1) / (m + 1),
 * |s| <= 0.172; the angle in quarter turns q + f (q the nearest integer to 4t, |f| <= 1/2, both
 * exact), sin and cos of f pi / 2 by their Taylor series to f^9 and f^10 (truncation below
 * 2e-9). Against the exact transform of the same two uniforms in double each deviate is within
 * 2.7e-6 where the radius is at least 0.01, and within 3.1e-5 below (u within 2^-31 of 1 rounds
 * to 1 in float; radii under 0.01 have probability 5e-5): test_models checks both on a million
 * pairs. N(0, 1) in distribution up to float resolution, finer than the column values it scales. Both codes below do the same float operations
 * (fmaf where the vector code fuses, correctly rounded division and square root): the same
 * deviates on any CPU. */
#define LN2_HI 0.693145751953125f          /* ln 2 in 16 bits: e x LN2_HI is exact */
#define LN2_LO 1.4286068202862268e-06f      /* ln 2 - LN2_HI */
#define SQRT2_BITS 0x3fb504f3u              /* sqrt(2) in float */
static float bm_sin[5], bm_cos[5];          /* (pi/2)^k / k!, signed: k = 1, 3, .. 9; 2, 4, .. 10 */

static void bm_init(void)
{
    double half_pi = 1.57079632679489661923, term = 1;
    for (int k = 1; k <= 10; k++) {
        term *= half_pi / k;
        double signed_term = (k + 1) / 2 % 2 ? term : -term; /* + - + - for k = 1 2, 3 4, .. */
        if (k % 2)
            bm_sin[k / 2] = (float)signed_term;
        else
            bm_cos[k / 2 - 1] = (float)-signed_term;
    }
}

/* The deviates of pair draws D1 (radius) and D2 (angle) into *Z0 (cosine) and *Z1 (sine). */
static void bm_pair(uint32_t d1, uint32_t d2, float *z0, float *z1)
{
    float u = (float)(int32_t)((d1 >> 1) | 1) * 0x1p-31f;
    uint32_t b, mb;
    memcpy(&b, &u, sizeof b);
    int32_t e = (int32_t)(b >> 23) - 127;
    mb = (b & 0x7fffffu) | 0x3f800000u;
    if (mb > SQRT2_BITS)
        mb -= 0x00800000u, e += 1;
    float m;
    memcpy(&m, &mb, sizeof m);
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float p = fmaf(s2, 1.0f / 9, 1.0f / 7);
    p = fmaf(s2, p, 1.0f / 5);
    p = fmaf(s2, p, 1.0f / 3);
    p = (s2 * p) * s;
    float ef = (float)e, ln = fmaf(ef, LN2_HI, fmaf(ef, LN2_LO, 2.0f * (s + p)));
    float rad = sqrtf(-2.0f * ln);
    float t4 = (float)(int32_t)(d2 >> 8) * 0x1p-22f, q = rintf(t4), f = t4 - q, f2 = f * f;
    float sn = fmaf(f2, bm_sin[4], bm_sin[3]), cs = fmaf(f2, bm_cos[4], bm_cos[3]);
    for (int k = 2; k >= 0; k--)
        sn = fmaf(f2, sn, bm_sin[k]), cs = fmaf(f2, cs, bm_cos[k]);
    sn = sn * f;
    cs = fmaf(f2, cs, 1.0f);
    int qi = (int)q; /* the quarter turns: (cos, sin) rotated by qi x 90 degrees */
    float c = qi & 1 ? sn : cs, sv = qi & 1 ? cs : sn;
    if ((qi + 1) & 2)
        c = 0.0f - c;
    if (qi & 2)
        sv = 0.0f - sv;
    *z0 = rad * c, *z1 = rad * sv;
}

/* V[k] *= 1 + SIGMA x z_k in float (fused, as the vector code does; no other contraction under
 * -std=c11: the same on every CPU), or where FILL V[k] = z_k, for k < N, thirty-two deviates
 * per two steps of the lanes (seeded by the first call that draws); a step's unused deviates
 * are dropped. */
static void lanes_scale_portable(imc_normal_lanes *r, float *v, size_t n, float sigma, int fill)
{
    if (!r->seeded && n)
        lanes_seed_portable(r);
    for (size_t j = 0; j < n; j += 4 * IMC_NORMAL_LANES) {
        uint64_t d1[IMC_NORMAL_LANES], d2[IMC_NORMAL_LANES];
        for (int l = 0; l < IMC_NORMAL_LANES; l++)
            d1[l] = lane_next(r, l);
        for (int l = 0; l < IMC_NORMAL_LANES; l++)
            d2[l] = lane_next(r, l);
        for (size_t pr = 0; pr < 2 * IMC_NORMAL_LANES; pr++) {
            float z0, z1;
            bm_pair((uint32_t)(d1[pr / 2] >> (32 * (pr % 2))), (uint32_t)(d2[pr / 2] >> (32 * (pr % 2))),
                    &z0, &z1);
            float *v0 = v + j + pr, *v1 = v + j + 2 * IMC_NORMAL_LANES + pr;
            if (j + pr < n)
                *v0 = fill ? z0 : *v0 * fmaf(sigma, z0, 1.0f);
            if (j + 2 * IMC_NORMAL_LANES + pr < n)
                *v1 = fill ? z1 : *v1 * fmaf(sigma, z1, 1.0f);
        }
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_LANES_AVX512 1

/* One step of the eight lanes held in S0 .. S3; returns the eight 64-bit draws. */
__attribute__((target("avx512f"))) static inline __m512i lanes_step(__m512i *s0, __m512i *s1,
                                                                   __m512i *s2, __m512i *s3)
{
    __m512i x = _mm512_add_epi64(*s0, *s3), t = _mm512_slli_epi64(*s1, 17);
    __m512i d = _mm512_add_epi64(_mm512_rol_epi64(x, 23), *s0);
    *s2 = _mm512_xor_si512(*s2, *s0);
    *s3 = _mm512_xor_si512(*s3, *s1);
    *s1 = _mm512_xor_si512(*s1, *s2);
    *s0 = _mm512_xor_si512(*s0, *s3);
    *s2 = _mm512_xor_si512(*s2, t);
    *s3 = _mm512_rol_epi64(*s3, 45);
    return d;
}

/* lanes_seed_portable's words W in vector code: splitmix64 draws 8 W + 1 .. 8 W + 8. */
__attribute__((target("avx512f,avx512dq"))) static inline __m512i lanes_seed_word(uint64_t seed,
                                                                                 int w)
{
    __m512i k = _mm512_add_epi64(_mm512_set1_epi64(8 * w + 1), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    __m512i z = _mm512_add_epi64(_mm512_set1_epi64((long long)seed),
                                 _mm512_mullo_epi64(k, _mm512_set1_epi64((long long)IMC_MIX64_WEYL)));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                           _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9u));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                           _mm512_set1_epi64((long long)0x94d049bb133111ebu));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

/* The same with AVX-512, sixteen pairs at once: bm_pair's operations lane by lane. */
__attribute__((target("avx512f,avx512dq"))) static void lanes_scale_avx512(imc_normal_lanes *r, float *v,
                                                                  size_t n, float sigma, int fill)
{
#define F(x) _mm512_set1_ps(x)
#define I(x) _mm512_set1_epi32((int)(x))
    if (!n)
        return;
    __m512i s0, s1, s2, s3;
    if (r->seeded) {
        s0 = _mm512_loadu_si512(r->s[0]), s1 = _mm512_loadu_si512(r->s[1]);
        s2 = _mm512_loadu_si512(r->s[2]), s3 = _mm512_loadu_si512(r->s[3]);
    } else {
        s0 = lanes_seed_word(r->seed, 0), s1 = lanes_seed_word(r->seed, 1);
        s2 = lanes_seed_word(r->seed, 2), s3 = lanes_seed_word(r->seed, 3);
        r->seeded = 1;
    }
    const __m512 sig = F(sigma), one = F(1.0f);
    for (size_t j = 0; j < n; j += 32) {
        __m512i d1 = lanes_step(&s0, &s1, &s2, &s3), d2 = lanes_step(&s0, &s1, &s2, &s3);
        /* the radius */
        __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_or_si512(_mm512_srli_epi32(d1, 1), I(1))),
                                 F(0x1p-31f));
        __m512i b = _mm512_castps_si512(u);
        __m512i e = _mm512_sub_epi32(_mm512_srli_epi32(b, 23), I(127));
        __m512i mb = _mm512_or_si512(_mm512_and_si512(b, I(0x7fffff)), I(0x3f800000));
        __mmask16 big = _mm512_cmpgt_epu32_mask(mb, I(SQRT2_BITS));
        mb = _mm512_mask_sub_epi32(mb, big, mb, I(0x00800000));
        e = _mm512_mask_add_epi32(e, big, e, I(1));
        __m512 m = _mm512_castsi512_ps(mb);
        __m512 s = _mm512_div_ps(_mm512_sub_ps(m, one), _mm512_add_ps(m, one)), sq = _mm512_mul_ps(s, s);
        __m512 p = _mm512_fmadd_ps(sq, F(1.0f / 9), F(1.0f / 7));
        p = _mm512_fmadd_ps(sq, p, F(1.0f / 5));
        p = _mm512_fmadd_ps(sq, p, F(1.0f / 3));
        p = _mm512_mul_ps(_mm512_mul_ps(sq, p), s);
        __m512 ef = _mm512_cvtepi32_ps(e);
        __m512 ln = _mm512_fmadd_ps(ef, F(LN2_HI),
                                    _mm512_fmadd_ps(ef, F(LN2_LO), _mm512_mul_ps(F(2.0f), _mm512_add_ps(s, p))));
        __m512 rad = _mm512_sqrt_ps(_mm512_mul_ps(F(-2.0f), ln));
        /* the angle */
        __m512 t4 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(d2, 8)), F(0x1p-22f));
        __m512 q = _mm512_roundscale_ps(t4, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 f = _mm512_sub_ps(t4, q), f2 = _mm512_mul_ps(f, f);
        __m512 sn = _mm512_fmadd_ps(f2, F(bm_sin[4]), F(bm_sin[3]));
        __m512 cs = _mm512_fmadd_ps(f2, F(bm_cos[4]), F(bm_cos[3]));
        for (int k = 2; k >= 0; k--)
            sn = _mm512_fmadd_ps(f2, sn, F(bm_sin[k])), cs = _mm512_fmadd_ps(f2, cs, F(bm_cos[k]));
        sn = _mm512_mul_ps(sn, f);
        cs = _mm512_fmadd_ps(f2, cs, one);
        __m512i qi = _mm512_cvtps_epi32(q);
        __mmask16 odd = _mm512_test_epi32_mask(qi, I(1));
        __mmask16 negc = _mm512_test_epi32_mask(_mm512_add_epi32(qi, I(1)), I(2));
        __mmask16 negs = _mm512_test_epi32_mask(qi, I(2));
        __m512 c = _mm512_mask_blend_ps(odd, cs, sn), sv = _mm512_mask_blend_ps(odd, sn, cs);
        c = _mm512_mask_sub_ps(c, negc, _mm512_setzero_ps(), c);
        sv = _mm512_mask_sub_ps(sv, negs, _mm512_setzero_ps(), sv);
        __m512 z0 = _mm512_mul_ps(rad, c), z1 = _mm512_mul_ps(rad, sv);
        /* the values */
        size_t left = n - j;
        __mmask16 l0 = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
        __mmask16 l1 = left >= 32 ? 0xffff : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
        if (fill) {
            _mm512_mask_storeu_ps(v + j, l0, z0);
            _mm512_mask_storeu_ps(v + j + 16, l1, z1);
            continue;
        }
        __m512 f0 = _mm512_fmadd_ps(sig, z0, one);
        __m512 f1 = _mm512_fmadd_ps(sig, z1, one);
        _mm512_mask_storeu_ps(v + j, l0, _mm512_mul_ps(_mm512_maskz_loadu_ps(l0, v + j), f0));
        _mm512_mask_storeu_ps(v + j + 16, l1, _mm512_mul_ps(_mm512_maskz_loadu_ps(l1, v + j + 16), f1));
    }
    _mm512_storeu_si512(r->s[0], s0), _mm512_storeu_si512(r->s[1], s1);
    _mm512_storeu_si512(r->s[2], s2), _mm512_storeu_si512(r->s[3], s3);
#undef F
#undef I
}
#endif

typedef void lanes_fn(imc_normal_lanes *, float *, size_t, float, int);
static lanes_fn *lanes_scale;
static pthread_once_t lanes_once = PTHREAD_ONCE_INIT;

/* The CPU's fastest code for the lanes. */
static lanes_fn *lanes_fastest(void)
{
#ifdef HAVE_LANES_AVX512
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
        return lanes_scale_avx512;
#endif
    return lanes_scale_portable;
}

static void lanes_init(void)
{
    bm_init();
    lanes_scale = lanes_fastest();
}

int imc_normal_lanes_portable(int on)
{
    pthread_once(&lanes_once, lanes_init);
    lanes_scale = on ? lanes_scale_portable : lanes_fastest();
    return lanes_fastest() != lanes_scale_portable;
}

void imc_normal_box_muller(uint32_t d1, uint32_t d2, float *z0, float *z1)
{
    pthread_once(&lanes_once, lanes_init);
    bm_pair(d1, d2, z0, z1);
}

void imc_normal_lanes_scale(imc_normal_lanes *r, float *v, size_t n, double sigma)
{
    pthread_once(&lanes_once, lanes_init);
    lanes_scale(r, v, n, (float)sigma, 0);
}

void imc_normal_lanes_fill(imc_normal_lanes *r, float *z, size_t n)
{
    pthread_once(&lanes_once, lanes_init);
    lanes_scale(r, z, n, 0.0f, 1);
}
