/* suggest.h -- "did you mean ...?": the closest candidate to a misspelt word. */
#ifndef IMC_SUGGEST_H
#define IMC_SUGGEST_H

#include <stddef.h>

/* The candidate nearest to WORD by edit distance, or NULL when none is close enough (distance
 * above max(2, strlen(word) / 3)). */
const char *imc_suggest(const char *word, const char *const *candidates, size_t n);

#endif
