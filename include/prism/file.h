/* prism/file.h — files that are either completely written or not there at all, and small
 * file-system helpers the run archive and the checkpoint writer share.
 *
 * An atomic write goes to a temporary file in the same directory (so the rename cannot cross
 * file systems), is flushed and fsync'd, renamed over the destination, and then the directory
 * is fsync'd so the rename itself survives a power cut. A reader therefore sees the old file
 * or the new one, never half of one. Any failure (ENOSPC, EACCES, EIO, ...) removes the
 * temporary file and returns PRISM_ERR_IO with a message naming the path and the reason.
 *
 *     // whole buffer
 *     st = prism_file_write_atomic("runs/x/run.json", text, len);
 *     // streaming (a checkpoint of many parts)
 *     prism_atomic_file af;
 *     st = prism_atomic_open(&af, "runs/x/checkpoints/ckpt-100.bin");
 *     if (!st) st = prism_atomic_write(&af, header, sizeof header);
 *     if (!st) st = prism_atomic_write(&af, weights, nbytes);
 *     st = st ? (prism_atomic_abort(&af), st) : prism_atomic_commit(&af);
 */
#ifndef PRISM_FILE_H
#define PRISM_FILE_H

#include "prism/core.h"

#include <stdio.h>

#define PRISM_PATH_MAX 1024

typedef struct prism_atomic_file {
    FILE *f;                   /* the temporary file; NULL once committed or aborted */
    char path[PRISM_PATH_MAX]; /* destination */
    char tmp[PRISM_PATH_MAX];  /* <dir>/.<name>.tmp-<pid>-XXXXXX */
} prism_atomic_file;

/* Create the temporary file beside `path`. PRISM_ERR_IO (naming the directory) when it cannot
 * be created, PRISM_ERR_INVALID when the path is too long. */
prism_status prism_atomic_open(prism_atomic_file *af, const char *path);
/* Append bytes. On failure the caller still calls prism_atomic_abort. */
prism_status prism_atomic_write(prism_atomic_file *af, const void *data, size_t len);
/* fflush + fsync + close + rename + fsync(dir). On any failure the temporary file is removed
 * and the destination is left as it was. Either way `af` is finished afterwards. */
prism_status prism_atomic_commit(prism_atomic_file *af);
/* Close and remove the temporary file (no-op when already finished). */
void prism_atomic_abort(prism_atomic_file *af);

/* Remove the temporary files ('.<name>.tmp-<pid>-XXXXXX') that writers killed in the middle of
 * an atomic write left in `dir` (not its subdirectories); returns how many were removed (a
 * missing directory: 0). Only safe while no other process writes into `dir` (hold its lock,
 * prism/dir_lock.h): a live writer's temporary looks the same. */
int prism_atomic_remove_orphans(const char *dir);

/* The whole-buffer form of the above. */
prism_status prism_file_write_atomic(const char *path, const void *data, size_t len);

/* Make what was written to an open stream durable: fflush + fsync. A NULL stream is fine (no-op).
 * PRISM_ERR_IO naming `path` on failure. */
prism_status prism_file_sync(FILE *f, const char *path);

/* mkdir -p with mode 0777 (minus umask). PRISM_ERR_IO naming the component that failed. */
prism_status prism_mkdir_p(const char *path);
/* Read a whole regular file into a prism_alloc'd, NUL-terminated buffer (*out, *len; free with
 * prism_free). Only regular files are read: a FIFO, device or directory is refused without
 * blocking (PRISM_ERR_IO). PRISM_ERR_NOT_FOUND when missing, PRISM_ERR_IO otherwise, naming the
 * path. */
prism_status prism_file_read(const char *path, char **out, size_t *len);
/* The same, refusing (PRISM_ERR_IO, naming the path, its size and the limit) a file of more
 * than `max` bytes: what the archive's readers use, each with a limit suited to its file. */
prism_status prism_file_read_max(const char *path, size_t max, char **out, size_t *len);
/* Join "a/b" into out; PRISM_ERR_INVALID if it does not fit in `cap`. */
prism_status prism_path_join(char *out, size_t cap, const char *a, const char *b);

#endif
