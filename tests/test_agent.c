/* Tests for the DQN-family agent: the exploration schedule, the learning targets recomputed
 * independently (one-step, terminal, double Q, C51, the quantile head, Munchausen), the update
 * and target-sync schedule, the deliberate bugs, the refused combinations, and determinism. */
#include "../src/agent/agent_internal.h"
#include "harness.h"
#include "prism/agent.h"
#include "prism/config.h"
#include "prism/presets.h"

#include <math.h>
#include <string.h>

/* A small agent on CartPole-v1 that learns only when a test calls prism_agent_learn. */
static prism_agent_config small_config(void) {
    prism_config c;
    prism_config_defaults(&c);
    prism_agent_config a = c.agent_cfg;
    a.hidden[0] = 16;
    a.n_hidden = 1;
    a.batch_size = 8;
    a.replay_capacity = 256;
    a.min_replay = 0;
    a.update_period = 1000000;
    a.target_period = 1000000;
    a.obs_minmax = false;
    a.reward_clip = false;
    a.eps_start = a.eps_end = 0.0;
    a.eps_decay_steps = 0;
    return a;
}

/* Feed `steps` transitions of a synthetic stream: episodes of 5 steps ending alternately in
 * termination and truncation, rewards 0.1 * step index. */
static void feed(prism_agent *ag, int steps) {
    float obs[4] = {0}, next[4];
    for (int t = 0; t < steps; t++) {
        for (int i = 0; i < 4; i++) next[i] = (float)sin(0.7 * t + i);
        int end = (t % 5) == 4;
        bool terminated = end && (t / 5) % 2 == 0, truncated = end && !terminated;
        REQUIRE(prism_agent_observe(ag, obs, t % 2, 0.1f * (float)(t % 5), terminated, truncated,
                                    next) == PRISM_OK);
        if (end)
            for (int i = 0; i < 4; i++) obs[i] = (float)cos(0.3 * t + i);
        else
            memcpy(obs, next, sizeof obs);
    }
}

TEST(agent_epsilon_schedule_linear_with_warmup) {
    prism_env_class const *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    a.eps_start = 1.0;
    a.eps_end = 0.1;
    a.eps_decay_steps = 100;
    a.eps_warmup = 50;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, cls, 1) == PRISM_OK);
    ag.steps = 0;
    CHECK_NEAR(prism_agent_epsilon(&ag), 1.0, 1e-12);
    ag.steps = 50;
    CHECK_NEAR(prism_agent_epsilon(&ag), 1.0, 1e-12);
    ag.steps = 100;
    CHECK_NEAR(prism_agent_epsilon(&ag), 0.55, 1e-12);
    ag.steps = 150;
    CHECK_NEAR(prism_agent_epsilon(&ag), 0.1, 1e-12);
    ag.steps = 100000;
    CHECK_NEAR(prism_agent_epsilon(&ag), 0.1, 1e-12);
    prism_agent_free(&ag);
}

/* agent.obs_storage passes the replay's own value through; auto picks bits for image
 * observations and float32 for vectors. */
TEST(agent_obs_storage_auto_resolves_by_observation_shape) {
    const struct {
        const char *env;
        prism_obs_storage asked, got;
    } cases[] = {
        {"CartPole-v1", PRISM_OBS_AUTO, PRISM_OBS_FLOAT32},
        {"breakout", PRISM_OBS_AUTO, PRISM_OBS_BITS},
        {"breakout", PRISM_OBS_FLOAT32, PRISM_OBS_FLOAT32},
        {"CartPole-v1", PRISM_OBS_FLOAT32, PRISM_OBS_FLOAT32},
        {"breakout", PRISM_OBS_UINT8, PRISM_OBS_UINT8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prism_agent_config a = small_config();
        a.obs_storage = cases[i].asked;
        prism_agent ag;
        REQUIRE(prism_agent_init(&ag, &a, prism_env_find(cases[i].env), 1) == PRISM_OK);
        if (ag.replay.opt.storage != cases[i].got)
            test_fail(__FILE__, __LINE__, "%s with %s stores %s", cases[i].env,
                      prism_obs_storage_name(cases[i].asked),
                      prism_obs_storage_name(ag.replay.opt.storage));
        prism_agent_free(&ag);
    }
}

/* Recompute the scalar targets of the last batch from copies of the networks taken before the
 * update, and compare with what the agent used. */
static void check_scalar_targets(bool double_q, prism_agent_bug bug) {
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    a.double_q = double_q;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, cls, 3) == PRISM_OK);
    ag.bug = bug;
    feed(&ag, 60);
    prism_agent_learn(&ag); /* move the online net away from the target */
    prism_nn online_before, target_copy;
    REQUIRE(prism_nn_init(&online_before, &ag.online.cfg, a.batch_size, 0) == PRISM_OK);
    REQUIRE(prism_nn_init(&target_copy, &ag.target.cfg, a.batch_size, 0) == PRISM_OK);
    prism_nn_copy_params(&online_before, &ag.online);
    prism_nn_copy_params(&target_copy, &ag.target);
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    const prism_replay_batch *b = &ag.batch;
    const int B = b->size, A = 2;
    float qt[64], qo[64];
    memcpy(qt, prism_nn_forward(&target_copy, b->next_obs, B), sizeof(float) * (size_t)(B * A));
    memcpy(qo, prism_nn_forward(&online_before, b->next_obs, B), sizeof(float) * (size_t)(B * A));
    int terminals = 0;
    for (int i = 0; i < B; i++) {
        const float *sel = double_q ? qo + i * A : qt + i * A;
        int astar = sel[1] > sel[0] ? 1 : 0;
        float discount = b->discounts[i]; /* already altered by an injected bug */
        float want = b->returns[i] + discount * qt[i * A + astar];
        CHECK_NEAR(ag.targets[i], want, 1e-6);
        terminals += discount == 0.0f;
    }
    if (bug == PRISM_BUG_NONE) CHECK(terminals > 0); /* the batch exercised the terminal mask */
    prism_nn_free(&online_before);
    prism_nn_free(&target_copy);
    prism_agent_free(&ag);
}

TEST(agent_scalar_targets_match_independent_recomputation) {
    check_scalar_targets(false, PRISM_BUG_NONE);
}

TEST(agent_double_q_selects_with_online_evaluates_with_target) {
    check_scalar_targets(true, PRISM_BUG_NONE);
}

TEST(agent_terminal_transitions_do_not_bootstrap) {
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    a.batch_size = 64;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, cls, 5) == PRISM_OK);
    feed(&ag, 100);
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    int terminal = 0, truncated_end = 0;
    for (int i = 0; i < ag.batch.size; i++) {
        if (ag.batch.discounts[i] == 0.0f) {
            terminal++;
            CHECK(ag.targets[i] == ag.batch.returns[i]);
        } else {
            CHECK_NEAR(ag.batch.discounts[i], a.gamma, 1e-7);
            truncated_end++;
        }
    }
    CHECK(terminal > 0 && truncated_end > 0);
    prism_agent_free(&ag);
}

TEST(agent_injected_bugs_change_targets) {
    check_scalar_targets(false, PRISM_BUG_TARGET_SIGN);
    check_scalar_targets(false, PRISM_BUG_NO_TERMINAL_MASK);
    /* With the mask removed, no transition of a batch has discount 0 any more. */
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    a.batch_size = 64;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, cls, 5) == PRISM_OK);
    ag.bug = PRISM_BUG_NO_TERMINAL_MASK;
    feed(&ag, 100);
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    for (int i = 0; i < ag.batch.size; i++) CHECK(ag.batch.discounts[i] > 0.0f);
    prism_agent_free(&ag);
}

TEST(agent_c51_targets_are_distributions_and_terminal_mass_sits_on_reward) {
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    a.distributional = true;
    a.num_atoms = 11;
    a.v_max = 1.0; /* support -1, -0.8, ..., 1: rewards 0.1 k land between atoms */
    a.batch_size = 32;
    a.double_q = true;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, cls, 7) == PRISM_OK);
    feed(&ag, 100);
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    const int N = 11;
    int terminals = 0;
    for (int i = 0; i < ag.batch.size; i++) {
        const float *m = ag.target_probs + i * N;
        double sum = 0, mean = 0;
        for (int j = 0; j < N; j++) {
            CHECK(m[j] >= 0.0f);
            sum += (double)m[j];
            mean += (double)m[j] * (-1.0 + 0.2 * j);
        }
        CHECK_NEAR(sum, 1.0, 1e-5);
        if (ag.batch.discounts[i] == 0.0f) {
            terminals++;
            /* all mass on the two atoms around the (clipped) return, mean = the return */
            double r = ag.batch.returns[i] > 1.0f ? 1.0 : (double)ag.batch.returns[i];
            CHECK_NEAR(mean, r, 1e-5);
        }
    }
    CHECK(terminals > 0);
    prism_agent_free(&ag);
}

TEST(agent_update_and_sync_follow_the_schedule) {
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    a.min_replay = 20;
    a.update_period = 4;
    a.target_period = 10;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, cls, 9) == PRISM_OK);
    prism_agent_stats_reset(&ag);
    feed(&ag, 100);
    /* steps 21..100 learn when step % 4 == 0: 24..100 -> 20 updates; syncs at 30..100 -> 8 */
    CHECK_EQ_INT(ag.stats.updates, 20);
    CHECK_EQ_INT(ag.stats.target_syncs, 8);
    CHECK(memcmp(ag.online.params, ag.target.params, sizeof(float) * ag.online.n_params) == 0);
    prism_agent_free(&ag);
}

TEST(agent_polyak_sync_averages) {
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    a.tau = 0.25;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, cls, 11) == PRISM_OK);
    feed(&ag, 40);
    prism_agent_learn(&ag);
    size_t k = ag.online.n_params / 2;
    float on = ag.online.params[k], tg = ag.target.params[k];
    REQUIRE(on != tg);
    prism_agent_sync_target(&ag);
    CHECK_NEAR(ag.target.params[k], 0.25f * on + 0.75f * tg, 1e-7);
    prism_agent_free(&ag);
}

TEST(agent_same_seed_same_parameters_bit_for_bit) {
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_config c;
    prism_config_defaults(&c);
    REQUIRE(prism_preset_apply(&c, "rainbow", "CartPole-v1") == PRISM_OK);
    prism_agent_config a = c.agent_cfg;
    a.hidden[0] = a.hidden[1] = 32;
    a.batch_size = 16;
    a.min_replay = 10;
    a.replay_capacity = 500;
    prism_agent x, y;
    REQUIRE(prism_agent_init(&x, &a, cls, 13) == PRISM_OK);
    REQUIRE(prism_agent_init(&y, &a, cls, 13) == PRISM_OK);
    feed(&x, 120);
    feed(&y, 120);
    CHECK(x.stats.updates > 10);
    CHECK(memcmp(x.online.params, y.online.params, sizeof(float) * x.online.n_params) == 0);
    float obs[4] = {0.01f, -0.02f, 0.03f, 0.0f};
    CHECK_EQ_INT(prism_agent_act(&x, obs, false), prism_agent_act(&y, obs, false));
    prism_agent_free(&x);
    prism_agent_free(&y);
}

TEST(agent_rejects_a_config_that_does_not_fit_the_environment) {
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    a.conv_channels = 16;
    prism_agent ag;
    CHECK(prism_agent_init(&ag, &a, cls, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "conv_channels") != NULL);
    a = small_config();
    a.obs_minmax = true;
    a.n_obs_min = a.n_obs_max = 2;
    CHECK(prism_agent_init(&ag, &a, cls, 1) == PRISM_ERR_INVALID);
    a = small_config();
    prism_alloc_fail_after(3);
    prism_status st = prism_agent_init(&ag, &a, cls, 1);
    prism_alloc_fail_after(-1);
    CHECK(st == PRISM_ERR_NOMEM);
}

TEST(agent_nan_weight_reaches_the_q_values) {
    /* A NaN in a first-layer weight must not be hidden by the ReLU (max(NaN, 0) == 0 would make
     * a diverged network look healthy to the loss and Q-value checks). */
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, cls, 1) == PRISM_OK);
    for (size_t i = 0; i < ag.online.n_params; i++) ag.online.params[i] = 0.0f;
    ag.online.params[0] = NAN; /* dense0.w[0][0] */
    float obs[4] = {1.0f, 1.0f, 1.0f, 1.0f}, q[2];
    prism_nn_q(&ag.online, obs, 1, q);
    CHECK(isnan(q[0]) || isnan(q[1]));
    prism_agent_free(&ag);
}

/* FLOPs per update and per step from the presets' networks, hand-counted (2 FLOPs a
 * multiply-add; the per-network counts are tested in test_nn.c): the figures of
 * docs/benchmarks-training.md's "FLOPs per update" table. */
static prism_agent_flops preset_flops(const char *preset, const char *env, prism_config *c) {
    prism_config_defaults(c);
    prism_agent_flops none = {0};
    if (prism_preset_apply(c, preset, env)) return none;
    const prism_env_class *cls = prism_env_find(env);
    return cls ? prism_agent_count_flops(&c->agent_cfg, cls) : none;
}

TEST(agent_count_flops_per_update_and_step) {
    prism_config c;
    /* cleanrl-dqn: 4-120-84-2, B 128, no double Q: target + online forward + backward */
    prism_agent_flops f = preset_flops("cleanrl-dqn", "CartPole-v1", &c);
    CHECK(!c.agent_cfg.double_q && c.agent_cfg.update_period == 10);
    CHECK(f.update == 2 * 2746368.0 + 5369856.0); /* 10.9 MFLOP */
    CHECK(f.act == 2.0 * (480 + 10080 + 168));
    CHECK_NEAR(f.per_step, f.update / 10 + (1 - c.agent_cfg.eps_end) * f.act, 1e-6);
    /* rainbow CartPole: double Q runs the online forward on 2B rows */
    f = preset_flops("rainbow", "CartPole-v0", &c);
    REQUIRE(c.agent_cfg.double_q && c.agent_cfg.batch_size == 128);
    const double row = 2.0 * (2048 + 262144 + 512 * 102 + 512 * 51); /* 685,056 */
    CHECK(f.update == 3 * 128 * row + 128 * (2.0 * 2048 + 4.0 * (262144 + 512 * 153))); /* 438M */
    CHECK(f.update == 437911552.0);
    CHECK(f.act == row);
    CHECK_NEAR(f.per_step, f.update / c.agent_cfg.update_period + (1 - c.agent_cfg.eps_end) * f.act,
               1e-6);
    /* rainbow breakout: conv 16 SAME, dueling C51 head 1600x(6*51) + 1600x51, B 32 */
    f = preset_flops("rainbow", "breakout", &c);
    CHECK(f.update == 197529600.0); /* 3 x 40,243,200 + 76,800,000 */
    /* dqn breakout: no double Q, no dueling, no C51 */
    f = preset_flops("dqn", "breakout", &c);
    CHECK(f.update == 13516800.0);
}

/* ---- the quantile head and the Munchausen target ------------------------------------------ */

static prism_agent_config quantile_config(void) {
    prism_agent_config a = small_config();
    a.distributional = true;
    a.head = PRISM_HEAD_QUANTILE;
    a.num_atoms = 7;
    a.kappa = 1.0;
    return a;
}

/* Copies of the agent's networks before its next update. */
typedef struct net_copies {
    prism_nn online, target;
} net_copies;

static bool copy_nets(const prism_agent *ag, net_copies *c) {
    const int B = ag->cfg.batch_size;
    if (prism_nn_init(&c->online, &ag->online.cfg, 2 * B, 0) ||
        prism_nn_init(&c->target, &ag->target.cfg, 2 * B, 0))
        return false;
    prism_nn_copy_params(&c->online, &ag->online);
    prism_nn_copy_params(&c->target, &ag->target);
    return true;
}

static void free_nets(net_copies *c) {
    prism_nn_free(&c->online);
    prism_nn_free(&c->target);
}

static int argmax_mean(const float *out, int A, int N) {
    int best = 0;
    double best_q = -INFINITY;
    for (int a = 0; a < A; a++) {
        double s = 0;
        for (int j = 0; j < N; j++) s += (double)out[a * N + j];
        if (s / N > best_q) best_q = s / N, best = a;
    }
    return best;
}

static void check_quantile_targets(bool double_q) {
    prism_agent_config a = quantile_config();
    a.double_q = double_q;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, prism_env_find("CartPole-v1"), 3) == PRISM_OK);
    feed(&ag, 60);
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK); /* the online net moves away from the target */
    net_copies c;
    REQUIRE(copy_nets(&ag, &c));
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    const prism_replay_batch *b = &ag.batch;
    const int B = b->size, A = 2, N = 7;
    float tq[8 * 2 * 7], oq[8 * 2 * 7];
    memcpy(tq, prism_nn_forward(&c.target, b->next_obs, B), sizeof(float) * (size_t)(B * A * N));
    memcpy(oq, prism_nn_forward(&c.online, b->next_obs, B), sizeof(float) * (size_t)(B * A * N));
    int terminals = 0;
    for (int i = 0; i < B; i++) {
        int at = argmax_mean(tq + i * A * N, A, N), ao = argmax_mean(oq + i * A * N, A, N);
        int astar = double_q ? ao : at;
        CHECK_EQ_INT(ag.next_actions[i], astar);
        for (int j = 0; j < N; j++) {
            float want = b->returns[i] + b->discounts[i] * tq[(i * A + astar) * N + j];
            CHECK_NEAR(ag.target_probs[i * N + j], want, 1e-6);
        }
        terminals += b->discounts[i] == 0.0f;
    }
    CHECK(terminals > 0);
    /* the per-sample losses are the quantile Huber loss of the taken action's quantiles */
    const float *out = prism_nn_forward(&c.online, b->obs, B);
    float pred[8 * 7], taus[8 * 7], losses[8];
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++) {
            pred[i * N + j] = out[(i * A + b->actions[i]) * N + j];
            taus[i * N + j] = (float)((j + 0.5) / N);
        }
    prism_nn_loss_quantile(pred, taus, ag.target_probs, NULL, B, N, N, 1.0f, losses, NULL);
    for (int i = 0; i < B; i++) CHECK_NEAR(ag.losses[i], losses[i], 1e-5);
    free_nets(&c);
    prism_agent_free(&ag);
}

TEST(agent_quantile_targets_shift_the_next_quantiles_of_the_greedy_action) {
    check_quantile_targets(false);
    check_quantile_targets(true);
}

TEST(agent_quantile_head_acts_by_the_mean_of_its_quantiles) {
    prism_agent_config a = quantile_config();
    a.dueling = true;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, prism_env_find("CartPole-v1"), 5) == PRISM_OK);
    feed(&ag, 40);
    for (int k = 0; k < 5; k++) REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    float obs[4] = {0.3f, -0.2f, 0.1f, 0.5f}, q[2];
    for (int t = 0; t < 20; t++) {
        obs[0] = 0.1f * (float)t - 1.0f;
        int a_agent = prism_agent_act(&ag, obs, false);
        const float *out = prism_nn_forward(&ag.online, obs, 1);
        CHECK_EQ_INT(a_agent, argmax_mean(out, 2, 7));
        prism_agent_q_values(&ag, obs, 1, q);
        CHECK_NEAR(q[a_agent], fmax((double)q[0], (double)q[1]), 0);
    }
    CHECK(ag.stats.quantile_spread_sum != 0);
    prism_agent_free(&ag);
}

TEST(agent_quantile_indicator_bug_reverses_the_fractions) {
    /* the same batch and nets with and without the bug: only the loss differs */
    prism_agent_config a = quantile_config();
    prism_agent x, y;
    REQUIRE(prism_agent_init(&x, &a, prism_env_find("CartPole-v1"), 9) == PRISM_OK);
    REQUIRE(prism_agent_init(&y, &a, prism_env_find("CartPole-v1"), 9) == PRISM_OK);
    y.bug = PRISM_BUG_QUANTILE_INDICATOR;
    feed(&x, 40);
    feed(&y, 40);
    REQUIRE(prism_agent_learn(&x) == PRISM_OK && prism_agent_learn(&y) == PRISM_OK);
    CHECK(memcmp(x.target_probs, y.target_probs, sizeof(float) * 8 * 7) == 0);
    double dl = 0;
    for (int i = 0; i < 8; i++) dl += fabs((double)x.losses[i] - (double)y.losses[i]);
    CHECK(dl > 1e-4);
    prism_agent_free(&x);
    prism_agent_free(&y);
}

static prism_agent_config implicit_config(void) {
    prism_agent_config a = small_config();
    a.distributional = true;
    a.head = PRISM_HEAD_IMPLICIT;
    a.num_tau_samples = 5;
    a.num_tau_prime_samples = 6;
    a.num_quantile_samples = 4;
    a.quantile_embedding_dim = 8;
    a.kappa = 1.0;
    return a;
}

/* A copy of one of the agent's nets, sized for T fractions per sample. */
static bool copy_net(prism_nn *dst, const prism_nn *src, int T) {
    if (prism_nn_init_taus(dst, &src->cfg, src->max_batch, T, 1) != PRISM_OK) return false;
    prism_nn_copy_params(dst, src);
    return true;
}

/* The mean over T quantiles of each action of sample i, (B*T, A) outputs: its argmax. */
static int argmax_rows(const float *out, int i, int T, int A) {
    int best = 0;
    double best_q = -INFINITY;
    for (int a = 0; a < A; a++) {
        double s = 0;
        for (int t = 0; t < T; t++) s += (double)out[((size_t)i * T + t) * A + a];
        if (s / T > best_q) best_q = s / T, best = a;
    }
    return best;
}

/* Recompute one update of the implicit head from copies of its nets and the fractions it drew:
 * a* from the mean over the K selection fractions (online net with double Q), the targets at the
 * N' fractions, the per-sample quantile Huber loss at the N online fractions. */
static void check_implicit_targets(bool double_q) {
    prism_agent_config a = implicit_config();
    a.double_q = double_q;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, prism_env_find("CartPole-v1"), 3) == PRISM_OK);
    feed(&ag, 60);
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK); /* the online net moves away from the target */
    enum { B = 8, A = 2, N = 5, Np = 6, K = 4 };
    prism_nn online, target;
    REQUIRE(copy_net(&online, &ag.online, N) && copy_net(&target, &ag.target, Np));
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    const prism_replay_batch *b = &ag.batch;
    float sel[B * K * A], tq[B * Np * A];
    prism_nn *selector = double_q ? &online : &target;
    prism_nn_set_taus(selector, ag.taus_select, K);
    memcpy(sel, prism_nn_forward(selector, b->next_obs, B), sizeof sel);
    prism_nn_set_taus(&target, ag.taus_prime, Np);
    memcpy(tq, prism_nn_forward(&target, b->next_obs, B), sizeof tq);
    int terminals = 0;
    for (int i = 0; i < B; i++) {
        int astar = argmax_rows(sel, i, K, A);
        CHECK_EQ_INT(ag.next_actions[i], astar);
        for (int j = 0; j < Np; j++) {
            float want = b->returns[i] + b->discounts[i] * tq[(i * Np + j) * A + astar];
            CHECK_NEAR(ag.quantile_targets[i * Np + j], want, 1e-6);
        }
        terminals += b->discounts[i] == 0.0f;
    }
    CHECK(terminals > 0);
    prism_nn_set_taus(&online, ag.taus, N);
    const float *out = prism_nn_forward(&online, b->obs, B);
    float pred[B * N], losses[B];
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++) pred[i * N + j] = out[(i * N + j) * A + b->actions[i]];
    prism_nn_loss_quantile(pred, ag.taus, ag.quantile_targets, NULL, B, N, Np, 1.0f, losses, NULL);
    for (int i = 0; i < B; i++) CHECK_NEAR(ag.losses[i], losses[i], 1e-5);
    /* every fraction is in [0, 1) */
    for (int i = 0; i < B * N; i++) CHECK(ag.taus[i] >= 0.0f && ag.taus[i] < 1.0f);
    prism_nn_free(&online);
    prism_nn_free(&target);
    prism_agent_free(&ag);
}

TEST(agent_implicit_targets_use_fresh_fractions_and_the_mean_over_k) {
    check_implicit_targets(false);
    check_implicit_targets(true);
}

TEST(agent_implicit_head_draws_new_fractions_every_update_and_action) {
    prism_agent_config a = implicit_config();
    prism_agent ag, twin;
    REQUIRE(prism_agent_init(&ag, &a, prism_env_find("CartPole-v1"), 5) == PRISM_OK);
    REQUIRE(prism_agent_init(&twin, &a, prism_env_find("CartPole-v1"), 5) == PRISM_OK);
    feed(&ag, 40);
    feed(&twin, 40);
    float first[8 * 5], first_act[4];
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    memcpy(first, ag.taus, sizeof first);
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    CHECK(memcmp(first, ag.taus, sizeof first) != 0); /* not the same fractions twice */
    float obs[4] = {0.3f, -0.2f, 0.1f, 0.5f}, q[2];
    int a1 = prism_agent_act(&ag, obs, false);
    memcpy(first_act, ag.act_taus, sizeof first_act);
    /* the action is the argmax of the mean over the K fractions it drew */
    const float *out = prism_nn_forward(&ag.online, obs, 1);
    CHECK_EQ_INT(a1, argmax_rows(out, 0, 4, 2));
    prism_agent_act(&ag, obs, false);
    CHECK(memcmp(first_act, ag.act_taus, sizeof first_act) != 0);
    /* looking at Q draws nothing: the next update's fractions are the twin's */
    prism_agent_q_values(&ag, obs, 1, q);
    CHECK(isfinite(q[0]) && isfinite(q[1]));
    for (int k = 0; k < 2; k++) REQUIRE(prism_agent_learn(&twin) == PRISM_OK);
    prism_agent_act(&twin, obs, false);
    prism_agent_act(&twin, obs, false);
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK && prism_agent_learn(&twin) == PRISM_OK);
    CHECK(memcmp(ag.taus, twin.taus, sizeof first) == 0);
    CHECK(memcmp(ag.online.params, twin.online.params, sizeof(float) * ag.online.n_params) == 0);
    CHECK(ag.stats.quantile_spread_sum != 0);
    prism_agent_free(&ag);
    prism_agent_free(&twin);
}

TEST(agent_implicit_head_composes_with_every_component) {
    /* IRainbow's switches: dueling, noisy, double, 3-step, prioritized (priorities from the
     * per-sample loss) */
    prism_agent_config a = implicit_config();
    a.dueling = a.noisy = a.double_q = a.prioritized = true;
    a.n_step = 3;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, prism_env_find("CartPole-v1"), 7) == PRISM_OK);
    feed(&ag, 80);
    float before[8];
    for (int k = 0; k < 4; k++) {
        REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
        CHECK(isfinite(ag.stats.loss_sum));
    }
    /* the last batch's priorities are its per-sample losses (to the power alpha) */
    for (int i = 0; i < 8; i++) before[i] = ag.losses[i];
    double spread = 0;
    for (int i = 1; i < 8; i++) spread += fabs((double)before[i] - (double)before[0]);
    CHECK(spread > 0);
    CHECK(ag.stats.weight_min < 1.0);
    prism_agent_free(&ag);
}

/* M-IQN: obs_q is the target net's mean quantiles on obs at the last K fractions drawn, and each
 * target quantile is the Munchausen quantile target of obs_q, next_q and the target's quantiles
 * at the N' fractions (the arithmetic itself is checked against PyTorch in test_iqn.c). */
TEST(agent_implicit_munchausen_targets_use_the_target_net) {
    prism_agent_config a = implicit_config();
    a.munchausen = true;
    a.munchausen_tau = 0.03;
    a.munchausen_alpha = 0.9;
    a.munchausen_clip = -1;
    prism_agent ag;
    REQUIRE(prism_agent_init(&ag, &a, prism_env_find("CartPole-v1"), 4) == PRISM_OK);
    feed(&ag, 60);
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    enum { B = 8, A = 2, Np = 6, K = 4 };
    prism_nn target;
    REQUIRE(copy_net(&target, &ag.target, Np));
    REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
    const prism_replay_batch *b = &ag.batch;
    float q_obs[B * A], tq[B * Np * A];
    prism_nn_set_taus(&target, ag.taus_select, K);
    prism_nn_q(&target, b->obs, B, q_obs);
    for (int i = 0; i < B * A; i++) CHECK_NEAR(ag.obs_q[i], q_obs[i], 1e-6);
    prism_nn_set_taus(&target, ag.taus_prime, Np);
    memcpy(tq, prism_nn_forward(&target, b->next_obs, B), sizeof tq);
    float want[B * Np];
    munchausen_quantile_targets_temp(ag.obs_q, ag.next_q, tq, b->actions, b->returns, b->discounts,
                                     B, A, Np, 0.03, 0.03, 0.9, -1, want);
    for (int i = 0; i < B * Np; i++) CHECK_NEAR(ag.quantile_targets[i], want[i], 1e-6);
    /* the missing 1/tau in the policy softmax reaches the agent's targets */
    prism_agent bugged;
    REQUIRE(prism_agent_init(&bugged, &a, prism_env_find("CartPole-v1"), 4) == PRISM_OK);
    bugged.bug = PRISM_BUG_MUNCHAUSEN_NO_INV_TAU;
    feed(&bugged, 60);
    REQUIRE(prism_agent_learn(&bugged) == PRISM_OK && prism_agent_learn(&bugged) == PRISM_OK);
    double diff = 0;
    for (int i = 0; i < B * Np; i++)
        diff = fmax(diff, fabs((double)bugged.quantile_targets[i] - (double)want[i]));
    CHECK(diff > 1e-3);
    prism_agent_free(&bugged);
    prism_nn_free(&target);
    prism_agent_free(&ag);
}

TEST(agent_refuses_an_implicit_head_without_fractions) {
    prism_agent_config a = implicit_config();
    a.num_tau_prime_samples = 0;
    prism_agent ag;
    CHECK(prism_agent_init(&ag, &a, prism_env_find("CartPole-v1"), 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "agent.num_tau_prime_samples") != NULL);
    a = implicit_config();
    a.distributional = false;
    CHECK(prism_agent_init(&ag, &a, prism_env_find("CartPole-v1"), 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "agent.head=implicit") != NULL);
}

TEST(agent_munchausen_targets_use_the_target_net_on_obs_and_next_obs) {
    prism_agent_config a = small_config();
    a.munchausen = true;
    a.munchausen_tau = 0.03;
    a.munchausen_alpha = 0.9;
    a.munchausen_clip = -1;
    for (int bug = 0; bug < 2; bug++) {
        prism_agent ag;
        REQUIRE(prism_agent_init(&ag, &a, prism_env_find("CartPole-v1"), 4) == PRISM_OK);
        ag.bug = bug ? PRISM_BUG_MUNCHAUSEN_NO_INV_TAU : PRISM_BUG_NONE;
        feed(&ag, 60);
        REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
        net_copies c;
        REQUIRE(copy_nets(&ag, &c));
        REQUIRE(prism_agent_learn(&ag) == PRISM_OK);
        const prism_replay_batch *b = &ag.batch;
        const int B = b->size, A = 2;
        float q_obs[16], q_next[16], want[8];
        memcpy(q_obs, prism_nn_forward(&c.target, b->obs, B), sizeof(float) * (size_t)(B * A));
        memcpy(q_next, prism_nn_forward(&c.target, b->next_obs, B),
               sizeof(float) * (size_t)(B * A));
        prism_agent_munchausen_targets(q_obs, q_next, b->actions, b->returns, b->discounts, B, A,
                                       0.03, 0.9, -1, want);
        double err = 0;
        for (int i = 0; i < B; i++) err = fmax(err, fabs((double)ag.targets[i] - (double)want[i]));
        if (bug)
            CHECK(err > 1e-3); /* the missing 1/tau is caught */
        else
            CHECK(err < 1e-6);
        free_nets(&c);
        prism_agent_free(&ag);
    }
}

TEST(agent_refuses_munchausen_with_c51_or_double_and_says_why) {
    prism_agent ag;
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    prism_agent_config a = small_config();
    a.munchausen = true;
    a.distributional = true;
    CHECK(prism_agent_init(&ag, &a, cls, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "C51") && strstr(prism_error_message(), "could not"));
    a.distributional = false;
    a.double_q = true;
    CHECK(prism_agent_init(&ag, &a, cls, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "agent.double") &&
          strstr(prism_error_message(), "could not"));
    a = small_config();
    a.head = PRISM_HEAD_QUANTILE;
    CHECK(prism_agent_init(&ag, &a, cls, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "agent.distributional") != NULL);
    /* the configuration check says the same before anything is built */
    prism_config c;
    prism_config_defaults(&c);
    REQUIRE(prism_config_apply(&c, "agent.munchausen=true agent.double=true") == PRISM_OK);
    CHECK(prism_config_validate(&c, 4) == PRISM_ERR_INVALID);
}
