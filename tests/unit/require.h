/* require.h -- what a suite does when something it would test is not on this machine (SystemC,
 * a writable /dev/full, an installed dataset): under configure --enable-ci (IMC_REQUIRE_ALL,
 * what CI builds) that is a failure naming it, since a skip in CI is a test that did not run;
 * elsewhere it is a note on the test's line. Include after CUnit.h and config.h. */
#ifndef IMC_REQUIRE_H
#define IMC_REQUIRE_H

#include <stdio.h>

#include <CUnit/CUnit.h>

#define IMC_UNAVAILABLE(what) imc_unavailable(what, __LINE__, __FILE__)

static inline void imc_unavailable(const char *what, unsigned line, const char *file)
{
#ifdef IMC_REQUIRE_ALL
    CU_assertImplementation(CU_FALSE, line, what, file, "", CU_FALSE);
#else
    (void)line, (void)file;
    printf("(skipped: %s) ", what);
#endif
}

#endif
