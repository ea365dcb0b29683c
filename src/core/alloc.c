/* Allocation hooks: 64-byte aligned memory (one cache line, a full AVX-512 register), and a
 * failure-injection switch so tests can prove every init path survives out-of-memory. */
#include "prism/core.h"

#include <stdlib.h>
#include <string.h>

static long allocs_left = -1; /* < 0: never fail */

void prism_alloc_fail_after(long n) {
    allocs_left = n;
}

void *prism_alloc(size_t bytes) {
    if (allocs_left == 0) return NULL;
    if (allocs_left > 0) allocs_left--;
    size_t rounded = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, rounded ? rounded : 64);
}

void *prism_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = prism_alloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void prism_free(void *p) {
    free(p);
}
