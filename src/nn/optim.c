/* src/nn/optim.c — optimizers over one flat parameter array: SGD, Adam, RMSProp in its
 * TensorFlow-1/DQN form and its PyTorch form, with optional global-norm gradient clipping.
 * The exact update rules are in prism/nn.h and docs/nn.md. Per-step scalars (bias corrections)
 * are computed in double once per step; the per-parameter loop is float, in the same operation
 * order as PyTorch's single-tensor implementation so the reference tests agree to rounding. */
#include "prism/nn.h"

#include <math.h>
#include <string.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

prism_optim_config prism_optim_config_adam(float lr, float eps) {
    prism_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = PRISM_OPTIM_ADAM;
    c.lr = lr, c.beta1 = 0.9f, c.beta2 = 0.999f, c.eps = eps;
    return c;
}

prism_optim_config prism_optim_config_radam(float lr) {
    prism_optim_config c = prism_optim_config_adam(lr, 1e-8f);
    c.kind = PRISM_OPTIM_RADAM;
    return c;
}

prism_optim_config prism_optim_config_sgd(float lr) {
    prism_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = PRISM_OPTIM_SGD;
    c.lr = lr;
    return c;
}

prism_optim_config prism_optim_config_rmsprop_tf(float lr, float eps) {
    prism_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = PRISM_OPTIM_RMSPROP_TF;
    c.lr = lr, c.eps = eps, c.rho = 0.95f, c.centered = 1, c.rms_init = 1.0f;
    return c;
}

prism_optim_config prism_optim_config_rmsprop_torch(float lr) {
    prism_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = PRISM_OPTIM_RMSPROP_TORCH;
    c.lr = lr, c.eps = 1e-8f, c.rho = 0.99f;
    return c;
}

static prism_status check(const prism_optim_config *c) {
    if ((unsigned)c->kind > PRISM_OPTIM_RADAM)
        return prism_error(PRISM_ERR_INVALID, "optimizer: unknown kind %d", (int)c->kind);
    if (!(c->lr > 0.0f && isfinite(c->lr)))
        return prism_error(PRISM_ERR_INVALID, "optimizer: learning rate %g must be > 0",
                           (double)c->lr);
    if (!(c->eps >= 0.0f && isfinite(c->eps)))
        return prism_error(PRISM_ERR_INVALID, "optimizer: eps %g must be >= 0", (double)c->eps);
    if (!(c->momentum >= 0.0f && c->momentum < 1.0f))
        return prism_error(PRISM_ERR_INVALID, "optimizer: momentum %g must be in [0, 1)",
                           (double)c->momentum);
    if (!(c->clip_norm >= 0.0f))
        return prism_error(PRISM_ERR_INVALID, "optimizer: clip_norm %g must be >= 0 (0: off)",
                           (double)c->clip_norm);
    if ((c->kind == PRISM_OPTIM_ADAM || c->kind == PRISM_OPTIM_RADAM) &&
        !(c->beta1 >= 0.0f && c->beta1 < 1.0f && c->beta2 >= 0.0f && c->beta2 < 1.0f))
        return prism_error(PRISM_ERR_INVALID, "optimizer: Adam betas (%g, %g) must be in [0, 1)",
                           (double)c->beta1, (double)c->beta2);
    if ((c->kind == PRISM_OPTIM_RMSPROP_TF || c->kind == PRISM_OPTIM_RMSPROP_TORCH) &&
        !(c->rho >= 0.0f && c->rho < 1.0f))
        return prism_error(PRISM_ERR_INVALID, "optimizer: RMSProp decay %g must be in [0, 1)",
                           (double)c->rho);
    if (c->kind == PRISM_OPTIM_RMSPROP_TF && !(c->rms_init >= 0.0f))
        return prism_error(PRISM_ERR_INVALID, "optimizer: rms_init %g must be >= 0",
                           (double)c->rms_init);
    return PRISM_OK;
}

prism_status prism_optim_init(prism_optim *opt, const prism_optim_config *cfg, size_t n_params) {
    memset(opt, 0, sizeof *opt);
    prism_status st = check(cfg);
    if (st) return st;
    int slots = 0;
    switch (cfg->kind) {
    case PRISM_OPTIM_SGD:
        slots = cfg->momentum > 0;
        break;
    case PRISM_OPTIM_ADAM:
    case PRISM_OPTIM_RADAM:
        slots = 2;
        break;
    default:
        slots = 1 + (cfg->centered != 0) + (cfg->momentum > 0);
        break;
    }
    opt->cfg = *cfg;
    opt->n_params = n_params;
    opt->state_len = (size_t)slots * n_params;
    if (opt->state_len) {
        opt->state = prism_alloc(sizeof(float) * opt->state_len);
        if (!opt->state)
            return prism_error(PRISM_ERR_NOMEM, "optimizer: out of memory for %zu moments",
                               opt->state_len);
    }
    float *s = opt->state;
    if (cfg->kind == PRISM_OPTIM_ADAM || cfg->kind == PRISM_OPTIM_RADAM) {
        opt->m = s, opt->v = s + n_params;
    } else if (cfg->kind == PRISM_OPTIM_SGD) {
        opt->mom = cfg->momentum > 0 ? s : NULL;
    } else {
        opt->ms = s;
        s += n_params;
        if (cfg->centered) opt->mg = s, s += n_params;
        if (cfg->momentum > 0) opt->mom = s;
    }
    prism_optim_reset(opt);
    return PRISM_OK;
}

void prism_optim_free(prism_optim *opt) {
    prism_free(opt->state);
    memset(opt, 0, sizeof *opt);
}

void prism_optim_reset(prism_optim *opt) {
    opt->step = 0;
    if (opt->state_len) memset(opt->state, 0, sizeof(float) * opt->state_len);
    if (opt->cfg.kind == PRISM_OPTIM_RMSPROP_TF)
        for (size_t i = 0; i < opt->n_params; i++) opt->ms[i] = opt->cfg.rms_init;
}

#if defined(__AVX512F__)
/* Adam without clipping, with the gradient norm's sum of squares taken in the same pass: the
 * update does not depend on the norm then, and the separate pass re-read all P gradients
 * (for MinAtar Rainbow's 1.2M parameters the optimizer was 14 % of an update, memory-bound).
 * The partial sums are the separate pass's, in its order (acc[j] gets g[i + j]^2 for i = 0,
 * 8, 16, ...; squares of floats are exact in double), and the update is the vector loop's,
 * so both the returned norm and the parameters are bit-identical to the two-pass form. */
static double adam_fused(prism_optim *opt, float *params, const float *grads, float step_size,
                         float bc2_sqrt) {
    const prism_optim_config *c = &opt->cfg;
    const size_t n = opt->n_params;
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
    const __m512 wb1 = _mm512_set1_ps(b1), wb2 = _mm512_set1_ps(b2),
                 w1b1 = _mm512_set1_ps(1.0f - b1), w1b2 = _mm512_set1_ps(1.0f - b2),
                 wbc2 = _mm512_set1_ps(bc2_sqrt), weps = _mm512_set1_ps(eps),
                 wss = _mm512_set1_ps(step_size);
    __m512d acc = _mm512_setzero_pd();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_loadu_ps(grads + i);
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(g));
        __m512d hi = _mm512_cvtps_pd(_mm256_loadu_ps(grads + i + 8));
        acc = _mm512_add_pd(acc, _mm512_mul_pd(lo, lo));
        acc = _mm512_add_pd(acc, _mm512_mul_pd(hi, hi));
        __m512 m =
            _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(opt->m + i), wb1), _mm512_mul_ps(g, w1b1));
        __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(opt->v + i), wb2),
                                 _mm512_mul_ps(_mm512_mul_ps(g, g), w1b2));
        _mm512_storeu_ps(opt->m + i, m);
        _mm512_storeu_ps(opt->v + i, v);
        __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(v), wbc2), weps);
        __m512 p =
            _mm512_sub_ps(_mm512_loadu_ps(params + i), _mm512_mul_ps(wss, _mm512_div_ps(m, den)));
        _mm512_storeu_ps(params + i, p);
    }
    double a[8];
    _mm512_storeu_pd(a, acc);
    const size_t i8 = n & ~(size_t)7;
    for (size_t k = i; k < i8; k += 8)
        for (int j = 0; j < 8; j++) a[j] += (double)grads[k + j] * (double)grads[k + j];
    for (size_t k = i8; k < n; k++) a[0] += (double)grads[k] * (double)grads[k];
    /* the rest of the update (fewer than 16 parameters): the scalar loop's operations */
    for (; i < n; i++) {
        float g = grads[i];
        opt->m[i] = opt->m[i] * b1 + g * (1.0f - b1);
        opt->v[i] = opt->v[i] * b2 + g * g * (1.0f - b2);
        float denom = sqrtf(opt->v[i]) / bc2_sqrt + eps;
        params[i] -= step_size * (opt->m[i] / denom);
    }
    double ss = 0;
    for (int j = 0; j < 8; j++) ss += a[j];
    return sqrt(ss);
}
#endif

/* RAdam in torch.optim.RAdam's order of operations (prism/nn.h); the step scalars in double as
 * PyTorch's Python floats, the per-parameter loop in float. */
static void radam_update(prism_optim *opt, float *params, const float *grads) {
    const prism_optim_config *c = &opt->cfg;
    const float b1 = c->beta1, b2 = c->beta2;
    const double t = (double)opt->step, bc1 = 1.0 - pow((double)b1, t);
    const double bc2 = 1.0 - pow((double)b2, t);
    const double rho_inf = 2.0 / (1.0 - (double)b2) - 1.0;
    const double rho_t = rho_inf - 2.0 * t * pow((double)b2, t) / bc2;
    const float bc1f = (float)bc1, lr = c->lr;
    if (!(rho_t > 5.0)) {
        for (size_t i = 0; i < opt->n_params; i++) {
            float g = grads[i];
            opt->m[i] = opt->m[i] * b1 + g * (1.0f - b1);
            opt->v[i] = opt->v[i] * b2 + g * g * (1.0f - b2);
            params[i] -= (opt->m[i] / bc1f) * lr;
        }
        return;
    }
    const double rect =
        sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t));
    const float bc2_sqrt = (float)sqrt(bc2), rectf = (float)rect;
    size_t i = 0;
#if defined(__AVX__)
    /* The scalar loop's operations in its order, eight at a time (sqrtf under the default
     * -fmath-errno keeps GCC from vectorising the scalar loop, as for Adam): the same bits. */
    const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2),
                 v1b1 = _mm256_set1_ps(1.0f - b1), v1b2 = _mm256_set1_ps(1.0f - b2),
                 vbc1 = _mm256_set1_ps(bc1f), vlr = _mm256_set1_ps(lr),
                 vbc2 = _mm256_set1_ps(bc2_sqrt), veps = _mm256_set1_ps(c->eps),
                 vrect = _mm256_set1_ps(rectf);
    for (; i + 8 <= opt->n_params; i += 8) {
        __m256 g = _mm256_loadu_ps(grads + i);
        __m256 m =
            _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(opt->m + i), vb1), _mm256_mul_ps(g, v1b1));
        __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(opt->v + i), vb2),
                                 _mm256_mul_ps(_mm256_mul_ps(g, g), v1b2));
        _mm256_storeu_ps(opt->m + i, m);
        _mm256_storeu_ps(opt->v + i, v);
        __m256 adaptive = _mm256_div_ps(vbc2, _mm256_add_ps(_mm256_sqrt_ps(v), veps));
        __m256 step = _mm256_mul_ps(_mm256_div_ps(m, vbc1), vlr);
        step = _mm256_mul_ps(_mm256_mul_ps(step, adaptive), vrect);
        _mm256_storeu_ps(params + i, _mm256_sub_ps(_mm256_loadu_ps(params + i), step));
    }
#endif
    for (; i < opt->n_params; i++) {
        float g = grads[i];
        opt->m[i] = opt->m[i] * b1 + g * (1.0f - b1);
        opt->v[i] = opt->v[i] * b2 + g * g * (1.0f - b2);
        float adaptive = bc2_sqrt / (sqrtf(opt->v[i]) + c->eps);
        params[i] -= ((opt->m[i] / bc1f) * lr) * adaptive * rectf;
    }
}

double prism_optim_step(prism_optim *opt, float *params, float *grads) {
    const prism_optim_config *c = &opt->cfg;
    const size_t n = opt->n_params;
#if defined(__AVX512F__)
    if ((c->kind == PRISM_OPTIM_ADAM || c->kind == PRISM_OPTIM_RADAM) && !(c->clip_norm > 0.0f)) {
        opt->step++;
        const double t = (double)opt->step;
        const float step_size = (float)((double)c->lr / (1.0 - pow((double)c->beta1, t)));
        const float bc2_sqrt = (float)sqrt(1.0 - pow((double)c->beta2, t));
        return adam_fused(opt, params, grads, step_size, bc2_sqrt);
    }
#endif
    /* Eight partial sums in double: a fixed order (deterministic) that the compiler can keep in
     * vector registers; one sequential sum would wait on the add latency for every element. */
    double acc[8] = {0}, ss = 0;
    size_t i8 = n & ~(size_t)7;
    for (size_t i = 0; i < i8; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += (double)grads[i + j] * (double)grads[i + j];
    for (size_t i = i8; i < n; i++) acc[0] += (double)grads[i] * (double)grads[i];
    for (int j = 0; j < 8; j++) ss += acc[j];
    double norm = sqrt(ss);
    if (c->clip_norm > 0.0f && norm > (double)c->clip_norm) {
        float scale = (float)((double)c->clip_norm / norm);
        for (size_t i = 0; i < n; i++) grads[i] *= scale;
    }
    opt->step++;
    const float lr = c->lr, eps = c->eps, mu = c->momentum;
    switch (c->kind) {
    case PRISM_OPTIM_SGD:
        if (opt->mom) {
            /* PyTorch: the first step sets buf = g (dampening 0), which 0*mu + g also gives. */
            for (size_t i = 0; i < n; i++) {
                opt->mom[i] = mu * opt->mom[i] + grads[i];
                params[i] -= lr * opt->mom[i];
            }
        } else {
            for (size_t i = 0; i < n; i++) params[i] -= lr * grads[i];
        }
        break;
    case PRISM_OPTIM_ADAM: {
        const float b1 = c->beta1, b2 = c->beta2;
        const double t = (double)opt->step;
        const float step_size = (float)((double)lr / (1.0 - pow((double)b1, t)));
        const float bc2_sqrt = (float)sqrt(1.0 - pow((double)b2, t));
        size_t i = 0;
#if defined(__AVX512F__)
        /* The same again sixteen at a time: the two divisions dominate, and a 512-bit divide
         * does twice the lanes of a 256-bit one for well under twice the cost. */
        const __m512 wb1 = _mm512_set1_ps(b1), wb2 = _mm512_set1_ps(b2),
                     w1b1 = _mm512_set1_ps(1.0f - b1), w1b2 = _mm512_set1_ps(1.0f - b2),
                     wbc2 = _mm512_set1_ps(bc2_sqrt), weps = _mm512_set1_ps(eps),
                     wss = _mm512_set1_ps(step_size);
        for (; i + 16 <= n; i += 16) {
            __m512 g = _mm512_loadu_ps(grads + i);
            __m512 m = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(opt->m + i), wb1),
                                     _mm512_mul_ps(g, w1b1));
            __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(opt->v + i), wb2),
                                     _mm512_mul_ps(_mm512_mul_ps(g, g), w1b2));
            _mm512_storeu_ps(opt->m + i, m);
            _mm512_storeu_ps(opt->v + i, v);
            __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(v), wbc2), weps);
            __m512 p = _mm512_sub_ps(_mm512_loadu_ps(params + i),
                                     _mm512_mul_ps(wss, _mm512_div_ps(m, den)));
            _mm512_storeu_ps(params + i, p);
        }
#endif
#if defined(__AVX__)
        /* The same operations in the same order as the scalar loop below, eight at a time (no
         * FMA), so both give identical bits. Needed because sqrtf under the default
         * -fmath-errno keeps GCC from vectorising the scalar loop. */
        const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2),
                     v1b1 = _mm256_set1_ps(1.0f - b1), v1b2 = _mm256_set1_ps(1.0f - b2),
                     vbc2 = _mm256_set1_ps(bc2_sqrt), veps = _mm256_set1_ps(eps),
                     vss = _mm256_set1_ps(step_size);
        for (; i + 8 <= n; i += 8) {
            __m256 g = _mm256_loadu_ps(grads + i);
            __m256 m = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(opt->m + i), vb1),
                                     _mm256_mul_ps(g, v1b1));
            __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(opt->v + i), vb2),
                                     _mm256_mul_ps(_mm256_mul_ps(g, g), v1b2));
            _mm256_storeu_ps(opt->m + i, m);
            _mm256_storeu_ps(opt->v + i, v);
            __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(v), vbc2), veps);
            __m256 p = _mm256_sub_ps(_mm256_loadu_ps(params + i),
                                     _mm256_mul_ps(vss, _mm256_div_ps(m, den)));
            _mm256_storeu_ps(params + i, p);
        }
#endif
        for (; i < n; i++) {
            float g = grads[i];
            opt->m[i] = opt->m[i] * b1 + g * (1.0f - b1);
            opt->v[i] = opt->v[i] * b2 + g * g * (1.0f - b2);
            float denom = sqrtf(opt->v[i]) / bc2_sqrt + eps;
            params[i] -= step_size * (opt->m[i] / denom);
        }
        break;
    }
    case PRISM_OPTIM_RADAM:
        radam_update(opt, params, grads);
        break;
    case PRISM_OPTIM_RMSPROP_TF:
    case PRISM_OPTIM_RMSPROP_TORCH: {
        const float rho = c->rho;
        const int tf = c->kind == PRISM_OPTIM_RMSPROP_TF;
        for (size_t i = 0; i < n; i++) {
            float g = grads[i];
            opt->ms[i] = opt->ms[i] * rho + g * g * (1.0f - rho);
            float var = opt->ms[i];
            if (opt->mg) {
                opt->mg[i] = opt->mg[i] * rho + g * (1.0f - rho);
                var -= opt->mg[i] * opt->mg[i];
            }
            /* TF: eps inside the sqrt; PyTorch: outside. */
            float den = tf ? sqrtf(var + eps) : sqrtf(var) + eps;
            if (tf) {
                float upd = lr * g / den;
                if (opt->mom) upd = opt->mom[i] = mu * opt->mom[i] + upd;
                params[i] -= upd;
            } else if (opt->mom) {
                opt->mom[i] = mu * opt->mom[i] + g / den;
                params[i] -= lr * opt->mom[i];
            } else {
                params[i] -= lr * (g / den);
            }
        }
        break;
    }
    }
    return norm;
}
