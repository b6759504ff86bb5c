/* powerlaw.h -- least-squares fits of y = k x1^a x2^b to tabulated tool runs (CACTI for the
 * buffers, DSENT for the routers), shared by the models that carry such a table.
 *
 * The fit is ordinary least squares of ln y on (1, ln x1, ln x2): a caller adds each row with
 * imc_powerlaw_add, then imc_powerlaw_solve solves the 3 x 3 normal equations by Cramer's rule.
 * Every y and x must be positive. Header only (static inline); nothing outside models/ needs it. */
#ifndef IMC_MODELS_POWERLAW_H
#define IMC_MODELS_POWERLAW_H

#include <math.h>

/* y = k x1^a x2^b */
typedef struct imc_powerlaw {
    double k, a, b;
} imc_powerlaw;

/* The sums of the normal equations; zero-initialise. */
typedef struct imc_powerlaw_acc {
    double s[3][3], t[3];
} imc_powerlaw_acc;

static inline void imc_powerlaw_add(imc_powerlaw_acc *acc, double x1, double x2, double y)
{
    double x[3] = {1, log(x1), log(x2)}, ly = log(y);
    for (int p = 0; p < 3; p++) {
        acc->t[p] += x[p] * ly;
        for (int q = 0; q < 3; q++)
            acc->s[p][q] += x[p] * x[q];
    }
}

static inline double imc_powerlaw_det3(const double m[3][3])
{
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

static inline imc_powerlaw imc_powerlaw_solve(const imc_powerlaw_acc *acc)
{
    double d = imc_powerlaw_det3(acc->s), c[3];
    for (int col = 0; col < 3; col++) {
        double m[3][3];
        for (int p = 0; p < 3; p++)
            for (int q = 0; q < 3; q++)
                m[p][q] = q == col ? acc->t[p] : acc->s[p][q];
        c[col] = imc_powerlaw_det3(m) / d;
    }
    return (imc_powerlaw){exp(c[0]), c[1], c[2]};
}

static inline double imc_powerlaw_eval(imc_powerlaw law, double x1, double x2)
{
    return law.k * pow(x1, law.a) * pow(x2, law.b);
}

#endif
