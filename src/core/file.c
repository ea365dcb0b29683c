/* Atomic file writing (temporary file, fsync, rename, fsync of the directory) and small
 * file-system helpers. Not a general I/O layer: just what the run archive and the checkpoint
 * writer need to never leave a half-written file where a complete one is expected. */
#include "prism/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

prism_status prism_path_join(char *out, size_t cap, const char *a, const char *b) {
    int n = snprintf(out, cap, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= cap)
        return prism_error(PRISM_ERR_INVALID, "path '%s/%s' is too long (at most %zu bytes)", a, b,
                           cap - 1);
    return PRISM_OK;
}

/* The directory part of `path` ("." when it has none). */
static void dir_of(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

prism_status prism_atomic_open(prism_atomic_file *af, const char *path) {
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    if (n == 0 || n + 32 >= sizeof af->path)
        return prism_error(PRISM_ERR_INVALID, "cannot write '%s': the path is empty or too long",
                           path);
    memcpy(af->path, path, n + 1);
    char dir[PRISM_PATH_MAX];
    dir_of(path, dir, sizeof dir);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    /* The temporary name starts with '.' so directory listings (and reindex) ignore it, and
     * carries the pid so parallel writers of the same file never share a temporary. */
    int tn = snprintf(af->tmp, sizeof af->tmp, "%s/.%s.tmp-%ld-XXXXXX", dir, base, (long)getpid());
    if (tn < 0 || (size_t)tn >= sizeof af->tmp) {
        af->tmp[0] = 0;
        return prism_error(PRISM_ERR_INVALID, "cannot write '%s': the path is too long", path);
    }
    int fd = mkstemp(af->tmp);
    if (fd < 0) {
        int e = errno;
        af->tmp[0] = 0;
        return prism_error(PRISM_ERR_IO, "cannot create a temporary file in '%s' to write '%s': %s",
                           dir, path, strerror(e));
    }
    /* mkstemp makes the file 0600; the archive is meant to be read by others like any file. */
    mode_t um = umask(0);
    umask(um);
    (void)fchmod(fd, 0666 & ~um);
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        int e = errno;
        close(fd);
        unlink(af->tmp);
        af->tmp[0] = 0;
        return prism_error(PRISM_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return PRISM_OK;
}

prism_status prism_atomic_write(prism_atomic_file *af, const void *data, size_t len) {
    PRISM_ASSERT(af->f);
    if (len && fwrite(data, 1, len, af->f) != len)
        return prism_error(PRISM_ERR_IO, "cannot write '%s': %s", af->path, strerror(errno));
    return PRISM_OK;
}

void prism_atomic_abort(prism_atomic_file *af) {
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) unlink(af->tmp);
    af->tmp[0] = 0;
}

prism_status prism_atomic_commit(prism_atomic_file *af) {
    PRISM_ASSERT(af->f);
    /* Buffered data can fail to reach the disk at fflush (ENOSPC), at fsync (EIO, or ENOSPC on
     * some file systems) or even at close (NFS): each is checked. */
    int e = 0;
    if (fflush(af->f) != 0) e = errno;
    if (!e && fsync(fileno(af->f)) != 0) e = errno;
    if (fclose(af->f) != 0 && !e) e = errno;
    af->f = NULL;
    if (!e && rename(af->tmp, af->path) != 0) e = errno;
    if (e) {
        unlink(af->tmp);
        af->tmp[0] = 0;
        return prism_error(PRISM_ERR_IO, "cannot write '%s': %s", af->path, strerror(e));
    }
    af->tmp[0] = 0;
    /* The rename lives in the directory: fsync it so the new name survives a power cut. */
    char dir[PRISM_PATH_MAX];
    dir_of(af->path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        int r = fsync(dfd);
        e = errno;
        close(dfd);
        /* Some file systems refuse fsync on a directory (EINVAL); the data is already safe. */
        if (r != 0 && e != EINVAL && e != EROFS)
            return prism_error(PRISM_ERR_IO, "cannot sync directory '%s' after writing '%s': %s",
                               dir, af->path, strerror(e));
    }
    return PRISM_OK;
}

prism_status prism_file_sync(FILE *f, const char *path) {
    if (f && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        return prism_error(PRISM_ERR_IO, "cannot write '%s' to disk: %s; check free space", path,
                           strerror(errno));
    return PRISM_OK;
}

/* True for a name prism_atomic_open makes: ".<base>.tmp-<digits>-<6 characters>". */
static int is_temporary_name(const char *name) {
    if (name[0] != '.') return 0;
    const char *t = strstr(name + 1, ".tmp-");
    if (!t || t == name + 1) return 0;
    const char *p = t + 5;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') p++;
    return *p == '-' && strlen(p + 1) == 6;
}

int prism_atomic_remove_orphans(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    char path[PRISM_PATH_MAX];
    for (struct dirent *e; (e = readdir(d));)
        if (is_temporary_name(e->d_name) && !prism_path_join(path, sizeof path, dir, e->d_name) &&
            unlink(path) == 0)
            removed++;
    closedir(d);
    return removed;
}

prism_status prism_file_write_atomic(const char *path, const void *data, size_t len) {
    prism_atomic_file af;
    prism_status st = prism_atomic_open(&af, path);
    if (st) return st;
    st = prism_atomic_write(&af, data, len);
    if (st) {
        prism_atomic_abort(&af);
        return st;
    }
    return prism_atomic_commit(&af);
}

prism_status prism_mkdir_p(const char *path) {
    char buf[PRISM_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return prism_error(PRISM_ERR_INVALID, "cannot create directory '%s': empty or too long",
                           path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            return prism_error(PRISM_ERR_IO, "cannot create directory '%s': %s", buf, strerror(e));
        }
        buf[i] = c;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return prism_error(PRISM_ERR_IO, "'%s' exists but is not a directory", path);
    return PRISM_OK;
}

/* Every reader of the run archive comes through here, and an archive is user-editable: a FIFO
 * or a link to /dev/zero put where run.json should be must neither block a command nor eat the
 * memory. So the file is opened O_NONBLOCK (a FIFO without a writer would otherwise block in
 * open), refused unless fstat says it is a regular file, and read only up to `max` bytes. */
prism_status prism_file_read_max(const char *path, size_t max, char **out, size_t *len) {
    *out = NULL;
    if (len) *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return prism_error(e == ENOENT ? PRISM_ERR_NOT_FOUND : PRISM_ERR_IO, "cannot read '%s': %s",
                           path, strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return prism_error(PRISM_ERR_IO,
                           "cannot read '%s': not a regular file (a FIFO, device or directory); "
                           "replace it with the file it should be or remove it",
                           path);
    }
    if ((unsigned long long)sb.st_size > (unsigned long long)max) {
        close(fd);
        return prism_error(PRISM_ERR_IO,
                           "cannot read '%s': %lld bytes, more than the %zu this file may have; "
                           "is it the right file?",
                           path, (long long)sb.st_size, max);
    }
    /* the size from fstat sizes the buffer; a file that grows meanwhile (a run still writing) is
     * read on, up to `max` */
    size_t cap = (size_t)sb.st_size + 1 < 4096 ? 4096 : (size_t)sb.st_size + 1, n = 0;
    char *buf = prism_alloc(cap);
    if (!buf) {
        close(fd);
        return prism_error(PRISM_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (n >= max) {
                prism_free(buf);
                close(fd);
                return prism_error(PRISM_ERR_IO,
                                   "cannot read '%s': it grew past the %zu bytes this file may "
                                   "have; is it the right file?",
                                   path, max);
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = prism_alloc(ncap);
            if (!nb) {
                prism_free(buf);
                close(fd);
                return prism_error(PRISM_ERR_NOMEM, "out of memory reading '%s'", path);
            }
            memcpy(nb, buf, n);
            prism_free(buf);
            buf = nb;
            cap = ncap;
        }
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int e = errno;
            prism_free(buf);
            close(fd);
            return prism_error(PRISM_ERR_IO, "cannot read '%s': %s", path, strerror(e));
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return PRISM_OK;
}

prism_status prism_file_read(const char *path, char **out, size_t *len) {
    return prism_file_read_max(path, (size_t)-2, out, len);
}
