# tools/local.mk -- helper scripts shipped in the tarball.
EXTRA_DIST += tools/install-deps
