/* prism bench replay [CASE] [--json] [--seconds S]: replay-memory throughput — adds per
 * second in steady state (ring full and wrapping), sampled batches per second, and priority
 * updates per second, for the shapes the presets use. Rates are per second of this thread's
 * CPU time, not wall time, so that a busy shared machine (other processes taking turns on the
 * cores) distorts them less; on an idle machine the two agree. A benchmark, not a test: it
 * asserts nothing, and the numbers still depend on the machine (caches, clock). */
#include "cli.h"
#include "prism/replay.h"

#include <stdio.h>
#include <string.h>

typedef struct bench_case {
    const char *name;
    int obs_size;
    prism_obs_storage storage;
    int capacity, batch, n_step;
    bool prioritized;
    const char *what;
} bench_case;

static const bench_case cases[] = {
    {"cartpole", 4, PRISM_OBS_FLOAT32, 50000, 128, 1, false, "Revisiting Rainbow DQN, classic"},
    {"cartpole-per", 4, PRISM_OBS_FLOAT32, 50000, 128, 3, true, "Rainbow, classic control"},
    {"minatar", 400, PRISM_OBS_BITS, 100000, 32, 1, false, "DQN, MinAtar breakout 10x10x4"},
    {"minatar-per", 1000, PRISM_OBS_BITS, 100000, 32, 3, true, "Rainbow, MinAtar seaquest"},
};
enum { NCASES = sizeof cases / sizeof cases[0], POOL = 1024, EPISODE = 200 };

typedef struct bench_numbers {
    double adds, batches, updates; /* per second */
    size_t bytes;
} bench_numbers;

/* A synthetic stream: observations from a pool (so drawing them costs nothing), episodes of
 * EPISODE steps, every fifth one terminated and the rest truncated. */
typedef struct feed {
    const float *pool; /* (POOL, D) */
    int d;
    long long t;
} feed;

static void feed_steps(prism_replay *r, feed *f, long long n) {
    for (long long k = 0; k < n; k++, f->t++) {
        long long e = f->t / EPISODE, s = f->t % EPISODE;
        const float *o = f->pool + (size_t)((f->t + e) % POOL) * (size_t)f->d;
        const float *nx = f->pool + (size_t)((f->t + e + 1) % POOL) * (size_t)f->d;
        bool end = s == EPISODE - 1;
        prism_replay_add(r, o, (int)(f->t & 3), (float)(s & 7), end && e % 5 == 0,
                         end && e % 5 != 0, nx);
    }
}

static prism_status run_case(const bench_case *c, double seconds, bench_numbers *out) {
    memset(out, 0, sizeof *out);
    prism_replay_options o = prism_replay_options_default();
    o.capacity = c->capacity;
    o.obs_size = c->obs_size;
    o.storage = c->storage;
    o.n_step = c->n_step;
    o.prioritized = c->prioritized;
    prism_replay r;
    prism_replay_batch b;
    prism_status st = prism_replay_init(&r, &o);
    if (st) return st;
    st = prism_replay_batch_init(&b, c->batch, c->obs_size);
    float *pool = prism_alloc(sizeof(float) * POOL * (size_t)c->obs_size);
    float *loss = prism_alloc(sizeof(float) * (size_t)c->batch);
    if (st || !pool || !loss) {
        prism_free(pool), prism_free(loss);
        prism_replay_batch_free(&b), prism_replay_free(&r);
        return st ? st : prism_error(PRISM_ERR_NOMEM, "out of memory for the benchmark pool");
    }
    prism_rng rng;
    prism_rng_seed(&rng, 1, PRISM_STREAM_ACTIONS);
    for (size_t i = 0; i < (size_t)POOL * (size_t)c->obs_size; i++)
        pool[i] = c->storage == PRISM_OBS_BITS ? (float)prism_rng_below(&rng, 2)
                                               : (float)prism_rng_normal(&rng);
    feed f = {pool, c->obs_size, 0};
    feed_steps(&r, &f, c->capacity); /* fill the ring once: from now on every add overwrites */
    const long long chunk = 4096;
    long long n = 0;
    double t0 = prism_thread_cpu_now(), t;
    do {
        feed_steps(&r, &f, chunk);
        n += chunk;
        t = prism_thread_cpu_now() - t0;
    } while (t < seconds);
    out->adds = (double)n / t;

    prism_rng srng;
    prism_rng_seed(&srng, 1, PRISM_STREAM_REPLAY);
    n = 0;
    t0 = prism_thread_cpu_now();
    do {
        for (int k = 0; k < 64 && st == PRISM_OK; k++) st = prism_replay_sample(&r, &srng, &b);
        n += 64;
        t = prism_thread_cpu_now() - t0;
    } while (t < seconds);
    out->batches = (double)n / t;

    if (c->prioritized) {
        for (int i = 0; i < c->batch; i++) loss[i] = (float)prism_rng_uniform(&rng);
        n = 0;
        t0 = prism_thread_cpu_now();
        do {
            for (int k = 0; k < 64 && st == PRISM_OK; k++)
                st = prism_replay_update_priorities(&r, b.indices, loss, c->batch);
            n += 64;
            t = prism_thread_cpu_now() - t0;
        } while (t < seconds);
        out->updates = (double)n / t;
    }
    out->bytes = prism_replay_memory_bytes(&r);
    if (st) st = prism_error(st, "replay benchmark: %s", prism_error_message());
    prism_free(pool), prism_free(loss);
    prism_replay_batch_free(&b);
    prism_replay_free(&r);
    return st;
}

int bench_replay(int argc, char **argv) {
    enum { O_JSON, O_SECONDS, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_JSON] = {.name = "json", .help = "one JSON object per case"},
        [O_SECONDS] = {.name = "seconds",
                       .metavar = "S",
                       .help = "time per measurement (default 1)"},
    };
    char *pos[1];
    int npos;
    const char *usage = "prism bench replay [CASE] [--json] [--seconds S]";
    int rc = cli_parse("bench replay", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    long long secs;
    if (!cli_int("bench replay", &opts[O_SECONDS], 1, 600, 1, &secs)) return CLI_USAGE;
    const bench_case *only = NULL;
    if (npos == 1) {
        for (int i = 0; i < NCASES; i++)
            if (!strcmp(pos[0], cases[i].name)) only = &cases[i];
        if (!only) {
            fprintf(stderr, "prism bench replay: unknown case '%s': choose one of", pos[0]);
            for (int i = 0; i < NCASES; i++) fprintf(stderr, " %s", cases[i].name);
            fprintf(stderr, "\n");
            return CLI_USAGE;
        }
    }
    bool json = opts[O_JSON].count > 0;
    if (!json)
        printf("%-13s %-16s %7s %5s %2s %12s %14s %14s %8s\n", "CASE", "OBS", "CAP", "B", "N",
               "adds/s", "batches/s", "updates/s", "MB");
    for (int i = 0; i < NCASES; i++) {
        const bench_case *c = &cases[i];
        if (only && only != c) continue;
        bench_numbers m;
        prism_status st = run_case(c, (double)secs, &m);
        if (st) return cli_fail("bench replay", st, NULL);
        char obs[32], upd[32] = "-";
        if (c->prioritized) snprintf(upd, sizeof upd, "%.0f", m.updates);
        snprintf(obs, sizeof obs, "%d %s", c->obs_size, prism_obs_storage_name(c->storage));
        if (json) {
            prism_json j;
            prism_json_init(&j, 0);
            prism_json_object_begin(&j);
            prism_json_kv_string(&j, "case", c->name);
            prism_json_kv_int(&j, "obs_size", c->obs_size);
            prism_json_kv_string(&j, "storage", prism_obs_storage_name(c->storage));
            prism_json_kv_int(&j, "capacity", c->capacity);
            prism_json_kv_int(&j, "batch", c->batch);
            prism_json_kv_int(&j, "n_step", c->n_step);
            prism_json_kv_bool(&j, "prioritized", c->prioritized);
            prism_json_kv_fixed(&j, "adds_per_s", m.adds, 0);
            prism_json_kv_fixed(&j, "sample_batches_per_s", m.batches, 0);
            prism_json_kv_fixed(&j, "update_batches_per_s", m.updates, 0);
            prism_json_kv_int(&j, "memory_bytes", (long long)m.bytes);
            prism_json_kv_string(&j, "what", c->what);
            prism_json_object_end(&j);
            if ((rc = cli_json_print("bench replay", &j))) return rc;
        } else
            printf("%-13s %-16s %7d %5d %2d %12.0f %14.0f %14s %8.1f\n", c->name, obs, c->capacity,
                   c->batch, c->n_step, m.adds, m.batches, upd, (double)m.bytes / (1 << 20));
        fflush(stdout);
    }
    return CLI_OK;
}
