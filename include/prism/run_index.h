/* prism/run_index.h — runs/index.sqlite: one row per run with its key facts and final metrics,
 * so `prism runs ls` does not have to open every run directory.
 *
 * The index is a cache: the run directories (their run.json) are the truth, and
 * prism_run_index_reindex rebuilds it from them. It runs in WAL mode with a busy timeout so
 * that parallel runs (a sweep) can upsert their rows at the same time. Filters are bound
 * parameters, never text pasted into SQL.
 *
 *     prism_run_index ix;
 *     st = prism_run_index_open(&ix, "runs");
 *     st = prism_run_index_upsert(&ix, &rec);
 *     prism_run_filter f;
 *     st = prism_run_filter_parse(&f, "env=CartPole-v0,status=completed");
 *     st = prism_run_index_query(&ix, &f, visit, ctx);
 *     prism_run_index_close(&ix);
 */
#ifndef PRISM_RUN_INDEX_H
#define PRISM_RUN_INDEX_H

#include "prism/core.h"
#include "prism/file.h"

#include <stdbool.h>
#include <stdint.h>

struct sqlite3;

/* One row. Strings are NUL-terminated and truncated to fit. */
typedef struct prism_run_record {
    char id[160];
    char dir[PRISM_PATH_MAX];
    char env[64];
    char agent[128];
    uint64_t seed;
    char status[16];
    char start[32]; /* ISO 8601 UTC */
    char end[32];   /* "" while running */
    long long steps;
    double final_return; /* NaN when unknown (NULL in SQL) */
    char commit[48];
    bool dirty;
    char host[128];
    char message[256];
} prism_run_record;

typedef struct prism_run_index {
    struct sqlite3 *db;
    char path[PRISM_PATH_MAX];
} prism_run_index;

/* Open (create) <runs_dir>/index.sqlite; the runs dir must exist. Sets WAL mode and a busy
 * timeout of 10 s. PRISM_ERR_IO naming the file when it cannot be opened or created. */
prism_status prism_run_index_open(prism_run_index *ix, const char *runs_dir);
void prism_run_index_close(prism_run_index *ix);
/* Open an existing index for reading only (`prism runs ls`, `show`, `diff`): never creates or
 * writes anything, so it works on a read-only filesystem, and checks every page first.
 * PRISM_ERR_NOT_FOUND when the runs dir or the index does not exist; PRISM_ERR_CORRUPT when the
 * index is damaged (truncated, not a database, not a regular file, no runs table), the message
 * saying to run `prism runs reindex`; PRISM_ERR_IO for other failures. */
prism_status prism_run_index_open_readonly(prism_run_index *ix, const char *runs_dir);
/* An index in memory, built from the run directories (for reading when the file is damaged or
 * cannot be created); *count runs indexed, *skipped directories without a readable run.json. */
prism_status prism_run_index_open_scan(prism_run_index *ix, const char *runs_dir, int *count,
                                       int *skipped);
/* `prism runs reindex`: rebuild <runs_dir>/index.sqlite from the run directories. A damaged
 * index (see open_readonly) is first renamed to index.sqlite.damaged-<yyyymmdd-hhmmss> (UTC),
 * its path written to moved_to[cap] ("" when nothing was moved), so nothing is deleted. */
prism_status prism_run_index_rebuild(const char *runs_dir, int *count, int *skipped, char *moved_to,
                                     size_t cap);

/* Insert the row or replace every field of the row with the same id. */
prism_status prism_run_index_upsert(prism_run_index *ix, const prism_run_record *r);
/* Remove the row `id` (no error when absent). */
prism_status prism_run_index_remove(prism_run_index *ix, const char *id);

/* A conjunction of key=value tests on the columns id, env, agent, seed, status, commit, host
 * (id matches by prefix, the others exactly). */
enum { PRISM_RUN_FILTER_MAX = 8 };
typedef struct prism_run_filter {
    int n;
    char key[PRISM_RUN_FILTER_MAX][16];
    char value[PRISM_RUN_FILTER_MAX][256];
} prism_run_filter;
/* Parse "key=value,key=value" (NULL or "" for no filter). PRISM_ERR_INVALID naming the bad
 * part and listing the valid keys. */
prism_status prism_run_filter_parse(prism_run_filter *f, const char *expr);

/* Call visit for every matching row, oldest start first; a non-zero return stops. */
typedef int (*prism_run_index_visit)(void *ctx, const prism_run_record *r);
prism_status prism_run_index_query(prism_run_index *ix, const prism_run_filter *f,
                                   prism_run_index_visit visit, void *ctx);
/* The one row whose id starts with `prefix` (an exact id wins over longer ones).
 * PRISM_ERR_NOT_FOUND when none matches, PRISM_ERR_INVALID when it is ambiguous (the message
 * lists a few candidates). */
prism_status prism_run_index_find(prism_run_index *ix, const char *prefix, prism_run_record *out);

/* Empty the index and re-read <runs_dir>/<id>/run.json of every subdirectory. Directories
 * without a readable run.json are skipped and counted in *skipped. */
prism_status prism_run_index_reindex(prism_run_index *ix, const char *runs_dir, int *count,
                                     int *skipped);

/* Fill a record from a run directory's run.json (PRISM_ERR_NOT_FOUND / PRISM_ERR_CORRUPT
 * naming the file). */
prism_status prism_run_record_load(const char *run_dir, prism_run_record *out);

#endif
