/* hugepages.c -- the advice of hugepages.h, through madvise(MADV_HUGEPAGE). */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE: Linux, not POSIX */
#include "sim/base/hugepages.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { HUGE_PAGE = IMC_HUGE_PAGE };

void imc_hugepages(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* refused: 4 KB pages, as before */
#else
    (void)p, (void)n;
#endif
}

void *imc_hugepages_alloc(size_t n)
{
    if (n < HUGE_PAGE)
        return malloc(n ? n : 1);
    /* on a huge page's boundary, so that no 4 KB pages come before the first huge one */
    size_t whole = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = aligned_alloc(HUGE_PAGE, whole);
    if (p)
        imc_hugepages(p, whole);
    return p;
}

void *imc_hugepages_grow(void *p, size_t old_n, size_t new_n)
{
    if (new_n < HUGE_PAGE) /* not one huge page: as realloc */
        return realloc(p, new_n);
    void *q = imc_hugepages_alloc(new_n);
    if (!q)
        return NULL;
    if (old_n)
        memcpy(q, p, old_n < new_n ? old_n : new_n);
    free(p);
    return q;
}
