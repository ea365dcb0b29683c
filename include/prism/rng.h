/* prism/rng.h — explicit-state random number generators.
 *
 * prism_rng is xoshiro256++ (Blackman & Vigna): fast, 256 bits of state, a plain struct that
 * a checkpoint copies as bytes. Every component that samples owns one, derived from the run
 * seed and a fixed stream id, so results never depend on which component drew first:
 *
 *     prism_rng explore;
 *     prism_rng_seed(&explore, run_seed, PRISM_STREAM_EXPLORATION);
 *     if (prism_rng_uniform(&explore) < epsilon) action = prism_rng_below(&explore, A);
 *
 * prism_np_random reproduces numpy's legacy RandomState (MT19937) for the draws MinAtar makes,
 * so a port can follow the reference trajectory for the same seed exactly.
 * Neither generator is thread-safe; give each thread its own.
 */
#ifndef PRISM_RNG_H
#define PRISM_RNG_H

#include <stdint.h>

typedef struct prism_rng {
    uint64_t s[4];
} prism_rng;

/* Fixed stream ids: one per sampling component. Environment i of a vector uses
 * PRISM_STREAM_ENV + i. */
enum {
    PRISM_STREAM_EXPLORATION = 1,
    PRISM_STREAM_REPLAY = 2,
    PRISM_STREAM_NET_INIT = 3,
    PRISM_STREAM_NOISY = 4,
    PRISM_STREAM_EVAL = 5,
    PRISM_STREAM_ACTIONS = 6, /* random actions for rollouts and benchmarks */
    /* 7 is PRISM_STREAM_BOOTSTRAP (prism/stats.h) */
    PRISM_STREAM_NOISY_FIXED = 8, /* the one noise draw of the fixed noise modes (agent.h) */
    PRISM_STREAM_TAUS = 9,        /* the implicit head's quantile fractions (agent.h) */
    PRISM_STREAM_ENV = 1000,
};

/* Seed from (seed, stream): distinct streams give statistically independent sequences. */
void prism_rng_seed(prism_rng *rng, uint64_t seed, uint64_t stream);
uint64_t prism_rng_next(prism_rng *rng);
/* Uniform double in [0, 1) with 53 random bits. */
double prism_rng_uniform(prism_rng *rng);
/* Uniform float in [0, 1) with 24 random bits. */
float prism_rng_uniform_f(prism_rng *rng);
/* Uniform integer in [0, n), unbiased (Lemire's method); n > 0. */
uint32_t prism_rng_below(prism_rng *rng, uint32_t n);
/* Uniform double in [lo, hi). */
double prism_rng_range(prism_rng *rng, double lo, double hi);
/* Standard normal draw (Marsaglia polar method; stateless: no cached second value). */
double prism_rng_normal(prism_rng *rng);
/* Both normals of one accepted pair of Marsaglia's polar method (prism_rng_normal returns the
 * first): half the logs and square roots when many normals are needed. */
void prism_rng_normal_pair(prism_rng *rng, double *a, double *b);

/* numpy.random.RandomState (legacy MT19937). */
typedef struct prism_np_random {
    uint32_t mt[624];
    int pos;
} prism_np_random;

/* As RandomState(seed) for 0 <= seed < 2^32. */
void prism_np_random_seed(prism_np_random *r, uint32_t seed);
uint32_t prism_np_random_u32(prism_np_random *r);
/* As RandomState.rand() / random_sample(): a double in [0, 1) from two 32-bit draws. */
double prism_np_random_rand(prism_np_random *r);
/* As RandomState.randint(low, high) for a scalar int64 result: uniform in [low, high). */
int64_t prism_np_random_randint(prism_np_random *r, int64_t low, int64_t high);

#endif
