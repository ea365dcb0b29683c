/* Tests of the noisy nets' noise modes (agent.noisy_resample): when the noise is drawn
 * (per action, per update, once per run, once per run shared by length), that the modes change
 * a learning update only through the noise they use, that evaluation keeps the mean weights,
 * that a resumed run continues bit-identically in every mode, and that the mode is validated
 * and recorded (config.ini, run.json, `prism doctor`). The default mode's own resume through
 * the binary is test_resume.c's rainbow tests.
 *
 * Not here: the noisy layer's arithmetic and gradients (test_nn.c, test_nn_fast.c).
 */
#include "harness.h"
#include "prism/agent.h"
#include "prism/checkpoint.h"
#include "prism/config.h"
#include "prism/presets.h"
#include "prism/run_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const MODES[] = {"action", "update", "fixed", "fixed-shared"};
enum { NMODES = 4, MAX_NOISE = 512 };

/* dqn+noisy on CartPole-v1, 4-32-32-2, greedy (epsilon 0), raw observations, learning only
 * when a test calls prism_agent_learn; the noise mode set through its configuration key. */
static prism_config noisy_config(const char *mode) {
    prism_config c;
    prism_config_defaults(&c);
    CHECK(prism_preset_apply(&c, "dqn+noisy", "CartPole-v1") == PRISM_OK);
    CHECK(prism_config_apply(&c, "agent.hidden=32,32 agent.batch_size=16 agent.min_replay=0 "
                                 "agent.replay_capacity=1000 agent.update_period=1000000 "
                                 "agent.target_period=1000000 agent.obs_minmax=false "
                                 "agent.eps_start=0 agent.eps_end=0 agent.eps_decay_steps=0 "
                                 "agent.eps_eval=0") == PRISM_OK);
    CHECK(prism_config_set(&c, "agent.noisy_resample", mode) == PRISM_OK);
    return c;
}

static bool init_agent(prism_agent *ag, const char *mode, double sigma0, uint64_t seed) {
    prism_config c = noisy_config(mode);
    c.agent_cfg.noisy_sigma0 = sigma0;
    return prism_agent_init(ag, &c.agent_cfg, prism_env_find("CartPole-v1"), seed) == PRISM_OK;
}

/* The net's current noise sample into eps (MAX_NOISE floats at most). */
static size_t noise_of(const prism_nn *net, float *eps) {
    size_t n = prism_nn_noise_size(net);
    PRISM_ASSERT(n <= MAX_NOISE);
    prism_nn_noise_get(net, eps);
    return n;
}

static bool same_noise(const prism_nn *a, const prism_nn *b) {
    float x[MAX_NOISE], y[MAX_NOISE];
    size_t n = noise_of(a, x);
    return n == noise_of(b, y) && n > 0 && memcmp(x, y, sizeof(float) * n) == 0;
}

static bool noise_equals(const prism_nn *net, const float *eps) {
    float x[MAX_NOISE];
    size_t n = noise_of(net, x);
    return n > 0 && memcmp(x, eps, sizeof(float) * n) == 0;
}

static bool same_params(const prism_nn *a, const prism_nn *b) {
    return a->n_params == b->n_params &&
           memcmp(a->params, b->params, sizeof(float) * a->n_params) == 0;
}

/* Synthetic transitions, as test_agent.c's feed: episodes of 5 steps, rewards 0.1 * step. */
static void feed(prism_agent *ag, int steps) {
    float obs[4] = {0}, next[4];
    for (int t = 0; t < steps; t++) {
        for (int i = 0; i < 4; i++) next[i] = (float)sin(0.7 * t + i);
        int end = (t % 5) == 4;
        REQUIRE(prism_agent_observe(ag, obs, t % 2, 0.1f * (float)(t % 5), end && t % 2, end,
                                    next) == PRISM_OK);
        memcpy(obs, next, sizeof obs);
    }
}

static void obs_k(int k, float *obs) {
    for (int i = 0; i < 4; i++) obs[i] = (float)(0.3 * sin(1.3 * k + 0.9 * i));
}

TEST(noise_fixed_modes_give_one_greedy_policy_for_fixed_parameters) {
    for (int m = 2; m < NMODES; m++) {
        prism_agent ag;
        REQUIRE(init_agent(&ag, MODES[m], 1.0, 5));
        float eps0[MAX_NOISE], obs[4], q[2], qmean[2];
        noise_of(&ag.online, eps0);
        CHECK(same_noise(&ag.online, &ag.target)); /* one draw for both nets */
        int first[10];
        for (int rep = 0; rep < 5; rep++)
            for (int k = 0; k < 10; k++) {
                obs_k(k, obs);
                int a = prism_agent_act(&ag, obs, false);
                if (rep == 0)
                    first[k] = a;
                else if (a != first[k])
                    test_fail(__FILE__, __LINE__, "%s: obs %d gave action %d, then %d", MODES[m], k,
                              first[k], a);
            }
        CHECK(noise_equals(&ag.online, eps0));
        /* the draw is applied (not the mean weights) */
        obs_k(0, obs);
        prism_nn_q(&ag.online, obs, 1, q);
        prism_nn_set_eval(&ag.online, 1);
        prism_nn_q(&ag.online, obs, 1, qmean);
        prism_nn_set_eval(&ag.online, 0);
        CHECK(q[0] != qmean[0] && q[1] != qmean[1]);
        /* learning never redraws it */
        feed(&ag, 60);
        REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
        REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
        CHECK(noise_equals(&ag.online, eps0));
        CHECK(noise_equals(&ag.target, eps0));
        prism_agent_free(&ag);
    }
}

TEST(noise_per_action_mode_draws_new_noise_and_actions_for_every_call) {
    prism_agent ag;
    REQUIRE(init_agent(&ag, "action", 1.0, 5));
    float obs[4], prev[MAX_NOISE], now[MAX_NOISE];
    obs_k(3, obs);
    int count[2] = {0, 0}, redrawn = 0;
    noise_of(&ag.online, prev);
    for (int i = 0; i < 200; i++) {
        count[prism_agent_act(&ag, obs, false)]++;
        size_t n = noise_of(&ag.online, now);
        redrawn += memcmp(prev, now, sizeof(float) * n) != 0;
        memcpy(prev, now, sizeof(float) * n);
    }
    CHECK_EQ_INT(redrawn, 200);
    /* the same observation, the same parameters: the noise alone changes the greedy action */
    CHECK(count[0] > 0 && count[1] > 0);
    prism_agent_free(&ag);
}

TEST(noise_update_mode_draws_once_per_update_for_online_target_and_acting) {
    prism_agent ag;
    REQUIRE(init_agent(&ag, "update", 1.0, 7));
    float init[MAX_NOISE], obs[4];
    noise_of(&ag.online, init);
    for (int k = 0; k < 20; k++) {
        obs_k(k, obs);
        prism_agent_act(&ag, obs, false);
    }
    CHECK(noise_equals(&ag.online, init)); /* before the first update: the draw of init */
    feed(&ag, 60);
    for (int u = 0; u < 3; u++) {
        /* what the update must draw: the online net's next sample from its own stream */
        prism_nn scratch;
        REQUIRE(prism_nn_init(&scratch, &ag.online.cfg, 1, 0) == PRISM_OK);
        scratch.noise_rng = ag.online.noise_rng;
        prism_nn_noise_resample(&scratch);
        float want[MAX_NOISE];
        noise_of(&scratch, want);
        prism_nn_free(&scratch);
        REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
        CHECK(noise_equals(&ag.online, want));
        CHECK(noise_equals(&ag.target, want)); /* the update's target passes used it too */
        CHECK(!noise_equals(&ag.online, init));
        for (int k = 0; k < 20; k++) {
            obs_k(k, obs);
            prism_agent_act(&ag, obs, false);
        }
        CHECK(noise_equals(&ag.online, want)); /* kept for acting until the next update */
    }
    prism_agent_free(&ag);
}

TEST(noise_fixed_draws_come_from_their_own_stream_and_shared_noise_goes_by_length) {
    prism_agent f, s, s2, other;
    REQUIRE(init_agent(&f, "fixed", 0.1, 11));
    REQUIRE(init_agent(&s, "fixed-shared", 0.1, 11));
    REQUIRE(init_agent(&s2, "fixed-shared", 0.1, 11));
    REQUIRE(init_agent(&other, "fixed-shared", 0.1, 12));
    /* fixed: the online net's layers drawn in order from (seed, PRISM_STREAM_NOISY_FIXED) */
    prism_nn scratch;
    REQUIRE(prism_nn_init(&scratch, &f.online.cfg, 1, 0) == PRISM_OK);
    prism_rng rng;
    prism_rng_seed(&rng, 11, PRISM_STREAM_NOISY_FIXED);
    prism_nn_noise_draw(&scratch, &rng);
    CHECK(same_noise(&f.online, &scratch));
    prism_nn_free(&scratch);
    /* layout 4-32-32-2: [in 4 | out 32] [in 32 | out 32] [in 32 | out 2] */
    float a[MAX_NOISE], b[MAX_NOISE];
    REQUIRE(noise_of(&s.online, a) == 4 + 32 + 32 + 32 + 32 + 2);
    noise_of(&f.online, b);
    const size_t v32[4] = {4, 36, 68, 100}; /* the four vectors of length 32 */
    for (int k = 1; k < 4; k++) {
        CHECK(memcmp(a + v32[0], a + v32[k], 32 * sizeof(float)) == 0);
        CHECK(memcmp(b + v32[0], b + v32[k], 32 * sizeof(float)) != 0);
    }
    CHECK(memcmp(a, b, sizeof(float) * 4) != 0);
    CHECK(same_noise(&s.online, &s2.online));     /* the run's seed decides it */
    CHECK(!same_noise(&s.online, &other.online)); /* another seed, another draw */
    prism_agent_free(&f);
    prism_agent_free(&s);
    prism_agent_free(&s2);
    prism_agent_free(&other);
}

/* Two agents of the given modes, seed 3, fed the same transitions (no action taken). */
static bool twin_agents(prism_agent *x, const char *mx, prism_agent *y, const char *my) {
    if (!init_agent(x, mx, 0.5, 3) || !init_agent(y, my, 0.5, 3)) return false;
    feed(x, 80);
    feed(y, 80);
    return true;
}

/* One update of each; whether they left the same parameters and optimizer state. */
static bool same_update(prism_agent *x, prism_agent *y) {
    if (prism_agent_learn(x) != PRISM_OK || prism_agent_learn(y) != PRISM_OK) {
        test_fail(__FILE__, __LINE__, "an update failed: %s", prism_error_message());
        return false;
    }
    return same_params(&x->online, &y->online) &&
           memcmp(x->opt.state, y->opt.state, sizeof(float) * x->opt.state_len) == 0;
}

TEST(noise_modes_change_an_update_only_through_the_noise_it_uses) {
    prism_agent x, y;
    /* update = action with the target's draw tied to the online draw */
    REQUIRE(twin_agents(&x, "action", &y, "update"));
    x.target.noise_rng = x.online.noise_rng;
    CHECK(same_update(&x, &y));
    prism_agent_free(&x);
    prism_agent_free(&y);
    REQUIRE(twin_agents(&x, "action", &y, "update"));
    CHECK(!same_update(&x, &y)); /* independent target noise: another update */
    prism_agent_free(&x);
    prism_agent_free(&y);
    /* fixed = update whose draw comes from the fixed stream */
    REQUIRE(twin_agents(&x, "fixed", &y, "update"));
    prism_rng_seed(&y.online.noise_rng, 3, PRISM_STREAM_NOISY_FIXED);
    CHECK(same_update(&x, &y));
    CHECK(same_update(&x, &y) == false); /* y draws again, x does not */
    prism_agent_free(&x);
    prism_agent_free(&y);
    /* fixed-shared = fixed with the other draw */
    REQUIRE(twin_agents(&x, "fixed", &y, "fixed-shared"));
    CHECK(!same_update(&x, &y));
    prism_agent_free(&x);
    prism_agent_free(&y);
    REQUIRE(twin_agents(&x, "fixed", &y, "fixed-shared"));
    prism_nn_noise_copy(&y.online, &x.online);
    prism_nn_noise_copy(&y.target, &x.target);
    CHECK(same_update(&x, &y));
    CHECK(same_update(&x, &y));
    prism_agent_free(&x);
    prism_agent_free(&y);
}

TEST(noise_evaluation_acts_with_the_mean_weights_in_every_mode) {
    for (int m = 0; m < NMODES; m++) {
        prism_agent ag;
        REQUIRE(init_agent(&ag, MODES[m], 1.0, 9));
        float before[MAX_NOISE], obs[4], q[2];
        noise_of(&ag.online, before);
        for (int k = 0; k < 20; k++) {
            obs_k(k, obs);
            int a = prism_agent_act(&ag, obs, true);
            prism_nn_set_eval(&ag.online, 1);
            prism_nn_q(&ag.online, obs, 1, q);
            prism_nn_set_eval(&ag.online, 0);
            CHECK_EQ_INT(a, q[1] > q[0] ? 1 : 0);
            CHECK_EQ_INT(ag.online.eval_mode, 0);
        }
        CHECK(noise_equals(&ag.online, before)); /* evaluation draws nothing */
        prism_agent_free(&ag);
    }
}

/* Whole training episodes of s until at least `steps` steps; the actions into acts (the count
 * is returned, at most cap). */
static int drive(prism_run_state *s, int steps, int *acts, int cap) {
    float obs[4], next[4];
    int n = 0;
    while (n < steps) {
        prism_env_reset(&s->env, obs);
        for (;;) {
            int a = prism_agent_act(&s->agent, obs, false);
            if (n < cap) acts[n] = a;
            n++;
            prism_step st = prism_env_step(&s->env, a, next);
            if (prism_agent_observe(&s->agent, obs, a, st.reward, st.terminated, st.truncated,
                                    next) != PRISM_OK)
                return -1;
            if (st.terminated || st.truncated) break;
            memcpy(obs, next, sizeof obs);
        }
    }
    return n;
}

TEST(noise_resume_from_a_checkpoint_is_bit_identical_in_every_mode) {
    for (int m = 0; m < NMODES; m++) {
        prism_config c = noisy_config(MODES[m]);
        REQUIRE(prism_config_apply(&c,
                                   "agent.min_replay=100 "
                                   "agent.update_period=4 agent.target_period=100") == PRISM_OK);
        prism_run_state *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
        REQUIRE(a && b);
        REQUIRE(prism_run_state_init(a, &c) == PRISM_OK);
        REQUIRE(prism_run_state_init(b, &c) == PRISM_OK);
        static int acts_a[4096], acts_b[4096];
        REQUIRE(drive(a, 600, acts_a, 4096) > 0);
        REQUIRE(a->agent.stats.updates > 50);
        char path[1024];
        snprintf(path, sizeof path, "%s/ckpt-%s.bin", test_tmpdir(), MODES[m]);
        REQUIRE(prism_checkpoint_save_file(path, a) == PRISM_OK);
        /* the draw is kept by name exactly when the agent acts with an earlier one */
        size_t len = 0;
        char *file = test_read_file(path, &len);
        REQUIRE(file);
        CHECK((memmem(file, len, "agent.noise", 11) != NULL) == (m != 0));
        free(file);
        /* a fresh agent's noise is not the one to continue with (update: the last update's) */
        if (m == 1) CHECK(!same_noise(&a->agent.online, &b->agent.online));
        REQUIRE(prism_checkpoint_load_file(path, b) == PRISM_OK);
        if (m != 0) { /* per-action noise is drawn again before it is used */
            CHECK(same_noise(&a->agent.online, &b->agent.online));
            CHECK(same_noise(&a->agent.target, &b->agent.target));
        }
        int na = drive(a, 600, acts_a, 4096), nb = drive(b, 600, acts_b, 4096);
        CHECK_EQ_INT(na, nb);
        if (na == nb && memcmp(acts_a, acts_b, sizeof(int) * (size_t)(na < 4096 ? na : 4096)))
            test_fail(__FILE__, __LINE__, "%s: the resumed agent acted differently", MODES[m]);
        CHECK(same_params(&a->agent.online, &b->agent.online));
        CHECK(same_params(&a->agent.target, &b->agent.target));
        CHECK(same_noise(&a->agent.online, &b->agent.online));
        prism_run_state_free(a);
        prism_run_state_free(b);
        free(a);
        free(b);
    }
}

/* A 400-step CartPole-v0 run of `agent` with `settings` in the test's directory as `id`, its
 * output into out; false (and a failed check) unless it exits `want`. */
static bool tiny_run(char *out, size_t cap, const char *agent, const char *settings, const char *id,
                     int want) {
    int rc = test_prism(out, cap,
                        "train CartPole-v0 --agent %s --steps 400 --set agent.hidden=16 --set "
                        "agent.min_replay=50 --set agent.batch_size=8 --set "
                        "train.iteration_steps=200 %s --runs-dir %s --run-id %s --quiet",
                        agent, settings, test_tmpdir(), id);
    if (rc != want) test_fail(__FILE__, __LINE__, "%s exited %d, not %d:\n%s", id, rc, want, out);
    return rc == want;
}

TEST(noise_mode_is_validated_recorded_and_reported) {
    char out[1 << 15];
    /* a bad name is refused naming the key and the choices, before anything runs */
    CHECK(tiny_run(out, sizeof out, "rainbow", "--set agent.noisy_resample=per-step", "bad", 2));
    CHECK(strstr(out, "agent.noisy_resample must be one of: action update fixed fixed-shared "
                      "(got 'per-step')") != NULL);
    /* config.ini, run.json and the doctor say which noise a run used */
    REQUIRE(
        tiny_run(out, sizeof out, "dqn+noisy", "--set agent.noisy_resample=fixed-shared", "fs", 0));
    char path[1024];
    snprintf(path, sizeof path, "%s/fs/config.ini", test_tmpdir());
    char *text = test_read_file(path, NULL);
    CHECK(text && strstr(text, "\nnoisy_resample = fixed-shared\n"));
    free(text);
    snprintf(path, sizeof path, "%s/fs/run.json", test_tmpdir());
    text = test_read_file(path, NULL);
    CHECK(text && strstr(text, "\"noisy_resample\": \"fixed-shared\""));
    free(text);
    test_prism(out, sizeof out, "doctor %s/fs", test_tmpdir());
    CHECK(strstr(out, "noise-mode") && strstr(out, "agent.noisy_resample=fixed-shared"));
    /* a run without noisy nets says so */
    REQUIRE(tiny_run(out, sizeof out, "dqn", "", "plain", 0));
    test_prism(out, sizeof out, "doctor %s/plain --json", test_tmpdir());
    CHECK(strstr(out, "\"name\":\"noise-mode\"") && strstr(out, "agent.noisy is off"));
}

TEST(noise_mode_applies_to_a_whole_study_from_one_sweep_setting) {
    /* a bad value stops the sweep before anything starts; a good one reaches every run */
    static const char *const values[] = {"sometimes", "fixed-shared"};
    static char out[1 << 16];
    for (int k = 0; k < 2; k++) {
        int rc = test_prism(out, sizeof out,
                            "sweep revisiting-rainbow-classic --seeds 1 --dry-run "
                            "--set agent.noisy_resample=%s --sweeps-dir %s",
                            values[k], test_tmpdir());
        CHECK_EQ_INT(rc, k ? 0 : 2);
        if (!k) CHECK(strstr(out, "agent.noisy_resample must be one of") != NULL);
    }
    /* every one of the 56 runs carries it */
    int n = 0;
    for (const char *p = out; (p = strstr(p, "agent.noisy_resample=fixed-shared")); p++) n++;
    CHECK_EQ_INT(n, 56);
}
