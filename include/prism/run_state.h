/* prism/run_state.h — one training run's state: configuration, environments, agent, counters
 * and the accumulators of the iteration in progress. Built once; the trainer advances it,
 * a checkpoint saves and restores all of it (prism/checkpoint.h), and `prism eval` / `watch`
 * load it to use the agent.
 *
 *     prism_run_state rs;
 *     if (prism_run_state_load(&rs, "runs/2026...-rainbow-s0", NULL)) { ...message... }
 *     int a = prism_agent_act(&rs.agent, obs, true);
 *     prism_run_state_free(&rs);
 *
 * Not here: the training loop (prism/trainer.h), the checkpoint format (prism/checkpoint.h).
 */
#ifndef PRISM_RUN_STATE_H
#define PRISM_RUN_STATE_H

#include "prism/agent.h"
#include "prism/config.h"
#include "prism/env.h"
#include "prism/file.h"

enum { PRISM_ACTIONS_LOGGED = 32 }; /* actions whose frequencies metrics.csv records */

/* Where the run is. Checkpoints are taken between episodes, so these say everything about
 * the environment loop that is not in the agent or an environment's random source. */
typedef struct prism_run_counters {
    int iterations_done;       /* iterations completed (the next one to run is this index) */
    int mid_iteration;         /* 1: saved at an episode boundary inside iteration
                                  iterations_done (after Ctrl-C), with its partial sums */
    long long env_steps;       /* environment steps so far */
    long long episodes_total;  /* episodes completed so far */
    long long metrics_offset;  /* bytes of metrics.csv after the last written row */
    long long episodes_offset; /* bytes of episodes.csv likewise */
} prism_run_counters;

/* Sums over the iteration in progress, from which its metrics.csv row is computed. */
typedef struct prism_iteration_acc {
    long long steps, episodes;
    double return_sum, return_sq, return_min, return_max, length_sum;
    long long action_counts[PRISM_ACTIONS_LOGGED];
    long long actions_total;
    double time_env, time_act; /* seconds (the sys_ columns) */
} prism_iteration_acc;

typedef struct prism_run_state {
    prism_config cfg;                /* fully resolved (the run's config.ini) */
    prism_env env, eval_env;         /* seeded with cfg.seed, streams ENV and EVAL */
    prism_agent agent;               /* weights, optimizer, replay memory, RNG streams */
    prism_run_counters counters;     /* how far the run got */
    prism_iteration_acc acc;         /* the iteration in progress */
    int iterations;                  /* of the whole run: ceil(train.steps / iteration_steps) */
    char checkpoint[PRISM_PATH_MAX]; /* the file loaded ("" for a fresh state) */
    bool ready;                      /* envs and agent were built (prism_run_state_free frees) */
} prism_run_state;

/* Build an environment for cfg exactly as the trainer does: the env's options, its time limit
 * (train.max_episode_steps for environments without one). PRISM_ERR_* from the env on failure
 * (nothing left allocated). */
prism_status prism_train_env_init(prism_env *env, const prism_config *cfg);

/* The state of a fresh run of cfg (fully resolved; copied unless it is &s->cfg): environments
 * and agent built and seeded, counters zero. On failure everything is released. */
prism_status prism_run_state_init(prism_run_state *s, const prism_config *cfg);

/* Zero the iteration accumulators (return_min/max at +-infinity). */
void prism_iteration_acc_reset(prism_iteration_acc *acc);

/* Read run_dir/config.ini into cfg and check that it is still the configuration the run was
 * started with (its identity hash and seed against run.json): an edited, truncated or replaced
 * file would otherwise continue, evaluate or "complete" another experiment under the run's
 * name. PRISM_ERR_NOT_FOUND / PRISM_ERR_INVALID naming the file and what to do. */
prism_status prism_run_config_load(const char *run_dir, prism_config *cfg);

/* Write cfg as run_dir/config.ini atomically (with its help comments) and check that it reads
 * back as the same configuration. PRISM_ERR_IO naming the file; PRISM_ERR_INVALID when it does
 * not read back (a bug in the INI writer). */
prism_status prism_run_config_write(const prism_config *cfg, const char *run_dir);

/* Extend the run in run_dir to a budget of `steps` environment steps, more than its
 * train.steps: under the run's lock, config.ini gets the new train.steps, run.json the new
 * config_hash and the extension (under "extensions": "FROM->TO at TIME", appended), and a
 * completed run becomes interrupted, so that prism_train_resume continues it. The first steps
 * are those of the run as it was: an extended run equals one started with the larger budget
 * (every quantity of the agent and trainer is independent of train.steps but the number of
 * iterations). PRISM_ERR_INVALID when steps is not larger (or another process holds the run),
 * and the errors of prism_run_config_load; nothing is written then. */
prism_status prism_run_extend(const char *run_dir, long long steps);

/* Read run_dir/config.ini (prism_run_config_load), build the state, and load `checkpoint` (a path;
 * NULL: the one named by run_dir/checkpoints/latest). PRISM_ERR_NOT_FOUND when the run has no
 * config.ini or no checkpoint; PRISM_ERR_CORRUPT / PRISM_ERR_INVALID naming the damaged or
 * mismatched file. On failure everything is released; on success release with prism_run_state_free.
 */
prism_status prism_run_state_load(prism_run_state *s, const char *run_dir, const char *checkpoint);

void prism_run_state_free(prism_run_state *s);

#endif
