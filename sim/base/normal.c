/* normal.c -- xoshiro256++ and the ziggurat (see normal.h). */
#include "sim/base/normal.h"

#include <math.h>
#include <pthread.h>

#define ZIG_C 128
#define ZIG_R 3.442619855899           /* start of the tail */
#define ZIG_V 9.91256303526217e-3      /* area of every layer */

#define zig_x imc_normal_zig_x_
#define zig_r imc_normal_zig_r_
double zig_x[ZIG_C + 1], zig_r[ZIG_C];
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

/* B missed its layer's rectangle: the tail, a wedge, or a fresh draw (as often as needed). */
double imc_normal_slow_(imc_normal_rng *r, uint64_t b)
{
    for (;;) {
        double u = ((double)(b >> 11) + 0.5) * 0x1p-52 - 1;
        unsigned i = (unsigned)(b & (ZIG_C - 1));
        if (fabs(u) < zig_r[i])
            return u * zig_x[i];
        if (i == 0)
            return tail(r, u < 0);
        double x = u * zig_x[i], xx = x * x;
        double f0 = exp(-0.5 * (zig_x[i] * zig_x[i] - xx));
        double f1 = exp(-0.5 * (zig_x[i + 1] * zig_x[i + 1] - xx));
        if (f1 + uniform_open(r) * (f0 - f1) < 1.0)
            return x;
        b = next(r);
    }
}

void imc_normal_fill(imc_normal_rng *r, double *out, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = imc_normal(r);
}
