/* src/nn/gradcheck.c — a double-precision reference forward of a network and the
 * finite-difference gradient check built on it (for tests and `prism doctor`).
 *
 * The reference forward is deliberately naive (plain loops, no kernels shared with the float
 * path), so a bug in the fast or naive float kernels cannot hide in both. Slow; allocates its
 * scratch; never used in training. */
#include "nn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Scratch for one double forward: two activation buffers, plus an optional record of the ReLU
 * pattern (one byte per ReLU unit over the whole batch) to detect kink crossings. */
typedef struct f64_ctx {
    double *a, *b, *c; /* (R, maxw), R the output rows; c only with the quantile embedding */
    size_t maxw;
    unsigned char *mask; /* NULL or (n_relu) */
    size_t n_relu;
} f64_ctx;

static size_t ctx_sizes(const prism_nn *net, int B, size_t *n_relu) {
    const prism_nn_impl *im = net->impl;
    size_t maxw = (size_t)net->in_size, relu = 0;
    if (im->has_conv) {
        size_t w = (size_t)im->conv_ho * (size_t)im->conv_wo * (size_t)net->cfg.conv_filters;
        maxw = w > maxw ? w : maxw;
        relu += w;
    }
    for (int i = 0; i < im->n_dense; i++) {
        size_t w = (size_t)im->dense[i].out;
        maxw = w > maxw ? w : maxw;
        if (im->dense[i].relu) relu += w;
    }
    if ((size_t)net->out_size > maxw) maxw = (size_t)net->out_size;
    *n_relu = relu * (size_t)B;
    const size_t E = (size_t)net->cfg.quantile_embedding_dim;
    if (E > 0) {
        maxw = E > maxw ? E : maxw;
        *n_relu += (size_t)prism_nn_rows(net, B) * (size_t)im->embed.out; /* phi's ReLU */
    }
    return maxw;
}

static void relu_record(double *y, size_t n, f64_ctx *cx, size_t *k) {
    for (size_t i = 0; i < n; i++) {
        unsigned char on = y[i] > 0.0;
        if (cx->mask) cx->mask[(*k)++] = on;
        if (!on) y[i] = 0.0;
    }
}

/* One dense layer in double: y (B, O) = x W^T + b with W, b from theta (noise applied unless
 * eval mode). */
static void dense_f64(const prism_nn *net, const nn_dense *d, const double *th, const double *x,
                      double *y, int B) {
    int noisy = d->noisy && !net->eval_mode;
    for (int n = 0; n < B; n++)
        for (int o = 0; o < d->out; o++) {
            double eo = noisy ? (double)d->eps_out[o] : 0.0;
            double s = th[d->b + (size_t)o] + (noisy ? th[d->bs + (size_t)o] * eo : 0.0);
            for (int i = 0; i < d->in; i++) {
                size_t k = (size_t)o * d->in + i;
                double w = th[d->w + k];
                if (noisy) w += th[d->ws + k] * (eo * (double)d->eps_in[i]);
                s += x[(size_t)n * d->in + i] * w;
            }
            y[(size_t)n * d->out + o] = s;
        }
}

/* LayerNorm in place over rows (R, D) of y with scale th[g..] and shift th[b..]. */
static void layer_norm_f64(double *y, const double *th, size_t g, size_t b, size_t R, int D,
                           double eps) {
    for (size_t r = 0; r < R; r++) {
        double *yr = y + r * (size_t)D, m = 0, v = 0;
        for (int i = 0; i < D; i++) m += yr[i];
        m /= D;
        for (int i = 0; i < D; i++) v += (yr[i] - m) * (yr[i] - m);
        double rs = 1.0 / sqrt(v / D + eps);
        for (int i = 0; i < D; i++)
            yr[i] = (yr[i] - m) * rs * th[g + (size_t)i] + th[b + (size_t)i];
    }
}

/* The context's buffers, (R, maxw) each; 0 on success. */
static int ctx_alloc(f64_ctx *cx, const prism_nn *net, int B, size_t maxw) {
    const size_t n = maxw * (size_t)prism_nn_rows(net, B);
    cx->a = prism_alloc(sizeof(double) * n);
    cx->b = prism_alloc(sizeof(double) * n);
    if (net->cfg.quantile_embedding_dim > 0) cx->c = prism_alloc(sizeof(double) * n);
    return !cx->a || !cx->b || (net->cfg.quantile_embedding_dim > 0 && !cx->c);
}

static void ctx_free(f64_ctx *cx) {
    prism_free(cx->a), prism_free(cx->b), prism_free(cx->c);
}

static prism_status nomem_f64(f64_ctx *cx) {
    ctx_free(cx);
    return prism_error(PRISM_ERR_NOMEM, "nn: out of memory for the double-precision forward");
}

static void forward_f64(const prism_nn *net, const double *th, const float *x, int B, double *out,
                        f64_ctx *cx) {
    const prism_nn_impl *im = net->impl;
    const prism_nn_config *c = &net->cfg;
    size_t k = 0;
    double *cur = cx->a, *nxt = cx->b;
    int width = net->in_size;
    for (size_t i = 0; i < (size_t)B * (size_t)width; i++) cur[i] = (double)x[i];
    if (im->has_conv) {
        int pad = c->conv_padding == PRISM_NN_PAD_SAME, H = c->in_h, W = c->in_w, C = c->in_c;
        int F = c->conv_filters, Ho = im->conv_ho, Wo = im->conv_wo;
        for (int n = 0; n < B; n++)
            for (int r = 0; r < Ho; r++)
                for (int cc = 0; cc < Wo; cc++)
                    for (int f = 0; f < F; f++) {
                        double s = th[im->conv_b + (size_t)f];
                        for (int kh = 0; kh < 3; kh++)
                            for (int kw = 0; kw < 3; kw++) {
                                int ir = r + kh - pad, ic = cc + kw - pad;
                                if (ir < 0 || ir >= H || ic < 0 || ic >= W) continue;
                                for (int ch = 0; ch < C; ch++)
                                    s += cur[(((size_t)n * H + ir) * W + ic) * C + ch] *
                                         th[im->conv_w + (((size_t)f * 3 + kh) * 3 + kw) * C + ch];
                            }
                        nxt[(((size_t)n * Ho + r) * Wo + cc) * F + f] = s;
                    }
        width = Ho * Wo * F;
        if (c->layer_norm)
            layer_norm_f64(nxt, th, im->conv_lg, im->conv_lb, (size_t)B * (size_t)Ho * (size_t)Wo,
                           F, (double)c->layer_norm_eps);
        relu_record(nxt, (size_t)B * (size_t)width, cx, &k);
        double *t = cur;
        cur = nxt, nxt = t;
    }
    for (int l = 0; l < im->n_hidden; l++) {
        const nn_dense *d = &im->dense[l];
        dense_f64(net, d, th, cur, nxt, B);
        if (d->ln)
            layer_norm_f64(nxt, th, d->lg, d->lb, (size_t)B, d->out, (double)c->layer_norm_eps);
        relu_record(nxt, (size_t)B * (size_t)d->out, cx, &k);
        double *t = cur;
        cur = nxt, nxt = t;
    }
    const int A = c->n_actions, N = c->n_atoms, E = c->quantile_embedding_dim;
    const int R = prism_nn_rows(net, B);
    if (E > 0) {
        /* cosines into nxt, phi into c, then the features times phi into nxt */
        const int T = im->n_taus, K = im->embed.out;
        for (int r = 0; r < R; r++)
            for (int i = 0; i < E; i++)
                nxt[(size_t)r * E + i] =
                    cos(3.14159265358979323846 * (i + 1) * (double)im->taus[r]);
        dense_f64(net, &im->embed, th, nxt, cx->c, R);
        relu_record(cx->c, (size_t)R * (size_t)K, cx, &k);
        for (int r = 0; r < R; r++)
            for (int i = 0; i < K; i++)
                nxt[(size_t)r * K + i] = cur[(size_t)(r / T) * K + i] * cx->c[(size_t)r * K + i];
        double *t = cur;
        cur = nxt, nxt = t;
    }
    const nn_dense *head = &im->dense[im->n_hidden];
    if (!c->dueling) {
        dense_f64(net, head, th, cur, out, R);
        return;
    }
    /* Dueling: adv into out, value into nxt, then combine in place. */
    dense_f64(net, head, th, cur, out, R);
    dense_f64(net, &im->dense[im->n_hidden + 1], th, cur, nxt, R);
    for (int n = 0; n < R; n++)
        for (int i = 0; i < N; i++) {
            double *o = out + (size_t)n * A * N, s = 0;
            for (int a = 0; a < A; a++) s += o[a * N + i];
            for (int a = 0; a < A; a++)
                o[a * N + i] = nxt[(size_t)n * N + i] + o[a * N + i] - s / A;
        }
}

prism_status prism_nn_forward_f64(const prism_nn *net, const float *x, int B, double *out) {
    PRISM_ASSERT(B >= 1);
    size_t n_relu, maxw = ctx_sizes(net, B, &n_relu);
    f64_ctx cx = {0};
    if (ctx_alloc(&cx, net, B, maxw)) return nomem_f64(&cx);
    double *th = prism_alloc(sizeof(double) * net->n_params);
    prism_status st = PRISM_OK;
    if (!th) {
        st = prism_error(PRISM_ERR_NOMEM, "nn: out of memory for the double-precision forward");
    } else {
        for (size_t i = 0; i < net->n_params; i++) th[i] = (double)net->params[i];
        forward_f64(net, th, x, B, out, &cx);
    }
    ctx_free(&cx), prism_free(th);
    return st;
}

prism_status prism_nn_gradcheck(prism_nn *net, const float *x, int B, const float *probe, double h,
                                int checks_per_tensor, prism_rng *rng,
                                prism_nn_gradcheck_result *res) {
    PRISM_ASSERT(B >= 1 && B <= net->max_batch && h > 0 && checks_per_tensor > 0);
    memset(res, 0, sizeof *res);
    const size_t O = (size_t)prism_nn_rows(net, B) * (size_t)net->out_size;
    size_t n_relu, maxw = ctx_sizes(net, B, &n_relu);
    f64_ctx cx = {0};
    int ctx_failed = ctx_alloc(&cx, net, B, maxw);
    double *th = prism_alloc(sizeof(double) * net->n_params);
    double *out = prism_alloc(sizeof(double) * O);
    float *pr = prism_alloc(sizeof(float) * O);
    unsigned char *m0 = prism_alloc(n_relu + 1), *m1 = prism_alloc(n_relu + 1);
    prism_status st = PRISM_OK;
    if (ctx_failed || !th || !out || !pr || !m0 || !m1) {
        st = prism_error(PRISM_ERR_NOMEM, "nn gradcheck: out of memory for scratch");
        goto done;
    }
    /* The probe: d L / d out. A fixed pseudo-random one when none is given. */
    if (probe) {
        memcpy(pr, probe, sizeof(float) * O);
    } else {
        prism_rng pg;
        prism_rng_seed(&pg, 12345, 0);
        for (size_t i = 0; i < O; i++) pr[i] = (float)prism_rng_range(&pg, -1.0, 1.0);
    }
    /* Analytic gradient (float path). */
    prism_nn_forward(net, x, B);
    prism_nn_zero_grad(net);
    prism_nn_backward(net, pr, B);
    for (size_t i = 0; i < net->n_params; i++) th[i] = (double)net->params[i];
    for (int t = 0; t < net->n_tensors; t++) {
        const prism_nn_tensor *ten = &net->tensors[t];
        size_t n = ten->len < (size_t)checks_per_tensor ? ten->len : (size_t)checks_per_tensor;
        for (size_t c = 0; c < n; c++) {
            size_t j = ten->len <= (size_t)checks_per_tensor
                           ? c
                           : (size_t)prism_rng_below(rng, (uint32_t)ten->len);
            size_t p = ten->offset + j;
            double keep = th[p], lp = 0, lm = 0;
            th[p] = keep + h;
            cx.mask = m0;
            forward_f64(net, th, x, B, out, &cx);
            for (size_t i = 0; i < O; i++) lp += out[i] * (double)pr[i];
            th[p] = keep - h;
            cx.mask = m1;
            forward_f64(net, th, x, B, out, &cx);
            for (size_t i = 0; i < O; i++) lm += out[i] * (double)pr[i];
            th[p] = keep;
            if (n_relu && memcmp(m0, m1, n_relu) != 0) {
                res->skipped_kinks++; /* the step crossed a ReLU kink: FD is not a derivative */
                continue;
            }
            double fd = (lp - lm) / (2 * h), g = (double)net->grads[p];
            double abs_err = fabs(g - fd), den = fabs(g) + fabs(fd);
            double rel = abs_err / (den > 1e-6 ? den : 1e-6);
            res->checked++;
            if (abs_err > res->max_abs_err) res->max_abs_err = abs_err;
            if (rel > res->max_rel_err) {
                res->max_rel_err = rel;
                snprintf(res->worst, sizeof res->worst, "%s[%zu]", ten->name, j);
            }
        }
    }
done:
    ctx_free(&cx), prism_free(th), prism_free(out), prism_free(pr);
    prism_free(m0), prism_free(m1);
    return st;
}
