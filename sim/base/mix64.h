/* mix64.h -- splitmix64's finalizer (Stafford's Mix13, as Steele, Lea and Flood's splitmix64
 * uses it): a bijection of 64-bit words whose every output bit depends on every input bit. The
 * random streams seed from it (normal.c: draw k of seed S's splitmix64 stream is
 * imc_mix64(S + k x IMC_MIX64_WEYL); imc.c: each crossbar row's and read's seed) and the
 * ledger hashes its keys with it. */
#ifndef IMC_MIX64_H
#define IMC_MIX64_H

#include <stdint.h>

#define IMC_MIX64_WEYL 0x9e3779b97f4a7c15u /* splitmix64's increment: 2^64 / golden ratio */

static inline uint64_t imc_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

#endif
