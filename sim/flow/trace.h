/* trace.h -- the op graph as a versioned text file (format: traces/README.md): written from a
 * graph, read back into one, and turned into a weightless network for mapping. A trace lets a
 * user replay or hand-edit a dataflow without a model file; reading one checks every field as
 * strictly as an architecture file and names the line of any mistake. */
#ifndef IMC_TRACE_H
#define IMC_TRACE_H

#include <stdio.h>

#include "sim/flow/dataflow.h"

/* Write G as a versioned text trace (format: traces/README.md). */
int imc_trace_write(const imc_flow *g, FILE *out, imc_err *err);

/* Read a trace written by imc_trace_write; errors name PATH and the line. */
int imc_trace_read(imc_flow **out, const char *path, imc_err *err);

/* The same from an open stream (a fuzz target's memory); NAME is used in messages. */
int imc_trace_read_stream(imc_flow **out, FILE *fp, const char *name, imc_err *err);

/* A network holding only G's layers (shapes and names, no tensors), for mapping a trace. */
int imc_flow_network(const imc_flow *g, imc_network **out, imc_err *err);

#endif
