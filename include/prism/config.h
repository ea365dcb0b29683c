/* prism/config.h — the fully resolved configuration of a training run.
 *
 * One table (src/run/config.c) describes every key: its type, range, default and meaning.
 * Parsing, validation, printing config.ini and `prism agents show` all read that table, so a
 * key cannot exist in one place and be forgotten in another. Resolution order, later wins:
 *   built-in defaults -> preset for (agent, env) -> --config FILE -> --set key=value.
 *
 *     prism_config c;
 *     prism_config_defaults(&c);
 *     prism_status st = prism_config_set(&c, "agent.lr", "1e-3");      // validated
 *     prism_config_write_ini(&c, stdout);
 */
#ifndef PRISM_CONFIG_H
#define PRISM_CONFIG_H

#include "prism/agent.h"
#include "prism/core.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { PRISM_MAX_ENV_OPTIONS = 8 };

typedef struct prism_train_config {
    long long steps;           /* total environment steps (rounded up to whole iterations) */
    long long iteration_steps; /* an iteration runs whole episodes until this many steps */
    int eval_episodes;         /* evaluation episodes after each iteration (0 = none) */
    int checkpoint_every;      /* iterations between checkpoints (0 = by time only) */
    double checkpoint_seconds; /* also checkpoint at the first iteration end after this long */
    int checkpoint_keep;       /* checkpoints kept */
    int max_episode_steps;     /* cap for environments without a time limit (0 = none) */
    int threads;               /* threads of the network kernels (prism_nn_set_threads) */
} prism_train_config;

typedef struct prism_config {
    char env[64];
    char agent[64]; /* the preset it was resolved from */
    uint64_t seed;
    int env_max_episode_steps; /* < 0: the environment's default */
    /* further env.<option>=value pairs passed to the environment's configure hook */
    char env_keys[PRISM_MAX_ENV_OPTIONS][48];
    char env_values[PRISM_MAX_ENV_OPTIONS][48];
    int n_env_options;
    prism_agent_config agent_cfg;
    prism_train_config train;
} prism_config;

/* Built-in defaults (a plain DQN on an MLP; presets override them). */
void prism_config_defaults(prism_config *c);

/* Set one key from text, validating type and range. Unknown key: PRISM_ERR_INVALID with the
 * closest valid key in the message. "env.<name>" keys other than env.max_episode_steps are
 * stored and handed to the environment (which validates them). */
prism_status prism_config_set(prism_config *c, const char *key, const char *value);

/* Apply "key=value" assignments separated by whitespace or newlines (preset data). */
prism_status prism_config_apply(prism_config *c, const char *assignments);

/* Read an INI file: `[agent]` then `lr = 1e-3` means agent.lr; `#` and `;` start comments.
 * A value in double quotes is taken verbatim (`\"` and `\\` escape a quote and a backslash),
 * comment characters and surrounding spaces included. Lines longer than 1,022 characters are
 * refused, not split. Errors name the file and line. */
prism_status prism_config_load_ini(prism_config *c, const char *path);

/* Write every key with its value as INI, grouped by section, with a comment per key. Free text
 * that would not read back as itself (comment characters, quotes, surrounding spaces) is
 * quoted, so write -> load -> write gives the same text (control characters never get in:
 * prism_config_set refuses them). */
void prism_config_write_ini(const prism_config *c, FILE *f, bool with_help);

/* The run's identity: 64-bit FNV-1a of the INI text (no comments) of the keys that can change
 * what the run computes, i.e. everything but the seed, the preset name and the checkpoint
 * cadence (the `identity` flag of each key in src/run/config.c; see prism_config_key_counts
 * for the one key that counts only where it matters). Runs with equal hashes are
 * seeds of one experiment. The hex form is 16 lower-case digits and a NUL. */
enum { PRISM_CONFIG_HASH_HEX = 17 };
uint64_t prism_config_hash(const prism_config *c);
void prism_config_hash_hex(const prism_config *c, char out[PRISM_CONFIG_HASH_HEX]);
/* Whether key i (as prism_config_key_name) is part of the identity. */
bool prism_config_key_in_identity(int i);
/* Whether key i enters c's hash: an identity key whose value can change what c computes. All
 * identity keys always do, except agent.noisy_resample, which counts only with agent.noisy on
 * and a mode other than `action` (so runs recorded before the key existed, all per-action,
 * keep their config_hash, and a noise mode set for a network without noise splits nothing). */
bool prism_config_key_counts(const prism_config *c, int i);

/* Consistency checks across keys (e.g. obs bounds length, min_replay <= capacity). */
prism_status prism_config_validate(const prism_config *c, int obs_size);

/* The value of one key as text (for listings); false if the key is unknown. */
bool prism_config_get(const prism_config *c, const char *key, char *buf, size_t cap);

/* Iterate over the key table: name and help of key i, NULL past the end. */
const char *prism_config_key_name(int i);
const char *prism_config_key_help(int i);

#endif
