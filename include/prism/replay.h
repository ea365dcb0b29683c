/* prism/replay.h — replay memory: a ring buffer of one environment's transition stream, an
 * n-step assembler, and prioritized replay on a sum tree.
 *
 * The trainer steps one environment and, after every step, hands the buffer what happened:
 *
 *     prism_replay_options o = prism_replay_options_default();
 *     o.capacity = 50000; o.obs_size = 4; o.n_step = 3; o.gamma = 0.99f; o.prioritized = true;
 *     prism_replay rb;  prism_replay_batch batch;
 *     if (prism_replay_init(&rb, &o) || prism_replay_batch_init(&batch, 128, 4)) { ...error... }
 *     prism_rng rng;  prism_rng_seed(&rng, seed, PRISM_STREAM_REPLAY);
 *     ...
 *     prism_step s = prism_env_step(&env, a, next_obs);
 *     prism_replay_add(&rb, obs, a, s.reward, s.terminated, s.truncated, next_obs);
 *     if (prism_replay_size(&rb) >= min_history) {
 *         prism_replay_sample(&rb, &rng, &batch);        // batch.obs (B, D), batch.returns ...
 *         ... loss_i = per-sample loss ...
 *         prism_replay_update_priorities(&rb, batch.indices, loss, batch.size);
 *     }
 *     prism_replay_batch_free(&batch);  prism_replay_free(&rb);
 *
 * Storage (docs/replay.md has the picture). The buffer is a ring of `capacity` slots. A slot
 * holds one observation and, when an action was taken from it, that action, the reward and the
 * two end flags. An observation is stored once: the next observation of step t is the
 * observation slot of step t+1. When an episode ends (terminated or truncated) its real final
 * observation gets one slot of its own, which starts no transition; the next episode's first
 * observation takes the slot after it. So `capacity` counts steps plus one slot per episode end
 * (0.5% extra for 200-step episodes). Observations are stored as float32, as uint8 (values
 * 0..255, e.g. pixels) or as bits (values 0/1, e.g. MinAtar's 10x10xC planes: 125 bytes per
 * Seaquest frame, 12.5 MB for 100k steps).
 *
 * n-step returns are assembled at sample time from the stored one-step rewards (so rewards
 * are stored once, n and gamma live in one place, and a transition becomes sampleable exactly
 * when its window is complete). For the transition starting at step t, with n' <= n the number
 * of steps up to and including the first episode end in the window:
 *     return   R = sum_{k < n'} gamma^k r_{t+k}           (accumulated in double, stored float)
 *     discount   = 0         if step t+n'-1 terminated    (terminal state: nothing to bootstrap)
 *                = gamma^n'  otherwise, truncation included (bootstrap from the real final obs)
 *     next_obs   = the observation n' steps after obs_t   (the final observation at an end)
 * A window never crosses an episode end. A transition is sampleable only once its window is
 * complete: n steps taken, or an end reached within them.
 *
 * Prioritized replay (Schaul et al. 2016, in Dopamine's form). Stored priority
 *     p_i = (v_i + priority_eps)^alpha
 * where v_i >= 0 is the value the caller passes to prism_replay_update_priorities. Convention:
 * pass the per-sample LOSS, as Dopamine's Rainbow does (alpha 0.5, eps 1e-10 give Dopamine's
 * p = sqrt(loss + 1e-10), the Revisiting Rainbow presets); pass |TD error| with alpha 0.6 for
 * Schaul's proportional variant. New transitions enter at the largest priority set so far
 * (initially 1.0, as in Dopamine). Sampling is proportional, P(i) = p_i / sum_j p_j, stratified:
 * sample b draws uniformly within the b-th of B equal segments of the total. Importance
 * weights w_i = (N P(i))^-beta / max_batch w, N = prism_replay_size(); beta fixed (0.5 in the
 * presets; the caller may change rb.opt.beta between samples to anneal it).
 * Without prioritization sampling is uniform with replacement over the sampleable
 * transitions, weights are 1 and probs 1/N.
 *
 * Determinism: every draw comes from the prism_rng the caller passes; same stream, same adds,
 * same batches, bit for bit. Nothing allocates after init; the buffer is not thread-safe.
 * Save/load write the whole state (contents, positions, priorities) with a magic, a version
 * and a CRC-32C, for checkpoints. Files are little-endian as written by this machine.
 */
#ifndef PRISM_REPLAY_H
#define PRISM_REPLAY_H

#include "prism/core.h"
#include "prism/rng.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- Sum tree ---------------------------------------------------------------------------- */

/* A binary sum tree over `capacity` non-negative values (leaves), padded to a power of two.
 * Every internal node is the sum of its two children, recomputed (never incremented) on each
 * set, so the sums are an exact function of the leaves: no drift, and a rebuild after load is
 * bit-identical. Sums are double: float would lose small priorities next to a large total.
 * Memory: 16 bytes per leaf (rounded up to a power of two). */
typedef struct prism_sum_tree {
    int capacity;  /* leaves in use (C) */
    int leaves;    /* power of two >= C (L) */
    double *nodes; /* (2L): nodes[1] is the root, nodes[L + i] leaf i, nodes[0] unused */
} prism_sum_tree;

/* Allocate a tree of `capacity` leaves (1..2^28), all zero. Returns PRISM_ERR_INVALID for a
 * bad capacity, PRISM_ERR_NOMEM when allocation fails (the tree is then empty and
 * prism_sum_tree_free is safe). */
prism_status prism_sum_tree_init(prism_sum_tree *t, int capacity);
/* Release the nodes; safe on a zeroed or failed tree. */
void prism_sum_tree_free(prism_sum_tree *t);
/* Set leaf i (0 <= i < C) to value >= 0 (finite) and update its ancestors: O(log C). */
void prism_sum_tree_set(prism_sum_tree *t, int i, double value);
/* Leaf i. */
double prism_sum_tree_get(const prism_sum_tree *t, int i);
/* Sum of all leaves (the root). */
double prism_sum_tree_total(const prism_sum_tree *t);
/* The leaf i whose interval [prefix(i), prefix(i) + leaf i) contains u, prefix(i) being the
 * sum of leaves before i, for 0 <= u < total; u outside that range is clamped. Never returns a
 * zero leaf while the total is positive (rounding at a boundary steps to the non-zero side).
 * Precondition: total > 0. O(log C). */
int prism_sum_tree_find(const prism_sum_tree *t, double u);
/* All leaves to zero. */
void prism_sum_tree_clear(prism_sum_tree *t);
/* Recompute every internal node from the leaves, after writing leaves directly into
 * nodes[L..L+C) (as load does): O(L), and the same sums set() would have produced. */
void prism_sum_tree_rebuild(prism_sum_tree *t);

/* ---- Replay memory ----------------------------------------------------------------------- */

typedef enum prism_obs_storage {
    PRISM_OBS_FLOAT32 = 0, /* 4 bytes per value, exact */
    PRISM_OBS_UINT8 = 1,   /* 1 byte per value; values must be integers in 0..255 */
    PRISM_OBS_BITS = 2,    /* 1 bit per value; values must be 0 or 1 (MinAtar) */
    /* Not a storage: a request that the replay's owner resolves to one of the above before
     * prism_replay_init (the agent picks bits for image observations, float32 otherwise);
     * prism_replay_init rejects it. */
    PRISM_OBS_AUTO = 3,
} prism_obs_storage;

/* Name ("float32", "uint8", "bits"; "auto" for PRISM_OBS_AUTO) and parse of the three
 * storages (PRISM_ERR_INVALID listing the choices). */
const char *prism_obs_storage_name(prism_obs_storage s);
prism_status prism_obs_storage_parse(const char *name, prism_obs_storage *out);

typedef struct prism_replay_options {
    int capacity;              /* slots, 2*(n_step+1) .. 10,000,000 (see Storage above) */
    int obs_size;              /* D: values per observation, >= 1 */
    prism_obs_storage storage; /* default float32 */
    int n_step;                /* 1..64, default 1 */
    float gamma;               /* discount in [0, 1], default 0.99 */
    bool prioritized;          /* default false: uniform sampling */
    float alpha;               /* priority exponent in [0, 1], default 0.5 (Dopamine) */
    float beta;                /* importance-weight exponent in [0, 1], default 0.5 */
    double priority_eps;       /* added to the value before ^alpha, in (0, 1], default 1e-10 */
} prism_replay_options;

/* Defaults as commented above; capacity and obs_size are 0 and must be set. */
prism_replay_options prism_replay_options_default(void);

typedef struct prism_replay {
    prism_replay_options opt; /* as given to init; beta may be changed between samples */
    size_t obs_bytes;         /* bytes per stored observation */
    uint8_t *obs;             /* (C, obs_bytes) encoded observations */
    int32_t *actions;         /* (C) action taken from the slot's observation */
    float *rewards;           /* (C) reward of that step */
    uint8_t *flags;           /* (C) slot kind and end flags (src/replay/replay.c) */
    prism_sum_tree tree;      /* (C) leaves p_i, 0 for unsampleable slots; when prioritized */
    int64_t pos;              /* slots written since init/clear: the next slot is pos % C */
    bool open;                /* slot pos-1 holds an observation awaiting its action */
    int count;                /* sampleable transitions (N) */
    int64_t steps;            /* transitions added since init/clear */
    int64_t episodes;         /* episode ends (terminated or truncated) since init/clear */
    double max_priority;      /* largest p_i ever set (1 at first); new transitions get it */
    float last_min_weight;    /* smallest importance weight of the last batch (1 if uniform) */
} prism_replay;

/* Validate the options and allocate everything the buffer will ever need. Returns
 * PRISM_ERR_INVALID naming the bad option, or PRISM_ERR_NOMEM (nothing is left allocated and
 * prism_replay_free is safe). The buffer owns its memory; free it with prism_replay_free. */
prism_status prism_replay_init(prism_replay *r, const prism_replay_options *options);
void prism_replay_free(prism_replay *r);
/* Forget every transition (keeps the memory and options; max_priority back to 1). */
void prism_replay_clear(prism_replay *r);
/* Bytes allocated by the buffer (observations, actions, rewards, flags, tree). */
size_t prism_replay_memory_bytes(const prism_replay *r);

/* Record one environment step: the agent saw obs (D), took action (>= 0), got reward, and
 * the environment returned next_obs (D) — the real final observation if the episode ended.
 * obs is read only at the start of an episode; within an episode it must equal the previous
 * call's next_obs (asserted on the encoded bytes, so a broken stream aborts rather than
 * silently misaligns). Values must fit the storage (asserted for uint8 / bits). Overwrites
 * the oldest slots when full. O(D + n^2 + n log C); never allocates, never fails. */
void prism_replay_add(prism_replay *r, const float *obs, int action, float reward, bool terminated,
                      bool truncated, const float *next_obs);
/* End the open episode without an environment end (the trainer abandons it, e.g. on
 * reset after a resume): its last step is marked truncated, so the transitions that reach it
 * bootstrap from its real next observation. No-op when no episode is open. */
void prism_replay_cut_episode(prism_replay *r);

/* Number of sampleable transitions (complete windows still in the ring). */
int prism_replay_size(const prism_replay *r);

/* Assemble the transition starting at ring slot `index` (0 <= index < C): obs (D),
 * action, n-step return, discount and next_obs (D), as in the header comment; any output
 * pointer may be NULL. Returns false (outputs untouched) if the slot starts no sampleable
 * transition. Used by sample; handy for inspection and tests. */
bool prism_replay_get(const prism_replay *r, int index, float *obs, int *action, float *ret,
                      float *discount, float *next_obs);

/* A caller-owned batch of B samples for observations of D values, allocated once. */
typedef struct prism_replay_batch {
    int size;         /* B */
    int obs_size;     /* D */
    int *indices;     /* (B) ring slots, for prism_replay_update_priorities */
    float *obs;       /* (B, D) */
    int *actions;     /* (B) */
    float *returns;   /* (B) n-step returns */
    float *discounts; /* (B) gamma^n', or 0 after a termination */
    float *next_obs;  /* (B, D) */
    float *weights;   /* (B) importance weights, max 1 (all 1 when uniform) */
    float *probs;     /* (B) sampling probabilities P(i) (1/N when uniform) */
    void *block;      /* the one allocation behind the arrays */
} prism_replay_batch;

/* Allocate a batch (B >= 1, D >= 1). PRISM_ERR_INVALID / PRISM_ERR_NOMEM; free is safe after
 * a failure. */
prism_status prism_replay_batch_init(prism_replay_batch *b, int batch_size, int obs_size);
void prism_replay_batch_free(prism_replay_batch *b);

/* Draw batch->size transitions with `rng` (uniform with replacement, or proportional and
 * stratified when prioritized) and fill every field of the batch. Sets last_min_weight.
 * Returns PRISM_ERR_INVALID if the buffer holds no sampleable transition yet or the batch was
 * made for another obs_size (nothing drawn). Never allocates. */
prism_status prism_replay_sample(prism_replay *r, prism_rng *rng, prism_replay_batch *batch);

/* Set the priorities of the sampled slots from per-sample values v (see the PER convention
 * above: p = (v + priority_eps)^alpha, v = loss for Dopamine's form), and raise max_priority.
 * Slots that no longer start a sampleable transition are skipped (cannot happen between a
 * sample and its update unless transitions were added in between). Returns
 * PRISM_ERR_DIVERGED for a NaN or infinite value and PRISM_ERR_INVALID for a negative one,
 * PRISM_ERR_UNSUPPORTED without prioritization; on error nothing is changed. */
prism_status prism_replay_update_priorities(prism_replay *r, const int *indices,
                                            const float *values, int n);

/* Statistics for the metrics. */
typedef struct prism_replay_stats {
    int size;                 /* sampleable transitions N */
    int64_t steps;            /* transitions added */
    int64_t episodes;         /* episode ends seen */
    double priority_max;      /* current largest p_i over sampleable slots (0 if none) */
    double priority_mean;     /* current mean p_i over sampleable slots (0 if none) */
    double priority_max_ever; /* the priority new transitions enter with */
    float last_min_weight;    /* smallest importance weight in the last batch */
} prism_replay_stats;

/* Fill the statistics. Priorities are 0 without prioritization. O(C) (scans the leaves for
 * the current max): call it once per iteration, not per step. */
void prism_replay_stats_get(const prism_replay *r, prism_replay_stats *out);

/* Write the whole buffer (options, positions, counters, contents, priorities) to f:
 * magic "PRISMRPL", version, the fields, then a CRC-32C of everything before it. Returns
 * PRISM_ERR_IO on a write error. */
prism_status prism_replay_save(const prism_replay *r, FILE *f);
/* Read a buffer written by prism_replay_save into r, which must have been initialised with
 * the same capacity, obs_size, storage, n_step, gamma, prioritized, alpha and priority_eps
 * (beta is taken from the file). Returns PRISM_ERR_CORRUPT for a bad magic, version or CRC,
 * a truncated file or inconsistent contents, PRISM_ERR_INVALID (naming the field) for an
 * options mismatch; on any failure r is left empty (as after prism_replay_clear) but usable.
 * Never allocates. */
prism_status prism_replay_load(prism_replay *r, FILE *f);

#endif
