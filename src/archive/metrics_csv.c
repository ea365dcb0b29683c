/* metrics.csv / episodes.csv: the writer (header, one flushed row per call, resume by truncating
 * to a byte offset recorded in a checkpoint) and the one reader every consumer of these files
 * uses. Not a general CSV library: prism's column names are identifiers and its values numbers,
 * so nothing is quoted and nothing is unquoted. */
#include "prism/metrics_csv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
    /* without blocking, and only a regular file: a FIFO put in its place would otherwise hang
     * the resume on the header read (found by fuzz/faults.sh) */
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) {
        int e = errno;
        return prism_error(e == ENOENT ? PRISM_ERR_NOT_FOUND : PRISM_ERR_IO,
                           "cannot reopen '%s' to resume: %s", path, strerror(e));
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s is not a regular file; the run directory is damaged (restore the "
                           "file, or start a new run)",
                           path);
    }
    int flags = fcntl(fd, F_GETFL);
    FILE *f = flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ? NULL : fdopen(fd, "r+b");
    if (!f) {
        int e = errno;
        close(fd);
        return prism_error(PRISM_ERR_IO, "cannot reopen '%s' to resume: %s", path, strerror(e));
    }
    size_t n = fread(got, 1, (size_t)hl, f);
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

/* ---- reader ---- */

/* The end of the line starting at p (the first '\r' or '\n', or `end`). */
static const char *line_end(const char *p, const char *end) {
    while (p < end && *p != '\n' && *p != '\r') p++;
    return p;
}

/* Past the line end at p: "\r\n", "\n" or a lone "\r". */
static const char *next_line(const char *p, const char *end) {
    if (p < end && *p == '\r') {
        p++;
        if (p < end && *p == '\n') p++;
        return p;
    }
    if (p < end && *p == '\n') p++;
    return p;
}

static int count_fields(const char *p, const char *e) {
    int n = 1;
    for (; p < e; p++) n += *p == ',';
    return n;
}

/* A cell: empty (or blank) is NaN; a number (strtod's syntax, surrounding blanks allowed) is
 * itself; any other text is NaN, a missing value, not an error. */
static double parse_cell(const char *p, const char *e) {
    char buf[64];
    while (p < e && isspace((unsigned char)*p)) p++;
    while (e > p && isspace((unsigned char)e[-1])) e--;
    if (p == e || (size_t)(e - p) >= sizeof buf) return NAN;
    memcpy(buf, p, (size_t)(e - p));
    buf[e - p] = 0;
    char *stop;
    double v = strtod(buf, &stop);
    return *stop ? (double)NAN : v;
}

prism_status prism_table_read(const char *path, int flags, prism_table *t) {
    memset(t, 0, sizeof *t);
    char *text;
    size_t len;
    prism_status st = prism_file_read_max(path, PRISM_TABLE_MAX_BYTES, &text, &len);
    if (st) return st;
    const char *end = text + len, *p = text, *e = line_end(p, end);
    if (e == end) {
        prism_free(text);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: %s; it needs a header line of column names ended by a line end",
                           path, len ? "no complete header line" : "empty file");
    }
    int nc = count_fields(p, e);
    /* rows: at most one per line end, whichever of the three spellings is used */
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n' || (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n'));
    t->names = prism_alloc((size_t)nc * sizeof(char *) + (size_t)(e - p) + 1);
    t->v = prism_alloc((lines ? lines : 1) * (size_t)nc * sizeof(double));
    if (!t->names || !t->v) {
        prism_free(text);
        prism_table_free(t);
        return prism_error(PRISM_ERR_NOMEM, "out of memory reading %s", path);
    }
    char *nb = (char *)(t->names + nc);
    memcpy(nb, p, (size_t)(e - p));
    nb[e - p] = 0;
    for (int c = 0; c < nc; c++) {
        t->names[c] = nb;
        char *comma = strchr(nb, ',');
        if (comma) *comma = 0, nb = comma + 1;
    }
    t->ncols = nc;
    int lineno = 1;
    for (p = next_line(e, end); p < end; p = next_line(e, end)) {
        lineno++;
        e = line_end(p, end);
        if (e == end) { /* no line end: a torn row */
            t->torn_line = lineno;
            break;
        }
        if (e == p) continue; /* a blank line */
        int n = count_fields(p, e);
        if (n != nc) {
            if (flags & PRISM_TABLE_LENIENT) {
                t->stopped_line = lineno;
                break;
            }
            prism_error(PRISM_ERR_CORRUPT,
                        "%s line %d: %d fields, the header has %d (the line starts at byte "
                        "%ld); fix or remove that line",
                        path, lineno, n, nc, (long)(p - text));
            prism_free(text);
            prism_table_free(t);
            return PRISM_ERR_CORRUPT;
        }
        PRISM_ASSERT((size_t)t->nrows < lines);
        double *row = t->v + (size_t)t->nrows * (size_t)nc;
        for (int c = 0; c < nc; c++) {
            const char *f = p;
            while (p < e && *p != ',') p++;
            row[c] = parse_cell(f, p);
            p++;
        }
        t->nrows++;
    }
    prism_free(text);
    return PRISM_OK;
}

int prism_table_col(const prism_table *t, const char *name) {
    for (int c = 0; c < t->ncols; c++)
        if (!strcmp(t->names[c], name)) return c;
    return -1;
}

double prism_table_at(const prism_table *t, int row, int col) {
    PRISM_ASSERT(row >= 0 && row < t->nrows && col >= 0 && col < t->ncols);
    return t->v[(size_t)row * (size_t)t->ncols + (size_t)col];
}

void prism_table_free(prism_table *t) {
    prism_free(t->names);
    prism_free(t->v);
    memset(t, 0, sizeof *t);
}
