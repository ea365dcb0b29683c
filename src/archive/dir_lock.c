/* The one-writer lock of a run or sweep directory (see prism/dir_lock.h). Not the decision of
 * who must take it: the run archive takes it for every run writer, the sweep for its
 * directory, `prism runs rm` before deleting. */
#include "prism/dir_lock.h"

#include "prism/archive.h"
#include "prism/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Open-file-description locks (Linux): owned by the descriptor like flock(), so they vanish
 * with the process and never reach an exec'd child, and unlike flock() they can be tested
 * (F_OFD_GETLK) without being taken, so probing never makes a real writer fail. */
static int lock_op(int fd, int cmd, short type) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET; /* l_start 0, l_len 0: the whole file */
    int r = fcntl(fd, cmd, &fl);
    if (r == 0 && cmd == F_OFD_GETLK) return fl.l_type == F_UNLCK ? 0 : 1;
    return r;
}

/* The holder's "pid <n> on <host>" from the lock file, or a neutral phrase when it has not
 * written it yet (it writes right after taking the lock). */
static void read_holder(int fd, char *who, size_t cap) {
    char buf[320];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    long pid = 0;
    char host[257] = "";
    if (n > 0) {
        buf[n] = 0;
        if (sscanf(buf, "%ld %256s", &pid, host) < 1) pid = 0;
    }
    if (pid > 0)
        snprintf(who, cap, "pid %ld on %s", pid, host[0] ? host : "an unknown host");
    else
        snprintf(who, cap, "another process");
}

static prism_status open_lock(const char *dir, char *path, size_t cap, int *fd) {
    prism_status st = prism_path_join(path, cap, dir, ".lock");
    if (st) return st;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (*fd < 0)
        return prism_error(errno == ENOENT ? PRISM_ERR_NOT_FOUND : PRISM_ERR_IO,
                           "cannot open the lock file %s: %s; check that the directory exists and "
                           "is writable",
                           path, strerror(errno));
    return PRISM_OK;
}

prism_status prism_dir_lock_acquire(prism_dir_lock *l, const char *dir) {
    l->held = false;
    char path[PRISM_PATH_MAX];
    int fd;
    prism_status st = open_lock(dir, path, sizeof path, &fd);
    if (st) return st;
    while (lock_op(fd, F_OFD_SETLK, F_WRLCK) != 0) {
        if (errno == EINTR) continue;
        int e = errno;
        char who[320];
        read_holder(fd, who, sizeof who);
        close(fd);
        if (e != EAGAIN && e != EACCES)
            return prism_error(PRISM_ERR_IO, "cannot lock %s: %s", path, strerror(e));
        return prism_error(PRISM_ERR_INVALID,
                           "%s is in use: %s is writing it (lock %s); wait for that process to "
                           "finish, or stop it (kill its pid) and try again",
                           dir, who, path);
    }
    /* record the holder for the message of a refused writer (best effort: the lock itself is
     * what excludes, not this text) */
    char host[256], text[300];
    prism_host_name(host, sizeof host);
    int n = snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), host);
    if (n > 0 && ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)n, 0) < 0) {
        /* the holder stays unnamed; the lock still holds */
    }
    l->fd = fd;
    l->held = true;
    return PRISM_OK;
}

void prism_dir_lock_release(prism_dir_lock *l) {
    if (l->held) close(l->fd); /* closing the last descriptor drops the lock */
    l->held = false;
}

bool prism_dir_lock_held(const char *dir, char *who, size_t cap) {
    char path[PRISM_PATH_MAX];
    if (prism_path_join(path, sizeof path, dir, ".lock")) return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool held = lock_op(fd, F_OFD_GETLK, F_WRLCK) == 1;
    if (held && who && cap) read_holder(fd, who, cap);
    close(fd);
    return held;
}
