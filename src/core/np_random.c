/* numpy's legacy RandomState: MT19937 (Matsumoto & Nishimura) seeded with init_genrand, and
 * the exact transformations numpy applies for rand() and randint(), so that environments can
 * follow a reference trajectory draw for draw. */
#include "prism/rng.h"

enum { N = 624, M = 397 };

void prism_np_random_seed(prism_np_random *r, uint32_t seed) {
    r->mt[0] = seed;
    for (int i = 1; i < N; i++)
        r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->pos = N; /* regenerate on the first draw, as numpy does */
}

static void regenerate(prism_np_random *r) {
    static const uint32_t mag01[2] = {0u, 0x9908B0DFu};
    uint32_t *mt = r->mt;
    int k;
    for (k = 0; k < N - M; k++) {
        uint32_t y = (mt[k] & 0x80000000u) | (mt[k + 1] & 0x7FFFFFFFu);
        mt[k] = mt[k + M] ^ (y >> 1) ^ mag01[y & 1];
    }
    for (; k < N - 1; k++) {
        uint32_t y = (mt[k] & 0x80000000u) | (mt[k + 1] & 0x7FFFFFFFu);
        mt[k] = mt[k + (M - N)] ^ (y >> 1) ^ mag01[y & 1];
    }
    uint32_t y = (mt[N - 1] & 0x80000000u) | (mt[0] & 0x7FFFFFFFu);
    mt[N - 1] = mt[M - 1] ^ (y >> 1) ^ mag01[y & 1];
    r->pos = 0;
}

uint32_t prism_np_random_u32(prism_np_random *r) {
    if (r->pos >= N) regenerate(r);
    uint32_t y = r->mt[r->pos++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9D2C5680u;
    y ^= (y << 15) & 0xEFC60000u;
    y ^= (y >> 18);
    return y;
}

double prism_np_random_rand(prism_np_random *r) {
    uint32_t a = prism_np_random_u32(r) >> 5, b = prism_np_random_u32(r) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

int64_t prism_np_random_randint(prism_np_random *r, int64_t low, int64_t high) {
    /* numpy's legacy path: masked rejection sampling on 32-bit draws when the range fits. */
    uint64_t range = (uint64_t)(high - low) - 1;
    if (range == 0) return low;
    uint64_t mask = range;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    if (range <= 0xFFFFFFFFu) {
        if (range == 0xFFFFFFFFu) return low + (int64_t)prism_np_random_u32(r);
        uint32_t v;
        while ((v = prism_np_random_u32(r) & (uint32_t)mask) > range) {
        }
        return low + (int64_t)v;
    }
    uint64_t v;
    do {
        v = ((uint64_t)prism_np_random_u32(r) << 32) | prism_np_random_u32(r);
        v &= mask;
    } while (v > range);
    return low + (int64_t)v;
}
