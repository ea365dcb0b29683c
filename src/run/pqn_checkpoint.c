/* PQN checkpoints (prism/pqn_run.h): taken between rollouts, so they hold every environment
 * mid-episode. The payload is assembled in memory, so one CRC covers it and the write is one
 * atomic file; `latest` is switched to it afterwards. */
#include "prism/pqn_run.h"

#include "prism/checkpoint.h"
#include "prism/fields.h"
#include "prism/file.h"
#include "prism/run_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PQN_MAGIC "PRISMPQN"
enum { PQN_CKPT_VERSION = 1 };

/* One field list for both directions (they cannot drift apart): with w set the values are
 * written, else read from r. */
typedef struct pqn_io {
    prism_fields *w;
    prism_fields_view *r;
    prism_status st;
} pqn_io;

static void io_i64s(pqn_io *x, const char *name, int64_t *v, size_t n) {
    if (x->w)
        prism_fields_i64s(x->w, name, v, n);
    else if (!x->st)
        x->st = prism_fields_get_i64s(x->r, name, v, n);
}

static void io_f64(pqn_io *x, const char *name, double *v) {
    if (x->w)
        prism_fields_f64(x->w, name, *v);
    else if (!x->st)
        x->st = prism_fields_get_f64(x->r, name, v);
}

static void io_ll(pqn_io *x, const char *name, long long *v) {
    int64_t t = *v;
    io_i64s(x, name, &t, 1);
    *v = t;
}

static void io_int(pqn_io *x, const char *name, int *v) {
    long long t = *v;
    io_ll(x, name, &t);
    if (!x->w && !x->st && (t < -2147483647LL || t > 2147483647LL))
        x->st = prism_error(PRISM_ERR_CORRUPT, "%s: field %s is out of range", x->r->source, name);
    *v = (int)t;
}

/* Raw bytes as 64-bit words (n bytes, zero-padded to a multiple of 8). */
static void io_bytes(pqn_io *x, const char *name, void *p, size_t n) {
    size_t words = (n + 7) / 8;
    uint64_t *buf = prism_calloc(words ? words : 1, sizeof *buf);
    if (!buf) {
        if (x->w) x->w->failed = true;
        if (!x->st) x->st = prism_error(PRISM_ERR_NOMEM, "out of memory for a checkpoint");
        return;
    }
    if (x->w) {
        memcpy(buf, p, n);
        prism_fields_u64s(x->w, name, buf, words);
    } else if (!x->st && !(x->st = prism_fields_get_u64s(x->r, name, buf, words))) {
        memcpy(p, buf, n);
    }
    prism_free(buf);
}

static void io_rng(pqn_io *x, const char *name, prism_rng *v) {
    if (x->w)
        prism_fields_u64s(x->w, name, v->s, 4);
    else if (!x->st)
        x->st = prism_fields_get_u64s(x->r, name, v->s, 4);
}

static void io_stats(pqn_io *x, prism_pqn_stats *s) {
    io_ll(x, "stats.rollouts", &s->rollouts);
    io_ll(x, "stats.updates", &s->updates);
    io_f64(x, "stats.loss_sum", &s->loss_sum);
    io_f64(x, "stats.q_sum", &s->q_sum);
    io_f64(x, "stats.q_max", &s->q_max);
    io_ll(x, "stats.q_count", &s->q_count);
    io_f64(x, "stats.ret_sum", &s->ret_sum);
    io_f64(x, "stats.ret_sq", &s->ret_sq);
    io_f64(x, "stats.ret_min", &s->ret_min);
    io_f64(x, "stats.ret_max", &s->ret_max);
    io_ll(x, "stats.ret_count", &s->ret_count);
    io_f64(x, "stats.grad_norm_sum", &s->grad_norm_sum);
    io_f64(x, "stats.grad_norm_max", &s->grad_norm_max);
    io_f64(x, "stats.lr_last", &s->lr_last);
    io_f64(x, "stats.epsilon_last", &s->epsilon_last);
    io_f64(x, "stats.time_env", &s->time_env);
    io_f64(x, "stats.time_act", &s->time_act);
    io_f64(x, "stats.time_returns", &s->time_returns);
    io_f64(x, "stats.time_learn", &s->time_learn);
}

static void io_random(pqn_io *x, const char *prefix, prism_env_random *v) {
    char name[64];
    int kind = (int)v->kind;
    snprintf(name, sizeof name, "%s.kind", prefix);
    io_int(x, name, &kind);
    snprintf(name, sizeof name, "%s.rng", prefix);
    io_rng(x, name, &v->rng);
    snprintf(name, sizeof name, "%s.np", prefix);
    io_bytes(x, name, &v->np, sizeof v->np);
    if (!x->w && !x->st && kind != (int)v->kind)
        x->st = prism_error(PRISM_ERR_CORRUPT, "%s: %s is a random source of another kind",
                            x->r->source, prefix);
}

/* Every environment, each field one array over the N copies (so the field count does not grow
 * with N): states XOR `fresh`'s (a freshly built copy: see prism/pqn_run.h), time-limit
 * counters, random sources. */
static void io_envs(pqn_io *x, prism_vec_env *v, const unsigned char *fresh) {
    const size_t n = v->envs[0].cls->state_bytes, N = (size_t)v->n;
    const size_t np = sizeof v->envs[0].random.np;
    unsigned char *b = prism_alloc(N * (n > np ? n : np) + 1);
    int64_t *ints = prism_alloc(sizeof(int64_t) * 2 * N);
    uint64_t *rngs = prism_alloc(sizeof(uint64_t) * 4 * N);
    if (!b || !ints || !rngs) {
        if (x->w) x->w->failed = true;
        if (!x->st) x->st = prism_error(PRISM_ERR_NOMEM, "out of memory for a checkpoint");
    } else {
        for (size_t i = 0; x->w && i < N; i++) {
            const prism_env *e = &v->envs[i];
            for (size_t k = 0; k < n; k++)
                b[i * n + k] = ((const unsigned char *)e->state)[k] ^ fresh[k];
            ints[i] = e->elapsed, ints[N + i] = e->random.kind;
            memcpy(rngs + 4 * i, e->random.rng.s, sizeof e->random.rng.s);
        }
        io_bytes(x, "envs.state", b, N * n);
        for (size_t i = 0; !x->w && !x->st && i < N; i++)
            for (size_t k = 0; k < n; k++)
                ((unsigned char *)v->envs[i].state)[k] = b[i * n + k] ^ fresh[k];
        io_i64s(x, "envs.elapsed_and_random_kind", ints, 2 * N);
        if (x->w)
            prism_fields_u64s(x->w, "envs.rng", rngs, 4 * N);
        else if (!x->st)
            x->st = prism_fields_get_u64s(x->r, "envs.rng", rngs, 4 * N);
        for (size_t i = 0; x->w && i < N; i++) memcpy(b + i * np, &v->envs[i].random.np, np);
        io_bytes(x, "envs.np_random", b, N * np);
        for (size_t i = 0; !x->w && !x->st && i < N; i++) {
            prism_env *e = &v->envs[i];
            if (ints[N + i] != (int64_t)e->random.kind) {
                x->st = prism_error(PRISM_ERR_CORRUPT,
                                    "%s: environment %zu has a random source "
                                    "of another kind",
                                    x->r->source, i);
                break;
            }
            if (ints[i] < 0 || ints[i] > 2147483647LL) {
                x->st = prism_error(PRISM_ERR_CORRUPT,
                                    "%s: environment %zu's step count is out "
                                    "of range",
                                    x->r->source, i);
                break;
            }
            e->elapsed = (int)ints[i];
            memcpy(e->random.rng.s, rngs + 4 * i, sizeof e->random.rng.s);
            memcpy(&e->random.np, b + i * np, np);
        }
    }
    prism_free(b), prism_free(ints), prism_free(rngs);
}

static void visit(pqn_io *x, prism_pqn_run *r, const unsigned char *fresh) {
    prism_pqn *pq = &r->pq;
    io_int(x, "iterations_done", &r->iterations_done);
    io_int(x, "mid_iteration", &r->mid_iteration);
    io_ll(x, "episodes_total", &r->episodes_total);
    io_ll(x, "metrics_offset", &r->metrics_offset);
    io_ll(x, "episodes_offset", &r->episodes_offset);
    io_ll(x, "acc.episodes", &r->acc.episodes);
    io_f64(x, "acc.return_sum", &r->acc.return_sum);
    io_f64(x, "acc.return_sq", &r->acc.return_sq);
    io_f64(x, "acc.return_min", &r->acc.return_min);
    io_f64(x, "acc.return_max", &r->acc.return_max);
    io_f64(x, "acc.length_sum", &r->acc.length_sum);
    io_ll(x, "pqn.env_steps", &pq->env_steps);
    io_ll(x, "pqn.rollouts", &pq->rollouts);
    io_rng(x, "pqn.explore_rng", &pq->explore_rng);
    io_rng(x, "pqn.shuffle_rng", &pq->shuffle_rng);
    io_rng(x, "eval_rng", &r->eval_rng);
    io_random(x, "eval_env.random", &r->eval_env.random);
    io_stats(x, &pq->stats);
    io_bytes(x, "pqn.obs", pq->obs, sizeof(float) * (size_t)pq->n * (size_t)pq->obs_size);
    io_bytes(x, "pqn.ep_return", pq->ep_return, sizeof(double) * (size_t)pq->n);
    io_bytes(x, "pqn.ep_length", pq->ep_length, sizeof(int) * (size_t)pq->n);
    io_envs(x, &pq->venv, fresh);
}

/* The bytes of a freshly built environment of the run's kind (what io_env XORs with). */
static prism_status fresh_state(const prism_pqn_run *r, unsigned char **out) {
    const prism_env_class *cls = r->pq.cls;
    if (cls->destroy)
        return prism_error(PRISM_ERR_UNSUPPORTED,
                           "%s owns state outside its struct (a physics world), which a PQN "
                           "checkpoint cannot save; PQN runs on it cannot be checkpointed or "
                           "resumed",
                           cls->id);
    prism_env e;
    prism_status st = prism_train_env_init(&e, &r->cfg);
    if (st) return st;
    *out = prism_alloc(cls->state_bytes ? cls->state_bytes : 1);
    if (*out) memcpy(*out, e.state, cls->state_bytes);
    prism_env_free(&e);
    return *out ? PRISM_OK : prism_error(PRISM_ERR_NOMEM, "out of memory for a checkpoint");
}

prism_status prism_pqn_checkpoint_save(const char *dir, const prism_pqn_run *r) {
    unsigned char *fresh = NULL;
    prism_status st = fresh_state(r, &fresh);
    if (!st) st = prism_mkdir_p(dir);
    if (st) {
        prism_free(fresh);
        return st;
    }
    char *payload = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&payload, &len);
    if (!f) {
        prism_free(fresh);
        return prism_error(PRISM_ERR_NOMEM, "out of memory building a checkpoint");
    }
    prism_fields w;
    prism_fields_init(&w);
    pqn_io x = {.w = &w};
    visit(&x, (prism_pqn_run *)(uintptr_t)r, fresh); /* writing only reads r */
    prism_free(fresh);
    st = x.st ? x.st : prism_fields_write(&w, f);
    prism_fields_free(&w);
    if (!st) st = prism_nn_write(&r->pq.net, &r->pq.opt, f);
    if (fclose(f) != 0 && !st)
        st = prism_error(PRISM_ERR_NOMEM, "out of memory building a checkpoint");
    char name[64], path[PRISM_PATH_MAX], latest[PRISM_PATH_MAX], old[PRISM_PATH_MAX] = "";
    snprintf(name, sizeof name, "ckpt-%d%s.bin", r->iterations_done,
             r->mid_iteration ? "-mid" : "");
    if (!st) st = prism_path_join(path, sizeof path, dir, name);
    if (!st) st = prism_path_join(latest, sizeof latest, dir, "latest");
    if (!st) st = prism_checkpoint_envelope_write(path, PQN_MAGIC, PQN_CKPT_VERSION, payload, len);
    free(payload);
    if (st) return st;
    /* the previous checkpoint goes once `latest` names the new one */
    if (prism_checkpoint_latest(dir, old, sizeof old) != PRISM_OK || !strcmp(old, path)) old[0] = 0;
    char line[80];
    int n = snprintf(line, sizeof line, "%s\n", name);
    if ((st = prism_file_write_atomic(latest, line, (size_t)n))) return st;
    if (old[0]) unlink(old);
    return PRISM_OK;
}

prism_status prism_pqn_checkpoint_load(const char *dir, prism_pqn_run *r) {
    char path[PRISM_PATH_MAX];
    prism_status st = prism_checkpoint_latest(dir, path, sizeof path);
    return st ? st : prism_pqn_checkpoint_load_file(path, r);
}

prism_status prism_pqn_checkpoint_load_file(const char *path, prism_pqn_run *r) {
    char *data = NULL;
    size_t len = 0;
    prism_status st = prism_file_read(path, &data, &len);
    if (st) return st;
    const unsigned char *payload = NULL;
    size_t plen = 0;
    uint32_t found = 0;
    st = prism_checkpoint_envelope_read(path, data, len, PQN_MAGIC, PQN_CKPT_VERSION,
                                        "PQN checkpoint", &found, &payload, &plen);
    unsigned char *fresh = NULL;
    if (!st) st = fresh_state(r, &fresh);
    if (!st) {
        prism_fields_view v;
        size_t used = 0;
        st = prism_fields_parse(&v, payload, plen, &used, path);
        if (!st) {
            pqn_io x = {.r = &v};
            visit(&x, r, fresh);
            st = x.st ? x.st : prism_fields_done(&v);
        }
        if (!st) {
            FILE *f = fmemopen((void *)(uintptr_t)(payload + used), plen - used, "rb");
            if (!f)
                st = prism_error(PRISM_ERR_NOMEM, "out of memory reading %s", path);
            else {
                st = prism_nn_read(&r->pq.net, &r->pq.opt, f, path);
                fclose(f);
            }
        }
    }
    prism_free(fresh);
    prism_free(data);
    return st;
}
