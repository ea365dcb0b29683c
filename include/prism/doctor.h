/* prism/doctor.h — `prism doctor`: the deep-RL debugging playbook as library calls.
 *
 * Four kinds of examination, each filling a list of findings (the CLI prints them):
 *   - probes:  train the configured agent on every probe environment (prism/probes.h) for a
 *              few thousand steps, driving prism_agent directly (no trainer, no run
 *              directory), and compare the learned Q(obs, a) (and the C51 distribution) with
 *              the analytic answers; a wrong value names what the probe implicates.
 *   - engine:  finite-difference gradient check of the configured network, overfitting one
 *              fixed batch, determinism of two short runs, fast vs naive kernels.
 *   - run:     read a run directory's metrics.csv / episodes.csv / config.ini and flag
 *              NaN/Inf, impossible Q-values, rising loss, exploding gradients, entropy
 *              collapse, constant episode lengths, slowing steps/s, growing memory and
 *              evaluation far from training, each with its evidence and likely cause.
 *   - env:     random and scripted baselines, per-dimension observation and reward scales,
 *              the time-limit configuration.
 *
 *     prism_doctor_options o = prism_doctor_options_default();
 *     o.preset = "rainbow";
 *     prism_doctor_report r;
 *     prism_doctor_report_init(&r);
 *     st = prism_doctor_probes(&o, &r);     // then prism_doctor_engine(&o, &r)
 *     ... r.checks[i] (verdict, expected, learned, message) ...; r.failed == 0: healthy
 *     prism_doctor_report_free(&r);
 *
 * Everything is seeded (o.seed) and deterministic. docs/doctor.md explains each check, its
 * tolerance, and which probes a configuration cannot address.
 */
#ifndef PRISM_DOCTOR_H
#define PRISM_DOCTOR_H

#include "prism/agent.h"
#include "prism/config.h"

#include <stdbool.h>
#include <stdint.h>

enum { PRISM_DOCTOR_MAX_SETS = 64 };

typedef struct prism_doctor_options {
    const char *preset;                      /* agent preset (default "dqn") */
    const char *sets[PRISM_DOCTOR_MAX_SETS]; /* "key=value" applied after the doctor's own
                                                probe overrides (the user wins) */
    int n_sets;
    uint64_t seed;          /* default 0 */
    long long probe_steps;  /* env steps per probe (0: the default, 4000) */
    const char *engine_env; /* env whose network the engine checks use
                               (default "CartPole-v0") */
    prism_agent_bug bug;    /* TESTS ONLY: a deliberate agent bug */
} prism_doctor_options;

prism_doctor_options prism_doctor_options_default(void);

typedef enum prism_doctor_verdict {
    PRISM_DOCTOR_PASS = 0,
    PRISM_DOCTOR_FAIL = 1,
    PRISM_DOCTOR_SKIP = 2, /* the configuration cannot address this check (message says why) */
    PRISM_DOCTOR_WARN = 3, /* run / env findings that are worth a look but not proof of a bug */
} prism_doctor_verdict;

/* One check or finding. */
typedef struct prism_doctor_check {
    char name[48];    /* "probe-3-discount", "gradcheck", "q-bound", ... */
    char what[64];    /* the quantity: "Q(obs=0)", "P(-1), P(+1)", "max rel err" */
    double expected;  /* NaN when not numeric */
    double learned;   /* the measured value, NaN when not numeric */
    double tolerance; /* |learned - expected| allowed (NaN when not a distance check) */
    prism_doctor_verdict verdict;
    char message[320]; /* on failure: the evidence and what it implicates; on skip: why */
} prism_doctor_check;

typedef struct prism_doctor_report {
    int n, cap;
    prism_doctor_check *checks; /* (n) owned */
    int passed, failed, skipped, warned;
    double gamma; /* the discount the probe answers were computed at */
} prism_doctor_report;

void prism_doctor_report_init(prism_doctor_report *r);
void prism_doctor_report_free(prism_doctor_report *r);
/* Append a check (copies it) and count its verdict. PRISM_ERR_NOMEM when the list cannot grow. */
prism_status prism_doctor_report_add(prism_doctor_report *r, const prism_doctor_check *c);
/* Build one check from its parts (message NULL reads as "") and add it. */
prism_status prism_doctor_report_check(prism_doctor_report *r, const char *name, const char *what,
                                       double expected, double learned, double tolerance,
                                       prism_doctor_verdict verdict, const char *message);

/* Resolve the configuration the doctor uses for env_id: defaults, the preset, then (when
 * `probe` is true) the doctor's small-probe overrides (small net, short schedule, exploration
 * that visits every action), then the user's sets. Errors name the preset or key. */
prism_status prism_doctor_config(const prism_doctor_options *o, const char *env_id, bool probe,
                                 prism_config *out);

/* Train the configured agent on every probe and append one check per (probe, state, action)
 * value, distribution or importance-weight property. Returns PRISM_OK when the examination
 * ran (whatever its verdicts); an error when the configuration is invalid or the agent could
 * not be built. */
prism_status prism_doctor_probes(const prism_doctor_options *o, prism_doctor_report *r);

/* The engine checks on the configured network for o->engine_env: gradcheck, overfit one
 * batch, determinism of two short runs, fast vs naive kernels. */
prism_status prism_doctor_engine(const prism_doctor_options *o, prism_doctor_report *r);

/* Examine a finished (or running) run directory. Returns PRISM_ERR_NOT_FOUND / CORRUPT
 * naming the file when metrics.csv cannot be read; each detector appends a PASS or a
 * WARN/FAIL finding with evidence. */
prism_status prism_doctor_run(const char *run_dir, prism_doctor_report *r);

/* Examine an environment: `episodes` (>= 1) episodes of a uniformly random policy and, when
 * `scripted` is not NULL, of that scripted policy (observation in, action out) on the same
 * seeds; observation and reward scales per dimension (mean, std, min, max) over the random
 * steps; the time-limit configuration. Writes text, or with `json` one JSON object (keys env,
 * reference, time_limit (null: none), episode_cap, random and scripted {episodes, return_mean,
 * return_std, return_min, return_max, length_mean, terminated, truncated, capped} (scripted
 * null when there is none), reward {mean, std, min, max, steps}, observation [{mean, std, min,
 * max} per dimension]) to `out` (the CLI passes stdout).
 * PRISM_ERR_NOT_FOUND for an unknown id (with suggestions), PRISM_ERR_INVALID for episodes < 1. */
prism_status prism_doctor_env(const char *env_id, int episodes, uint64_t seed,
                              int (*scripted)(const float *obs), bool json, FILE *out);

#endif
