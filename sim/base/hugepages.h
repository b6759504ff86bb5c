/* hugepages.h -- back large, densely used arrays with 2 MB pages where the kernel allows.
 *
 * A process's first touch of a 4 KB page is a page fault; on a virtual machine it can cost far
 * more than the work done on the page. Measured on this project's 2-core build machine (an AMD
 * EPYC guest, Linux 6.18, 2026-12-05): 64 MB of fresh anonymous memory touched page by page
 * took 12.4-13.4 us per 4 KB page, the same advised MADV_HUGEPAGE 0.3-0.9 us per 4 KB; a
 * timing-only FAR-S run took 9,000 faults, 0.11 s of its 0.21-0.26 s. The largest arrays
 * (the dataflow graph, the engine's per-op state and busy segments, the numerics' weights,
 * activations, scratch and recorded outputs) are written from end to end, so a 2 MB page
 * wastes at most the part past an array's last use.
 * With transparent huge pages off or "always" the advice changes nothing. */
#ifndef IMC_HUGEPAGES_H
#define IMC_HUGEPAGES_H

#include <stddef.h>

#define IMC_HUGE_PAGE (2u << 20) /* x86-64's and arm64's (4 KB granule) PMD page */

/* Advise the kernel to back the whole 2 MB pages inside [P, P + N) with huge pages. Call it
 * on memory not yet touched (a fresh malloc or the grown part of a realloc); best effort:
 * nothing happens where the system does not support it. */
void imc_hugepages(void *p, size_t n);

/* malloc(N) for an array about to be filled: from 1 MB up, on a huge page's boundary and
 * advised as above, N rounded up to whole huge pages where that leaves at most half of one
 * unused (free it with free). */
void *imc_hugepages_alloc(size_t n);

/* Zeroed memory for N bytes: from 1 MB up mapped afresh, whole huge pages advised as above, so
 * that the kernel's zeroing of a page at its first touch is the only one (calloc's memset of a
 * block it cannot prove fresh writes every page a second time: 14 MB for FAR-S's op state);
 * below, calloc. NULL when out of memory. Free it with imc_hugepages_free(P, N). */
void *imc_hugepages_zalloc(size_t n);
void imc_hugepages_free(void *p, size_t n);

/* The capacity in bytes for an array of CUR bytes that must grow: eight times CUR below 64 MB,
 * then twice. Address space costs nothing until touched, but every growth copies the array
 * into fresh memory, which the kernel zeroes first: a FAR-S dataflow graph (10.5 MB of ops)
 * grown by doubling from 2 MB copied 14 MB and had 24.5 MB zeroed; by eight, 2 MB and 12.5. */
size_t imc_hugepages_next(size_t cur);

/* realloc(P, NEW_N) for a growing array, whose first OLD_N bytes are in use: a new
 * block advised as above before the copy touches it (realloc's own copy, or its move of a
 * heap block, would touch it in 4 KB pages first). NULL when out of memory, P then intact. */
void *imc_hugepages_grow(void *p, size_t old_n, size_t new_n);

#endif
