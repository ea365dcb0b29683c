/* Tests for precision bf16 (src/nn/bf16.c): the conversion against hand values, the emulated
 * kernels against a scalar model of vdpbf16ps written here from Intel's pseudocode, the
 * hardware kernel against the emulation (where the CPU has AVX512_BF16), and a bf16 network's
 * gradients against fp32 finite differences. Runs (determinism, resume, threads) are in
 * test_train_bf16.c. */
#include "harness.h"
#include "prism/nn.h"
#include "../src/nn/nn_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

TEST(bf16_conversion_rounds_to_nearest_even_and_keeps_specials) {
    static const struct {
        uint32_t in;
        uint16_t out;
    } cases[] = {
        {0x3F800000u, 0x3F80}, /* 1 */
        {0x3F808000u, 0x3F80}, /* 1 + 2^-8: a tie, to the even 0x3F80 */
        {0x3F818000u, 0x3F82}, /* a tie between 0x3F81 and 0x3F82: up to the even one */
        {0x3F808001u, 0x3F81}, /* just above the tie: up */
        {0x3F807FFFu, 0x3F80}, /* just below: down */
        {0xBF818000u, 0xBF82}, /* the sign does not change the rounding */
        {0x7F7FFFFFu, 0x7F80}, /* FLT_MAX rounds to infinity */
        {0x7F7F7FFFu, 0x7F7F}, /* the largest value that stays finite */
        {0x7F800000u, 0x7F80}, /* +inf */
        {0xFF800000u, 0xFF80}, /* -inf */
        {0x7FC00000u, 0x7FC0}, /* quiet NaN */
        {0x7F800001u, 0x7FC0}, /* a NaN whose payload is all in the dropped bits stays NaN */
        {0xFF810000u, 0xFFC1}, /* signalling NaN: quieted, payload kept */
        {0x00000001u, 0x0000}, /* the smallest denormal: zero */
        {0x807FFFFFu, 0x8000}, /* the largest negative denormal: -0 */
        {0x80000000u, 0x8000}, /* -0 */
        {0x00800000u, 0x0080}, /* FLT_MIN */
        {0x00FFFFFFu, 0x0100}, /* rounds up across a binade */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t got = nn_bf16_from_float(from_bits(cases[i].in));
        if (got != cases[i].out)
            test_fail(__FILE__, __LINE__, "0x%08x -> 0x%04x, want 0x%04x", (unsigned)cases[i].in,
                      (unsigned)got, (unsigned)cases[i].out);
    }
    CHECK(bits(nn_bf16_to_float(0x3F82)) == 0x3F820000u);
    CHECK(isnan(nn_bf16_to_float(nn_bf16_from_float(nanf("")))));
}

/* ---- a scalar model of vdpbf16ps, from the pseudocode ------------------------------------ */

static float model_daz(float x) {
    return fpclassify(x) == FP_SUBNORMAL ? copysignf(0.0f, x) : x;
}

/* One fp32 lane: srcdest += a[1] * b[1], then += a[0] * b[0]; each an FMA (the product of two
 * bf16 values is exact), rounded to nearest even, inputs DAZ, result FTZ. */
static float model_lane(float acc, const uint16_t a[2], const uint16_t b[2]) {
    for (int h = 1; h >= 0; h--) {
        float x = model_daz(nn_bf16_to_float(a[h])), y = model_daz(nn_bf16_to_float(b[h]));
        acc = model_daz(fmaf(x, y, model_daz(acc)));
    }
    return acc;
}

/* C[m][n] for A (M, K) and B (N, K) in bf16, K padded to even with zeros. */
static float model_dot(const uint16_t *a, const uint16_t *b, int K, float init) {
    float acc = init;
    for (int k = 0; k < K; k += 2) {
        uint16_t pa[2] = {a[k], k + 1 < K ? a[k + 1] : 0}, pb[2] = {b[k], k + 1 < K ? b[k + 1] : 0};
        acc = model_lane(acc, pa, pb);
    }
    return acc;
}

/* Values from -1 to 1, some scaled down to 1e-20 so that products and sums reach the denormal
 * range (flushed), a few exact ties of the rounding, and zeros. */
static void fill_mixed(float *x, size_t n, uint64_t seed) {
    prism_rng r;
    prism_rng_seed(&r, seed, 5);
    for (size_t i = 0; i < n; i++) {
        double v = prism_rng_range(&r, -1.0, 1.0);
        uint32_t pick = prism_rng_below(&r, 16);
        if (pick == 0) v *= 1e-20;
        if (pick == 1) v = 0;
        x[i] = (float)v;
        if (pick == 2) x[i] = from_bits((bits(x[i]) & 0xFFFF0000u) | 0x8000u); /* a tie */
    }
}

static int same_bits(float a, float b) {
    return bits(a) == bits(b) || (isnan(a) && isnan(b));
}

typedef void (*gemm_fn)(float *, size_t, const uint32_t *, const uint32_t *, size_t, const float *,
                        int, int, int, int);

/* The kernel `fn` against the model for C (M, N) = A (M, K) B (N, K)^T in every mode, with and
 * without a bias, A packed from a transposed source (strides) and B from a row-major one. */
static void kernel_case(const char *what, gemm_fn fn, int M, int N, int K) {
    float *a = malloc(sizeof(float) * (size_t)K * M), *b = malloc(sizeof(float) * (size_t)N * K);
    float *bias = malloc(sizeof(float) * (size_t)N), *c = malloc(sizeof(float) * (size_t)M * N);
    float *want = malloc(sizeof(float) * (size_t)M * N),
          *c0 = malloc(sizeof(float) * (size_t)M * N);
    uint16_t *ra = malloc(2 * (size_t)M * K), *rb = malloc(2 * (size_t)N * K);
    const int P = (K + 1) / 2;
    const size_t ldb = nn_bf16_ldb(N);
    uint32_t *pa = malloc(4 * (size_t)M * P), *pb = malloc(4 * (size_t)P * ldb);
    fill_mixed(a, (size_t)K * M, 1), fill_mixed(b, (size_t)N * K, 2);
    fill_mixed(bias, (size_t)N, 3), fill_mixed(c0, (size_t)M * N, 4);
    /* a is stored (K, M): row m of A is column m */
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++)
            ra[(size_t)m * K + k] = nn_bf16_from_float(a[(size_t)k * M + m]);
    for (size_t i = 0; i < (size_t)N * K; i++) rb[i] = nn_bf16_from_float(b[i]);
    nn_bf16_pack_a(pa, a, M, K, 1, (size_t)M);
    nn_bf16_pack_b(pb, ldb, b, N, K, (size_t)K, 1);
    for (int with_bias = 0; with_bias <= 1; with_bias++)
        for (int mode = NN_BF16_STORE; mode <= NN_BF16_ADD; mode++) {
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    size_t i = (size_t)m * N + n;
                    float s = model_dot(ra + (size_t)m * K, rb + (size_t)n * K, K,
                                        with_bias ? bias[n] : 0.0f);
                    want[i] = mode == NN_BF16_ADD    ? c0[i] + s
                              : mode == NN_BF16_RELU ? (!(s <= 0.0f) ? s : 0.0f)
                                                     : s;
                }
            memcpy(c, c0, sizeof(float) * (size_t)M * N);
            fn(c, (size_t)N, pa, pb, ldb, with_bias ? bias : NULL, M, N, P, mode);
            for (size_t i = 0; i < (size_t)M * N; i++)
                if (!same_bits(c[i], want[i])) {
                    test_fail(__FILE__, __LINE__,
                              "%s %dx%dx%d bias %d mode %d: C[%zu] = %a (0x%08x), model %a", what,
                              M, N, K, with_bias, mode, i, (double)c[i], (unsigned)bits(c[i]),
                              (double)want[i]);
                    break;
                }
        }
    free(a), free(b), free(bias), free(c), free(want), free(c0), free(ra), free(rb), free(pa);
    free(pb);
}

static const int kernel_shapes[][3] = {{1, 1, 1},     {1, 5, 2},    {3, 7, 3},   {4, 16, 8},
                                       {5, 17, 33},   {9, 40, 64},  {2, 33, 1},  {13, 64, 129},
                                       {32, 51, 512}, {7, 100, 31}, {1, 512, 4}, {6, 3, 128}};

TEST(bf16_emulated_kernels_equal_a_scalar_model_of_vdpbf16ps) {
    for (size_t s = 0; s < sizeof kernel_shapes / sizeof kernel_shapes[0]; s++) {
        const int *sh = kernel_shapes[s];
        kernel_case("portable", nn_bf16_gemm_portable, sh[0], sh[1], sh[2]);
        kernel_case("emulated", nn_bf16_gemm_emulated, sh[0], sh[1], sh[2]);
        kernel_case("dispatched", nn_bf16_gemm, sh[0], sh[1], sh[2]);
    }
}

/* The flush is visible: a product in the denormal range leaves the accumulator at zero, and a
 * denormal bias is read as zero, where plain fp32 arithmetic would keep both. */
TEST(bf16_kernel_flushes_denormal_results_and_reads_denormal_inputs_as_zero) {
    const float x = 0x1p-70f, bias[1] = {0x1p-140f};
    uint32_t pa[1], pb[32]; /* nn_bf16_ldb(1) words */
    nn_bf16_pack_a(pa, &x, 1, 1, 1, 1);
    nn_bf16_pack_b(pb, nn_bf16_ldb(1), &x, 1, 1, 1, 1);
    float c = 1;
    nn_bf16_gemm_emulated(&c, 1, pa, pb, nn_bf16_ldb(1), bias, 1, 1, 1, NN_BF16_STORE);
    CHECK(bits(c) == 0u);
    CHECK(fmaf(x, x, bias[0]) != 0.0f); /* what fp32 without the flush gives */
}

static void gemm_hw(float *C, size_t ldc, const uint32_t *A, const uint32_t *Bp, size_t ldb,
                    const float *bias, int M, int N, int P, int mode) {
    CHECK(nn_bf16_gemm_hw(C, ldc, A, Bp, ldb, bias, M, N, P, mode));
}

TEST(bf16_hardware_kernel_equals_the_emulation) {
    if (!prism_nn_bf16_hardware()) {
        test_skip("this CPU lacks AVX512_BF16: the vdpbf16ps kernel cannot run here (it is "
                  "compiled and checked against the emulation on CPUs that have it)");
        return;
    }
    for (size_t s = 0; s < sizeof kernel_shapes / sizeof kernel_shapes[0]; s++) {
        const int *sh = kernel_shapes[s];
        kernel_case("hardware", gemm_hw, sh[0], sh[1], sh[2]);
    }
}

/* ---- networks ---------------------------------------------------------------------------- */

static prism_nn_config bf16_config(int noisy, int dueling, int atoms) {
    prism_nn_config c = prism_nn_config_mlp(6, 3, 33, 24);
    c.noisy = noisy, c.noisy_sigma0 = 0.5f, c.dueling = dueling;
    c.n_atoms = atoms, c.v_min = -5, c.v_max = 5;
    c.precision = PRISM_NN_BF16;
    return c;
}

/* Central differences over every parameter of the double-precision reference forward (fp32
 * weights, no bf16 rounding) of the loss sum(out * probe): fd (P). */
static int finite_differences(prism_nn *net, const float *x, int B, const float *probe,
                              double *fd) {
    const size_t O = (size_t)B * (size_t)net->out_size;
    double *out = malloc(sizeof(double) * O);
    if (!out) return 0;
    for (size_t p = 0; p < net->n_params; p++) {
        const float keep = net->params[p], hi = keep + 1e-4f, lo = keep - 1e-4f;
        double l[2] = {0, 0};
        for (int side = 0; side < 2; side++) {
            net->params[p] = side ? lo : hi;
            if (prism_nn_forward_f64(net, x, B, out) != PRISM_OK) return free(out), 0;
            for (size_t i = 0; i < O; i++) l[side] += out[i] * (double)probe[i];
        }
        net->params[p] = keep;
        fd[p] = (l[0] - l[1]) / ((double)hi - (double)lo);
    }
    free(out);
    return 1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median over parameters of |g - fd| / (|fd| + 1e-3 max |fd|): robust to the few entries a
 * flipped ReLU unit changes outright. */
static double median_rel(const float *g, const double *fd, size_t n) {
    double mx = 0, *r = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) mx = fabs(fd[i]) > mx ? fabs(fd[i]) : mx;
    for (size_t i = 0; i < n; i++) r[i] = fabs((double)g[i] - fd[i]) / (fabs(fd[i]) + 1e-3 * mx);
    qsort(r, n, sizeof(double), cmp_double);
    double m = r[n / 2];
    free(r);
    return m;
}

/* ||g - fd|| / ||fd|| over all parameters. */
static double rel_l2(const float *g, const double *fd, size_t n) {
    double e = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        e += ((double)g[i] - fd[i]) * ((double)g[i] - fd[i]);
        r += fd[i] * fd[i];
    }
    return sqrt(e / r);
}

/* The analytic bf16 gradient against central differences of the fp32 function. They differ by
 * the operands' rounding (2^-9 relative per operand) and, outright, in the few entries fed by a
 * ReLU unit whose sign the rounding flips. Stated tolerance: the median relative error below
 * 1% (the typical entry is off by the rounding, about 0.3%) and the relative L2 error over all
 * parameters below 10% (the flipped units); the fp32 gradient, the control, is within 1e-5 on
 * both (the differences' own error), and bf16 is visibly not fp32 (median above 1e-4). Plain,
 * noisy, dueling and dueling noisy C51 nets. */
TEST(bf16_gradients_match_fp32_finite_differences) {
    static const int variants[][3] = {{0, 0, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 11}};
    enum { B = 8 };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        prism_nn_config c = bf16_config(variants[v][0], variants[v][1], variants[v][2]);
        prism_nn net, f32;
        REQUIRE(prism_nn_init(&net, &c, B, 11 + v) == PRISM_OK);
        c.precision = PRISM_NN_FP32;
        REQUIRE(prism_nn_init(&f32, &c, B, 11 + v) == PRISM_OK);
        prism_nn_noise_copy(&f32, &net);
        float x[B * 6], probe[B * 3 * 11];
        fill_mixed(x, B * 6, 30 + v);
        for (int i = 0; i < B * 6; i++) x[i] = x[i] * 2.0f + 0.1f;
        fill_mixed(probe, (size_t)B * (size_t)net.out_size, 40 + v);
        double *fd = malloc(sizeof(double) * net.n_params);
        REQUIRE(fd && finite_differences(&f32, x, B, probe, fd));
        prism_nn *nets[2] = {&net, &f32};
        double l2[2], med[2];
        for (int k = 0; k < 2; k++) {
            prism_nn_forward(nets[k], x, B);
            prism_nn_zero_grad(nets[k]);
            prism_nn_backward(nets[k], probe, B);
            l2[k] = rel_l2(nets[k]->grads, fd, net.n_params);
            med[k] = median_rel(nets[k]->grads, fd, net.n_params);
        }
        if (!(med[0] < 0.01 && l2[0] < 0.1 && med[0] > 1e-4 && med[1] < 1e-5 && l2[1] < 1e-5))
            test_fail(__FILE__, __LINE__,
                      "variant %zu: bf16 median %.3g, L2 %.3g; fp32 median %.3g, L2 %.3g", v,
                      med[0], l2[0], med[1], l2[1]);
        free(fd);
        prism_nn_free(&f32);
        prism_nn_free(&net);
    }
}

/* Batch 1 (acting) goes through the same chains as a batch: its outputs equal the batch's row
 * bit for bit, noisy layers included (their weights are materialised for the bf16 product). */
TEST(bf16_batch1_forward_equals_its_row_of_the_batch) {
    for (int noisy = 0; noisy <= 1; noisy++) {
        prism_nn_config c = bf16_config(noisy, 1, 1);
        prism_nn net;
        REQUIRE(prism_nn_init(&net, &c, 5, 3) == PRISM_OK);
        float x[5 * 6], rows[5 * 3];
        fill_mixed(x, 5 * 6, 8);
        memcpy(rows, prism_nn_forward(&net, x, 5), sizeof rows);
        for (int n = 0; n < 5; n++) {
            const float *q = prism_nn_forward(&net, x + 6 * n, 1);
            if (memcmp(q, rows + 3 * n, 3 * sizeof(float)) != 0)
                test_fail(__FILE__, __LINE__, "noisy %d row %d differs", noisy, n);
        }
        prism_nn_free(&net);
    }
}

/* The split over threads gives each output column to one part, computed the same way: a bf16
 * network's forward and backward with 2 and 3 threads equal 1 thread's bit for bit, and the
 * products of its 256-wide layers were split. (The pool runs in any build; only the public
 * prism_nn_set_threads refuses more than one thread with OpenBLAS.) */
TEST(bf16_products_split_over_threads_give_the_bits_of_one) {
    prism_nn_config c = prism_nn_config_mlp(6, 3, 256, 256);
    c.dueling = 1, c.precision = PRISM_NN_BF16;
    enum { B = 32 };
    float x[B * 6], dout[B * 3], ref_out[B * 3];
    fill_mixed(x, B * 6, 50), fill_mixed(dout, B * 3, 51);
    prism_nn net;
    REQUIRE(prism_nn_init(&net, &c, B, 4) == PRISM_OK);
    float *ref_grads = malloc(sizeof(float) * net.n_params);
    REQUIRE(ref_grads != NULL);
    for (int threads = 1; threads <= 3; threads++) {
        REQUIRE(nn_pool_start(threads) == PRISM_OK);
        const unsigned long long jobs = nn_pool_jobs();
        const float *out = prism_nn_forward(&net, x, B);
        prism_nn_zero_grad(&net);
        prism_nn_backward(&net, dout, B);
        if (threads == 1) {
            memcpy(ref_out, out, sizeof ref_out);
            memcpy(ref_grads, net.grads, sizeof(float) * net.n_params);
            continue;
        }
        CHECK(nn_pool_jobs() - jobs >= 3); /* the 256x256 forward, input and weight gradients */
        if (memcmp(out, ref_out, sizeof ref_out) ||
            memcmp(net.grads, ref_grads, sizeof(float) * net.n_params))
            test_fail(__FILE__, __LINE__, "%d threads differ from 1", threads);
    }
    CHECK(nn_pool_start(1) == PRISM_OK);
    free(ref_grads);
    prism_nn_free(&net);
}
