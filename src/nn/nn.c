/* src/nn/nn.c — a Q-network: config, parameter layout and initialisation, buffers, and the
 * forward / backward wiring of conv -> dense+ReLU -> head (plain, dueling, distributional,
 * noisy). The arithmetic lives in kernels.c; losses and the C51 helpers in loss.c; optimizers
 * in optim.c; files in io.c; the gradient check in gradcheck.c. */
#include "nn_internal.h"

#include <math.h>
#include <string.h>

prism_nn_config prism_nn_config_mlp(int in_dim, int n_actions, int h1, int h2) {
    prism_nn_config c;
    memset(&c, 0, sizeof c);
    c.in_dim = in_dim;
    if (h1 > 0) c.hidden[c.n_hidden++] = h1;
    if (h2 > 0) c.hidden[c.n_hidden++] = h2;
    c.n_actions = n_actions;
    c.n_atoms = 1;
    c.init = PRISM_NN_INIT_TORCH_DEFAULT;
    c.init_scale = 1.0f;
    return c;
}

prism_nn_config prism_nn_config_minatar(int h, int w, int c, int filters, int n_actions) {
    prism_nn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.in_h = h, cfg.in_w = w, cfg.in_c = c;
    cfg.conv_filters = filters;
    cfg.conv_padding = PRISM_NN_PAD_SAME;
    cfg.n_actions = n_actions;
    cfg.n_atoms = 1;
    cfg.init = PRISM_NN_INIT_TORCH_DEFAULT;
    cfg.init_scale = 1.0f;
    return cfg;
}

int prism_nn_config_in_size(const prism_nn_config *c) {
    return c->in_dim > 0 ? c->in_dim : c->in_h * c->in_w * c->in_c;
}

int prism_nn_config_out_size(const prism_nn_config *c) {
    return c->n_actions * c->n_atoms;
}

/* A cap that keeps every size product far from int overflow. */
#define DIM_MAX (1 << 16)

prism_status prism_nn_config_check(const prism_nn_config *c) {
    int image = c->in_h > 0 || c->in_w > 0 || c->in_c > 0;
    if (c->in_dim > 0 && image)
        return prism_error(PRISM_ERR_INVALID, "nn config: give either in_dim (vector input) or "
                                              "in_h/in_w/in_c (image input), not both");
    if (c->in_dim < 0 || c->in_dim > DIM_MAX)
        return prism_error(PRISM_ERR_INVALID, "nn config: in_dim %d must be in 1..%d", c->in_dim,
                           DIM_MAX);
    if (!image && c->in_dim == 0)
        return prism_error(PRISM_ERR_INVALID, "nn config: no input: set in_dim (vector) or "
                                              "in_h, in_w, in_c (image)");
    if (image && (c->in_h <= 0 || c->in_w <= 0 || c->in_c <= 0 || c->in_h > 1024 ||
                  c->in_w > 1024 || c->in_c > 1024))
        return prism_error(PRISM_ERR_INVALID,
                           "nn config: image input %dx%dx%d: each of in_h, in_w, in_c must be "
                           "in 1..1024",
                           c->in_h, c->in_w, c->in_c);
    if (c->conv_filters < 0 || c->conv_filters > 4096)
        return prism_error(PRISM_ERR_INVALID, "nn config: conv_filters %d must be in 0..4096",
                           c->conv_filters);
    if (c->conv_filters > 0) {
        if (!image)
            return prism_error(PRISM_ERR_INVALID,
                               "nn config: a conv layer needs image input (in_h, in_w, in_c)");
        if (c->conv_padding != PRISM_NN_PAD_SAME && c->conv_padding != PRISM_NN_PAD_VALID)
            return prism_error(PRISM_ERR_INVALID, "nn config: conv_padding must be SAME or VALID");
        if (c->conv_padding == PRISM_NN_PAD_VALID && (c->in_h < 3 || c->in_w < 3))
            return prism_error(PRISM_ERR_INVALID,
                               "nn config: VALID padding needs an image of at least 3x3");
        long long flat = (long long)c->in_h * c->in_w * c->conv_filters;
        if (flat > (1LL << 22))
            return prism_error(PRISM_ERR_INVALID,
                               "nn config: conv output of %lld values is too "
                               "large (at most 4M)",
                               flat);
    }
    if (c->n_hidden < 0 || c->n_hidden > PRISM_NN_MAX_HIDDEN)
        return prism_error(PRISM_ERR_INVALID, "nn config: n_hidden %d must be in 0..%d",
                           c->n_hidden, PRISM_NN_MAX_HIDDEN);
    for (int i = 0; i < c->n_hidden; i++)
        if (c->hidden[i] <= 0 || c->hidden[i] > DIM_MAX)
            return prism_error(PRISM_ERR_INVALID, "nn config: hidden[%d] = %d must be in 1..%d", i,
                               c->hidden[i], DIM_MAX);
    if (c->n_actions <= 0 || c->n_actions > 4096)
        return prism_error(PRISM_ERR_INVALID, "nn config: n_actions %d must be in 1..4096",
                           c->n_actions);
    if (c->n_atoms <= 0 || c->n_atoms > 1024)
        return prism_error(PRISM_ERR_INVALID,
                           "nn config: n_atoms %d must be in 1..1024 (1: scalar Q)", c->n_atoms);
    if (c->n_atoms > 1 && !(c->v_max > c->v_min))
        return prism_error(PRISM_ERR_INVALID,
                           "nn config: a distributional head needs v_max > v_min (got %g, %g)",
                           (double)c->v_min, (double)c->v_max);
    if (c->noisy && !(c->noisy_sigma0 >= 0.0f && c->noisy_sigma0 < 100.0f))
        return prism_error(PRISM_ERR_INVALID,
                           "nn config: noisy_sigma0 %g must be >= 0 (Revisiting Rainbow: 0.1)",
                           (double)c->noisy_sigma0);
    if ((unsigned)c->init > PRISM_NN_INIT_ORTHOGONAL)
        return prism_error(PRISM_ERR_INVALID, "nn config: unknown initialiser %d", (int)c->init);
    if (c->precision != PRISM_NN_FP32 && c->precision != PRISM_NN_BF16)
        return prism_error(PRISM_ERR_INVALID,
                           "nn config: precision %d must be PRISM_NN_FP32 or PRISM_NN_BF16",
                           c->precision);
    if ((c->init == PRISM_NN_INIT_VS_FAN_IN || c->init == PRISM_NN_INIT_VS_FAN_AVG ||
         c->init == PRISM_NN_INIT_ORTHOGONAL) &&
        !(c->init_scale > 0.0f))
        return prism_error(PRISM_ERR_INVALID,
                           "nn config: init_scale %g must be > 0 for variance scaling or the "
                           "orthogonal gain",
                           (double)c->init_scale);
    if (c->layer_norm && c->noisy)
        return prism_error(PRISM_ERR_INVALID, "nn config: layer_norm does not combine with noisy "
                                              "layers; turn one of them off");
    if (c->layer_norm && !(c->layer_norm_eps > 0.0f && c->layer_norm_eps < 1.0f))
        return prism_error(PRISM_ERR_INVALID,
                           "nn config: layer_norm_eps %g must be in (0, 1) (PyTorch: 1e-5)",
                           (double)c->layer_norm_eps);
    if (c->quantile_embedding_dim < 0 || c->quantile_embedding_dim > 4096)
        return prism_error(PRISM_ERR_INVALID,
                           "nn config: quantile_embedding_dim %d must be in 0..4096 (Dopamine: 64)",
                           c->quantile_embedding_dim);
    if (c->quantile_embedding_dim > 0 && c->n_atoms != 1)
        return prism_error(PRISM_ERR_INVALID,
                           "nn config: the quantile embedding gives one output per action and "
                           "fraction; set n_atoms to 1 (got %d)",
                           c->n_atoms);
    if (c->quantile_embedding_dim > 0 && c->layer_norm)
        return prism_error(PRISM_ERR_INVALID, "nn config: layer_norm does not combine with the "
                                              "quantile embedding; turn one of them off");
    return PRISM_OK;
}

/* ---- layout ---------------------------------------------------------------------------------- */

static void add_tensor(prism_nn *net, size_t *off, const char *name, int rank, int d0, int d1,
                       int d2, int d3) {
    prism_nn_tensor *t = &net->tensors[net->n_tensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    t->shape[0] = d0, t->shape[1] = d1, t->shape[2] = d2, t->shape[3] = d3;
    size_t len = 1;
    for (int i = 0; i < rank; i++) len *= (size_t)t->shape[i];
    t->offset = *off;
    t->len = len;
    *off += len;
}

/* The LayerNorm scale and shift of a layer named `name` with `n` features. */
static void add_layer_norm(prism_nn *net, size_t *off, const char *name, int n, size_t *g,
                           size_t *b) {
    char buf[32];
    snprintf(buf, sizeof buf, "%s.ln.g", name);
    *g = *off;
    add_tensor(net, off, buf, 1, n, 0, 0, 0);
    snprintf(buf, sizeof buf, "%s.ln.b", name);
    *b = *off;
    add_tensor(net, off, buf, 1, n, 0, 0, 0);
}

static void add_dense(prism_nn *net, nn_dense *d, size_t *off, const char *name, int in, int out,
                      int noisy, int relu) {
    char buf[32];
    d->in = in, d->out = out, d->noisy = noisy, d->relu = relu;
    d->ln = relu && net->cfg.layer_norm;
    snprintf(buf, sizeof buf, "%s.w", name);
    d->w = *off;
    add_tensor(net, off, buf, 2, out, in, 0, 0);
    snprintf(buf, sizeof buf, "%s.b", name);
    d->b = *off;
    add_tensor(net, off, buf, 1, out, 0, 0, 0);
    if (noisy) {
        snprintf(buf, sizeof buf, "%s.w_sigma", name);
        d->ws = *off;
        add_tensor(net, off, buf, 2, out, in, 0, 0);
        snprintf(buf, sizeof buf, "%s.b_sigma", name);
        d->bs = *off;
        add_tensor(net, off, buf, 1, out, 0, 0, 0);
    }
    if (d->ln) add_layer_norm(net, off, name, out, &d->lg, &d->lb);
}

static void init_uniform(float *p, size_t n, double bound, prism_rng *rng) {
    for (size_t i = 0; i < n; i++) p[i] = (float)prism_rng_range(rng, -bound, bound);
}

/* Weight and bias init of one layer per cfg->init (not noisy): w (bn, wn / bn). */
static prism_status init_layer(const prism_nn_config *c, float *w, size_t wn, float *b, size_t bn,
                               double fan_in, double fan_out, prism_rng *rng) {
    double bound;
    switch (c->init) {
    case PRISM_NN_INIT_TORCH_DEFAULT:
        init_uniform(w, wn, 1.0 / sqrt(fan_in), rng);
        init_uniform(b, bn, 1.0 / sqrt(fan_in), rng);
        return PRISM_OK;
    case PRISM_NN_INIT_ORTHOGONAL:
        memset(b, 0, sizeof(float) * bn);
        return nn_init_orthogonal(w, (int)bn, (int)(wn / bn), (double)c->init_scale, rng);
    case PRISM_NN_INIT_GLOROT_UNIFORM:
        bound = sqrt(6.0 / (fan_in + fan_out));
        break;
    case PRISM_NN_INIT_VS_FAN_IN:
        bound = sqrt(3.0 * (double)c->init_scale / fan_in);
        break;
    default:
        bound = sqrt(3.0 * (double)c->init_scale / ((fan_in + fan_out) / 2.0));
        break;
    }
    init_uniform(w, wn, bound, rng);
    memset(b, 0, sizeof(float) * bn);
    return PRISM_OK;
}

/* LayerNorm starts as the identity: g = 1, b = 0. */
static void init_layer_norm(float *p, size_t g, size_t b, int n) {
    for (int i = 0; i < n; i++) p[g + (size_t)i] = 1.0f, p[b + (size_t)i] = 0.0f;
}

static prism_status init_dense(prism_nn *net, nn_dense *d, prism_rng *rng) {
    float *p = net->params;
    size_t wn = (size_t)d->out * (size_t)d->in;
    if (d->noisy) {
        /* Fortunato et al. 2018, factorised: mu ~ U(+-1/sqrt(in)), sigma = sigma0/sqrt(in). */
        double bound = 1.0 / sqrt((double)d->in);
        float s = (float)((double)net->cfg.noisy_sigma0 / sqrt((double)d->in));
        init_uniform(p + d->w, wn, bound, rng);
        init_uniform(p + d->b, (size_t)d->out, bound, rng);
        for (size_t i = 0; i < wn; i++) p[d->ws + i] = s;
        for (int i = 0; i < d->out; i++) p[d->bs + (size_t)i] = s;
        return PRISM_OK;
    }
    if (d->ln) init_layer_norm(p, d->lg, d->lb, d->out);
    return init_layer(&net->cfg, p + d->w, wn, p + d->b, (size_t)d->out, d->in, d->out, rng);
}

void prism_nn_free(prism_nn *net) {
    if (net->impl) {
        prism_free(net->impl->block);
        prism_free(net->impl);
    }
    prism_free(net->params); /* params and grads share one block */
    prism_free(net->tensors);
    memset(net, 0, sizeof *net);
}

prism_status prism_nn_init(prism_nn *net, const prism_nn_config *cfg, int max_batch,
                           uint64_t seed) {
    return prism_nn_init_taus(net, cfg, max_batch, 1, seed);
}

prism_status prism_nn_init_taus(prism_nn *net, const prism_nn_config *cfg, int max_batch,
                                int max_taus, uint64_t seed) {
    memset(net, 0, sizeof *net);
    prism_status st = prism_nn_config_check(cfg);
    if (st) return st;
    if (max_batch < 1 || max_batch > (1 << 16))
        return prism_error(PRISM_ERR_INVALID, "nn: max_batch %d must be in 1..65536", max_batch);
    const int E = cfg->quantile_embedding_dim;
    if (max_taus < 1 || (E == 0 && max_taus != 1) || (long long)max_batch * max_taus > (1 << 16))
        return prism_error(PRISM_ERR_INVALID,
                           "nn: max_taus %d must be 1 without the quantile embedding, and "
                           "max_batch * max_taus at most 65536 with it",
                           max_taus);
    net->max_taus = max_taus;
    nn_blas_single_thread();
    if ((st = nn_blas_check_address_space())) return st;
    net->cfg = *cfg;
    net->max_batch = max_batch;
    net->in_size = prism_nn_config_in_size(cfg);
    net->out_size = prism_nn_config_out_size(cfg);
    net->impl = prism_calloc(1, sizeof *net->impl);
    net->tensors = prism_calloc(6 * (PRISM_NN_MAX_HIDDEN + 4), sizeof *net->tensors);
    if (!net->impl || !net->tensors) goto nomem;
    prism_nn_impl *im = net->impl;

    /* Parameter layout, in forward order: conv, hidden dense layers, head. */
    size_t off = 0;
    int width = net->in_size;
    /* B rows below the embedding, R = B * max_taus from it to the outputs */
    const int B = max_batch, A = cfg->n_actions, N = cfg->n_atoms, R = max_batch * max_taus;
    if (cfg->conv_filters > 0) {
        int pad = cfg->conv_padding == PRISM_NN_PAD_SAME;
        im->has_conv = 1;
        im->conv_ho = cfg->in_h + 2 * pad - 2;
        im->conv_wo = cfg->in_w + 2 * pad - 2;
        im->conv_w = off;
        add_tensor(net, &off, "conv.w", 4, cfg->conv_filters, 3, 3, cfg->in_c);
        im->conv_b = off;
        add_tensor(net, &off, "conv.b", 1, cfg->conv_filters, 0, 0, 0);
        if (cfg->layer_norm)
            add_layer_norm(net, &off, "conv", cfg->conv_filters, &im->conv_lg, &im->conv_lb);
        width = im->conv_ho * im->conv_wo * cfg->conv_filters;
    }
    int maxw = width, max_in = width; /* max_in: the widest dense layer input */
    im->n_hidden = cfg->n_hidden;
    for (int i = 0; i < cfg->n_hidden; i++) {
        char name[24]; /* "dense" + any int */
        snprintf(name, sizeof name, "dense%d", i);
        add_dense(net, &im->dense[i], &off, name, width, cfg->hidden[i], cfg->noisy, 1);
        width = cfg->hidden[i];
        if (width > maxw) maxw = width;
        if (width > max_in) max_in = width;
    }
    if (E > 0) {
        /* no ReLU of its own: nn_tau_product_forward applies it as it reads phi */
        add_dense(net, &im->embed, &off, "tau_embed", E, width, 0, 0);
        if (E > max_in) max_in = E;
    }
    if (cfg->dueling) {
        add_dense(net, &im->dense[cfg->n_hidden], &off, "head.adv", width, A * N, cfg->noisy, 0);
        add_dense(net, &im->dense[cfg->n_hidden + 1], &off, "head.val", width, N, cfg->noisy, 0);
        im->n_dense = cfg->n_hidden + 2;
    } else {
        add_dense(net, &im->dense[cfg->n_hidden], &off, "head", width, A * N, cfg->noisy, 0);
        im->n_dense = cfg->n_hidden + 1;
    }
    if (A * N > maxw) maxw = A * N;
    net->n_params = off;

    /* One block for params and grads (parallel arrays), one for every activation buffer. */
    net->params = prism_alloc(sizeof(float) * 2 * off);
    if (!net->params) goto nomem;
    net->grads = net->params + off;
    memset(net->grads, 0, sizeof(float) * off);

    size_t need = 0; /* in floats; each piece rounded up to 16 floats (64 bytes) */
#define PIECE(n) (((size_t)(n) + 15) & ~(size_t)15)
    if (im->has_conv) {
        size_t M = (size_t)B * (size_t)im->conv_ho * (size_t)im->conv_wo;
        need += PIECE(M * (size_t)cfg->conv_filters) + PIECE(nn_conv_scratch_size(cfg, B));
        if (cfg->layer_norm) need += PIECE(M * (size_t)cfg->conv_filters) + 2 * PIECE(M);
    }
    for (int i = 0; i < im->n_dense; i++) {
        nn_dense *d = &im->dense[i];
        need += PIECE((size_t)(i < im->n_hidden ? B : R) * (size_t)d->out);
        if (d->ln) need += PIECE((size_t)B * (size_t)d->out) + 2 * PIECE(B);
        if (d->noisy)
            need += PIECE(d->in) + PIECE(d->out) + 2 * PIECE((size_t)d->out * (size_t)d->in) +
                    2 * PIECE(d->out);
    }
    if (E > 0) need += PIECE((size_t)R * (size_t)E) + 3 * PIECE((size_t)R * (size_t)width);
    need += PIECE((size_t)R * (size_t)A * (size_t)N) * 2 + PIECE((size_t)R * (size_t)N) +
            2 * PIECE((size_t)R * (size_t)maxw) + PIECE(A) + PIECE(nn_gemm_pack_size(max_in));
    size_t bf16_a = 0, bf16_b = 0; /* in 32-bit words: the packed operands of the widest call */
    if (cfg->precision == PRISM_NN_BF16) {
        for (int i = 0; i <= im->n_dense; i++) {
            const nn_dense *d = i < im->n_dense ? &im->dense[i] : &im->embed;
            if (i == im->n_dense && E == 0) break;
            size_t a, b;
            nn_bf16_scratch_words(i < im->n_hidden ? B : R, d->in, d->out, &a, &b);
            if (a > bf16_a) bf16_a = a;
            if (b > bf16_b) bf16_b = b;
        }
        need += PIECE(bf16_a) + PIECE(bf16_b);
    }
    im->block = prism_calloc(need, sizeof(float));
    if (!im->block) goto nomem;
    float *cur = im->block;
#define TAKE(n) (cur += PIECE(n), cur - PIECE(n))
    if (im->has_conv) {
        size_t M = (size_t)B * (size_t)im->conv_ho * (size_t)im->conv_wo;
        im->conv_out = TAKE(M * (size_t)cfg->conv_filters);
        im->conv_scratch = TAKE(nn_conv_scratch_size(cfg, B));
        if (cfg->layer_norm) {
            im->conv_pre = TAKE(M * (size_t)cfg->conv_filters);
            im->conv_mean = TAKE(M);
            im->conv_rstd = TAKE(M);
        }
    }
    for (int i = 0; i < im->n_dense; i++) {
        nn_dense *d = &im->dense[i];
        d->y = TAKE((size_t)(i < im->n_hidden ? B : R) * (size_t)d->out);
        if (d->ln) {
            d->z = TAKE((size_t)B * (size_t)d->out);
            d->ln_mean = TAKE(B);
            d->ln_rstd = TAKE(B);
        }
        if (d->noisy) {
            d->eps_in = TAKE(d->in);
            d->eps_out = TAKE(d->out);
            d->w_eff = TAKE((size_t)d->out * (size_t)d->in);
            d->dw_scratch = TAKE((size_t)d->out * (size_t)d->in);
            d->b_eff = TAKE(d->out);
            cur += PIECE(d->out); /* db scratch lives right after b_eff */
        }
    }
    if (E > 0) {
        im->cosines = TAKE((size_t)R * (size_t)E);
        im->embed.y = TAKE((size_t)R * (size_t)width);
        im->prod = TAKE((size_t)R * (size_t)width);
        im->dphi = TAKE((size_t)R * (size_t)width);
    }
    im->out = TAKE((size_t)R * (size_t)A * (size_t)N);
    im->dhead = TAKE((size_t)R * (size_t)A * (size_t)N);
    im->dval = TAKE((size_t)R * (size_t)N);
    im->dbuf[0] = TAKE((size_t)R * (size_t)maxw);
    im->dbuf[1] = TAKE((size_t)R * (size_t)maxw);
    im->q1 = TAKE(A);
    im->pack = TAKE(nn_gemm_pack_size(max_in));
    if (cfg->precision == PRISM_NN_BF16) {
        /* words of the packed bf16 pairs; nothing reads this memory as float */
        im->bf16_a = (uint32_t *)(void *)TAKE(bf16_a);
        im->bf16_b = (uint32_t *)(void *)TAKE(bf16_b);
    }
#undef TAKE
#undef PIECE
    PRISM_ASSERT((size_t)(cur - (float *)im->block) == need);

    prism_rng rng;
    prism_rng_seed(&rng, seed, PRISM_STREAM_NET_INIT);
    if (im->has_conv) {
        size_t wn = (size_t)cfg->conv_filters * 9 * (size_t)cfg->in_c;
        st = init_layer(cfg, net->params + im->conv_w, wn, net->params + im->conv_b,
                        (size_t)cfg->conv_filters, 9.0 * cfg->in_c, 9.0 * cfg->conv_filters, &rng);
        if (st) goto fail;
        if (cfg->layer_norm)
            init_layer_norm(net->params, im->conv_lg, im->conv_lb, cfg->conv_filters);
    }
    for (int i = 0; i < im->n_dense; i++) {
        /* the embedding comes after the hidden layers, in parameter and initialisation order */
        if (i == im->n_hidden && E > 0 && (st = init_dense(net, &im->embed, &rng))) goto fail;
        if ((st = init_dense(net, &im->dense[i], &rng))) goto fail;
    }
    prism_rng_seed(&net->noise_rng, seed, PRISM_STREAM_NOISY);
    prism_nn_noise_resample(net);
    return PRISM_OK;
nomem:
    prism_nn_free(net);
    return prism_error(PRISM_ERR_NOMEM, "nn: out of memory creating a network for batch %d",
                       max_batch);
fail:
    prism_nn_free(net);
    return st;
}

static int config_equal(const prism_nn_config *a, const prism_nn_config *b) {
    if (a->in_dim != b->in_dim || a->in_h != b->in_h || a->in_w != b->in_w || a->in_c != b->in_c ||
        a->conv_filters != b->conv_filters ||
        (a->conv_filters && a->conv_padding != b->conv_padding) || a->n_hidden != b->n_hidden ||
        a->n_actions != b->n_actions || a->n_atoms != b->n_atoms || !a->dueling != !b->dueling ||
        !a->noisy != !b->noisy || !a->layer_norm != !b->layer_norm ||
        a->quantile_embedding_dim != b->quantile_embedding_dim)
        return 0;
    for (int i = 0; i < a->n_hidden; i++)
        if (a->hidden[i] != b->hidden[i]) return 0;
    return 1;
}

void prism_nn_copy_params(prism_nn *dst, const prism_nn *src) {
    PRISM_ASSERT(dst->n_params == src->n_params && config_equal(&dst->cfg, &src->cfg));
    memcpy(dst->params, src->params, sizeof(float) * src->n_params);
}

void prism_nn_zero_grad(prism_nn *net) {
    memset(net->grads, 0, sizeof(float) * net->n_params);
}

void prism_nn_set_eval(prism_nn *net, int eval_mode) {
    net->eval_mode = eval_mode != 0;
}
void prism_nn_set_naive(prism_nn *net, int naive) {
    net->naive = naive != 0;
}

void prism_nn_set_taus(prism_nn *net, const float *taus, int T) {
    PRISM_ASSERT(net->cfg.quantile_embedding_dim > 0 && taus && T >= 1 && T <= net->max_taus);
    net->impl->taus = taus;
    net->impl->n_taus = T;
}

int prism_nn_rows(const prism_nn *net, int B) {
    return net->cfg.quantile_embedding_dim > 0 ? B * net->impl->n_taus : B;
}

/* dst[0..n) = f(e), e ~ N(0, 1), keeping BOTH normals of each polar pair (prism_rng_normal
 * returns one and discards the other). Noisy nets resample
 * before every action, thousands of normals each time, and the log and sqrt of each pair were
 * most of the cost of acting. An odd n discards the last one. */
static void fill_noise(float *dst, int n, prism_rng *rng) {
    for (int i = 0; i < n; i += 2) {
        double a, b;
        prism_rng_normal_pair(rng, &a, &b);
        dst[i] = nn_noise_f(a);
        if (i + 1 < n) dst[i + 1] = nn_noise_f(b);
    }
}

void prism_nn_noise_resample(prism_nn *net) {
    prism_nn_noise_draw(net, &net->noise_rng);
}

/* dst[0..n) from rng or, when rng is NULL, from a stream of the vector's own, (key, n): one
 * stream per length (rather than one draw per distinct length, remembered) keeps the shared
 * draw free of allocation and of any order between layers. */
static void fill_vector(float *dst, int n, prism_rng *rng, uint64_t key) {
    prism_rng own;
    if (!rng) {
        prism_rng_seed(&own, key, (uint64_t)n);
        rng = &own;
    }
    fill_noise(dst, n, rng);
}

static void draw_noise(prism_nn *net, prism_rng *rng, uint64_t key) {
    if (!net->cfg.noisy) return;
    prism_nn_impl *im = net->impl;
    for (int l = 0; l < im->n_dense; l++) {
        nn_dense *d = &im->dense[l];
        fill_vector(d->eps_in, d->in, rng, key);
        fill_vector(d->eps_out, d->out, rng, key);
    }
}

void prism_nn_noise_draw(prism_nn *net, prism_rng *rng) {
    draw_noise(net, rng, 0);
}

void prism_nn_noise_draw_by_length(prism_nn *net, uint64_t key) {
    draw_noise(net, NULL, key);
}

size_t prism_nn_noise_size(const prism_nn *net) {
    if (!net->cfg.noisy) return 0;
    size_t n = 0;
    for (int l = 0; l < net->impl->n_dense; l++)
        n += (size_t)net->impl->dense[l].in + (size_t)net->impl->dense[l].out;
    return n;
}

void prism_nn_noise_get(const prism_nn *net, float *eps) {
    if (!net->cfg.noisy) return;
    for (int l = 0; l < net->impl->n_dense; l++) {
        const nn_dense *d = &net->impl->dense[l];
        memcpy(eps, d->eps_in, sizeof(float) * (size_t)d->in);
        eps += d->in;
        memcpy(eps, d->eps_out, sizeof(float) * (size_t)d->out);
        eps += d->out;
    }
}

void prism_nn_noise_set(prism_nn *net, const float *eps) {
    if (!net->cfg.noisy) return;
    for (int l = 0; l < net->impl->n_dense; l++) {
        nn_dense *d = &net->impl->dense[l];
        memcpy(d->eps_in, eps, sizeof(float) * (size_t)d->in);
        eps += d->in;
        memcpy(d->eps_out, eps, sizeof(float) * (size_t)d->out);
        eps += d->out;
    }
}

void prism_nn_noise_copy(prism_nn *dst, const prism_nn *src) {
    PRISM_ASSERT(config_equal(&dst->cfg, &src->cfg));
    if (!src->cfg.noisy) return;
    for (int l = 0; l < src->impl->n_dense; l++) {
        const nn_dense *s = &src->impl->dense[l];
        nn_dense *d = &dst->impl->dense[l];
        memcpy(d->eps_in, s->eps_in, sizeof(float) * (size_t)s->in);
        memcpy(d->eps_out, s->eps_out, sizeof(float) * (size_t)s->out);
    }
}

/* ---- forward / backward ---------------------------------------------------------------------- */

/* we = mu + sg * (eo * ei): one row of noisy effective weights (blocked: see nn_axpy). */
static void noisy_row(float *restrict we, const float *restrict mu, const float *restrict sg,
                      float eo, const float *restrict ei, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) we[i + j] = mu[i + j] + sg[i + j] * (eo * ei[i + j]);
    for (; i < n; i++) we[i] = mu[i] + sg[i] * (eo * ei[i]);
}

/* gs += s * (eo * ei): one row of the sigma gradient. */
static void noisy_grad_row(float *restrict gs, const float *restrict s, float eo,
                           const float *restrict ei, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) gs[i + j] += s[i + j] * (eo * ei[i + j]);
    for (; i < n; i++) gs[i] += s[i] * (eo * ei[i]);
}

/* noisy_grad_row onto zeros: the 0 + stays, as it turns a product of -0 into the +0 that
 * accumulating onto cleared gradients gives */
static void noisy_grad_row_set(float *restrict gs, const float *restrict s, float eo,
                               const float *restrict ei, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) gs[i + j] = 0.0f + s[i + j] * (eo * ei[i + j]);
    for (; i < n; i++) gs[i] = 0.0f + s[i] * (eo * ei[i]);
}

/* The weights a dense layer uses now: mu in eval mode, mu + sigma * eps otherwise. */
static void dense_weights(const prism_nn *net, nn_dense *d, const float **w, const float **b) {
    const float *p = net->params;
    if (!d->noisy || net->eval_mode) {
        *w = p + d->w;
        *b = p + d->b;
        return;
    }
    d->w_eff_stale = 0;
    for (int o = 0; o < d->out; o++) {
        const float *mu = p + d->w + (size_t)o * d->in, *sg = p + d->ws + (size_t)o * d->in;
        float *we = d->w_eff + (size_t)o * d->in, eo = d->eps_out[o];
        noisy_row(we, mu, sg, eo, d->eps_in, d->in);
        d->b_eff[o] = p[d->b + (size_t)o] + p[d->bs + (size_t)o] * eo;
    }
    *w = d->w_eff;
    *b = d->b_eff;
}

/* Batch-1 noisy forward without materialising W = mu + sigma * (eo ei^T): by the factorised
 * form, y = b_mu + sigma_b * eo + mu x + eo * (sigma (ei * x)), two matrix-vector products over
 * mu and sigma (read once each) instead of reading both, writing W and reading it again. This
 * is the acting path of noisy nets, which resample noise before every action, so a
 * materialised W would serve exactly one matrix-vector product. The rounding differs from the
 * materialised form (terms are grouped differently); both are deterministic. Needs In + O
 * floats of scratch: dw_scratch, which only backward uses. */
static void dense_forward_noisy1(prism_nn *net, nn_dense *d, const float *x) {
    const float *p = net->params;
    const int In = d->in, O = d->out;
    float *t = d->dw_scratch, *u = d->dw_scratch + In; /* (In) ei * x, (O) sigma t */
    for (int i = 0; i < In; i++) t[i] = d->eps_in[i] * x[i];
    float *y = d->y;
    if (net->naive) {
        for (int o = 0; o < O; o++)
            y[o] = p[d->b + (size_t)o] + p[d->bs + (size_t)o] * d->eps_out[o];
        nn_linear_forward_naive(y, x, p + d->w, y, 1, In, O);
        memset(u, 0, sizeof(float) * (size_t)O);
        nn_linear_forward_naive(u, t, p + d->ws, u, 1, In, O);
    } else {
        nn_matvec_noisy(y, u, x, t, p + d->w, p + d->ws, p + d->b, p + d->bs, d->eps_out, In, O,
                        d->reverse);
        d->reverse = !d->reverse;
    }
    for (int o = 0; o < O; o++) y[o] += d->eps_out[o] * u[o];
    d->w_eff_stale = 1;
}

/* Precision bf16: every forward, batch 1 included, through the bf16 product (a noisy layer's
 * weights materialised first: the factorised batch-1 form would be two products of other
 * operands); the ReLU on its store unless LayerNorm comes between. */
static void dense_forward_bf16(prism_nn *net, nn_dense *d, const float *x, int B) {
    const float *w, *b, *p = net->params;
    dense_weights(net, d, &w, &b);
    prism_nn_impl *im = net->impl;
    nn_bf16_forward(d->ln ? d->z : d->y, im->bf16_a, im->bf16_b, x, w, b, B, d->in, d->out,
                    d->relu && !d->ln);
    if (d->ln)
        nn_layer_norm_forward_fast(d->y, d->ln_mean, d->ln_rstd, d->z, p + d->lg, p + d->lb, B,
                                   d->out, net->cfg.layer_norm_eps, d->relu);
}

static void dense_forward(prism_nn *net, nn_dense *d, const float *x, int B) {
    d->x = (float *)(uintptr_t)x; /* kept for backward; never written through */
    if (net->cfg.precision == PRISM_NN_BF16) {
        dense_forward_bf16(net, d, x, B);
        return;
    }
    if (B == 1 && d->noisy && !net->eval_mode && d->in >= 2 && d->out >= 2) {
        dense_forward_noisy1(net, d, x);
        if (d->relu) nn_relu(d->y, (size_t)d->out);
        return;
    }
    const float *w, *b;
    dense_weights(net, d, &w, &b);
    /* the linear part goes to z when LayerNorm follows it; ReLU is fused into the batched
     * product's store only when nothing comes between them */
    float *lin = d->ln ? d->z : d->y;
    const int fuse_relu = d->relu && !d->ln && !net->naive && B > 1;
    if (net->naive) {
        nn_linear_forward_naive(lin, x, w, b, B, d->in, d->out);
    } else if (B > 1) {
        nn_linear_forward_fast(lin, net->impl->pack, x, w, b, B, d->in, d->out, fuse_relu);
    } else {
        nn_linear_forward1_fast(lin, x, w, b, d->in, d->out, d->reverse);
        d->reverse = !d->reverse; /* batch-1 acting: alternate the scan (gemm.c) */
    }
    const float *p = net->params;
    if (d->ln && net->naive) {
        nn_layer_norm_forward_naive(d->y, d->ln_mean, d->ln_rstd, d->z, p + d->lg, p + d->lb, B,
                                    d->out, net->cfg.layer_norm_eps);
    } else if (d->ln) {
        /* the fast LayerNorm applies the ReLU in its last pass */
        nn_layer_norm_forward_fast(d->y, d->ln_mean, d->ln_rstd, d->z, p + d->lg, p + d->lb, B,
                                   d->out, net->cfg.layer_norm_eps, d->relu);
        return;
    }
    if (d->relu && !fuse_relu) nn_relu(d->y, (size_t)B * (size_t)d->out);
}

/* The layer's products by the net's precision and kernels (nn_linear_backward_fast's contract). */
static void linear_backward(prism_nn *net, float *dx, float *dw, float *db, const float *dy,
                            const float *x, const float *w, int B, int In, int O, int overwrite) {
    if (net->cfg.precision == PRISM_NN_BF16)
        nn_bf16_backward(dx, dw, db, net->impl->bf16_a, net->impl->bf16_b, dy, x, w, B, In, O,
                         overwrite);
    else if (net->naive)
        nn_linear_backward_naive(dx, dw, db, dy, x, w, B, In, O, overwrite);
    else
        nn_linear_backward_fast(dx, dw, db, dy, x, w, B, In, O, overwrite);
}

/* dx may be NULL (first layer). dy is this layer's output gradient, post-ReLU-mask. */
/* overwrite: write the layer's gradients instead of adding to them (prism_nn_backward_into). */
static void dense_backward(prism_nn *net, nn_dense *d, float *dx, const float *dy, int B,
                           int overwrite) {
    const float *w = d->noisy && !net->eval_mode ? d->w_eff : net->params + d->w;
    float *g = net->grads;
    const size_t O = (size_t)d->out, In = (size_t)d->in;
    if (!d->noisy || net->eval_mode) {
        /* In eval mode sigma does not touch the output: its gradient is zero. */
        if (overwrite) {
            memset(g + d->b, 0, sizeof(float) * O); /* db is a sum of B rows: start it at 0 */
            if (d->noisy) {
                memset(g + d->ws, 0, sizeof(float) * O * In);
                memset(g + d->bs, 0, sizeof(float) * O);
            }
        }
        linear_backward(net, dx, g + d->w, g + d->b, dy, d->x, w, B, d->in, d->out, overwrite);
        return;
    }
    if (d->w_eff_stale) {
        /* the last forward was batch 1 and never built W (dense_forward_noisy1) */
        const float *wd, *bd;
        dense_weights(net, d, &wd, &bd);
    }
    float *db = d->b_eff + d->out;
    memset(db, 0, sizeof(float) * (size_t)d->out);
    linear_backward(net, dx, d->dw_scratch, db, dy, d->x, w, B, d->in, d->out, 1);
    for (int o = 0; o < d->out; o++) {
        const float *s = d->dw_scratch + (size_t)o * d->in;
        float *gm = g + d->w + (size_t)o * d->in, *gs = g + d->ws + (size_t)o * d->in;
        float eo = d->eps_out[o];
        if (overwrite) {
            memcpy(gm, s, sizeof(float) * In);
            noisy_grad_row_set(gs, s, eo, d->eps_in, d->in);
            g[d->b + (size_t)o] = db[o];
            g[d->bs + (size_t)o] = 0.0f + db[o] * eo;
        } else {
            nn_add(gm, s, In);
            noisy_grad_row(gs, s, eo, d->eps_in, d->in);
            g[d->b + (size_t)o] += db[o];
            g[d->bs + (size_t)o] += db[o] * eo;
        }
    }
}

/* The quantile embedding: phi = ReLU(cos(pi i tau) W^T + b) for the B*T fractions, one batched
 * product, then each sample's features feat (B, K) times each of its T rows of phi. Returns the
 * head's input (B*T, K). */
static const float *embed_forward(prism_nn *net, const float *feat, int B) {
    prism_nn_impl *im = net->impl;
    PRISM_ASSERT(im->taus); /* prism_nn_set_taus first */
    const int T = im->n_taus, R = B * T;
    im->feat = feat;
    nn_tau_cosines(im->cosines, im->taus, R, net->cfg.quantile_embedding_dim);
    dense_forward(net, &im->embed, im->cosines, R);
    nn_tau_product_forward(im->prod, feat, im->embed.y, B, T, im->embed.out);
    return im->prod;
}

/* Its backward: dh (B*T, K) is the head input's gradient; the features' gradient goes to dfeat
 * (B, K) (NULL: nothing below needs it); the embedding's weights accumulate theirs. */
static void embed_backward(prism_nn *net, float *dfeat, const float *dh, int B, int overwrite) {
    prism_nn_impl *im = net->impl;
    const int T = im->n_taus, R = B * T, K = im->embed.out;
    nn_tau_product_backward(im->dphi, dfeat, dh, im->feat, im->embed.y, B, T, K);
    dense_backward(net, &im->embed, NULL, im->dphi, R, overwrite);
}

const float *prism_nn_forward(prism_nn *net, const float *x, int B) {
    PRISM_ASSERT(B >= 1 && B <= net->max_batch);
    prism_nn_impl *im = net->impl;
    const prism_nn_config *c = &net->cfg;
    im->x = x;
    im->last_b = B;
    const float *in = x;
    if (im->has_conv) {
        int pad = c->conv_padding == PRISM_NN_PAD_SAME;
        const float *w = net->params + im->conv_w, *b = net->params + im->conv_b;
        float *conv = c->layer_norm ? im->conv_pre : im->conv_out;
        if (net->naive)
            nn_conv_forward_naive(conv, x, w, b, B, c->in_h, c->in_w, c->in_c, c->conv_filters,
                                  pad);
        else
            nn_conv_forward_fast(conv, im->conv_scratch, x, w, b, B, c->in_h, c->in_w, c->in_c,
                                 c->conv_filters, pad);
        const int rows = B * im->conv_ho * im->conv_wo;
        const float *lg = net->params + im->conv_lg, *lb = net->params + im->conv_lb;
        if (c->layer_norm && !net->naive) /* with the ReLU in its last pass */
            nn_layer_norm_forward_fast(im->conv_out, im->conv_mean, im->conv_rstd, conv, lg, lb,
                                       rows, c->conv_filters, c->layer_norm_eps, 1);
        else {
            if (c->layer_norm)
                nn_layer_norm_forward_naive(im->conv_out, im->conv_mean, im->conv_rstd, conv, lg,
                                            lb, rows, c->conv_filters, c->layer_norm_eps);
            nn_relu(im->conv_out, (size_t)rows * (size_t)c->conv_filters);
        }
        in = im->conv_out;
    }
    for (int i = 0; i < im->n_hidden; i++) {
        dense_forward(net, &im->dense[i], in, B);
        in = im->dense[i].y;
    }
    const int A = c->n_actions, N = c->n_atoms;
    const int R = prism_nn_rows(net, B); /* rows from here on */
    if (c->quantile_embedding_dim > 0) in = embed_forward(net, in, B);
    nn_dense *head = &im->dense[im->n_hidden];
    dense_forward(net, head, in, R);
    if (!c->dueling) {
        memcpy(im->out, head->y, sizeof(float) * (size_t)R * (size_t)A * (size_t)N);
        return im->out;
    }
    nn_dense *val = &im->dense[im->n_hidden + 1];
    dense_forward(net, val, in, R);
    /* out[a][i] = V[i] + Adv[a][i] - mean_a Adv[a][i] (per atom). */
    for (int n = 0; n < R; n++) {
        const float *adv = head->y + (size_t)n * A * N, *v = val->y + (size_t)n * N;
        float *o = im->out + (size_t)n * A * N;
        for (int i = 0; i < N; i++) {
            float s = 0;
            for (int a = 0; a < A; a++) s += adv[a * N + i];
            float mean = s / (float)A;
            for (int a = 0; a < A; a++) o[a * N + i] = v[i] + (adv[a * N + i] - mean);
        }
    }
    return im->out;
}

/* The backward; overwrite: the gradients are written, not added to (the dense layers write
 * theirs; the conv's and the LayerNorms', small, are cleared first). */
static void backward(prism_nn *net, const float *dout, int B, int overwrite) {
    prism_nn_impl *im = net->impl;
    const prism_nn_config *c = &net->cfg;
    PRISM_ASSERT(B <= im->last_b && B >= 1);
    if (overwrite) {
        float *g = net->grads;
        const size_t F = (size_t)c->conv_filters;
        if (im->has_conv) {
            memset(g + im->conv_w, 0, sizeof(float) * 9 * (size_t)c->in_c * F);
            memset(g + im->conv_b, 0, sizeof(float) * F);
            if (c->layer_norm) {
                memset(g + im->conv_lg, 0, sizeof(float) * F);
                memset(g + im->conv_lb, 0, sizeof(float) * F);
            }
        }
        for (int l = 0; l < im->n_hidden; l++)
            if (im->dense[l].ln) {
                memset(g + im->dense[l].lg, 0, sizeof(float) * (size_t)im->dense[l].out);
                memset(g + im->dense[l].lb, 0, sizeof(float) * (size_t)im->dense[l].out);
            }
    }
    const int A = c->n_actions, N = c->n_atoms, E = c->quantile_embedding_dim;
    const int R = prism_nn_rows(net, B);
    nn_dense *head = &im->dense[im->n_hidden];
    /* d(head input), (R, width), lands in dbuf[0] (NULL when nothing below needs it). */
    const int below_embed = im->n_hidden > 0 || im->has_conv;
    int need_dx = below_embed || E > 0;
    float *dfeat = need_dx ? im->dbuf[0] : NULL;
    if (!c->dueling) {
        dense_backward(net, head, dfeat, dout, R, overwrite);
    } else {
        nn_dense *val = &im->dense[im->n_hidden + 1];
        for (int n = 0; n < R; n++) {
            const float *d = dout + (size_t)n * A * N;
            float *da = im->dhead + (size_t)n * A * N, *dv = im->dval + (size_t)n * N;
            for (int i = 0; i < N; i++) {
                float s = 0;
                for (int a = 0; a < A; a++) s += d[a * N + i];
                dv[i] = s;
                float mean = s / (float)A;
                for (int a = 0; a < A; a++) da[a * N + i] = d[a * N + i] - mean;
            }
        }
        dense_backward(net, head, dfeat, im->dhead, R, overwrite);
        dense_backward(net, val, need_dx ? im->dbuf[1] : NULL, im->dval, R, overwrite);
        if (need_dx) {
            size_t n = (size_t)R * (size_t)head->in;
            nn_add(im->dbuf[0], im->dbuf[1], n);
        }
    }
    int cur = 0;
    if (E > 0) {
        embed_backward(net, below_embed ? im->dbuf[1] : NULL, im->dbuf[0], B, overwrite);
        cur = 1;
    }
    for (int l = im->n_hidden - 1; l >= 0; l--) {
        nn_dense *d = &im->dense[l];
        if (d->ln && !net->naive) /* the ReLU's mask applied as dy is read */
            nn_layer_norm_backward_fast(im->dbuf[cur], net->grads + d->lg, net->grads + d->lb,
                                        im->dbuf[cur], d->z, d->ln_mean, d->ln_rstd,
                                        net->params + d->lg, d->y, B, d->out);
        else {
            nn_relu_backward(im->dbuf[cur], d->y, (size_t)B * (size_t)d->out);
            if (d->ln)
                nn_layer_norm_backward_naive(im->dbuf[cur], net->grads + d->lg, net->grads + d->lb,
                                             im->dbuf[cur], d->z, d->ln_mean, d->ln_rstd,
                                             net->params + d->lg, B, d->out);
        }
        int below = l > 0 || im->has_conv;
        dense_backward(net, d, below ? im->dbuf[1 - cur] : NULL, im->dbuf[cur], B, overwrite);
        cur = 1 - cur;
    }
    if (im->has_conv) {
        int pad = c->conv_padding == PRISM_NN_PAD_SAME;
        size_t n = (size_t)B * (size_t)im->conv_ho * (size_t)im->conv_wo * (size_t)c->conv_filters;
        const int rows = B * im->conv_ho * im->conv_wo;
        float *lgg = net->grads + im->conv_lg, *lbg = net->grads + im->conv_lb;
        if (c->layer_norm && !net->naive) /* the ReLU's mask applied as dy is read */
            nn_layer_norm_backward_fast(im->dbuf[cur], lgg, lbg, im->dbuf[cur], im->conv_pre,
                                        im->conv_mean, im->conv_rstd, net->params + im->conv_lg,
                                        im->conv_out, rows, c->conv_filters);
        else {
            nn_relu_backward(im->dbuf[cur], im->conv_out, n);
            if (c->layer_norm)
                nn_layer_norm_backward_naive(im->dbuf[cur], lgg, lbg, im->dbuf[cur], im->conv_pre,
                                             im->conv_mean, im->conv_rstd,
                                             net->params + im->conv_lg, rows, c->conv_filters);
        }
        float *gw = net->grads + im->conv_w, *gb = net->grads + im->conv_b;
        if (net->naive)
            nn_conv_backward_naive(gw, gb, im->dbuf[cur], im->x, B, c->in_h, c->in_w, c->in_c,
                                   c->conv_filters, pad);
        else
            nn_conv_backward_fast(gw, gb, im->dbuf[cur], im->x, im->conv_scratch, B, c->in_h,
                                  c->in_w, c->in_c, c->conv_filters, pad);
    }
}

void prism_nn_backward(prism_nn *net, const float *dout, int B) {
    backward(net, dout, B, 0);
}

void prism_nn_backward_into(prism_nn *net, const float *dout, int B) {
    backward(net, dout, B, 1);
}

void prism_nn_q(prism_nn *net, const float *x, int B, float *q) {
    const float *out = prism_nn_forward(net, x, B);
    const prism_nn_config *c = &net->cfg;
    if (c->quantile_embedding_dim > 0) {
        /* the mean over each sample's T quantiles, in double */
        const int T = net->impl->n_taus, A = c->n_actions;
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A; a++) {
                double s = 0;
                for (int t = 0; t < T; t++) s += (double)out[((size_t)b * T + t) * A + a];
                q[(size_t)b * A + a] = (float)(s / T);
            }
    } else if (c->n_atoms == 1)
        memcpy(q, out, sizeof(float) * (size_t)B * (size_t)c->n_actions);
    else
        prism_nn_q_from_logits(q, out, B, c->n_actions, c->n_atoms, c->v_min, c->v_max);
}

int prism_nn_act(prism_nn *net, const float *x) {
    float *q = net->impl->q1;
    prism_nn_q(net, x, 1, q);
    int best = 0;
    for (int a = 1; a < net->cfg.n_actions; a++)
        if (q[a] > q[best]) best = a;
    return best;
}
