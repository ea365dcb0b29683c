/* metrics.csv / episodes.csv writer: header, one flushed row per call, and resume by truncating
 * to a byte offset recorded in a checkpoint. Not a CSV reader and not a general CSV quoter:
 * prism's column names are identifiers and its values numbers, so nothing needs quoting. */
#include "prism/metrics_csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static prism_status check_names(const char *path, int ncols, const char *const *names) {
    if (ncols < 1 || ncols > PRISM_CSV_MAX_COLS)
        return prism_error(PRISM_ERR_INVALID, "%s: %d columns (must be 1 to %d)", path, ncols,
                           PRISM_CSV_MAX_COLS);
    for (int i = 0; i < ncols; i++)
        if (!names[i][0] || strpbrk(names[i], ",\"\n\r"))
            return prism_error(PRISM_ERR_INVALID,
                               "%s: column %d name '%s' is empty or contains ',', '\"' or a "
                               "newline; use a plain identifier",
                               path, i, names[i]);
    return PRISM_OK;
}

/* The header line, newline included; returns its length or -1 when it does not fit. */
static long header_line(int ncols, const char *const *names, char *out, size_t cap) {
    size_t n = 0;
    for (int i = 0; i < ncols; i++) {
        size_t l = strlen(names[i]);
        if (n + l + 2 >= cap) return -1;
        memcpy(out + n, names[i], l);
        n += l;
        out[n++] = i + 1 < ncols ? ',' : '\n';
    }
    out[n] = 0;
    return (long)n;
}

static void setup(prism_csv *c, const char *path, int ncols, const unsigned char *is_int) {
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    c->ncols = ncols;
    for (int i = 0; i < ncols; i++) c->is_int[i] = is_int ? is_int[i] : 0;
}

prism_status prism_csv_open(prism_csv *c, const char *path, int ncols, const char *const *names,
                            const unsigned char *is_int) {
    prism_status st = check_names(path, ncols, names);
    if (st) return st;
    setup(c, path, ncols, is_int);
    char header[16384];
    long hl = header_line(ncols, names, header, sizeof header);
    if (hl < 0) return prism_error(PRISM_ERR_INVALID, "%s: header longer than 16 KiB", path);
    c->f = fopen(path, "wb");
    if (!c->f) return prism_error(PRISM_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    if (fwrite(header, 1, (size_t)hl, c->f) != (size_t)hl || fflush(c->f) != 0) {
        int e = errno;
        fclose(c->f);
        c->f = NULL;
        return prism_error(PRISM_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    c->offset = hl;
    return PRISM_OK;
}

prism_status prism_csv_resume(prism_csv *c, const char *path, int ncols, const char *const *names,
                              const unsigned char *is_int, long long offset) {
    prism_status st = check_names(path, ncols, names);
    if (st) return st;
    setup(c, path, ncols, is_int);
    char want[16384], got[16384];
    long hl = header_line(ncols, names, want, sizeof want);
    if (hl < 0) return prism_error(PRISM_ERR_INVALID, "%s: header longer than 16 KiB", path);
    FILE *f = fopen(path, "r+b");
    if (!f) {
        int e = errno;
        return prism_error(e == ENOENT ? PRISM_ERR_NOT_FOUND : PRISM_ERR_IO,
                           "cannot reopen '%s' to resume: %s", path, strerror(e));
    }
    size_t n = fread(got, 1, (size_t)hl, f);
    struct stat sb;
    if (n != (size_t)hl || memcmp(got, want, (size_t)hl) != 0) {
        fclose(f);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: its header does not match the columns of this build; it was "
                           "written by a different version (start a new run instead of resuming)",
                           path);
    }
    if (fstat(fileno(f), &sb) != 0 || offset < hl || offset > (long long)sb.st_size) {
        fclose(f);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: resume offset %lld is outside the file (header %ld bytes, file "
                           "%lld bytes); the checkpoint and the file disagree",
                           path, offset, hl, (long long)sb.st_size);
    }
    /* Drop the rows written after the checkpoint: the resumed run writes them again. */
    if (ftruncate(fileno(f), (off_t)offset) != 0 || fseeko(f, (off_t)offset, SEEK_SET) != 0) {
        int e = errno;
        fclose(f);
        return prism_error(PRISM_ERR_IO, "cannot truncate '%s' to resume: %s", path, strerror(e));
    }
    c->f = f;
    c->offset = offset;
    return PRISM_OK;
}

prism_status prism_csv_row(prism_csv *c, const double *values) {
    PRISM_ASSERT(c->f);
    char line[PRISM_CSV_MAX_COLS * 32];
    size_t n = 0;
    for (int i = 0; i < c->ncols; i++) {
        double v = values[i];
        int w = 0;
        if (isnan(v))
            w = 0; /* empty field: a missing value */
        else if (isinf(v))
            w = snprintf(line + n, sizeof line - n, "%s", v > 0 ? "inf" : "-inf");
        else if (c->is_int[i] && fabs(v) < 9.2e18) /* beyond long long: print as a float */
            w = snprintf(line + n, sizeof line - n, "%lld", (long long)v);
        else
            /* %.9g: enough digits to round-trip a float32, the precision of most metrics. */
            w = snprintf(line + n, sizeof line - n, "%.9g", v);
        n += (size_t)w;
        line[n++] = i + 1 < c->ncols ? ',' : '\n';
    }
    if (fwrite(line, 1, n, c->f) != n || fflush(c->f) != 0)
        return prism_error(PRISM_ERR_IO, "cannot write '%s': %s", c->path, strerror(errno));
    c->offset += (long long)n;
    return PRISM_OK;
}

long long prism_csv_offset(const prism_csv *c) {
    return c->offset;
}

void prism_csv_close(prism_csv *c) {
    if (c->f) fclose(c->f);
    c->f = NULL;
}
