/* prism/metrics_csv.h — metrics.csv / episodes.csv: a header from a list of column names, one
 * row per call, flushed per row so a killed run loses at most the row being written.
 *
 * Values arrive as doubles. Integer columns print as integers (exact up to 2^53); float columns
 * with %.9g, which round-trips a float32 exactly and a double closely; NaN prints as an empty
 * field (a missing value to pandas and R), +-Inf as inf / -inf.
 *
 * Resume: the checkpoint stores prism_csv_offset() after the last row of the checkpointed
 * iteration; prism_csv_resume truncates the file to that offset and appends, so a resumed run
 * writes exactly the bytes an uninterrupted one would have.
 *
 *     static const char *cols[] = {"iteration", "steps", "return_mean"};
 *     static const unsigned char is_int[] = {1, 1, 0};
 *     prism_csv c;
 *     st = prism_csv_open(&c, "runs/x/metrics.csv", 3, cols, is_int);
 *     double row[3] = {1, 1000, 21.5};
 *     st = prism_csv_row(&c, row);
 *     prism_csv_close(&c);
 *
 * The reader, prism_table_read, is the one every consumer of these files uses (report, doctor,
 * `prism runs show`): the header names and a (rows, cols) array of doubles.
 *
 *     prism_table t;
 *     st = prism_table_read("runs/x/metrics.csv", 0, &t);
 *     int c = prism_table_col(&t, "return_mean");
 *     double last = c >= 0 && t.nrows ? prism_table_at(&t, t.nrows - 1, c) : NAN;
 *     prism_table_free(&t);
 */
#ifndef PRISM_METRICS_CSV_H
#define PRISM_METRICS_CSV_H

#include "prism/core.h"
#include "prism/file.h"

#include <stdbool.h>
#include <stdio.h>

enum { PRISM_CSV_MAX_COLS = 256 };

typedef struct prism_csv {
    FILE *f;
    int ncols;
    unsigned char is_int[PRISM_CSV_MAX_COLS]; /* 1: print as an integer */
    long long offset;                         /* bytes written so far (file size) */
    char path[PRISM_PATH_MAX];
} prism_csv;

/* Create (truncate) `path` and write the header line. `is_int` may be NULL (all floats).
 * Column names must not contain ',', '"' or newlines (PRISM_ERR_INVALID naming the column).
 * PRISM_ERR_IO naming the path when it cannot be created. */
prism_status prism_csv_open(prism_csv *c, const char *path, int ncols, const char *const *names,
                            const unsigned char *is_int);
/* Reopen for resume: check that the file's header line equals the one `names` would produce
 * (PRISM_ERR_CORRUPT naming the file otherwise), truncate it to `offset` bytes (which must lie
 * at or after the header and not beyond the end: PRISM_ERR_CORRUPT otherwise) and append. */
prism_status prism_csv_resume(prism_csv *c, const char *path, int ncols, const char *const *names,
                              const unsigned char *is_int, long long offset);
/* Append one row of ncols values and flush. PRISM_ERR_IO on a write failure (disk full). */
prism_status prism_csv_row(prism_csv *c, const double *values);
/* Bytes in the file after the last complete row (what a checkpoint stores). */
long long prism_csv_offset(const prism_csv *c);
/* Close (idempotent). */
void prism_csv_close(prism_csv *c);

/* ---- reader ---- */

/* Largest CSV the reader accepts: a 10M-step MinAtar run writes about 10 MB of metrics.csv and
 * of episodes.csv; 1 GiB leaves room for far longer runs and still stops a runaway file. */
#define PRISM_TABLE_MAX_BYTES ((size_t)1 << 30)

typedef struct prism_table {
    int ncols, nrows;
    char **names;     /* (ncols) header names, NUL-terminated (one allocation with the pointers) */
    double *v;        /* (nrows, ncols) the cells; NaN for an empty field or text that is not a
                         number ("nan", "inf" and "-inf" read as themselves) */
    int torn_line;    /* 1-based line number of a last line without a line end (a row being
                         written when the file was read, or a killed run): it is not in the
                         table. 0 when the file ends with a line end */
    int stopped_line; /* lenient mode: the line whose field count differed from the header's,
                         where the table ends; 0 when none */
} prism_table;

enum { PRISM_TABLE_LENIENT = 1 };

/* Read a CSV of numbers written by prism_csv (or by hand): one header line, then rows of
 * comma-separated fields, no quoting. A line ends at "\n", "\r\n" or a lone "\r", so files
 * that passed through other tools read the same. The last line without a line end is a torn row:
 * left out and reported in torn_line. A row with another field count than the header is
 * PRISM_ERR_CORRUPT (naming the file, the line and its byte offset) unless `flags` has
 * PRISM_TABLE_LENIENT, where the table ends before it (stopped_line). An empty file or one
 * without a complete header line is PRISM_ERR_CORRUPT; errors of prism_file_read_max (a file
 * over PRISM_TABLE_MAX_BYTES, not a regular file) pass through. On success `t` owns its
 * memory (prism_table_free); on failure it needs no free. */
prism_status prism_table_read(const char *path, int flags, prism_table *t);
/* The column named `name`, or -1. */
int prism_table_col(const prism_table *t, const char *name);
/* The cell (row, col); both must be in range (asserted). */
double prism_table_at(const prism_table *t, int row, int col);
void prism_table_free(prism_table *t);

#endif
