# sim/local.mk -- the simulator core (libimc.a) and the imcsim command.
noinst_LIBRARIES += libimc.a
libimc_a_SOURCES = \
	sim/err.c sim/err.h \
	sim/cli.c sim/cli.h \
	sim/units.c sim/units.h \
	sim/suggest.c sim/suggest.h \
	sim/ytree.c sim/ytree.h \
	sim/arch.c sim/arch.h \
	sim/outfile.c sim/outfile.h \
	sim/catalog.c sim/catalog.h \
	sim/hwreport.c sim/hwreport.h \
	sim/netfile.c sim/netfile.h \
	sim/network.c sim/network.h \
	sim/modelgen.c sim/modelgen.h \
	sim/mapper.c sim/mapper.h \
	sim/trace.c \
	sim/report.c sim/report.h \
	sim/kernel.c sim/kernel.h sim/kernel_shim.h \
	sim/dataflow.c sim/dataflow.h \
	sim/ledger.c sim/ledger.h \
	sim/engine.c sim/engine.h \
	sim/simulate.c sim/simulate.h \
	sim/dataset.c sim/dataset.h \
	sim/forward.c sim/forward.h \
	sim/imc.c sim/imc.h \
	sim/numerics.c sim/numerics.h \
	sim/sweep_expr.c sim/sweep_expr.h \
	sim/sweep_spec.c sim/sweep_spec.h \
	sim/sweep_run.c sim/sweep_run.h \
	$(MODEL_SOURCES)
libimc_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(GSL_CFLAGS) $(CJSON_CFLAGS) $(ZLIB_CFLAGS)

IMC_LIBS = libimc.a $(YAML_LIBS) $(GSL_LIBS) $(CJSON_LIBS) $(ZLIB_LIBS) $(LIBS)

# The SystemC kernel backend: a C++ shim, compiled only when configure found SystemC. Programs
# stay C and link the C++ runtime explicitly. libsystemc is linked --as-needed: a program that
# never runs the kernel does not pull in the shim, and must then not need libsystemc (whose
# own main() would want the sc_main the shim defines).
if HAVE_SYSTEMC
libimc_a_SOURCES += sim/kernel_systemc.cc
libimc_a_CXXFLAGS = $(AM_CXXFLAGS) $(SYSTEMC_CFLAGS)
IMC_LIBS += $(SYSTEMC_LIBS) -lstdc++
AM_LDFLAGS += -Wl,--as-needed
endif

bin_PROGRAMS += imcsim imcsim-model
imcsim_SOURCES = sim/main.c
imcsim_LDADD = $(IMC_LIBS)
imcsim_model_SOURCES = sim/imcsim_model.c
imcsim_model_LDADD = $(IMC_LIBS)

# imcsim-sweep: built as tools/imcsim-sweep (the name the README uses), installed beside imcsim.
bin_PROGRAMS += tools/imcsim-sweep
tools_imcsim_sweep_SOURCES = sim/imcsim_sweep.c
tools_imcsim_sweep_LDADD = $(IMC_LIBS)
