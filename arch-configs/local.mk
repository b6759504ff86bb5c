# arch-configs/local.mk -- the shipped architectures, installed under $(pkgdatadir)/arch-configs
# so that `imcsim --arch reram.yaml` finds them from any directory.
archconfigsdir = $(pkgdatadir)/arch-configs
dist_archconfigs_DATA = \
	arch-configs/reram.yaml \
	arch-configs/isaac.yaml \
	arch-configs/README.md
