/* Tests for the probe environments and the finite-MDP models (prism/probes.h, prism/mdp.h):
 * each probe's dynamics as issue 9 describes them, checked by stepping the environment; the
 * analytic answers against Q-value iteration on the models; the models against the sampled
 * environments; homl-mdp's transition frequencies and its unavailable-action rule. */
#include "harness.h"
#include "prism/env.h"
#include "prism/mdp.h"
#include "prism/probes.h"
#include "prism/tabular.h"

#include <string.h>

static const char *const probe_ids[] = {
    "probe-1-constant", "probe-2-obs-reward",   "probe-3-discount",
    "probe-4-action",   "probe-5-match",        "probe-truncation",
    "probe-nstep",      "probe-distributional", "probe-prioritized",
};
enum { NPROBES = (int)(sizeof probe_ids / sizeof probe_ids[0]) };

static bool open_env(prism_env *env, const char *id, uint64_t seed) {
    if (prism_env_init(env, id, NULL) != PRISM_OK) {
        test_fail(__FILE__, __LINE__, "cannot create %s: %s", id, prism_error_message());
        return false;
    }
    prism_env_seed(env, seed, PRISM_STREAM_ENV);
    return true;
}

TEST(probe_every_probe_is_registered_with_a_consistent_model) {
    CHECK_EQ_INT(prism_probe_count(), NPROBES);
    for (int i = 0; i < NPROBES; i++) {
        const prism_probe *p = prism_probe_find(probe_ids[i]);
        REQUIRE(p != NULL);
        CHECK(p == prism_probe_at(i));
        const prism_env_class *cls = prism_env_find(probe_ids[i]);
        REQUIRE(cls != NULL);
        const prism_mdp *m = p->model;
        CHECK(prism_mdp_find(probe_ids[i]) == m);
        CHECK(prism_mdp_check(m) == PRISM_OK);
        CHECK_EQ_INT(cls->num_actions, m->num_actions);
        CHECK_EQ_INT(prism_env_obs_size(cls), m->obs_size);
        CHECK(p->implicates && strlen(p->implicates) > 10);
        /* ordinary states have distinct observations, so an agent can tell them apart */
        for (int s = 0; s < m->num_states; s++)
            CHECK_EQ_INT(prism_mdp_state_of(m, prism_probe_obs(p, s)), s);
    }
    CHECK(prism_probe_find("PROBE-5-MATCH") == prism_probe_at(4));
    CHECK(prism_probe_find("CartPole-v1") == NULL);
    CHECK(prism_mdp_find("CartPole-v1") == NULL);
    CHECK(prism_mdp_find("nonsense") == NULL);
}

TEST(probe_env_ls_lists_the_probes_and_homl_mdp) {
    char out[16384];
    CHECK_EQ_INT(test_prism(out, sizeof out, "env ls"), 0);
    for (int i = 0; i < NPROBES; i++) CHECK(strstr(out, probe_ids[i]) != NULL);
    CHECK(strstr(out, "homl-mdp") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "env info probe-truncation"), 0);
    CHECK(strstr(out, "1 steps (truncation)") != NULL);
}

TEST(probe_1_constant_dynamics) {
    prism_env env;
    if (!open_env(&env, "probe-1-constant", 1)) return;
    for (int ep = 0; ep < 20; ep++) {
        float obs = 9;
        prism_env_reset(&env, &obs);
        CHECK(obs == 0.0f);
        prism_step s = prism_env_step(&env, 0, &obs);
        CHECK(s.reward == 1.0f && s.terminated && !s.truncated);
    }
    prism_env_free(&env);
}

TEST(probe_2_reward_equals_observation) {
    prism_env env;
    if (!open_env(&env, "probe-2-obs-reward", 2)) return;
    int plus = 0, n = 400;
    for (int ep = 0; ep < n; ep++) {
        float obs, first;
        prism_env_reset(&env, &obs);
        first = obs;
        CHECK(obs == 1.0f || obs == -1.0f);
        plus += obs > 0;
        prism_step s = prism_env_step(&env, 0, &obs);
        CHECK(s.reward == first && s.terminated && !s.truncated);
    }
    CHECK(plus > n * 0.4 && plus < n * 0.6); /* 1/2 each: 400 draws, 4 sigma is 0.1 */
    prism_env_free(&env);
}

TEST(probe_3_two_steps_reward_at_the_end) {
    prism_env env;
    if (!open_env(&env, "probe-3-discount", 3)) return;
    for (int ep = 0; ep < 10; ep++) {
        float obs;
        prism_env_reset(&env, &obs);
        CHECK(obs == 0.0f);
        prism_step s1 = prism_env_step(&env, 0, &obs);
        CHECK(obs == 1.0f && s1.reward == 0.0f && !s1.terminated && !s1.truncated);
        prism_step s2 = prism_env_step(&env, 0, &obs);
        CHECK(s2.reward == 1.0f && s2.terminated);
    }
    /* stepping on without a reset: the terminal state is absorbing and worth nothing */
    float obs;
    prism_step again = prism_env_step(&env, 0, &obs);
    CHECK(again.terminated && again.reward == 0.0f && obs == 0.0f);
    prism_env_free(&env);
}

TEST(probe_4_reward_depends_on_the_action) {
    prism_env env;
    if (!open_env(&env, "probe-4-action", 4)) return;
    for (int a = 0; a < 2; a++) {
        float obs;
        prism_env_reset(&env, &obs);
        CHECK(obs == 0.0f);
        prism_step s = prism_env_step(&env, a, &obs);
        CHECK(s.terminated);
        CHECK(s.reward == (a == 1 ? 1.0f : -1.0f));
        CHECK(s.reward == (float)prism_probe_q(prism_probe_find("probe-4-action"), 0, a, 0.9));
    }
    prism_env_free(&env);
}

TEST(probe_5_reward_when_action_matches_observation) {
    prism_env env;
    if (!open_env(&env, "probe-5-match", 5)) return;
    int seen[2][2] = {{0}};
    for (int ep = 0; ep < 200; ep++) {
        float obs;
        prism_env_reset(&env, &obs);
        REQUIRE(obs == 1.0f || obs == -1.0f);
        int a = ep % 2;
        float want = (obs > 0) == (a == 1) ? 1.0f : -1.0f;
        prism_step s = prism_env_step(&env, a, &obs);
        CHECK(s.reward == want && s.terminated);
        seen[want > 0][a]++; /* (matched, action): all four mean every (obs, action) */
    }
    for (int i = 0; i < 2; i++)
        for (int a = 0; a < 2; a++) CHECK(seen[i][a] > 20);
    prism_env_free(&env);
}

TEST(probe_truncation_cuts_with_the_time_limit_not_a_terminal) {
    prism_env env;
    if (!open_env(&env, "probe-truncation", 6)) return;
    CHECK_EQ_INT(env.max_episode_steps, 1);
    int from0 = 0, from1 = 0;
    for (int ep = 0; ep < 100; ep++) {
        float obs;
        prism_env_reset(&env, &obs);
        if (obs == 0.0f) {
            from0++;
            prism_step s = prism_env_step(&env, 0, &obs);
            /* the point of the probe: cut by the limit, the final observation still has value */
            CHECK(obs == 1.0f && s.reward == 0.0f && s.truncated && !s.terminated);
        } else {
            from1++;
            CHECK(obs == 1.0f);
            prism_step s = prism_env_step(&env, 0, &obs);
            CHECK(s.reward == 1.0f && s.terminated);
        }
    }
    CHECK(from0 > 25 && from1 > 25);
    /* without the limit the chain runs 0 -> 1 -> end: the same values, Q(0) = gamma */
    REQUIRE(prism_env_configure(&env, "max_episode_steps", "0") == PRISM_OK);
    for (int ep = 0; ep < 20; ep++) {
        float obs;
        prism_env_reset(&env, &obs);
        if (obs != 0.0f) continue;
        prism_step s1 = prism_env_step(&env, 0, &obs);
        CHECK(!s1.truncated && !s1.terminated && obs == 1.0f);
        prism_step s2 = prism_env_step(&env, 0, &obs);
        CHECK(s2.terminated && s2.reward == 1.0f);
    }
    prism_env_free(&env);
}

/* Tabular TD(0) on probe-truncation, with or without the classic bug of treating a truncation
 * as a terminal state. Returns Q(obs=0) after enough steps to settle. */
static double truncation_td(bool bug) {
    prism_env env;
    if (!open_env(&env, "probe-truncation", 7)) return -99;
    double q[2] = {0, 0}, gamma = 0.9, alpha = 0.1;
    float obs;
    prism_env_reset(&env, &obs);
    for (int t = 0; t < 4000; t++) {
        int s = obs == 1.0f;
        prism_step st = prism_env_step(&env, 0, &obs);
        bool end = st.terminated || (bug && st.truncated);
        double target = (double)st.reward + (end ? 0.0 : gamma * q[obs == 1.0f]);
        q[s] += alpha * (target - q[s]);
        if (st.terminated || st.truncated) prism_env_reset(&env, &obs);
    }
    prism_env_free(&env);
    return q[0];
}

TEST(probe_truncation_tells_a_correct_learner_from_a_buggy_one) {
    const prism_probe *p = prism_probe_find("probe-truncation");
    double want = prism_probe_q(p, 0, 0, 0.9);
    CHECK_NEAR(want, 0.9, 0);
    CHECK_NEAR(truncation_td(false), want, 0.01);
    /* the bug leaves Q(0) at 0: the probe catches it by a wide margin */
    CHECK_NEAR(truncation_td(true), 0.0, 0.01);
}

TEST(probe_nstep_chain_dynamics) {
    prism_env env;
    if (!open_env(&env, "probe-nstep", 8)) return;
    float obs[5];
    prism_env_reset(&env, obs);
    for (int k = 0; k < 5; k++) {
        for (int i = 0; i < 5; i++) CHECK(obs[i] == (i == k ? 1.0f : 0.0f));
        prism_step s = prism_env_step(&env, 0, obs);
        CHECK(s.reward == (k == 4 ? 1.0f : 0.0f));
        CHECK(s.terminated == (k == 4));
        CHECK(!s.truncated);
    }
    const prism_probe *p = prism_probe_find("probe-nstep");
    for (int k = 0; k < 5; k++) CHECK_NEAR(prism_probe_q(p, k, 0, 0.5), 1.0 / (1 << (4 - k)), 0);
    prism_env_free(&env);
}

TEST(probe_distributional_has_two_peaks) {
    prism_env env;
    if (!open_env(&env, "probe-distributional", 9)) return;
    int plus = 0, n = 1000;
    for (int ep = 0; ep < n; ep++) {
        float obs;
        prism_env_reset(&env, &obs);
        CHECK(obs == 0.0f);
        prism_step s = prism_env_step(&env, 0, &obs);
        CHECK((s.reward == 1.0f || s.reward == -1.0f) && s.terminated);
        plus += s.reward > 0;
    }
    CHECK(plus > 430 && plus < 570); /* 1/2: 4.4 sigma */
    const prism_probe *p = prism_probe_find("probe-distributional");
    double v[4], pr[4];
    REQUIRE(prism_probe_distribution(p, 0, 0, 0.99, v, pr, 4) == 2);
    CHECK(v[0] == -1 && v[1] == 1 && pr[0] == 0.5 && pr[1] == 0.5);
    CHECK_NEAR(prism_probe_q(p, 0, 0, 0.99), 0.0, 0);
    /* a deterministic probe has one atom at its Q */
    const prism_probe *p3 = prism_probe_find("probe-3-discount");
    REQUIRE(prism_probe_distribution(p3, 0, 0, 0.8, v, pr, 4) == 1);
    CHECK(v[0] == 0.8 && pr[0] == 1.0);
    prism_env_free(&env);
}

TEST(probe_prioritized_rare_state) {
    prism_env env;
    if (!open_env(&env, "probe-prioritized", 10)) return;
    int rare = 0, n = 4000;
    for (int ep = 0; ep < n; ep++) {
        float obs, first;
        prism_env_reset(&env, &obs);
        first = obs;
        CHECK(obs == 0.0f || obs == 1.0f);
        rare += obs == 1.0f;
        prism_step s = prism_env_step(&env, 0, &obs);
        CHECK(s.reward == first && s.terminated);
    }
    CHECK(rare > 300 && rare < 500); /* 1/10 of 4000: sigma 19 */
    prism_env_free(&env);
}

TEST(probe_analytic_answers_match_q_iteration_on_the_models) {
    const double gammas[] = {0.0, 0.5, 0.9, 0.99, 1.0};
    for (int i = 0; i < NPROBES; i++) {
        const prism_probe *p = prism_probe_at(i);
        prism_qtable t;
        REQUIRE(prism_qtable_init(&t, p->model) == PRISM_OK);
        for (size_t g = 0; g < sizeof gammas / sizeof gammas[0]; g++) {
            prism_qtable_clear(&t);
            prism_q_iteration_options o = prism_q_iteration_defaults();
            o.gamma = gammas[g];
            int sweeps;
            CHECK(prism_q_iteration(&t, p->model, &o, &sweeps) == PRISM_OK);
            CHECK(sweeps < 20); /* episodic chains of at most 5 steps settle at once */
            for (int s = 0; s < t.num_states; s++)
                for (int a = 0; a < t.num_actions; a++) {
                    double want = prism_probe_q(p, s, a, gammas[g]);
                    double v[8], pr[8], mean = 0, mass = 0;
                    int n = prism_probe_distribution(p, s, a, gammas[g], v, pr, 8);
                    for (int k = 0; k < n; k++) mean += v[k] * pr[k], mass += pr[k];
                    CHECK_NEAR(mass, 1.0, 1e-15);
                    CHECK_NEAR(mean, want, 1e-15);
                    if (fabs(t.q[s * t.num_actions + a] - want) > 1e-12)
                        test_fail(__FILE__, __LINE__, "%s gamma %g: Q(%d, %d) = %.17g, want %.17g",
                                  p->env_id, gammas[g], s, a, t.q[s * t.num_actions + a], want);
                }
        }
        prism_qtable_free(&t);
    }
}

TEST(mdp_homl_model_is_the_books) {
    const prism_mdp *m = prism_mdp_find("HOML-MDP");
    REQUIRE(m != NULL);
    CHECK(prism_mdp_check(m) == PRISM_OK);
    CHECK_EQ_INT(m->num_states, 3);
    CHECK_EQ_INT(m->num_terminal, 0);
    CHECK_EQ_INT(m->num_actions, 3);
    /* spot checks against the notebook: T[2][1][0] = 0.8 with reward +40, T[1][2][2] = 1
     * with reward -50, T[0][0] = [0.7, 0.3, 0] with reward +10 on staying */
    CHECK(prism_mdp_p(m, 2, 1, 0) == 0.8 && prism_mdp_r(m, 2, 1, 0) == 40);
    CHECK(prism_mdp_p(m, 1, 2, 2) == 1.0 && prism_mdp_r(m, 1, 2, 2) == -50);
    CHECK(prism_mdp_p(m, 0, 0, 0) == 0.7 && prism_mdp_p(m, 0, 0, 1) == 0.3);
    CHECK(prism_mdp_r(m, 0, 0, 0) == 10);
    const int possible[3][3] = {{1, 1, 1}, {1, 0, 1}, {0, 1, 0}};
    for (int s = 0; s < 3; s++)
        for (int a = 0; a < 3; a++) CHECK(prism_mdp_available(m, s, a) == possible[s][a]);
}

TEST(mdp_homl_env_samples_the_model) {
    const prism_mdp *m = prism_mdp_find("homl-mdp");
    prism_env env;
    if (!open_env(&env, "homl-mdp", 11)) return;
    CHECK_EQ_INT(env.max_episode_steps, 0);
    float obs[3];
    prism_env_reset(&env, obs);
    CHECK(obs[0] == 1 && obs[1] == 0 && obs[2] == 0);
    enum { N = 20000 };
    for (int s = 0; s < 3; s++)
        for (int a = 0; a < 3; a++) {
            if (!prism_mdp_available(m, s, a)) continue;
            int count[3] = {0};
            for (int i = 0; i < N; i++) {
                double v = s;
                REQUIRE(prism_env_set_state(&env, &v, 1, obs) == PRISM_OK);
                prism_step st = prism_env_step(&env, a, obs);
                int s2 = prism_mdp_state_of(m, obs);
                REQUIRE(s2 >= 0);
                count[s2]++;
                CHECK(st.reward == (float)prism_mdp_r(m, s, a, s2));
                CHECK(!st.terminated && !st.truncated);
            }
            /* frequencies within 0.015 of P: 5 sigma at p = 1/2 for 20000 draws */
            for (int s2 = 0; s2 < 3; s2++)
                CHECK_NEAR((double)count[s2] / N, prism_mdp_p(m, s, a, s2), 0.015);
        }
    prism_env_free(&env);
}

TEST(mdp_unavailable_action_is_a_no_op) {
    prism_env env;
    if (!open_env(&env, "homl-mdp", 12)) return;
    float obs[3];
    prism_env_reset(&env, obs);
    double s1 = 1, s2 = 2;
    REQUIRE(prism_env_set_state(&env, &s1, 1, obs) == PRISM_OK);
    prism_step st = prism_env_step(&env, 1, obs); /* a1 is impossible in s1 */
    CHECK(st.reward == 0.0f && !st.terminated);
    CHECK(obs[0] == 0 && obs[1] == 1 && obs[2] == 0);
    REQUIRE(prism_env_set_state(&env, &s2, 1, obs) == PRISM_OK);
    st = prism_env_step(&env, 0, obs);
    CHECK(st.reward == 0.0f && obs[2] == 1);
    double bad = 3;
    CHECK(prism_env_set_state(&env, &bad, 1, obs) == PRISM_ERR_INVALID);
    bad = 0.5;
    CHECK(prism_env_set_state(&env, &bad, 1, obs) == PRISM_ERR_INVALID);
    char text[128];
    CHECK(env.cls->render(env.state, text, sizeof text, false) > 0);
    CHECK(strstr(text, "s2") != NULL);
    prism_env_free(&env);
}

TEST(mdp_check_rejects_a_broken_model) {
    prism_mdp m = *prism_mdp_find("homl-mdp");
    double p[27];
    memcpy(p, m.p, sizeof p);
    m.p = p;
    CHECK(prism_mdp_check(&m) == PRISM_OK);
    p[0] = 0.6; /* s0 a0 now sums to 0.9 */
    CHECK(prism_mdp_check(&m) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "sums to") != NULL);
    p[0] = 0.7;
    p[1 * 9 + 1 * 3 + 0] = 0.5; /* probability on an unavailable action */
    CHECK(prism_mdp_check(&m) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "unavailable") != NULL);
}
