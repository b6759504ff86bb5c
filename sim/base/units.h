/* units.h -- physical quantities in config text ("100 ns", "1.2 GHz", "64 KiB") to SI doubles.
 *
 * Every quantity in an architecture file carries its unit; the loader converts to the SI base
 * unit of its dimension (s, Hz, J, W, m2, m, bit, bit/s, ohm, S, V) and rejects a missing,
 * unknown or wrong unit. Data sizes use the bit as base (1 B = 8 bit) so that widths such as
 * "256 bit" stay exact. Formatting goes the other way, choosing a readable prefix that parses
 * back to the identical double, so a dumped config reproduces the run bit for bit. */
#ifndef IMC_UNITS_H
#define IMC_UNITS_H

#include <stddef.h>

typedef enum imc_dim {
    IMC_DIM_NONE = 0, /* a plain number; "%" is accepted and divides by 100 */
    IMC_DIM_TIME,     /* s */
    IMC_DIM_FREQ,     /* Hz (also S/s for converters) */
    IMC_DIM_ENERGY,   /* J */
    IMC_DIM_POWER,    /* W */
    IMC_DIM_AREA,     /* m2 */
    IMC_DIM_LENGTH,   /* m */
    IMC_DIM_DATA,     /* bit */
    IMC_DIM_DATARATE, /* bit/s */
    IMC_DIM_RESIST,   /* ohm */
    IMC_DIM_CONDUCT,  /* S */
    IMC_DIM_VOLTAGE,  /* V */
    IMC_DIM_COUNT
} imc_dim;

/* imc_decimal_parse's outcomes besides 0. */
enum { IMC_DECIMAL_SYNTAX = -1, IMC_DECIMAL_RANGE = -2 };

/* Parse the decimal number at the start of S, [+-]DIGITS[.DIGITS][e[+-]DIGITS] or
 * [+-].DIGITS[...], into *OUT and set *END past it. Hex, inf, nan and more than 300 characters
 * are IMC_DECIMAL_SYNTAX; a magnitude beyond a double's (1e400), or so small it would round to
 * zero (1e-400), is IMC_DECIMAL_RANGE; subnormals (1e-320) are fine. The one number syntax of
 * config values, sweep values and constraint literals. */
int imc_decimal_parse(const char *s, double *out, const char **end);

/* Name of a dimension for messages ("a time", "a frequency"). */
const char *imc_dim_name(imc_dim dim);

/* An example quantity of the dimension for messages ("100 ns"). */
const char *imc_dim_example(imc_dim dim);

/* The SI base unit symbol ("s", "Hz", "bit", ...); "" for IMC_DIM_NONE. */
const char *imc_dim_unit(imc_dim dim);

/* Parse TEXT as a quantity of dimension WANT into *SI. On failure returns a negative value and
 * writes a one-line reason (without location) into WHY. */
int imc_quantity_parse(const char *text, imc_dim want, double *si, char *why, size_t why_size);

/* Format SI (a value of dimension DIM) with a readable unit such that imc_quantity_parse()
 * returns exactly SI again. */
void imc_quantity_format(double si, imc_dim dim, char *buf, size_t size);

#endif
