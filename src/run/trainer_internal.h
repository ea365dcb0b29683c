/* src/run/trainer_internal.h — what the DQN trainer (trainer.c) shares with the PQN trainer
 * (pqn_trainer.c): the episodes.csv columns (config.ini is written by prism_run_config_write,
 * run_state.h) and the resume sequence (run_resume.c). Not a public header. */
#ifndef PRISM_TRAINER_INTERNAL_H
#define PRISM_TRAINER_INTERNAL_H

#include "prism/archive.h"
#include "prism/config.h"
#include "prism/trainer.h"

#include <stdbool.h>

enum { EPISODE_COLUMNS = 6 };
extern const char *const run_episode_columns[EPISODE_COLUMNS];
extern const unsigned char run_episode_is_int[EPISODE_COLUMNS];

/* Load the latest checkpoint of ckpt_dir into the trainer's state ctx. */
typedef prism_status (*run_checkpoint_loader)(const char *ckpt_dir, void *ctx);

/* What the caller's finish must do with the archive after run_resume_open: locked, opened and
 * locked but not (yet) marked resumed: only close it; open, marked resumed: the run is ours to
 * finish (takes precedence); completed: the run had already completed, nothing to do. */
typedef struct run_resume_flags {
    bool locked, open, completed;
} run_resume_flags;

/* Reopen the run in dir for a resume: lock it, stop early if it completed, remove the
 * temporaries of writers killed mid-write, load its checkpoint (dir/checkpoints) through
 * `load`, and mark it resumed with opt's argv (no_index from opt too). The archive's and
 * loader's errors, with flags saying how far it got. */
prism_status run_resume_open(prism_archive *a, const char *dir, const prism_train_options *opt,
                             run_checkpoint_loader load, void *ctx, run_resume_flags *flags);

/* Record the run's precision in run.json and, for bf16, say once on the console whether the
 * products run on AVX512_BF16 or are emulated (precision_note.c). */
void run_note_precision(prism_archive *a, const prism_config *cfg);

#endif
