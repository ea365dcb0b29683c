/* prism/trainer.h — a training run: environment loop, iteration schedule, metrics, run archive.
 *
 * The schedule is Dopamine's: an iteration runs whole episodes until it has taken at least
 * train.iteration_steps steps (the episode in progress always completes), then writes one row
 * of metrics.csv; the run lasts ceil(train.steps / train.iteration_steps) iterations.
 * `return_mean` of a row is the mean undiscounted return of the training episodes that ended
 * in that iteration (what Revisiting Rainbow plots). Columns whose values depend on the
 * machine's speed start with `sys_`; every other column is bit-identical for the same seed.
 *
 *     prism_train_options o = prism_train_options_default();
 *     o.argc = argc; o.argv = argv;
 *     char dir[1024];
 *     st = prism_train(&cfg, &o, dir, sizeof dir);     // dir: the run directory
 */
#ifndef PRISM_TRAINER_H
#define PRISM_TRAINER_H

#include "prism/config.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct prism_train_options {
    const char *runs_dir; /* NULL: "runs" */
    const char *run_id;   /* NULL: generated */
    int argc;
    char *const *argv;
    bool progress_bar; /* redraw a live progress line (when stdout is a terminal) */
    bool quiet;        /* no per-iteration lines on stdout (still in stdout.log) */
    bool no_index;     /* do not write runs/index.sqlite (tests) */
    /* Polled between steps (the CLI counts SIGINT / SIGTERM into it): 1 stops the run at the
     * next episode boundary and saves a checkpoint there; 2 stops it at once (the last
     * checkpoint stays). Either way the status becomes interrupted. May be NULL. */
    volatile sig_atomic_t *stop;
    /* Tests only (0 in every real run): just before environment step number test_nan_step
     * (1-based) is observed, the last online parameter becomes NaN, so the watchdog's
     * divergence handling can be tested end to end. */
    long long test_nan_step;
    /* Seconds between heartbeat lines inside a long iteration ("it 3: 412000 of 1000000
     * steps ..."), printed when neither progress_bar nor quiet is set, so a log shows a run
     * is alive between iteration lines. 0 (the default): none. */
    double heartbeat_s;
} prism_train_options;

prism_train_options prism_train_options_default(void);

/* Run a whole training run described by cfg (fully resolved). The run directory's path is
 * written to run_dir (may be NULL) as soon as it exists, so the caller can name it even on
 * failure. Returns PRISM_OK when the run completed; PRISM_ERR_INTERRUPTED when stopped;
 * PRISM_ERR_DIVERGED when a loss, gradient or Q-value became non-finite; other codes for bad
 * configuration or I/O failure. Every outcome is recorded in run.json. */
prism_status prism_train(const prism_config *cfg, const prism_train_options *opt, char *run_dir,
                         size_t cap);

/* Continue the run in `dir` from its latest checkpoint: reads dir/config.ini into cfg (so the
 * caller can show it), restores agent, environments, counters, metrics.csv and episodes.csv to
 * the checkpoint, and runs the remaining iterations. The metrics of a resumed run are
 * bit-identical (sys_ columns aside) to an uninterrupted run with the same seed.
 * PRISM_ERR_NOT_FOUND when dir has no checkpoint; PRISM_ERR_CORRUPT naming a damaged file. */
prism_status prism_train_resume(const char *dir, prism_config *cfg, const prism_train_options *opt);

#endif
