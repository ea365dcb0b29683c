/* Strict parsing of plain decimal integers. strtoull alone accepts leading blanks, a sign
 * ("-1" wraps to 2^64 - 1) and reports overflow only through errno; every reader of a seed
 * or count goes through here instead. */
#include "prism/core.h"

bool prism_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false; /* v * 10 + d would wrap */
        v = v * 10 + d;
    }
    *out = v;
    return true;
}
