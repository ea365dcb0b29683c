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
 */
#ifndef PRISM_METRICS_CSV_H
#define PRISM_METRICS_CSV_H

#include "prism/core.h"
#include "prism/file.h"

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

#endif
