/* cell/table.c -- a cell whose programmed levels come from a table of measured device data.
 *
 * `table` names a CSV file (relative to the architecture file that gives it): a header line
 * `conductance,sigma`, then one line per level, lowest first, with the level's mean programmed
 * conductance and the standard deviation of the conductance cells programmed to it land on,
 * both in siemens; `#` starts a comment. The number of levels must be a power of two, 2 to
 * 2048; it sets `bits` (which may also be given, and must then agree). Everything else — read
 * and write pulses, read noise, stuck-at faults, area — is cell/reram's (cell_common.h), and so
 * is the way a level is programmed and read: a table of cell/reram's levels with sigma =
 * variation x conductance gives exactly cell/reram's results. Read energy V^2 x G_mean x t
 * with G_mean the mean of the table's levels. */
#include "models/cell/cell_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct table {
    imc_cell_base c; /* first */
    char *file;
} table;

/* Parse one CSV number (plain, in siemens) from *P up to ',' or the line's end. */
static int number(const char **p, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(*p, &end);
    if (end == *p || errno == ERANGE || !isfinite(*v))
        return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r')
        end++;
    *p = end;
    return 0;
}

static int read_table(table *t, int *levels, imc_err *err)
{
    const char *path = t->c.base.path;
    if (!t->file)
        return imc_err_set(err, IMC_EINPUT, "%s: table: no file given", path);
    FILE *f = fopen(t->file, "r");
    if (!f)
        return imc_err_set(err, IMC_EINPUT, "%s: table: cannot read %s: %s", path, t->file,
                           strerror(errno));
    char line[512];
    int n = 0, lineno = 0, header = 0, rc = 0;
    const int max = 1 << IMC_CELL_MAX_BITS;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        const char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p)
            continue;
        if (!header) {
            if (strncmp(p, "conductance,sigma", 17) || strspn(p + 17, " \t\r\n") != strlen(p + 17))
                rc = imc_err_set(err, IMC_EINPUT,
                                 "%s: %s:%d: the first line must be the header "
                                 "'conductance,sigma'",
                                 path, t->file, lineno);
            header = 1;
            continue;
        }
        double g, sigma;
        if (n == max)
            rc = imc_err_set(err, IMC_EINPUT, "%s: %s:%d: more than %d levels", path, t->file,
                             lineno, max);
        else if (number(&p, &g) || *p++ != ',' || number(&p, &sigma) ||
                 (*p && *p != '\n'))
            rc = imc_err_set(err, IMC_EINPUT,
                             "%s: %s:%d: expected 'conductance,sigma' (two numbers in siemens)",
                             path, t->file, lineno);
        else if (!(g > 0) || sigma < 0)
            rc = imc_err_set(err, IMC_EINPUT,
                             "%s: %s:%d: a conductance must be positive and a sigma not negative",
                             path, t->file, lineno);
        else if (n > 0 && !(g > t->c.level_g[n - 1]))
            rc = imc_err_set(err, IMC_EINPUT,
                             "%s: %s:%d: levels must be listed lowest first, each above the last",
                             path, t->file, lineno);
        else {
            t->c.level_g[n] = g;
            t->c.level_sigma[n++] = sigma;
        }
    }
    if (!rc && ferror(f))
        rc = imc_err_set(err, IMC_EINPUT, "%s: table: cannot read %s", path, t->file);
    fclose(f);
    if (!rc && (n < 2 || (n & (n - 1))))
        rc = imc_err_set(err, IMC_EINPUT,
                         "%s: %s has %d levels; a cell needs a power of two, 2 to %d", path,
                         t->file, n, max);
    *levels = n;
    return rc;
}

static int table_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    table *t = (table *)self;
    int n, rc = read_table(t, &n, err);
    if (rc)
        return rc;
    int bits = 0;
    while ((1 << bits) < n)
        bits++;
    if (t->c.bits >= 0 && t->c.bits != bits)
        return imc_err_set(err, IMC_EINPUT, "%s: bits is %d but %s holds %d levels (%d bits)",
                           self->path, t->c.bits, t->file, n, bits);
    t->c.bits = bits;
    double sum = 0;
    for (int l = 0; l < n; l++)
        sum += t->c.level_g[l];
    return imc_cell_finish(self, env, sum / n, err);
}

static const imc_param table_params[] = {
    {"table", IMC_PT_STRING, IMC_DIM_NONE, 0, 0, 0, IMC_PF_REQUIRED | IMC_PF_PATH,
     IMC_OFF(table, file), NULL,
     "CSV of the levels: 'conductance,sigma' per level in siemens, lowest first"},
    {"bits", IMC_PT_INT, IMC_DIM_NONE, -1, 1, IMC_CELL_MAX_BITS, IMC_PF_OPTIONAL,
     IMC_OFF(table, c.bits), NULL, "bits stored per cell; default log2 of the table's levels"},
    IMC_CELL_PULSE_PARAMS(table),
    IMC_CELL_FAULT_PARAMS(table),
};

const imc_model imc_model_cell_table = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_CELL,
    .name = "cell/table",
    .doc = "Cell whose levels (mean conductance and spread of each) come from a CSV of measured "
           "device data; pulses, noise and faults as cell/reram.",
    .instance_size = sizeof(table),
    IMC_PARAMS(table_params),
    .init = table_init,
    .cell = &imc_cell_common_ops,
};
