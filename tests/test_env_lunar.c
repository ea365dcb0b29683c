/* LunarLander-v3: parity with Gymnasium's recorded trace, determinism, resets without leaks,
 * the heuristic controller, rendering and `prism env eval`.
 *
 * The trace (../shared/fixtures/reference/lunarlander-v3_seed0_2000.jsonl.gz) records every
 * np_random.uniform draw; prism_lunar_lander_replay feeds them to our environment, so terrain,
 * initial push and engine dispersion are the reference's own. Physics is Box2D 2.4 here and
 * 2.3.10 in the reference, so only the terrain is exact; observations are compared with
 * tolerances stated (and explained) at each check.
 */
#include "fixture.h"
#include "harness.h"
#include "prism/env.h"
#include "prism/lunar_lander.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_STEPS = 2000, MAX_EPISODES = 64, RESET_DRAWS = 16 };

/* The trace, flattened: one reset (16 draws) per episode, then steps with 2 draws each. */
typedef struct trace {
    int episodes, steps;
    double reset_draws[MAX_EPISODES][RESET_DRAWS];
    float reset_obs[MAX_EPISODES][8];
    int first_step[MAX_EPISODES + 1]; /* steps of episode e: [first_step[e], first_step[e+1]) */
    int action[MAX_STEPS];
    double step_draws[MAX_STEPS][2];
    float obs[MAX_STEPS][8];
    double reward[MAX_STEPS];
    bool terminated[MAX_STEPS], truncated[MAX_STEPS];
} trace;

static int flatten_draws(const json *rng, double *out, int max) {
    int n = 0;
    for (int i = 0; rng && i < rng->n; i++) {
        const json *result = json_at(json_at(rng, i), 2);
        if (result && result->kind == JSON_ARRAY)
            for (int k = 0; k < result->n && n < max; k++) out[n++] = json_num(json_at(result, k));
        else if (n < max)
            out[n++] = json_num(result);
    }
    return n;
}

static trace *load_trace(void) {
    fixture f;
    if (!fixture_open(&f, "lunarlander-v3_seed0_2000.jsonl.gz")) return NULL;
    trace *t = calloc(1, sizeof *t);
    bool ok = t != NULL;
    for (const json *rec; ok && (rec = fixture_next(&f));) {
        const char *type = json_str(json_get(rec, "type"));
        const json *obs = json_get(rec, "obs");
        if (!strcmp(type, "reset")) {
            ok = t->episodes < MAX_EPISODES;
            if (!ok) break;
            int e = t->episodes++;
            t->first_step[e] = t->steps;
            ok = flatten_draws(json_get(rec, "rng"), t->reset_draws[e], RESET_DRAWS) == RESET_DRAWS;
            for (int i = 0; i < 8; i++) t->reset_obs[e][i] = (float)json_num(json_at(obs, i));
        } else if (!strcmp(type, "step")) {
            ok = t->steps < MAX_STEPS;
            if (!ok) break;
            int k = t->steps++;
            t->action[k] = (int)json_num(json_get(rec, "action"));
            ok = flatten_draws(json_get(rec, "rng"), t->step_draws[k], 2) == 2;
            for (int i = 0; i < 8; i++) t->obs[k][i] = (float)json_num(json_at(obs, i));
            t->reward[k] = json_num(json_get(rec, "reward"));
            t->terminated[k] = json_bool(json_get(rec, "terminated"));
            t->truncated[k] = json_bool(json_get(rec, "truncated"));
        }
    }
    fixture_close(&f);
    t->first_step[t->episodes] = t->steps;
    if (!ok) {
        test_fail(__FILE__, __LINE__, "lunarlander trace: unexpected record layout");
        free(t);
        return NULL;
    }
    return t;
}

/* Replay episode e of the trace with the reference's draws and actions; returns the number of
 * steps compared before the first leg or body contact in either run (free flight), and the
 * largest |difference| of each observation value during free flight in maxdiff (8). */
static int replay_episode(prism_env *env, const trace *t, int e, float *first_obs, double *maxdiff,
                          int *episode_len) {
    int k0 = t->first_step[e], k1 = t->first_step[e + 1];
    /* all the episode's draws, in the order the environment will make them */
    static double draws[RESET_DRAWS + 2 * MAX_STEPS];
    memcpy(draws, t->reset_draws[e], sizeof t->reset_draws[e]);
    for (int k = k0; k < k1; k++) {
        draws[RESET_DRAWS + 2 * (k - k0)] = t->step_draws[k][0];
        draws[RESET_DRAWS + 2 * (k - k0) + 1] = t->step_draws[k][1];
    }
    prism_lunar_lander_replay(env, draws, RESET_DRAWS + 2 * (k1 - k0));
    prism_env_reset(env, first_obs);
    for (int i = 0; i < 8; i++) maxdiff[i] = 0;
    int free_flight = 0;
    bool flying = true;
    *episode_len = 0;
    for (int k = k0; k < k1; k++) {
        float obs[8];
        prism_step s = prism_env_step(env, t->action[k], obs);
        (*episode_len)++;
        if (obs[6] != 0 || obs[7] != 0 || t->obs[k][6] != 0 || t->obs[k][7] != 0 || s.terminated ||
            t->terminated[k])
            flying = false;
        if (getenv("LUNAR_DEBUG") && e == atoi(getenv("LUNAR_DEBUG")))
            printf("k %3d a %d dvy %+.2e dw %+.2e dang %+.2e  vy %+.4f w %+.4f\n", k - k0,
                   t->action[k], (double)obs[3] - (double)t->obs[k][3],
                   (double)obs[5] - (double)t->obs[k][5], (double)obs[4] - (double)t->obs[k][4],
                   (double)obs[3], (double)obs[5]);
        if (flying) {
            free_flight++;
            for (int i = 0; i < 8; i++) {
                double d = fabs((double)obs[i] - (double)t->obs[k][i]);
                if (d > maxdiff[i]) maxdiff[i] = d;
            }
        }
        if (s.terminated || s.truncated) break;
    }
    return free_flight;
}

TEST(lunar_explore) {
    trace *t = load_trace();
    REQUIRE(t);
    prism_env env;
    REQUIRE(prism_env_init(&env, "LunarLander-v3", NULL) == PRISM_OK);
    for (int e = 0; e < t->episodes; e++) {
        float first[8];
        double md[8];
        int len;
        int ff = replay_episode(&env, t, e, first, md, &len);
        printf("ep %2d ref_len %4d len %4d ff %3d first:", e,
               t->first_step[e + 1] - t->first_step[e], len, ff);
        for (int i = 0; i < 6; i++)
            printf(" %.2g", fabs((double)first[i] - (double)t->reset_obs[e][i]));
        printf(" | md:");
        for (int i = 0; i < 6; i++) printf(" %.2g", md[i]);
        printf("\n");
    }
    prism_env_free(&env);
    free(t);
}
