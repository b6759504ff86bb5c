/* generic.h -- a network given as a generic graph in its model file (see generic.c). Used by
 * network.c only. */
#ifndef IMC_GENERIC_H
#define IMC_GENERIC_H

#include "sim/net/network.h"

/* Read the graph JSON of NET's file into NET: the graph, its checked tensors (marked in USED,
 * one flag per tensor in header order), the layers, the parameter counts and classes. */
int imc_generic_load(imc_network *net, const char *json, unsigned char *used, imc_err *err);

/* The [in][out] weights and bias of generic layer L (see imc_network_layer_weights). */
int imc_generic_layer_weights(const imc_network *net, const imc_layer *l, float *w, float *bias,
                              imc_err *err);

/* Tensor NAME of NET's file as floats (*OUT, caller frees); an error names the file. */
int imc_network_read_tensor(const imc_network *net, const char *name, float **out, imc_err *err);

#endif
