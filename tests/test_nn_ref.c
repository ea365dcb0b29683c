/* PyTorch reference tests for nn/: forward outputs, every gradient, and 10 Adam and 10 RMSProp
 * steps of the 4-512-512-2 MLP (batch 128) and the MinAtar conv net (10x10x4, 16 filters, linear
 * head, batch 32), against fixtures written by tests/ref/nn_ref.py (torch 1.13, float32).
 *
 * Initial parameters come from the same integer hash on both sides (see the script), so the
 * fixtures hold only inputs and results. Tolerance: 1e-5 relative, where "relative" is to the
 * largest magnitude of the compared tensor (each parameter tensor separately): the two sides sum
 * in different orders, so an element whose terms cancel has a rounding error set by the size of
 * its terms, not by its own (near-zero) size. */
#include "harness.h"
#include "prism/nn.h"
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

static void one_step(prism_nn *net, prism_optim *opt, const float *x, const int32_t *a,
                     const float *t, const float *w, int B, float *dout) {
    const float *q = prism_nn_forward(net, x, B);
    prism_nn_zero_grad(net);
    prism_nn_loss_huber(q, a, t, w, B, net->cfg.n_actions, NULL, dout);
    prism_nn_backward(net, dout, B);
    if (opt) prism_optim_step(opt, net->params, net->grads);
}

static void reference_test(const char *file, prism_nn_config cfg, int B, int naive) {
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
    const float *w = ref_get(&r, "weights", (uint32_t)B);
    const float *out = ref_get(&r, "out", (uint32_t)(B * A));
    const float *loss = ref_get(&r, "loss", 1);
    const float *grad = ref_get(&r, "grad", (uint32_t)net.n_params);
    const float *adam = ref_get(&r, "adam10", (uint32_t)net.n_params);
    const float *rms = ref_get(&r, "rmsprop10", (uint32_t)net.n_params);
    if (!bounds || !x || !af || !t || !w || !out || !loss || !grad || !adam || !rms) goto done;
    int32_t *a = malloc(sizeof(int32_t) * (size_t)B);
    float *dout = malloc(sizeof(float) * (size_t)B * (size_t)A);
    for (int b = 0; b < B; b++) a[b] = (int32_t)af[b];

    hash_params(&net, bounds);
    const float *q = prism_nn_forward(&net, x, B);
    double e = rel_err(q, out, (size_t)B * (size_t)A);
    if (!(e <= 1e-5)) test_fail(__FILE__, __LINE__, "%s outputs: relative error %.3g", file, e);
    double L = prism_nn_loss_huber(q, a, t, w, B, A, NULL, dout);
    CHECK_NEAR(L, loss[0], 1e-5 * fabs((double)loss[0]));
    prism_nn_zero_grad(&net);
    prism_nn_backward(&net, dout, B);
    check_tensors("gradient", &net, net.grads, grad, 1e-5);

    prism_optim opt;
    prism_optim_config oc = prism_optim_config_adam(1e-3f, 3.125e-4f);
    REQUIRE(prism_optim_init(&opt, &oc, net.n_params) == PRISM_OK);
    hash_params(&net, bounds);
    for (int s = 0; s < 10; s++) one_step(&net, &opt, x, a, t, w, B, dout);
    check_tensors("adam x10", &net, net.params, adam, 1e-5);
    prism_optim_free(&opt);

    oc = prism_optim_config_rmsprop_torch(1e-4f);
    oc.rho = 0.95f, oc.eps = 1e-5f, oc.centered = 1, oc.momentum = 0.5f;
    REQUIRE(prism_optim_init(&opt, &oc, net.n_params) == PRISM_OK);
    hash_params(&net, bounds);
    for (int s = 0; s < 10; s++) one_step(&net, &opt, x, a, t, w, B, dout);
    check_tensors("rmsprop x10", &net, net.params, rms, 1e-5);
    prism_optim_free(&opt);
    free(a), free(dout);
done:
    prism_nn_free(&net);
    ref_free(&r);
}

TEST(nn_ref_pytorch_mlp_4_512_512_2) {
    reference_test("nn_mlp.bin", prism_nn_config_mlp(4, 2, 512, 512), 128, 0);
}

TEST(nn_ref_pytorch_minatar_conv) {
    reference_test("nn_minatar.bin", prism_nn_config_minatar(10, 10, 4, 16, 6), 32, 0);
}

TEST(nn_ref_pytorch_naive_kernels) {
    reference_test("nn_minatar.bin", prism_nn_config_minatar(10, 10, 4, 16, 6), 32, 1);
}
