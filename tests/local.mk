# tests/local.mk -- `make check`: the CUnit suites (tests/unit, one program per module, each
# built from its one .c file) and the replay of the fuzz corpus (tests/fuzz).
AM_TESTS_ENVIRONMENT = IMCSIM_SRCDIR='$(abs_top_srcdir)'; IMCSIM_BUILDDIR='$(abs_top_builddir)'; \
	export IMCSIM_SRCDIR IMCSIM_BUILDDIR;

# .ci/run's valgrind loop runs exactly these and fails when one is missing or none ran.
print-check-programs:
	@echo $(check_PROGRAMS)
.PHONY: print-check-programs

# Every test program links the library (and CUnit when there is one).
LDADD = $(IMC_LIBS) $(CUNIT_LIBS)
AM_CPPFLAGS += $(CUNIT_CFLAGS) $(YAML_CFLAGS) $(GSL_CFLAGS) $(CJSON_CFLAGS) $(ZLIB_CFLAGS) $(CRYPTO_CFLAGS)

if HAVE_CUNIT
UNIT_TESTS = \
	tests/unit/test_config \
	tests/unit/test_models \
	tests/unit/test_hwreport \
	tests/unit/test_netfile \
	tests/unit/test_network \
	tests/unit/test_graph \
	tests/unit/test_graphflow \
	tests/unit/test_mapper \
	tests/unit/test_kernel \
	tests/unit/test_engine \
	tests/unit/test_imc \
	tests/unit/test_cli \
	tests/unit/test_presets \
	tests/unit/test_report \
	tests/unit/test_trace \
	tests/unit/test_dataset \
	tests/unit/test_forward \
	tests/unit/test_sweep \
	tests/unit/test_roofline
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif
EXTRA_DIST += tests/unit/cunit_main.h tests/unit/testdir.h tests/unit/testmodels.h tests/unit/require.h \
	tests/unit/small_arch.h

# The FP32 forward pass's reference models, images and PyTorch logits (tools/numerics_ref.py).
EXTRA_DIST += tests/data/README.md \
	tests/data/ref_deit.model.safetensors tests/data/ref_deit.inputs.safetensors \
	tests/data/ref_far_mixed.model.safetensors tests/data/ref_far_mixed.inputs.safetensors \
	tests/data/ref_far_pruned.model.safetensors tests/data/ref_far_pruned.inputs.safetensors
# ... and the imported ones (tools/graph_ref.py: tools/zoo.py's small shapes through imcsim-import).
EXTRA_DIST += \
	tests/data/ref_vgg8.model.safetensors tests/data/ref_vgg8.inputs.safetensors \
	tests/data/ref_resnet18.model.safetensors tests/data/ref_resnet18.inputs.safetensors \
	tests/data/ref_lstm_lm.model.safetensors tests/data/ref_lstm_lm.inputs.safetensors \
	tests/data/ref_bert_layer.model.safetensors tests/data/ref_bert_layer.inputs.safetensors \
	tests/data/ref_vit_ls.model.safetensors tests/data/ref_vit_ls.inputs.safetensors \
	tests/data/ref_gru.model.safetensors tests/data/ref_gru.inputs.safetensors

# tools/imcsim-import against PyTorch (skipped without python3-torch; CI installs it and runs
# this test in its own step).
TESTS += tests/import/import.test
EXTRA_DIST += tests/import/import.test

# Sweeps: killed mid-run and resumed; submitted to a real single-node Slurm (skipped unless
# slurm-wlm and munge are installed: tools/install-deps --slurm).
TESTS += tests/sweep/resume.test tests/sweep/slurm.test tests/sweep/blas-threads.test
EXTRA_DIST += tests/sweep/resume.test tests/sweep/slurm.test tests/sweep/blas-threads.test

# tools/imcsim-plot on small fixtures (skipped without gnuplot).
TESTS += tests/plot/plot.test
EXTRA_DIST += tests/plot/plot.test tests/plot/data/energy.csv tests/plot/data/stats.yaml \
	tests/plot/data/results.csv

# Every command the README, the sweeps README, docs/TESTING.md and the man pages show.
TESTS += tests/docs/commands.test
EXTRA_DIST += tests/docs/commands.test

# The include directions of sim/layers.txt.
TESTS += tests/layout/layers.test
EXTRA_DIST += tests/layout/layers.test

# Golden regression of whole runs (needs the quick start's model files, built by `make`).
TESTS += tests/regress/summary.test tests/regress/traces.test
# imcsim side by side with DNN+NeuroSim V1.4 on DeiT-S's linear layers (docs/VALIDATION.md).
TESTS += tests/regress/neurosim.test
EXTRA_DIST += tests/regress/neurosim.test traces/deit_s_linear.trace.gz
EXTRA_DIST += tests/regress/summary.test tests/regress/traces.test \
	traces/README.md traces/deit_s.trace.gz traces/far_deit_s.trace.gz \
	tests/regress/deit_s-far_deit_s-reram.txt \
	tests/regress/deit_s-far_deit_s-isaac.txt

# Allocation-failure testing (SQLite's way): every loader and one simulation with the k-th
# allocation failing, for every k; each must end in a clean out-of-memory error and free all.
check_PROGRAMS += tests/alloc/alloc_fail
TESTS += tests/alloc/alloc_fail
tests_alloc_alloc_fail_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc \
	-Wl,--wrap=strdup,--wrap=strndup,--wrap=free

# The libFuzzer targets (tests/fuzz/fuzz_*.c), one per input parser, each replayed over its
# committed corpus by a plain main() (tests/fuzz/replay.c), so gcc builds run them too and every
# input is held to the outcome its name promises (valid-*, bad-*, any-*); tools/fuzz builds the
# same targets with clang and libFuzzer to fuzz and grow the corpora.
FUZZ_REPLAYS = tests/fuzz/replay_netfile tests/fuzz/replay_arch tests/fuzz/replay_trace \
	tests/fuzz/replay_spec tests/fuzz/replay_expr tests/fuzz/replay_idx tests/fuzz/replay_model
check_PROGRAMS += $(FUZZ_REPLAYS)
TESTS += $(FUZZ_REPLAYS)
FUZZ_COMMON = tests/fuzz/replay.c tests/fuzz/fuzz.h tests/fuzz/fuzz_common.c
tests_fuzz_replay_netfile_SOURCES = tests/fuzz/fuzz_netfile.c $(FUZZ_COMMON)
tests_fuzz_replay_netfile_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"tests/fuzz/corpus/netfile"'
tests_fuzz_replay_arch_SOURCES = tests/fuzz/fuzz_arch.c $(FUZZ_COMMON)
tests_fuzz_replay_arch_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"tests/fuzz/corpus/arch"'
tests_fuzz_replay_trace_SOURCES = tests/fuzz/fuzz_trace.c tests/fuzz/fuzz_arch_text.h $(FUZZ_COMMON)
tests_fuzz_replay_trace_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"tests/fuzz/corpus/trace"'
tests_fuzz_replay_spec_SOURCES = tests/fuzz/fuzz_spec.c tests/fuzz/fuzz_tmpfile.h $(FUZZ_COMMON)
tests_fuzz_replay_spec_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"tests/fuzz/corpus/spec"'
tests_fuzz_replay_expr_SOURCES = tests/fuzz/fuzz_expr.c $(FUZZ_COMMON)
tests_fuzz_replay_expr_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"tests/fuzz/corpus/expr"'
tests_fuzz_replay_idx_SOURCES = tests/fuzz/fuzz_idx.c tests/fuzz/fuzz_tmpfile.h $(FUZZ_COMMON)
tests_fuzz_replay_idx_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"tests/fuzz/corpus/idx"'
tests_fuzz_replay_model_SOURCES = tests/fuzz/fuzz_model.c tests/fuzz/fuzz_arch_text.h $(FUZZ_COMMON)
tests_fuzz_replay_model_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"tests/fuzz/corpus/model"'
EXTRA_DIST += tests/fuzz/netfile.dict tests/fuzz/fuzz_netfile.c tests/fuzz/fuzz_arch.c \
	tests/fuzz/fuzz_trace.c tests/fuzz/fuzz_spec.c tests/fuzz/fuzz_expr.c tests/fuzz/fuzz_idx.c \
	tests/fuzz/fuzz_model.c tests/fuzz/corpus

# imcsim's numerics on the real, trained Fashion-MNIST models (tools/far/run_all.sh trains and
# exports them; the test needs /usr/share/datasets/fashion-mnist, from tools/install-deps).
if HAVE_CUNIT
UNIT_TESTS += tests/unit/test_realmodel
endif
EXTRA_DIST += tests/data/fashion-mnist/README.md tests/data/fashion-mnist/pruning.json \
	tests/data/fashion-mnist/deit.safetensors tests/data/fashion-mnist/far.safetensors \
	tests/data/fashion-mnist/far_pruned.safetensors \
	tests/data/fashion-mnist/pytorch_predictions.txt
CLEANFILES += test_models.levels.csv test_models.bad.csv
