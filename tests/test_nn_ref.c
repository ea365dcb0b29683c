/* PyTorch reference tests for nn/: forward outputs, every gradient, and 10 Adam and 10 RMSProp
 * steps of the 4-512-512-2 MLP (batch 128) and the MinAtar conv net (10x10x4, 16 filters, linear
 * head, batch 32), against fixtures written by tests/ref/nn_ref.py (torch 1.13, float32); and
 * PQN's pieces (LayerNorm networks, RAdam, orthogonal init) against tests/ref/nn_pqn_ref.py's.
 *
 * Initial parameters come from the same integer hash on both sides (see the script), so the
 * fixtures hold only inputs and results. Tolerance: 1e-5 relative, where "relative" is to the
 * largest magnitude of the compared tensor (each parameter tensor separately): the two sides sum
 * in different orders, so an element whose terms cancel has a rounding error set by the size of
 * its terms, not by its own (near-zero) size. */
#include "harness.h"
#include "prism/nn.h"
#include "../src/nn/nn_internal.h"
#include "ref_file.h"

#include <stdlib.h>
#include <string.h>

/* The script's splitmix64-based initial values, exactly. */
static void hash_params(prism_nn *net, const float *bounds) {
    for (int t = 0; t < net->n_tensors; t++) {
        uint64_t seed = (uint64_t)t * 1000003u + 17u;
        float c = bounds[t] * 0x1p-24f;
        float *p = net->params + net->tensors[t].offset;
        for (size_t i = 0; i < net->tensors[t].len; i++) {
            uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z = z ^ (z >> 31);
            int64_t k = (int64_t)(z >> 40);
            p[i] = (float)(2 * k + 1 - (1 << 24)) * c;
        }
    }
}

/* max |a - b| / max |b| over [0, n) */
static double rel_err(const float *a, const float *b, size_t n) {
    double mx = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        mx = fabs((double)b[i]) > mx ? fabs((double)b[i]) : mx;
        double e = fabs((double)a[i] - (double)b[i]);
        d = e > d ? e : d;
    }
    return d / (mx > 0 ? mx : 1);
}

static void check_tensors(const char *what, const prism_nn *net, const float *mine,
                          const float *ref, double tol) {
    for (int t = 0; t < net->n_tensors; t++) {
        const prism_nn_tensor *ten = &net->tensors[t];
        double e = rel_err(mine + ten->offset, ref + ten->offset, ten->len);
        if (!(e <= tol))
            test_fail(__FILE__, __LINE__, "%s %s: relative error %.3g > %.1g", what, ten->name, e,
                      tol);
    }
}

/* An optimizer the fixture ran: its record holds all parameters after `steps` steps. */
typedef struct opt_check {
    const char *record;
    prism_optim_config oc;
    int steps;
} opt_check;

/* The loss on the taken actions: weighted Huber (nn_ref.py) or plain MSE (nn_pqn_ref.py). */
static double ref_loss(bool mse, const float *q, const int32_t *a, const float *t, const float *w,
                       int B, int A, float *dout) {
    return mse ? prism_nn_loss_mse(q, a, t, NULL, B, A, NULL, dout)
               : prism_nn_loss_huber(q, a, t, w, B, A, NULL, dout);
}

static void one_step(prism_nn *net, prism_optim *opt, bool mse, const float *x, const int32_t *a,
                     const float *t, const float *w, int B, float *dout) {
    const float *q = prism_nn_forward(net, x, B);
    prism_nn_zero_grad(net);
    ref_loss(mse, q, a, t, w, B, net->cfg.n_actions, dout);
    prism_nn_backward(net, dout, B);
    prism_optim_step(opt, net->params, net->grads);
}

/* Outputs, loss and every gradient of the fixture's batch, then each optimizer's parameters
 * after its steps from the same initial parameters. */
static void reference_test(const char *file, prism_nn_config cfg, int B, int naive, bool mse,
                           const opt_check *checks, int n_checks) {
    char path[256];
    snprintf(path, sizeof path, "tests/ref/%s", file);
    ref_file r;
    if (!ref_load(&r, path)) {
        test_fail(__FILE__, __LINE__, "cannot read fixture %s (run from the repository root)",
                  path);
        return;
    }
    prism_nn net;
    REQUIRE(prism_nn_init(&net, &cfg, B, 0) == PRISM_OK);
    prism_nn_set_naive(&net, naive);
    const int A = cfg.n_actions;
    const float *bounds = ref_get(&r, "bounds", (uint32_t)net.n_tensors);
    const float *x = ref_get(&r, "x", (uint32_t)(B * net.in_size));
    const float *af = ref_get(&r, "actions", (uint32_t)B);
    const float *t = ref_get(&r, "targets", (uint32_t)B);
    const float *w = mse ? NULL : ref_get(&r, "weights", (uint32_t)B);
    const float *out = ref_get(&r, "out", (uint32_t)(B * A));
    const float *loss = ref_get(&r, "loss", 1);
    const float *grad = ref_get(&r, "grad", (uint32_t)net.n_params);
    if (!bounds || !x || !af || !t || (!mse && !w) || !out || !loss || !grad) goto done;
    int32_t *a = malloc(sizeof(int32_t) * (size_t)B);
    float *dout = malloc(sizeof(float) * (size_t)B * (size_t)A);
    for (int b = 0; b < B; b++) a[b] = (int32_t)af[b];

    hash_params(&net, bounds);
    const float *q = prism_nn_forward(&net, x, B);
    double e = rel_err(q, out, (size_t)B * (size_t)A);
    if (!(e <= 1e-5)) test_fail(__FILE__, __LINE__, "%s outputs: relative error %.3g", file, e);
    double L = ref_loss(mse, q, a, t, w, B, A, dout);
    CHECK_NEAR(L, loss[0], 1e-5 * fabs((double)loss[0]));
    prism_nn_zero_grad(&net);
    prism_nn_backward(&net, dout, B);
    check_tensors("gradient", &net, net.grads, grad, 1e-5);

    for (int k = 0; k < n_checks; k++) {
        const float *want = ref_get(&r, checks[k].record, (uint32_t)net.n_params);
        prism_optim opt;
        if (!want || prism_optim_init(&opt, &checks[k].oc, net.n_params) != PRISM_OK) {
            test_fail(__FILE__, __LINE__, "%s: cannot run %s", file, checks[k].record);
            continue;
        }
        hash_params(&net, bounds);
        for (int s = 0; s < checks[k].steps; s++) one_step(&net, &opt, mse, x, a, t, w, B, dout);
        check_tensors(checks[k].record, &net, net.params, want, 1e-5);
        prism_optim_free(&opt);
    }
    free(a), free(dout);
done:
    prism_nn_free(&net);
    ref_free(&r);
}

/* 10 Adam steps (Dopamine's eps) and 10 centered RMSProp steps with momentum (nn_ref.py). */
static void dqn_reference_test(const char *file, prism_nn_config cfg, int B, int naive) {
    opt_check checks[2] = {{"adam10", prism_optim_config_adam(1e-3f, 3.125e-4f), 10},
                           {"rmsprop10", prism_optim_config_rmsprop_torch(1e-4f), 10}};
    checks[1].oc.rho = 0.95f, checks[1].oc.eps = 1e-5f, checks[1].oc.centered = 1;
    checks[1].oc.momentum = 0.5f;
    reference_test(file, cfg, B, naive, false, checks, 2);
}

TEST(nn_ref_pytorch_mlp_4_512_512_2) {
    dqn_reference_test("nn_mlp.bin", prism_nn_config_mlp(4, 2, 512, 512), 128, 0);
}

TEST(nn_ref_pytorch_minatar_conv) {
    dqn_reference_test("nn_minatar.bin", prism_nn_config_minatar(10, 10, 4, 16, 6), 32, 0);
}

TEST(nn_ref_pytorch_naive_kernels) {
    dqn_reference_test("nn_minatar.bin", prism_nn_config_minatar(10, 10, 4, 16, 6), 32, 1);
}

/* PQN's engine pieces (fixtures by tests/ref/nn_pqn_ref.py): LayerNorm networks under MSE, then
 * 12 RAdam steps with global-norm clipping 0.5 (both RAdam branches: the rectified one starts at
 * step 6). */
static void pqn_reference_test(const char *file, prism_nn_config cfg, int B, int naive) {
    opt_check radam = {"radam12", prism_optim_config_radam(1e-3f), 12};
    radam.oc.clip_norm = 0.5f;
    reference_test(file, cfg, B, naive, true, &radam, 1);
}

static prism_nn_config pqn_mlp_config(void) {
    prism_nn_config c = prism_nn_config_mlp(4, 2, 120, 84);
    c.layer_norm = 1, c.layer_norm_eps = 1e-5f;
    return c;
}

static prism_nn_config pqn_minatar_config(void) {
    prism_nn_config c = prism_nn_config_minatar(10, 10, 4, 16, 6);
    c.conv_padding = PRISM_NN_PAD_VALID, c.n_hidden = 1, c.hidden[0] = 128;
    c.layer_norm = 1, c.layer_norm_eps = 1e-5f;
    return c;
}

TEST(nn_ref_pytorch_layer_norm_mlp_radam) {
    pqn_reference_test("nn_pqn_mlp.bin", pqn_mlp_config(), 64, 0);
    pqn_reference_test("nn_pqn_mlp.bin", pqn_mlp_config(), 64, 1);
}

TEST(nn_ref_pytorch_layer_norm_minatar_radam) {
    pqn_reference_test("nn_pqn_minatar.bin", pqn_minatar_config(), 16, 0);
    pqn_reference_test("nn_pqn_minatar.bin", pqn_minatar_config(), 16, 1);
}

/* torch.nn.init.orthogonal_'s Q (sign-corrected QR) from the same starting matrix. */
TEST(nn_ref_pytorch_orthogonal_init) {
    ref_file r;
    REQUIRE(ref_load(&r, "tests/ref/nn_orthogonal.bin"));
    const char *names[2][2] = {{"a_tall", "q_tall"}, {"a_wide", "q_wide"}};
    const int shape[2][2] = {{12, 5}, {5, 12}};
    for (int k = 0; k < 2; k++) {
        const float *a = ref_get(&r, names[k][0], 60), *q = ref_get(&r, names[k][1], 60);
        if (!a || !q) break;
        double ad[60];
        float w[60];
        for (int i = 0; i < 60; i++) ad[i] = (double)a[i];
        REQUIRE(nn_orthogonalize(w, ad, shape[k][0], shape[k][1], 1.5) == PRISM_OK);
        for (int i = 0; i < 60; i++) CHECK_NEAR(w[i], q[i], 1e-5);
    }
    ref_free(&r);
}
