# models/local.mk -- component models, compiled into libimc.a (see sim/local.mk).
# Adding a model: its .c file here, and its line in models/models.def.
MODEL_SOURCES = \
	models/model.c models/model.h \
	models/registry.c models/registry.h models/models.def \
	models/common.h \
	models/cell/reram.c \
	models/xbar/reram.c \
	models/dac/simple.c \
	models/sh/simple.c \
	models/adc/sar.c \
	models/adc/flash.c \
	models/shiftadd/simple.c \
	models/buffer/buffer_common.h models/buffer/sram.c models/buffer/edram.c \
	models/noc/mesh.c \
	models/noc/bus.c \
	models/dram/simple.c \
	models/digital/vector.c

EXTRA_DIST += models/README.md
