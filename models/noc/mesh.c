/* noc/mesh.c -- one router of a concentrated mesh, with its outgoing link: a flit crossing it
 * is one `flit_hop`.
 *
 * Structure defaults are ISAAC's inter-tile network (Shafiee et al., ISCA 2016, Table I):
 * 32-bit flits, 8-port routers each shared by 4 tiles. Costs come from DSENT (Sun et al., NOCS
 * 2012) runs at 32 nm (dsent_tables.h): a flit hop costs the router's energy per flit, the
 * least-squares power law in ports and flit width fitted to DSENT's router (buffer write and
 * read, crossbar, switch arbitration), plus the link's, DSENT's repeated global wire at
 * 32.4 fJ per bit per mm x flit_width x link_length (link_length an assumption: 1 mm, about a
 * tile's pitch); static power is DSENT's router leakage, area its router area, both fitted the
 * same way. The fits are evaluated only where DSENT ran (3-8 ports, 16-256-bit flits): a wider
 * flit is carried by ceil(flit_width / 256) routers side by side, each switching an equal share
 * of the bits (a bit-sliced router, as wide on-chip networks are built from parallel narrow
 * ones), so energy, leakage and area are that many slices' at the slice width; ports or flits
 * outside the runs are refused unless router_energy, leakage and area are all given.
 * Energies scale to the run's node by Stillmaker and Baas's energy fit, leakage by
 * their power fit, area by their area factors (techscale.h). Explicit router_energy,
 * link_energy, leakage and area win (isaac.yaml gives ISAAC's 4.375 pJ per flit, links
 * included, and 0.151 mm2). A hop takes router_latency + link_latency cycles of the router
 * clock (assumption: 1 + 1; ISAAC gives none). The derivation is printed in the hardware
 * report. */
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/common.h"
#include "models/noc/dsent_tables.h"

typedef struct mesh {
    imc_instance base;
    double flit_bits;
    int ports, concentration;
    int router_cycles, link_cycles;
    double router_energy_j; /* per flit; NAN = the DSENT fit */
    double link_energy_j;   /* per flit; NAN = DSENT's wire x link_length */
    double link_length_m;
    double area_m2;   /* explicit; NAN = the DSENT fit */
    double leakage_w; /* explicit; NAN = the DSENT fit */
    double clock_hz;  /* NAN = the chip clock */
    /* derived */
    double hop_pj, area_um2, clk_hz;
    uint32_t hop_cycles;
} mesh;

static int mesh_init(imc_instance *self, const imc_model_env *env, imc_err *err)
{
    mesh *m = (mesh *)self;
    char line[sizeof self->assumptions] = "";
    size_t len;
    m->clk_hz = isnan(m->clock_hz) ? env->clock_hz : m->clock_hz;
    int rc = imc_models_period(self, m->clk_hz,
                               isnan(m->clock_hz) ? "the chip clock (clock_hz)" : "clock", err);
    if (rc)
        return rc;
    int fitted = isnan(m->router_energy_j) || isnan(m->leakage_w) || isnan(m->area_m2);
    if (fitted && (m->ports < IMC_DSENT_PORTS_MIN || m->ports > IMC_DSENT_PORTS_MAX)) {
        imc_err_set(err, IMC_EINPUT,
                    "%s.ports: %d is outside the DSENT runs the default router costs are fitted "
                    "to (%d-%d ports); give router_energy, leakage and area",
                    self->path, m->ports, IMC_DSENT_PORTS_MIN, IMC_DSENT_PORTS_MAX);
        return IMC_EINPUT;
    }
    if (fitted && m->flit_bits < IMC_DSENT_FLIT_MIN) {
        imc_err_set(err, IMC_EINPUT,
                    "%s.flit_width: %g bit is narrower than the DSENT runs the default router "
                    "costs are fitted to (%d-%d bit); give router_energy, leakage and area",
                    self->path, m->flit_bits, IMC_DSENT_FLIT_MIN, IMC_DSENT_FLIT_MAX);
        return IMC_EINPUT;
    }
    /* A flit wider than the runs is switched by SLICES routers of SLICE_BITS each. */
    double slices = ceil(m->flit_bits / IMC_DSENT_FLIT_MAX), slice_bits = m->flit_bits / slices;
    if (fitted && slices > 1) {
        len = strlen(line);
        snprintf(line + len, sizeof line - len, "%g-bit flit = %g router slices of %.4g bit",
                 m->flit_bits, slices, slice_bits);
    }
    double scale, router_j = m->router_energy_j, link_j = m->link_energy_j;
    if (isnan(router_j) || isnan(link_j)) {
        if ((rc = imc_models_tech(self, env, IMC_TECH_ENERGY, IMC_DSENT_NODE_M, &scale, err)))
            return rc;
        if (isnan(router_j)) {
            imc_powerlaw e = imc_dsent_fit(IMC_DSENT_FLIT);
            router_j = slices * imc_powerlaw_eval(e, m->ports, slice_bits) * scale;
            len = strlen(line);
            snprintf(line + len, sizeof line - len,
                     "%srouter %.4g pJ per flit = %sDSENT fit %.3g ports^%.3f flit^%.3f pJ x %.3g",
                     len ? "; " : "", router_j * 1e12, slices > 1 ? "slices x " : "", e.k * 1e12, e.a, e.b,
                     scale);
        }
        if (isnan(link_j)) {
            link_j = IMC_DSENT_LINK_J_PER_BIT_M * m->flit_bits * m->link_length_m * scale;
            len = strlen(line);
            snprintf(line + len, sizeof line - len,
                     "%slink %.4g pJ = %.3g fJ/bit/mm x %g bit x %g mm x %.3g", len ? "; " : "",
                     link_j * 1e12, IMC_DSENT_LINK_J_PER_BIT_M * 1e12, m->flit_bits,
                     m->link_length_m * 1e3, scale);
        }
    }
    m->hop_pj = (router_j + link_j) * 1e12;
    m->hop_cycles = (uint32_t)(m->router_cycles + m->link_cycles);
    if (!isnan(m->leakage_w)) {
        self->leakage_mw = m->leakage_w * 1e3;
    } else {
        if ((rc = imc_models_tech(self, env, IMC_TECH_POWER, IMC_DSENT_NODE_M, &scale, err)))
            return rc;
        imc_powerlaw l = imc_dsent_fit(IMC_DSENT_LEAKAGE);
        self->leakage_mw = slices * imc_powerlaw_eval(l, m->ports, slice_bits) * scale * 1e3;
        len = strlen(line);
        snprintf(line + len, sizeof line - len,
                 "%sleakage %.4g mW = %s%.3g ports^%.3f flit^%.3f x %.3g", len ? "; " : "",
                 self->leakage_mw, slices > 1 ? "slices x " : "", l.k * 1e3, l.a, l.b, scale);
    }
    if (!isnan(m->area_m2)) {
        m->area_um2 = m->area_m2 * 1e12;
    } else {
        if ((rc = imc_models_node_scale(self, env, IMC_DSENT_NODE_M, &scale, err)))
            return rc;
        imc_powerlaw a = imc_dsent_fit(IMC_DSENT_AREA);
        m->area_um2 = slices * imc_powerlaw_eval(a, m->ports, slice_bits) * 1e12 * scale;
        len = strlen(line);
        snprintf(line + len, sizeof line - len,
                 "%sarea %.4g um2 = %s%.3g ports^%.3f flit^%.3f x %.3g", len ? "; " : "",
                 m->area_um2, slices > 1 ? "slices x " : "", a.k * 1e12, a.a, a.b, scale);
    }
    snprintf(self->assumptions, sizeof self->assumptions, "%s", line);
    self->cost[IMC_NOC_FLIT_HOP] = (imc_cost){m->hop_pj, m->hop_cycles};
    self->area_um2 = m->area_um2;
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
     "energy per flit through the router; default the DSENT fit (32 nm) at ports and "
     "flit_width, node-scaled"},
    {"link_energy", IMC_PT_REAL, IMC_DIM_ENERGY, NAN, 0, 1e-9, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(mesh, link_energy_j), NULL,
     "energy per flit on one link; default DSENT's repeated global wire at 32 nm, 32.4 fJ per "
     "bit per mm x flit_width x link_length, node-scaled"},
    {"link_length", IMC_PT_REAL, IMC_DIM_LENGTH, 1e-3, 1e-6, 0.1, IMC_PF_SIZE,
     IMC_OFF(mesh, link_length_m), NULL,
     "length of one link (assumption: 1 mm, about a tile's pitch)"},
    {"area", IMC_PT_REAL, IMC_DIM_AREA, NAN, 0, 1e-4, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(mesh, area_m2), NULL,
     "area of one router; default the DSENT fit (32 nm) at ports and flit_width, node-scaled"},
    {"leakage", IMC_PT_REAL, IMC_DIM_POWER, NAN, 0, 10, IMC_PF_OPTIONAL | IMC_PF_NODE,
     IMC_OFF(mesh, leakage_w), NULL,
     "static power of one router; default the DSENT fit (32 nm) at ports and flit_width, "
     "node-scaled by the power fit"},
    {"clock", IMC_PT_REAL, IMC_DIM_FREQ, NAN, 1e3, 1e12, IMC_PF_OPTIONAL,
     IMC_OFF(mesh, clock_hz), NULL, "router clock; default the chip clock"},
};

const imc_model imc_model_noc_mesh = {
    .abi = IMC_MODEL_ABI,
    .kind = IMC_KIND_NOC,
    .name = "noc/mesh",
    .doc = "Router of a concentrated mesh (one instance per router), ISAAC's 8-port, 32-bit-flit "
           "router shared by 4 tiles by default; energy per flit, leakage and area from DSENT "
           "fits at 32 nm plus a 1 mm DSENT link, node-scaled.",
    .instance_size = sizeof(mesh),
    IMC_PARAMS(mesh_params),
    .init = mesh_init,
    .node_m = IMC_DSENT_NODE_M, /* the DSENT runs */
};
