/* `prism doctor env ID`: what an environment looks like to a learner before any learning: a
 * uniformly random policy's returns and episode lengths, observation and reward scales per
 * dimension (mean, std, min, max over the random steps), and the time-limit configuration.
 * Scripted-policy baselines live with their environments (CartPole's in cli/env_eval.c,
 * LunarLander's prism_lunar_lander_heuristic); `prism env eval` runs them. Not here: agents.
 */
#include "prism/doctor.h"
#include "prism/env.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { MAX_DIMS_PRINTED = 32 };

prism_status prism_doctor_env(const char *env_id, int episodes, uint64_t seed, FILE *out) {
    prism_env env;
    prism_status st = prism_env_init(&env, env_id, NULL);
    if (st) return st;
    const int D = prism_env_obs_size(env.cls);
    /* per dimension: sum, sum of squares, min, max (double: millions of float32 values) */
    double *acc = prism_calloc((size_t)D * 4 + 2 * (size_t)D, sizeof(double));
    float *obs = prism_alloc(sizeof(float) * (size_t)D);
    if (!acc || !obs) {
        prism_free(acc);
        prism_free(obs);
        prism_env_free(&env);
        return prism_error(PRISM_ERR_NOMEM, "out of memory examining %s", env_id);
    }
    double *sum = acc, *sq = acc + D, *mn = acc + 2 * D, *mx = acc + 3 * D;
    for (int i = 0; i < D; i++) mn[i] = INFINITY, mx[i] = -INFINITY;
    prism_rng rng;
    prism_rng_seed(&rng, seed, PRISM_STREAM_ACTIONS);
    prism_env_seed(&env, seed, PRISM_STREAM_ENV);
    /* environments without a time limit still need episodes to end for a baseline */
    const int cap = env.max_episode_steps ? 0 : 10000;
    long long steps = 0, truncs = 0, terms = 0, capped = 0;
    double rsum = 0, rsq = 0, rmin = INFINITY, rmax = -INFINITY, ret_sum = 0, ret_sq = 0;
    double ret_min = INFINITY, ret_max = -INFINITY, len_sum = 0;
    for (int e = 0; e < episodes; e++) {
        prism_env_reset(&env, obs);
        double ret = 0;
        int len = 0;
        for (;;) {
            for (int i = 0; i < D; i++) {
                double x = obs[i];
                sum[i] += x, sq[i] += x * x;
                mn[i] = fmin(mn[i], x), mx[i] = fmax(mx[i], x);
            }
            int a = (int)prism_rng_below(&rng, (uint32_t)env.cls->num_actions);
            prism_step s = prism_env_step(&env, a, obs);
            double r = s.reward;
            rsum += r, rsq += r * r, rmin = fmin(rmin, r), rmax = fmax(rmax, r);
            ret += r, len++, steps++;
            if (s.terminated)
                terms++;
            else if (s.truncated)
                truncs++;
            if (s.terminated || s.truncated) break;
            if (cap && len >= cap) {
                capped++;
                break;
            }
        }
        ret_sum += ret, ret_sq += ret * ret, len_sum += len;
        ret_min = fmin(ret_min, ret), ret_max = fmax(ret_max, ret);
    }
    double rm = ret_sum / episodes;
    fprintf(out, "environment:    %s (%s)\n", env.cls->id, env.cls->reference);
    if (env.max_episode_steps)
        fprintf(out, "time limit:     %d steps (truncation: the learner must bootstrap)\n",
                env.max_episode_steps);
    else
        fprintf(out,
                "time limit:     none (the trainer caps episodes at train.max_episode_steps; "
                "here at %d)\n",
                cap);
    fprintf(out,
            "random policy:  %d episodes, return %.4g +- %.4g (min %.4g, max %.4g), "
            "length %.1f; %lld terminated, %lld truncated, %lld capped\n",
            episodes, rm, sqrt(fmax(ret_sq / episodes - rm * rm, 0.0)), ret_min, ret_max,
            len_sum / episodes, terms, truncs, capped);
    if (!strncmp(env.cls->id, "CartPole", 8) || !strncmp(env.cls->id, "LunarLander", 11))
        fprintf(out,
                "scripted:       `prism env eval %s --policy heuristic` runs the scripted "
                "policy\n",
                env.cls->id);
    double n = (double)steps, m = rsum / n;
    fprintf(out, "reward:         mean %.4g, std %.4g, min %.4g, max %.4g over %lld steps\n", m,
            sqrt(fmax(rsq / n - m * m, 0.0)), rmin, rmax, steps);
    fprintf(out, "observation:    %d values per step\n%6s %12s %12s %12s %12s\n", D, "DIM", "MEAN",
            "STD", "MIN", "MAX");
    for (int i = 0; i < D && i < MAX_DIMS_PRINTED; i++) {
        double mean = sum[i] / n;
        fprintf(out, "%6d %12.5g %12.5g %12.5g %12.5g\n", i, mean,
                sqrt(fmax(sq[i] / n - mean * mean, 0.0)), mn[i], mx[i]);
    }
    if (D > MAX_DIMS_PRINTED) fprintf(out, "   ... %d more dimensions\n", D - MAX_DIMS_PRINTED);
    prism_free(acc);
    prism_free(obs);
    prism_env_free(&env);
    return PRISM_OK;
}
