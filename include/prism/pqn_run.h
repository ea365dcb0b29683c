/* prism/pqn_run.h — a PQN training run (agent.kind = pqn): its state, checkpoints and loop.
 *
 * PQN does not fit the DQN trainer's shape (prism/trainer.h): that loop steps one environment
 * and checkpoints between its episodes, when no environment is mid-episode; PQN steps N
 * environments in lockstep, which are never all between episodes. So a PQN run has its own
 * loop (src/run/pqn_trainer.c; prism_train and prism_train_resume hand PQN configurations to
 * it) and its own checkpoint, taken between rollouts, which holds every environment mid-episode.
 * The run archive is the same: run.json, config.ini, stdout.log, metrics.csv (PQN's columns),
 * episodes.csv (the DQN trainer's columns), TensorBoard events, checkpoints/.
 *
 * Iterations: an iteration is ceil(train.iteration_steps / (N * T)) rollouts; the run is
 * floor(train.steps / (N * T)) rollouts (CleanRL's num_iterations), the last iteration possibly
 * shorter.
 */
#ifndef PRISM_PQN_RUN_H
#define PRISM_PQN_RUN_H

#include "prism/config.h"
#include "prism/pqn.h"
#include "prism/trainer.h"

/* Sums over the iteration in progress (the rest is in pq.stats). */
typedef struct prism_pqn_acc {
    long long episodes;
    double return_sum, return_sq, return_min, return_max, length_sum;
} prism_pqn_acc;

typedef struct prism_pqn_run {
    prism_config cfg;
    prism_pqn pq;
    prism_env eval_env;
    prism_rng eval_rng; /* (seed, PRISM_STREAM_EVAL) */
    int iterations;     /* of the whole run */
    int rollouts_per_iteration;
    int iterations_done;
    int mid_iteration; /* 1: saved between rollouts inside iteration iterations_done */
    long long episodes_total;
    long long metrics_offset, episodes_offset;
    prism_pqn_acc acc;
    bool ready;
} prism_pqn_run;

/* Build the run's agent (vector env, network, optimizer) and evaluation environment from cfg
 * (agent.kind = pqn), counters zero. On failure nothing stays allocated. */
prism_status prism_pqn_run_init(prism_pqn_run *r, const prism_config *cfg);
void prism_pqn_run_free(prism_pqn_run *r);

/* Checkpoint files: dir/ckpt-<iteration>[-mid].bin written atomically, then dir/latest names it
 * and the previous one is removed (the DQN trainer's names, so prism_checkpoint_latest finds it;
 * the magic tells the two formats apart). Layout: magic "PRISMPQN", u32 version (1), u32 0, u64
 * payload length, payload (named fields: counters, accumulators, statistics, RNG streams, each
 * environment's state, time-limit counter and random source, the current observations and
 * episode sums; then the network with its optimizer in the prism/nn.h format), u32 CRC-32C of
 * everything before it. Environment states are stored as their bytes XOR a freshly built
 * environment's, so pointers to static tables (equal in both) drop out and the file does not
 * depend on where the program was loaded. Environments that own external resources (a Box2D
 * world) cannot be saved: PRISM_ERR_UNSUPPORTED says so. */
prism_status prism_pqn_checkpoint_save(const char *dir, const prism_pqn_run *r);
/* Load the checkpoint dir/latest names into r, built by prism_pqn_run_init from the same
 * configuration. PRISM_ERR_NOT_FOUND when there is none, PRISM_ERR_CORRUPT naming the file and the
 * problem. */
prism_status prism_pqn_checkpoint_load(const char *dir, prism_pqn_run *r);
/* Load one given file. */
prism_status prism_pqn_checkpoint_load_file(const char *path, prism_pqn_run *r);

/* As prism_train / prism_train_resume (prism/trainer.h) for agent.kind = pqn. */
prism_status prism_pqn_train(const prism_config *cfg, const prism_train_options *opt, char *run_dir,
                             size_t cap);
prism_status prism_pqn_train_resume(const char *dir, prism_config *cfg,
                                    const prism_train_options *opt);

#endif
