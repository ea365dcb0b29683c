/* The run directory: creation with a unique run id, run.json kept current by atomic rewrites,
 * diff.patch for dirty builds, the stdout.log tee, and the index upsert on every status change.
 * Not the trainer (it decides what to record) and not the index (run_index.c). */
#include "prism/archive.h"
#include "prism/run_index.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const status_names[] = {"running", "completed", "failed", "interrupted",
                                           "diverged"};

const char *prism_run_status_name(prism_run_status s) {
    PRISM_ASSERT((unsigned)s < sizeof status_names / sizeof status_names[0]);
    return status_names[s];
}

prism_status prism_run_status_parse(const char *name, prism_run_status *out) {
    for (int i = 0; i < (int)(sizeof status_names / sizeof status_names[0]); i++)
        if (!strcmp(name, status_names[i])) {
            *out = (prism_run_status)i;
            return PRISM_OK;
        }
    return prism_error(PRISM_ERR_INVALID,
                       "unknown run status '%s' (one of running, completed, failed, interrupted, "
                       "diverged)",
                       name);
}

prism_status prism_archive_path(const prism_archive *a, const char *name, char *out, size_t cap) {
    return prism_path_join(out, cap, a->dir, name);
}

/* Copy `s` into a run-id component, replacing characters that are awkward in a file name or a
 * shell (anything but letters, digits, '.', '_', '+', '-') with '_'. */
static void id_part(char *out, size_t cap, const char *s) {
    size_t n = 0;
    for (; s && *s && n + 1 < cap; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '+' || c == '-';
        out[n++] = ok ? c : '_';
    }
    if (n == 0 && cap > 1) out[n++] = 'x';
    out[n] = 0;
}

prism_status prism_archive_id_check(const char *id) {
    bool ok = id[0] && id[0] != '.' && strlen(id) < PRISM_ARCHIVE_ID_MAX - 8;
    for (const char *p = id; ok && *p; p++)
        ok = *p != '/' && (unsigned char)*p >= 0x20 && *p != 0x7f;
    if (ok) return PRISM_OK;
    return prism_error(PRISM_ERR_INVALID,
                       "run id '%s' is not usable as a directory name (it must be non-empty, not "
                       "start with '.', contain no '/' or control characters, and be shorter than "
                       "%d characters)",
                       id, PRISM_ARCHIVE_ID_MAX - 8);
}

/* Copy with truncation (memcpy rather than snprintf: truncation is intended here). */
static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

static char *argv_to_json(int argc, char *const *argv) {
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_array_begin(&j);
    for (int i = 0; i < argc; i++) prism_json_string(&j, argv[i]);
    prism_json_array_end(&j);
    if (prism_json_finish(&j) != PRISM_OK) {
        prism_json_free(&j);
        return NULL;
    }
    char *out = j.buf; /* take ownership of the buffer */
    if (!out) out = prism_calloc(1, 1);
    return out;
}

/* Append a warning to stdout.log only: the library does not print on its own. */
static void log_warning(prism_archive *a, const char *msg) {
    if (a->log) {
        fprintf(a->log, "prism: warning: %s\n", msg);
        fflush(a->log);
    }
}

static void fill_record(const prism_archive *a, prism_run_record *r) {
    memset(r, 0, sizeof *r);
    const prism_build_info *b = prism_build_info_get();
    copy_str(r->id, sizeof r->id, a->id);
    copy_str(r->dir, sizeof r->dir, a->dir);
    copy_str(r->env, sizeof r->env, a->env);
    copy_str(r->agent, sizeof r->agent, a->agent);
    r->seed = a->seed;
    copy_str(r->status, sizeof r->status, prism_run_status_name(a->status));
    prism_time_iso8601(a->start_time, r->start, sizeof r->start);
    if (a->end_time > 0) prism_time_iso8601(a->end_time, r->end, sizeof r->end);
    r->steps = a->steps;
    r->final_return = a->final_return;
    copy_str(r->commit, sizeof r->commit, b->commit);
    r->dirty = b->dirty;
    copy_str(r->host, sizeof r->host, a->host);
    copy_str(r->message, sizeof r->message, a->message);
}

static void index_upsert(prism_archive *a) {
    if (a->no_index) return;
    prism_run_index ix;
    prism_run_record r;
    fill_record(a, &r);
    prism_status st = prism_run_index_open(&ix, a->runs_dir);
    if (!st) {
        st = prism_run_index_upsert(&ix, &r);
        prism_run_index_close(&ix);
    }
    if (st) {
        copy_str(a->index_error, sizeof a->index_error, prism_error_message());
        log_warning(a, a->index_error);
    } else
        a->index_error[0] = 0;
}

static void write_values(prism_json *j, const prism_archive_value *v, int n) {
    prism_json_object_begin(j);
    for (int i = 0; i < n; i++) {
        prism_json_key(j, v[i].key);
        if (v[i].kind == PRISM_ARCHIVE_STRING)
            prism_json_string(j, v[i].s);
        else if (v[i].kind == PRISM_ARCHIVE_INT)
            prism_json_int(j, v[i].i);
        else
            prism_json_double(j, v[i].d);
    }
    prism_json_object_end(j);
}

void prism_archive_write_json(const prism_archive *a, prism_json *j) {
    const prism_build_info *b = prism_build_info_get();
    char t[32];
    prism_json_object_begin(j);
    prism_json_kv_string(j, "id", a->id);
    prism_json_kv_string(j, "status", prism_run_status_name(a->status));
    prism_json_kv_string(j, "message", a->message[0] ? a->message : NULL);
    prism_json_kv_string(j, "env", a->env);
    prism_json_kv_string(j, "agent", a->agent);
    prism_json_kv_string(j, "config_hash", a->config_hash[0] ? a->config_hash : NULL);
    prism_json_kv_uint(j, "seed", a->seed);
    prism_time_iso8601(a->start_time, t, sizeof t);
    prism_json_kv_string(j, "start", t);
    if (a->end_time > 0) prism_time_iso8601(a->end_time, t, sizeof t);
    prism_json_kv_string(j, "end", a->end_time > 0 ? t : NULL);
    prism_json_kv_double(j, "start_unix", a->start_time);
    prism_json_kv_double(j, "end_unix", a->end_time > 0 ? a->end_time : (double)NAN);
    prism_json_kv_double(j, "duration_s",
                         a->end_time > 0 ? a->end_time - a->start_time : (double)NAN);
    prism_json_kv_int(j, "steps", a->steps);
    prism_json_kv_double(j, "final_return", a->final_return);
    prism_json_kv_int(j, "resumed", a->resumed);
    /* argv is kept as encoded JSON text and parsed back here: a few small allocations per
     * update, and updates happen only at status changes and checkpoints. */
    prism_json_key(j, "argv");
    {
        prism_json_value *v = NULL;
        if (a->argv_json &&
            prism_json_parse(a->argv_json, strlen(a->argv_json), "argv", &v) == PRISM_OK)
            prism_json_write_value(j, v);
        else
            prism_json_null(j);
        prism_json_value_free(v);
    }
    prism_json_kv_string(j, "cwd", a->cwd);
    prism_json_kv_string(j, "host", a->host);
    prism_json_kv_string(j, "cpu", a->cpu);
    prism_json_kv_int(j, "pid", (long long)getpid());
    prism_json_kv_string(j, "prism_version", b->version);
    prism_json_key(j, "build");
    prism_json_object_begin(j);
    prism_json_kv_string(j, "commit", b->commit);
    prism_json_kv_bool(j, "dirty", b->dirty);
    prism_json_kv_int(j, "diff_bytes", (long long)b->diff_len);
    prism_json_kv_string(j, "compiler", b->compiler);
    prism_json_kv_string(j, "flags", b->cflags);
    prism_json_kv_string(j, "source_dir", b->source_dir);
    prism_json_object_end(j);
    prism_json_key(j, "extra");
    write_values(j, a->extra, a->nextra);
    prism_json_key(j, "metrics");
    write_values(j, a->metrics, a->nmetrics);
    prism_json_object_end(j);
}

/* Room for the final run.json on a disk that fills up while the run writes (its checkpoints
 * are what fill it): a file of RESERVE_BYTES, created when a writer takes the run and removed
 * just before the final status is written. run.json with full tables is under 64 KiB. */
#define RESERVE ".reserve"
enum { RESERVE_BYTES = 65536 };

static void reserve_space(prism_archive *a) {
    char path[PRISM_PATH_MAX];
    if (prism_archive_path(a, RESERVE, path, sizeof path)) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    int err = posix_fallocate(fd, 0, RESERVE_BYTES);
    if (err == EOPNOTSUPP || err == EINVAL) { /* a file system without fallocate: write it */
        static const char zeros[4096];
        err = 0;
        for (int i = 0; i < RESERVE_BYTES / 4096 && !err; i++)
            if (write(fd, zeros, sizeof zeros) != (ssize_t)sizeof zeros) err = errno;
    }
    if (close(fd) != 0 && !err) err = errno;
    if (err)
        unlink(path); /* best effort: a run on an almost full disk starts without it */
    else
        a->reserved = true;
}

static void release_space(prism_archive *a) {
    char path[PRISM_PATH_MAX];
    if (a->reserved && !prism_archive_path(a, RESERVE, path, sizeof path)) unlink(path);
    a->reserved = false;
}

/* The run.json a signal handler writes when the process must end at once (see
 * prism_archive_mark_abandoned): rendered at every update of a running run, so the handler
 * needs no allocation and no formatting. One per process: a process writes one run at a time.
 * 64 KiB holds run.json with full extra and metric tables. */
static struct {
    volatile sig_atomic_t ready;
    const prism_archive *owner;
    size_t len;
    char path[PRISM_PATH_MAX], tmp[PRISM_PATH_MAX + 32], reserve[PRISM_PATH_MAX];
    char text[65536];
} abandoned;

static void render_abandoned(prism_archive *a) {
    abandoned.ready = 0;
    if (a->status != PRISM_RUN_RUNNING) return;
    prism_run_status keep_status = a->status;
    char keep_message[sizeof a->message];
    memcpy(keep_message, a->message, sizeof keep_message);
    double keep_end = a->end_time;
    a->status = PRISM_RUN_INTERRUPTED;
    copy_str(a->message, sizeof a->message,
             "ended by a signal deadline: the process did not reach a safe point in time (stuck, "
             "e.g. out of memory inside OpenBLAS); end time and steps are those of the last "
             "update; resume from the last checkpoint");
    a->end_time = prism_unix_time();
    prism_json j;
    prism_json_init(&j, 2);
    prism_archive_write_json(a, &j);
    a->status = keep_status;
    memcpy(a->message, keep_message, sizeof keep_message);
    a->end_time = keep_end;
    if (prism_json_finish(&j) == PRISM_OK && prism_json_length(&j) <= sizeof abandoned.text &&
        !prism_archive_path(a, "run.json", abandoned.path, sizeof abandoned.path) &&
        !prism_archive_path(a, RESERVE, abandoned.reserve, sizeof abandoned.reserve) &&
        snprintf(abandoned.tmp, sizeof abandoned.tmp, "%s/.run.json.tmp-%ld-abandn", a->dir,
                 (long)getpid()) < (int)sizeof abandoned.tmp) {
        abandoned.len = prism_json_length(&j);
        memcpy(abandoned.text, prism_json_text(&j), abandoned.len);
        abandoned.owner = a;
        abandoned.ready = 1;
    }
    prism_json_free(&j);
}

int prism_archive_mark_abandoned(void) {
    if (!abandoned.ready) return 0;
    unlink(abandoned.reserve); /* the room kept for this write (a full disk) */
    int fd = open(abandoned.tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    int ok = write(fd, abandoned.text, abandoned.len) == (ssize_t)abandoned.len && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(abandoned.tmp, abandoned.path) != 0) {
        unlink(abandoned.tmp);
        return 0;
    }
    return 1;
}

prism_status prism_archive_update(prism_archive *a) {
    prism_json j;
    prism_json_init(&j, 2);
    prism_archive_write_json(a, &j);
    prism_status st = prism_json_finish(&j);
    char path[PRISM_PATH_MAX];
    if (!st) st = prism_archive_path(a, "run.json", path, sizeof path);
    if (!st) st = prism_file_write_atomic(path, prism_json_text(&j), prism_json_length(&j));
    prism_json_free(&j);
    if (st) return st;
    render_abandoned(a);
    index_upsert(a);
    return PRISM_OK;
}

/* Remove what create made when it fails half-way (best effort; the directory is ours). */
static void remove_partial(prism_archive *a) {
    static const char *const files[] = {"run.json", "diff.patch", "stdout.log", RESERVE, ".lock"};
    char path[PRISM_PATH_MAX];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!prism_archive_path(a, files[i], path, sizeof path)) unlink(path);
    rmdir(a->dir);
}

static prism_status open_log(prism_archive *a) {
    char path[PRISM_PATH_MAX];
    prism_status st = prism_archive_path(a, "stdout.log", path, sizeof path);
    if (st) return st;
    a->log = fopen(path, "ab");
    if (!a->log) return prism_error(PRISM_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    return PRISM_OK;
}

static void init_common(prism_archive *a, int argc, char *const *argv) {
    if (!getcwd(a->cwd, sizeof a->cwd)) copy_str(a->cwd, sizeof a->cwd, "unknown");
    prism_host_name(a->host, sizeof a->host);
    prism_cpu_model(a->cpu, sizeof a->cpu);
    (void)argc;
    (void)argv;
}

prism_status prism_archive_create(prism_archive *a, const prism_archive_spec *spec) {
    memset(a, 0, sizeof *a);
    a->final_return = NAN;
    a->status = PRISM_RUN_RUNNING;
    a->no_index = spec->no_index;
    a->seed = spec->seed;
    a->start_time = prism_unix_time();
    copy_str(a->env, sizeof a->env, spec->env);
    copy_str(a->agent, sizeof a->agent, spec->agent);
    copy_str(a->config_hash, sizeof a->config_hash, spec->config_hash);
    const char *runs = spec->runs_dir && spec->runs_dir[0] ? spec->runs_dir : "runs";
    if (strlen(runs) + PRISM_ARCHIVE_ID_MAX + 32 >= sizeof a->runs_dir)
        return prism_error(PRISM_ERR_INVALID, "runs directory path '%s' is too long", runs);
    copy_str(a->runs_dir, sizeof a->runs_dir, runs);

    char base[PRISM_ARCHIVE_ID_MAX];
    if (spec->run_id) {
        prism_status st = prism_archive_id_check(spec->run_id);
        if (st) return st;
        copy_str(base, sizeof base, spec->run_id);
    } else {
        char stamp[32], env[48], agent[48];
        time_t now = (time_t)a->start_time;
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        id_part(env, sizeof env, spec->env);
        id_part(agent, sizeof agent, spec->agent);
        snprintf(base, sizeof base, "%s-%s-%s-s%llu", stamp, env, agent,
                 (unsigned long long)spec->seed);
    }

    prism_status st = prism_mkdir_p(runs);
    if (st) {
        char msg[1024]; /* prism_error must not read the buffer it writes */
        copy_str(msg, sizeof msg, prism_error_message());
        return prism_error(st, "%s; choose another --runs-dir or fix its permissions", msg);
    }
    /* mkdir either creates the directory or fails with EEXIST, atomically: two runs started in
     * the same second with the same settings (a parallel sweep) each claim their own id. */
    for (int k = 1;; k++) {
        if (k == 1)
            copy_str(a->id, sizeof a->id, base);
        else
            /* base is shorter than ID_MAX - 8 (checked above), so "-<k>" always fits */
            if (snprintf(a->id, sizeof a->id, "%.*s-%d", PRISM_ARCHIVE_ID_MAX - 8, base, k) < 0)
                return prism_error(PRISM_ERR_INVALID, "cannot form a run id from '%s'", base);
        st = prism_path_join(a->dir, sizeof a->dir, runs, a->id);
        if (st) return st;
        if (mkdir(a->dir, 0777) == 0) break;
        if (errno != EEXIST || k >= 1000)
            return prism_error(PRISM_ERR_IO,
                               "cannot create run directory '%s': %s; choose another --runs-dir "
                               "or fix its permissions",
                               a->dir, strerror(errno));
    }

    /* the directory is new and ours, so only a resume started in this instant could hold
     * the lock: it is taken before the first file is written all the same */
    if ((st = prism_dir_lock_acquire(&a->lock, a->dir))) {
        rmdir(a->dir);
        return st;
    }
    init_common(a, spec->argc, spec->argv);
    reserve_space(a); /* first: diff.patch and the data files come after it */
    a->argv_json = argv_to_json(spec->argc, spec->argv);
    if (!a->argv_json) {
        prism_archive_close(a);
        remove_partial(a);
        return prism_error(PRISM_ERR_NOMEM, "out of memory recording the command line");
    }
    st = open_log(a);
    const prism_build_info *b = prism_build_info_get();
    if (!st && b->dirty && b->diff_len) {
        char path[PRISM_PATH_MAX];
        st = prism_archive_path(a, "diff.patch", path, sizeof path);
        if (!st) st = prism_file_write_atomic(path, b->diff, b->diff_len);
    }
    if (!st) st = prism_archive_update(a);
    if (st) {
        prism_status keep = st;
        char msg[1024];
        copy_str(msg, sizeof msg, prism_error_message());
        prism_archive_close(a);
        remove_partial(a);
        return prism_error(keep, "%s", msg);
    }
    return PRISM_OK;
}

prism_status prism_archive_open_locked(prism_archive *a, const char *run_dir) {
    memset(a, 0, sizeof *a);
    a->final_return = NAN;
    char path[PRISM_PATH_MAX];
    prism_status st = prism_path_join(path, sizeof path, run_dir, "run.json");
    if (st) return st;
    /* a run directory without run.json is not a run: say that, not that it has no lock */
    if (access(path, F_OK) != 0)
        return prism_error(PRISM_ERR_NOT_FOUND,
                           "%s does not exist: %s is not a prism run directory (check the path; "
                           "`prism runs ls` lists the runs)",
                           path, run_dir);
    if ((st = prism_dir_lock_acquire(&a->lock, run_dir))) return st;
    /* on the heap: the typed record holds fixed tables (tens of KiB) */
    prism_run_meta *m = prism_alloc(sizeof *m);
    if (!m) {
        prism_archive_close(a);
        return prism_error(PRISM_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    if ((st = prism_run_read(run_dir, m))) {
        prism_free(m);
        prism_archive_close(a);
        return st;
    }
    /* the run directory's parent is the runs dir, its name the id */
    copy_str(a->dir, sizeof a->dir, run_dir);
    size_t n = strlen(a->dir);
    while (n > 1 && a->dir[n - 1] == '/') a->dir[--n] = 0;
    const char *slash = strrchr(a->dir, '/');
    copy_str(a->id, sizeof a->id, slash ? slash + 1 : a->dir);
    if (slash)
        snprintf(a->runs_dir, sizeof a->runs_dir, "%.*s", (int)(slash - a->dir), a->dir);
    else
        copy_str(a->runs_dir, sizeof a->runs_dir, ".");
    copy_str(a->env, sizeof a->env, m->env);
    copy_str(a->agent, sizeof a->agent, m->agent);
    copy_str(a->config_hash, sizeof a->config_hash, m->config_hash);
    copy_str(a->message, sizeof a->message, m->message);
    a->status = m->status;
    a->seed = m->seed;
    a->start_time = isfinite(m->start_unix) ? m->start_unix : prism_unix_time();
    a->end_time = m->end_unix > 0 ? m->end_unix : 0; /* NaN (null) while running */
    a->steps = m->steps;
    a->final_return = m->final_return;
    a->resumed = m->resumed;
    memcpy(a->extra, m->extra, sizeof a->extra);
    memcpy(a->metrics, m->metrics, sizeof a->metrics);
    a->nextra = m->nextra, a->nmetrics = m->nmetrics;
    prism_json_value *doc = m->doc;
    /* keep the original command line; a resume's goes under extra.resume_argv */
    prism_json j;
    prism_json_init(&j, 0);
    const prism_json_value *av = prism_json_get(doc, "argv");
    if (av)
        prism_json_write_value(&j, av);
    else
        prism_json_null(&j);
    if (prism_json_finish(&j) == PRISM_OK && j.buf) {
        a->argv_json = j.buf;
    } else {
        prism_json_free(&j);
    }
    prism_run_meta_free(m);
    prism_free(m);
    if (!a->argv_json) {
        prism_archive_close(a);
        return prism_error(PRISM_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    init_common(a, 0, NULL);
    return PRISM_OK;
}

prism_status prism_archive_mark_resumed(prism_archive *a, int argc, char *const *argv) {
    prism_status st = PRISM_OK;
    reserve_space(a);
    a->resumed++;
    a->status = PRISM_RUN_RUNNING;
    a->message[0] = 0;
    a->end_time = 0;
    char *resume = argv_to_json(argc, argv);
    if (resume) {
        /* stored as text: a JSON array inside a string, readable and lossless */
        st = prism_archive_set_string(a, "resume_argv", resume);
        prism_free(resume);
    }
    if (!st) st = open_log(a);
    if (!st) st = prism_archive_update(a);
    if (st) prism_archive_close(a);
    return st;
}

prism_status prism_archive_reopen(prism_archive *a, const char *run_dir, int argc,
                                  char *const *argv) {
    prism_status st = prism_archive_open_locked(a, run_dir);
    return st ? st : prism_archive_mark_resumed(a, argc, argv);
}

static prism_archive_value *slot(prism_archive_value *v, int *n, int max, const char *key,
                                 prism_status *st) {
    if (strlen(key) == 0 || strlen(key) >= PRISM_ARCHIVE_KEY_MAX) {
        *st = prism_error(PRISM_ERR_INVALID, "run archive key '%s' is empty or longer than %d", key,
                          PRISM_ARCHIVE_KEY_MAX - 1);
        return NULL;
    }
    for (int i = 0; i < *n; i++)
        if (!strcmp(v[i].key, key)) return &v[i];
    if (*n >= max) {
        *st = prism_error(PRISM_ERR_INVALID, "run archive has no room for key '%s' (at most %d)",
                          key, max);
        return NULL;
    }
    prism_archive_value *d = &v[(*n)++];
    memset(d, 0, sizeof *d);
    copy_str(d->key, sizeof d->key, key);
    return d;
}

/* The value of `key` in extra (or in metrics), made of `kind`: NULL with *st set when the key
 * is unusable or its table is full. */
static prism_archive_value *entry(prism_archive *a, bool metric, const char *key,
                                  prism_archive_value_kind kind, prism_status *st) {
    prism_archive_value *d =
        metric ? slot(a->metrics, &a->nmetrics, PRISM_ARCHIVE_MAX_METRICS, key, st)
               : slot(a->extra, &a->nextra, PRISM_ARCHIVE_MAX_EXTRA, key, st);
    if (d) d->kind = kind;
    return d;
}

prism_status prism_archive_set_string(prism_archive *a, const char *key, const char *value) {
    prism_status st = PRISM_OK;
    prism_archive_value *d = entry(a, false, key, PRISM_ARCHIVE_STRING, &st);
    if (d) copy_str(d->s, sizeof d->s, value);
    return st;
}

prism_status prism_archive_set_int(prism_archive *a, const char *key, long long value) {
    prism_status st = PRISM_OK;
    prism_archive_value *d = entry(a, false, key, PRISM_ARCHIVE_INT, &st);
    if (d) d->i = value;
    return st;
}

prism_status prism_archive_set_double(prism_archive *a, const char *key, double value) {
    prism_status st = PRISM_OK;
    prism_archive_value *d = entry(a, false, key, PRISM_ARCHIVE_DOUBLE, &st);
    if (d) d->d = value;
    return st;
}

prism_status prism_archive_set_metric(prism_archive *a, const char *key, double value) {
    prism_status st = PRISM_OK;
    prism_archive_value *d = entry(a, true, key, PRISM_ARCHIVE_DOUBLE, &st);
    if (d) d->d = value;
    return st;
}

void prism_archive_set_progress(prism_archive *a, long long steps, double final_return) {
    a->steps = steps;
    a->final_return = final_return;
}

prism_status prism_archive_set_status(prism_archive *a, prism_run_status s, const char *message) {
    if (s != PRISM_RUN_RUNNING) release_space(a);
    a->status = s;
    copy_str(a->message, sizeof a->message, message);
    a->end_time = s == PRISM_RUN_RUNNING ? 0 : prism_unix_time();
    return prism_archive_update(a);
}

prism_status prism_archive_finish(prism_archive *a, prism_run_status s, const char *message) {
    prism_status st = prism_archive_set_status(a, s, message);
    prism_archive_close(a);
    return st;
}

void prism_archive_close(prism_archive *a) {
    if (abandoned.owner == a) abandoned.ready = 0; /* its run.json is no longer ours to mark */
    if (a->log) fclose(a->log);
    a->log = NULL;
    release_space(a);
    /* last: everything this writer had to say is on disk before another may write */
    prism_dir_lock_release(&a->lock);
    prism_free(a->argv_json);
    a->argv_json = NULL;
}

static void tee_out(prism_archive *a, FILE *out, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    vfprintf(out, fmt, ap);
    fflush(out);
    if (a->log) {
        vfprintf(a->log, fmt, ap2);
        fflush(a->log);
    }
    va_end(ap2);
}

void prism_archive_printf(prism_archive *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tee_out(a, stdout, fmt, ap);
    va_end(ap);
}

void prism_archive_eprintf(prism_archive *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tee_out(a, stderr, fmt, ap);
    va_end(ap);
}
