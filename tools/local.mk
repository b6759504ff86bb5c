# tools/local.mk -- helper scripts shipped in the tarball.
EXTRA_DIST += tools/install-deps
EXTRA_DIST += tools/fuzz
EXTRA_DIST += tools/export_far.py
# Any torch.nn.Module as a model file (README "Your own model"); the shipped models it imports;
# the reference logits of their small shapes (tests/data).
EXTRA_DIST += tools/imcsim-import tools/zoo.py tools/graph_ref.py
EXTRA_DIST += tools/bench

# `make bench`: speed and memory figures for docs/PERFORMANCE.md.
EXTRA_PROGRAMS = tools/sgemm_peak
tools_sgemm_peak_SOURCES = tools/sgemm_peak.c
tools_sgemm_peak_LDADD = $(OPENBLAS_LIBS) $(GSL_LIBS)
CLEANFILES += tools/sgemm_peak$(EXEEXT)

bench: imcsim$(EXEEXT) imcsim-model$(EXEEXT) tools/imcsim-sweep$(EXEEXT) tools/sgemm_peak$(EXEEXT) deit_s.bin far_deit_s.bin
	IMCSIM_SRCDIR=$(srcdir) $(srcdir)/tools/bench
.PHONY: bench
EXTRA_DIST += tools/arch-doc
EXTRA_DIST += tools/numerics_ref.py
# The Fashion-MNIST DeiT -> FAR -> pruned FAR pipeline (tests/data/fashion-mnist/README.md).
EXTRA_DIST += tools/far/run_all.sh tools/far/common.py tools/far/train_deit.py \
	tools/far/distill_far.py tools/far/prune_far.py tools/far/report.sh tools/far/predictions.py

# imcsim-plot: gnuplot plots of energy breakdowns, per-layer latency, sweeps and Pareto fronts.
dist_bin_SCRIPTS = tools/imcsim-plot
# DeiT-S against FAR-S under the assumptions of arch-configs/sweeps/far_vs_deit.yaml (far-vs-deit),
# the FAR paper's claims checked over them (far-claims), a processor measured against its roofline.
EXTRA_DIST += tools/far-vs-deit tools/far-claims tools/measure-reference
# The side-by-side validations of docs/VALIDATION.md: DeiT-S's linear layers as a trace, imcsim
# against DNN+NeuroSim V1.4 on them (tests/regress/neurosim.test), ISAAC from imcsim's defaults.
EXTRA_DIST += tools/deit-linear-trace tools/validate-neurosim tools/validate-isaac
