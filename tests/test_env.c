/* Tests for the environment interface, registry and vector env (environment-independent
 * behaviour, checked on CartPole). Per-environment parity lives in test_env_<name>.c. */
#include "harness.h"
#include "prism/env.h"

#include <string.h>

TEST(env_find_is_case_insensitive_and_knows_aliases) {
    CHECK(prism_env_find("CartPole-v1") != NULL);
    CHECK(prism_env_find("cartpole-V1") == prism_env_find("CartPole-v1"));
    CHECK(prism_env_find("cartpole") == prism_env_find("CartPole-v1"));
    CHECK(prism_env_find("CartPole-v9") == NULL);
    CHECK(prism_env_find("") == NULL);
}

TEST(env_unknown_id_suggests_closest) {
    prism_env env;
    prism_status st = prism_env_init(&env, "CartPol-v1", NULL);
    CHECK(st == PRISM_ERR_NOT_FOUND);
    CHECK(strstr(prism_error_message(), "CartPole-v1") != NULL);
}

TEST(env_time_limit_truncates_and_is_configurable) {
    prism_env env;
    REQUIRE(prism_env_init(&env, "CartPole-v1", NULL) == PRISM_OK);
    CHECK(prism_env_configure(&env, "max_episode_steps", "3") == PRISM_OK);
    CHECK(prism_env_configure(&env, "max_episode_steps", "-1") == PRISM_ERR_INVALID);
    CHECK(prism_env_configure(&env, "no_such_option", "1") == PRISM_ERR_INVALID);
    float obs[4];
    prism_env_reset(&env, obs);
    /* alternate pushes keep the pole up for 3 steps */
    prism_step s1 = prism_env_step(&env, 0, obs), s2 = prism_env_step(&env, 1, obs),
               s3 = prism_env_step(&env, 0, obs);
    CHECK(!s1.truncated && !s2.truncated && s3.truncated);
    CHECK(!s3.terminated);
    prism_env_free(&env);
}

TEST(env_same_seed_same_episode) {
    prism_env a, b;
    REQUIRE(prism_env_init(&a, "CartPole-v1", NULL) == PRISM_OK);
    REQUIRE(prism_env_init(&b, "CartPole-v1", NULL) == PRISM_OK);
    prism_env_seed(&a, 9, PRISM_STREAM_ENV);
    prism_env_seed(&b, 9, PRISM_STREAM_ENV);
    float oa[4], ob[4];
    prism_env_reset(&a, oa);
    prism_env_reset(&b, ob);
    CHECK(memcmp(oa, ob, sizeof oa) == 0);
    prism_env_seed(&b, 10, PRISM_STREAM_ENV);
    prism_env_reset(&b, ob);
    CHECK(memcmp(oa, ob, sizeof oa) != 0);
    prism_env_free(&a);
    prism_env_free(&b);
}

TEST(env_numpy_rng_rejected_where_unsupported) {
    prism_env env;
    prism_env_options o = prism_env_options_default();
    o.random = PRISM_RANDOM_NUMPY;
    CHECK(prism_env_init(&env, "CartPole-v1", &o) == PRISM_ERR_UNSUPPORTED);
}

TEST(env_init_survives_out_of_memory) {
    prism_env env;
    prism_alloc_fail_after(0);
    prism_status st = prism_env_init(&env, "CartPole-v1", NULL);
    prism_alloc_fail_after(-1);
    CHECK(st == PRISM_ERR_NOMEM);
    prism_vec_env v;
    prism_alloc_fail_after(3); /* the array and two environments, then failure */
    st = prism_vec_env_init(&v, "CartPole-v1", 8, NULL, 0);
    prism_alloc_fail_after(-1);
    CHECK(st == PRISM_ERR_NOMEM);
}

TEST(vec_env_keeps_final_observation_on_auto_reset) {
    enum { N = 3 };
    prism_vec_env v;
    prism_env_options o = prism_env_options_default();
    o.max_episode_steps = 5;
    REQUIRE(prism_vec_env_init(&v, "CartPole-v1", N, &o, 4) == PRISM_OK);
    /* a single env with the same seed and stream as copy 1 steps in lockstep */
    prism_env ref;
    REQUIRE(prism_env_init(&ref, "CartPole-v1", &o) == PRISM_OK);
    prism_env_seed(&ref, 4, PRISM_STREAM_ENV + 1);
    float obs[N * 4], final[N * 4], rew[N], ref_obs[4];
    bool term[N], trunc[N];
    int actions[N] = {0, 1, 0};
    prism_vec_env_reset(&v, obs);
    prism_env_reset(&ref, ref_obs);
    CHECK(memcmp(obs + 4, ref_obs, sizeof ref_obs) == 0);
    for (int t = 0; t < 5; t++) {
        actions[1] = t % 2;
        prism_vec_env_step(&v, actions, obs, final, rew, term, trunc);
        prism_step s = prism_env_step(&ref, actions[1], ref_obs);
        CHECK(rew[1] == s.reward);
        CHECK(trunc[1] == s.truncated);
    }
    CHECK(trunc[1]);
    /* the final observation is the reference's last one; obs holds the next episode's first */
    CHECK(memcmp(final + 4, ref_obs, sizeof ref_obs) == 0);
    prism_env_reset(&ref, ref_obs);
    CHECK(memcmp(obs + 4, ref_obs, sizeof ref_obs) == 0);
    prism_env_free(&ref);
    prism_vec_env_free(&v);
}

TEST(cli_env_ls_and_info) {
    char out[8192];
    CHECK_EQ_INT(test_prism(out, sizeof out, "env ls"), 0);
    CHECK(strstr(out, "CartPole-v1") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "env info cartpole-v0"), 0);
    CHECK(strstr(out, "200 steps") != NULL);
}

TEST(cli_bad_input_exits_2_with_hint) {
    char out[8192];
    CHECK_EQ_INT(test_prism(out, sizeof out, "env info CartPol-v1"), 2);
    CHECK(strstr(out, "did you mean CartPole-v1") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "env nosuch"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "nosuch"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench env --vecor 3"), 2);
    CHECK(strstr(out, "did you mean --vector") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench env --seconds=-1"), 2);
    CHECK(strstr(out, "--seconds must be") != NULL);
}

#include "fixture.h"

TEST(fixture_reader_parses_reference_trace) {
    fixture f;
    REQUIRE(fixture_open(&f, "cartpole-v1_seed0_2000.jsonl.gz"));
    const json *meta = fixture_next(&f);
    REQUIRE(meta != NULL);
    CHECK(!strcmp(json_str(json_get(meta, "type")), "meta"));
    CHECK(!strcmp(json_str(json_get(meta, "env")), "CartPole-v1"));
    CHECK_EQ_INT(json_num(json_get(meta, "max_episode_steps")), 500);
    const json *reset = fixture_next(&f);
    REQUIRE(reset != NULL);
    /* the reference's first state, exactly as written by Python's repr */
    CHECK(json_num(json_at(json_get(reset, "state"), 0)) == 0.013696168732145436);
    int steps = 0;
    for (const json *r; (r = fixture_next(&f));)
        steps += !strcmp(json_str(json_get(r, "type")), "step");
    CHECK_EQ_INT(steps, 2000);
    fixture_close(&f);
}
