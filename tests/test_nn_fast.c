/* Tests for the speed paths of nn/ added for training throughput: the AVX-512 small-shape dense
 * kernels (kernels_small.c) against the naive kernels at every shape class they take (few
 * outputs, few inputs, row tails, several register blocks), the batch-1 factorised noisy
 * forward against the materialised one, the noise sampler's distribution, and the agent's
 * determinism with them. Speed itself is measured by prism bench train / nn, never here. */
#include "harness.h"
#include "prism/agent.h"
#include "prism/nn.h"
#include "prism/presets.h"
#include "../src/nn/nn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void fill(float *x, size_t n, uint64_t seed) {
    prism_rng r;
    prism_rng_seed(&r, seed, 77);
    for (size_t i = 0; i < n; i++) x[i] = (float)prism_rng_range(&r, -1.0, 1.0);
}

/* max |a - b| / max(1, max |b|) */
static double rel(const float *a, const float *b, size_t n) {
    double mx = 1, d = 0;
    for (size_t i = 0; i < n; i++) {
        mx = fabs((double)b[i]) > mx ? fabs((double)b[i]) : mx;
        double e = fabs((double)a[i] - (double)b[i]);
        d = e > d ? e : d;
    }
    return d / mx;
}

/* Fast and naive dense forward and backward (both dw modes, with and without dx) at one
 * shape. The gradients are compared after accumulating onto the same nonzero start, so a
 * kernel that overwrote instead of accumulating (or the reverse) fails. */
static void dense_case(int B, int In, int O) {
    size_t nx = (size_t)B * In, nw = (size_t)O * In, ny = (size_t)B * O;
    float *x = malloc(4 * nx), *w = malloc(4 * nw), *b = malloc(4 * (size_t)O);
    float *y1 = malloc(4 * ny), *y2 = malloc(4 * ny), *dy = malloc(4 * ny);
    float *dw1 = malloc(4 * nw), *dw2 = malloc(4 * nw), *db1 = malloc(4 * (size_t)O),
          *db2 = malloc(4 * (size_t)O), *dx1 = malloc(4 * nx), *dx2 = malloc(4 * nx);
    fill(x, nx, 1), fill(w, nw, 2), fill(b, (size_t)O, 3), fill(dy, ny, 4);
    float *pack = malloc(4 * nn_gemm_pack_size(In));
    nn_linear_forward_fast(y1, pack, x, w, b, B, In, O, 0);
    free(pack);
    nn_linear_forward_naive(y2, x, w, b, B, In, O);
    double e = rel(y1, y2, ny);
    if (!(e < 1e-5)) test_fail(__FILE__, __LINE__, "forward %dx%dx%d: %.3g", B, In, O, e);
    for (int overwrite = 0; overwrite <= 1; overwrite++)
        for (int want_dx = 0; want_dx <= 1; want_dx++) {
            fill(dw1, nw, 5), fill(db1, (size_t)O, 6);
            memcpy(dw2, dw1, 4 * nw), memcpy(db2, db1, 4 * (size_t)O);
            fill(dx1, nx, 7), fill(dx2, nx, 8); /* different junk: dx must be overwritten */
            nn_linear_backward_fast(want_dx ? dx1 : NULL, dw1, db1, dy, x, w, B, In, O, overwrite);
            nn_linear_backward_naive(want_dx ? dx2 : NULL, dw2, db2, dy, x, w, B, In, O, overwrite);
            double ew = rel(dw1, dw2, nw), eb = rel(db1, db2, (size_t)O);
            double ex = want_dx ? rel(dx1, dx2, nx) : 0;
            if (!(ew < 1e-5 && eb < 1e-5 && ex < 1e-5))
                test_fail(__FILE__, __LINE__,
                          "backward %dx%dx%d overwrite %d dx %d: dw %.3g db %.3g dx %.3g", B, In, O,
                          overwrite, want_dx, ew, eb, ex);
        }
    free(x), free(w), free(b), free(y1), free(y2), free(dy), free(dw1), free(dw2), free(db1);
    free(db2), free(dx1), free(dx2);
}

TEST(nn_small_shape_kernels_match_naive) {
    /* few outputs (Q heads): row tails, exactly 16, several 8-chunk blocks (In 300) */
    static const int narrow[][3] = {{128, 84, 2}, {1, 84, 2}, {3, 16, 8},    {7, 300, 5},
                                    {32, 512, 1}, {2, 17, 3}, {128, 120, 6}, {5, 1, 4}};
    /* few inputs (first layer on a state vector): output tails, one block, many */
    static const int skinny[][3] = {{128, 4, 120}, {1, 4, 512}, {9, 8, 17},    {4, 1, 9},
                                    {33, 6, 64},   {2, 3, 100}, {128, 7, 513}, {16, 5, 31}};
    for (size_t i = 0; i < sizeof narrow / sizeof narrow[0]; i++)
        dense_case(narrow[i][0], narrow[i][1], narrow[i][2]);
    for (size_t i = 0; i < sizeof skinny / sizeof skinny[0]; i++)
        dense_case(skinny[i][0], skinny[i][1], skinny[i][2]);
    /* neither: the sgemm path, for contrast */
    dense_case(16, 40, 24);
}

TEST(nn_fast_network_matches_naive_on_cleanrl_and_lander_shapes) {
    prism_nn_config cfgs[2] = {prism_nn_config_mlp(4, 2, 120, 84),
                               prism_nn_config_mlp(8, 4, 64, 64)};
    cfgs[1].n_atoms = 11, cfgs[1].v_min = -5, cfgs[1].v_max = 5, cfgs[1].dueling = 1;
    cfgs[1].noisy = 1, cfgs[1].noisy_sigma0 = 0.5f;
    for (int c = 0; c < 2; c++) {
        prism_nn a, b;
        REQUIRE(prism_nn_init(&a, &cfgs[c], 32, 5) == PRISM_OK);
        REQUIRE(prism_nn_init(&b, &cfgs[c], 32, 5) == PRISM_OK);
        prism_nn_set_naive(&b, 1);
        size_t nx = 32 * (size_t)a.in_size, no = 32 * (size_t)a.out_size;
        float *x = malloc(4 * nx), *d = malloc(4 * no);
        fill(x, nx, 9), fill(d, no, 10);
        const float *oa = prism_nn_forward(&a, x, 32), *ob = prism_nn_forward(&b, x, 32);
        CHECK(rel(oa, ob, no) < 1e-5);
        prism_nn_zero_grad(&a), prism_nn_zero_grad(&b);
        prism_nn_backward(&a, d, 32), prism_nn_backward(&b, d, 32);
        CHECK(rel(a.grads, b.grads, a.n_params) < 1e-5);
        free(x), free(d);
        prism_nn_free(&a), prism_nn_free(&b);
    }
}

/* The batch-1 noisy forward skips building mu + sigma * eps; it must give the outputs of the
 * materialised form (a batch of two identical rows takes that path), and a backward after it
 * must still see the effective weights. */
TEST(nn_noisy_batch1_factorised_forward_matches_materialised) {
    /* 80 -> 72 takes the AVX-512 matrix-vector kernel (In >= 64), 6 -> 80 sgemv, the heads
     * the narrow kernels */
    prism_nn_config c = prism_nn_config_mlp(6, 3, 80, 72);
    c.n_atoms = 7, c.v_min = -3, c.v_max = 3, c.dueling = 1, c.noisy = 1, c.noisy_sigma0 = 0.8f;
    for (int naive = 0; naive <= 1; naive++) {
        prism_nn net, ref;
        REQUIRE(prism_nn_init(&net, &c, 2, 21) == PRISM_OK);
        REQUIRE(prism_nn_init(&ref, &c, 2, 21) == PRISM_OK);
        prism_nn_set_naive(&net, naive);
        float x[12], d[2 * 21], o1[21];
        fill(x, 6, 11);
        memcpy(x + 6, x, sizeof(float) * 6);
        fill(d, 21, 12);
        memset(d + 21, 0, sizeof(float) * 21);
        for (int rep = 0; rep < 3; rep++) {
            prism_nn_noise_resample(&net);
            prism_nn_noise_resample(&ref); /* same seed: the same noise */
            memcpy(o1, prism_nn_forward(&net, x, 1), sizeof o1);
            const float *o2 = prism_nn_forward(&ref, x, 2);
            CHECK(rel(o1, o2, 21) < 1e-5);
            CHECK(rel(o1, o2 + 21, 21) < 1e-5);
            /* sigma matters: the mean-weight output differs */
            prism_nn_set_eval(&ref, 1);
            CHECK(rel(o1, prism_nn_forward(&ref, x, 1), 21) > 1e-3);
            prism_nn_set_eval(&ref, 0);
            prism_nn_forward(&ref, x, 2);
            prism_nn_forward(&net, x, 1);
            prism_nn_zero_grad(&net), prism_nn_zero_grad(&ref);
            prism_nn_backward(&net, d, 1);
            prism_nn_backward(&ref, d, 2);
            CHECK(rel(net.grads, ref.grads, net.n_params) < 1e-5);
        }
        prism_nn_free(&net), prism_nn_free(&ref);
    }
}

/* The noise sampler keeps both normals of each polar pair: f^-1 of the samples must still be
 * standard normal (mean 0, variance 1, and the pairs uncorrelated). */
TEST(nn_noise_samples_are_standard_normal) {
    prism_nn_config c = prism_nn_config_mlp(500, 2, 300, 0);
    c.noisy = 1, c.noisy_sigma0 = 0.5f;
    prism_nn net;
    REQUIRE(prism_nn_init(&net, &c, 1, 3) == PRISM_OK);
    double s = 0, s2 = 0, cross = 0;
    long n = 0, pairs = 0;
    for (int rep = 0; rep < 40; rep++) {
        prism_nn_noise_resample(&net);
        const float *e = net.impl->dense[0].eps_in;
        for (int i = 0; i < 500; i++) {
            double f = (double)e[i], v = f * fabs(f); /* f^-1(f) = sgn(f) f^2 */
            s += v, s2 += v * v, n++;
            if (i % 2 == 1) {
                double f0 = (double)e[i - 1];
                cross += v * f0 * fabs(f0), pairs++;
            }
        }
    }
    double mean = s / (double)n, var = s2 / (double)n - mean * mean;
    CHECK_NEAR(mean, 0.0, 0.02);
    CHECK_NEAR(var, 1.0, 0.03);
    CHECK_NEAR(cross / (double)pairs, 0.0, 0.03);
    prism_nn_free(&net);
}

/* Same seed, same bits, through the agent with every fast path (noisy acting, small heads,
 * double Q): two agents fed the same transitions end with identical parameters. */
TEST(agent_fast_paths_are_deterministic) {
    const char *presets[] = {"rainbow", "cleanrl-dqn"};
    for (int p = 0; p < 2; p++) {
        prism_config cfg;
        prism_config_defaults(&cfg);
        REQUIRE(prism_preset_apply(&cfg, presets[p], "CartPole-v1") == PRISM_OK);
        REQUIRE(prism_config_set(&cfg, "agent.batch_size", "16") == PRISM_OK);
        REQUIRE(prism_config_set(&cfg, "agent.min_replay", "40") == PRISM_OK);
        REQUIRE(prism_config_set(&cfg, "agent.update_period", "1") == PRISM_OK);
        REQUIRE(prism_config_set(&cfg, "agent.hidden", "32,32") == PRISM_OK);
        const prism_env_class *cls = prism_env_find("CartPole-v1");
        REQUIRE(cls != NULL);
        prism_agent ag[2];
        for (int k = 0; k < 2; k++)
            REQUIRE(prism_agent_init(&ag[k], &cfg.agent_cfg, cls, 42) == PRISM_OK);
        prism_env env;
        prism_env_options eo = prism_env_options_default();
        REQUIRE(prism_env_init(&env, "CartPole-v1", &eo) == PRISM_OK);
        prism_env_seed(&env, 1, PRISM_STREAM_ENV);
        float obs[4], next[4];
        prism_env_reset(&env, obs);
        int same_actions = 1;
        for (int t = 0; t < 150; t++) {
            int a = prism_agent_act(&ag[0], obs, false);
            same_actions &= a == prism_agent_act(&ag[1], obs, false);
            prism_step s = prism_env_step(&env, a, next);
            for (int k = 0; k < 2; k++)
                REQUIRE(prism_agent_observe(&ag[k], obs, a, s.reward, s.terminated, s.truncated,
                                            next) == PRISM_OK);
            if (s.terminated || s.truncated)
                prism_env_reset(&env, obs);
            else
                memcpy(obs, next, sizeof obs);
        }
        CHECK(same_actions);
        CHECK(ag[0].stats.updates > 100);
        CHECK(memcmp(ag[0].online.params, ag[1].online.params,
                     sizeof(float) * ag[0].online.n_params) == 0);
        /* and learning happened: the parameters moved from their initial values */
        prism_nn fresh;
        REQUIRE(prism_nn_init(&fresh, &ag[0].online.cfg, 1, 42) == PRISM_OK);
        CHECK(memcmp(fresh.params, ag[0].online.params, sizeof(float) * fresh.n_params) != 0);
        prism_nn_free(&fresh);
        prism_env_free(&env);
        prism_agent_free(&ag[0]), prism_agent_free(&ag[1]);
    }
}

/* Backward with fewer rows than the forward (the agent's 2B-row double-Q forward): the
 * gradient is that of the first B rows alone, as if only they had been forwarded. */
TEST(nn_backward_of_a_row_prefix_equals_backward_of_those_rows) {
    prism_nn_config cfgs[2] = {prism_nn_config_mlp(5, 3, 24, 16),
                               prism_nn_config_minatar(5, 5, 2, 8, 3)};
    cfgs[0].n_atoms = 5, cfgs[0].v_min = -2, cfgs[0].v_max = 2, cfgs[0].dueling = 1;
    cfgs[0].noisy = 1, cfgs[0].noisy_sigma0 = 0.5f;
    for (int c = 0; c < 2; c++) {
        prism_nn a, b;
        REQUIRE(prism_nn_init(&a, &cfgs[c], 12, 8) == PRISM_OK);
        REQUIRE(prism_nn_init(&b, &cfgs[c], 12, 8) == PRISM_OK);
        size_t nx = 12 * (size_t)a.in_size, no = 12 * (size_t)a.out_size;
        float *x = malloc(4 * nx), *d = malloc(4 * no), *o6 = malloc(4 * no);
        fill(x, nx, 13), fill(d, no, 14);
        memcpy(o6, prism_nn_forward(&b, x, 6), 4 * (no / 2));
        const float *o12 = prism_nn_forward(&a, x, 12);
        CHECK(rel(o12, o6, no / 2) < 1e-5);
        prism_nn_forward(&b, x, 6);
        prism_nn_zero_grad(&a), prism_nn_zero_grad(&b);
        prism_nn_backward(&a, d, 6);
        prism_nn_backward(&b, d, 6);
        CHECK(rel(a.grads, b.grads, a.n_params) < 1e-5);
        /* and the other rows would have contributed: the full backward differs */
        prism_nn_zero_grad(&a);
        prism_nn_backward(&a, d, 12);
        CHECK(rel(a.grads, b.grads, a.n_params) > 1e-4);
        free(x), free(d), free(o6);
        prism_nn_free(&a), prism_nn_free(&b);
    }
}

/* prism bench train: JSON fields for a case, the update count it was asked for, the FLOP floor,
 * bad input. */
TEST(bench_train_cli_json_and_errors) {
    char out[8192];
    int rc = test_prism(out, sizeof out, "bench train --json --updates 20 --only cleanrl");
    CHECK_EQ_INT(rc, 0);
    const char *fields[] = {"\"preset\":\"cleanrl-dqn\"",
                            "\"env\":\"CartPole-v1\"",
                            "\"updates\":20,",
                            "\"steps\":200,",
                            "\"update_us\":",
                            "\"act_us\":",
                            "\"cpu_step_us\":"};
    CHECK_CONTAINS_ALL(out, fields);
    CHECK(strstr(out, "rainbow") == NULL); /* --only picked one case */
    rc = test_prism(out, sizeof out, "bench train --only nosuch");
    CHECK_EQ_INT(rc, 2);
    CHECK(strstr(out, "no case matches") != NULL && strstr(out, "rainbow breakout") != NULL);
    rc = test_prism(out, sizeof out, "bench train --updates 0");
    CHECK_EQ_INT(rc, 2);
    /* the floor: the step's FLOPs at the peak --peak gives (counted, so exact): cleanrl-dqn's
     * 10,862,592 per update every 10 steps and 21,456 per greedy action at epsilon 0.05 */
    rc = test_prism(out, sizeof out, "bench train --json --updates 2 --only cleanrl --peak 100");
    CHECK_EQ_INT(rc, 0);
    const char *floor_fields[] = {"\"flop_per_update\":10862592,", "\"flop_per_act\":21456,",
                                  "\"flop_per_step\":1106642.4,",  "\"peak_gflops\":100.00,",
                                  "\"peak_source\":\"option\"",    "\"floor_us\":11.066,",
                                  "\"cpu_step_over_floor\":"};
    CHECK_CONTAINS_ALL(out, floor_fields);
    rc = test_prism(out, sizeof out, "bench train --only cleanrl --updates 2 --peak 100");
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(out, "FLOOR_us") != NULL && strstr(out, "xFLOOR") != NULL);
    CHECK(strstr(out, "FP32 peak 100.0 GFLOP/s (--peak)") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench train --peak 0"), 2);
    CHECK(strstr(out, "--peak must be a number") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench train --peak fast"), 2);
}

/* The batch-1 matrix-vector kernel: near the naive kernel, bit-identical to its portable form
 * (the fixed 16-partial-sum order on every instruction set), and bit-identical whichever
 * direction it scans (the direction alternates between calls to keep weights in L2), at row
 * counts with and without a partial 64-row block or 4-row group and with a row tail. */
TEST(nn_batch1_matvec_matches_naive_in_both_directions) {
    static const int shapes[][2] = {{512, 512}, {100, 70}, {64, 129}, {300, 3},
                                    {77, 65},   {4, 120},  {9, 5},    {24, 2}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int In = shapes[s][0], O = shapes[s][1];
        float *x = malloc(4 * (size_t)In), *w = malloc(4 * (size_t)In * O),
              *b = malloc(4 * (size_t)O);
        float *y0 = malloc(4 * (size_t)O), *y1 = malloc(4 * (size_t)O), *yn = malloc(4 * (size_t)O);
        fill(x, (size_t)In, 15), fill(w, (size_t)In * O, 16), fill(b, (size_t)O, 17);
        nn_linear_forward_naive(yn, x, w, b, 1, In, O);
        nn_matvec(y0, x, w, b, In, O, 0);
        nn_matvec(y1, x, w, b, In, O, 1);
        CHECK(memcmp(y0, y1, 4 * (size_t)O) == 0);
        CHECK(rel(y0, yn, (size_t)O) < 1e-5);
        nn_matvec_portable(y1, x, w, b, In, O);
        CHECK(memcmp(y0, y1, 4 * (size_t)O) == 0);
        free(x), free(w), free(b), free(y0), free(y1), free(yn);
    }
    /* and through a network: repeated batch-1 forwards (alternating direction) agree */
    prism_nn_config c = prism_nn_config_mlp(4, 2, 512, 512);
    prism_nn net;
    REQUIRE(prism_nn_init(&net, &c, 1, 5) == PRISM_OK);
    float x[4] = {0.1f, -0.2f, 0.3f, 0.05f}, q0[2];
    memcpy(q0, prism_nn_forward(&net, x, 1), sizeof q0);
    CHECK(memcmp(q0, prism_nn_forward(&net, x, 1), sizeof q0) == 0);
    prism_nn_free(&net);
}

/* Adam without clipping takes the fused pass (update and gradient norm together): the norm
 * and the parameters must equal the two-pass form's bit for bit. A clip_norm far above the
 * norm takes the two-pass form without clipping anything. Sizes leave tails of 0, 8 and 1-15
 * after the 16-wide blocks. */
TEST(nn_adam_fused_norm_pass_equals_two_pass) {
    static const size_t sizes[] = {1, 7, 8, 15, 16, 24, 31, 1000, 1029};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        prism_optim_config c1 = prism_optim_config_adam(1e-3f, 1e-8f), c2 = c1;
        c2.clip_norm = 1e30f;
        prism_optim o1, o2;
        REQUIRE(prism_optim_init(&o1, &c1, n) == PRISM_OK);
        REQUIRE(prism_optim_init(&o2, &c2, n) == PRISM_OK);
        float *p1 = malloc(4 * n), *p2 = malloc(4 * n), *g1 = malloc(4 * n), *g2 = malloc(4 * n);
        fill(p1, n, 20);
        memcpy(p2, p1, 4 * n);
        for (int step = 0; step < 3; step++) {
            fill(g1, n, 21 + (uint64_t)step);
            memcpy(g2, g1, 4 * n);
            double ref = 0;
            for (size_t i = 0; i < n; i++) ref += (double)g1[i] * (double)g1[i];
            double n1 = prism_optim_step(&o1, p1, g1), n2 = prism_optim_step(&o2, p2, g2);
            CHECK(n1 == n2);
            CHECK_NEAR(n1, sqrt(ref), 1e-12 * sqrt(ref));
            CHECK(memcmp(p1, p2, 4 * n) == 0);
            CHECK(memcmp(o1.state, o2.state, 4 * o1.state_len) == 0);
        }
        free(p1), free(p2), free(g1), free(g2);
        prism_optim_free(&o1), prism_optim_free(&o2);
    }
}

/* prism's matrix products (gemm.c) equal their portable forms bit for bit: the vector paths
 * (AVX-512 or AVX2+FMA) keep the fixed reduction order, whatever the tiling, at shapes with
 * full register tiles, row and column tails, column counts below one vector, batches of one,
 * under and over 32 samples, and the widths prism's presets use. */
TEST(nn_gemm_vector_paths_equal_portable_bit_for_bit) {
    static const int shapes[][3] = {{32, 512, 512}, {32, 4, 120},  {128, 120, 84}, {32, 84, 2},
                                    {32, 1600, 64}, {33, 37, 13},  {1, 17, 5},     {70, 64, 18},
                                    {32, 512, 51},  {5, 1024, 31}, {2, 3, 1},      {64, 8, 918}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int B = shapes[s][0], In = shapes[s][1], O = shapes[s][2];
        size_t nx = (size_t)B * In, nw = (size_t)O * In, ny = (size_t)B * O;
        float *x = malloc(4 * nx), *w = malloc(4 * nw), *b = malloc(4 * (size_t)O);
        float *dy = malloc(4 * ny), *y1 = malloc(4 * ny), *y2 = malloc(4 * ny);
        float *dx1 = malloc(4 * nx), *dx2 = malloc(4 * nx), *dw1 = malloc(4 * nw),
              *dw2 = malloc(4 * nw), *pack = malloc(4 * nn_gemm_pack_size(In));
        fill(x, nx, 21), fill(w, nw, 22), fill(b, (size_t)O, 23), fill(dy, ny, 24);
        for (int relu = 0; relu <= 1; relu++) {
            nn_gemm_forward(y1, pack, x, w, b, B, In, O, relu);
            nn_gemm_forward_portable(y2, x, w, b, B, In, O, relu);
            if (memcmp(y1, y2, 4 * ny) != 0)
                test_fail(__FILE__, __LINE__, "forward %dx%dx%d relu %d differs", B, In, O, relu);
        }
        fill(dx1, nx, 25), fill(dx2, nx, 26); /* different junk: dx is overwritten */
        nn_gemm_dgrad(dx1, dy, w, B, In, O);
        nn_gemm_dgrad_portable(dx2, dy, w, B, In, O);
        if (memcmp(dx1, dx2, 4 * nx) != 0)
            test_fail(__FILE__, __LINE__, "dgrad %dx%dx%d differs", B, In, O);
        for (int overwrite = 0; overwrite <= 1; overwrite++) {
            fill(dw1, nw, 27), memcpy(dw2, dw1, 4 * nw);
            nn_gemm_wgrad(dw1, dy, x, B, In, O, overwrite);
            nn_gemm_wgrad_portable(dw2, dy, x, B, In, O, overwrite);
            if (memcmp(dw1, dw2, 4 * nw) != 0)
                test_fail(__FILE__, __LINE__, "wgrad %dx%dx%d overwrite %d differs", B, In, O,
                          overwrite);
        }
        /* and near the naive multiply-then-add kernels */
        nn_linear_forward_naive(y2, x, w, b, B, In, O);
        nn_gemm_forward(y1, pack, x, w, b, B, In, O, 0);
        CHECK(rel(y1, y2, ny) < 1e-5);
        free(x), free(w), free(b), free(dy), free(y1), free(y2), free(dx1), free(dx2), free(dw1);
        free(dw2), free(pack);
    }
}

/* prism_nn_backward_into (the gradients written, not cleared and accumulated) gives the bits of
 * prism_nn_zero_grad + prism_nn_backward, whatever the gradients held before, for every kind of
 * layer: plain, noisy (and noisy in eval mode, where sigma gets a zero gradient), dueling C51,
 * conv, LayerNorm, the implicit quantile embedding (dueling); naive and fast kernels. */
TEST(nn_backward_into_equals_zero_grad_then_backward) {
    enum { T = 3 };
    prism_nn_config cfgs[6] = {
        prism_nn_config_mlp(4, 2, 64, 48),      prism_nn_config_mlp(8, 4, 40, 24),
        prism_nn_config_mlp(6, 3, 32, 0),       prism_nn_config_minatar(5, 5, 2, 8, 3),
        prism_nn_config_minatar(6, 6, 3, 8, 4), prism_nn_config_mlp(4, 3, 16, 12)};
    cfgs[1].noisy = 1, cfgs[1].noisy_sigma0 = 0.5f, cfgs[1].dueling = 1, cfgs[1].n_atoms = 11;
    cfgs[1].v_min = -5, cfgs[1].v_max = 5;
    cfgs[2].layer_norm = 1, cfgs[2].layer_norm_eps = 1e-5f;
    cfgs[3].layer_norm = 1, cfgs[3].layer_norm_eps = 1e-5f; /* LayerNorm excludes noisy */
    cfgs[4].noisy = 1, cfgs[4].noisy_sigma0 = 0.5f, cfgs[4].dueling = 1;
    cfgs[5].quantile_embedding_dim = 8, cfgs[5].dueling = 1;
    for (int k = 0; k < 6; k++)
        for (int mode = 0; mode < 3; mode++) { /* fast, naive, fast in eval mode */
            enum { B = 9 };
            prism_nn net;
            const int implicit = cfgs[k].quantile_embedding_dim > 0;
            if (prism_nn_init_taus(&net, &cfgs[k], B, implicit ? T : 1, 11 + (uint64_t)k) !=
                PRISM_OK) {
                test_fail(__FILE__, __LINE__, "config %d: %s", k, prism_error_message());
                return;
            }
            float taus[B * T];
            fill(taus, B * T, 70);
            for (int i = 0; i < B * T; i++) taus[i] = 0.5f + 0.45f * taus[i];
            if (implicit) prism_nn_set_taus(&net, taus, T);
            prism_nn_set_naive(&net, mode == 1);
            prism_nn_set_eval(&net, mode == 2);
            const size_t in = (size_t)prism_nn_config_in_size(&cfgs[k]);
            const size_t out = (size_t)prism_nn_config_out_size(&cfgs[k]) * (implicit ? T : 1);
            float *x = malloc(4 * in * B), *dout = malloc(4 * out * B);
            float *ref = malloc(4 * net.n_params);
            fill(x, in * B, 40 + (uint64_t)k), fill(dout, out * B, 50 + (uint64_t)k);
            prism_nn_forward(&net, x, B);
            prism_nn_zero_grad(&net);
            prism_nn_backward(&net, dout, B);
            memcpy(ref, net.grads, 4 * net.n_params);
            fill(net.grads, net.n_params, 60); /* junk: every gradient must be written */
            prism_nn_backward_into(&net, dout, B);
            if (memcmp(ref, net.grads, 4 * net.n_params) != 0)
                test_fail(__FILE__, __LINE__, "config %d mode %d: gradients differ", k, mode);
            free(x), free(dout), free(ref);
            prism_nn_free(&net);
        }
}
