/* prism bench env [ID] [--json] [--seconds S] [--vector N]: steps per second with random
 * actions and auto-reset, for one environment and for a vector of N.
 *
 * Rates are steps per second of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), best of
 * three runs: on an idle machine that equals wall-clock time, and on a shared one it keeps
 * other processes' time out of the figure (cache and memory contention still show). Random
 * actions come from one prism_rng stream, two actions per 64-bit draw by multiply-shift (a
 * bias below 2^-30 is irrelevant here), so that action sampling is not what gets measured. */
#include "cli.h"
#include "prism/env.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct bench_result {
    double single, vector;
} bench_result;

/* Fill act (n) with uniform actions in [0, A). */
static void draw_actions(prism_rng *rng, int *act, int n, uint32_t A) {
    int i = 0;
    for (; i + 1 < n; i += 2) {
        uint64_t r = prism_rng_next(rng);
        act[i] = (int)(((r & 0xFFFFFFFFu) * A) >> 32);
        act[i + 1] = (int)(((r >> 32) * A) >> 32);
    }
    if (i < n) act[i] = (int)(((prism_rng_next(rng) >> 32) * A) >> 32);
}

static double time_single(const char *id, double seconds) {
    prism_env env;
    if (prism_env_init(&env, id, NULL)) return 0;
    prism_env_seed(&env, 1, PRISM_STREAM_ENV);
    float *obs = malloc(sizeof(float) * (size_t)prism_env_obs_size(env.cls));
    enum { CHUNK = 4096 };
    int *act = malloc(sizeof(int) * CHUNK);
    prism_rng actions;
    prism_rng_seed(&actions, 1, PRISM_STREAM_ACTIONS);
    const uint32_t A = (uint32_t)env.cls->num_actions;
    prism_env_reset(&env, obs);
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        long long steps = 0;
        double t0 = prism_thread_cpu_now(), t;
        do {
            draw_actions(&actions, act, CHUNK, A);
            for (int i = 0; i < CHUNK; i++) {
                prism_step s = prism_env_step(&env, act[i], obs);
                if (s.terminated || s.truncated) prism_env_reset(&env, obs);
            }
            steps += CHUNK;
            t = prism_thread_cpu_now() - t0;
        } while (t < seconds / 3);
        if ((double)steps / t > best) best = (double)steps / t;
    }
    free(obs);
    free(act);
    prism_env_free(&env);
    return best;
}

static double time_vector(const char *id, int n, double seconds) {
    prism_vec_env v;
    if (prism_vec_env_init(&v, id, n, NULL, 1)) return 0;
    size_t d = (size_t)v.obs_size;
    float *obs = malloc(sizeof(float) * d * (size_t)n),
          *final = malloc(sizeof(float) * d * (size_t)n);
    float *rew = malloc(sizeof(float) * (size_t)n);
    bool *term = malloc((size_t)n), *trunc = malloc((size_t)n);
    int *act = malloc(sizeof(int) * (size_t)n);
    prism_rng actions;
    prism_rng_seed(&actions, 1, PRISM_STREAM_ACTIONS);
    const uint32_t A = (uint32_t)v.envs[0].cls->num_actions;
    prism_vec_env_reset(&v, obs);
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        long long steps = 0;
        double t0 = prism_thread_cpu_now(), t;
        do {
            for (int k = 0; k < 64; k++) {
                draw_actions(&actions, act, n, A);
                prism_vec_env_step(&v, act, obs, final, rew, term, trunc);
            }
            steps += 64LL * n;
            t = prism_thread_cpu_now() - t0;
        } while (t < seconds / 3);
        if ((double)steps / t > best) best = (double)steps / t;
    }
    free(obs), free(final), free(rew), free(term), free(trunc), free(act);
    prism_vec_env_free(&v);
    return best;
}

int bench_env(int argc, char **argv) {
    enum { O_JSON, O_SECONDS, O_VECTOR, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_JSON] = {.name = "json", .help = "one JSON object per environment"},
        [O_SECONDS] = {.name = "seconds",
                       .metavar = "S",
                       .help = "CPU time per measurement (default 1)"},
        [O_VECTOR] = {.name = "vector",
                      .metavar = "N",
                      .help = "environments in the vector (default 256)"},
    };
    char *pos[1];
    int npos;
    const char *usage = "prism bench env [ID] [--json] [--seconds S] [--vector N]";
    int rc = cli_parse("bench env", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    long long vec_n, secs;
    if (!cli_int("bench env", &opts[O_SECONDS], 1, 600, 1, &secs)) return CLI_USAGE;
    if (!cli_int("bench env", &opts[O_VECTOR], 1, 1 << 16, 256, &vec_n)) return CLI_USAGE;
    if (npos == 1 && !prism_env_find(pos[0])) {
        prism_env e;
        return cli_fail("bench env", prism_env_init(&e, pos[0], NULL), NULL);
    }
    bool json = opts[O_JSON].count > 0;
    if (!json)
        printf("%-22s %16s %16s   (steps per CPU-second, best of 3)\n", "ENV", "SINGLE steps/s",
               "VECTOR steps/s");
    for (int i = 0; i < prism_env_class_count(); i++) {
        const prism_env_class *c = prism_env_class_at(i);
        if (npos == 1 && c != prism_env_find(pos[0])) continue;
        bench_result r = {time_single(c->id, (double)secs),
                          time_vector(c->id, (int)vec_n, (double)secs)};
        double best = r.single > r.vector ? r.single : r.vector;
        if (json) {
            /* rates to the step: more digits would be noise */
            prism_json j;
            prism_json_init(&j, 0);
            prism_json_object_begin(&j);
            prism_json_kv_string(&j, "env", c->id);
            prism_json_kv_fixed(&j, "steps_per_s", best, 0);
            prism_json_kv_fixed(&j, "single_steps_per_s", r.single, 0);
            prism_json_kv_fixed(&j, "vector_steps_per_s", r.vector, 0);
            prism_json_kv_int(&j, "vector_n", vec_n);
            prism_json_kv_string(&j, "clock", "thread_cpu");
            prism_json_object_end(&j);
            if ((rc = cli_json_print("bench env", &j))) return rc;
        } else
            printf("%-22s %16.0f %16.0f\n", c->id, r.single, r.vector);
        fflush(stdout);
    }
    return CLI_OK;
}
