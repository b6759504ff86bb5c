# arch-configs/local.mk -- the shipped architectures, installed under $(pkgdatadir)/arch-configs
# so that `imcsim --arch reram.yaml` finds them from any directory.
archconfigsdir = $(pkgdatadir)/arch-configs
dist_archconfigs_DATA = \
	arch-configs/reram.yaml \
	arch-configs/isaac.yaml \
	arch-configs/neurosim.yaml \
	arch-configs/README.md
# Reference processors for --reference (arch-configs/references/README.md).
archreferencesdir = $(pkgdatadir)/arch-configs/references
dist_archreferences_DATA = \
	arch-configs/references/README.md \
	arch-configs/references/a100.yaml \
	arch-configs/references/orin.yaml \
	arch-configs/references/xeon-core.yaml
# Sweep specs (arch-configs/sweeps/README.md); they name the build tree's model files, so
# they ship in the tarball but are not installed.
EXTRA_DIST += arch-configs/sweeps/README.md arch-configs/sweeps/adc_xbar_tiles.yaml \
	arch-configs/sweeps/bench256.yaml arch-configs/sweeps/fmnist_adc_bits.yaml \
	arch-configs/sweeps/fmnist_table.yaml arch-configs/sweeps/far_vs_deit.yaml
