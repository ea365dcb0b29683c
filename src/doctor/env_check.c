/* `prism doctor env ID`: what an environment looks like to a learner before any learning: a
 * uniformly random policy's returns and episode lengths, observation and reward scales per
 * dimension (mean, std, min, max over the random steps), and the time-limit configuration.
 * A scripted policy, when the caller has one for the environment (the CLI: LunarLander's
 * prism_lunar_lander_heuristic, CartPole's pole-following rule), is run on the same seeds as
 * a second baseline. Not here: agents.
 */
#include "prism/doctor.h"
#include "prism/env.h"
#include "prism/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { MAX_DIMS_PRINTED = 32 };

/* Returns and lengths of `episodes` episodes under a policy (NULL: uniformly random). With
 * `acc` (4 D doubles: sum, sum of squares, min, max) also accumulates observation statistics. */
typedef struct baseline {
    double ret_sum, ret_sq, ret_min, ret_max, len_sum;
    double r_sum, r_sq, r_min, r_max;
    long long steps, terms, truncs, capped;
} baseline;

static void run_policy(prism_env *env, int (*policy)(const float *obs), prism_rng *rng,
                       int episodes, int cap, float *obs, double *acc, baseline *b) {
    const int D = prism_env_obs_size(env->cls);
    memset(b, 0, sizeof *b);
    b->ret_min = b->r_min = INFINITY;
    b->ret_max = b->r_max = -INFINITY;
    double *sum = acc, *sq = acc ? acc + D : NULL, *mn = acc ? acc + 2 * D : NULL,
           *mx = acc ? acc + 3 * D : NULL;
    for (int e = 0; e < episodes; e++) {
        prism_env_reset(env, obs);
        double ret = 0;
        int len = 0;
        for (;;) {
            if (acc)
                for (int i = 0; i < D; i++) {
                    double x = obs[i];
                    sum[i] += x, sq[i] += x * x;
                    mn[i] = fmin(mn[i], x), mx[i] = fmax(mx[i], x);
                }
            /* always draw, so the random stream advances alike under either policy */
            int a = (int)prism_rng_below(rng, (uint32_t)env->cls->num_actions);
            if (policy) a = policy(obs);
            prism_step s = prism_env_step(env, a, obs);
            double r = s.reward;
            b->r_sum += r, b->r_sq += r * r, b->r_min = fmin(b->r_min, r),
                                             b->r_max = fmax(b->r_max, r);
            ret += r, len++, b->steps++;
            if (s.terminated)
                b->terms++;
            else if (s.truncated)
                b->truncs++;
            if (s.terminated || s.truncated) break;
            if (cap && len >= cap) {
                b->capped++;
                break;
            }
        }
        b->ret_sum += ret, b->ret_sq += ret * ret, b->len_sum += len;
        b->ret_min = fmin(b->ret_min, ret), b->ret_max = fmax(b->ret_max, ret);
    }
}

/* Population standard deviation from a sum and a sum of squares over n values. */
static double std_of(double sum, double sq, double n) {
    double mean = sum / n;
    return sqrt(fmax(sq / n - mean * mean, 0.0));
}

static void print_baseline(FILE *out, const char *label, const baseline *b, int episodes) {
    double rm = b->ret_sum / episodes;
    fprintf(out,
            "%-15s %d episodes, return %.4g +- %.4g (min %.4g, max %.4g), length %.1f; %lld "
            "terminated, %lld truncated, %lld capped\n",
            label, episodes, rm, std_of(b->ret_sum, b->ret_sq, episodes), b->ret_min, b->ret_max,
            b->len_sum / episodes, b->terms, b->truncs, b->capped);
}

static void json_baseline(prism_json *j, const char *key, const baseline *b, int episodes) {
    double rm = b->ret_sum / episodes;
    prism_json_key(j, key);
    prism_json_object_begin(j);
    prism_json_kv_int(j, "episodes", episodes);
    prism_json_kv_double(j, "return_mean", rm);
    prism_json_kv_double(j, "return_std", std_of(b->ret_sum, b->ret_sq, episodes));
    prism_json_kv_double(j, "return_min", b->ret_min);
    prism_json_kv_double(j, "return_max", b->ret_max);
    prism_json_kv_double(j, "length_mean", b->len_sum / episodes);
    prism_json_kv_int(j, "terminated", b->terms);
    prism_json_kv_int(j, "truncated", b->truncs);
    prism_json_kv_int(j, "capped", b->capped);
    prism_json_object_end(j);
}

/* The same facts as the text, as one JSON object (every observation dimension, none elided). */
static prism_status write_json(FILE *out, const prism_env *env, int cap, int episodes,
                               const baseline *rnd, const baseline *scr, const double *acc) {
    const int D = prism_env_obs_size(env->cls);
    double n = (double)rnd->steps, m = rnd->r_sum / n;
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_object_begin(&j);
    prism_json_kv_string(&j, "kind", "env");
    prism_json_kv_string(&j, "env", env->cls->id);
    prism_json_kv_string(&j, "reference", env->cls->reference);
    prism_json_key(&j, "time_limit");
    if (env->max_episode_steps)
        prism_json_int(&j, env->max_episode_steps);
    else
        prism_json_null(&j);
    prism_json_kv_int(&j, "episode_cap", cap);
    json_baseline(&j, "random", rnd, episodes);
    if (scr)
        json_baseline(&j, "scripted", scr, episodes);
    else {
        prism_json_key(&j, "scripted");
        prism_json_null(&j);
    }
    prism_json_key(&j, "reward");
    prism_json_object_begin(&j);
    prism_json_kv_double(&j, "mean", m);
    prism_json_kv_double(&j, "std", std_of(rnd->r_sum, rnd->r_sq, n));
    prism_json_kv_double(&j, "min", rnd->r_min);
    prism_json_kv_double(&j, "max", rnd->r_max);
    prism_json_kv_int(&j, "steps", rnd->steps);
    prism_json_object_end(&j);
    prism_json_key(&j, "observation");
    prism_json_array_begin(&j);
    for (int i = 0; i < D; i++) {
        double mean = acc[i] / n;
        prism_json_object_begin(&j);
        prism_json_kv_double(&j, "mean", mean);
        prism_json_kv_double(&j, "std", std_of(acc[i], acc[D + i], n));
        prism_json_kv_double(&j, "min", acc[2 * D + i]);
        prism_json_kv_double(&j, "max", acc[3 * D + i]);
        prism_json_object_end(&j);
    }
    prism_json_array_end(&j);
    prism_json_object_end(&j);
    prism_status st = prism_json_finish(&j);
    if (!st) fprintf(out, "%s\n", prism_json_text(&j));
    prism_json_free(&j);
    return st;
}

prism_status prism_doctor_env(const char *env_id, int episodes, uint64_t seed,
                              int (*scripted)(const float *obs), bool json, FILE *out) {
    if (episodes < 1)
        return prism_error(PRISM_ERR_INVALID, "episodes must be >= 1 (got %d)", episodes);
    prism_env env;
    prism_status st = prism_env_init(&env, env_id, NULL);
    if (st) return st;
    const int D = prism_env_obs_size(env.cls);
    /* per dimension: sum, sum of squares, min, max (double: millions of float32 values) */
    double *acc = prism_calloc((size_t)D * 4, sizeof(double));
    float *obs = prism_alloc(sizeof(float) * (size_t)D);
    if (!acc || !obs) {
        prism_free(acc);
        prism_free(obs);
        prism_env_free(&env);
        return prism_error(PRISM_ERR_NOMEM, "out of memory examining %s", env_id);
    }
    for (int i = 0; i < D; i++) acc[2 * D + i] = INFINITY, acc[3 * D + i] = -INFINITY;
    prism_rng rng;
    prism_rng_seed(&rng, seed, PRISM_STREAM_ACTIONS);
    prism_env_seed(&env, seed, PRISM_STREAM_ENV);
    /* environments without a time limit still need episodes to end for a baseline */
    const int cap = env.max_episode_steps ? 0 : 10000;
    baseline rnd, scr;
    run_policy(&env, NULL, &rng, episodes, cap, obs, acc, &rnd);
    if (scripted) {
        prism_env_seed(&env, seed, PRISM_STREAM_ENV);
        run_policy(&env, scripted, &rng, episodes, cap, obs, NULL, &scr);
    }
    if (json) {
        st = write_json(out, &env, cap, episodes, &rnd, scripted ? &scr : NULL, acc);
        prism_free(acc);
        prism_free(obs);
        prism_env_free(&env);
        return st;
    }
    fprintf(out, "environment:    %s (%s)\n", env.cls->id, env.cls->reference);
    if (env.max_episode_steps)
        fprintf(out, "time limit:     %d steps (truncation: the learner must bootstrap)\n",
                env.max_episode_steps);
    else
        fprintf(out,
                "time limit:     none (the trainer caps episodes at train.max_episode_steps; "
                "here at %d)\n",
                cap);
    print_baseline(out, "random policy:", &rnd, episodes);
    if (scripted) {
        print_baseline(out, "scripted:", &scr, episodes);
    } else {
        fprintf(out, "scripted:       none for this environment\n");
    }
    double n = (double)rnd.steps, m = rnd.r_sum / n;
    fprintf(out, "reward:         mean %.4g, std %.4g, min %.4g, max %.4g over %lld random steps\n",
            m, std_of(rnd.r_sum, rnd.r_sq, n), rnd.r_min, rnd.r_max, rnd.steps);
    fprintf(out, "observation:    %d values per step (random policy)\n%6s %12s %12s %12s %12s\n", D,
            "DIM", "MEAN", "STD", "MIN", "MAX");
    for (int i = 0; i < D && i < MAX_DIMS_PRINTED; i++) {
        double mean = acc[i] / n;
        fprintf(out, "%6d %12.5g %12.5g %12.5g %12.5g\n", i, mean, std_of(acc[i], acc[D + i], n),
                acc[2 * D + i], acc[3 * D + i]);
    }
    if (D > MAX_DIMS_PRINTED) fprintf(out, "   ... %d more dimensions\n", D - MAX_DIMS_PRINTED);
    prism_free(acc);
    prism_free(obs);
    prism_env_free(&env);
    return PRISM_OK;
}
