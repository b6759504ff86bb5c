# tests/local.mk -- `make check`: CUnit suites (tests/unit), whole-run regressions
# (tests/regress) and the fuzz-corpus replay (tests/fuzz).
AM_TESTS_ENVIRONMENT = IMCSIM_SRCDIR='$(abs_top_srcdir)'; IMCSIM_BUILDDIR='$(abs_top_builddir)'; \
	export IMCSIM_SRCDIR IMCSIM_BUILDDIR;

if HAVE_CUNIT
UNIT_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(YAML_CFLAGS) $(GSL_CFLAGS)
UNIT_LDADD = $(IMC_LIBS) $(CUNIT_LIBS)

check_PROGRAMS += tests/unit/test_models
tests_unit_test_models_SOURCES = tests/unit/test_models.c tests/unit/cunit_main.h
tests_unit_test_models_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_models_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c tests/unit/cunit_main.h
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test_hwreport
tests_unit_test_hwreport_SOURCES = tests/unit/test_hwreport.c tests/unit/cunit_main.h
tests_unit_test_hwreport_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hwreport_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test_cli
tests_unit_test_cli_SOURCES = tests/unit/test_cli.c tests/unit/cunit_main.h
tests_unit_test_cli_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cli_LDADD = $(CUNIT_LIBS)

TESTS += $(check_PROGRAMS)
endif
