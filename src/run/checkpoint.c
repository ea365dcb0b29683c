/* Checkpoint files: the payload is assembled in memory (so one CRC covers it and the write is
 * one atomic file), then `latest` is switched to it. See prism/checkpoint.h. */
#include "prism/checkpoint.h"

#include "prism/fields.h"
#include "prism/file.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CKPT_MAGIC "PRISMCKP"
enum { HEADER_BYTES = 8 + 4 + 4 + 8 };

/* A field list read or written by the same code (so the two cannot drift apart): with w set
 * the values are written, else they are read from r into the state. */
typedef struct field_io {
    prism_fields *w;
    prism_fields_view *r;
    prism_status st;
    /* The agent's noise draw as float bit patterns (noise_len values; see visit): it lives in
     * the networks' buffers, so it is read here and applied only once the whole file loaded. */
    uint32_t *noise;
    size_t noise_len;
} field_io;

static void io_i64(field_io *x, const char *name, long long *v) {
    int64_t t = *v;
    if (x->w)
        prism_fields_i64(x->w, name, t);
    else if (!x->st && !(x->st = prism_fields_get_i64(x->r, name, &t)))
        *v = t;
}

static void io_int(field_io *x, const char *name, int *v) {
    long long t = *v;
    io_i64(x, name, &t);
    if (!x->w && !x->st) {
        if (t < INT32_MIN || t > INT32_MAX)
            x->st = prism_error(PRISM_ERR_CORRUPT, "%s is damaged: field %s is out of range",
                                x->r->source, name);
        else
            *v = (int)t;
    }
}

static void io_f64(field_io *x, const char *name, double *v) {
    if (x->w)
        prism_fields_f64(x->w, name, *v);
    else if (!x->st)
        x->st = prism_fields_get_f64(x->r, name, v);
}

static void io_i64s(field_io *x, const char *name, long long *v, size_t n) {
    int64_t t[PRISM_ACTIONS_LOGGED];
    PRISM_ASSERT(n <= PRISM_ACTIONS_LOGGED);
    for (size_t i = 0; i < n; i++) t[i] = v[i];
    if (x->w)
        prism_fields_i64s(x->w, name, t, n);
    else if (!x->st && !(x->st = prism_fields_get_i64s(x->r, name, t, n)))
        for (size_t i = 0; i < n; i++) v[i] = t[i];
}

static void io_rng(field_io *x, const char *name, prism_rng *v) {
    if (x->w)
        prism_fields_u64s(x->w, name, v->s, 4);
    else if (!x->st)
        x->st = prism_fields_get_u64s(x->r, name, v->s, 4);
}

static void io_u32s(field_io *x, const char *name, uint32_t *v, size_t n) {
    if (x->w)
        prism_fields_u32s(x->w, name, v, n);
    else if (!x->st)
        x->st = prism_fields_get_u32s(x->r, name, v, n);
}

static void io_env_random(field_io *x, const char *prefix, prism_env_random *v) {
    char name[64];
    int kind = (int)v->kind;
    snprintf(name, sizeof name, "%s.kind", prefix);
    io_int(x, name, &kind);
    snprintf(name, sizeof name, "%s.rng", prefix);
    io_rng(x, name, &v->rng);
    snprintf(name, sizeof name, "%s.np_mt", prefix);
    if (x->w)
        prism_fields_u32s(x->w, name, v->np.mt, 624);
    else if (!x->st)
        x->st = prism_fields_get_u32s(x->r, name, v->np.mt, 624);
    snprintf(name, sizeof name, "%s.np_pos", prefix);
    io_int(x, name, &v->np.pos);
    if (!x->w && !x->st && kind != (int)v->kind)
        x->st =
            prism_error(PRISM_ERR_CORRUPT, "%s is damaged: %s is a random source of another kind",
                        x->r->source, prefix);
}

/* Adding a field to one of these structs without checkpointing it would break bit-identical
 * resume silently: add it to visit() below, then update the size here. */
_Static_assert(sizeof(prism_run_counters) == 40, "checkpoint every counter by name in visit()");
_Static_assert(sizeof(prism_iteration_acc) == 336, "checkpoint every sum by name in visit()");
_Static_assert(sizeof(prism_agent_stats) == 136, "checkpoint every statistic by name in visit()");

/* Every checkpointed value of the run state that is not a network or the replay memory. */
static void visit(field_io *x, prism_run_state *s) {
    prism_run_counters *c = &s->counters;
    io_int(x, "run.iterations_done", &c->iterations_done);
    io_int(x, "run.mid_iteration", &c->mid_iteration);
    io_i64(x, "run.env_steps", &c->env_steps);
    io_i64(x, "run.episodes_total", &c->episodes_total);
    io_i64(x, "run.metrics_offset", &c->metrics_offset);
    io_i64(x, "run.episodes_offset", &c->episodes_offset);
    prism_iteration_acc *a = &s->acc;
    io_i64(x, "iteration.steps", &a->steps);
    io_i64(x, "iteration.episodes", &a->episodes);
    io_f64(x, "iteration.return_sum", &a->return_sum);
    io_f64(x, "iteration.return_sq", &a->return_sq);
    io_f64(x, "iteration.return_min", &a->return_min);
    io_f64(x, "iteration.return_max", &a->return_max);
    io_f64(x, "iteration.length_sum", &a->length_sum);
    io_i64s(x, "iteration.action_counts", a->action_counts, PRISM_ACTIONS_LOGGED);
    io_i64(x, "iteration.actions_total", &a->actions_total);
    io_f64(x, "iteration.time_env", &a->time_env);
    io_f64(x, "iteration.time_act", &a->time_act);
    prism_agent *g = &s->agent;
    io_i64(x, "agent.steps", &g->steps);
    io_rng(x, "agent.explore_rng", &g->explore_rng);
    io_rng(x, "agent.replay_rng", &g->replay_rng);
    io_rng(x, "agent.eval_rng", &g->eval_rng);
    /* only with the implicit head, so that other runs write what they always did */
    if (g->act_taus) io_rng(x, "agent.tau_rng", &g->tau_rng);
    prism_agent_stats *t = &g->stats;
    io_i64(x, "agent.stats.updates", &t->updates);
    io_f64(x, "agent.stats.loss_sum", &t->loss_sum);
    io_f64(x, "agent.stats.q_sum", &t->q_sum);
    io_f64(x, "agent.stats.q_max", &t->q_max);
    io_i64(x, "agent.stats.q_count", &t->q_count);
    io_f64(x, "agent.stats.target_sum", &t->target_sum);
    io_f64(x, "agent.stats.target_absmax", &t->target_absmax);
    io_f64(x, "agent.stats.grad_norm_sum", &t->grad_norm_sum);
    io_f64(x, "agent.stats.grad_norm_max", &t->grad_norm_max);
    io_f64(x, "agent.stats.update_ratio", &t->update_ratio);
    io_f64(x, "agent.stats.dist_entropy_sum", &t->dist_entropy_sum);
    /* only with a quantile head, so that other runs write what they always did */
    if (g->taus) io_f64(x, "agent.stats.quantile_spread_sum", &t->quantile_spread_sum);
    io_f64(x, "agent.stats.weight_min", &t->weight_min);
    io_i64(x, "agent.stats.target_syncs", &t->target_syncs);
    int nonfinite = (int)t->first_nonfinite;
    io_int(x, "agent.stats.first_nonfinite", &nonfinite);
    t->first_nonfinite = (prism_nonfinite)nonfinite;
    io_f64(x, "agent.stats.time_replay", &t->time_replay);
    io_f64(x, "agent.stats.time_learn", &t->time_learn);
    io_env_random(x, "env.random", &s->env.random);
    io_env_random(x, "eval_env.random", &s->eval_env.random);
    /* The update and fixed noise modes act with a draw made earlier: the online net's (the
     * target's is the same). Only then, so that per-action runs write what they always did. */
    if (prism_agent_keeps_noise(&g->cfg)) io_u32s(x, "agent.noise", x->noise, x->noise_len);
}

/* Space for the agent's noise draw in x (none when the agent does not keep one): the bit
 * patterns, then the same values as floats (eps). */
static prism_status noise_alloc(field_io *x, const prism_agent *ag, float **eps) {
    x->noise_len = prism_agent_keeps_noise(&ag->cfg) ? prism_nn_noise_size(&ag->online) : 0;
    x->noise = NULL;
    *eps = NULL;
    if (!x->noise_len) return PRISM_OK;
    _Static_assert(sizeof(float) == sizeof(uint32_t), "noise is stored as float bit patterns");
    if (!(x->noise = prism_alloc(x->noise_len * 2 * sizeof(uint32_t))))
        return prism_error(PRISM_ERR_NOMEM, "out of memory for the noise of a checkpoint");
    *eps = (float *)(void *)(x->noise + x->noise_len);
    return PRISM_OK;
}

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static prism_status build_payload(char **buf, size_t *len, const prism_run_state *s) {
    FILE *f = open_memstream(buf, len);
    if (!f) return prism_error(PRISM_ERR_NOMEM, "out of memory building a checkpoint");
    prism_fields w;
    prism_fields_init(&w);
    /* visit() takes the fields' addresses for reading too: give it a (shallow) copy */
    prism_run_state *copy = prism_alloc(sizeof *copy);
    field_io x = {.w = &w};
    float *eps = NULL;
    if (copy && noise_alloc(&x, &s->agent, &eps) == PRISM_OK) {
        memcpy(copy, s, sizeof *copy);
        if (eps) prism_nn_noise_get(&s->agent.online, eps);
        for (size_t i = 0; i < x.noise_len; i++) {
            uint32_t bits;
            memcpy(&bits, &eps[i], sizeof bits);
            x.noise[i] = bits;
        }
        visit(&x, copy);
    } else {
        w.failed = true;
    }
    prism_free(copy);
    prism_free(x.noise);
    prism_status st = prism_fields_write(&w, f);
    prism_fields_free(&w);
    if (!st) st = prism_nn_write(&s->agent.online, &s->agent.opt, f);
    if (!st) st = prism_nn_write(&s->agent.target, NULL, f);
    if (!st) st = prism_replay_save(&s->agent.replay, f);
    if (fclose(f) != 0 && !st)
        st = prism_error(PRISM_ERR_NOMEM, "out of memory building a checkpoint");
    if (st) {
        free(*buf);
        *buf = NULL;
    }
    return st;
}

/* The iteration number of "ckpt-N.bin" or "ckpt-N-mid.bin" (mid counts as N + 0.5 for
 * ordering, so it is returned doubled), or -1. */
static int checkpoint_number(const char *name) {
    int n, used = 0;
    if (sscanf(name, "ckpt-%d%n", &n, &used) != 1 || n < 0) return -1;
    if (!strcmp(name + used, ".bin")) return 2 * n;
    if (!strcmp(name + used, "-mid.bin")) return 2 * n + 1;
    return -1;
}

/* Remove all but the newest `keep` ckpt-*.bin files (best effort: a failure is harmless). */
static void prune(const char *dir, int keep) {
    DIR *d = opendir(dir);
    if (!d) return;
    int numbers[4096], n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 4096;) {
        int k = checkpoint_number(e->d_name);
        if (k >= 0) numbers[n++] = k;
    }
    closedir(d);
    for (int i = 0; i < n; i++) {
        int newer = 0;
        for (int j = 0; j < n; j++) newer += numbers[j] > numbers[i];
        if (newer >= keep) {
            char path[PRISM_PATH_MAX];
            snprintf(path, sizeof path, "%s/ckpt-%d%s.bin", dir, numbers[i] / 2,
                     numbers[i] % 2 ? "-mid" : "");
            unlink(path);
        }
    }
}

prism_status prism_checkpoint_envelope_write(const char *path, const char magic[8],
                                             uint32_t version, const void *payload, size_t len) {
    unsigned char header[HEADER_BYTES], trailer[4];
    memcpy(header, magic, 8);
    put_u32(header + 8, version);
    put_u32(header + 12, 0);
    put_u64(header + 16, len);
    put_u32(trailer, prism_crc32c(prism_crc32c(0, header, sizeof header), payload, len));
    prism_atomic_file af;
    prism_status st = prism_atomic_open(&af, path);
    if (!st) st = prism_atomic_write(&af, header, sizeof header);
    if (!st) st = prism_atomic_write(&af, payload, len);
    if (!st) st = prism_atomic_write(&af, trailer, sizeof trailer);
    if (st)
        prism_atomic_abort(&af);
    else
        st = prism_atomic_commit(&af);
    return st;
}

static prism_status write_file(const char *path, const prism_run_state *s) {
    char *payload = NULL;
    size_t payload_len = 0;
    prism_status st = build_payload(&payload, &payload_len, s);
    if (st) return st;
    st = prism_checkpoint_envelope_write(path, CKPT_MAGIC, PRISM_CHECKPOINT_VERSION, payload,
                                         payload_len);
    free(payload);
    return st;
}

prism_status prism_checkpoint_save_file(const char *path, const prism_run_state *s) {
    return write_file(path, s);
}

prism_status prism_checkpoint_save(const char *dir, int keep, const prism_run_state *s) {
    prism_status st = prism_mkdir_p(dir);
    if (st) return st;
    char name[64], path[PRISM_PATH_MAX], latest[PRISM_PATH_MAX];
    snprintf(name, sizeof name, "ckpt-%d%s.bin", s->counters.iterations_done,
             s->counters.mid_iteration ? "-mid" : "");
    if ((st = prism_path_join(path, sizeof path, dir, name)) ||
        (st = prism_path_join(latest, sizeof latest, dir, "latest")))
        return st;
    if ((st = write_file(path, s))) return st;
    char text[80];
    int n = snprintf(text, sizeof text, "%s\n", name);
    if ((st = prism_file_write_atomic(latest, text, (size_t)n))) return st;
    prune(dir, keep);
    return PRISM_OK;
}

/* The checksum only says the file is what was written; the values must also make sense before
 * anything indexes with them (a damaged file with a recomputed checksum, or a bug). */
static const char *implausible(const prism_run_state *s) {
    const prism_run_counters *rc = &s->counters;
    if (rc->iterations_done < 0 || (rc->mid_iteration != 0 && rc->mid_iteration != 1) ||
        rc->env_steps < 0 || rc->episodes_total < 0 || rc->metrics_offset < 0 ||
        rc->episodes_offset < 0 || s->agent.steps < 0)
        return "negative counters";
    const prism_np_random *np[2] = {&s->env.random.np, &s->eval_env.random.np};
    for (int i = 0; i < 2; i++)
        if (np[i]->pos < 0 || np[i]->pos > 624) return "environment random position out of range";
    return NULL;
}

prism_status prism_checkpoint_envelope_read(const char *path, const char *data, size_t len,
                                            const char magic[8], uint32_t version, const char *kind,
                                            uint32_t *found_version, const unsigned char **payload,
                                            size_t *payload_len) {
    const unsigned char *p = (const unsigned char *)data;
    *found_version = 0;
    if (len < HEADER_BYTES + 4 || memcmp(p, magic, 8) != 0)
        return prism_error(PRISM_ERR_CORRUPT, "%s is not a %s (bad magic or too short: %zu bytes)",
                           path, kind, len);
    *found_version = get_u32(p + 8);
    if (*found_version != version)
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s has %s format version %u; this prism reads version %u: use a prism "
                           "that reads version %u",
                           path, kind, *found_version, version, *found_version);
    uint64_t stated = get_u64(p + 16);
    if (stated != len - HEADER_BYTES - 4)
        return prism_error(
            PRISM_ERR_CORRUPT,
            "%s is truncated or padded: header says %llu payload bytes, file has %zu", path,
            (unsigned long long)stated, len - HEADER_BYTES - 4);
    uint32_t want = get_u32(p + len - 4), got = prism_crc32c(0, p, len - 4);
    if (want != got)
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s is corrupt: checksum mismatch (stored %08x, computed %08x)", path,
                           want, got);
    *payload = p + HEADER_BYTES;
    *payload_len = len - HEADER_BYTES - 4;
    return PRISM_OK;
}

/* The envelope of a run checkpoint; version 1 (raw struct bytes, before the named fields) gets
 * its own message saying what to do. */
static prism_status check_envelope(const char *path, const char *data, size_t len,
                                   const unsigned char **payload, size_t *payload_len) {
    uint32_t found = 0;
    prism_status st =
        prism_checkpoint_envelope_read(path, data, len, CKPT_MAGIC, PRISM_CHECKPOINT_VERSION,
                                       "prism checkpoint", &found, payload, payload_len);
    if (st && found == 1)
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s has checkpoint format version 1 (written by a prism before "
                           "checkpoints named their fields); this prism reads version %d: resume "
                           "the run with the prism that started it (its commit is in run.json) "
                           "or start it again",
                           path, PRISM_CHECKPOINT_VERSION);
    return st;
}

/* The networks and the replay memory from f, then the replay's actions against the agent's. */
static prism_status load_memories(const char *path, FILE *f, prism_agent *agent) {
    prism_status st = prism_nn_read(&agent->online, &agent->opt, f, path);
    if (!st) st = prism_nn_read(&agent->target, NULL, f, path);
    if (!st && (st = prism_replay_load(&agent->replay, f))) {
        /* the replay loader's messages do not know the file: name it */
        char saved[512];
        snprintf(saved, sizeof saved, "%s", prism_error_message());
        return prism_error(st, "%s: replay memory: %s", path, saved);
    }
    if (st) return st;
    /* The replay memory cannot know the number of actions: a stored action outside the
     * agent's range would pass it and only fail (an assertion) when a batch reaches the loss.
     * (Found by fuzz/fuzz_checkpoint.c.) */
    const prism_replay *r = &agent->replay;
    const int64_t filled = r->pos < r->opt.capacity ? r->pos : r->opt.capacity;
    for (int64_t i = 0; i < filled; i++)
        if (r->actions[i] >= agent->num_actions)
            return prism_error(PRISM_ERR_CORRUPT,
                               "%s is damaged: replay slot %lld holds action %d, but the "
                               "environment has %d actions",
                               path, (long long)i, (int)r->actions[i], agent->num_actions);
    /* trailing bytes after the replay memory mean the layout is not the one written */
    if (fgetc(f) != EOF)
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s is damaged: unexpected bytes after the replay memory", path);
    return PRISM_OK;
}

prism_status prism_checkpoint_load_file(const char *path, prism_run_state *s) {
    char *data = NULL;
    size_t len = 0;
    prism_status st = prism_file_read(path, &data, &len);
    if (st) return st;
    const unsigned char *payload = NULL;
    size_t payload_len = 0;
    if ((st = check_envelope(path, data, len, &payload, &payload_len))) {
        prism_free(data);
        return st;
    }
    prism_fields_view *v = prism_alloc(sizeof *v);
    if (!v) {
        prism_free(data);
        return prism_error(PRISM_ERR_NOMEM, "out of memory reading %s", path);
    }
    size_t used = 0;
    st = prism_fields_parse(v, payload, payload_len, &used, path);
    /* the named values go into a copy: s changes only when the whole file loaded */
    prism_run_state *back = NULL;
    field_io x = {.r = v};
    float *eps = NULL;
    if (!st && !(back = prism_alloc(sizeof *back)))
        st = prism_error(PRISM_ERR_NOMEM, "out of memory reading %s", path);
    if (!st) st = noise_alloc(&x, &s->agent, &eps);
    if (!st) {
        memcpy(back, s, sizeof *back);
        visit(&x, back);
        st = x.st;
    }
    if (!st) st = prism_fields_done(v);
    const char *bad = st ? NULL : implausible(back);
    for (size_t i = 0; i < x.noise_len && !st && !bad; i++) {
        uint32_t bits = x.noise[i];
        memcpy(&eps[i], &bits, sizeof bits);
        if (!isfinite(eps[i])) bad = "agent.noise holds a value that is not finite";
    }
    if (bad) st = prism_error(PRISM_ERR_CORRUPT, "%s is damaged: %s", path, bad);
    if (!st) {
        FILE *f = fmemopen((void *)(uintptr_t)(payload + used), payload_len - used, "rb");
        if (!f)
            st = prism_error(PRISM_ERR_NOMEM, "out of memory reading %s", path);
        else {
            st = load_memories(path, f, &s->agent);
            fclose(f);
        }
    }
    if (!st) {
        s->counters = back->counters;
        s->acc = back->acc;
        s->agent.steps = back->agent.steps;
        s->agent.stats = back->agent.stats;
        s->agent.explore_rng = back->agent.explore_rng;
        s->agent.replay_rng = back->agent.replay_rng;
        s->agent.eval_rng = back->agent.eval_rng;
        s->agent.tau_rng = back->agent.tau_rng;
        s->env.random = back->env.random;
        s->eval_env.random = back->eval_env.random;
        if (eps) {
            prism_nn_noise_set(&s->agent.online, eps);
            prism_nn_noise_set(&s->agent.target, eps);
        }
    }
    prism_free(x.noise);
    prism_free(back);
    prism_free(v);
    prism_free(data);
    return st;
}

prism_status prism_checkpoint_latest(const char *dir, char *path, size_t cap) {
    char latest[PRISM_PATH_MAX];
    prism_status st = prism_path_join(latest, sizeof latest, dir, "latest");
    if (st) return st;
    char *text = NULL;
    size_t len = 0;
    st = prism_file_read(latest, &text, &len);
    if (st == PRISM_ERR_NOT_FOUND)
        return prism_error(PRISM_ERR_NOT_FOUND,
                           "no checkpoint in %s (the run stopped before its first checkpoint; "
                           "start it again)",
                           dir);
    if (st) return st;
    text[strcspn(text, "\r\n")] = 0;
    if (checkpoint_number(text) < 0) {
        prism_free(text);
        return prism_error(PRISM_ERR_CORRUPT, "%s does not name a checkpoint file", latest);
    }
    st = prism_path_join(path, cap, dir, text);
    prism_free(text);
    return st;
}

prism_status prism_checkpoint_load(const char *dir, prism_run_state *s) {
    char path[PRISM_PATH_MAX];
    prism_status st = prism_checkpoint_latest(dir, path, sizeof path);
    return st ? st : prism_checkpoint_load_file(path, s);
}
