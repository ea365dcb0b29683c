/* prism bench env [ID] [--json] [--seconds S] [--vector N]: steps per second with random
 * actions and auto-reset, for one environment and for a vector of N. */
#include "cli.h"
#include "prism/env.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct bench_result {
    double single, vector;
} bench_result;

static double time_single(const char *id, double seconds) {
    prism_env env;
    if (prism_env_init(&env, id, NULL)) return 0;
    prism_env_seed(&env, 1, PRISM_STREAM_ENV);
    float obs[8192];
    prism_rng actions;
    prism_rng_seed(&actions, 1, PRISM_STREAM_ACTIONS);
    const uint32_t A = (uint32_t)env.cls->num_actions;
    prism_env_reset(&env, obs);
    long long steps = 0;
    const long long chunk = 1 << 16;
    double t0 = prism_now(), t;
    do {
        for (long long i = 0; i < chunk; i++) {
            prism_step s = prism_env_step(&env, (int)prism_rng_below(&actions, A), obs);
            if (s.terminated || s.truncated) prism_env_reset(&env, obs);
        }
        steps += chunk;
        t = prism_now() - t0;
    } while (t < seconds);
    prism_env_free(&env);
    return (double)steps / t;
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
    long long steps = 0;
    double t0 = prism_now(), t;
    do {
        for (int rep = 0; rep < 256; rep++) {
            for (int i = 0; i < n; i++) act[i] = (int)prism_rng_below(&actions, A);
            prism_vec_env_step(&v, act, obs, final, rew, term, trunc);
        }
        steps += 256LL * n;
        t = prism_now() - t0;
    } while (t < seconds);
    free(obs), free(final), free(rew), free(term), free(trunc), free(act);
    prism_vec_env_free(&v);
    return (double)steps / t;
}

int bench_env(int argc, char **argv) {
    cli_opt opts[] = {
        {.name = "json", .help = "one JSON object per environment"},
        {.name = "seconds", .metavar = "S", .help = "time per measurement (default 1)"},
        {.name = "vector", .metavar = "N", .help = "environments in the vector (default 256)"},
    };
    char *pos[1];
    int npos;
    const char *usage = "prism bench env [ID] [--json] [--seconds S] [--vector N]";
    int rc = cli_parse("bench env", usage, argc, argv, opts, 3, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    long long vec_n, secs;
    if (!cli_int("bench env", &opts[1], 1, 600, 1, &secs)) return CLI_USAGE;
    if (!cli_int("bench env", &opts[2], 1, 1 << 16, 256, &vec_n)) return CLI_USAGE;
    if (npos == 1 && !prism_env_find(pos[0])) {
        prism_env e;
        return cli_fail("bench env", prism_env_init(&e, pos[0], NULL), NULL);
    }
    bool json = opts[0].count > 0;
    if (!json) printf("%-22s %16s %16s\n", "ENV", "SINGLE steps/s", "VECTOR steps/s");
    for (int i = 0; i < prism_env_class_count(); i++) {
        const prism_env_class *c = prism_env_class_at(i);
        if (npos == 1 && c != prism_env_find(pos[0])) continue;
        bench_result r = {time_single(c->id, (double)secs),
                          time_vector(c->id, (int)vec_n, (double)secs)};
        double best = r.single > r.vector ? r.single : r.vector;
        if (json)
            printf("{\"env\":\"%s\",\"steps_per_s\":%.0f,\"single_steps_per_s\":%.0f,"
                   "\"vector_steps_per_s\":%.0f,\"vector_n\":%lld}\n",
                   c->id, best, r.single, r.vector, vec_n);
        else
            printf("%-22s %16.0f %16.0f\n", c->id, r.single, r.vector);
        fflush(stdout);
    }
    return CLI_OK;
}
