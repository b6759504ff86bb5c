/* noc/mesh.c -- one router of a concentrated mesh, with its outgoing links: a flit crossing it
 * is one `flit_hop`.
 *
 * Defaults are ISAAC's inter-tile network (Table I, 32 nm, 1.2 GHz): 32-bit flits, 8-port
 * routers each shared by 4 tiles, 42 mW and 0.151 mm2 per router. With every port passing one
 * flit per cycle that is 42 mW / (8 ports x 1.2 GHz) = 4.375 pJ per flit per port, scaled
 * linearly with flit_width (per-bit energy held; assumption). ISAAC's router power is taken to
 * cover its links, so link_energy defaults to 0 (add wire energy there explicitly). A hop takes
 * router_latency + link_latency cycles of the router clock (assumption: 1 + 1; ISAAC gives
 * none). Area is ISAAC's router, scaled from 32 nm by the area factors of Stillmaker and Baas
 * (techscale.h); its energies by their energy fit but not with width or ports. */
#include "models/model.h"

#include <math.h>

#include "models/common.h"

/* ISAAC Table I: one router, 42 mW, 8 ports, 32-bit flits, 1.2 GHz, 0.151 mm2. */
#define ISAAC_FLIT_PORT_J (42e-3 / (8 * 1.2e9))
#define ISAAC_ROUTER_M2 0.151e-6

typedef struct mesh {
    imc_instance base;
    double flit_bits;
    int ports, concentration;
    int router_cycles, link_cycles;
    double router_energy_j; /* per flit; NAN = ISAAC per bit x flit_width */
    double link_energy_j;
    double area_m2; /* explicit; NAN = ISAAC node-scaled */
    double leakage_w;
    double clock_hz; /* NAN = the chip clock */
    /* derived */
    double hop_pj, area_um2, clk_hz;
    uint32_t hop_cycles;
} mesh;

static int mesh_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    mesh *m = (mesh *)self;
    m->clk_hz = isnan(m->clock_hz) ? env->clock_hz : m->clock_hz;
    int rc = imc_models_period(self, m->clk_hz,
                               isnan(m->clock_hz) ? "the chip clock (clock_hz)" : "clock", err);
    if (rc)
        return rc;
    double e_scale;
    if ((rc = imc_models_tech(self, env, IMC_TECH_ENERGY, 32e-9, &e_scale, err)))
        return rc;
    double router_j = !isnan(m->router_energy_j) ? m->router_energy_j
                                                 : ISAAC_FLIT_PORT_J * m->flit_bits / 32 * e_scale;
    m->hop_pj = (router_j + m->link_energy_j) * 1e12;
    m->hop_cycles = (uint32_t)(m->router_cycles + m->link_cycles);
    if (!isnan(m->area_m2)) {
        m->area_um2 = m->area_m2 * 1e12;
    } else {
        double scale;
        if ((rc = imc_models_node_scale(self, env, 32e-9, &scale, err)))
            return rc;
        m->area_um2 = ISAAC_ROUTER_M2 * 1e12 * scale;
    }
    self->cost[IMC_NOC_FLIT_HOP] = (imc_cost){m->hop_pj, m->hop_cycles};
    self->area_um2 = m->area_um2;
    self->leakage_mw = m->leakage_w * 1e3;
    self->peak_power_mw = m->ports * m->clk_hz * m->hop_pj * 1e-12 * 1e3 + self->leakage_mw;
    return 0;
}

/* Every port forwarding one flit per cycle (the router is pipelined). */
static const imc_param mesh_params[] = {
    {"flit_width", IMC_PT_REAL, IMC_DIM_DATA, 32, 1, 4096, IMC_PF_SIZE,
     IMC_OFF(mesh, flit_bits), NULL,
     "bits per flit (ISAAC: 32)"},
    {"ports", IMC_PT_INT, IMC_DIM_NONE, 8, 2, 64, IMC_PF_SIZE, IMC_OFF(mesh, ports), NULL,
     "router ports, local and network (ISAAC: 8)"},
    {"concentration", IMC_PT_INT, IMC_DIM_NONE, 4, 1, 64, 0, IMC_OFF(mesh, concentration), NULL,
     "tiles sharing one router (ISAAC: 4)"},
    {"router_latency", IMC_PT_INT, IMC_DIM_NONE, 1, 1, 64, 0, IMC_OFF(mesh, router_cycles), NULL,
     "router pipeline depth in cycles (assumption: 1)"},
    {"link_latency", IMC_PT_INT, IMC_DIM_NONE, 1, 0, 64, 0, IMC_OFF(mesh, link_cycles), NULL,
     "link traversal in cycles (assumption: 1)"},
    {"router_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-9, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(mesh, router_energy_j), NULL,
     "energy per flit through the router; default ISAAC 42 mW/(8 x 1.2 GHz) per 32 bit"},
    {"link_energy", IMC_PT_REAL, IMC_DIM_ENERGY, 0, 0, 1e-9, IMC_PF_NODE,
     IMC_OFF(mesh, link_energy_j),
     NULL, "energy per flit on one link (assumption: 0, inside ISAAC's router power)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-4, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(mesh, area_m2),
     NULL, "area of one router; default ISAAC Table I 0.151 mm2 at 32 nm, node-scaled"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, 0, 0, 10, IMC_PF_NODE, IMC_OFF(mesh, leakage_w), NULL,
     "static power of one router (ISAAC reports total power only: 0)"},
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL,
     IMC_OFF(mesh, clock_hz), NULL, "router clock; default the chip clock"},
};

const imc_model imc_model_noc_mesh = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_NOC,
    .name = "noc/mesh",
    .doc = "Router of a concentrated mesh (one instance per router); ISAAC's 8-port, 32-bit-flit "
           "router shared by 4 tiles by default (4.375 pJ per flit hop, 0.151 mm2).",
    .instance_size = sizeof(mesh),
    IMC_PARAMS(mesh_params),
    .init = mesh_init,
    .node_m = 32e-9, /* ISAAC Table I */
};
