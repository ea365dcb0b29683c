/* prism/checkpoint.h — everything a training run needs to continue bit-identically.
 *
 * Checkpoints are taken at iteration boundaries, or at an episode boundary inside an iteration
 * after a stop request. No environment is then mid-episode, so an environment contributes only
 * its random source — which is also why a Box2D world never has to be serialised. A checkpoint
 * holds the whole prism_run_state (prism/run_state.h) that is not rebuilt from config.ini: its
 * counters and iteration accumulators, the agent's step count, statistics and RNG streams, the
 * environments' random sources (all as named fields, prism/fields.h), the online network with
 * its optimizer state, the target network, and the whole replay memory with its priorities.
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

#include "prism/run_state.h"

enum { PRISM_CHECKPOINT_VERSION = 2 }; /* 1: the fixed part as raw struct bytes (refused) */

/* Write a checkpoint of s to dir/ckpt-<iterations_done>[-mid].bin, update dir/latest, and
 * remove checkpoints older than the newest `keep`. PRISM_ERR_IO naming the path on failure (the
 * previous checkpoint stays the latest). */
prism_status prism_checkpoint_save(const char *dir, int keep, const prism_run_state *s);

/* Write a checkpoint to `path` (atomically) without touching `latest` or pruning: the
 * watchdog's diagnostic checkpoints/diverged.bin, which resume never picks up. PRISM_ERR_IO
 * naming the path on failure. */
prism_status prism_checkpoint_save_file(const char *path, const prism_run_state *s);

/* The file every checkpoint kind shares: an 8-byte magic, the version (u32), 0 (u32), the payload
 * length (u64), the payload, and a CRC32C of everything before it (u32), little-endian, written
 * atomically to `path`. PRISM_ERR_IO naming the file. */
prism_status prism_checkpoint_envelope_write(const char *path, const char magic[8],
                                             uint32_t version, const void *payload, size_t len);

/* Check the envelope of a checkpoint file's bytes (data, len, as read from path): the magic,
 * the version, the payload length against the file's, the CRC32C. On success the payload's
 * place in data. PRISM_ERR_CORRUPT naming the file and the problem, calling the file a `kind`
 * ("prism checkpoint"): bad magic or too short, another version (found_version says which, 0
 * when the magic did not match, so a caller can explain an old format), truncated or padded,
 * checksum mismatch. */
prism_status prism_checkpoint_envelope_read(const char *path, const char *data, size_t len,
                                            const char magic[8], uint32_t version, const char *kind,
                                            uint32_t *found_version, const unsigned char **payload,
                                            size_t *payload_len);

/* Load the checkpoint named by dir/latest into s, built (prism_run_state_init) from the same
 * configuration. PRISM_ERR_NOT_FOUND when there is none; PRISM_ERR_CORRUPT naming the file and
 * the problem (truncated, bad checksum, another format version, a missing or unknown field,
 * mismatched sizes). On failure s may be partly overwritten: discard it. */
prism_status prism_checkpoint_load(const char *dir, prism_run_state *s);

/* The path of the checkpoint dir/latest names, into path. PRISM_ERR_NOT_FOUND when there is
 * none; PRISM_ERR_CORRUPT when `latest` does not name a checkpoint file. */
prism_status prism_checkpoint_latest(const char *dir, char *path, size_t cap);

/* Load a specific checkpoint file (as prism_checkpoint_load, without reading `latest`). */
prism_status prism_checkpoint_load_file(const char *path, prism_run_state *s);

#endif
