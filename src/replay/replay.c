/* Replay memory: the ring of slots, the n-step assembler, uniform and prioritized sampling,
 * statistics, and save/load. The priority index itself is sum_tree.c; the layout and the
 * formulas are in include/prism/replay.h and docs/replay.md.
 *
 * Positions are absolute slot numbers a = 0, 1, 2, ... since init (int64, never wrap); slot a
 * lives at ring index a % C and is present while pos - C <= a < pos. A transition window
 * only runs forward from its start and the slot overwritten next is always the oldest one, so
 * an overwrite can only ever end the transition that starts in that very slot.
 *
 * What this file is not: it does not know about networks, losses or the environment; it
 * never allocates after init and never prints. */
#include "prism/replay.h"

#include <math.h>
#include <string.h>

#define MAX_CAPACITY 10000000
#define MAX_N_STEP   64
#define MAX_OBS_SIZE (1 << 24)

/* Slot flags. */
enum {
    SLOT_OBS = 1,    /* holds an observation */
    SLOT_STEP = 2,   /* an action was taken from it: action, reward and end flags are set */
    SLOT_TERM = 4,   /* that step terminated the episode */
    SLOT_TRUNC = 8,  /* that step truncated the episode (or the trainer cut it) */
    SLOT_FINAL = 16, /* the final observation of an episode: starts no transition */
    SLOT_VALID = 32, /* starts a complete, sampleable transition (tree leaf > 0 when PER) */
};

const char *prism_obs_storage_name(prism_obs_storage s) {
    switch (s) {
    case PRISM_OBS_FLOAT32:
        return "float32";
    case PRISM_OBS_UINT8:
        return "uint8";
    case PRISM_OBS_BITS:
        return "bits";
    case PRISM_OBS_AUTO:
        return "auto";
    }
    return "?";
}

prism_status prism_obs_storage_parse(const char *name, prism_obs_storage *out) {
    static const prism_obs_storage all[] = {PRISM_OBS_FLOAT32, PRISM_OBS_UINT8, PRISM_OBS_BITS};
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, prism_obs_storage_name(all[i]))) {
            *out = all[i];
            return PRISM_OK;
        }
    return prism_error(PRISM_ERR_INVALID,
                       "unknown observation storage '%s': choose float32, uint8 or bits", name);
}

prism_replay_options prism_replay_options_default(void) {
    return (prism_replay_options){
        .capacity = 0,
        .obs_size = 0,
        .storage = PRISM_OBS_FLOAT32,
        .n_step = 1,
        .gamma = 0.99f,
        .prioritized = false,
        .alpha = 0.5f,         /* Dopamine's sqrt(loss) */
        .beta = 0.5f,          /* Dopamine's 1/sqrt(prob), fixed */
        .priority_eps = 1e-10, /* Dopamine: sqrt(loss + 1e-10) */
    };
}

static size_t obs_bytes_for(prism_obs_storage s, int d) {
    switch (s) {
    case PRISM_OBS_FLOAT32:
        return sizeof(float) * (size_t)d;
    case PRISM_OBS_UINT8:
        return (size_t)d;
    case PRISM_OBS_BITS:
        return ((size_t)d + 7) / 8;
    case PRISM_OBS_AUTO: /* rejected by check_options */
        break;
    }
    return 0;
}

static prism_status check_options(const prism_replay_options *o) {
    if (o->n_step < 1 || o->n_step > MAX_N_STEP)
        return prism_error(PRISM_ERR_INVALID, "replay n_step %d is out of range 1..%d", o->n_step,
                           MAX_N_STEP);
    /* Two windows' worth of slots keeps the newest window clear of the slot being overwritten. */
    int min_cap = 2 * (o->n_step + 1);
    if (o->capacity < min_cap || o->capacity > MAX_CAPACITY)
        return prism_error(
            PRISM_ERR_INVALID,
            "replay capacity %d is out of range %d..%d (slots; 2*(n_step+1) at least)", o->capacity,
            min_cap, MAX_CAPACITY);
    if (o->obs_size < 1 || o->obs_size > MAX_OBS_SIZE)
        return prism_error(PRISM_ERR_INVALID, "replay obs_size %d is out of range 1..%d",
                           o->obs_size, MAX_OBS_SIZE);
    if (o->storage == PRISM_OBS_AUTO)
        return prism_error(PRISM_ERR_INVALID,
                           "replay storage auto is a request for the replay's owner: resolve it "
                           "to float32, uint8 or bits before prism_replay_init");
    if (o->storage != PRISM_OBS_FLOAT32 && o->storage != PRISM_OBS_UINT8 &&
        o->storage != PRISM_OBS_BITS)
        return prism_error(PRISM_ERR_INVALID,
                           "replay storage %d is unknown: use float32, uint8 or bits",
                           (int)o->storage);
    if (!(o->gamma >= 0 && o->gamma <= 1))
        return prism_error(PRISM_ERR_INVALID, "replay gamma %g is out of range [0, 1]",
                           (double)o->gamma);
    if (!(o->alpha >= 0 && o->alpha <= 1))
        return prism_error(PRISM_ERR_INVALID, "replay alpha %g is out of range [0, 1]",
                           (double)o->alpha);
    if (!(o->beta >= 0 && o->beta <= 1))
        return prism_error(PRISM_ERR_INVALID, "replay beta %g is out of range [0, 1]",
                           (double)o->beta);
    /* eps > 0 keeps every stored priority positive, so a sampleable slot can always be drawn. */
    if (!(o->priority_eps > 0 && o->priority_eps <= 1))
        return prism_error(PRISM_ERR_INVALID, "replay priority_eps %g is out of range (0, 1]",
                           o->priority_eps);
    return PRISM_OK;
}

prism_status prism_replay_init(prism_replay *r, const prism_replay_options *options) {
    memset(r, 0, sizeof *r);
    prism_status st = check_options(options);
    if (st) return st;
    r->opt = *options;
    const size_t c = (size_t)options->capacity;
    r->obs_bytes = obs_bytes_for(options->storage, options->obs_size);
    /* One block: the 4-byte arrays first so every array is aligned. */
    size_t bytes = c * (sizeof(int32_t) + sizeof(float) + 1 + r->obs_bytes);
    uint8_t *block = prism_alloc(bytes);
    if (!block)
        return prism_error(PRISM_ERR_NOMEM,
                           "out of memory for a replay buffer of %d slots (%zu MB): lower the "
                           "replay capacity or use uint8/bits observation storage",
                           options->capacity, bytes >> 20);
    r->actions = (int32_t *)block;
    r->rewards = (float *)(block + c * sizeof(int32_t));
    r->flags = block + c * (sizeof(int32_t) + sizeof(float));
    r->obs = r->flags + c;
    if (options->prioritized) {
        st = prism_sum_tree_init(&r->tree, options->capacity);
        if (st) {
            prism_free(block);
            memset(r, 0, sizeof *r);
            return st;
        }
    }
    prism_replay_clear(r);
    return PRISM_OK;
}

void prism_replay_free(prism_replay *r) {
    prism_free(r->actions); /* the block starts with the actions */
    prism_sum_tree_free(&r->tree);
    memset(r, 0, sizeof *r);
}

void prism_replay_clear(prism_replay *r) {
    memset(r->flags, 0, (size_t)r->opt.capacity);
    if (r->opt.prioritized) prism_sum_tree_clear(&r->tree);
    r->pos = 0;
    r->open = false;
    r->count = 0;
    r->steps = 0;
    r->episodes = 0;
    r->max_priority = 1.0; /* Dopamine's initial max_recorded_priority */
    r->last_min_weight = 1.0f;
}

size_t prism_replay_memory_bytes(const prism_replay *r) {
    size_t c = (size_t)r->opt.capacity;
    size_t bytes = c * (sizeof(int32_t) + sizeof(float) + 1 + r->obs_bytes);
    if (r->opt.prioritized) bytes += 2 * (size_t)r->tree.leaves * sizeof(double);
    return bytes;
}

int prism_replay_size(const prism_replay *r) {
    return r->count;
}

/* ---- Observation codecs ------------------------------------------------------------------ */

/* Pack values 8i .. 8i+7 (those below d) into one byte, bit b = value 8i+b; *bad collects
 * values that are neither 0 nor 1. The byte is built in a register over a fixed count of 8
 * (which the compiler turns into a compare and a mask move) rather than or-ing bit by bit
 * into memory: that made MinAtar adds several times faster. */
static uint8_t pack_byte(const float *obs, int i, int d, int *bad) {
    unsigned byte = 0;
    int nz = 0, nb = 0;
    const float *x = obs + 8 * i;
    if (d - 8 * i >= 8) {
        for (int b = 0; b < 8; b++) {
            nz |= (x[b] != 0.0f) << b;
            nb |= (x[b] != 1.0f) << b;
        }
    } else {
        for (int b = 0; b < d - 8 * i; b++) {
            nz |= (x[b] != 0.0f) << b;
            nb |= (x[b] != 1.0f) << b;
        }
    }
    byte = (unsigned)nz;
    *bad |= nz & nb; /* a value that is neither 0 nor 1 */
    return (uint8_t)byte;
}

static void encode(const prism_replay *r, uint8_t *dst, const float *obs) {
    const int d = r->opt.obs_size;
    int bad = 0;
    switch (r->opt.storage) {
    case PRISM_OBS_FLOAT32:
        memcpy(dst, obs, sizeof(float) * (size_t)d);
        break;
    case PRISM_OBS_UINT8:
        for (int i = 0; i < d; i++) {
            float x = obs[i];
            bad |= !(x >= 0.0f && x <= 255.0f);
            uint8_t v = (uint8_t)(x >= 0.0f && x <= 255.0f ? x : 0.0f);
            bad |= (float)v != x; /* not an integer */
            dst[i] = v;
        }
        break;
    case PRISM_OBS_BITS:
        for (int i = 0; i < (d + 7) / 8; i++) dst[i] = pack_byte(obs, i, d, &bad);
        break;
    case PRISM_OBS_AUTO: /* rejected by check_options */
        break;
    }
    /* The storage was chosen at init for this environment: other values are a caller bug. */
    PRISM_ASSERT(!bad && "observation values do not fit the replay storage");
}

static void decode(const prism_replay *r, float *obs, const uint8_t *src) {
    const int d = r->opt.obs_size;
    switch (r->opt.storage) {
    case PRISM_OBS_FLOAT32:
        memcpy(obs, src, sizeof(float) * (size_t)d);
        break;
    case PRISM_OBS_UINT8:
        for (int i = 0; i < d; i++) obs[i] = (float)src[i];
        break;
    case PRISM_OBS_BITS:
        for (int i = 0; i < d / 8; i++) {
            unsigned byte = src[i];
            for (int b = 0; b < 8; b++) obs[8 * i + b] = (float)((byte >> b) & 1u);
        }
        for (int i = d / 8 * 8; i < d; i++) obs[i] = (float)((src[i >> 3] >> (i & 7)) & 1u);
        break;
    case PRISM_OBS_AUTO: /* rejected by check_options */
        break;
    }
}

/* Does the stored observation equal obs? (exact, on the stored representation) */
static bool stored_equals(const prism_replay *r, const uint8_t *src, const float *obs) {
    const int d = r->opt.obs_size;
    int bad = 0;
    switch (r->opt.storage) {
    case PRISM_OBS_FLOAT32:
        return !memcmp(src, obs, sizeof(float) * (size_t)d);
    case PRISM_OBS_UINT8:
        for (int i = 0; i < d; i++) bad |= (float)src[i] != obs[i];
        return !bad;
    case PRISM_OBS_BITS:
        for (int i = 0; i < (d + 7) / 8; i++) bad |= pack_byte(obs, i, d, &bad) != src[i];
        return !bad;
    case PRISM_OBS_AUTO: /* rejected by check_options */
        break;
    }
    return false;
}

/* ---- Ring bookkeeping -------------------------------------------------------------------- */

static size_t ring(const prism_replay *r, int64_t a) {
    return (size_t)(a % r->opt.capacity);
}

/* The absolute slot number of ring index i, or -1 if that slot holds nothing current. */
static int64_t absolute(const prism_replay *r, int i) {
    const int64_t c = r->opt.capacity;
    int64_t a = r->pos / c * c + i;
    if (a >= r->pos) a -= c;
    return a >= 0 ? a : -1;
}

static void invalidate(prism_replay *r, size_t i) {
    if (r->flags[i] & SLOT_VALID) {
        r->count--;
        if (r->opt.prioritized) prism_sum_tree_set(&r->tree, (int)i, 0.0);
    }
    r->flags[i] = 0;
}

/* Write obs into the next slot (overwriting the oldest), with extra flags. */
static void push_obs(prism_replay *r, const float *obs, uint8_t extra) {
    size_t i = ring(r, r->pos);
    invalidate(r, i);
    encode(r, r->obs + i * r->obs_bytes, obs);
    r->actions[i] = -1;
    r->rewards[i] = 0;
    r->flags[i] = (uint8_t)(SLOT_OBS | extra);
    r->pos++;
}

/* Length n' of the window starting at absolute slot a if it is complete, else 0. */
static int window(const prism_replay *r, int64_t a) {
    if (a < 0 || a < r->pos - r->opt.capacity) return 0;
    for (int k = 0; k < r->opt.n_step; k++) {
        if (a + k >= r->pos) return 0;
        uint8_t f = r->flags[ring(r, a + k)];
        if (!(f & SLOT_STEP)) return 0; /* the next step has not been taken yet */
        if (f & (SLOT_TERM | SLOT_TRUNC)) return k + 1;
    }
    return r->opt.n_step;
}

/* The step at absolute slot p was just recorded (or its flags changed): the windows that may
 * have become complete start at p-n+1 .. p. */
static void complete_windows(prism_replay *r, int64_t p) {
    for (int64_t a = p - r->opt.n_step + 1; a <= p; a++) {
        if (a < 0 || a < r->pos - r->opt.capacity) continue;
        size_t i = ring(r, a);
        if ((r->flags[i] & SLOT_VALID) || !window(r, a)) continue;
        r->flags[i] |= SLOT_VALID;
        r->count++;
        if (r->opt.prioritized) prism_sum_tree_set(&r->tree, (int)i, r->max_priority);
    }
}

void prism_replay_add(prism_replay *r, const float *obs, int action, float reward, bool terminated,
                      bool truncated, const float *next_obs) {
    PRISM_ASSERT(action >= 0);
    if (!r->open)
        push_obs(r, obs, 0);
    else /* the stream must continue where it left off, or every later window is wrong */
        PRISM_ASSERT(stored_equals(r, r->obs + ring(r, r->pos - 1) * r->obs_bytes, obs));
    const int64_t p = r->pos - 1;
    size_t i = ring(r, p);
    r->actions[i] = action;
    r->rewards[i] = reward;
    r->flags[i] |=
        (uint8_t)(SLOT_STEP | (terminated ? SLOT_TERM : 0) | (truncated ? SLOT_TRUNC : 0));
    const bool end = terminated || truncated;
    push_obs(r, next_obs, end ? SLOT_FINAL : 0);
    r->open = !end;
    r->steps++;
    if (end) r->episodes++;
    complete_windows(r, p);
}

void prism_replay_cut_episode(prism_replay *r) {
    if (!r->open) return;
    /* open: slot pos-1 is the pending observation and pos-2 the step that led to it */
    const int64_t p = r->pos - 2;
    PRISM_ASSERT(p >= 0 && (r->flags[ring(r, p)] & SLOT_STEP));
    r->flags[ring(r, p)] |= SLOT_TRUNC;
    r->flags[ring(r, r->pos - 1)] |= SLOT_FINAL;
    r->open = false;
    r->episodes++;
    complete_windows(r, p);
}

bool prism_replay_get(const prism_replay *r, int index, float *obs, int *action, float *ret,
                      float *discount, float *next_obs) {
    if (index < 0 || index >= r->opt.capacity || !(r->flags[index] & SLOT_VALID)) return false;
    const int64_t a = absolute(r, index);
    const int n = window(r, a);
    PRISM_ASSERT(a >= 0 && n > 0); /* VALID means a complete window */
    /* Accumulate in double so the n-step return does not depend on float rounding order. */
    const double g = (double)r->opt.gamma;
    double sum = 0, gk = 1;
    for (int k = 0; k < n; k++) {
        sum += gk * (double)r->rewards[ring(r, a + k)];
        gk *= g;
    }
    const bool term = r->flags[ring(r, a + n - 1)] & SLOT_TERM;
    if (obs) decode(r, obs, r->obs + (size_t)index * r->obs_bytes);
    if (action) *action = r->actions[index];
    if (ret) *ret = (float)sum;
    if (discount) *discount = term ? 0.0f : (float)gk;
    if (next_obs) decode(r, next_obs, r->obs + ring(r, a + n) * r->obs_bytes);
    return true;
}

/* ---- Batches and sampling ---------------------------------------------------------------- */

prism_status prism_replay_batch_init(prism_replay_batch *b, int batch_size, int obs_size) {
    memset(b, 0, sizeof *b);
    if (batch_size < 1 || batch_size > (1 << 20) || obs_size < 1 || obs_size > MAX_OBS_SIZE)
        return prism_error(PRISM_ERR_INVALID,
                           "replay batch of %d x %d is out of range (1..%d samples, 1..%d values)",
                           batch_size, obs_size, 1 << 20, MAX_OBS_SIZE);
    const size_t B = (size_t)batch_size, D = (size_t)obs_size;
    /* (2 B D + 6 B) 4-byte values; int and float are both 4 bytes here. */
    _Static_assert(sizeof(int) == sizeof(float), "int and float share the batch block");
    float *block = prism_alloc(sizeof(float) * (2 * B * D + 6 * B));
    if (!block)
        return prism_error(PRISM_ERR_NOMEM, "out of memory for a replay batch of %d x %d",
                           batch_size, obs_size);
    b->block = block;
    b->size = batch_size;
    b->obs_size = obs_size;
    b->obs = block;
    b->next_obs = block + B * D;
    float *rest = block + 2 * B * D;
    b->indices = (int *)(void *)rest;
    b->actions = (int *)(void *)(rest + B);
    b->returns = rest + 2 * B;
    b->discounts = rest + 3 * B;
    b->weights = rest + 4 * B;
    b->probs = rest + 5 * B;
    return PRISM_OK;
}

void prism_replay_batch_free(prism_replay_batch *b) {
    prism_free(b->block);
    memset(b, 0, sizeof *b);
}

prism_status prism_replay_sample(prism_replay *r, prism_rng *rng, prism_replay_batch *batch) {
    if (r->count == 0)
        return prism_error(PRISM_ERR_INVALID,
                           "replay memory holds no complete transition yet: add steps before "
                           "sampling (wait for the minimum history)");
    if (batch->obs_size != r->opt.obs_size)
        return prism_error(PRISM_ERR_INVALID,
                           "replay batch was made for observations of %d values, the buffer "
                           "holds %d",
                           batch->obs_size, r->opt.obs_size);
    const int B = batch->size;
    const size_t D = (size_t)r->opt.obs_size;
    const double N = (double)r->count;
    if (!r->opt.prioritized) {
        /* Uniform over sampleable slots by rejection: at most about one slot in two is not
         * sampleable (one final observation per episode, the last n-1 steps of the open one),
         * so a draw takes about one or two tries, and the result is exactly uniform. */
        const uint32_t filled = (uint32_t)(r->pos < r->opt.capacity ? r->pos : r->opt.capacity);
        for (int b = 0; b < B; b++) {
            uint32_t i;
            do i = prism_rng_below(rng, filled);
            while (!(r->flags[i] & SLOT_VALID));
            batch->indices[b] = (int)i;
            batch->weights[b] = 1.0f;
            batch->probs[b] = (float)(1.0 / N);
        }
        r->last_min_weight = 1.0f;
    } else {
        /* Stratified: sample b is drawn from the b-th of B equal segments of the total mass. */
        const double total = prism_sum_tree_total(&r->tree);
        const double seg = total / B, beta = (double)r->opt.beta;
        double wmax = 0, wmin = INFINITY;
        for (int b = 0; b < B; b++) {
            double u = ((double)b + prism_rng_uniform(rng)) * seg;
            int i = prism_sum_tree_find(&r->tree, u);
            PRISM_ASSERT(r->flags[i] & SLOT_VALID);
            double p = prism_sum_tree_get(&r->tree, i) / total;
            /* beta 0.5 (the presets): 1/sqrt is exact and three times cheaper than pow */
            double w = beta == 0.5 ? 1.0 / sqrt(N * p) : pow(N * p, -beta);
            batch->indices[b] = i;
            batch->probs[b] = (float)p;
            batch->weights[b] = (float)w; /* normalised below */
            if (w > wmax) wmax = w;
            if (w < wmin) wmin = w;
        }
        for (int b = 0; b < B; b++) batch->weights[b] = (float)((double)batch->weights[b] / wmax);
        r->last_min_weight = (float)(wmin / wmax);
    }
    for (int b = 0; b < B; b++) {
        bool ok = prism_replay_get(r, batch->indices[b], batch->obs + (size_t)b * D,
                                   &batch->actions[b], &batch->returns[b], &batch->discounts[b],
                                   batch->next_obs + (size_t)b * D);
        PRISM_ASSERT(ok);
    }
    return PRISM_OK;
}

prism_status prism_replay_update_priorities(prism_replay *r, const int *indices,
                                            const float *values, int n) {
    if (!r->opt.prioritized)
        return prism_error(PRISM_ERR_UNSUPPORTED,
                           "replay priorities updated on a uniform buffer: enable prioritized "
                           "replay or skip the update");
    for (int k = 0; k < n; k++) {
        if (!isfinite(values[k]))
            return prism_error(PRISM_ERR_DIVERGED,
                               "replay priority value %g for sample %d is not finite: the loss "
                               "diverged",
                               (double)values[k], k);
        if (values[k] < 0)
            return prism_error(PRISM_ERR_INVALID,
                               "replay priority value %g for sample %d is negative: pass a loss "
                               "or an absolute TD error",
                               (double)values[k], k);
        if (indices[k] < 0 || indices[k] >= r->opt.capacity)
            return prism_error(PRISM_ERR_INVALID,
                               "replay index %d for sample %d is outside the ring of %d slots",
                               indices[k], k, r->opt.capacity);
    }
    const double alpha = (double)r->opt.alpha, eps = r->opt.priority_eps;
    for (int k = 0; k < n; k++) {
        int i = indices[k];
        if (!(r->flags[i] & SLOT_VALID)) continue;
        /* alpha 0.5 is Dopamine's sqrt(loss + 1e-10), computed as such */
        double p =
            alpha == 0.5 ? sqrt((double)values[k] + eps) : pow((double)values[k] + eps, alpha);
        prism_sum_tree_set(&r->tree, i, p);
        if (p > r->max_priority) r->max_priority = p;
    }
    return PRISM_OK;
}

void prism_replay_stats_get(const prism_replay *r, prism_replay_stats *out) {
    memset(out, 0, sizeof *out);
    out->size = r->count;
    out->steps = r->steps;
    out->episodes = r->episodes;
    out->last_min_weight = r->last_min_weight;
    if (!r->opt.prioritized) return;
    out->priority_max_ever = r->max_priority;
    if (r->count == 0) return;
    double mx = 0;
    for (int i = 0; i < r->opt.capacity; i++) {
        double p = prism_sum_tree_get(&r->tree, i);
        if (p > mx) mx = p;
    }
    out->priority_max = mx;
    out->priority_mean = prism_sum_tree_total(&r->tree) / r->count;
}

/* ---- Save / load --------------------------------------------------------------------------
 * Version 1, native little-endian:
 *   "PRISMRPL" u32 version
 *   i32 capacity, obs_size, storage, n_step; f32 gamma, alpha, beta; f64 priority_eps;
 *   u8 prioritized, open, 0, 0; i64 pos, steps, episodes; i32 count; f64 max_priority;
 *   f32 last_min_weight
 *   for the F = min(pos, C) written ring slots 0..F-1: i32 actions[F], f32 rewards[F],
 *   u8 flags[F], obs[F][obs_bytes], and when prioritized f64 leaves[F]
 *   u32 CRC-32C of every byte before it. */

#define REPLAY_MAGIC   "PRISMRPL"
#define REPLAY_VERSION 1u

typedef struct stream {
    FILE *f;
    uint32_t crc;
    size_t offset; /* bytes so far, for messages */
    bool failed;
} stream;

static void put(stream *s, const void *p, size_t n) {
    if (s->failed || n == 0) return;
    if (fwrite(p, 1, n, s->f) != n) s->failed = true;
    s->crc = prism_crc32c(s->crc, p, n);
    s->offset += n;
}

/* Read n bytes; false (and a message) if the file ends first. */
static bool get(stream *s, void *p, size_t n) {
    if (n == 0) return true;
    size_t got = fread(p, 1, n, s->f);
    s->crc = prism_crc32c(s->crc, p, got);
    s->offset += got;
    if (got != n) {
        prism_error(PRISM_ERR_CORRUPT,
                    "replay checkpoint is truncated at byte %zu (%zu more bytes expected): the "
                    "file was not written completely; use an older checkpoint",
                    s->offset, n - got);
        return false;
    }
    return true;
}

typedef struct file_header {
    int32_t capacity, obs_size, storage, n_step;
    float gamma, alpha, beta;
    double priority_eps;
    uint8_t prioritized, open, pad[2];
    int64_t pos, steps, episodes;
    int32_t count;
    double max_priority;
    float last_min_weight;
} file_header;

/* Fields go one by one (not the struct) so padding never reaches the file. */
static void header_io(stream *s, file_header *h, bool reading, bool *ok) {
#define FIELD(x)                                                                                   \
    do {                                                                                           \
        if (reading) {                                                                             \
            if (*ok && !get(s, &h->x, sizeof h->x)) *ok = false;                                   \
        } else                                                                                     \
            put(s, &h->x, sizeof h->x);                                                            \
    } while (0)
    FIELD(capacity);
    FIELD(obs_size);
    FIELD(storage);
    FIELD(n_step);
    FIELD(gamma);
    FIELD(alpha);
    FIELD(beta);
    FIELD(priority_eps);
    FIELD(prioritized);
    FIELD(open);
    FIELD(pad);
    FIELD(pos);
    FIELD(steps);
    FIELD(episodes);
    FIELD(count);
    FIELD(max_priority);
    FIELD(last_min_weight);
#undef FIELD
}

static size_t filled_slots(const prism_replay *r) {
    return (size_t)(r->pos < r->opt.capacity ? r->pos : r->opt.capacity);
}

prism_status prism_replay_save(const prism_replay *r, FILE *f) {
    stream s = {.f = f};
    uint32_t version = REPLAY_VERSION;
    put(&s, REPLAY_MAGIC, 8);
    put(&s, &version, sizeof version);
    file_header h = {
        .capacity = r->opt.capacity,
        .obs_size = r->opt.obs_size,
        .storage = (int32_t)r->opt.storage,
        .n_step = r->opt.n_step,
        .gamma = r->opt.gamma,
        .alpha = r->opt.alpha,
        .beta = r->opt.beta,
        .priority_eps = r->opt.priority_eps,
        .prioritized = r->opt.prioritized,
        .open = r->open,
        .pos = r->pos,
        .steps = r->steps,
        .episodes = r->episodes,
        .count = r->count,
        .max_priority = r->max_priority,
        .last_min_weight = r->last_min_weight,
    };
    header_io(&s, &h, false, NULL);
    const size_t F = filled_slots(r);
    put(&s, r->actions, F * sizeof(int32_t));
    put(&s, r->rewards, F * sizeof(float));
    put(&s, r->flags, F);
    put(&s, r->obs, F * r->obs_bytes);
    if (r->opt.prioritized) put(&s, r->tree.nodes + r->tree.leaves, F * sizeof(double));
    uint32_t crc = s.crc;
    put(&s, &crc, sizeof crc);
    if (s.failed || fflush(f) != 0)
        return prism_error(PRISM_ERR_IO,
                           "could not write the replay checkpoint (%zu bytes): check disk space "
                           "and permissions",
                           s.offset);
    return PRISM_OK;
}

#define MISMATCH(field, fmt, file_value, own_value)                                                \
    prism_error(PRISM_ERR_INVALID,                                                                 \
                "replay checkpoint has " field " " fmt ", this buffer " fmt                        \
                ": initialise the buffer with the options the checkpoint was written with",        \
                file_value, own_value)

static prism_status check_header(const prism_replay *r, const file_header *h) {
    const prism_replay_options *o = &r->opt;
    if (h->capacity != o->capacity) return MISMATCH("capacity", "%d", h->capacity, o->capacity);
    if (h->obs_size != o->obs_size) return MISMATCH("obs_size", "%d", h->obs_size, o->obs_size);
    if (h->storage != (int32_t)o->storage)
        return MISMATCH("storage", "%d", h->storage, (int)o->storage);
    if (h->n_step != o->n_step) return MISMATCH("n_step", "%d", h->n_step, o->n_step);
    if (h->gamma != o->gamma) return MISMATCH("gamma", "%.9g", (double)h->gamma, (double)o->gamma);
    if ((bool)h->prioritized != o->prioritized)
        return MISMATCH("prioritized", "%d", h->prioritized, (int)o->prioritized);
    if (h->alpha != o->alpha) return MISMATCH("alpha", "%.9g", (double)h->alpha, (double)o->alpha);
    if (h->priority_eps != o->priority_eps)
        return MISMATCH("priority_eps", "%.17g", h->priority_eps, o->priority_eps);
    return PRISM_OK;
}

/* Contents that passed the CRC but contradict themselves (a file written by a buggy or
 * hostile writer): refuse rather than sample garbage. */
static prism_status check_contents(const prism_replay *r, const file_header *h) {
    const size_t F = filled_slots(r);
    int valid = 0;
    const uint8_t known = SLOT_OBS | SLOT_STEP | SLOT_TERM | SLOT_TRUNC | SLOT_FINAL | SLOT_VALID;
    for (size_t i = 0; i < F; i++) {
        uint8_t f = r->flags[i];
        bool ok = (f & ~known) == 0 && (f & SLOT_OBS);
        /* a step slot holds the action taken (>= 0, as add() asserts); any other slot -1 */
        ok = ok && ((f & SLOT_STEP) ? r->actions[i] >= 0 : r->actions[i] == -1);
        if (ok && (f & SLOT_VALID)) {
            valid++;
            ok = window(r, absolute(r, (int)i)) > 0;
        }
        if (ok && r->opt.prioritized) {
            double p = r->tree.nodes[(size_t)r->tree.leaves + i];
            ok = isfinite(p) && ((f & SLOT_VALID) ? p > 0 : p == 0);
        }
        if (!ok)
            return prism_error(
                PRISM_ERR_CORRUPT,
                "replay checkpoint slot %zu is inconsistent (flags 0x%02x): the file "
                "is damaged; use an older checkpoint",
                i, f);
    }
    /* The newest slot must agree with `open`: a pending observation after a step, or the
     * final observation of an episode; add() relies on it. */
    bool newest_ok = true;
    if (h->pos > 0) {
        uint8_t last = r->flags[ring(r, h->pos - 1)];
        newest_ok = h->open ? h->pos >= 2 && !(last & (SLOT_STEP | SLOT_FINAL)) &&
                                  (r->flags[ring(r, h->pos - 2)] & SLOT_STEP)
                            : (last & SLOT_FINAL) != 0;
    }
    if (valid != h->count || !newest_ok || h->steps < 0 || h->episodes < 0 ||
        !(isfinite(h->max_priority) && h->max_priority > 0))
        return prism_error(PRISM_ERR_CORRUPT,
                           "replay checkpoint counters are inconsistent (count %d, %d sampleable "
                           "slots): the file is damaged; use an older checkpoint",
                           h->count, valid);
    return PRISM_OK;
}

/* The header does not match this buffer. Before blaming the options, read the rest of the
 * file by the header's own sizes and check the CRC: a damaged header must be reported as
 * damage, not as a configuration mismatch. Returns `mismatch` only if the file is intact. */
static prism_status skip_and_verify(stream *s, const file_header *h, prism_status mismatch) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", prism_error_message());
    bool sane = h->capacity >= 1 && h->capacity <= MAX_CAPACITY && h->obs_size >= 1 &&
                h->obs_size <= MAX_OBS_SIZE && h->storage >= 0 && h->storage <= 2 && h->pos >= 0 &&
                h->prioritized <= 1;
    if (sane) {
        size_t F = (size_t)(h->pos < h->capacity ? h->pos : h->capacity);
        size_t per_slot = sizeof(int32_t) + sizeof(float) + 1 +
                          obs_bytes_for((prism_obs_storage)h->storage, h->obs_size) +
                          (h->prioritized ? sizeof(double) : 0);
        size_t left = F * per_slot;
        char buf[4096];
        while (sane && left > 0) {
            size_t n = left < sizeof buf ? left : sizeof buf;
            if (!get(s, buf, n)) return PRISM_ERR_CORRUPT;
            left -= n;
        }
        uint32_t expect = s->crc, crc;
        if (!get(s, &crc, sizeof crc)) return PRISM_ERR_CORRUPT;
        if (crc == expect) return prism_error(mismatch, "%s", msg);
    }
    return prism_error(PRISM_ERR_CORRUPT,
                       "replay checkpoint header is damaged (checksum mismatch): use an older "
                       "checkpoint");
}

prism_status prism_replay_load(prism_replay *r, FILE *f) {
    prism_replay_clear(r);
    stream s = {.f = f};
    char magic[8];
    uint32_t version;
    if (!get(&s, magic, 8)) return PRISM_ERR_CORRUPT;
    if (memcmp(magic, REPLAY_MAGIC, 8))
        return prism_error(PRISM_ERR_CORRUPT,
                           "not a prism replay checkpoint (bad magic): check the file name");
    if (!get(&s, &version, sizeof version)) return PRISM_ERR_CORRUPT;
    if (version != REPLAY_VERSION)
        return prism_error(PRISM_ERR_CORRUPT,
                           "replay checkpoint version %u is not supported (this prism reads %u)",
                           version, REPLAY_VERSION);
    file_header h;
    bool ok = true;
    header_io(&s, &h, true, &ok);
    if (!ok) return PRISM_ERR_CORRUPT;
    prism_status st = check_header(r, &h);
    if (st) return skip_and_verify(&s, &h, st);
    if (h.pos < 0 || h.count < 0 || h.count > r->opt.capacity || h.open > 1 ||
        !(h.beta >= 0 && h.beta <= 1))
        return prism_error(PRISM_ERR_CORRUPT,
                           "replay checkpoint header is damaged (position %lld, count %d): use an "
                           "older checkpoint",
                           (long long)h.pos, h.count);
    r->pos = h.pos;
    const size_t F = filled_slots(r);
    ok = get(&s, r->actions, F * sizeof(int32_t)) && get(&s, r->rewards, F * sizeof(float)) &&
         get(&s, r->flags, F) && get(&s, r->obs, F * r->obs_bytes) &&
         (!r->opt.prioritized || get(&s, r->tree.nodes + r->tree.leaves, F * sizeof(double)));
    uint32_t expect = s.crc, crc;
    if (ok) ok = get(&s, &crc, sizeof crc);
    if (!ok) {
        prism_replay_clear(r);
        return PRISM_ERR_CORRUPT;
    }
    if (crc != expect) {
        prism_replay_clear(r);
        return prism_error(PRISM_ERR_CORRUPT,
                           "replay checkpoint checksum mismatch (CRC-32C %08x, expected %08x): the "
                           "file is corrupted; use an older checkpoint",
                           crc, expect);
    }
    st = check_contents(r, &h);
    if (st) {
        prism_replay_clear(r);
        return st;
    }
    r->open = h.open;
    r->count = h.count;
    r->steps = h.steps;
    r->episodes = h.episodes;
    r->max_priority = h.max_priority;
    r->last_min_weight = h.last_min_weight;
    r->opt.beta = h.beta;
    if (r->opt.prioritized) prism_sum_tree_rebuild(&r->tree);
    return PRISM_OK;
}
