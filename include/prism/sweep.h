/* prism/sweep.h — sweeps: agents x environments x seeds, run as child `prism train` processes
 * (local backend) or as a Slurm job array, all archived under one sweep directory.
 *
 * A sweep is a list of runs (the manifest). It comes from flags (agents, envs, seeds), from a
 * sweep file (one line per agent/env with its seeds and settings: docs/sweeps.md), or from a
 * named study (revisiting-rainbow-classic, revisiting-rainbow-minatar, optimizer-loss;
 * quantile-components-, munchausen- and flavours- on -classic and -minatar).
 * An environment that is not registered is an error (with the closest ids), never skipped.
 *
 *     prism_sweep s;
 *     prism_sweep_init(&s, "quick");
 *     st = prism_sweep_add_grid(&s, "dqn,rainbow", "CartPole-v0", 0, 3);
 *     st = prism_sweep_validate(&s);                  // resolves every run's configuration
 *     st = prism_sweep_create_dir(&s, "sweeps", argc, argv, dir, sizeof dir, NULL);
 *     prism_sweep_local_options o = prism_sweep_local_options_default();
 *     o.jobs = 2; o.exe = "/proc/self/exe"; o.stop = &stop;
 *     o.progress = show; o.ctx = &display;           // optional progress callback
 *     st = prism_sweep_run_local(&s, dir, &o);        // PRISM_OK: every run ended
 *     prism_sweep_free(&s);
 *
 * The sweep directory (docs/sweeps.md):
 *   manifest.tsv  one run per line, no header: id, agent label, preset, env, seed, settings
 *                 (space-separated key=value). Line k (0-based) is Slurm array task k.
 *   sweep.json    name, command line, backend, status and every run's status and failures
 *   runs/<id>/    the run directories (`prism train --runs-dir DIR/runs --run-id <id>`)
 *   logs/<id>.log what each child printed (its stdout.log is in its run directory too)
 *   failed/       run directories of failed attempts that were retried
 *   slurm/        the job-array and aggregation scripts (Slurm backend)
 *   report.html   `prism report DIR/runs` at the end
 *
 * The library prints nothing: progress goes through a callback, problems into the status
 * message. It forks and execs child processes (POSIX) but never exits.
 */
#ifndef PRISM_SWEEP_H
#define PRISM_SWEEP_H

#include "prism/core.h"
#include "prism/dir_lock.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    PRISM_SWEEP_ID_MAX = 160,
    PRISM_SWEEP_NAME_MAX = 64,
    PRISM_SWEEP_SETTINGS_MAX = 2048,
    PRISM_SWEEP_MAX_FAILURES = 2,  /* attempts that may fail before a run is given up */
    PRISM_SWEEP_MAX_SEEDS = 10000, /* seeds per agent and env (flags) or per sweep-file line */
};

/* Where a run stands. */
typedef enum prism_sweep_state {
    PRISM_SWEEP_PENDING,     /* not started (or to be restarted from scratch) */
    PRISM_SWEEP_RUNNING,     /* a child is training it now */
    PRISM_SWEEP_COMPLETED,   /* run.json says completed */
    PRISM_SWEEP_INTERRUPTED, /* stopped with a checkpoint: `prism train --resume` continues it */
    PRISM_SWEEP_FAILED,      /* failed and not retried (again) */
} prism_sweep_state;

/* "pending", "running", "completed", "interrupted", "failed". */
const char *prism_sweep_state_name(prism_sweep_state s);

typedef struct prism_sweep_run {
    char id[PRISM_SWEEP_ID_MAX]; /* run directory name: <env>-<agent>-s<seed> */
    char agent[64];              /* label in run.json and the report (often = preset) */
    char preset[64];             /* `prism train --agent` */
    char env[64];
    uint64_t seed;
    char settings[PRISM_SWEEP_SETTINGS_MAX]; /* key=value ..., after the preset, in order */
    /* bookkeeping (sweep.json) */
    prism_sweep_state state;
    int failures;      /* failed attempts so far */
    double duration_s; /* wall time of the last attempt (0 when unknown) */
    double cpu_s;      /* CPU time (user + system) of the last attempt's process (0: unknown) */
    char message[640]; /* why it failed, or "" */
} prism_sweep_run;

typedef struct prism_sweep {
    char name[PRISM_SWEEP_NAME_MAX];
    char settings[PRISM_SWEEP_SETTINGS_MAX]; /* applied to every run before its own */
    long long steps;                         /* > 0: train.steps for every run (after all) */
    prism_sweep_run *runs;                   /* (nruns) */
    int nruns, cap;
} prism_sweep;

/* An empty sweep named `name` (letters, digits, '-', '_', '.', '+'). Never fails. */
void prism_sweep_init(prism_sweep *s, const char *name);
void prism_sweep_free(prism_sweep *s);

/* Append "key=value" to the settings applied to every run. PRISM_ERR_INVALID when it is not
 * of that form or contains whitespace. */
prism_status prism_sweep_add_setting(prism_sweep *s, const char *kv);

/* Append agents x envs x seeds [seed_start, seed_start + nseeds) (PRISM_ERR_INVALID when that
 * passes UINT64_MAX). agents and envs are comma
 * separated; an agent is PRESET or LABEL=PRESET. Runs are ordered seed, then env, then agent,
 * so a sweep stopped halfway has the same seeds for every (agent, env). PRISM_ERR_NOT_FOUND
 * for an unknown preset or environment (with suggestions); PRISM_ERR_INVALID for a malformed
 * list. */
prism_status prism_sweep_add_grid(prism_sweep *s, const char *agents, const char *envs,
                                  uint64_t seed_start, int nseeds);

/* A named study: its agents, envs and settings (settings may be "" ); false when unknown.
 * Agents may carry labels (LABEL=PRESET). */
bool prism_sweep_study(const char *name, const char **agents, const char **envs,
                       const char **settings);
/* The i-th study name and a one-line description (NULL past the end). */
const char *prism_sweep_study_name(int i);
const char *prism_sweep_study_summary(int i);

/* Append the runs of a sweep file (format in docs/sweeps.md): `AGENT ENV [SEEDS] [key=value
 * ...]` per line, '#' comments; SEEDS is N or A..B; without SEEDS, the seeds
 * [seed_start, seed_start + nseeds). PRISM_ERR_INVALID naming file and line on a malformed
 * line; PRISM_ERR_NOT_FOUND for a missing file, an unknown preset or environment (naming file
 * and line, with suggestions). */
prism_status prism_sweep_load_file(prism_sweep *s, const char *path, uint64_t seed_start,
                                   int nseeds);

/* Resolve every run's configuration as `prism train` would (defaults, preset, the sweep's
 * settings, the run's, steps), so bad keys or values fail before anything starts.
 * PRISM_ERR_INVALID naming the run and the setting; PRISM_ERR_INVALID on duplicate run ids. */
prism_status prism_sweep_validate(const prism_sweep *s);

/* The full settings of run r as `prism train` applies them, space separated: the label's
 * (optimizer-loss), the sweep's, the run's own, then train.steps when s->steps > 0.
 * PRISM_ERR_INVALID when they do not fit in out[cap]. */
prism_status prism_sweep_run_settings(const prism_sweep *s, const prism_sweep_run *r, char *out,
                                      size_t cap);

/* Create `<parent>/<name>-<UTC time>/` (or `<parent>/<name>-<time>-<k>` when taken) with
 * runs/, logs/, failed/, manifest.tsv and sweep.json (status "created"); argv is recorded.
 * The path is written to dir[cap]. With lock (may be NULL) the directory's lock is taken
 * right after it is made, before any file is written, and returned held: no other process
 * (a `sweep --resume` of the new directory) can start its runs between creation and the
 * caller's own start (pass it on with prism_sweep_local_options.lock_held). PRISM_ERR_IO
 * naming the path on failure (nothing held then). */
prism_status prism_sweep_create_dir(prism_sweep *s, const char *parent, int argc, char *const *argv,
                                    char *dir, size_t cap, prism_dir_lock *lock);

/* Read a sweep directory back: manifest.tsv (the runs) and sweep.json (name, failures).
 * Every run's state is then taken from its run directory (completed, interrupted with a
 * checkpoint, failed, ...). PRISM_ERR_NOT_FOUND when DIR is not a sweep directory;
 * PRISM_ERR_CORRUPT naming the file and line. On failure s is left empty (nothing to free). */
prism_status prism_sweep_open(prism_sweep *s, const char *dir);

/* Rewrite DIR/sweep.json atomically with the runs' states; `status` is the sweep's
 * ("created", "running", "completed", "failed", "interrupted", "submitted"); `extra` is a
 * JSON object's members text appended verbatim (may be NULL), e.g. "\"slurm_job\": 12". */
prism_status prism_sweep_write_status(const prism_sweep *s, const char *dir, const char *status,
                                      const char *extra);

/* Counts by state. */
typedef struct prism_sweep_counts {
    int total, pending, running, completed, interrupted, failed;
} prism_sweep_counts;
prism_sweep_counts prism_sweep_count(const prism_sweep *s);

/* ---- local backend ---- */

typedef struct prism_sweep_progress {
    prism_sweep_counts counts;
    double elapsed_s; /* since the sweep (this invocation) started */
    double eta_s;     /* estimated seconds left; < 0 when unknown yet */
    /* What happened, or NULL for a periodic tick (about once a second): */
    const prism_sweep_run *run; /* the run that started or ended */
    const char *event;          /* "started", "resumed", "completed", "failed", "retrying",
                                   "interrupted", "stopping" */
} prism_sweep_progress;

typedef void (*prism_sweep_progress_fn)(void *ctx, const prism_sweep_progress *p);

typedef struct prism_sweep_local_options {
    int jobs;        /* worker processes (>= 1) */
    const char *exe; /* the prism binary to exec (e.g. "/proc/self/exe") */
    /* Polled (the CLI counts SIGINT/SIGTERM into it): 1 forwards SIGINT to every child (they
     * checkpoint at the end of their episode) and starts nothing new; 2 forwards it again
     * (children stop at once, keeping their last checkpoint). May be NULL. */
    volatile sig_atomic_t *stop;
    prism_sweep_progress_fn progress; /* may be NULL */
    void *ctx;
    bool lock_held; /* the caller holds the sweep directory's lock (else the pool takes it) */
} prism_sweep_local_options;

prism_sweep_local_options prism_sweep_local_options_default(void);

/* Run every run not yet completed of the sweep in `dir` (as made by prism_sweep_create_dir
 * or read by prism_sweep_open) with up to o->jobs children at once. Each child is
 * `EXE train ENV --agent PRESET --seed S --set agent=LABEL --set ... --runs-dir DIR/runs
 * --run-id ID --quiet` (or `EXE train --resume DIR/runs/ID --quiet` for an interrupted run),
 * in its own process group, stdin from /dev/null, output to DIR/logs/ID.log. A run that fails
 * is recorded and the sweep goes on; it is retried once unless it diverged or its
 * configuration was rejected (both would repeat: same seed, same result). sweep.json is
 * rewritten after every event. Returns PRISM_OK when every run has ended, completed or failed
 * (prism_sweep_count says how many failed); PRISM_ERR_INTERRUPTED when stopped (the sweep is
 * resumable); PRISM_ERR_IO when the sweep directory cannot be written or a child cannot be
 * started. */
prism_status prism_sweep_run_local(prism_sweep *s, const char *dir,
                                   const prism_sweep_local_options *o);

/* ---- Slurm backend ---- */

typedef struct prism_sweep_slurm_options {
    const char *exe;       /* absolute path of the prism binary the jobs run */
    const char *partition; /* NULL: the cluster's default */
    const char *time;      /* --time per task, NULL: the partition's default */
    int max_parallel;      /* array throttle %K (>= 1) */
    int grace_s;           /* --signal=B:TERM@grace_s (default 120) */
} prism_sweep_slurm_options;

/* Write DIR/slurm/array.sbatch (one array task per run not yet completed, indexing
 * manifest.tsv by SLURM_ARRAY_TASK_ID) and DIR/slurm/report.sbatch (prism report on DIR/runs).
 * The array spec ("0-5" or "1,4,5") is written to array[cap]. PRISM_ERR_INVALID when no run is
 * left to do; PRISM_ERR_IO on write failure. */
prism_status prism_sweep_slurm_write(const prism_sweep *s, const char *dir,
                                     const prism_sweep_slurm_options *o, char *array, size_t cap);

/* Run argv (argv[0] searched in PATH) and capture its stdout (and stderr) into out[cap];
 * *exit_code gets its exit status (-1 if it could not be started or died of a signal).
 * PRISM_ERR_NOT_FOUND when the program cannot be executed. */
prism_status prism_sweep_capture(char *const *argv, char *out, size_t cap, int *exit_code);

#endif
