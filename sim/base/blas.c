/* blas.c -- OpenBLAS loaded on first use, else GSL's CBLAS (see blas.h). */
#include "config.h"

#include "sim/base/blas.h"

#include <pthread.h>
#include <stddef.h>
#ifdef IMC_OPENBLAS_SONAME
#include <dlfcn.h>
#endif

typedef void sgemm_fn(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int,
                      float, const float *, int, const float *, int, float, float *, int);
typedef void dgemm_fn(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int,
                      double, const double *, int, const double *, int, double, double *, int);

static struct {
    sgemm_fn *sgemm;
    dgemm_fn *dgemm;
    int (*get_threads)(void);
    void (*set_threads)(int);
    const char *name;
} lib;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    lib.sgemm = cblas_sgemm; /* GSL's, linked */
    lib.dgemm = cblas_dgemm;
    lib.name = "gslcblas";
#ifdef IMC_OPENBLAS_SONAME
    /* RTLD_LOCAL: its cblas_* stay out of the global scope, where GSL finds gslcblas's */
    void *h = dlopen(IMC_OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
#ifdef IMC_OPENBLAS_PATH
    if (!h)
        h = dlopen(IMC_OPENBLAS_PATH, RTLD_NOW | RTLD_LOCAL);
#endif
    if (!h)
        return;
    union { /* object to function pointer, as POSIX's dlsym requires */
        void *p;
        sgemm_fn *s;
        dgemm_fn *d;
        int (*g)(void);
        void (*t)(int);
    } s, d, g, t;
    s.p = dlsym(h, "cblas_sgemm"), d.p = dlsym(h, "cblas_dgemm");
    g.p = dlsym(h, "openblas_get_num_threads"), t.p = dlsym(h, "openblas_set_num_threads");
    if (!s.p || !d.p) {
        dlclose(h);
        return;
    }
    lib.sgemm = s.s, lib.dgemm = d.d, lib.name = "OpenBLAS";
    lib.get_threads = g.p ? g.g : NULL, lib.set_threads = t.p ? t.t : NULL;
#endif
}

void imc_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int m,
               int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
               float beta, float *c, int ldc)
{
    pthread_once(&once, load);
    lib.sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void imc_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int m,
               int n, int k, double alpha, const double *a, int lda, const double *b, int ldb,
               double beta, double *c, int ldc)
{
    pthread_once(&once, load);
    lib.dgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int imc_blas_threads(void)
{
    pthread_once(&once, load);
    return lib.get_threads ? lib.get_threads() : 1;
}

void imc_blas_set_threads(int n)
{
    pthread_once(&once, load);
    if (lib.set_threads)
        lib.set_threads(n);
}

const char *imc_blas_name(void)
{
    pthread_once(&once, load);
    return lib.name;
}
