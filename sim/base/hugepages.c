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
    if (n < HUGE_PAGE / 2)
        return malloc(n ? n : 1);
    /* on a huge page's boundary, so that no 4 KB pages come before the first huge one; a last
     * part of half a huge page or more takes a whole one (at most 1 MB unused), a smaller one
     * stays on 4 KB pages (a 2.4 MB weight matrix would waste 1.6 MB) */
    size_t tail = n % HUGE_PAGE, size = tail >= HUGE_PAGE / 2 ? n - tail + HUGE_PAGE : n;
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, size))
        return NULL;
    imc_hugepages(p, size);
    return p;
}

/* The bytes imc_hugepages_zalloc maps for N (0 below its threshold: calloc's). */
static size_t mapped_size(size_t n)
{
    if (n < HUGE_PAGE / 2 || n > SIZE_MAX - 2 * (size_t)HUGE_PAGE)
        return 0;
    return (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
}

void *imc_hugepages_zalloc(size_t n)
{
    size_t size = mapped_size(n);
    if (!size)
        return n < HUGE_PAGE / 2 ? calloc(1, n ? n : 1) : NULL;
    /* a huge page more than needed, then the ends cut off: a start on a huge page's boundary */
    size_t span = size + HUGE_PAGE;
    char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *p = (char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > m)
        munmap(m, (size_t)(p - m));
    if (m + span > p + size)
        munmap(p + size, (size_t)(m + span - (p + size)));
    imc_hugepages(p, size);
    return p;
}

void imc_hugepages_free(void *p, size_t n)
{
    size_t size = mapped_size(n);
    if (!size)
        free(p);
    else if (p)
        munmap(p, size);
}

size_t imc_hugepages_next(size_t cur)
{
    size_t factor = cur < ((size_t)64 << 20) ? 8 : 2;
    return cur > SIZE_MAX / factor ? SIZE_MAX : cur * factor;
}

void *imc_hugepages_grow(void *p, size_t old_n, size_t new_n)
{
    if (new_n < HUGE_PAGE / 2) /* as imc_hugepages_alloc would: plain realloc */
        return realloc(p, new_n);
    void *q = imc_hugepages_alloc(new_n);
    if (!q)
        return NULL;
    if (old_n)
        memcpy(q, p, old_n < new_n ? old_n : new_n);
    free(p);
    return q;
}
