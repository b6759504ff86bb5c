# sim/local.mk -- the simulator core (libimc.a) and the three commands. The folders are the
# stages of the pipeline (docs/ARCHITECTURE.md); sim/layers.txt says which may include which.
noinst_LIBRARIES += libimc.a
libimc_a_SOURCES = \
	sim/base/err.c sim/base/err.h \
	sim/base/units.c sim/base/units.h \
	sim/base/suggest.c sim/base/suggest.h \
	sim/base/ytree.c sim/base/ytree.h \
	sim/base/outfile.c sim/base/outfile.h \
	sim/base/infile.c sim/base/infile.h \
	sim/base/digest.c sim/base/digest.h \
	sim/base/notify.c sim/base/notify.h \
	sim/base/normal.c sim/base/normal.h \
	sim/base/hugepages.c sim/base/hugepages.h \
	sim/base/blas.c sim/base/blas.h \
	sim/base/vectorize.h sim/base/mix64.h \
	sim/arch/arch.c sim/arch/arch.h sim/arch/components.def \
	sim/arch/catalog.c sim/arch/catalog.h \
	sim/net/netfile.c sim/net/netfile.h \
	sim/net/network.c sim/net/network.h \
	sim/net/graph.c sim/net/graph.h \
	sim/net/vitgraph.c \
	sim/net/generic.c sim/net/generic.h \
	sim/net/modelgen.c sim/net/modelgen.h \
	sim/map/mapper.c sim/map/mapper.h \
	sim/flow/dataflow.c sim/flow/dataflow.h \
	sim/flow/graphflow.c sim/flow/graphrows.c sim/flow/graphrows.h sim/flow/builder.h \
	sim/flow/trace.c sim/flow/trace.h \
	sim/engine/kernel.c sim/engine/kernel.h sim/engine/kernel_shim.h \
	sim/engine/ledger.c sim/engine/ledger.h \
	sim/engine/engine.c sim/engine/engine.h sim/engine/engine_impl.h \
	sim/engine/bounds.c \
	sim/ref/roofline.c sim/ref/roofline.h \
	sim/report/hwreport.c sim/report/hwreport.h \
	sim/report/reference.c sim/report/reference.h \
	sim/report/report.c sim/report/report.h \
	sim/report/timeline.c sim/report/timeline.h \
	sim/report/yamlout.c sim/report/yamlout.h \
	sim/report/yaml2json.c sim/report/yaml2json.h \
	sim/numerics/dataset.c sim/numerics/dataset.h \
	sim/numerics/forward.c sim/numerics/forward.h \
	sim/numerics/kernels.c sim/numerics/kernels.h \
	sim/numerics/imc.c sim/numerics/imc.h \
	sim/numerics/numerics.c sim/numerics/numerics.h \
	sim/sweep/expr.c sim/sweep/expr.h \
	sim/sweep/spec.c sim/sweep/spec.h \
	sim/sweep/run.c sim/sweep/run.h \
	sim/cmd/cli.c sim/cmd/cli.h \
	sim/cmd/simulate.c sim/cmd/simulate.h \
	$(MODEL_SOURCES)
nodist_libimc_a_SOURCES = models/registry.inc
libimc_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(GSL_CFLAGS) $(CJSON_CFLAGS) $(ZLIB_CFLAGS) $(CRYPTO_CFLAGS)

IMC_LIBS = libimc.a $(YAML_LIBS) $(GSL_LIBS) $(CJSON_LIBS) $(ZLIB_LIBS) $(LIBS)

# The SystemC kernel backend: a C++ shim, built only when configure found SystemC, as a module
# of its own that kernel.c loads (dlopen) when a run asks for the systemc kernel, so that no
# program links libsystemc and a native run does not pay its start-up (kernel_shim.h). It is
# built beside imcsim and installed in pkglibdir, where kernel.c looks for it.
if HAVE_SYSTEMC
kernelmoddir = $(pkglibdir)
kernelmod_PROGRAMS = imcsim-systemc.so
imcsim_systemc_so_SOURCES = sim/engine/kernel_systemc.cc sim/engine/kernel_shim.h
imcsim_systemc_so_CXXFLAGS = $(AM_CXXFLAGS) $(SYSTEMC_CFLAGS) -fPIC
imcsim_systemc_so_LDFLAGS = $(AM_LDFLAGS) -shared
imcsim_systemc_so_LDADD = $(SYSTEMC_LIBS)
endif

bin_PROGRAMS += imcsim imcsim-model
imcsim_SOURCES = sim/cmd/imcsim.c
imcsim_LDADD = $(IMC_LIBS)
imcsim_model_SOURCES = sim/cmd/imcsim_model.c
imcsim_model_LDADD = $(IMC_LIBS)

# imcsim-sweep: built as tools/imcsim-sweep (the name the README uses), installed beside imcsim.
bin_PROGRAMS += tools/imcsim-sweep
tools_imcsim_sweep_SOURCES = sim/cmd/imcsim_sweep.c
tools_imcsim_sweep_LDADD = $(IMC_LIBS)

EXTRA_DIST += sim/layers.txt
