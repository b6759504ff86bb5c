/* cunit_main.h -- the shared main() of the CUnit suites: include once, after defining
 * `static CU_TestInfo tests[]` and `#define SUITE_NAME "..."`. Runs the suite in basic mode
 * and exits non-zero when any assertion, or the suite's init or cleanup, failed, so automake's
 * harness sees the failure. */
#ifndef IMC_CUNIT_MAIN_H
#define IMC_CUNIT_MAIN_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#ifndef SUITE_INIT
#define SUITE_INIT NULL
#endif
#ifndef SUITE_CLEANUP
#define SUITE_CLEANUP NULL
#endif

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    CU_SuiteInfo suites[] = {{SUITE_NAME, SUITE_INIT, SUITE_CLEANUP, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    if (CU_register_suites(suites) != CUE_SUCCESS)
        return 99;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    /* A suite whose init or cleanup fails counts too (its tests did not run, or left files). */
    unsigned failed = CU_get_number_of_suites_failed() + CU_get_number_of_failures() +
                      CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

#endif
