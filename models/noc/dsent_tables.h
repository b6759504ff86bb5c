/* dsent_tables.h -- what a mesh router and its link cost, from DSENT runs at 32 nm, for
 * noc/mesh's defaults.
 *
 * Source: DSENT 0.91 (C. Sun, C.-H. O. Chen, G. Kurian, L. Wei, J. Miller, A. Agarwal, L.-S. Peh,
 * V. Stojanovic, "DSENT - A Tool Connecting Emerging Photonics with Electronics for
 * Opto-Electronic Networks-on-Chip Modeling", NOCS 2012), as shipped in gem5 (ext/dsent, commit
 * of github.com/gem5/gem5 mirrored 2026-12), run standalone on its own configs/router.cfg
 * (input-buffered virtual-channel router: 2 virtual networks of 2 and 3 VCs, 4 and 5 flit
 * buffers each, DFF-RAM buffers, multiplexer crossbar, matrix arbiters, 1 GHz with timing
 * optimisation) with the Bulk32LVT technology model and the number of ports and the flit width
 * varied. Each row: ports (in = out), flit bits, the energy of one flit through the router
 * (buffer write + buffer read + crossbar traversal + both switch-arbitration stages, J), the
 * router's leakage (W) and its area (m2). The clock tree's energy (0.3 pJ per cycle for 5 ports
 * x 64 bit, 2 % of that router's static power) is left out: it is not per flit and not leakage.
 *
 * The link: DSENT's configs/electrical-link.cfg (a repeated global wire) with Bulk32LVT, 1 mm,
 * 64 bits: 2.073 pJ per 64-bit send = 32.4 fJ per bit per mm (0.5 mm: 1.057 pJ, 2 mm: 4.107 pJ;
 * linear in length within 2 %); its leakage, 0.34 uW per bit, is left out (0.1 % of a router's).
 *
 * noc/mesh fits y = k ports^a flit^b by least squares in logs (powerlaw.h) over the 25 rows:
 * energy 6.98e-14 ports^0.181 flit^0.911 J (rms error 3 %), leakage 6.13e-5 ports^1.091
 * flit^0.944 W (2 %), area 7.21e-11 ports^1.197 flit^1.087 m2 (8 %). For comparison ISAAC's router
 * (8 ports, 32-bit flits, 32 nm, Table I): 42 mW in all at 8 flits per 1.2 GHz cycle, i.e.
 * 4.375 pJ per flit including its links, and 0.151 mm2; DSENT's 8-port 32-bit router: 2.38 pJ per
 * flit, 15.6 mW leakage, 0.035 mm2. */
#ifndef IMC_MODELS_NOC_DSENT_TABLES_H
#define IMC_MODELS_NOC_DSENT_TABLES_H

#include <stddef.h>

#include "models/powerlaw.h"

typedef struct imc_dsent_row {
    double ports, flit_bits;
    double flit_j, leakage_w, area_m2;
} imc_dsent_row;

/* DSENT router.cfg, Bulk32LVT, 1 GHz. */
static const imc_dsent_row imc_dsent_router32[] = {
    /* ports flit  J per flit    leakage W   area m2 */
    {3,  16, 1.09488e-12, 0.00282223, 6.17855e-09},
    {3,  32, 1.96362e-12, 0.00528506, 1.1731e-08},
    {3,  64, 3.70108e-12, 0.0102107, 2.35514e-08},
    {3, 128, 7.17601e-12, 0.0200647, 4.98717e-08},
    {3, 256, 1.41259e-11, 0.03977,   1.13215e-07},
    {4,  16, 1.13907e-12, 0.00384479, 8.41328e-09},
    {4,  32, 2.02985e-12, 0.00716335, 1.59281e-08},
    {4,  64, 3.81142e-12, 0.0138004, 3.22834e-08},
    {4, 128, 7.37455e-12, 0.0270774, 6.9755e-08},
    {4, 256, 1.4501e-11,  0.0536318, 1.63731e-07},
    {5,  16, 1.20053e-12, 0.00493988, 1.08021e-08},
    {5,  32, 2.1203e-12,  0.00913155, 2.03311e-08},
    {5,  64, 3.95983e-12, 0.0175171, 4.15218e-08},
    {5, 128, 7.63891e-12, 0.034287,  9.13343e-08},
    {5, 256, 1.49974e-11, 0.0678294, 2.207e-07},
    {6,  16, 1.25901e-12, 0.00610349, 1.33369e-08},
    {6,  32, 2.20283e-12, 0.0111857, 2.4939e-08},
    {6,  64, 4.09047e-12, 0.0213528, 5.12593e-08},
    {6, 128, 7.86576e-12, 0.0416842, 1.14602e-07},
    {6, 256, 1.54168e-11, 0.0823516, 2.84114e-07},
    {8,  16, 1.38714e-12, 0.00870903, 1.89885e-08},
    {8,  32, 2.37907e-12, 0.0156244, 3.4904e-08},
    {8,  64, 4.36292e-12, 0.0294579, 7.23756e-08},
    {8, 128, 8.33078e-12, 0.057126,  1.66352e-07},
    {8, 256, 1.62668e-11, 0.112463,  4.30432e-07},
};
#define IMC_DSENT_ROUTER32_N (sizeof imc_dsent_router32 / sizeof imc_dsent_router32[0])
#define IMC_DSENT_NODE_M 32e-9
/* The ranges the runs cover; noc/mesh evaluates its fits only inside them. */
#define IMC_DSENT_PORTS_MIN 3
#define IMC_DSENT_PORTS_MAX 8
#define IMC_DSENT_FLIT_MIN 16
#define IMC_DSENT_FLIT_MAX 256

/* DSENT electrical-link.cfg, Bulk32LVT: 2.07333 pJ per 64 bits over 1 mm. */
#define IMC_DSENT_LINK_J_PER_BIT_M (2.07333e-12 / 64 / 1e-3)

typedef enum imc_dsent_col { IMC_DSENT_FLIT, IMC_DSENT_LEAKAGE, IMC_DSENT_AREA } imc_dsent_col;

/* The least-squares fit of ln(COL) = ln k + a ln(ports) + b ln(flit bits) over the table. */
static inline imc_powerlaw imc_dsent_fit(imc_dsent_col col)
{
    imc_powerlaw_acc acc = {{{0}}, {0}};
    for (size_t i = 0; i < IMC_DSENT_ROUTER32_N; i++) {
        const imc_dsent_row *r = &imc_dsent_router32[i];
        double y = col == IMC_DSENT_FLIT ? r->flit_j : col == IMC_DSENT_LEAKAGE ? r->leakage_w
                                                                                 : r->area_m2;
        imc_powerlaw_add(&acc, r->ports, r->flit_bits, y);
    }
    return imc_powerlaw_solve(&acc);
}

#endif
