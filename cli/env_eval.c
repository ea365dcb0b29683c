/* prism env eval ID --policy random|heuristic --episodes N [--seed S] [--json]: roll a fixed
 * policy out for N episodes and summarise the returns (mean, population std, min, max) and the
 * episode lengths. A baseline to compare agents with, and a check that an environment behaves
 * (the LunarLander heuristic lands; a random policy crashes). Not an agent evaluation: agents
 * are evaluated by `prism eval` on a run. */
#include "cli.h"
#include "prism/env.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int env_eval(int argc, char **argv) {
    const char *cmd = "env eval";
    const char *usage = "prism env eval ID --policy random|heuristic --episodes N [--seed S] "
                        "[--json]";
    enum { O_POLICY, O_EPISODES, O_SEED, O_JSON, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_POLICY] = {.name = "policy",
                      .metavar = "P",
                      .help = "random or heuristic (default random)"},
        [O_EPISODES] = {.name = "episodes",
                        .metavar = "N",
                        .help = "episodes to run (default 100)"},
        [O_SEED] = {.name = "seed",
                    .metavar = "S",
                    .help = "seed of the environment and the policy (default 0)"},
        [O_JSON] = {.name = "json", .help = "print one JSON object"},
    };
    char *pos[1];
    int npos;
    int rc = cli_parse(cmd, usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism env eval: which environment? usage: %s\n", usage);
        return CLI_USAGE;
    }
    long long episodes;
    uint64_t seed;
    if (!cli_int(cmd, &opts[O_EPISODES], 1, 100000000, 100, &episodes)) return CLI_USAGE;
    if (!cli_u64(cmd, &opts[O_SEED], 0, &seed)) return CLI_USAGE;
    const char *policy = cli_value(&opts[O_POLICY], "random");
    bool json = opts[O_JSON].count > 0;

    prism_env env;
    prism_status st = prism_env_init(&env, pos[0], NULL);
    if (st) return cli_fail(cmd, st, NULL);
    int (*heuristic)(const float *obs) = NULL;
    if (!strcmp(policy, "heuristic")) {
        heuristic = env.cls->heuristic;
        if (!heuristic) {
            char names[256] = "";
            size_t used = 0;
            for (int i = 0; i < prism_env_class_count() && used < sizeof names; i++)
                if (prism_env_class_at(i)->heuristic)
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                             used ? ", " : "", prism_env_class_at(i)->id);
            fprintf(stderr,
                    "prism env eval: %s has no heuristic policy; environments with one: %s "
                    "(or use --policy random)\n",
                    env.cls->id, names);
            prism_env_free(&env);
            return CLI_USAGE;
        }
    } else if (strcmp(policy, "random") != 0) {
        fprintf(stderr, "prism env eval: --policy must be random or heuristic (got '%s')\n",
                policy);
        prism_env_free(&env);
        return CLI_USAGE;
    }

    int obs_size = prism_env_obs_size(env.cls);
    float obs[8192];
    if (obs_size > (int)(sizeof obs / sizeof obs[0])) {
        prism_env_free(&env);
        fprintf(stderr, "prism env eval: observations of %s are too large\n", env.cls->id);
        return CLI_FAILURE;
    }
    prism_env_seed(&env, seed, PRISM_STREAM_ENV);
    prism_rng actions;
    prism_rng_seed(&actions, seed, PRISM_STREAM_ACTIONS);
    const uint32_t A = (uint32_t)env.cls->num_actions;
    /* Welford's running mean and variance: no per-episode storage */
    double mean = 0, m2 = 0, lo = INFINITY, hi = -INFINITY, length_sum = 0;
    long long terminated = 0;
    for (long long e = 0; e < episodes; e++) {
        prism_env_reset(&env, obs);
        double ret = 0;
        long long len = 0;
        for (;;) {
            int a = heuristic ? heuristic(obs) : (int)prism_rng_below(&actions, A);
            prism_step s = prism_env_step(&env, a, obs);
            ret += (double)s.reward;
            len++;
            if (s.terminated || s.truncated) {
                terminated += s.terminated;
                break;
            }
        }
        double d = ret - mean;
        mean += d / (double)(e + 1);
        m2 += d * (ret - mean);
        if (ret < lo) lo = ret;
        if (ret > hi) hi = ret;
        length_sum += (double)len;
    }
    double sd = sqrt(m2 / (double)episodes), length_mean = length_sum / (double)episodes;
    int out_rc = CLI_OK;
    if (json) {
        prism_json j;
        prism_json_init(&j, 0);
        prism_json_object_begin(&j);
        prism_json_kv_string(&j, "env", env.cls->id);
        prism_json_kv_string(&j, "policy", policy);
        prism_json_kv_int(&j, "episodes", episodes);
        prism_json_key(&j, "seed");
        prism_json_u64(&j, seed);
        prism_json_kv_fixed(&j, "mean", mean, 6);
        prism_json_kv_fixed(&j, "std", sd, 6);
        prism_json_kv_fixed(&j, "min", lo, 6);
        prism_json_kv_fixed(&j, "max", hi, 6);
        prism_json_kv_fixed(&j, "length_mean", length_mean, 3);
        prism_json_kv_int(&j, "terminated", terminated);
        prism_json_object_end(&j);
        out_rc = cli_json_print(cmd, &j);
    } else
        printf("%s, %s policy, %lld episodes (seed %llu): return mean %.2f std %.2f min %.2f max "
               "%.2f; length mean %.1f; %lld terminated, %lld truncated\n",
               env.cls->id, policy, episodes, (unsigned long long)seed, mean, sd, lo, hi,
               length_mean, terminated, episodes - terminated);
    prism_env_free(&env);
    return out_rc;
}
