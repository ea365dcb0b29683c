/* src/run/sweep_internal.h — what the files of a sweep share. Not a public header: nothing
 * outside src/run/sweep*.c and the tests includes it.
 *
 *   sweep.c        the manifest: flags, sweep files, named studies, validation; a run's
 *                  settings and its `prism train` command line (sweep_train_args)
 *   sweep_dir.c    the sweep directory: manifest.tsv, sweep.json, run states, prism_sweep_open
 *   sweep_local.c  the local backend: a pool of child `prism train` processes
 *   sweep_slurm.c  the Slurm backend's scripts, and prism_sweep_capture (running sbatch)
 *
 * Each helper is defined once, in the file named beside it. */
#ifndef PRISM_SWEEP_INTERNAL_H
#define PRISM_SWEEP_INTERNAL_H

#include "prism/sweep.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- small helpers (sweep.c) ---- */

/* snprintf(dst, cap, "%s", src), src NULL read as "". */
void sweep_copy_str(char *dst, size_t cap, const char *src);

/* Append "piece" to a space-separated list in buf; false when it does not fit. */
bool sweep_append_word(char *buf, size_t cap, const char *piece);

/* ---- the manifest's checks (sweep.c), also applied to manifest.tsv when it is read back ---- */

/* Every word of a space-separated settings list is key=value without whitespace, the words
 * one space apart. PRISM_ERR_INVALID otherwise. */
prism_status sweep_check_settings(const char *list);

/* Split an agent spec "LABEL=PRESET" or "PRESET" into label[lcap] and preset[pcap] and check
 * the label's characters and that the preset exists (PRISM_ERR_NOT_FOUND with suggestions). */
prism_status sweep_parse_agent(const char *spec, char *label, size_t lcap, char *preset,
                               size_t pcap);

/* The canonical id of a registered env in *id (NULL and PRISM_ERR_NOT_FOUND, with the
 * closest ids, when there is none). */
prism_status sweep_env_canonical(const char *env, const char **id);

/* Append a run to s; id NULL: the usual <env>-<label>-s<seed>. Every id passes
 * prism_archive_id_check (it becomes a path under DIR/runs, DIR/logs and DIR/failed).
 * PRISM_ERR_NOMEM, or PRISM_ERR_INVALID for an id that is too long or unusable. */
prism_status sweep_add_run(prism_sweep *s, const char *label, const char *preset, const char *env,
                           uint64_t seed, const char *settings, const char *id);

/* ---- a run's `prism train` command line (sweep.c): the one builder of both backends ---- */

/* The values of one `prism train` command line, as text. The local backend gives a run's own
 * values; the Slurm script gives shell references ("$id", "$SWEEP", ...) that it reads from
 * manifest.tsv when the task runs, and renders the words double-quoted. */
typedef struct sweep_train_values {
    const char *prog;     /* argv[0] ("prism", or "$PRISM" in the script) */
    const char *dir;      /* the sweep directory: runs go to DIR/runs/ID */
    const char *id;       /* the run id */
    bool resume;          /* `train --resume DIR/runs/ID`: the fields below are not used */
    const char *env;      /* a registered environment id */
    const char *preset;   /* `--agent` */
    const char *seed;     /* `--seed`, in decimal */
    const char *agent;    /* the label: `--set agent=LABEL` */
    const char *settings; /* space-separated key=value words, each becomes `--set WORD` */
} sweep_train_values;

/* A command line: argv[0 .. argc) are heap copies, argv[argc] is NULL (execv takes it as is).
 * The words [set_begin, set_end) are the `--set WORD` pairs of v->settings (set_begin ==
 * set_end when there are none): the Slurm script turns them into a loop over its $settings. */
typedef struct sweep_argv {
    char **argv; /* (argc + 1) */
    int argc, cap;
    int set_begin, set_end;
} sweep_argv;

/* Build `PROG train ENV --agent PRESET --seed SEED --set agent=LABEL [--set WORD ...]
 * --runs-dir DIR/runs --run-id ID --quiet`, or `PROG train --resume DIR/runs/ID --quiet`,
 * into *out (which the caller frees with sweep_argv_free, also on failure).
 * PRISM_ERR_NOMEM when it cannot be allocated. */
prism_status sweep_train_args(const sweep_train_values *v, sweep_argv *out);
void sweep_argv_free(sweep_argv *a);

/* The command line the local backend runs for run r of s in the sweep directory dir:
 * sweep_train_args with r's own values, prog "prism" and the settings of
 * prism_sweep_run_settings. PRISM_ERR_INVALID when those do not fit; PRISM_ERR_NOMEM. *out is
 * the caller's to free with sweep_argv_free, also on failure. */
prism_status sweep_run_train_args(const prism_sweep *s, const prism_sweep_run *r, const char *dir,
                                  bool resume, sweep_argv *out);

/* ---- the sweep directory (sweep_dir.c) ---- */

/* Format into out[cap] with a path-length check (a sweep path that does not fit is a user
 * problem, not an invariant): PRISM_ERR_INVALID, "use a shorter sweep directory". */
prism_status sweep_pathf(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether anything exists at path (stat succeeds). */
bool sweep_file_exists(const char *path);

/* The state of run `id` from its run directory DIR/runs/ID: completed, interrupted
 * (resumable: a checkpoint exists), failed (*diverged says whether it diverged), or pending
 * (no directory, or one without a checkpoint to continue from). why[cap] gets the run.json
 * status and message ("" without run.json). */
prism_sweep_state sweep_run_dir_state(const char *dir, const char *id, bool *diverged, char *why,
                                      size_t cap);

/* Take r's state from its run directory; a run recorded as failed stays failed unless its
 * directory says more (a directory without a checkpoint says nothing). */
void sweep_refresh_state(const char *dir, prism_sweep_run *r);

#endif
