/* common.h -- small helpers shared by the component models (static inline, header only).
 *
 * They cover what nearly every model's init does: turn a frequency into the instance's period
 * (refusing a missing or non-positive one with a message that names it), scale an area quoted
 * at one technology node to the node of the run, and format a quantity for a message. Models
 * include this after models/model.h; nothing outside models/ should need it. */
#ifndef IMC_MODELS_COMMON_H
#define IMC_MODELS_COMMON_H

#include <math.h>

#include "models/model.h"

/* Set SELF's period from HZ. WHAT names where the frequency comes from ("clock", "the
 * crossbar read rate (read_hz)") for the message when HZ is not a positive finite number. */
static inline int imc_models_period(imc_instance *self, double hz, const char *what,
                                    imc_err *err)
{
    if (!(hz > 0) || !isfinite(hz)) {
        imc_err_set(err, IMC_EINPUT, "%s: %s must be a positive frequency, not %g Hz",
                    self->path, what, hz);
        return IMC_EINPUT; /* a constant, so callers' compilers see the failure path */
    }
    self->period_ps = imc_period_ps(hz);
    return 0;
}

/* (env->technology_m / REF_M)^2 into *SCALE, for an area quoted at node REF_M. Fails when the
 * environment has no technology node, which only matters when an area must be derived. */
static inline int imc_models_node_scale(const imc_instance *self, const imc_model_env *env,
                                        double ref_m, double *scale, imc_err *err)
{
    if (!(env->technology_m > 0)) {
        imc_err_set(err, IMC_EINPUT,
                    "%s: the technology node is needed to derive the area (or give area)",
                    self->path);
        return IMC_EINPUT;
    }
    double r = env->technology_m / ref_m;
    *scale = r * r;
    return 0;
}

/* A quantity as the user would write it ("6 kohm"), for messages. */
static inline const char *imc_models_fmt(double si, imc_dim dim, char *buf, size_t size)
{
    imc_quantity_format(si, dim, buf, size);
    return buf;
}

#endif
