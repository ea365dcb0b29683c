/* prism_vec_env_step_next (Gymnasium's next-step autoreset) against copies stepped one by one
 * with prism_env_step and the same rule written out: bit for bit, with and without a class's
 * step_many fast path, through terminations and time-limit truncations. */
#include "harness.h"
#include "prism/env.h"
#include "prism/rng.h"

#include <stdbool.h>
#include <string.h>

enum { N = 5, STEPS = 3000, D_MAX = 400 };

static void check_next_step(const char *id, int limit) {
    prism_env_options o = prism_env_options_default();
    o.max_episode_steps = limit;
    prism_vec_env v;
    REQUIRE(prism_vec_env_init(&v, id, N, &o, 21) == PRISM_OK);
    prism_env ref[N];
    for (int i = 0; i < N; i++) {
        REQUIRE(prism_env_init(&ref[i], id, &o) == PRISM_OK);
        prism_env_seed(&ref[i], 21, PRISM_STREAM_ENV + (uint64_t)i);
    }
    const int d = v.obs_size, na = v.envs[0].cls->num_actions;
    static float obs[N * D_MAX], ref_obs[N * D_MAX];
    float rew[N];
    bool term[N], trunc[N], pending[N] = {false}, ref_pending[N] = {false};
    int actions[N], ends = 0, truncations = 0;
    prism_vec_env_reset(&v, obs);
    for (int i = 0; i < N; i++) prism_env_reset(&ref[i], ref_obs + i * d);
    CHECK(memcmp(obs, ref_obs, sizeof(float) * (size_t)(N * d)) == 0);
    prism_rng r;
    prism_rng_seed(&r, 5, PRISM_STREAM_ACTIONS);
    for (int t = 0; t < STEPS; t++) {
        for (int i = 0; i < N; i++) actions[i] = (int)prism_rng_below(&r, (uint64_t)na);
        prism_vec_env_step_next(&v, actions, pending, obs, rew, term, trunc);
        for (int i = 0; i < N; i++) {
            float *row = ref_obs + i * d;
            prism_step s = {0};
            if (ref_pending[i]) {
                prism_env_reset(&ref[i], row);
                ref_pending[i] = false;
            } else {
                s = prism_env_step(&ref[i], actions[i], row);
                ref_pending[i] = s.terminated || s.truncated;
                ends += ref_pending[i];
                truncations += s.truncated;
            }
            CHECK(rew[i] == s.reward && term[i] == s.terminated && trunc[i] == s.truncated);
            CHECK(pending[i] == ref_pending[i]);
        }
        CHECK(memcmp(obs, ref_obs, sizeof(float) * (size_t)(N * d)) == 0);
    }
    CHECK(ends > 10);
    if (limit > 0) CHECK(truncations > 0);
    for (int i = 0; i < N; i++) prism_env_free(&ref[i]);
    prism_vec_env_free(&v);
}

TEST(vec_env_next_step_autoreset_matches_single_copies) {
    check_next_step("CartPole-v1", 40);    /* step_many */
    check_next_step("Acrobot-v1", 30);     /* step_many, truncation only */
    check_next_step("MountainCar-v0", 25); /* step_many */
    check_next_step("breakout", 0);        /* no step_many, no time limit */
    check_next_step("LunarLander-v3", 60); /* no step_many */
}
