# tools/local.mk -- helper scripts shipped in the tarball.
EXTRA_DIST += tools/install-deps
EXTRA_DIST += tools/fuzz
EXTRA_DIST += tools/export_far.py
EXTRA_DIST += tools/bench

# `make bench`: speed and memory figures for docs/PERFORMANCE.md.
EXTRA_PROGRAMS = tools/sgemm_peak
tools_sgemm_peak_SOURCES = tools/sgemm_peak.c
tools_sgemm_peak_LDADD = $(GSL_LIBS)
CLEANFILES += tools/sgemm_peak$(EXEEXT)

bench: imcsim$(EXEEXT) imcsim-model$(EXEEXT) tools/sgemm_peak$(EXEEXT)
	IMCSIM_SRCDIR=$(srcdir) $(srcdir)/tools/bench
.PHONY: bench
EXTRA_DIST += tools/arch-doc
EXTRA_DIST += tools/numerics_ref.py
