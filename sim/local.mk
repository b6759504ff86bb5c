# sim/local.mk -- the simulator core (libimc.a) and the imcsim command.
noinst_LIBRARIES += libimc.a
libimc_a_SOURCES = \
	sim/err.c sim/err.h \
	sim/units.c sim/units.h \
	sim/suggest.c sim/suggest.h \
	sim/ytree.c sim/ytree.h \
	sim/arch.c sim/arch.h \
	sim/outfile.c sim/outfile.h \
	sim/catalog.c sim/catalog.h \
	sim/hwreport.c sim/hwreport.h \
	$(MODEL_SOURCES)
libimc_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(GSL_CFLAGS)

IMC_LIBS = libimc.a $(YAML_LIBS) $(GSL_LIBS) $(LIBS)

bin_PROGRAMS += imcsim
imcsim_SOURCES = sim/main.c
imcsim_LDADD = $(IMC_LIBS)
