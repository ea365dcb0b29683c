/* src/run/trainer_internal.h — what the DQN trainer (trainer.c) shares with the PQN trainer
 * (pqn_trainer.c): the episodes.csv columns and config.ini writing. Not a public header. */
#ifndef PRISM_TRAINER_INTERNAL_H
#define PRISM_TRAINER_INTERNAL_H

#include "prism/archive.h"
#include "prism/config.h"

enum { EPISODE_COLUMNS = 6 };
extern const char *const run_episode_columns[EPISODE_COLUMNS];
extern const unsigned char run_episode_is_int[EPISODE_COLUMNS];

/* Write the run's config.ini (fully resolved, with help comments) atomically and check that it
 * reads back as the same configuration. */
prism_status run_write_config_ini(prism_archive *a, const prism_config *cfg);

#endif
