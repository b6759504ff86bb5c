/* sgemm_peak.c -- the single-precision GEMM rate of this machine's CBLAS (the one GSL links),
 * for docs/PERFORMANCE.md: the numerics' GFLOP/s are reported against it. Built and run by
 * `make bench`. Usage: sgemm_peak [N] (default 2048): best of 5 N x N x N multiplies. */
#include <gsl/gsl_cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2048;
    if (n < 16 || n > 16384)
        return 2;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c)
        return 1;
    for (long i = 0; i < (long)n * n; i++)
        a[i] = (float)(i % 7) - 3, b[i] = (float)(i % 5) - 2, c[i] = 0;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        best = s < best ? s : best;
    }
    printf("%.1f\n", 2.0 * n * n * (double)n / best * 1e-9);
    free(a), free(b), free(c);
    return 0;
}
