/* units.c -- parse and format quantities with units (see units.h).
 *
 * The unit table is the single list of spellings the loader accepts. Parsing is strict: the
 * whole text must be "<number> <unit>" (space optional), the number finite and decimal. */
#include "sim/base/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct unit {
    const char *sym;
    imc_dim dim;
    double factor; /* SI value of 1 sym */
} unit;

/* Convert NUM in unit U to SI. Sub-unit prefixes divide by the exact power of ten (100 ns is
 * 100 / 1e9, exactly 1e-7) instead of multiplying by an inexact 1e-9. */
static double to_si(double num, const unit *u)
{
    return u->factor < 1 ? num / round(1.0 / u->factor) : num * u->factor;
}

static double from_si(double si, const unit *u)
{
    return u->factor < 1 ? si * round(1.0 / u->factor) : si / u->factor;
}

static const unit units[] = {
    {"fs", IMC_DIM_TIME, 1e-15}, {"ps", IMC_DIM_TIME, 1e-12}, {"ns", IMC_DIM_TIME, 1e-9},
    {"us", IMC_DIM_TIME, 1e-6}, {"\xc2\xb5s", IMC_DIM_TIME, 1e-6}, {"ms", IMC_DIM_TIME, 1e-3},
    {"s", IMC_DIM_TIME, 1},

    {"Hz", IMC_DIM_FREQ, 1}, {"kHz", IMC_DIM_FREQ, 1e3}, {"MHz", IMC_DIM_FREQ, 1e6},
    {"GHz", IMC_DIM_FREQ, 1e9}, {"S/s", IMC_DIM_FREQ, 1}, {"kS/s", IMC_DIM_FREQ, 1e3},
    {"MS/s", IMC_DIM_FREQ, 1e6}, {"GS/s", IMC_DIM_FREQ, 1e9},

    {"aJ", IMC_DIM_ENERGY, 1e-18}, {"fJ", IMC_DIM_ENERGY, 1e-15}, {"pJ", IMC_DIM_ENERGY, 1e-12},
    {"nJ", IMC_DIM_ENERGY, 1e-9}, {"uJ", IMC_DIM_ENERGY, 1e-6}, {"mJ", IMC_DIM_ENERGY, 1e-3},
    {"J", IMC_DIM_ENERGY, 1},

    {"pW", IMC_DIM_POWER, 1e-12}, {"nW", IMC_DIM_POWER, 1e-9}, {"uW", IMC_DIM_POWER, 1e-6},
    {"\xc2\xb5W", IMC_DIM_POWER, 1e-6}, {"mW", IMC_DIM_POWER, 1e-3}, {"W", IMC_DIM_POWER, 1},
    {"kW", IMC_DIM_POWER, 1e3},

    {"nm2", IMC_DIM_AREA, 1e-18}, {"um2", IMC_DIM_AREA, 1e-12},
    {"\xc2\xb5m2", IMC_DIM_AREA, 1e-12}, {"mm2", IMC_DIM_AREA, 1e-6},
    {"cm2", IMC_DIM_AREA, 1e-4}, {"m2", IMC_DIM_AREA, 1},

    {"nm", IMC_DIM_LENGTH, 1e-9}, {"um", IMC_DIM_LENGTH, 1e-6}, {"mm", IMC_DIM_LENGTH, 1e-3},
    {"m", IMC_DIM_LENGTH, 1},

    {"bit", IMC_DIM_DATA, 1}, {"bits", IMC_DIM_DATA, 1}, {"kbit", IMC_DIM_DATA, 1e3},
    {"Kibit", IMC_DIM_DATA, 1024}, {"Mbit", IMC_DIM_DATA, 1e6},
    {"Mibit", IMC_DIM_DATA, 1048576}, {"B", IMC_DIM_DATA, 8}, {"kB", IMC_DIM_DATA, 8e3},
    {"KiB", IMC_DIM_DATA, 8 * 1024.0}, {"MB", IMC_DIM_DATA, 8e6},
    {"MiB", IMC_DIM_DATA, 8 * 1048576.0}, {"GB", IMC_DIM_DATA, 8e9},
    {"GiB", IMC_DIM_DATA, 8 * 1073741824.0},

    {"bit/s", IMC_DIM_DATARATE, 1}, {"kbit/s", IMC_DIM_DATARATE, 1e3},
    {"Mbit/s", IMC_DIM_DATARATE, 1e6}, {"Gbit/s", IMC_DIM_DATARATE, 1e9},
    {"B/s", IMC_DIM_DATARATE, 8}, {"kB/s", IMC_DIM_DATARATE, 8e3},
    {"MB/s", IMC_DIM_DATARATE, 8e6}, {"GB/s", IMC_DIM_DATARATE, 8e9},
    {"TB/s", IMC_DIM_DATARATE, 8e12}, {"MiB/s", IMC_DIM_DATARATE, 8 * 1048576.0},
    {"GiB/s", IMC_DIM_DATARATE, 8 * 1073741824.0},

    {"ohm", IMC_DIM_RESIST, 1}, {"kohm", IMC_DIM_RESIST, 1e3}, {"Mohm", IMC_DIM_RESIST, 1e6},
    {"Gohm", IMC_DIM_RESIST, 1e9}, {"\xce\xa9", IMC_DIM_RESIST, 1},
    {"k\xce\xa9", IMC_DIM_RESIST, 1e3}, {"M\xce\xa9", IMC_DIM_RESIST, 1e6},

    {"nS", IMC_DIM_CONDUCT, 1e-9}, {"uS", IMC_DIM_CONDUCT, 1e-6},
    {"\xc2\xb5S", IMC_DIM_CONDUCT, 1e-6}, {"mS", IMC_DIM_CONDUCT, 1e-3},
    {"S", IMC_DIM_CONDUCT, 1},

    {"uV", IMC_DIM_VOLTAGE, 1e-6}, {"mV", IMC_DIM_VOLTAGE, 1e-3}, {"V", IMC_DIM_VOLTAGE, 1},
};
#define N_UNITS (sizeof units / sizeof units[0])

/* Spellings that look like units but are ambiguous; each names what to write instead. */
static const struct {
    const char *sym, *advice;
} ambiguous[] = {
    {"KB", "write KiB (1024 B) or kB (1000 B)"},
    {"Kb", "write Kibit or kbit"},
    {"b", "write bit or B"},
};

static const struct {
    const char *name, *example, *base;
} dims[IMC_DIM_COUNT] = {
    [IMC_DIM_NONE] = {"a plain number", "4", ""},
    [IMC_DIM_TIME] = {"a time", "100 ns", "s"},
    [IMC_DIM_FREQ] = {"a frequency", "1.2 GHz", "Hz"},
    [IMC_DIM_ENERGY] = {"an energy", "1.67 pJ", "J"},
    [IMC_DIM_POWER] = {"a power", "2 mW", "W"},
    [IMC_DIM_AREA] = {"an area", "1200 um2", "m2"},
    [IMC_DIM_LENGTH] = {"a length", "32 nm", "m"},
    [IMC_DIM_DATA] = {"a data size", "64 KiB", "bit"},
    [IMC_DIM_DATARATE] = {"a data rate", "25.6 GB/s", "bit/s"},
    [IMC_DIM_RESIST] = {"a resistance", "6 kohm", "ohm"},
    [IMC_DIM_CONDUCT] = {"a conductance", "100 uS", "S"},
    [IMC_DIM_VOLTAGE] = {"a voltage", "0.2 V", "V"},
};

const char *imc_dim_name(imc_dim dim)
{
    return dim < IMC_DIM_COUNT ? dims[dim].name : "?";
}

const char *imc_dim_example(imc_dim dim)
{
    return dim < IMC_DIM_COUNT ? dims[dim].example : "?";
}

const char *imc_dim_unit(imc_dim dim)
{
    return dim < IMC_DIM_COUNT ? dims[dim].base : "?";
}

static const unit *find_unit(const char *sym)
{
    for (size_t i = 0; i < N_UNITS; i++)
        if (strcmp(units[i].sym, sym) == 0)
            return &units[i];
    return NULL;
}

int imc_decimal_parse(const char *s, double *out, const char **end)
{
    const char *p = s;
    int digits = 0, nonzero = 0;
    if (*p == '+' || *p == '-')
        p++;
    for (; isdigit((unsigned char)*p); p++, digits++)
        nonzero |= *p != '0';
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++, digits++)
            nonzero |= *p != '0';
    if (!digits)
        return IMC_DECIMAL_SYNTAX; /* rejects inf, nan, a lone '.' */
    if ((*p == 'e' || *p == 'E') &&
        (isdigit((unsigned char)p[1]) ||
         ((p[1] == '+' || p[1] == '-') && isdigit((unsigned char)p[2])))) {
        p += 2;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'x' || *p == 'X' || p - s > 300) /* 0x10: not 0 followed by a unit 'x10' */
        return IMC_DECIMAL_SYNTAX;
    char buf[304];
    memcpy(buf, s, (size_t)(p - s));
    buf[p - s] = '\0';
    errno = 0;
    double v = strtod(buf, NULL);
    /* ERANGE is also set for a subnormal result, which is a number; only infinity and a
     * non-zero literal that became zero are out of range */
    if (!isfinite(v) || (v == 0 && nonzero))
        return IMC_DECIMAL_RANGE;
    *out = v;
    *end = p;
    return 0;
}

int imc_quantity_parse(const char *text, imc_dim want, double *si, char *why, size_t why_size)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    double num;
    const char *end;
    int st = imc_decimal_parse(p, &num, &end);
    if (st == IMC_DECIMAL_RANGE) {
        snprintf(why, why_size, "'%s' is out of range (a number's magnitude must be within "
                 "1e-308 .. 1e308)", text);
        return -1;
    }
    if (st) {
        snprintf(why, why_size, "'%s' is not a number (expected %s, e.g. %s)", text,
                 imc_dim_name(want), imc_dim_example(want));
        return -1;
    }
    while (isspace((unsigned char)*end))
        end++;
    char sym[32];
    size_t n = strlen(end);
    while (n > 0 && isspace((unsigned char)end[n - 1]))
        n--;
    if (n >= sizeof sym) {
        snprintf(why, why_size, "unknown unit in '%s'", text);
        return -1;
    }
    memcpy(sym, end, n);
    sym[n] = '\0';

    if (want == IMC_DIM_NONE) {
        if (n == 0) {
            *si = num;
            return 0;
        }
        if (strcmp(sym, "%") == 0) {
            *si = num / 100.0;
            return 0;
        }
        snprintf(why, why_size, "'%s' has a unit but this value is a plain number", text);
        return -1;
    }
    if (n == 0) {
        snprintf(why, why_size, "'%s' is missing its unit (expected %s, e.g. %s)", text,
                 imc_dim_name(want), imc_dim_example(want));
        return -1;
    }
    for (size_t i = 0; i < sizeof ambiguous / sizeof ambiguous[0]; i++)
        if (strcmp(ambiguous[i].sym, sym) == 0) {
            snprintf(why, why_size, "unit '%s' is ambiguous: %s", sym, ambiguous[i].advice);
            return -1;
        }
    const unit *u = find_unit(sym);
    if (!u) {
        snprintf(why, why_size, "unknown unit '%s' (expected %s, e.g. %s)", sym,
                 imc_dim_name(want), imc_dim_example(want));
        return -1;
    }
    if (u->dim != want) {
        snprintf(why, why_size, "'%s' is %s but %s is expected (e.g. %s)", text,
                 imc_dim_name(u->dim), imc_dim_name(want), imc_dim_example(want));
        return -1;
    }
    *si = to_si(num, u);
    return 0;
}

/* Display units per dimension, largest first; the first whose value is >= 1 is used. */
static const char *const display[IMC_DIM_COUNT][8] = {
    [IMC_DIM_TIME] = {"s", "ms", "us", "ns", "ps", "fs"},
    [IMC_DIM_FREQ] = {"GHz", "MHz", "kHz", "Hz"},
    [IMC_DIM_ENERGY] = {"J", "mJ", "uJ", "nJ", "pJ", "fJ", "aJ"},
    [IMC_DIM_POWER] = {"kW", "W", "mW", "uW", "nW", "pW"},
    [IMC_DIM_AREA] = {"m2", "cm2", "mm2", "um2", "nm2"},
    [IMC_DIM_LENGTH] = {"m", "mm", "um", "nm"},
    [IMC_DIM_DATA] = {"GiB", "MiB", "KiB", "B", "bit"},
    [IMC_DIM_DATARATE] = {"GB/s", "MB/s", "kB/s", "B/s", "bit/s"},
    [IMC_DIM_RESIST] = {"Gohm", "Mohm", "kohm", "ohm"},
    [IMC_DIM_CONDUCT] = {"S", "mS", "uS", "nS"},
    [IMC_DIM_VOLTAGE] = {"V", "mV", "uV"},
};

static int round_trips(const char *buf, imc_dim dim, double si)
{
    double back;
    char why[8];
    return imc_quantity_parse(buf, dim, &back, why, sizeof why) == 0 && back == si;
}

void imc_quantity_format(double si, imc_dim dim, char *buf, size_t size)
{
    if (dim == IMC_DIM_NONE || dim >= IMC_DIM_COUNT) {
        snprintf(buf, size, "%.15g", si);
        if (!round_trips(buf, IMC_DIM_NONE, si))
            snprintf(buf, size, "%.17g", si);
        return;
    }
    const char *const *list = display[dim];
    for (int i = 0; list[i]; i++) {
        const unit *u = find_unit(list[i]);
        double v = from_si(si, u);
        if (si == 0 && u->factor != 1)
            continue; /* zero in the base unit */
        if (fabs(v) < 1 && list[i + 1] && si != 0)
            continue;
        if (dim == IMC_DIM_DATA && v != floor(v) && list[i + 1])
            continue; /* sizes: the largest unit that divides exactly */
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(buf, size, "%.*g %s", digits, v, list[i]);
            if (round_trips(buf, dim, si))
                return;
        }
        break;
    }
    snprintf(buf, size, "%.17g %s", si, imc_dim_unit(dim));
}
