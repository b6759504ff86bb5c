# models/local.mk -- the component models, compiled into libimc.a (see sim/local.mk).
#
# MODELS is the registry: one line per model, in the order of --list-models. The file
# models/KIND/NAME.c (NAME a C identifier) defines `const imc_model imc_model_KIND_NAME`; the
# build turns this list into the registry's table (models/registry.inc), so adding a model is
# its .c file and its line here (models/README.md).
MODELS = \
	models/cell/reram.c \
	models/cell/table.c \
	models/xbar/reram.c \
	models/dac/simple.c \
	models/sh/simple.c \
	models/adc/sar.c \
	models/adc/flash.c \
	models/shiftadd/simple.c \
	models/buffer/sram.c \
	models/buffer/edram.c \
	models/noc/mesh.c \
	models/noc/bus.c \
	models/dram/simple.c \
	models/digital/vector.c \
	models/digital/host.c

MODEL_SOURCES = \
	models/model.c models/model.h \
	models/registry.c models/registry.h \
	models/common.h models/techscale.c models/techscale.h models/adc/adc_survey.h models/powerlaw.h \
	models/buffer/buffer_common.h models/buffer/cacti_tables.h models/cell/cell_common.h \
	models/noc/dsent_tables.h \
	$(MODELS)

models/registry.inc: Makefile
	$(AM_V_GEN)$(MKDIR_P) models && \
	for f in $(MODELS); do \
	    m=$${f#models/}; m=$${m%.c}; echo "IMC_MODEL(imc_model_$$(echo "$$m" | tr / _))"; \
	done > $@.tmp && mv $@.tmp $@
BUILT_SOURCES += models/registry.inc
CLEANFILES += models/registry.inc

EXTRA_DIST += models/README.md
