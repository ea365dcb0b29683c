/* The resume sequence that the DQN trainer (trainer.c) and the PQN trainer (pqn_trainer.c)
 * share around their own checkpoint loaders (trainer_internal.h). Not here: reading a
 * checkpoint (checkpoint.c, pqn_checkpoint.c) or reopening the data files, whose offsets each
 * trainer keeps in its own state. */
#include "prism/file.h"

#include "trainer_internal.h"

prism_status run_resume_open(prism_archive *a, const char *dir, const prism_train_options *opt,
                             run_checkpoint_loader load, void *ctx, run_resume_flags *flags) {
    flags->locked = flags->open = flags->completed = false;
    /* the lock before anything is read for the resume: a checkpoint read while another process
     * writes the run may be replaced under it, and two writers tear the CSV files */
    prism_status st = prism_archive_open_locked(a, dir);
    if (st) return st;
    flags->locked = true;
    if (a->status == PRISM_RUN_COMPLETED) {
        flags->completed = true;
        return PRISM_OK;
    }
    char ckpt[PRISM_PATH_MAX];
    if ((st = prism_path_join(ckpt, sizeof ckpt, dir, "checkpoints"))) return st;
    /* temporaries of writers killed mid-write (ours alone now that the lock is held) */
    prism_atomic_remove_orphans(dir);
    prism_atomic_remove_orphans(ckpt);
    if ((st = load(ckpt, ctx))) return st;
    if ((st = prism_archive_mark_resumed(a, opt->argc, opt->argv))) {
        flags->locked = false; /* mark_resumed closed it */
        return st;
    }
    a->no_index = a->no_index || opt->no_index;
    flags->open = true;
    return PRISM_OK;
}
