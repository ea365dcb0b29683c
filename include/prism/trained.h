/* prism/trained.h — a run's agent brought back from a checkpoint, for using it rather than
 * training it further (prism eval, prism watch, the checkpoint tests and fuzzer).
 *
 *     prism_trained tr;
 *     if (prism_trained_load(&tr, "runs/2026...-rainbow-s0", NULL)) { ...message... }
 *     int a = prism_agent_act(&tr.agent, obs, true);
 *     prism_trained_free(&tr);
 *
 * Not here: continuing the training (prism_train_resume in prism/trainer.h).
 */
#ifndef PRISM_TRAINED_H
#define PRISM_TRAINED_H

#include "prism/agent.h"
#include "prism/checkpoint.h"
#include "prism/config.h"
#include "prism/env.h"
#include "prism/file.h"

typedef struct prism_trained {
    prism_config cfg;                /* the run's config.ini */
    prism_env env, eval_env;         /* built as the trainer builds them (seeded with cfg.seed) */
    prism_agent agent;               /* with the checkpoint's weights, replay and RNG streams */
    prism_run_counters counters;     /* where the run was when the checkpoint was taken */
    char checkpoint[PRISM_PATH_MAX]; /* the file loaded */
    bool ready;                      /* envs and agent were built (prism_trained_free releases) */
} prism_trained;

/* Build an environment for cfg exactly as the trainer does: the env's options, its time limit
 * (train.max_episode_steps for environments without one). PRISM_ERR_* from the env on failure
 * (nothing left allocated). */
prism_status prism_train_env_init(prism_env *env, const prism_config *cfg);

/* Build environments and agent for cfg (fully resolved) without loading anything: the state
 * of a fresh run. On failure everything is released. */
prism_status prism_trained_init(prism_trained *t, const prism_config *cfg);

/* Read run_dir/config.ini, build the agent, and load `checkpoint` (a path; NULL: the one named
 * by run_dir/checkpoints/latest). PRISM_ERR_NOT_FOUND when the run has no config.ini or no
 * checkpoint; PRISM_ERR_CORRUPT / PRISM_ERR_INVALID naming the damaged or mismatched file. On
 * failure everything is released; on success release with prism_trained_free. */
prism_status prism_trained_load(prism_trained *t, const char *run_dir, const char *checkpoint);

void prism_trained_free(prism_trained *t);

#endif
