/* Tests for the engine pieces PQN needs: LayerNorm networks (save/load, what normalising does;
 * their gradient check and fast-against-naive test are with the others in test_nn.c), orthogonal
 * initialisation (orthogonality, gain, determinism) and the RAdam rule on hand-computed steps. The
 * PyTorch reference tests of the same pieces are in test_nn_ref.c. */
#include "harness.h"
#include "prism/nn.h"
#include "../src/nn/nn_internal.h"

#include <stdlib.h>
#include <string.h>

static void fill_uniform(float *x, size_t n, uint64_t seed) {
    prism_rng r;
    prism_rng_seed(&r, seed, 98);
    for (size_t i = 0; i < n; i++) x[i] = (float)prism_rng_range(&r, -1.0, 1.0);
}

static prism_nn_config ln_mlp(void) {
    prism_nn_config c = prism_nn_config_mlp(5, 3, 16, 12);
    c.layer_norm = 1, c.layer_norm_eps = 1e-5f;
    return c;
}

static prism_nn_config ln_conv(void) {
    prism_nn_config c = prism_nn_config_minatar(6, 5, 3, 4, 3);
    c.conv_padding = PRISM_NN_PAD_VALID, c.n_hidden = 1, c.hidden[0] = 10;
    c.layer_norm = 1, c.layer_norm_eps = 1e-5f;
    return c;
}

/* The LayerNorm network's double forward follows the float forward, and LayerNorm really acts:
 * the output is invariant to scaling a hidden layer's weights and bias (what LayerNorm does and
 * a plain MLP does not). */
TEST(nn_layer_norm_forward_normalises) {
    prism_nn_config c = ln_mlp();
    prism_nn net;
    REQUIRE(prism_nn_init(&net, &c, 4, 1) == PRISM_OK);
    float x[20], before[12];
    fill_uniform(x, 20, 2);
    double out[12];
    REQUIRE(prism_nn_forward_f64(&net, x, 4, out) == PRISM_OK);
    const float *o = prism_nn_forward(&net, x, 4);
    for (int i = 0; i < 12; i++) CHECK_NEAR(o[i], out[i], 1e-5);
    memcpy(before, o, sizeof before);
    for (size_t i = 0; i < net.tensors[1].offset + net.tensors[1].len; i++) net.params[i] *= 8.0f;
    o = prism_nn_forward(&net, x, 4);
    /* up to eps: the variance under the square root grows 64-fold, eps does not */
    for (int i = 0; i < 12; i++) CHECK_NEAR(o[i], before[i], 1e-4);
    prism_nn_free(&net);
}

TEST(nn_layer_norm_save_load_and_version) {
    prism_nn_config c = ln_conv();
    prism_nn a, b, plain;
    REQUIRE(prism_nn_init(&a, &c, 2, 1) == PRISM_OK);
    REQUIRE(prism_nn_init(&b, &c, 2, 2) == PRISM_OK);
    fill_uniform(a.params, a.n_params, 9);
    char path[1024];
    snprintf(path, sizeof path, "%s/ln.bin", test_tmpdir());
    REQUIRE(prism_nn_save(&a, NULL, path) == PRISM_OK);
    REQUIRE(prism_nn_load(&b, NULL, path) == PRISM_OK);
    CHECK(memcmp(a.params, b.params, sizeof(float) * a.n_params) == 0);
    size_t len = 0;
    char *buf = test_read_file(path, &len);
    REQUIRE(buf && len > 12);
    uint32_t version;
    memcpy(&version, buf + 8, 4);
    CHECK_EQ_INT(version, 2);
    free(buf);
    /* A network without LayerNorm rejects the file, naming the configuration mismatch... */
    prism_nn_config pc = c;
    pc.layer_norm = 0;
    REQUIRE(prism_nn_init(&plain, &pc, 2, 1) == PRISM_OK);
    CHECK(prism_nn_load(&plain, NULL, path) != PRISM_OK);
    CHECK(strstr(prism_error_message(), "different configuration") != NULL);
    /* ...and is itself still written in version 1, byte for byte the format it had. */
    REQUIRE(prism_nn_save(&plain, NULL, path) == PRISM_OK);
    buf = test_read_file(path, &len);
    REQUIRE(buf && len > 12);
    memcpy(&version, buf + 8, 4);
    CHECK_EQ_INT(version, 1);
    CHECK(len == 8 + 4 + 24 * 4 + 8 + 4 * plain.n_params + 32 + 4 + 4);
    free(buf);
    prism_nn_free(&a), prism_nn_free(&b), prism_nn_free(&plain);
}

TEST(nn_layer_norm_bad_configs_are_rejected) {
    prism_nn_config c = ln_mlp();
    prism_nn net;
    c.noisy = 1, c.noisy_sigma0 = 0.1f;
    CHECK(prism_nn_init(&net, &c, 2, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "layer_norm") != NULL);
    c = ln_mlp();
    c.layer_norm_eps = 0.0f;
    CHECK(prism_nn_init(&net, &c, 2, 1) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "layer_norm_eps") != NULL);
    c = ln_mlp();
    c.init = PRISM_NN_INIT_ORTHOGONAL, c.init_scale = 0.0f;
    CHECK(prism_nn_init(&net, &c, 2, 1) == PRISM_ERR_INVALID);
}

/* W W^T = gain^2 I for a wide or square W (rows orthogonal), W^T W = gain^2 I for a tall one;
 * biases zero; same seed same bits, another seed other weights. */
TEST(nn_orthogonal_init_is_orthogonal_with_gain) {
    prism_nn_config c = prism_nn_config_mlp(4, 2, 120, 84);
    c.init = PRISM_NN_INIT_ORTHOGONAL, c.init_scale = 1.41421356f;
    prism_nn a, b, other;
    REQUIRE(prism_nn_init(&a, &c, 1, 3) == PRISM_OK);
    REQUIRE(prism_nn_init(&b, &c, 1, 3) == PRISM_OK);
    REQUIRE(prism_nn_init(&other, &c, 1, 4) == PRISM_OK);
    CHECK(memcmp(a.params, b.params, sizeof(float) * a.n_params) == 0);
    CHECK(memcmp(a.params, other.params, sizeof(float) * a.n_params) != 0);
    for (int t = 0; t < a.n_tensors; t++) {
        const prism_nn_tensor *ten = &a.tensors[t];
        const float *w = a.params + ten->offset;
        if (ten->rank == 1) {
            for (size_t i = 0; i < ten->len; i++) CHECK(w[i] == 0.0f);
            continue;
        }
        int rows = ten->shape[0], cols = ten->shape[1];
        int tall = rows > cols, k = tall ? cols : rows, L = tall ? rows : cols;
        double worst = 0;
        for (int p = 0; p < k; p++)
            for (int q = 0; q < k; q++) {
                double dot = 0;
                for (int i = 0; i < L; i++) {
                    double u = tall ? w[(size_t)i * cols + p] : w[(size_t)p * cols + i];
                    double v = tall ? w[(size_t)i * cols + q] : w[(size_t)q * cols + i];
                    dot += u * v;
                }
                double want = p == q ? 2.0 : 0.0, e = fabs(dot - want);
                worst = e > worst ? e : worst;
            }
        if (!(worst < 1e-5))
            test_fail(__FILE__, __LINE__, "%s: W W^T differs from 2 I by %.3g", ten->name, worst);
    }
    prism_nn_free(&a), prism_nn_free(&b), prism_nn_free(&other);
}

/* RAdam by hand: for t <= 5 (rho_t <= 5 with b2 = 0.999) the step is lr * m_hat, plain
 * momentum SGD; from t = 6 on it is rectified Adam. */
TEST(nn_radam_follows_its_documented_rule) {
    prism_optim opt;
    prism_optim_config c = prism_optim_config_radam(0.1f);
    REQUIRE(prism_optim_init(&opt, &c, 1) == PRISM_OK);
    float p = 1.0f, g;
    double m = 0, v = 0, want = 1.0;
    const double b1 = 0.9, b2 = 0.999, rho_inf = 2 / (1 - b2) - 1;
    for (int t = 1; t <= 8; t++) {
        double gt = t % 2 ? 0.5 : -0.3;
        g = (float)gt;
        prism_optim_step(&opt, &p, &g);
        m = b1 * m + (1 - b1) * gt, v = b2 * v + (1 - b2) * gt * gt;
        double mh = m / (1 - pow(b1, t)), bc2 = 1 - pow(b2, t);
        double rho = rho_inf - 2 * t * pow(b2, t) / bc2;
        if (rho > 5) {
            double r =
                sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho));
            want -= 0.1 * mh * sqrt(bc2) / (sqrt(v) + 1e-8) * r;
        } else {
            want -= 0.1 * mh;
        }
        CHECK(t < 6 ? !(rho > 5) : rho > 5);
        CHECK_NEAR(p, want, 1e-5);
    }
    prism_optim_free(&opt);
}

/* The fast LayerNorm (AVX2 where built) equals the portable blocked form bit for bit, with and
 * without the fused ReLU, at the widths PQN uses (16 after the conv, 120 and 84, 128) and at
 * widths with odd tails, for 9 rows (eight at a time, then one padded to eight) and 4 (acting
 * with four environments: padded); with the ReLU both follow naive LayerNorm then ReLU closely.
 * Backward runs in place (dx = dy), as the network calls it, onto nonzero dg and db. */
static void layer_norm_fast_case(int R);
TEST(nn_layer_norm_fast_equals_portable_bit_for_bit) {
    layer_norm_fast_case(9);
    layer_norm_fast_case(4);
}

static void layer_norm_fast_case(int R) {
    static const int widths[] = {16, 120, 84, 128, 5, 33, 1};
    enum { MAXR = 9, MAXD = 128 };
    static float x[MAXR * MAXD], g[MAXD], b[MAXD], dy[MAXR * MAXD];
    static float y1[MAXR * MAXD], y2[MAXR * MAXD], y3[MAXR * MAXD], m[3][MAXR], rs[3][MAXR];
    static float dx1[MAXR * MAXD], dx2[MAXR * MAXD], dx3[MAXR * MAXD], dg[3][MAXD], db[3][MAXD];
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
        for (int relu = 0; relu <= 1; relu++) {
            const int D = widths[w];
            const size_t n = (size_t)R * D;
            fill_uniform(x, n, 10 + w), fill_uniform(g, D, 20 + w), fill_uniform(b, D, 30 + w);
            fill_uniform(dy, n, 40 + w);
            x[3] = 0.0f, dy[5] = -0.0f; /* signed zeros through both */
            nn_layer_norm_forward_fast(y1, m[0], rs[0], x, g, b, R, D, 1e-5f, relu);
            nn_layer_norm_forward_portable(y2, m[1], rs[1], x, g, b, R, D, 1e-5f, relu);
            nn_layer_norm_forward_naive(y3, m[2], rs[2], x, g, b, R, D, 1e-5f);
            if (relu) nn_relu(y3, n);
            CHECK(memcmp(y1, y2, 4 * n) == 0);
            CHECK(memcmp(m[0], m[1], 4 * (size_t)R) == 0 &&
                  memcmp(rs[0], rs[1], 4 * (size_t)R) == 0);
            for (size_t i = 0; i < n; i++) CHECK_NEAR(y1[i], y3[i], 1e-5);
            for (int k = 0; k < 3; k++) fill_uniform(dg[k], D, 50), fill_uniform(db[k], D, 60);
            memcpy(dx1, dy, 4 * n), memcpy(dx2, dy, 4 * n), memcpy(dx3, dy, 4 * n);
            const float *yr = relu ? y1 : NULL;
            nn_layer_norm_backward_fast(dx1, dg[0], db[0], dx1, x, m[0], rs[0], g, yr, R, D);
            nn_layer_norm_backward_portable(dx2, dg[1], db[1], dx2, x, m[1], rs[1], g, yr, R, D);
            if (relu) nn_relu_backward(dx3, y3, n);
            nn_layer_norm_backward_naive(dx3, dg[2], db[2], dx3, x, m[2], rs[2], g, R, D);
            CHECK(memcmp(dx1, dx2, 4 * n) == 0);
            CHECK(memcmp(dg[0], dg[1], 4 * (size_t)D) == 0);
            CHECK(memcmp(db[0], db[1], 4 * (size_t)D) == 0);
            for (size_t i = 0; i < n; i++) CHECK_NEAR(dx1[i], dx3[i], 1e-4);
            for (int i = 0; i < D; i++) {
                CHECK_NEAR(dg[0][i], dg[2][i], 1e-4);
                CHECK_NEAR(db[0][i], db[2][i], 1e-4);
            }
        }
}
