/* src/run/trainer_internal.h — what the DQN trainer (trainer.c) shares with the PQN trainer
 * (pqn_trainer.c): the episodes.csv columns (config.ini is written by prism_run_config_write,
 * run_state.h). Not a public header. */
#ifndef PRISM_TRAINER_INTERNAL_H
#define PRISM_TRAINER_INTERNAL_H

#include "prism/archive.h"
#include "prism/config.h"

enum { EPISODE_COLUMNS = 6 };
extern const char *const run_episode_columns[EPISODE_COLUMNS];
extern const unsigned char run_episode_is_int[EPISODE_COLUMNS];

#endif
