/* 64-bit FNV-1a: a small, well-known, portable hash for identities (a run's configuration).
 * Not a checksum for corruption (crc32c.c is) and not cryptographic: it tells apart texts that
 * differ by accident, not texts crafted to collide. 64 bits: with a thousand distinct
 * configurations the chance of any collision is about 3e-14, where crc32c's 32 bits would give
 * 1e-4. */
#include "prism/core.h"

uint64_t prism_fnv1a64(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull; /* the 64-bit FNV prime */
    }
    return h;
}
