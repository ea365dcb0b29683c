/* src/nn/io.c — saving and loading a network (and optionally its optimizer) in prism's nn file
 * format: magic, version, config, parameters, noise rng, optimizer state, CRC-32C.
 * Every field is written explicitly (never a struct dump) in little-endian byte order, the only
 * order prism supports (asserted at compile time). Loading validates everything into scratch
 * before it touches the net, so a bad file never leaves a half-loaded network. */
#include "prism/nn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "prism's file formats are little-endian");

#define NN_MAGIC "PRISMNN"
/* Version 2 adds two config words (layer_norm, layer_norm_eps), version 3 one more
 * (quantile_embedding_dim). Each network is written in the oldest version that holds it (no
 * LayerNorm and no embedding: version 1), so older networks' files stay byte for byte what they
 * were. */
#define NN_VERSION    3u
#define CFG_FIELDS    27 /* 32-bit words in the config section of version 3 */
#define CFG_FIELDS_V2 26 /* ... of version 2 (read as quantile_embedding_dim 0) */
#define CFG_FIELDS_V1 24 /* ... and of version 1 (read as layer_norm 0 too) */
#define OPT_FIELDS    10 /* 32-bit words in the optimizer config section */

/* A writer that checksums what it writes. */
typedef struct wr {
    FILE *f;
    uint32_t crc;
    int err;
} wr;

static void put(wr *w, const void *p, size_t n) {
    if (w->err || !n) return;
    if (fwrite(p, 1, n, w->f) != n) w->err = 1;
    w->crc = prism_crc32c(w->crc, p, n);
}
static void put_u32(wr *w, uint32_t v) {
    put(w, &v, 4);
}

static void config_words(const prism_nn_config *c, uint32_t *o) {
    memset(o, 0, sizeof(uint32_t) * CFG_FIELDS);
    int k = 0;
    o[k++] = (uint32_t)c->in_dim, o[k++] = (uint32_t)c->in_h, o[k++] = (uint32_t)c->in_w;
    o[k++] = (uint32_t)c->in_c, o[k++] = (uint32_t)c->conv_filters,
    o[k++] = (uint32_t)c->conv_padding, o[k++] = (uint32_t)c->n_hidden;
    for (int i = 0; i < PRISM_NN_MAX_HIDDEN; i++) o[k++] = (uint32_t)c->hidden[i];
    o[k++] = (uint32_t)c->n_actions, o[k++] = (uint32_t)c->n_atoms;
    memcpy(&o[k++], &c->v_min, 4), memcpy(&o[k++], &c->v_max, 4);
    o[k++] = (uint32_t)(c->dueling != 0), o[k++] = (uint32_t)(c->noisy != 0);
    memcpy(&o[k++], &c->noisy_sigma0, 4);
    o[k++] = (uint32_t)c->init;
    memcpy(&o[k++], &c->init_scale, 4);
    o[k++] = (uint32_t)(c->layer_norm != 0);
    float ln_eps = c->layer_norm ? c->layer_norm_eps : 0.0f;
    memcpy(&o[k++], &ln_eps, 4);
    o[k++] = (uint32_t)c->quantile_embedding_dim;
    PRISM_ASSERT(k == CFG_FIELDS);
}

/* The config words of a file version (1..NN_VERSION). */
static size_t cfg_fields(uint32_t version) {
    return version == 1u ? CFG_FIELDS_V1 : version == 2u ? CFG_FIELDS_V2 : CFG_FIELDS;
}

static void optim_words(const prism_optim_config *c, uint32_t *o) {
    int k = 0;
    o[k++] = (uint32_t)c->kind;
    memcpy(&o[k++], &c->lr, 4), memcpy(&o[k++], &c->beta1, 4), memcpy(&o[k++], &c->beta2, 4);
    memcpy(&o[k++], &c->eps, 4), memcpy(&o[k++], &c->rho, 4), memcpy(&o[k++], &c->momentum, 4);
    o[k++] = (uint32_t)(c->centered != 0);
    memcpy(&o[k++], &c->rms_init, 4), memcpy(&o[k++], &c->clip_norm, 4);
    PRISM_ASSERT(k == OPT_FIELDS);
}

prism_status prism_nn_write(const prism_nn *net, const prism_optim *opt, FILE *f) {
    wr w = {f, 0, 0};
    uint32_t cfg[CFG_FIELDS];
    put(&w, NN_MAGIC, 8); /* 7 letters and the terminating NUL */
    uint32_t version = net->cfg.quantile_embedding_dim ? 3u : net->cfg.layer_norm ? 2u : 1u;
    put_u32(&w, version);
    config_words(&net->cfg, cfg);
    put(&w, cfg, sizeof(uint32_t) * cfg_fields(version));
    uint64_t P = net->n_params;
    put(&w, &P, 8);
    put(&w, net->params, sizeof(float) * net->n_params);
    put(&w, net->noise_rng.s, sizeof net->noise_rng.s);
    put_u32(&w, opt != NULL);
    if (opt) {
        PRISM_ASSERT(opt->n_params == net->n_params);
        uint32_t oc[OPT_FIELDS];
        optim_words(&opt->cfg, oc);
        put(&w, oc, sizeof oc);
        int64_t step = opt->step;
        uint64_t len = opt->state_len;
        put(&w, &step, 8);
        put(&w, &len, 8);
        put(&w, opt->state, sizeof(float) * opt->state_len);
    }
    uint32_t crc = w.crc;
    put_u32(&w, crc);
    if (w.err) return prism_error(PRISM_ERR_IO, "nn: write failed: %s", strerror(errno));
    return PRISM_OK;
}

/* A reader that checksums what it reads and reports truncation by byte offset. */
typedef struct rd {
    FILE *f;
    uint32_t crc;
    long off;
    const char *what;
} rd;

static prism_status get(rd *r, void *p, size_t n) {
    if (!n) return PRISM_OK;
    size_t got = fread(p, 1, n, r->f);
    if (got != n)
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: truncated network file (needed %zu bytes at offset %ld, got %zu); "
                           "the file is incomplete: re-save it or use an older checkpoint",
                           r->what, n, r->off, got);
    r->crc = prism_crc32c(r->crc, p, n);
    r->off += (long)n;
    return PRISM_OK;
}

prism_status prism_nn_read(prism_nn *net, prism_optim *opt, FILE *f, const char *what) {
    rd r = {f, 0, 0, what};
    prism_status st;
    char magic[8];
    uint32_t version, cfg[CFG_FIELDS], mine[CFG_FIELDS], has_opt;
    uint64_t P;
    if ((st = get(&r, magic, 8))) return st;
    if (memcmp(magic, NN_MAGIC, 8) != 0)
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: not a prism network file (bad magic); pass a file written by "
                           "prism_nn_save",
                           what);
    if ((st = get(&r, &version, 4))) return st;
    if (version < 1u || version > NN_VERSION)
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: network file version %u, this prism reads versions 1 to %u; "
                           "re-create it with this version",
                           what, version, NN_VERSION);
    memset(cfg, 0, sizeof cfg);
    if ((st = get(&r, cfg, sizeof(uint32_t) * cfg_fields(version)))) return st;
    config_words(&net->cfg, mine);
    for (int i = 0; i < CFG_FIELDS; i++)
        if (cfg[i] != mine[i])
            return prism_error(PRISM_ERR_INVALID,
                               "%s: the saved network has a different configuration (config "
                               "word %d is %u, this network has %u); load it into a network "
                               "built with the same config",
                               what, i, cfg[i], mine[i]);
    if ((st = get(&r, &P, 8))) return st;
    if (P != net->n_params)
        return prism_error(PRISM_ERR_CORRUPT, "%s: parameter count %llu, expected %zu", what,
                           (unsigned long long)P, net->n_params);
    /* Everything goes to scratch first: the net is untouched until the checksum agrees. */
    float *params = prism_alloc(sizeof(float) * net->n_params);
    float *state = NULL;
    prism_rng rng;
    int64_t step = 0;
    uint64_t len = 0;
    if (!params) return prism_error(PRISM_ERR_NOMEM, "%s: out of memory loading", what);
    if ((st = get(&r, params, sizeof(float) * net->n_params))) goto done;
    if ((st = get(&r, rng.s, sizeof rng.s))) goto done;
    if ((st = get(&r, &has_opt, 4))) goto done;
    if (has_opt > 1) {
        st = prism_error(PRISM_ERR_CORRUPT, "%s: bad optimizer flag %u at offset %ld", what,
                         has_opt, r.off - 4);
        goto done;
    }
    if (opt && !has_opt) {
        st = prism_error(PRISM_ERR_INVALID,
                         "%s: the file holds no optimizer state; load it without an optimizer "
                         "or save one with it",
                         what);
        goto done;
    }
    if (has_opt) {
        uint32_t oc[OPT_FIELDS];
        if ((st = get(&r, oc, sizeof oc))) goto done;
        if ((st = get(&r, &step, 8))) goto done;
        if ((st = get(&r, &len, 8))) goto done;
        if (len > 4 * (uint64_t)net->n_params || step < 0) {
            st = prism_error(PRISM_ERR_CORRUPT, "%s: bad optimizer state (%llu values, step %lld)",
                             what, (unsigned long long)len, (long long)step);
            goto done;
        }
        if (opt) {
            /* Same kind and the same moment slots (centered, momentum on/off); the learning
             * rate and other scalars may differ (a schedule, a changed setting). */
            float saved_mom;
            memcpy(&saved_mom, &oc[6], 4);
            if (oc[0] != (uint32_t)opt->cfg.kind || len != opt->state_len ||
                oc[7] != (uint32_t)(opt->cfg.centered != 0) ||
                (saved_mom > 0.0f) != (opt->cfg.momentum > 0.0f)) {
                st = prism_error(PRISM_ERR_INVALID,
                                 "%s: the saved optimizer (kind %u, %llu moments) differs from "
                                 "this one (kind %d, %zu moments) in kind, centering or "
                                 "momentum; use the same optimizer settings",
                                 what, oc[0], (unsigned long long)len, (int)opt->cfg.kind,
                                 opt->state_len);
                goto done;
            }
        }
        if (len) {
            state = prism_alloc(sizeof(float) * len);
            if (!state) {
                st = prism_error(PRISM_ERR_NOMEM, "%s: out of memory loading", what);
                goto done;
            }
            if ((st = get(&r, state, sizeof(float) * len))) goto done;
        }
    }
    uint32_t want = r.crc, crc;
    if ((st = get(&r, &crc, 4))) goto done;
    if (crc != want) {
        st = prism_error(PRISM_ERR_CORRUPT,
                         "%s: checksum mismatch (stored %08x, computed %08x): the file is "
                         "corrupt; use another checkpoint",
                         what, crc, want);
        goto done;
    }
    memcpy(net->params, params, sizeof(float) * net->n_params);
    net->noise_rng = rng;
    if (opt) {
        opt->step = step;
        if (len) memcpy(opt->state, state, sizeof(float) * len);
    }
done:
    prism_free(params);
    prism_free(state);
    return st;
}

prism_status prism_nn_save(const prism_nn *net, const prism_optim *opt, const char *path) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return prism_error(PRISM_ERR_INVALID, "nn save: path too long: %s", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return prism_error(PRISM_ERR_IO, "nn save: cannot create %s: %s", tmp, strerror(errno));
    prism_status st = prism_nn_write(net, opt, f);
    if (fclose(f) != 0 && st == PRISM_OK)
        st = prism_error(PRISM_ERR_IO, "nn save: cannot write %s: %s", tmp, strerror(errno));
    if (st == PRISM_OK && rename(tmp, path) != 0)
        st = prism_error(PRISM_ERR_IO, "nn save: cannot rename %s to %s: %s", tmp, path,
                         strerror(errno));
    if (st != PRISM_OK) remove(tmp);
    return st;
}

prism_status prism_nn_load(prism_nn *net, prism_optim *opt, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return prism_error(errno == ENOENT ? PRISM_ERR_NOT_FOUND : PRISM_ERR_IO,
                           "nn load: cannot open %s: %s", path, strerror(errno));
    prism_status st = prism_nn_read(net, opt, f, path);
    fclose(f);
    return st;
}
