/* src/run/sweep_dir.c — the sweep directory (prism/sweep.h, docs/sweeps.md): manifest.tsv and
 * sweep.json written and read back, the runs/, logs/ and failed/ folders, and each run's state
 * taken from its run directory. It starts no process: the backends (sweep_local.c,
 * sweep_slurm.c) do, and write sweep.json through prism_sweep_write_status. */
#define _POSIX_C_SOURCE 200809L
#include "sweep_internal.h"

#include "prism/archive.h"
#include "prism/file.h"
#include "prism/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* ---- small helpers ---- */

bool sweep_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

prism_status sweep_pathf(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return prism_error(PRISM_ERR_INVALID,
                           "path '%.80s...' is too long; use a shorter sweep "
                           "directory",
                           out);
    return PRISM_OK;
}

/* ---- states ---- */

const char *prism_sweep_state_name(prism_sweep_state s) {
    static const char *names[] = {"pending", "running", "completed", "interrupted", "failed"};
    PRISM_ASSERT((int)s >= 0 && (int)s < 5);
    return names[s];
}

static int state_parse(const char *name) {
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, prism_sweep_state_name((prism_sweep_state)i))) return i;
    return -1;
}

/* ---- the sweep directory ---- */

static prism_status write_manifest(const prism_sweep *s, const char *dir) {
    char path[PRISM_PATH_MAX];
    prism_status st = sweep_pathf(path, sizeof path, "%s/manifest.tsv", dir);
    if (st) return st;
    prism_atomic_file af;
    if ((st = prism_atomic_open(&af, path))) return st;
    for (int i = 0; i < s->nruns && !st; i++) {
        const prism_sweep_run *r = &s->runs[i];
        char all[PRISM_SWEEP_SETTINGS_MAX * 2], line[PRISM_SWEEP_SETTINGS_MAX * 3];
        if ((st = prism_sweep_run_settings(s, r, all, sizeof all))) break;
        int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%llu\t%s\n", r->id, r->agent,
                         r->preset, r->env, (unsigned long long)r->seed, all);
        PRISM_ASSERT(n > 0 && (size_t)n < sizeof line);
        st = prism_atomic_write(&af, line, (size_t)n);
    }
    return st ? (prism_atomic_abort(&af), st) : prism_atomic_commit(&af);
}

static prism_status write_status(const prism_sweep *s, const char *dir, const char *status,
                                 const char *extra, int argc, char *const *argv);

static prism_status fill_dir(prism_sweep *s, const char *dir, int argc, char *const *argv) {
    const char *subs[] = {"runs", "logs", "failed"};
    for (size_t i = 0; i < 3; i++) {
        char sub[PRISM_PATH_MAX];
        prism_status st = sweep_pathf(sub, sizeof sub, "%s/%s", dir, subs[i]);
        if (!st) st = prism_mkdir_p(sub);
        if (st) return st;
    }
    prism_status st = write_manifest(s, dir);
    return st ? st : write_status(s, dir, "created", NULL, argc, argv);
}

prism_status prism_sweep_create_dir(prism_sweep *s, const char *parent, int argc, char *const *argv,
                                    char *dir, size_t cap, prism_dir_lock *lock) {
    prism_status st = prism_mkdir_p(parent);
    if (st) return st;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int k = 1;; k++) {
        st = k == 1 ? sweep_pathf(dir, cap, "%s/%s-%s", parent, s->name, stamp)
                    : sweep_pathf(dir, cap, "%s/%s-%s-%d", parent, s->name, stamp, k);
        if (st) return st;
        if (mkdir(dir, 0777) == 0) break;
        if (errno != EEXIST || k >= 1000)
            return prism_error(PRISM_ERR_IO, "cannot create sweep directory '%s': %s", dir,
                               strerror(errno));
    }
    if (lock && (st = prism_dir_lock_acquire(lock, dir))) return st;
    st = fill_dir(s, dir, argc, argv);
    if (st && lock) prism_dir_lock_release(lock);
    return st;
}

prism_sweep_counts prism_sweep_count(const prism_sweep *s) {
    prism_sweep_counts c = {.total = s->nruns};
    for (int i = 0; i < s->nruns; i++) switch (s->runs[i].state) {
        case PRISM_SWEEP_PENDING:
            c.pending++;
            break;
        case PRISM_SWEEP_RUNNING:
            c.running++;
            break;
        case PRISM_SWEEP_COMPLETED:
            c.completed++;
            break;
        case PRISM_SWEEP_INTERRUPTED:
            c.interrupted++;
            break;
        case PRISM_SWEEP_FAILED:
            c.failed++;
            break;
        }
    return c;
}

/* sweep.json; argv (argc > 0) is recorded when the sweep is created and kept from the old
 * file on every rewrite after that. */
static prism_status write_status(const prism_sweep *s, const char *dir, const char *status,
                                 const char *extra, int argc, char *const *argv) {
    char path[PRISM_PATH_MAX];
    prism_status st = sweep_pathf(path, sizeof path, "%s/sweep.json", dir);
    if (st) return st;
    /* keep the recorded command line and creation time across rewrites */
    prism_json_value *old = NULL;
    if (sweep_file_exists(path) && prism_json_parse_file(path, &old) != PRISM_OK) old = NULL;
    prism_json j;
    prism_json_init(&j, 2);
    prism_json_object_begin(&j);
    prism_json_kv_string(&j, "name", s->name);
    prism_json_kv_string(&j, "status", status);
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    prism_json_kv_string(&j, "created", old ? prism_json_get_string(old, "created", now) : now);
    prism_json_kv_string(&j, "updated", now);
    prism_json_key(&j, "argv");
    const prism_json_value *oargv = old ? prism_json_get(old, "argv") : NULL;
    if (argc > 0) {
        prism_json_array_begin(&j);
        for (int i = 0; i < argc; i++) prism_json_string(&j, argv[i]);
        prism_json_array_end(&j);
    } else if (oargv)
        prism_json_write_value(&j, oargv);
    else
        prism_json_null(&j);
    prism_json_kv_string(&j, "settings", s->settings);
    prism_json_kv_int(&j, "steps", s->steps);
    prism_sweep_counts c = prism_sweep_count(s);
    prism_json_key(&j, "counts");
    prism_json_object_begin(&j);
    prism_json_kv_int(&j, "total", c.total);
    prism_json_kv_int(&j, "completed", c.completed);
    prism_json_kv_int(&j, "failed", c.failed);
    prism_json_kv_int(&j, "interrupted", c.interrupted);
    prism_json_kv_int(&j, "running", c.running);
    prism_json_kv_int(&j, "pending", c.pending);
    prism_json_object_end(&j);
    if (extra && extra[0]) {
        /* members given as text: parse them so the document stays valid JSON */
        size_t n = strlen(extra) + 3;
        char *wrapped = prism_alloc(n);
        prism_json_value *v = NULL;
        if (wrapped) {
            snprintf(wrapped, n, "{%s}", extra);
            if (prism_json_parse(wrapped, strlen(wrapped), "extra", &v) == PRISM_OK) {
                for (const prism_json_value *m = v->child; m; m = m->next) {
                    prism_json_key(&j, m->key);
                    prism_json_write_value(&j, m);
                }
                prism_json_value_free(v);
            }
            prism_free(wrapped);
        }
    }
    prism_json_key(&j, "runs");
    prism_json_array_begin(&j);
    for (int i = 0; i < s->nruns; i++) {
        const prism_sweep_run *r = &s->runs[i];
        prism_json_object_begin(&j);
        prism_json_kv_string(&j, "id", r->id);
        prism_json_kv_string(&j, "status", prism_sweep_state_name(r->state));
        prism_json_kv_int(&j, "failures", r->failures);
        prism_json_kv_double(&j, "duration_s", r->duration_s);
        prism_json_kv_double(&j, "cpu_s", r->cpu_s);
        prism_json_kv_string(&j, "message", r->message[0] ? r->message : NULL);
        prism_json_object_end(&j);
    }
    prism_json_array_end(&j);
    prism_json_object_end(&j);
    if (old) prism_json_value_free(old);
    st = prism_json_finish(&j);
    if (!st) st = prism_file_write_atomic(path, prism_json_text(&j), prism_json_length(&j));
    prism_json_free(&j);
    return st;
}

prism_status prism_sweep_write_status(const prism_sweep *s, const char *dir, const char *status,
                                      const char *extra) {
    return write_status(s, dir, status, extra, 0, NULL);
}

/* The state of a run from its run directory: completed, interrupted (resumable: a
 * checkpoint exists), failed (diverged or failed), or pending (no directory, or one without
 * a checkpoint to continue from). `why` gets the run.json status or message. */
prism_sweep_state sweep_run_dir_state(const char *dir, const char *id, bool *diverged, char *why,
                                      size_t cap) {
    *diverged = false;
    why[0] = 0;
    char run[PRISM_PATH_MAX];
    if (sweep_pathf(run, sizeof run, "%s/runs/%s", dir, id)) return PRISM_SWEEP_PENDING;
    prism_run_meta *m = prism_alloc(sizeof *m);
    if (!m) return PRISM_SWEEP_PENDING;
    if (prism_run_read(run, m) != PRISM_OK) {
        prism_free(m);
        return PRISM_SWEEP_PENDING;
    }
    const char *status = prism_run_status_name(m->status);
    snprintf(why, cap, "%s%s%.*s", status, m->message[0] ? ": " : "", (int)cap, m->message);
    prism_sweep_state out = PRISM_SWEEP_PENDING;
    if (m->status == PRISM_RUN_COMPLETED)
        out = PRISM_SWEEP_COMPLETED;
    else if (m->status == PRISM_RUN_FAILED || m->status == PRISM_RUN_DIVERGED) {
        out = PRISM_SWEEP_FAILED;
        *diverged = m->status == PRISM_RUN_DIVERGED;
    } else { /* interrupted, or running when the sweep itself was killed */
        char latest[PRISM_PATH_MAX];
        if (!sweep_pathf(latest, sizeof latest, "%s/runs/%s/checkpoints/latest", dir, id) &&
            sweep_file_exists(latest))
            out = PRISM_SWEEP_INTERRUPTED;
    }
    prism_run_meta_free(m);
    prism_free(m);
    return out;
}

/* Take r's state from its run directory; a run recorded as failed stays failed unless its
 * directory says more (a directory without a checkpoint says nothing). */
void sweep_refresh_state(const char *dir, prism_sweep_run *r) {
    bool diverged;
    char why[256];
    prism_sweep_state ds = sweep_run_dir_state(dir, r->id, &diverged, why, sizeof why);
    if (ds != PRISM_SWEEP_PENDING || r->state != PRISM_SWEEP_FAILED) r->state = ds;
}

static prism_status read_manifest(prism_sweep *s, const char *dir) {
    char path[PRISM_PATH_MAX];
    prism_status st = sweep_pathf(path, sizeof path, "%s/manifest.tsv", dir);
    if (st) return st;
    char *text;
    size_t len;
    if ((st = prism_file_read(path, &text, &len))) {
        if (st == PRISM_ERR_NOT_FOUND)
            return prism_error(PRISM_ERR_NOT_FOUND,
                               "%s is not a sweep directory (no manifest.tsv); give the "
                               "directory `prism sweep` printed",
                               dir);
        return st;
    }
    int lineno = 0;
    char *next = NULL;
    for (char *line = text; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (!*line && !next) break; /* after the last newline; an empty line before is damage */
        lineno++;
        char *f[6];
        int nf = 0;
        char *p = line;
        for (; nf < 6; nf++) {
            f[nf] = p;
            char *tab = nf < 5 ? strchr(p, '\t') : NULL;
            if (!tab) {
                nf++;
                break;
            }
            *tab = 0;
            p = tab + 1;
        }
        uint64_t seed;
        if (nf != 6 || !prism_parse_u64(f[4], &seed)) {
            prism_free(text);
            return prism_error(PRISM_ERR_CORRUPT,
                               "%s:%d: expected 6 tab-separated fields (id, agent, preset, env, "
                               "seed, settings)",
                               path, lineno);
        }
        /* every field as strictly as the sweep that wrote it: the id becomes a path, the
         * rest a child's command line and the Slurm script's input */
        char spec[160], label[64], preset[64];
        const char *env;
        snprintf(spec, sizeof spec, "%s=%s", f[1], f[2]);
        if ((st = sweep_parse_agent(spec, label, sizeof label, preset, sizeof preset)) ||
            (st = sweep_env_canonical(f[3], &env)) || (st = sweep_check_settings(f[5])) ||
            (st = sweep_add_run(s, label, preset, env, seed, f[5], f[0]))) {
            char msg[1024];
            sweep_copy_str(msg, sizeof msg, prism_error_message());
            st = prism_error(PRISM_ERR_CORRUPT,
                             "%s:%d: %s; the manifest was edited or damaged: restore that line "
                             "or start a new sweep",
                             path, lineno, msg);
            break;
        }
    }
    prism_free(text);
    if (!st && s->nruns == 0) st = prism_error(PRISM_ERR_CORRUPT, "%s lists no runs", path);
    return st;
}

prism_status prism_sweep_open(prism_sweep *s, const char *dir) {
    memset(s, 0, sizeof *s); /* freeable from here on, whatever fails */
    char path[PRISM_PATH_MAX];
    prism_status st = sweep_pathf(path, sizeof path, "%s/sweep.json", dir);
    if (st) return st;
    prism_json_value *v = NULL;
    if ((st = prism_json_parse_file(path, &v))) {
        if (st == PRISM_ERR_NOT_FOUND)
            return prism_error(PRISM_ERR_NOT_FOUND,
                               "%s is not a sweep directory (no sweep.json); give the directory "
                               "`prism sweep` printed",
                               dir);
        return st;
    }
    prism_sweep_init(s, prism_json_get_string(v, "name", "sweep"));
    s->steps = (long long)prism_json_get_number(v, "steps", 0);
    /* The settings are already folded into the manifest's per-run settings. */
    if ((st = read_manifest(s, dir))) goto out;
    const prism_json_value *runs = prism_json_get(v, "runs");
    for (int i = 0; i < s->nruns; i++) {
        prism_sweep_run *r = &s->runs[i];
        for (const prism_json_value *e = runs ? runs->child : NULL; e; e = e->next)
            if (!strcmp(prism_json_get_string(e, "id", ""), r->id)) {
                r->failures = (int)prism_json_get_number(e, "failures", 0);
                r->duration_s = prism_json_get_number(e, "duration_s", 0);
                r->cpu_s = prism_json_get_number(e, "cpu_s", 0);
                int k = state_parse(prism_json_get_string(e, "status", ""));
                if (k == PRISM_SWEEP_FAILED) r->state = PRISM_SWEEP_FAILED;
                sweep_copy_str(r->message, sizeof r->message,
                               prism_json_get_string(e, "message", ""));
                break;
            }
        sweep_refresh_state(dir, r);
    }
out:
    prism_json_value_free(v);
    /* the runs read before a damaged line are of no use to the caller, who gets nothing */
    if (st) prism_sweep_free(s);
    return st;
}
