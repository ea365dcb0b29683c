/* Tests for nn/: finite-difference gradient checks of every layer, head and loss; fast against
 * naive kernels; the C51 projection on hand-computed cases; optimizer rules on hand-computed
 * steps; save/load round trips and rejection of bad files; determinism; thread independence.
 * The PyTorch reference tests are in test_nn_ref.c. */
#include "harness.h"
#include "prism/nn.h"
#include "../src/nn/nn_internal.h"

#include <stdlib.h>
#include <string.h>

static void fill(float *x, size_t n, uint64_t seed, float lo, float hi) {
    prism_rng r;
    prism_rng_seed(&r, seed, 99);
    for (size_t i = 0; i < n; i++) x[i] = (float)prism_rng_range(&r, (double)lo, (double)hi);
}

/* A gradient check of one config at batch B and, with the quantile embedding, T fractions per
 * sample; both kernel sets. */
static void gradcheck_taus(const char *label, prism_nn_config cfg, int B, int T, int eval) {
    for (int naive = 0; naive <= 1; naive++) {
        prism_nn net;
        REQUIRE(prism_nn_init_taus(&net, &cfg, B, T, 7) == PRISM_OK);
        float *taus = malloc(sizeof(float) * (size_t)B * (size_t)T);
        fill(taus, (size_t)B * (size_t)T, 4, 0.0f, 1.0f);
        if (cfg.quantile_embedding_dim > 0) prism_nn_set_taus(&net, taus, T);
        prism_nn_set_naive(&net, naive);
        prism_nn_set_eval(&net, eval);
        /* LayerNorm starts as the identity (g = 1, b = 0): move it off, or a gradient that
         * forgot g would still pass */
        for (int t = 0; t < net.n_tensors; t++)
            if (strstr(net.tensors[t].name, ".ln.")) {
                float *p = net.params + net.tensors[t].offset;
                fill(p, net.tensors[t].len, (uint64_t)t, 0.5f, 1.5f);
            }
        float *x = malloc(sizeof(float) * (size_t)B * (size_t)net.in_size);
        fill(x, (size_t)B * (size_t)net.in_size, 3, -1.0f, 1.0f);
        prism_rng rng;
        prism_rng_seed(&rng, 5, 0);
        prism_nn_gradcheck_result res;
        REQUIRE(prism_nn_gradcheck(&net, x, B, NULL, 1e-3, 40, &rng, &res) == PRISM_OK);
        if (!(res.max_rel_err < 1e-4) || res.checked < 20)
            test_fail(__FILE__, __LINE__,
                      "%s (naive %d): max rel err %.3g (abs %.3g) at %s; checked %d, skipped %d",
                      label, naive, res.max_rel_err, res.max_abs_err, res.worst, res.checked,
                      res.skipped_kinks);
        /* Most parameters must have been checked: skipping is for the rare kink only. */
        CHECK(res.skipped_kinks * 4 < res.checked);
        free(x), free(taus);
        prism_nn_free(&net);
    }
}

static void gradcheck_config(const char *label, prism_nn_config cfg, int B, int eval) {
    gradcheck_taus(label, cfg, B, 1, eval);
}

/* The implicit quantile embedding (IQN) wherever it can sit: after hidden layers, after the conv,
 * or on the input itself (which needs no gradient). */
TEST(nn_gradcheck_quantile_embedding) {
    prism_nn_config c = prism_nn_config_mlp(4, 3, 16, 12);
    c.quantile_embedding_dim = 8;
    gradcheck_taus("embedding", c, 3, 5, 0);
    c.dueling = 1;
    gradcheck_taus("embedding dueling", c, 2, 4, 0);
    c.noisy = 1, c.noisy_sigma0 = 0.5f;
    gradcheck_taus("embedding dueling noisy", c, 2, 4, 0);
    prism_nn_config conv = prism_nn_config_minatar(4, 4, 2, 3, 3);
    conv.quantile_embedding_dim = 6;
    gradcheck_taus("embedding conv", conv, 2, 3, 0);
    prism_nn_config lin = prism_nn_config_mlp(5, 2, 0, 0);
    lin.quantile_embedding_dim = 4;
    gradcheck_taus("embedding input", lin, 3, 2, 0);
}

TEST(nn_gradcheck_mlp) {
    prism_nn_config c = prism_nn_config_mlp(5, 3, 16, 12);
    gradcheck_config("mlp", c, 6, 0);
}

TEST(nn_gradcheck_mlp_no_hidden_and_initialisers) {
    prism_nn_config c = prism_nn_config_mlp(5, 4, 0, 0);
    c.init = PRISM_NN_INIT_GLOROT_UNIFORM;
    gradcheck_config("linear", c, 3, 0);
    c = prism_nn_config_mlp(5, 4, 9, 0);
    c.init = PRISM_NN_INIT_VS_FAN_IN;
    c.init_scale = 0.5773503f;
    gradcheck_config("vs_fan_in", c, 3, 0);
}

TEST(nn_gradcheck_dueling_scalar) {
    prism_nn_config c = prism_nn_config_mlp(4, 5, 16, 16);
    c.dueling = 1;
    gradcheck_config("dueling", c, 5, 0);
}

TEST(nn_gradcheck_c51_dueling_noisy) {
    prism_nn_config c = prism_nn_config_mlp(4, 3, 16, 10);
    c.n_atoms = 7, c.v_min = -5, c.v_max = 5;
    gradcheck_config("c51", c, 4, 0);
    c.dueling = 1;
    gradcheck_config("c51 dueling", c, 4, 0);
    c.noisy = 1, c.noisy_sigma0 = 0.5f; /* large sigma: the noise term must carry gradient */
    gradcheck_config("c51 dueling noisy", c, 4, 0);
    gradcheck_config("c51 dueling noisy eval", c, 4, 1);
}

TEST(nn_gradcheck_noisy_scalar) {
    prism_nn_config c = prism_nn_config_mlp(6, 2, 12, 0);
    c.noisy = 1, c.noisy_sigma0 = 0.5f;
    gradcheck_config("noisy", c, 4, 0);
}

TEST(nn_gradcheck_conv_same_and_valid) {
    prism_nn_config c = prism_nn_config_minatar(5, 4, 3, 4, 3);
    gradcheck_config("conv same", c, 3, 0);
    c.conv_padding = PRISM_NN_PAD_VALID;
    gradcheck_config("conv valid", c, 3, 0);
    c.n_hidden = 1, c.hidden[0] = 8, c.dueling = 1;
    gradcheck_config("conv valid hidden dueling", c, 3, 0);
    c.noisy = 1, c.noisy_sigma0 = 0.3f, c.n_atoms = 5, c.v_min = -1, c.v_max = 2;
    gradcheck_config("conv rainbow", c, 2, 0);
}

TEST(nn_gradcheck_layer_norm_mlp_and_conv) {
    prism_nn_config c = prism_nn_config_mlp(5, 3, 16, 12);
    c.layer_norm = 1, c.layer_norm_eps = 1e-5f;
    gradcheck_config("layer-norm mlp", c, 6, 0);
    c = prism_nn_config_minatar(6, 5, 3, 4, 3);
    c.conv_padding = PRISM_NN_PAD_VALID, c.n_hidden = 1, c.hidden[0] = 10;
    c.layer_norm = 1, c.layer_norm_eps = 1e-5f;
    gradcheck_config("layer-norm conv", c, 3, 0);
}

/* The double-precision forward the gradient check relies on agrees with the float forward, and
 * is sensitive to the parameters (a check that compared two constants would pass vacuously). */
TEST(nn_forward_f64_matches_float_forward) {
    prism_nn_config c = prism_nn_config_minatar(5, 5, 2, 3, 2);
    c.n_hidden = 1, c.hidden[0] = 8, c.dueling = 1, c.noisy = 1, c.noisy_sigma0 = 0.4f;
    c.n_atoms = 3, c.v_min = -1, c.v_max = 1;
    prism_nn net;
    REQUIRE(prism_nn_init(&net, &c, 4, 1) == PRISM_OK);
    float x[4 * 50];
    fill(x, 4 * 50, 1, -1, 1);
    double out[24];
    REQUIRE(prism_nn_forward_f64(&net, x, 4, out) == PRISM_OK);
    const float *o = prism_nn_forward(&net, x, 4);
    for (int i = 0; i < 24; i++) CHECK_NEAR(o[i], out[i], 1e-5);
    net.params[net.tensors[0].offset] += 0.5f;
    REQUIRE(prism_nn_forward_f64(&net, x, 4, out) == PRISM_OK);
    int differs = 0;
    for (int i = 0; i < 24; i++) differs += fabs((double)o[i] - out[i]) > 1e-3;
    CHECK(differs > 0);
    prism_nn_free(&net);
}

/* ---- fast vs naive -------------------------------------------------------------------------- */

static double max_rel_diff(const float *a, const float *b, size_t n) {
    double mx = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        mx = fabs((double)b[i]) > mx ? fabs((double)b[i]) : mx;
        double e = fabs((double)a[i] - (double)b[i]);
        d = e > d ? e : d;
    }
    return d / (mx > 0 ? mx : 1);
}

static void fast_vs_naive(const char *label, prism_nn_config cfg, int B) {
    prism_nn a, b;
    REQUIRE(prism_nn_init(&a, &cfg, B, 11) == PRISM_OK);
    REQUIRE(prism_nn_init(&b, &cfg, B, 11) == PRISM_OK);
    prism_nn_set_naive(&b, 1);
    size_t nx = (size_t)B * (size_t)a.in_size, no = (size_t)B * (size_t)a.out_size;
    float *x = malloc(sizeof(float) * nx), *d = malloc(sizeof(float) * no);
    fill(x, nx, 2, -1, 1);
    fill(d, no, 4, -1, 1);
    for (int bb = 1; bb <= B; bb = bb * 2 + 1) {
        /* Errors relative to the largest magnitude in the array: the two kernels sum in a
         * different order, so each element differs by float rounding of its terms. */
        const float *oa = prism_nn_forward(&a, x, bb), *ob = prism_nn_forward(&b, x, bb);
        double worst = max_rel_diff(oa, ob, (size_t)bb * (size_t)a.out_size);
        prism_nn_zero_grad(&a), prism_nn_zero_grad(&b);
        prism_nn_backward(&a, d, bb), prism_nn_backward(&b, d, bb);
        double wg = max_rel_diff(a.grads, b.grads, a.n_params);
        worst = wg > worst ? wg : worst;
        if (!(worst < 1e-5))
            test_fail(__FILE__, __LINE__, "%s batch %d: fast vs naive differ by %.3g", label, bb,
                      worst);
    }
    free(x), free(d);
    prism_nn_free(&a), prism_nn_free(&b);
}

TEST(nn_fast_kernels_match_naive) {
    fast_vs_naive("mlp 4-64-64-2", prism_nn_config_mlp(4, 2, 64, 64), 40);
    fast_vs_naive("mlp 7-33-20", prism_nn_config_mlp(7, 20, 33, 0), 17);
    prism_nn_config c = prism_nn_config_mlp(4, 3, 32, 32);
    c.n_atoms = 11, c.v_min = -10, c.v_max = 10, c.dueling = 1, c.noisy = 1, c.noisy_sigma0 = .1f;
    fast_vs_naive("rainbow mlp", c, 33);
    fast_vs_naive("minatar", prism_nn_config_minatar(10, 10, 4, 16, 6), 9);
    c = prism_nn_config_minatar(6, 7, 3, 5, 4);
    c.conv_padding = PRISM_NN_PAD_VALID, c.n_hidden = 1, c.hidden[0] = 24;
    fast_vs_naive("conv valid", c, 9);
}

TEST(nn_fast_kernels_match_naive_with_layer_norm) {
    prism_nn_config c = prism_nn_config_mlp(4, 2, 120, 84);
    c.layer_norm = 1, c.layer_norm_eps = 1e-5f;
    fast_vs_naive("layer-norm mlp 4-120-84-2", c, 37);
    c = prism_nn_config_minatar(10, 10, 4, 16, 6);
    c.conv_padding = PRISM_NN_PAD_VALID, c.n_hidden = 1, c.hidden[0] = 128;
    c.layer_norm = 1, c.layer_norm_eps = 1e-5f;
    fast_vs_naive("layer-norm minatar", c, 9);
}

TEST(nn_batch_rows_are_independent_and_act_is_argmax) {
    prism_nn_config c = prism_nn_config_mlp(4, 5, 32, 32);
    prism_nn net;
    REQUIRE(prism_nn_init(&net, &c, 16, 3) == PRISM_OK);
    float x[64], q[80];
    fill(x, 64, 9, -1, 1);
    const float *o = prism_nn_forward(&net, x, 16);
    memcpy(q, o, sizeof q);
    for (int b = 0; b < 16; b++) {
        float q1[5];
        prism_nn_q(&net, x + 4 * b, 1, q1);
        int best = 0;
        for (int a = 0; a < 5; a++) {
            /* batch 1 takes the dot-product path, batch 16 sgemm: equal up to rounding */
            CHECK_NEAR(q1[a], q[b * 5 + a], 1e-5);
            if (q[b * 5 + a] > q[b * 5 + best]) best = a;
        }
        CHECK_EQ_INT(prism_nn_act(&net, x + 4 * b), best);
    }
    prism_nn_free(&net);
}

/* ---- distributional helpers ------------------------------------------------------------------ */

TEST(nn_c51_projection_hand_cases) {
    /* Support -2 -1 0 1 2 (N 5, dz 1). */
    float p[5] = {0.1f, 0.2f, 0.3f, 0.25f, 0.15f}, m[5];
    /* Identity: r 0, discount 1. */
    float r = 0, g = 1;
    prism_nn_c51_project(m, p, &r, &g, 1, 5, -2, 2);
    for (int i = 0; i < 5; i++) CHECK_NEAR(m[i], p[i], 1e-7);
    /* Shift by one atom: r 1, discount 1: mass moves up, the top clips at v_max. */
    r = 1;
    prism_nn_c51_project(m, p, &r, &g, 1, 5, -2, 2);
    float want1[5] = {0, 0.1f, 0.2f, 0.3f, 0.4f};
    for (int i = 0; i < 5; i++) CHECK_NEAR(m[i], want1[i], 1e-7);
    /* Terminal: discount 0, r 0.25: all mass at 0.25 -> 0.75 on atom 0 (z=0), 0.25 on z=1. */
    r = 0.25f, g = 0;
    prism_nn_c51_project(m, p, &r, &g, 1, 5, -2, 2);
    float want2[5] = {0, 0, 0.75f, 0.25f, 0};
    for (int i = 0; i < 5; i++) CHECK_NEAR(m[i], want2[i], 1e-7);
    /* Terminal with a reward beyond the support: all on the edge atom. */
    r = -7, g = 0;
    prism_nn_c51_project(m, p, &r, &g, 1, 5, -2, 2);
    float want3[5] = {1, 0, 0, 0, 0};
    for (int i = 0; i < 5; i++) CHECK_NEAR(m[i], want3[i], 1e-7);
    /* n-step discount 0.5 (gamma^k), r 0.5: Tz = 0.5 + 0.5 z = -0.5, 0, 0.5, 1, 1.5.
     * -0.5 splits 0.1 half to z=-1, half to z=0; 0 -> z=0; 0.5: 0.3 split z=0/z=1;
     * 1 -> z=1; 1.5: 0.15 split z=1/z=2. */
    r = 0.5f, g = 0.5f;
    prism_nn_c51_project(m, p, &r, &g, 1, 5, -2, 2);
    float want4[5] = {0, 0.05f, 0.05f + 0.2f + 0.15f, 0.15f + 0.25f + 0.075f, 0.075f};
    for (int i = 0; i < 5; i++) CHECK_NEAR(m[i], want4[i], 1e-7);
    /* Mass at the edges with gamma 0.99: edge atoms shrink inward and split. */
    float pe[5] = {0.5f, 0, 0, 0, 0.5f};
    r = 0, g = 0.99f;
    prism_nn_c51_project(m, pe, &r, &g, 1, 5, -2, 2);
    /* -1.98 -> 0.98 on z=-2, 0.02 on z=-1 (x0.5); +1.98 mirror. */
    float want5[5] = {0.49f, 0.01f, 0, 0.01f, 0.49f};
    for (int i = 0; i < 5; i++) CHECK_NEAR(m[i], want5[i], 1e-6);
}

TEST(nn_c51_projection_matches_dense_formula_and_conserves_mass) {
    /* Against Dopamine's formulation: m_i = sum_j clip(1 - |clip(Tz_j) - z_i| / dz, 0, 1) p_j,
     * computed independently here in double, on random batches. */
    enum { B = 16, N = 51 };
    float p[B * N], r[B], g[B], m[B * N];
    fill(p, B * N, 1, 0, 1);
    for (int b = 0; b < B; b++) {
        float s = 0;
        for (int i = 0; i < N; i++) s += p[b * N + i];
        for (int i = 0; i < N; i++) p[b * N + i] /= s;
    }
    fill(r, B, 2, -30, 30);
    fill(g, B, 3, 0, 1);
    g[0] = 0, g[1] = 0.970299f; /* terminal; 0.99^3 */
    prism_nn_c51_project(m, p, r, g, B, N, -10, 10);
    double dz = 20.0 / (N - 1);
    for (int b = 0; b < B; b++) {
        double total = 0;
        for (int i = 0; i < N; i++) {
            double want = 0, zi = -10 + i * dz;
            for (int j = 0; j < N; j++) {
                double tz = (double)r[b] + (double)g[b] * (-10 + j * dz);
                tz = tz < -10 ? -10 : tz > 10 ? 10 : tz;
                double w = 1 - fabs(tz - zi) / dz;
                want += (w < 0 ? 0 : w > 1 ? 1 : w) * (double)p[b * N + j];
            }
            CHECK_NEAR(m[b * N + i], want, 1e-6);
            total += (double)m[b * N + i];
        }
        CHECK_NEAR(total, 1.0, 1e-5);
    }
}

TEST(nn_q_from_logits_and_softmax) {
    float l[6] = {0, 0, 0, 1, 2, 3}, q[2], p[6];
    prism_nn_q_from_logits(q, l, 2, 1, 3, -1, 1);
    CHECK_NEAR(q[0], 0.0, 1e-7);
    double e1 = exp(1), e2 = exp(2), e3 = exp(3);
    CHECK_NEAR(q[1], (-e1 + e3) / (e1 + e2 + e3), 1e-6);
    prism_nn_softmax(p, l, 2, 3);
    CHECK_NEAR(p[3], e1 / (e1 + e2 + e3), 1e-7);
    CHECK_NEAR(p[0] + p[1] + p[2], 1.0, 1e-7);
    /* the mean of a distribution, on the same support as q_from_logits */
    CHECK_NEAR(prism_nn_c51_mean(p + 3, 3, -1, 1), q[1], 1e-6);
    const float point[5] = {0, 0, 0, 1, 0};
    CHECK(prism_nn_c51_mean(point, 5, -10, 10) == 5.0); /* atom 3 of -10, -5, 0, 5, 10 */
}

/* ---- losses ------------------------------------------------------------------------------------
 */

typedef double (*qloss_fn)(const float *, const int32_t *, const float *, const float *, int, int,
                           float *, float *);

/* Finite differences of the returned mean loss w.r.t. each output, in double around float
 * inputs (the actual step after float rounding is used). */
static void check_qloss(qloss_fn fn, const char *name, int kind) {
    enum { B = 6, A = 3 };
    float q[B * A], t[B], w[B], loss[B], d[B * A], d2[B * A];
    int32_t a[B] = {0, 2, 1, 1, 0, 2};
    fill(q, B * A, 1, -2, 2);
    fill(w, B, 3, 0.2f, 1);
    /* targets: some within 1 of q (Huber quadratic), some far (linear); none near |d| = 1 */
    float off[B] = {0.3f, -0.6f, 2.5f, -3.0f, 0.05f, 1.7f};
    for (int b = 0; b < B; b++) t[b] = q[b * A + a[b]] - off[b];
    double L = fn(q, a, t, w, B, A, loss, d);
    double sum = 0;
    for (int b = 0; b < B; b++) {
        double dd = (double)off[b], want = kind == 1       ? dd * dd
                                           : fabs(dd) <= 1 ? 0.5 * dd * dd
                                                           : fabs(dd) - 0.5;
        if (fabs((double)loss[b] - want) > 1e-5)
            test_fail(__FILE__, __LINE__, "%s sample %d: loss %g, want %g", name, b,
                      (double)loss[b], want);
        sum += (double)w[b] * want;
    }
    CHECK_NEAR(L, sum / B, 1e-6);
    for (int i = 0; i < B * A; i++) {
        float keep = q[i];
        q[i] = keep + 1e-2f;
        double hp = (double)q[i] - (double)keep, lp = fn(q, a, t, w, B, A, NULL, d2);
        q[i] = keep - 1e-2f;
        double hm = (double)keep - (double)q[i], lm = fn(q, a, t, w, B, A, NULL, d2);
        q[i] = keep;
        double fd = (lp - lm) / (hp + hm);
        if (fabs(fd - (double)d[i]) > 1e-5 * (1 + fabs(fd)))
            test_fail(__FILE__, __LINE__, "%s d/dq[%d]: %g vs fd %g", name, i, (double)d[i], fd);
    }
    /* weights NULL means 1 */
    double L1 = fn(q, a, t, NULL, B, A, loss, d);
    double s1 = 0;
    for (int b = 0; b < B; b++) s1 += (double)loss[b];
    CHECK_NEAR(L1, s1 / B, 1e-6);
}

TEST(nn_loss_huber_and_mse) {
    check_qloss(prism_nn_loss_huber, "huber", 0);
    check_qloss(prism_nn_loss_mse, "mse", 1);
}

TEST(nn_loss_c51_cross_entropy) {
    enum { B = 4, A = 3, N = 7 };
    float l[B * A * N], t[B * N], w[B] = {1, 0.5f, 0.25f, 2}, loss[B], d[B * A * N], d2[B * A * N];
    int32_t a[B] = {2, 0, 1, 2};
    fill(l, B * A * N, 5, -3, 3);
    fill(t, B * N, 6, 0, 1);
    for (int b = 0; b < B; b++) {
        float s = 0;
        for (int i = 0; i < N; i++) s += t[b * N + i];
        for (int i = 0; i < N; i++) t[b * N + i] /= s;
    }
    double L = prism_nn_loss_c51(l, a, t, w, B, A, N, loss, d);
    double want_total = 0;
    for (int b = 0; b < B; b++) {
        const float *lb = l + (b * A + a[b]) * N;
        double s = 0, ce = 0;
        for (int i = 0; i < N; i++) s += exp((double)lb[i]);
        for (int i = 0; i < N; i++) ce -= (double)t[b * N + i] * log(exp((double)lb[i]) / s);
        CHECK_NEAR(loss[b], ce, 1e-5);
        want_total += (double)w[b] * ce;
    }
    CHECK_NEAR(L, want_total / B, 1e-6);
    for (int i = 0; i < B * A * N; i++) {
        float keep = l[i];
        l[i] = keep + 1e-2f;
        double hp = (double)l[i] - (double)keep,
               lp = prism_nn_loss_c51(l, a, t, w, B, A, N, NULL, d2);
        l[i] = keep - 1e-2f;
        double hm = (double)keep - (double)l[i],
               lm = prism_nn_loss_c51(l, a, t, w, B, A, N, NULL, d2);
        l[i] = keep;
        double fd = (lp - lm) / (hp + hm);
        if (fabs(fd - (double)d[i]) > 2e-5)
            test_fail(__FILE__, __LINE__, "c51 d/dl[%d]: %g vs fd %g", i, (double)d[i], fd);
    }
}

/* The head and the loss together: backward of loss(forward(x)) against finite differences of the
 * double forward followed by the same loss. Checks the chain the agent uses. */
TEST(nn_gradcheck_through_c51_loss) {
    prism_nn_config c = prism_nn_config_mlp(3, 2, 12, 0);
    c.n_atoms = 5, c.v_min = -2, c.v_max = 2, c.dueling = 1;
    enum { B = 3 };
    prism_nn net;
    REQUIRE(prism_nn_init(&net, &c, B, 2) == PRISM_OK);
    float x[B * 3], t[B * 5], d[B * 10], outf[B * 10];
    int32_t a[B] = {1, 0, 1};
    fill(x, B * 3, 8, -1, 1);
    fill(t, B * 5, 9, 0, 1);
    const float *o = prism_nn_forward(&net, x, B);
    prism_nn_loss_c51(o, a, t, NULL, B, 2, 5, NULL, d);
    /* d(loss)/d(out) as the probe: gradcheck then checks d(loss)/d(params) by the chain rule. */
    prism_rng rng;
    prism_rng_seed(&rng, 1, 1);
    prism_nn_gradcheck_result res;
    REQUIRE(prism_nn_gradcheck(&net, x, B, d, 1e-3, 30, &rng, &res) == PRISM_OK);
    CHECK(res.max_rel_err < 1e-4);
    /* and the loss FD directly on one weight of the head */
    size_t p = net.tensors[2].offset + 3; /* head.adv.w */
    double lp, lm, outd[B * 10];
    prism_nn_zero_grad(&net);
    o = prism_nn_forward(&net, x, B);
    prism_nn_loss_c51(o, a, t, NULL, B, 2, 5, NULL, d);
    prism_nn_backward(&net, d, B);
    float keep = net.params[p];
    net.params[p] = keep + 1e-2f;
    double hp = (double)net.params[p] - (double)keep;
    REQUIRE(prism_nn_forward_f64(&net, x, B, outd) == PRISM_OK);
    for (int i = 0; i < B * 10; i++) outf[i] = (float)outd[i];
    lp = prism_nn_loss_c51(outf, a, t, NULL, B, 2, 5, NULL, d);
    net.params[p] = keep - 1e-2f;
    double hm = (double)keep - (double)net.params[p];
    REQUIRE(prism_nn_forward_f64(&net, x, B, outd) == PRISM_OK);
    for (int i = 0; i < B * 10; i++) outf[i] = (float)outd[i];
    lm = prism_nn_loss_c51(outf, a, t, NULL, B, 2, 5, NULL, d);
    net.params[p] = keep;
    CHECK_NEAR(net.grads[p], (lp - lm) / (hp + hm), 1e-4);
    prism_nn_free(&net);
}

/* ---- optimizers ------------------------------------------------------------------------------ */

/* Two steps of each optimizer on two parameters, against the rules written out in double. */
TEST(nn_optimizers_follow_their_documented_rules) {
    const float g1[2] = {0.5f, -2.0f}, g2[2] = {-0.25f, 1.0f};
    for (int kind = 0; kind < 6; kind++) {
        prism_optim_config c;
        switch (kind) {
        case 0:
            c = prism_optim_config_sgd(0.1f);
            break;
        case 1:
            c = prism_optim_config_sgd(0.1f), c.momentum = 0.9f;
            break;
        case 2:
            c = prism_optim_config_adam(0.01f, 3.125e-4f);
            break;
        case 3:
            c = prism_optim_config_rmsprop_tf(0.01f, 1e-5f), c.momentum = 0.5f;
            break;
        case 4:
            c = prism_optim_config_rmsprop_torch(0.01f), c.centered = 1;
            break;
        default:
            c = prism_optim_config_rmsprop_torch(0.01f), c.momentum = 0.5f;
            break;
        }
        prism_optim o;
        REQUIRE(prism_optim_init(&o, &c, 2) == PRISM_OK);
        float p[2] = {1, -1}, g[2];
        double want[2], s1[2] = {0}, s2[2] = {0}, s3[2] = {0};
        for (int i = 0; i < 2; i++) want[i] = p[i];
        if (kind == 3) s1[0] = s1[1] = 1.0; /* TF1 ms starts at 1 */
        for (int t = 1; t <= 2; t++) {
            memcpy(g, t == 1 ? g1 : g2, sizeof g);
            for (int i = 0; i < 2; i++) {
                double gi = (double)g[i], lr = (double)c.lr, rho = (double)c.rho,
                       mu = (double)c.momentum, eps = (double)c.eps;
                switch (kind) {
                case 0:
                    want[i] -= lr * gi;
                    break;
                case 1:
                    s1[i] = mu * s1[i] + gi, want[i] -= lr * s1[i];
                    break;
                case 2:
                    s1[i] = 0.9 * s1[i] + 0.1 * gi, s2[i] = 0.999 * s2[i] + 0.001 * gi * gi;
                    want[i] -= lr * (s1[i] / (1 - pow(0.9, t))) /
                               (sqrt(s2[i] / (1 - pow(0.999, t))) + eps);
                    break;
                case 3: /* TF centered, momentum: eps inside the sqrt */
                    s1[i] = rho * s1[i] + (1 - rho) * gi * gi;
                    s2[i] = rho * s2[i] + (1 - rho) * gi;
                    s3[i] = mu * s3[i] + lr * gi / sqrt(s1[i] - s2[i] * s2[i] + eps);
                    want[i] -= s3[i];
                    break;
                case 4: /* torch centered: eps outside */
                    s1[i] = rho * s1[i] + (1 - rho) * gi * gi;
                    s2[i] = rho * s2[i] + (1 - rho) * gi;
                    want[i] -= lr * gi / (sqrt(s1[i] - s2[i] * s2[i]) + eps);
                    break;
                default: /* torch momentum */
                    s1[i] = rho * s1[i] + (1 - rho) * gi * gi;
                    s3[i] = mu * s3[i] + gi / (sqrt(s1[i]) + eps);
                    want[i] -= lr * s3[i];
                    break;
                }
            }
            double norm = prism_optim_step(&o, p, g);
            CHECK_NEAR(norm, t == 1 ? sqrt(4.25) : sqrt(1.0625), 1e-6);
        }
        for (int i = 0; i < 2; i++)
            if (fabs((double)p[i] - want[i]) > 1e-6 * (1 + fabs(want[i])))
                test_fail(__FILE__, __LINE__, "optimizer case %d param %d: %.9g, want %.9g", kind,
                          i, (double)p[i], want[i]);
        CHECK_EQ_INT(o.step, 2);
        prism_optim_free(&o);
    }
}

/* The vectorised loops (8 at a time) must give the same bits as the scalar tail: run 19
 * parameters at once and each parameter alone. */
TEST(nn_optimizer_vector_and_scalar_paths_agree) {
    prism_optim_config cs[3] = {prism_optim_config_adam(1e-2f, 3.125e-4f),
                                prism_optim_config_rmsprop_tf(1e-2f, 1e-5f),
                                prism_optim_config_rmsprop_torch(1e-2f)};
    for (int k = 0; k < 3; k++) {
        float p[19], g[19];
        fill(p, 19, 1, -1, 1);
        prism_optim all, one[19];
        REQUIRE(prism_optim_init(&all, &cs[k], 19) == PRISM_OK);
        float q[19];
        memcpy(q, p, sizeof q);
        for (int i = 0; i < 19; i++) REQUIRE(prism_optim_init(&one[i], &cs[k], 1) == PRISM_OK);
        for (int t = 0; t < 3; t++) {
            fill(g, 19, 10 + (uint64_t)t, -1, 1);
            float g1[19];
            memcpy(g1, g, sizeof g1);
            prism_optim_step(&all, p, g);
            for (int i = 0; i < 19; i++) prism_optim_step(&one[i], q + i, g1 + i);
        }
        CHECK(memcmp(p, q, sizeof p) == 0);
        prism_optim_free(&all);
        for (int i = 0; i < 19; i++) prism_optim_free(&one[i]);
    }
}

TEST(nn_optimizer_clips_global_norm) {
    prism_optim_config c = prism_optim_config_sgd(1.0f);
    c.clip_norm = 1.0f;
    prism_optim o;
    REQUIRE(prism_optim_init(&o, &c, 2) == PRISM_OK);
    float p[2] = {0, 0}, g[2] = {3, 4};
    CHECK_NEAR(prism_optim_step(&o, p, g), 5.0, 1e-12);
    CHECK_NEAR(p[0], -0.6, 1e-7);
    CHECK_NEAR(p[1], -0.8, 1e-7);
    float g2[2] = {0.3f, 0.4f}; /* under the limit: untouched */
    prism_optim_step(&o, p, g2);
    CHECK_NEAR(p[0], -0.9, 1e-6);
    prism_optim_free(&o);
    c.lr = -1;
    CHECK(prism_optim_init(&o, &c, 2) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "learning rate") != NULL);
}

/* ---- noise, determinism, copies ------------------------------------------------------------- */

TEST(nn_noise_resample_and_eval_mode) {
    prism_nn_config c = prism_nn_config_mlp(4, 3, 16, 0);
    c.noisy = 1, c.noisy_sigma0 = 0.1f;
    prism_nn net;
    REQUIRE(prism_nn_init(&net, &c, 2, 4) == PRISM_OK);
    /* init: sigma = sigma0 / sqrt(fan_in) */
    CHECK_NEAR(net.params[net.tensors[2].offset], 0.1 / 2.0, 1e-7);
    float x[8], o1[6], o2[6], o3[6];
    fill(x, 8, 1, -1, 1);
    memcpy(o1, prism_nn_forward(&net, x, 2), sizeof o1);
    memcpy(o2, prism_nn_forward(&net, x, 2), sizeof o2);
    CHECK(memcmp(o1, o2, sizeof o1) == 0); /* same noise until resampled */
    prism_nn_noise_resample(&net);
    memcpy(o2, prism_nn_forward(&net, x, 2), sizeof o2);
    CHECK(memcmp(o1, o2, sizeof o1) != 0);
    /* eval mode equals a plain net with the mu weights */
    prism_nn_set_eval(&net, 1);
    memcpy(o3, prism_nn_forward(&net, x, 2), sizeof o3);
    for (int t = 0; t < net.n_tensors; t++)
        if (strstr(net.tensors[t].name, "sigma"))
            for (size_t i = 0; i < net.tensors[t].len; i++)
                net.params[net.tensors[t].offset + i] = 0;
    prism_nn_set_eval(&net, 0);
    const float *o4 = prism_nn_forward(&net, x, 2);
    for (int i = 0; i < 6; i++) CHECK_NEAR(o4[i], o3[i], 1e-6);
    prism_nn_free(&net);
}

TEST(nn_same_seed_same_bits_and_copy_params) {
    prism_nn_config c = prism_nn_config_mlp(4, 2, 64, 64);
    c.noisy = 1, c.noisy_sigma0 = 0.1f;
    prism_nn a, b, t;
    REQUIRE(prism_nn_init(&a, &c, 32, 9) == PRISM_OK);
    REQUIRE(prism_nn_init(&b, &c, 32, 9) == PRISM_OK);
    REQUIRE(prism_nn_init(&t, &c, 32, 10) == PRISM_OK);
    CHECK(memcmp(a.params, b.params, sizeof(float) * a.n_params) == 0);
    CHECK(memcmp(a.params, t.params, sizeof(float) * a.n_params) != 0);
    prism_optim oa, ob;
    prism_optim_config oc = prism_optim_config_adam(1e-3f, 3.125e-4f);
    REQUIRE(prism_optim_init(&oa, &oc, a.n_params) == PRISM_OK);
    REQUIRE(prism_optim_init(&ob, &oc, b.n_params) == PRISM_OK);
    float x[128], d[64];
    fill(x, 128, 1, -1, 1);
    fill(d, 64, 2, -1, 1);
    for (int s = 0; s < 5; s++) {
        prism_nn *n[2] = {&a, &b};
        prism_optim *o[2] = {&oa, &ob};
        for (int k = 0; k < 2; k++) {
            prism_nn_noise_resample(n[k]);
            prism_nn_forward(n[k], x, 32);
            prism_nn_zero_grad(n[k]);
            prism_nn_backward(n[k], d, 32);
            prism_optim_step(o[k], n[k]->params, n[k]->grads);
        }
    }
    CHECK(memcmp(a.params, b.params, sizeof(float) * a.n_params) == 0);
    CHECK(memcmp(oa.state, ob.state, sizeof(float) * oa.state_len) == 0);
    prism_nn_copy_params(&t, &a);
    CHECK(memcmp(a.params, t.params, sizeof(float) * a.n_params) == 0);
    prism_optim_free(&oa), prism_optim_free(&ob);
    prism_nn_free(&a), prism_nn_free(&b), prism_nn_free(&t);
}

/* prism's guarantee is one BLAS thread, not that multi-threaded OpenBLAS gives one thread's
 * bits (it does not with every kernel OPENBLAS_CORETYPE may pick): whatever the thread count
 * was before, an init puts it back to one, and a network built then computes the same bits. */
TEST(nn_init_forces_one_blas_thread_whatever_was_set_before) {
    prism_nn_config c = prism_nn_config_mlp(4, 2, 256, 256);
    prism_nn a, b;
    REQUIRE(prism_nn_init(&a, &c, 128, 1) == PRISM_OK);
    CHECK_EQ_INT(nn_blas_threads(), 1);
    float *x = malloc(sizeof(float) * 512), *d = malloc(sizeof(float) * 256);
    float *o1 = malloc(sizeof(float) * 256), *g1 = malloc(sizeof(float) * a.n_params);
    fill(x, 512, 1, -1, 1);
    fill(d, 256, 2, -1, 1);
    memcpy(o1, prism_nn_forward(&a, x, 128), sizeof(float) * 256);
    prism_nn_zero_grad(&a);
    prism_nn_backward(&a, d, 128);
    memcpy(g1, a.grads, sizeof(float) * a.n_params);
    nn_blas_set_threads(4);
    REQUIRE(prism_nn_init(&b, &c, 128, 1) == PRISM_OK);
    CHECK_EQ_INT(nn_blas_threads(), 1);
    const float *o2 = prism_nn_forward(&b, x, 128);
    prism_nn_zero_grad(&b);
    prism_nn_backward(&b, d, 128);
    CHECK(memcmp(o1, o2, sizeof(float) * 256) == 0);
    CHECK(memcmp(g1, b.grads, sizeof(float) * b.n_params) == 0);
    nn_blas_set_threads(1);
    free(x), free(d), free(o1), free(g1);
    prism_nn_free(&a), prism_nn_free(&b);
}

/* ---- config and allocation failures ------------------------------------------------------------
 */

TEST(nn_bad_configs_are_rejected_with_a_message) {
    prism_nn net;
    prism_nn_config c = prism_nn_config_mlp(4, 2, 8, 0);
    c.n_actions = 0;
    CHECK(prism_nn_init(&net, &c, 4, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "n_actions") != NULL);
    c = prism_nn_config_mlp(4, 2, 8, 0);
    c.n_atoms = 51; /* no support */
    CHECK(prism_nn_init(&net, &c, 4, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "v_max") != NULL);
    c = prism_nn_config_mlp(4, 2, 8, 0);
    c.conv_filters = 4;
    CHECK(prism_nn_init(&net, &c, 4, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "image") != NULL);
    c = prism_nn_config_mlp(4, 2, 8, 0);
    CHECK(prism_nn_init(&net, &c, 0, 1) == PRISM_ERR_INVALID);
}

TEST(nn_init_survives_allocation_failure_anywhere) {
    prism_nn_config c = prism_nn_config_minatar(10, 10, 4, 16, 6);
    c.noisy = 1, c.noisy_sigma0 = 0.1f, c.dueling = 1;
    for (long n = 0; n < 8; n++) {
        prism_nn net;
        prism_alloc_fail_after(n);
        prism_status st = prism_nn_init(&net, &c, 4, 1);
        prism_alloc_fail_after(-1);
        if (st == PRISM_OK) {
            prism_nn_free(&net);
            break;
        }
        CHECK(st == PRISM_ERR_NOMEM);
        CHECK(net.params == NULL && net.impl == NULL);
    }
}

/* ---- save / load ------------------------------------------------------------------------------
 */

static size_t file_size(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return (size_t)n;
}

TEST(nn_save_load_round_trip_and_bad_files) {
    prism_nn_config c = prism_nn_config_mlp(4, 3, 16, 0);
    c.noisy = 1, c.noisy_sigma0 = 0.1f;
    prism_nn a, b;
    REQUIRE(prism_nn_init(&a, &c, 4, 1) == PRISM_OK);
    REQUIRE(prism_nn_init(&b, &c, 4, 2) == PRISM_OK);
    prism_optim oa, ob;
    prism_optim_config oc = prism_optim_config_adam(1e-3f, 3.125e-4f);
    REQUIRE(prism_optim_init(&oa, &oc, a.n_params) == PRISM_OK);
    REQUIRE(prism_optim_init(&ob, &oc, b.n_params) == PRISM_OK);
    fill(a.grads, a.n_params, 3, -1, 1);
    prism_optim_step(&oa, a.params, a.grads);
    prism_nn_noise_resample(&a);
    char path[1024], bad[1100];
    snprintf(path, sizeof path, "%s/net.bin", test_tmpdir());
    REQUIRE(prism_nn_save(&a, &oa, path) == PRISM_OK);
    REQUIRE(prism_nn_load(&b, &ob, path) == PRISM_OK);
    CHECK(memcmp(a.params, b.params, sizeof(float) * a.n_params) == 0);
    CHECK(memcmp(oa.state, ob.state, sizeof(float) * oa.state_len) == 0);
    CHECK_EQ_INT(ob.step, 1);
    CHECK(memcmp(&a.noise_rng, &b.noise_rng, sizeof a.noise_rng) == 0);

    /* Read the good file into memory, then write damaged variants. */
    size_t n = file_size(path);
    REQUIRE(n > 100);
    unsigned char *buf = malloc(n);
    FILE *f = fopen(path, "rb");
    REQUIRE(f && fread(buf, 1, n, f) == n);
    fclose(f);
    snprintf(bad, sizeof bad, "%s/bad.bin", test_tmpdir());
    float keep0 = b.params[0];
    struct {
        const char *what;
        size_t len;
        long flip; /* byte to flip, or -1 */
        prism_status want;
        const char *msg;
    } cases[] = {
        {"truncated", n - 9, -1, PRISM_ERR_CORRUPT, "truncated"},
        {"truncated header", 10, -1, PRISM_ERR_CORRUPT, "truncated"},
        {"empty", 0, -1, PRISM_ERR_CORRUPT, "truncated"},
        {"bit flip in params", n, 200, PRISM_ERR_CORRUPT, "checksum"},
        {"bad magic", n, 0, PRISM_ERR_CORRUPT, "magic"},
        {"wrong version", n, 8, PRISM_ERR_CORRUPT, "version"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        f = fopen(bad, "wb");
        REQUIRE(f);
        if (cases[k].flip >= 0) buf[cases[k].flip] ^= 0x10;
        fwrite(buf, 1, cases[k].len, f);
        if (cases[k].flip >= 0) buf[cases[k].flip] ^= 0x10;
        fclose(f);
        b.params[0] = 42.0f;
        prism_status st = prism_nn_load(&b, &ob, bad);
        if (st != cases[k].want || !strstr(prism_error_message(), cases[k].msg))
            test_fail(__FILE__, __LINE__, "%s: status %d, message '%s'", cases[k].what, (int)st,
                      prism_error_message());
        CHECK(b.params[0] == 42.0f); /* untouched */
    }
    b.params[0] = keep0;
    /* a different config is refused */
    prism_nn_config c2 = c;
    c2.hidden[0] = 17;
    prism_nn other;
    REQUIRE(prism_nn_init(&other, &c2, 4, 1) == PRISM_OK);
    CHECK(prism_nn_load(&other, NULL, path) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "configuration") != NULL);
    /* a different optimizer is refused: Adam's two moments are not RMSProp's (ms | mg) */
    prism_optim orms;
    prism_optim_config rc = prism_optim_config_rmsprop_tf(1e-3f, 1e-5f);
    REQUIRE(prism_optim_init(&orms, &rc, b.n_params) == PRISM_OK);
    CHECK(prism_nn_load(&b, &orms, path) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "optimizer") != NULL);
    prism_optim_free(&orms);
    /* params only, no optimizer */
    REQUIRE(prism_nn_save(&a, NULL, path) == PRISM_OK);
    CHECK(prism_nn_load(&b, NULL, path) == PRISM_OK);
    CHECK(prism_nn_load(&b, &ob, path) == PRISM_ERR_INVALID);
    snprintf(bad, sizeof bad, "%s/missing.bin", test_tmpdir());
    CHECK(prism_nn_load(&b, NULL, bad) == PRISM_ERR_NOT_FOUND);
    free(buf);
    prism_optim_free(&oa), prism_optim_free(&ob);
    prism_nn_free(&a), prism_nn_free(&b), prism_nn_free(&other);
}

/* The direct conv kernel sums in the naive kernel's order: equal bits, SAME and VALID, with
 * filter counts on and off the 8-wide vector path. */
TEST(nn_fast_conv_bits_equal_naive) {
    int filters[3] = {16, 8, 5};
    for (int k = 0; k < 3; k++)
        for (int valid = 0; valid <= 1; valid++) {
            prism_nn_config c = prism_nn_config_minatar(10, 9, 3, filters[k], 3);
            c.conv_padding = valid ? PRISM_NN_PAD_VALID : PRISM_NN_PAD_SAME;
            prism_nn a, b;
            REQUIRE(prism_nn_init(&a, &c, 3, 1) == PRISM_OK);
            REQUIRE(prism_nn_init(&b, &c, 3, 1) == PRISM_OK);
            prism_nn_set_naive(&b, 1);
            float x[3 * 270];
            fill(x, 3 * 270, 4, -1, 1);
            prism_nn_forward(&a, x, 3);
            prism_nn_forward(&b, x, 3);
            size_t n = 3 * (size_t)a.impl->conv_ho * (size_t)a.impl->conv_wo * (size_t)filters[k];
            CHECK(memcmp(a.impl->conv_out, b.impl->conv_out, sizeof(float) * n) == 0);
            prism_nn_free(&a), prism_nn_free(&b);
        }
}

/* ---- the CLI benchmark --------------------------------------------------------------------------
 */

TEST(nn_bench_cli_json_and_errors) {
    char out[8192];
    int rc = test_prism(out, sizeof out, "bench nn --json --seconds 1 --only cleanrl");
    CHECK_EQ_INT(rc, 0);
    const char *fields[] = {"\"name\":\"cleanrl-120-84\"", "\"batch\":128",     "\"update_us\":",
                            "\"update_gflops\":",          "\"sgemm_gflops\":", "\"act_us\":"};
    CHECK_CONTAINS_ALL(out, fields);
    rc = test_prism(out, sizeof out, "bench nn --only nosuch");
    CHECK_EQ_INT(rc, 2);
    CHECK(strstr(out, "no preset matches") != NULL && strstr(out, "mlp-512x2") != NULL);
    rc = test_prism(out, sizeof out, "bench nn --seconds 0");
    CHECK_EQ_INT(rc, 2);
}

/* The conv weight gradient kernels directly, on the same dy: the fast one sums pixels in the
 * naive order, so bits agree (SAME and VALID; F on and off the vector path). */
TEST(nn_fast_conv_weight_grad_bits_equal_naive) {
    int filters[3] = {16, 8, 5};
    for (int k = 0; k < 3; k++)
        for (int pad = 0; pad <= 1; pad++) {
            enum { B = 3, H = 6, W = 7, C = 3 };
            int F = filters[k], Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
            prism_nn_config c = prism_nn_config_minatar(H, W, C, F, 2);
            size_t ns = nn_conv_scratch_size(&c, B), ny = (size_t)B * Ho * Wo * F;
            float *scratch = calloc(ns, sizeof(float)), *dy = malloc(sizeof(float) * ny);
            float x[B * H * W * C], dw1[16 * 27] = {0}, dw2[16 * 27] = {0}, db1[16] = {0},
                                             db2[16] = {0};
            fill(x, sizeof x / sizeof x[0], 1, -1, 1);
            fill(dy, ny, 2, -1, 1);
            nn_conv_backward_fast(dw1, db1, dy, x, scratch, B, H, W, C, F, pad);
            nn_conv_backward_naive(dw2, db2, dy, x, B, H, W, C, F, pad);
            CHECK(memcmp(dw1, dw2, sizeof dw1) == 0);
            for (int f = 0; f < F; f++) CHECK_NEAR(db1[f], db2[f], 1e-5);
            free(scratch), free(dy);
        }
}

/* ---- FLOP counts --------------------------------------------------------------------------------
 * Hand-counted: 2 FLOPs per multiply-add; backward = weight gradients (as much as the forward)
 * plus input gradients of every layer that does not read the network's input. */

TEST(nn_count_flops_matches_hand_counts) {
    /* cleanrl 4-120-84-2 at B 128: products 4x120, 120x84, 84x2 = 480 + 10080 + 168 MACs a row */
    prism_nn_config c = prism_nn_config_mlp(4, 2, 120, 84);
    prism_nn_flops f = prism_nn_count_flops(&c, 128);
    CHECK(f.forward == 2.0 * 128 * (480 + 10080 + 168));      /* 2,746,368 */
    CHECK(f.backward == 2.0 * 128 * 480 + 4.0 * 128 * 10248); /* 5,369,856 */
    CHECK(2 * f.forward + f.backward == 10862592);            /* the 10.9 MFLOP of the docs */
    CHECK(f.largest_m == 128 && f.largest_n == 84 && f.largest_k == 120);
    /* linear in the batch */
    CHECK(prism_nn_count_flops(&c, 1).forward * 128 == f.forward);

    /* MinAtar: 10x10x4, conv 16 SAME (100 positions x 16 x 36), flatten 1600, head 6 */
    c = prism_nn_config_minatar(10, 10, 4, 16, 6);
    f = prism_nn_count_flops(&c, 32);
    CHECK(f.forward == 2.0 * 32 * (57600 + 9600));           /* 4,300,800 */
    CHECK(f.backward == 2.0 * 32 * 57600 + 4.0 * 32 * 9600); /* no input gradient below conv */
    CHECK(f.largest_m == 3200 && f.largest_n == 16 && f.largest_k == 36);
    /* VALID: 8x8 positions, then a 128-wide hidden layer */
    c.conv_padding = PRISM_NN_PAD_VALID;
    c.hidden[c.n_hidden++] = 128;
    f = prism_nn_count_flops(&c, 1);
    CHECK(f.forward == 2.0 * (64 * 16 * 36 + 1024 * 128 + 128 * 6));
    CHECK(f.backward == 2.0 * 64 * 16 * 36 + 4.0 * (1024 * 128 + 128 * 6));

    /* dueling C51 (51 atoms, 2 actions) on 2x512: advantages 512x102 and value 512x51 */
    c = prism_nn_config_mlp(4, 2, 512, 512);
    c.n_atoms = 51, c.dueling = 1, c.noisy = 1; /* noise: no FLOPs of its own here */
    f = prism_nn_count_flops(&c, 1);
    CHECK(f.forward == 2.0 * (2048 + 262144 + 512 * 102 + 512 * 51)); /* 685,056 */
    CHECK(f.backward == 2.0 * 2048 + 4.0 * (262144 + 512 * 153));

    /* no hidden layer: both dueling streams read the input, so neither has an input gradient */
    c = prism_nn_config_mlp(3, 2, 0, 0);
    c.dueling = 1;
    f = prism_nn_count_flops(&c, 5);
    CHECK(f.forward == 2.0 * 5 * (3 * 2 + 3 * 1) && f.backward == f.forward);
}
