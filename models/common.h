/* common.h -- small helpers shared by the component models (static inline, header only).
 *
 * They cover what nearly every model's init does: turn a frequency into the instance's period
 * (refusing a missing or non-positive one with a message that names it), scale a figure quoted
 * at one technology node to the node of the run (techscale.h), and format a quantity for a
 * message. Models include this after models/model.h; nothing outside models/ should need it. */
#ifndef IMC_MODELS_COMMON_H
#define IMC_MODELS_COMMON_H

#include <math.h>

#include "models/model.h"
#include "models/techscale.h"

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

/* The factor taking a METRIC quoted at node REF_M to the node of the run (techscale.h:
 * Stillmaker and Baas's fits) into *SCALE. Fails, naming SELF, when the environment has no
 * technology node or one outside the fits, which only matters when a figure must be scaled. */
static inline int imc_models_tech(const imc_instance *self, const imc_model_env *env,
                                  imc_tech_metric metric, double ref_m, double *scale,
                                  imc_err *err)
{
    char why[160];
    if (!(env->technology_m > 0)) {
        imc_err_set(err, IMC_EINPUT,
                    "%s: the technology node is needed to scale its %s figures (or give them "
                    "explicitly)",
                    self->path, metric == IMC_TECH_AREA ? "area" : "default");
        return IMC_EINPUT; /* a constant, so callers' compilers see the failure path */
    }
    if (env->technology_m != ref_m && imc_tech_check(env->technology_m, why, sizeof why)) {
        imc_err_set(err, IMC_EINPUT, "%s: %s", self->path, why);
        return IMC_EINPUT;
    }
    *scale = imc_tech_factor(metric, ref_m, env->technology_m);
    return 0;
}

/* The area factor from node REF_M to the run's (Stillmaker and Baas), for an area quoted at
 * REF_M. */
static inline int imc_models_node_scale(const imc_instance *self, const imc_model_env *env,
                                        double ref_m, double *scale, imc_err *err)
{
    return imc_models_tech(self, env, IMC_TECH_AREA, ref_m, scale, err);
}

/* A quantity as the user would write it ("6 kohm"), for messages. */
static inline const char *imc_models_fmt(double si, imc_dim dim, char *buf, size_t size)
{
    imc_quantity_format(si, dim, buf, size);
    return buf;
}

#endif
