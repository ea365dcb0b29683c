/* prism/checkpoint.h — everything a training run needs to continue bit-identically.
 *
 * Checkpoints are taken at iteration boundaries. An iteration always ends between episodes
 * (Dopamine's schedule), so no environment is mid-episode and the environment contributes only
 * its random source — which is also why a Box2D world never has to be serialised. A checkpoint
 * holds: the trainer's counters and the byte offsets of metrics.csv and episodes.csv, the agent's
 * step count, statistics and RNG streams, the environments' random sources, an opaque blob of
 * the trainer's own (its per-iteration accumulators; its size must match on load), the online network with its
 * optimizer state, the target network, and the whole replay memory with its priorities.
 *
 * File: runs/<id>/checkpoints/ckpt-<iteration>.bin, written atomically (temporary file, fsync,
 * rename, fsync of the directory), then checkpoints/latest (also atomic) names it: a file named
 * by `latest` is always complete. Layout (docs/run-archive.md): magic "PRISMCKP", u32 version,
 * u32 reserved, u64 payload length, payload, u32 CRC-32C of everything before it. The payload
 * embeds the network and replay formats of prism/nn.h and prism/replay.h, each with its own
 * checksum. Loading checks magic, version, length and CRC before touching anything.
 */
#ifndef PRISM_CHECKPOINT_H
#define PRISM_CHECKPOINT_H

#include "prism/agent.h"
#include "prism/env.h"

typedef struct prism_run_counters {
    int iterations_done;       /* iterations completed (the next one to run is this index) */
    int mid_iteration;         /* 1: saved at an episode boundary inside iteration
                                  iterations_done (after Ctrl-C); the trainer's blob holds its
                                  partial accumulators */
    long long env_steps;       /* environment steps so far */
    long long episodes_total;  /* episodes completed so far */
    long long metrics_offset;  /* bytes of metrics.csv after the last completed iteration */
    long long episodes_offset; /* bytes of episodes.csv likewise */
} prism_run_counters;

/* Write a checkpoint of the run to dir/ckpt-<iterations_done>[-mid].bin, update dir/latest, and remove
 * checkpoints older than the newest `keep`. PRISM_ERR_IO naming the path on failure (the
 * previous checkpoint stays the latest). */
prism_status prism_checkpoint_save(const char *dir, int keep, const prism_run_counters *counters,
                                   const prism_agent *agent, const prism_env *env,
                                   const prism_env *eval_env, const void *blob, size_t blob_len);

/* Load the checkpoint named by dir/latest into an agent and environments created from the same
 * configuration. PRISM_ERR_NOT_FOUND when there is none; PRISM_ERR_CORRUPT naming the file and
 * the problem (truncated, bad checksum, wrong version, mismatched sizes). On failure the
 * objects may be partly overwritten: discard them. */
prism_status prism_checkpoint_load(const char *dir, prism_run_counters *counters, prism_agent *agent,
                                   prism_env *env, prism_env *eval_env, void *blob, size_t blob_len);

/* Load a specific checkpoint file (as prism_checkpoint_load, without reading `latest`). */
prism_status prism_checkpoint_load_file(const char *path, prism_run_counters *counters,
                                        prism_agent *agent, prism_env *env, prism_env *eval_env,
                                        void *blob, size_t blob_len);

#endif
