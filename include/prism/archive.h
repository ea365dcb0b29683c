/* prism/archive.h — the run directory (docs/run-archive.md): every run, always, archived with the
 * code it was built from, the exact command, the console output and its status.
 *
 * prism_archive_create makes runs/<run-id>/ and writes run.json (status "running"), diff.patch
 * when the binary was built from a dirty tree, and opens stdout.log. The trainer then prints
 * through prism_archive_printf (stdout and stdout.log), writes config.ini / metrics.csv /
 * episodes.csv / event files into `a.dir`, sets extra facts and final metrics, and ends with
 * prism_archive_finish(status). Every status change rewrites run.json atomically and upserts
 * the row of runs/index.sqlite (an index failure is reported but never fails the run: the
 * index is rebuildable from the directories with `prism runs reindex`). While a writer holds
 * the run, `.reserve` (64 KiB) keeps room on its disk for run.json's final status: it is
 * removed just before that status is written, so a full disk can still be recorded.
 *
 *     prism_archive a;
 *     prism_archive_spec spec = {.runs_dir = "runs", .env = "CartPole-v0", .agent = "rainbow",
 *                                .seed = 0, .argc = argc, .argv = argv};
 *     if (prism_archive_create(&a, &spec) != PRISM_OK) return cli_fail(...);
 *     prism_archive_printf(&a, "iteration %d return %.1f\n", it, ret);
 *     prism_archive_set_int(&a, "iterations", 30);
 *     prism_archive_set_progress(&a, steps, final_return);
 *     prism_archive_set_metric(&a, "return_mean", 187.5);
 *     prism_archive_finish(&a, PRISM_RUN_COMPLETED, NULL);   // writes run.json, closes
 *
 * Resuming (prism train --resume DIR): prism_archive_reopen(&a, DIR, argc, argv) reads run.json
 * back, sets status "running" again, and appends to stdout.log. It is prism_archive_open_locked
 * (take the lock, read run.json, write nothing) followed by prism_archive_mark_resumed, for a
 * caller that must look at the run (its status, its checkpoint) before touching it.
 *
 * One writer per run: create and open_locked take the run directory's lock (prism/dir_lock.h,
 * file .lock) and close releases it, so a second writer of the same run (a resume while the
 * run still trains, two resumes at once) fails with PRISM_ERR_INVALID naming the holder.
 *
 * Reading a run directory back (what the index, the report and `prism runs` do): run.json
 * through prism_run_read into a typed prism_run_meta (large: on the heap), metrics.csv and
 * episodes.csv through prism_table_read (prism/metrics_csv.h), config.ini through
 * prism_ini_read (prism/ini.h):
 *
 *     prism_run_meta *m = malloc(sizeof *m);
 *     if (prism_run_read("runs/20261121-053012-CartPole-v0-rainbow-s0", m) != PRISM_OK)
 *         return cli_fail(...);              // the message names the file and the problem
 *     printf("%s %s seed %llu: %s\n", m->env, m->agent, (unsigned long long)m->seed,
 *            prism_run_status_name(m->status));
 *     prism_run_meta_free(m);
 *     free(m);
 *     prism_table t;
 *     if (prism_table_read("runs/.../metrics.csv", PRISM_TABLE_LENIENT, &t) == PRISM_OK) {
 *         int c = prism_table_col(&t, "return_mean");    // -1 when absent
 *         double last = c >= 0 && t.nrows ? prism_table_at(&t, t.nrows - 1, c) : NAN;
 *         prism_table_free(&t);                          // (an empty field reads as NaN)
 *     }
 *
 * Nothing here allocates per call after create; the struct is large (fixed tables) and owned by
 * the caller.
 */
#ifndef PRISM_ARCHIVE_H
#define PRISM_ARCHIVE_H

#include "prism/core.h"
#include "prism/dir_lock.h"
#include "prism/file.h"
#include "prism/json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum prism_run_status {
    PRISM_RUN_RUNNING,
    PRISM_RUN_COMPLETED,
    PRISM_RUN_FAILED,
    PRISM_RUN_INTERRUPTED,
    PRISM_RUN_DIVERGED,
} prism_run_status;

/* "running", "completed", "failed", "interrupted", "diverged". */
const char *prism_run_status_name(prism_run_status s);
/* Parse a status name; PRISM_ERR_INVALID listing the valid names otherwise. */
prism_status prism_run_status_parse(const char *name, prism_run_status *out);

/* ---- facts about this binary and this machine (run_info.c) ---- */

typedef struct prism_build_info {
    const char *version;    /* PRISM_VERSION */
    const char *commit;     /* git rev-parse HEAD at build time, "unknown" outside a checkout */
    bool dirty;             /* git status --porcelain was non-empty at build time */
    const char *compiler;   /* e.g. "gcc 12.2.0" */
    const char *cflags;     /* the flags the library was compiled with */
    const char *source_dir; /* the directory it was built in */
    const char *diff;       /* git diff HEAD at build time ("" when clean or unknown) */
    size_t diff_len;
} prism_build_info;

/* The facts embedded at build time (static storage; never fails). */
const prism_build_info *prism_build_info_get(void);
/* The CPU model from /proc/cpuinfo ("model name"), or "unknown". Writes into out[cap]. */
void prism_cpu_model(char *out, size_t cap);
/* The host name, or "unknown". */
void prism_host_name(char *out, size_t cap);
/* Wall clock as ISO 8601 UTC with seconds ("2026-11-21T05:30:12Z"); `t` is Unix time. */
void prism_time_iso8601(double t, char *out, size_t cap);
/* Unix time in seconds (real-time clock, fractional). */
double prism_unix_time(void);

/* ---- the run directory ---- */

enum {
    PRISM_ARCHIVE_MAX_EXTRA = 96, /* extra key/values (config facts, messages, ...) */
    PRISM_ARCHIVE_MAX_METRICS = 96,
    PRISM_ARCHIVE_KEY_MAX = 64,
    PRISM_ARCHIVE_VALUE_MAX = 256,
    PRISM_ARCHIVE_ID_MAX = 160,
};

typedef struct prism_archive_spec {
    const char *runs_dir;    /* NULL: "runs"; created when missing */
    const char *run_id;      /* NULL: "<yyyymmdd-hhmmss>-<env>-<agent>-s<seed>" (UTC); a suffix
                                "-2", "-3", ... is added when the directory exists */
    const char *env;         /* recorded as "env" */
    const char *agent;       /* recorded as "agent" (preset name or description) */
    const char *config_hash; /* recorded as "config_hash" (prism_config_hash_hex); NULL: none */
    uint64_t seed;
    int argc; /* the full command line, recorded verbatim */
    char *const *argv;
    bool no_index; /* do not touch runs/index.sqlite (tests) */
} prism_archive_spec;

typedef enum prism_archive_value_kind {
    PRISM_ARCHIVE_STRING,
    PRISM_ARCHIVE_INT,
    PRISM_ARCHIVE_DOUBLE,
} prism_archive_value_kind;

typedef struct prism_archive_value {
    char key[PRISM_ARCHIVE_KEY_MAX];
    prism_archive_value_kind kind;
    char s[PRISM_ARCHIVE_VALUE_MAX];
    long long i;
    double d;
} prism_archive_value;

typedef struct prism_archive {
    char runs_dir[PRISM_PATH_MAX];
    char dir[PRISM_PATH_MAX];      /* runs_dir/id: write config.ini, metrics.csv, ... here */
    char id[PRISM_ARCHIVE_ID_MAX]; /* the run id (directory name) */
    char env[PRISM_ARCHIVE_VALUE_MAX];
    char agent[PRISM_ARCHIVE_VALUE_MAX];
    char config_hash[32]; /* the run's identity, "" when unknown (runs older than the hash) */
    uint64_t seed;
    prism_run_status status;
    char message[PRISM_ARCHIVE_VALUE_MAX]; /* why it failed / diverged ("" otherwise) */
    double start_time, end_time;           /* Unix time; end 0 while running */
    long long steps;                       /* environment steps so far (set by the trainer) */
    double final_return;                   /* NaN until set */
    char *argv_json;                       /* argv as a JSON array (prism_alloc'd) */
    char cwd[PRISM_PATH_MAX];
    char host[256];
    char cpu[256];
    int resumed; /* how many times this run was resumed */
    int nextra, nmetrics;
    prism_archive_value extra[PRISM_ARCHIVE_MAX_EXTRA];
    prism_archive_value metrics[PRISM_ARCHIVE_MAX_METRICS];
    FILE *log;           /* stdout.log, flushed per print */
    prism_dir_lock lock; /* held from create / open_locked to close */
    bool reserved;       /* .reserve holds room for the final run.json */
    bool no_index;
    char index_error[PRISM_ARCHIVE_VALUE_MAX]; /* last index upsert failure ("" if none): the
                                                  run goes on, the index is rebuildable */
} prism_archive;

/* PRISM_OK when `id` can name a run directory under a runs directory and nothing else: non-empty,
 * not starting with '.' (no "..", no hidden names), no '/', no control characters, shorter than
 * PRISM_ARCHIVE_ID_MAX - 8 (room for a "-<k>" suffix). PRISM_ERR_INVALID naming the id
 * otherwise. Every reader of a run id (--run-id, a sweep's manifest.tsv, the run index) checks
 * it here before joining it to a path: an id read from a file must not reach outside. */
prism_status prism_archive_id_check(const char *id);

/* Create the run directory and its first files (see the top of this file). Errors:
 * PRISM_ERR_IO naming the directory that cannot be created or written (the partially created
 * run directory is removed); PRISM_ERR_INVALID for an unusable run id (empty, '/', "..").
 * On failure `a` needs no prism_archive_close. */
prism_status prism_archive_create(prism_archive *a, const prism_archive_spec *spec);
/* Reopen an existing run directory for resume: reads run.json (PRISM_ERR_NOT_FOUND /
 * PRISM_ERR_CORRUPT naming it), keeps start time, extra facts and metrics, appends argv of this
 * invocation under "resume_argv", sets status running, appends to stdout.log. */
prism_status prism_archive_reopen(prism_archive *a, const char *run_dir, int argc,
                                  char *const *argv);
/* The first half of reopen: take the run's lock (PRISM_ERR_INVALID naming the holder when
 * another process writes the run), read run.json (status as recorded), write nothing. On
 * success the caller ends with prism_archive_close (or mark_resumed and the usual path). */
prism_status prism_archive_open_locked(prism_archive *a, const char *run_dir);
/* The second half: record this invocation's argv under "resume_argv", count the resume, set
 * status running, open stdout.log for appending and rewrite run.json. On failure `a` is
 * closed. */
prism_status prism_archive_mark_resumed(prism_archive *a, int argc, char *const *argv);

/* Extra facts and final metrics (replace an existing key; PRISM_ERR_INVALID when the table is
 * full or the key too long). They reach run.json at the next update / finish. */
prism_status prism_archive_set_string(prism_archive *a, const char *key, const char *value);
prism_status prism_archive_set_int(prism_archive *a, const char *key, long long value);
prism_status prism_archive_set_double(prism_archive *a, const char *key, double value);
prism_status prism_archive_set_metric(prism_archive *a, const char *key, double value);
/* Progress facts the index shows (steps, final return). */
void prism_archive_set_progress(prism_archive *a, long long steps, double final_return);

/* Rewrite run.json atomically with the current state (status unchanged) and upsert the index.
 * PRISM_ERR_IO naming the file on failure. */
prism_status prism_archive_update(prism_archive *a);
/* Set the status (and message, NULL for none), stamp the end time when the status is not
 * running, and rewrite run.json. */
prism_status prism_archive_set_status(prism_archive *a, prism_run_status s, const char *message);
/* set_status, then close. Returns the status of the run.json write. */
prism_status prism_archive_finish(prism_archive *a, prism_run_status s, const char *message);
/* For a process that must end at once because it is stuck where it cannot reach a safe point
 * (inside a library that spins when out of memory): rewrite the run.json of the archive that
 * was updated last, still open, with status "interrupted" and a message saying that the process
 * was ended by a signal deadline. The text is rendered at every update, so this only does
 * open, write, fsync, rename: async-signal-safe, callable from a signal handler. Returns 1 when
 * it wrote, 0 when no open archive has a rendered text (the run was finished normally). */
int prism_archive_mark_abandoned(void);
/* Close stdout.log and free what create allocated (does not touch run.json). Idempotent. */
void prism_archive_close(prism_archive *a);

/* printf to stdout and to stdout.log (flushed per call, so a crash loses nothing printed). */
void prism_archive_printf(prism_archive *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for stderr (also copied to stdout.log). */
void prism_archive_eprintf(prism_archive *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Path of a file in the run directory ("<dir>/<name>") into out[cap]. */
prism_status prism_archive_path(const prism_archive *a, const char *name, char *out, size_t cap);

/* ---- reading run.json (run_read.c) ---- */

/* Everything a run.json holds, typed. Strings are NUL-terminated and truncated to fit; a member
 * that is absent, null or of another JSON type reads as "" / NaN / 0. Keys this struct does not
 * name (written by a newer prism) stay reachable through `doc`. */
typedef struct prism_run_meta {
    char id[PRISM_ARCHIVE_ID_MAX]; /* "id", or the directory name when absent */
    prism_run_status status;
    char message[PRISM_ARCHIVE_VALUE_MAX];
    char env[PRISM_ARCHIVE_VALUE_MAX];
    char agent[PRISM_ARCHIVE_VALUE_MAX];
    char config_hash[32]; /* the run's identity (prism_config_hash_hex); "" for older runs */
    uint64_t seed;
    char start[32], end[32];               /* ISO 8601 UTC; end "" while running */
    double start_unix, end_unix, duration; /* NaN when absent */
    long long steps;
    double final_return; /* NaN when unknown */
    int resumed;
    char cwd[PRISM_PATH_MAX];
    char host[256];
    char cpu[256];
    long long pid;
    char prism_version[64];
    struct {
        char commit[48];
        bool dirty;
        long long diff_bytes;
        char compiler[128];
        char flags[1024];
        char source_dir[PRISM_PATH_MAX];
    } build;
    int nextra, nmetrics;
    prism_archive_value extra[PRISM_ARCHIVE_MAX_EXTRA];
    prism_archive_value metrics[PRISM_ARCHIVE_MAX_METRICS];
    prism_json_value *doc; /* the whole document (argv, newer keys); owned, see free below */
} prism_run_meta;

/* Largest run.json the reader accepts (prism writes a few KiB; extra facts are bounded). */
#define PRISM_RUN_JSON_MAX_BYTES ((size_t)16 << 20)

/* Read <run_dir>/run.json into `m`. Errors, each naming the file: PRISM_ERR_NOT_FOUND when it
 * is missing; PRISM_ERR_IO when it is not a regular file or larger than
 * PRISM_RUN_JSON_MAX_BYTES; PRISM_ERR_CORRUPT when it is not JSON, not an object, has no
 * "status" or an unknown one, or holds an integer member (seed, steps, resumed, pid,
 * diff_bytes) that is not an integer in its type's range. On success free with
 * prism_run_meta_free; on failure nothing needs freeing. The struct is large (fixed tables):
 * keep it off small stacks. */
prism_status prism_run_read(const char *run_dir, prism_run_meta *m);
void prism_run_meta_free(prism_run_meta *m);

/* Write the run.json text for `a` into a JSON writer (used by update; public for tests). */
void prism_archive_write_json(const prism_archive *a, prism_json *j);

#endif
