/* blas.h -- the two CBLAS multiplies the numerics use (single and double precision GEMM), from
 * OpenBLAS loaded the first time one is needed.
 *
 * Linked at start-up, OpenBLAS cost every imcsim process about 6.5 ms (12.3 ms for a program
 * linked with the project's libraries against 5.7 ms without it, 30 runs each on this project's
 * 2-core AMD guest, 2026-12-06: its 30 MB library's page faults, its CPU detection and the
 * threads it starts), a tenth of a timing-only FAR-S run that multiplies no matrix, and its idle
 * threads then spun for 0.1 s on the second core. The build links GSL's own reference CBLAS
 * (gslcblas); where configure found OpenBLAS (IMC_OPENBLAS_SONAME), the first call loads it
 * with dlopen and every call goes to it; where it cannot be loaded, to gslcblas: the same
 * results (any GEMM's, up to the order of its sums), slower. */
#ifndef IMC_BLAS_H
#define IMC_BLAS_H

#include <gsl/gsl_cblas.h>

/* cblas_sgemm and cblas_dgemm: C = alpha A B + beta C, arguments as CBLAS's. */
void imc_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int m,
               int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
               float beta, float *c, int ldc);
void imc_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int m,
               int n, int k, double alpha, const double *a, int lda, const double *b, int ldb,
               double beta, double *c, int ldc);

/* The BLAS's threads per call (OpenBLAS's openblas_get_num_threads: OPENBLAS_NUM_THREADS, else
 * one per core); 1 for gslcblas. Loads OpenBLAS if it is not yet loaded. */
int imc_blas_threads(void);

/* Set them (nothing for gslcblas). */
void imc_blas_set_threads(int n);

/* "OpenBLAS" or "gslcblas": which library the multiplies go to. */
const char *imc_blas_name(void);

#endif
