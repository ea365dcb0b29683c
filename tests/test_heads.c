/* Tests for the quantile head's loss and the Munchausen target: the quantile Huber loss and its
 * gradient against hand-computed values and central finite differences, both against the
 * PyTorch fixture of tests/ref/heads_ref.py, and the deliberate Munchausen bug (a missing 1/tau
 * in the policy softmax) caught by that fixture. */
#include "../src/agent/agent_internal.h"
#include "harness.h"
#include "prism/nn.h"
#include "ref_file.h"

#include <string.h>

/* pred (0, 1) at taus (1/4, 3/4), targets (0.5, 3), kappa 1, weight 2:
 *   theta_0 = 0: u = 0.5 (quadratic, weight 1/4): 0.03125; u = 3 (linear: 3 - 1/2, weight 1/4):
 *                0.625;  d/dtheta_0 = -(1/4 * 0.5 + 1/4 * 1) / 2 = -0.1875
 *   theta_1 = 1: u = -0.5 (over-estimate, weight 1 - 3/4): 0.03125; u = 2 (weight 3/4): 1.125;
 *                d/dtheta_1 = -(1/4 * -0.5 + 3/4 * 1) / 2 = -0.3125
 *   l = (0.65625 + 1.15625) / 2 = 0.90625; the batch loss is w l = 1.8125, the gradient w times. */
TEST(quantile_loss_matches_hand_computed_values) {
    const float pred[2] = {0, 1}, taus[2] = {0.25f, 0.75f}, targets[2] = {0.5f, 3}, w[1] = {2};
    float losses[1], d[2];
    double loss = prism_nn_loss_quantile(pred, taus, targets, w, 1, 2, 2, 1.0f, losses, d);
    CHECK_NEAR(loss, 1.8125, 1e-12);
    CHECK_NEAR(losses[0], 0.90625, 1e-7);
    CHECK_NEAR(d[0], 2 * -0.1875, 1e-7);
    CHECK_NEAR(d[1], 2 * -0.3125, 1e-7);
    /* the reversed indicator (the doctor's mutation) weights the two sides the other way */
    const float reversed[2] = {0.75f, 0.25f};
    prism_nn_loss_quantile(pred, reversed, targets, NULL, 1, 2, 2, 1.0f, losses, d);
    CHECK(fabs((double)losses[0] - 0.90625) > 0.1);
}

TEST(quantile_loss_gradient_matches_finite_differences) {
    enum { B = 3, N = 5, M = 7 };
    float pred[B * N], taus[B * N], targets[B * M], w[B] = {1.0f, 0.5f, 0.25f}, d[B * N];
    prism_rng rng;
    prism_rng_seed(&rng, 16, 0);
    for (int i = 0; i < B * N; i++) {
        pred[i] = (float)(4 * prism_rng_uniform(&rng) - 2);
        taus[i] = (float)prism_rng_uniform(&rng);
    }
    for (int i = 0; i < B * M; i++) targets[i] = (float)(4 * prism_rng_uniform(&rng) - 2);
    const float kappa = 0.7f;
    prism_nn_loss_quantile(pred, taus, targets, w, B, N, M, kappa, NULL, d);
    /* The loss is piecewise quadratic in each theta: a step of h = 1e-3 is exact for the central
     * difference unless it crosses a kink (u = 0 or |u| = kappa), skipped like gradcheck's. */
    const float h = 1e-3f;
    int checked = 0;
    for (int i = 0; i < B * N; i++) {
        int b = i / N;
        bool kink = false;
        for (int j = 0; j < M; j++) {
            double u = (double)targets[b * M + j] - (double)pred[i];
            kink |= fabs(u) < 2.0 * (double)h || fabs(fabs(u) - (double)kappa) < 2.0 * (double)h;
        }
        if (kink) continue;
        float keep = pred[i];
        pred[i] = keep + h;
        double up = prism_nn_loss_quantile(pred, taus, targets, w, B, N, M, kappa, NULL, NULL);
        pred[i] = keep - h;
        double down = prism_nn_loss_quantile(pred, taus, targets, w, B, N, M, kappa, NULL, NULL);
        pred[i] = keep;
        /* (float)(keep +- h) is not exactly keep +- h: divide by the real step */
        double step = (double)(keep + h) - (double)(keep - h);
        CHECK_NEAR(d[i], (up - down) / step, 1e-5);
        checked++;
    }
    CHECK(checked >= B * N / 2);
}

TEST(quantile_loss_matches_pytorch) {
    ref_file r;
    REQUIRE(ref_load(&r, "tests/ref/heads.bin"));
    const float *dims = ref_get(&r, "q.dims", 4);
    REQUIRE(dims);
    const int B = (int)dims[0], N = (int)dims[1], M = (int)dims[2];
    const float *pred = ref_get(&r, "q.pred", (uint32_t)(B * N));
    const float *taus = ref_get(&r, "q.taus", (uint32_t)(B * N));
    const float *targets = ref_get(&r, "q.targets", (uint32_t)(B * M));
    const float *w = ref_get(&r, "q.weights", (uint32_t)B);
    const float *loss = ref_get(&r, "q.loss", 1), *losses = ref_get(&r, "q.losses", (uint32_t)B);
    const float *dpred = ref_get(&r, "q.dpred", (uint32_t)(B * N));
    REQUIRE(pred && taus && targets && w && loss && losses && dpred && B <= 8 && N <= 8);
    float my_losses[8], d[64];
    double l = prism_nn_loss_quantile(pred, taus, targets, w, B, N, M, dims[3], my_losses, d);
    CHECK_NEAR(l, loss[0], 1e-6 * fabs((double)loss[0]));
    for (int b = 0; b < B; b++) CHECK_NEAR(my_losses[b], losses[b], 1e-6);
    for (int i = 0; i < B * N; i++) CHECK_NEAR(d[i], dpred[i], 1e-7);
    ref_free(&r);
}

/* The fixture's Munchausen case, computed with the policy softmax(Q / temp). */
static double munchausen_error(double temp_factor) {
    ref_file r;
    if (!ref_load(&r, "tests/ref/heads.bin")) {
        test_fail(__FILE__, __LINE__, "tests/ref/heads.bin cannot be read");
        return INFINITY;
    }
    const float *dims = ref_get(&r, "m.dims", 5);
    double err = INFINITY;
    if (dims && dims[0] <= 16 && dims[1] <= 4) {
        const int B = (int)dims[0], A = (int)dims[1];
        const float *q_obs = ref_get(&r, "m.q_obs", (uint32_t)(B * A));
        const float *q_next = ref_get(&r, "m.q_next", (uint32_t)(B * A));
        const float *actions = ref_get(&r, "m.actions", (uint32_t)B);
        const float *ret = ref_get(&r, "m.returns", (uint32_t)B);
        const float *disc = ref_get(&r, "m.discounts", (uint32_t)B);
        const float *want = ref_get(&r, "m.targets", (uint32_t)B);
        if (q_obs && q_next && actions && ret && disc && want) {
            int32_t a[16];
            float y[16];
            for (int b = 0; b < B; b++) a[b] = (int32_t)actions[b];
            const double tau = dims[2];
            munchausen_targets_temp(q_obs, q_next, a, ret, disc, B, A, tau, tau * temp_factor,
                                    dims[3], dims[4], y);
            err = 0;
            for (int b = 0; b < B; b++) {
                double e = fabs((double)y[b] - (double)want[b]);
                err = e > err ? e : err;
            }
            if (temp_factor == 1.0) { /* the public entry point is the same rule */
                float y2[16];
                prism_agent_munchausen_targets(q_obs, q_next, a, ret, disc, B, A, tau, dims[3],
                                               dims[4], y2);
                CHECK(memcmp(y, y2, sizeof(float) * (size_t)B) == 0);
            }
        }
    }
    ref_free(&r);
    return err;
}

TEST(munchausen_targets_match_pytorch_and_catch_a_missing_inverse_tau) {
    CHECK(munchausen_error(1.0) < 2e-6);
    /* softmax(Q) instead of softmax(Q / tau): the mutation the tests must catch */
    CHECK(munchausen_error(1.0 / 0.03) > 1e-2);
}
