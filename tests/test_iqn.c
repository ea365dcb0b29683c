/* Tests for the implicit quantile embedding of the network engine (IQN; its finite-difference
 * gradient checks are test_nn.c's): the fast kernels against the naive ones, the forward
 * and gradients against the PyTorch fixture of tests/ref/iqn_ref.py, one batched forward of
 * B*T rows against T forwards of one fraction each, the file format's round trip, and M-IQN's
 * target against the same fixture. */
#include "../src/agent/agent_internal.h"
#include "harness.h"
#include "prism/nn.h"
#include "ref_file.h"

#include <stdlib.h>
#include <string.h>

static void fill(float *x, size_t n, uint64_t seed, float lo, float hi) {
    prism_rng r;
    prism_rng_seed(&r, seed, 98);
    for (size_t i = 0; i < n; i++) x[i] = (float)prism_rng_range(&r, (double)lo, (double)hi);
}

static prism_nn_config embed_config(int E) {
    prism_nn_config c = prism_nn_config_mlp(4, 3, 16, 12);
    c.quantile_embedding_dim = E;
    return c;
}

/* Outputs and gradients of the fast kernels against the naive ones, at a training shape. */
TEST(iqn_embedding_fast_matches_naive) {
    enum { B = 8, T = 16 };
    prism_nn_config c = embed_config(64);
    c.dueling = 1;
    prism_nn fast, naive;
    REQUIRE(prism_nn_init_taus(&fast, &c, B, T, 11) == PRISM_OK);
    REQUIRE(prism_nn_init_taus(&naive, &c, B, T, 11) == PRISM_OK);
    prism_nn_set_naive(&naive, 1);
    float x[B * 4], taus[B * T], dout[B * T * 3];
    fill(x, B * 4, 1, -1, 1), fill(taus, B * T, 2, 0, 1), fill(dout, B * T * 3, 3, -1, 1);
    prism_nn_set_taus(&fast, taus, T);
    prism_nn_set_taus(&naive, taus, T);
    CHECK(prism_nn_rows(&fast, B) == B * T);
    const float *of = prism_nn_forward(&fast, x, B), *on = prism_nn_forward(&naive, x, B);
    double worst = 0;
    for (int i = 0; i < B * T * 3; i++) worst = fmax(worst, fabs((double)of[i] - (double)on[i]));
    CHECK(worst < 1e-5);
    prism_nn_zero_grad(&fast), prism_nn_zero_grad(&naive);
    prism_nn_backward(&fast, dout, B), prism_nn_backward(&naive, dout, B);
    worst = 0;
    for (size_t i = 0; i < fast.n_params; i++)
        worst = fmax(worst, fabs((double)fast.grads[i] - (double)naive.grads[i]));
    CHECK(worst < 1e-4);
    prism_nn_free(&fast), prism_nn_free(&naive);
}

/* One forward of B samples at T fractions each gives, row for row, what T forwards of one
 * fraction per sample give: the batched product is the same function. */
TEST(iqn_embedding_batched_rows_match_single_fractions) {
    enum { B = 5, T = 7 };
    prism_nn_config c = embed_config(16);
    prism_nn net;
    REQUIRE(prism_nn_init_taus(&net, &c, B, T, 13) == PRISM_OK);
    prism_nn_set_naive(&net, 1); /* the same kernels for every row count */
    float x[B * 4], taus[B * T], one[B], all[B * T * 3];
    fill(x, B * 4, 6, -1, 1), fill(taus, B * T, 7, 0, 1);
    prism_nn_set_taus(&net, taus, T);
    memcpy(all, prism_nn_forward(&net, x, B), sizeof all);
    double worst = 0;
    for (int t = 0; t < T; t++) {
        for (int b = 0; b < B; b++) one[b] = taus[b * T + t];
        prism_nn_set_taus(&net, one, 1);
        const float *o = prism_nn_forward(&net, x, B);
        for (int b = 0; b < B; b++)
            for (int a = 0; a < 3; a++)
                worst = fmax(worst, fabs((double)o[b * 3 + a] - (double)all[(b * T + t) * 3 + a]));
    }
    CHECK(worst == 0.0);
    /* and prism_nn_q is the mean over the T rows of each sample */
    float q[B * 3];
    prism_nn_set_taus(&net, taus, T);
    prism_nn_q(&net, x, B, q);
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int t = 0; t < T; t++) s += (double)all[(b * T + t) * 3 + 1];
        CHECK_NEAR(q[b * 3 + 1], s / T, 1e-6);
    }
    prism_nn_free(&net);
}

TEST(iqn_embedding_matches_pytorch) {
    ref_file r;
    REQUIRE(ref_load(&r, "tests/ref/iqn.bin"));
    const float *dims = ref_get(&r, "iqn.dims", 6);
    REQUIRE(dims);
    const int B = (int)dims[0], T = (int)dims[1], D = (int)dims[2], K = (int)dims[3];
    const int E = (int)dims[4], A = (int)dims[5];
    prism_nn_config c = prism_nn_config_mlp(D, A, K, 0);
    c.quantile_embedding_dim = E;
    c.dueling = 1;
    prism_nn net;
    REQUIRE(prism_nn_init_taus(&net, &c, B, T, 1) == PRISM_OK);
    const float *params = ref_get(&r, "iqn.params", (uint32_t)net.n_params);
    const float *x = ref_get(&r, "iqn.x", (uint32_t)(B * D));
    const float *taus = ref_get(&r, "iqn.taus", (uint32_t)(B * T));
    const float *probe = ref_get(&r, "iqn.probe", (uint32_t)(B * T * A));
    const float *out = ref_get(&r, "iqn.out", (uint32_t)(B * T * A));
    const float *grads = ref_get(&r, "iqn.grads", (uint32_t)net.n_params);
    REQUIRE(params && x && taus && probe && out && grads);
    memcpy(net.params, params, sizeof(float) * net.n_params);
    for (int naive = 0; naive <= 1; naive++) {
        prism_nn_set_naive(&net, naive);
        prism_nn_set_taus(&net, taus, T);
        const float *o = prism_nn_forward(&net, x, B);
        for (int i = 0; i < B * T * A; i++) CHECK_NEAR(o[i], out[i], 2e-6);
        prism_nn_zero_grad(&net);
        prism_nn_backward(&net, probe, B);
        for (size_t i = 0; i < net.n_params; i++) CHECK_NEAR(net.grads[i], grads[i], 1e-5);
    }
    prism_nn_free(&net);
    ref_free(&r);
}

TEST(iqn_embedding_save_load_round_trip) {
    prism_nn_config c = embed_config(8);
    prism_nn a, b, other;
    REQUIRE(prism_nn_init_taus(&a, &c, 2, 3, 21) == PRISM_OK);
    REQUIRE(prism_nn_init_taus(&b, &c, 2, 3, 22) == PRISM_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/iqn.nn", test_tmpdir());
    REQUIRE(prism_nn_save(&a, NULL, path) == PRISM_OK);
    REQUIRE(prism_nn_load(&b, NULL, path) == PRISM_OK);
    CHECK(memcmp(a.params, b.params, sizeof(float) * a.n_params) == 0);
    /* another embedding width is another network: refused, with the config word named */
    c.quantile_embedding_dim = 9;
    REQUIRE(prism_nn_init_taus(&other, &c, 2, 3, 21) == PRISM_OK);
    CHECK(prism_nn_load(&other, NULL, path) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "config word 26") != NULL);
    prism_nn_free(&a), prism_nn_free(&b), prism_nn_free(&other);
}

TEST(iqn_embedding_config_is_checked) {
    prism_nn_config c = embed_config(8);
    c.n_atoms = 5, c.v_min = -1, c.v_max = 1;
    CHECK(prism_nn_config_check(&c) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "n_atoms") != NULL);
    prism_nn net;
    prism_nn_config plain = prism_nn_config_mlp(4, 2, 8, 0);
    CHECK(prism_nn_init_taus(&net, &plain, 4, 2, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "max_taus") != NULL);
}

/* The largest difference between M-IQN's targets with the policy softmax(Q / temp) and the
 * PyTorch fixture's (temp = tau). */
static double munchausen_quantile_error(double temp) {
    ref_file r;
    if (!ref_load(&r, "tests/ref/iqn.bin")) return INFINITY;
    double err = INFINITY;
    const float *dims = ref_get(&r, "mi.dims", 6);
    if (dims) {
        const int B = (int)dims[0], A = (int)dims[1], M = (int)dims[2];
        const float *q_obs = ref_get(&r, "mi.q_obs", (uint32_t)(B * A));
        const float *q_next = ref_get(&r, "mi.q_next", (uint32_t)(B * A));
        const float *theta = ref_get(&r, "mi.theta", (uint32_t)(B * M * A));
        const float *actions = ref_get(&r, "mi.actions", (uint32_t)B);
        const float *returns = ref_get(&r, "mi.returns", (uint32_t)B);
        const float *discounts = ref_get(&r, "mi.discounts", (uint32_t)B);
        const float *want = ref_get(&r, "mi.targets", (uint32_t)(B * M));
        if (q_obs && q_next && theta && actions && returns && discounts && want && B <= 8 &&
            M <= 8) {
            int32_t a[8];
            float got[64];
            for (int i = 0; i < B; i++) a[i] = (int32_t)actions[i];
            munchausen_quantile_targets_temp(q_obs, q_next, theta, a, returns, discounts, B, A, M,
                                             (double)dims[3], temp * (double)dims[3],
                                             (double)dims[4], (double)dims[5], got);
            err = 0;
            for (int i = 0; i < B * M; i++) err = fmax(err, fabs((double)got[i] - (double)want[i]));
        }
    }
    ref_free(&r);
    return err;
}

TEST(munchausen_quantile_targets_match_pytorch_and_catch_a_missing_inverse_tau) {
    CHECK(munchausen_quantile_error(1.0) < 2e-6);
    /* softmax(Q) instead of softmax(Q / tau): the mutation the tests must catch */
    CHECK(munchausen_quantile_error(1.0 / 0.03) > 1e-2);
}
