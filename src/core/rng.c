/* xoshiro256++ with splitmix64 seeding of (seed, stream). */
#include "prism/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

void prism_rng_seed(prism_rng *rng, uint64_t seed, uint64_t stream) {
    /* Mix the stream through splitmix first so that (seed, stream) and (seed + 1, stream - 1)
     * land far apart; the state can never be all zero because splitmix64 is a bijection
     * applied to four distinct counters. */
    uint64_t x = stream;
    uint64_t key = seed ^ splitmix64(&x);
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&key);
}

uint64_t prism_rng_next(prism_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double prism_rng_uniform(prism_rng *rng) {
    return (double)(prism_rng_next(rng) >> 11) * 0x1.0p-53;
}

float prism_rng_uniform_f(prism_rng *rng) {
    return (float)(prism_rng_next(rng) >> 40) * 0x1.0p-24f;
}

uint32_t prism_rng_below(prism_rng *rng, uint32_t n) {
    /* Lemire's multiply-shift with rejection of the biased low range. */
    uint64_t m = (prism_rng_next(rng) >> 32) * (uint64_t)n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (prism_rng_next(rng) >> 32) * (uint64_t)n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double prism_rng_range(prism_rng *rng, double lo, double hi) {
    return lo + (hi - lo) * prism_rng_uniform(rng);
}

void prism_rng_normal_pair(prism_rng *rng, double *a, double *b) {
    double u, v, s;
    do {
        u = 2.0 * prism_rng_uniform(rng) - 1.0;
        v = 2.0 * prism_rng_uniform(rng) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double m = sqrt(-2.0 * log(s) / s);
    *a = u * m;
    *b = v * m;
}

double prism_rng_normal(prism_rng *rng) {
    double a, b;
    prism_rng_normal_pair(rng, &a, &b);
    return a;
}
