/* prism/dir_lock.h — one writer per directory: the exclusive lock every writer of a run
 * directory (and every process driving a sweep directory) holds for as long as it writes.
 *
 * The lock is an open-file-description lock (fcntl F_OFD_SETLK) on DIR/.lock, which also records
 * "pid host" of the holder so a refused writer can name it. A kernel lock vanishes with its
 * process, so a writer killed with SIGKILL never leaves a stale lock behind: the next writer simply
 * gets it. The descriptor is close-on-exec, so a child process (a sweep's worker) never inherits
 * its parent's lock.
 *
 *     prism_dir_lock l;
 *     st = prism_dir_lock_acquire(&l, "runs/x");   // PRISM_ERR_INVALID naming the holder
 *     ... write runs/x/ ...
 *     prism_dir_lock_release(&l);
 */
#ifndef PRISM_DIR_LOCK_H
#define PRISM_DIR_LOCK_H

#include "prism/core.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct prism_dir_lock {
    bool held; /* false in a zeroed struct, so releasing one never closes descriptor 0 */
    int fd;
} prism_dir_lock;

/* Take the lock of `dir` without waiting. PRISM_ERR_INVALID when another process holds it (the
 * message names the directory, the holder's pid and host, and what to do); PRISM_ERR_IO when
 * DIR/.lock cannot be created (the message names it). On failure the lock is not held. */
prism_status prism_dir_lock_acquire(prism_dir_lock *l, const char *dir);
/* Release (no-op when not held). Idempotent. */
void prism_dir_lock_release(prism_dir_lock *l);
/* True when another process holds the lock of `dir`; its "pid <n> on <host>" goes to who[cap]
 * (may be NULL). False when the lock is free or there is no lock file. Takes nothing. */
bool prism_dir_lock_held(const char *dir, char *who, size_t cap);

#endif
