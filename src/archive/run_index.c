/* runs/index.sqlite: the index over all run directories (a cache of their run.json files).
 * WAL mode and a busy timeout let parallel runs upsert at once; user filters only ever reach
 * SQL as bound parameters on a fixed list of columns. Not the archive (archive.c) and not the
 * CLI (cli/cmd_runs.c). */
#include "prism/archive.h"
#include "prism/env.h"
#include "prism/json.h"
#include "prism/run_index.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char SCHEMA[] = "CREATE TABLE IF NOT EXISTS runs ("
                             " id TEXT PRIMARY KEY,"
                             " dir TEXT NOT NULL,"
                             " env TEXT, agent TEXT, seed INTEGER, status TEXT,"
                             " start TEXT, end_ TEXT, steps INTEGER, final_return REAL,"
                             " git_commit TEXT, dirty INTEGER, host TEXT, message TEXT)";

static const char COLUMNS[] = "id, dir, env, agent, seed, status, start, end_, steps, "
                              "final_return, git_commit, dirty, host, message";

/* Filter keys and their columns: a fixed table, so no user text ever becomes SQL. */
static const struct {
    const char *key, *column;
} filter_keys[] = {{"id", "id"},     {"env", "env"},       {"agent", "agent"},
                   {"seed", "seed"}, {"status", "status"}, {"commit", "git_commit"},
                   {"host", "host"}};
enum { NKEYS = sizeof filter_keys / sizeof filter_keys[0] };

static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

static const char *column_text(sqlite3_stmt *s, int i) {
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

static prism_status db_error(prism_run_index *ix, const char *what) {
    return prism_error(PRISM_ERR_IO, "run index '%s': %s: %s", ix->path, what,
                       ix->db ? sqlite3_errmsg(ix->db) : "not open");
}

/* sqlite3_exec with a retry on SQLITE_BUSY for the statements the busy handler does not cover
 * (switching to WAL while another connection holds the database). */
static int exec_retry(sqlite3 *db, const char *sql) {
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < 200; attempt++) {
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) return rc;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return rc;
}

/* Clear ix and set its path; PRISM_ERR_NOT_FOUND when the runs dir does not exist. */
static prism_status start_open(prism_run_index *ix, const char *runs_dir) {
    memset(ix, 0, sizeof *ix);
    prism_status st = prism_path_join(ix->path, sizeof ix->path, runs_dir, "index.sqlite");
    if (st) return st;
    struct stat sb;
    if (stat(runs_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return prism_error(PRISM_ERR_NOT_FOUND,
                           "runs directory '%s' does not exist (no runs yet? pass --runs-dir)",
                           runs_dir);
    return PRISM_OK;
}

prism_status prism_run_index_open(prism_run_index *ix, const char *runs_dir) {
    prism_status st = start_open(ix, runs_dir);
    if (st) return st;
    if (sqlite3_open_v2(ix->path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        st = db_error(ix, "cannot open");
        prism_run_index_close(ix);
        return st;
    }
    /* 10 s: a sweep's runs each write a handful of rows; contention lasts milliseconds. */
    sqlite3_busy_timeout(ix->db, 10000);
    if (exec_retry(ix->db, "PRAGMA journal_mode=WAL") != SQLITE_OK ||
        exec_retry(ix->db, SCHEMA) != SQLITE_OK) {
        st = db_error(ix, "cannot initialise");
        prism_run_index_close(ix);
        return st;
    }
    return PRISM_OK;
}

/* Whether the open index is readable through and through: quick_check visits every page (a
 * truncated file fails here, not halfway through a listing) and the runs table must exist (a
 * 0-byte file opens as an empty database). PRISM_ERR_CORRUPT saying how to rebuild it;
 * PRISM_ERR_IO for a failure that is not damage (permissions, locks). */
static prism_status health(prism_run_index *ix, int *primary_rc) {
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(ix->db, "PRAGMA quick_check(1)", -1, &s, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    bool ok = rc == SQLITE_ROW && !strcmp(column_text(s, 0), "ok");
    char detail[256];
    copy_str(detail, sizeof detail, rc == SQLITE_ROW ? column_text(s, 0) : sqlite3_errmsg(ix->db));
    sqlite3_finalize(s);
    if (ok) {
        rc = sqlite3_prepare_v2(ix->db, "SELECT id FROM runs LIMIT 0", -1, &s, NULL);
        sqlite3_finalize(s);
        ok = rc == SQLITE_OK;
        if (!ok) copy_str(detail, sizeof detail, sqlite3_errmsg(ix->db));
    }
    int primary = rc & 0xff;
    *primary_rc = primary;
    if (ok) return PRISM_OK;
    if (primary != SQLITE_ROW && primary != SQLITE_OK && primary != SQLITE_DONE &&
        primary != SQLITE_CORRUPT && primary != SQLITE_NOTADB && primary != SQLITE_ERROR)
        return db_error(ix, "cannot read");
    return prism_error(PRISM_ERR_CORRUPT,
                       "run index '%s' is damaged (%s); run `prism runs reindex` to rebuild it "
                       "from the run directories",
                       ix->path, detail);
}

/* "file:<path>?immutable=1" with the characters a URI gives meaning to percent-encoded. */
static prism_status immutable_uri(const char *path, char *out, size_t cap) {
    size_t n = (size_t)snprintf(out, cap, "file:");
    for (const char *c = path; *c && n + 4 < cap; c++)
        n += (size_t)(*c == '%' || *c == '?' || *c == '#'
                          ? snprintf(out + n, cap - n, "%%%02X", (unsigned char)*c)
                          : snprintf(out + n, cap - n, "%c", *c));
    if (n + sizeof "?immutable=1" > cap)
        return prism_error(PRISM_ERR_INVALID, "run index path '%s' is too long", path);
    memcpy(out + n, "?immutable=1", sizeof "?immutable=1");
    return PRISM_OK;
}

prism_status prism_run_index_open_readonly(prism_run_index *ix, const char *runs_dir) {
    prism_status st = start_open(ix, runs_dir);
    if (st) return st;
    struct stat sb;
    if (stat(ix->path, &sb) != 0)
        return prism_error(PRISM_ERR_NOT_FOUND,
                           "run index '%s' does not exist (`prism runs "
                           "reindex` builds it)",
                           ix->path);
    if (!S_ISREG(sb.st_mode))
        return prism_error(PRISM_ERR_CORRUPT,
                           "run index '%s' is damaged (not a regular file); run `prism runs "
                           "reindex` to move it aside and rebuild it from the run directories",
                           ix->path);
    if (sqlite3_open_v2(ix->path, &ix->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        st = db_error(ix, "cannot open");
        prism_run_index_close(ix);
        return st;
    }
    sqlite3_busy_timeout(ix->db, 10000);
    int rc;
    st = health(ix, &rc);
    if (st == PRISM_ERR_IO && rc == SQLITE_CANTOPEN) {
        /* A WAL database opened read-only needs its -shm file, which a read-only directory
         * cannot hold once the last writer has gone. No one can write there either, so the
         * file is immutable: read it without the WAL machinery. */
        prism_run_index_close(ix);
        char uri[3 * PRISM_PATH_MAX + 32];
        st = immutable_uri(ix->path, uri, sizeof uri);
        if (st) return st;
        if (sqlite3_open_v2(uri, &ix->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) !=
            SQLITE_OK) {
            st = db_error(ix, "cannot open");
            prism_run_index_close(ix);
            return st;
        }
        st = health(ix, &rc);
    }
    if (st) prism_run_index_close(ix);
    return st;
}

void prism_run_index_close(prism_run_index *ix) {
    if (ix->db) sqlite3_close(ix->db);
    ix->db = NULL;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v) {
    if (v && v[0])
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

prism_status prism_run_index_upsert(prism_run_index *ix, const prism_run_record *r) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO runs (%s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", COLUMNS);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_error(ix, "cannot prepare upsert");
    sqlite3_bind_text(s, 1, r->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, r->dir, -1, SQLITE_TRANSIENT);
    bind_text(s, 3, r->env);
    bind_text(s, 4, r->agent);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)r->seed);
    bind_text(s, 6, r->status);
    bind_text(s, 7, r->start);
    bind_text(s, 8, r->end);
    sqlite3_bind_int64(s, 9, r->steps);
    if (isfinite(r->final_return))
        sqlite3_bind_double(s, 10, r->final_return);
    else
        sqlite3_bind_null(s, 10);
    bind_text(s, 11, r->commit);
    sqlite3_bind_int(s, 12, r->dirty);
    bind_text(s, 13, r->host);
    bind_text(s, 14, r->message);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return db_error(ix, "cannot write the row");
    return PRISM_OK;
}

prism_status prism_run_index_remove(prism_run_index *ix, const char *id) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ix->db, "DELETE FROM runs WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
        return db_error(ix, "cannot prepare delete");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return db_error(ix, "cannot delete the row");
    return PRISM_OK;
}

prism_status prism_run_filter_parse(prism_run_filter *f, const char *expr) {
    memset(f, 0, sizeof *f);
    if (!expr) return PRISM_OK;
    const char *p = expr;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (len == 0) { /* tolerate "a=b," and ",," */
            p += end ? 1 : 0;
            if (!end) break;
            continue;
        }
        if (!eq || eq == p)
            return prism_error(PRISM_ERR_INVALID,
                               "filter part '%.*s' is not key=value (example: "
                               "env=CartPole-v0,agent=rainbow,status=completed)",
                               (int)len, p);
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        int k = -1;
        for (int i = 0; i < NKEYS; i++)
            if (strlen(filter_keys[i].key) == klen && !strncmp(filter_keys[i].key, p, klen)) k = i;
        if (k < 0)
            return prism_error(PRISM_ERR_INVALID,
                               "unknown filter key '%.*s' (valid: id, env, agent, seed, status, "
                               "commit, host)",
                               (int)klen, p);
        if (f->n >= PRISM_RUN_FILTER_MAX)
            return prism_error(PRISM_ERR_INVALID, "too many filter terms (at most %d)",
                               PRISM_RUN_FILTER_MAX);
        if (vlen >= sizeof f->value[0])
            return prism_error(PRISM_ERR_INVALID, "filter value for '%s' is too long",
                               filter_keys[k].key);
        copy_str(f->key[f->n], sizeof f->key[0], filter_keys[k].key);
        memcpy(f->value[f->n], eq + 1, vlen);
        f->value[f->n][vlen] = 0;
        /* runs record the registered id: env=cartpole finds CartPole-v1 runs */
        const char *canon = prism_env_canonical_id(f->value[f->n]);
        if (!strcmp(filter_keys[k].key, "env") && canon != f->value[f->n])
            copy_str(f->value[f->n], sizeof f->value[0], canon);
        f->n++;
        if (!end) break;
        p = end + 1;
    }
    return PRISM_OK;
}

static void read_row(sqlite3_stmt *s, prism_run_record *r) {
    memset(r, 0, sizeof *r);
    copy_str(r->id, sizeof r->id, column_text(s, 0));
    copy_str(r->dir, sizeof r->dir, column_text(s, 1));
    copy_str(r->env, sizeof r->env, column_text(s, 2));
    copy_str(r->agent, sizeof r->agent, column_text(s, 3));
    r->seed = (uint64_t)sqlite3_column_int64(s, 4);
    copy_str(r->status, sizeof r->status, column_text(s, 5));
    copy_str(r->start, sizeof r->start, column_text(s, 6));
    copy_str(r->end, sizeof r->end, column_text(s, 7));
    r->steps = sqlite3_column_int64(s, 8);
    r->final_return =
        sqlite3_column_type(s, 9) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(s, 9);
    copy_str(r->commit, sizeof r->commit, column_text(s, 10));
    r->dirty = sqlite3_column_int(s, 11) != 0;
    copy_str(r->host, sizeof r->host, column_text(s, 12));
    copy_str(r->message, sizeof r->message, column_text(s, 13));
}

/* The seed column holds the uint64 seed's bits as SQLite's signed 64-bit integer (seeds above
 * 2^63 are negative there), so a seed filter is parsed as an unsigned decimal and bound the same
 * way. Anything else ("x", "-1", "1e3", 2^64) binds NULL, which equals nothing: a no-match,
 * never seed 0. */
static void bind_seed(sqlite3_stmt *s, int i, const char *text) {
    uint64_t v = 0;
    bool ok = text[0] != 0;
    for (const char *d = text; ok && *d; d++) {
        unsigned digit = (unsigned)(*d - '0');
        ok = *d >= '0' && *d <= '9' && v <= (UINT64_MAX - digit) / 10;
        v = v * 10 + digit;
    }
    if (ok)
        sqlite3_bind_int64(s, i, (sqlite3_int64)v);
    else
        sqlite3_bind_null(s, i);
}

prism_status prism_run_index_query(prism_run_index *ix, const prism_run_filter *f,
                                   prism_run_index_visit visit, void *ctx) {
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "SELECT %s FROM runs", COLUMNS);
    for (int i = 0; f && i < f->n; i++) {
        const char *col = NULL;
        for (int k = 0; k < NKEYS; k++)
            if (!strcmp(filter_keys[k].key, f->key[i])) col = filter_keys[k].column;
        PRISM_ASSERT(col); /* prism_run_filter_parse only produces known keys */
        const char *join = i ? " AND" : " WHERE";
        if (!strcmp(col, "id")) /* a prefix, compared without LIKE's wildcards */
            n += snprintf(sql + n, sizeof sql - (size_t)n, "%s substr(id, 1, length(?%d)) = ?%d",
                          join, i + 1, i + 1);
        else if (!strcmp(col, "seed")) /* bound by bind_seed below */
            n += snprintf(sql + n, sizeof sql - (size_t)n, "%s seed = ?%d", join, i + 1);
        else
            n += snprintf(sql + n, sizeof sql - (size_t)n, "%s %s = ?%d", join, col, i + 1);
    }
    snprintf(sql + n, sizeof sql - (size_t)n, " ORDER BY start, id");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_error(ix, "cannot prepare query");
    for (int i = 0; f && i < f->n; i++)
        if (!strcmp(f->key[i], "seed"))
            bind_seed(s, i + 1, f->value[i]);
        else
            sqlite3_bind_text(s, i + 1, f->value[i], -1, SQLITE_STATIC);
    int rc;
    prism_run_record r;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        read_row(s, &r);
        if (visit && visit(ctx, &r)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return db_error(ix, "query failed");
    return PRISM_OK;
}

typedef struct find_ctx {
    const char *prefix;
    int n;
    prism_run_record *out;
    char names[256];
} find_ctx;

static int find_visit(void *vctx, const prism_run_record *r) {
    find_ctx *c = vctx;
    if (!strcmp(r->id, c->prefix)) { /* an exact id wins */
        *c->out = *r;
        c->n = 1;
        c->names[0] = 0;
        return 1;
    }
    if (c->n == 0) *c->out = *r;
    if (c->n < 3) {
        size_t l = strlen(c->names);
        snprintf(c->names + l, sizeof c->names - l, "%s%s", l ? ", " : "", r->id);
    }
    c->n++;
    return 0;
}

prism_status prism_run_index_find(prism_run_index *ix, const char *prefix, prism_run_record *out) {
    if (!prefix[0]) return prism_error(PRISM_ERR_INVALID, "empty run id");
    prism_run_filter f = {0};
    f.n = 1;
    copy_str(f.key[0], sizeof f.key[0], "id");
    if (strlen(prefix) >= sizeof f.value[0])
        return prism_error(PRISM_ERR_NOT_FOUND, "no run '%s'", prefix);
    copy_str(f.value[0], sizeof f.value[0], prefix);
    find_ctx c = {prefix, 0, out, ""};
    prism_status st = prism_run_index_query(ix, &f, find_visit, &c);
    if (st) return st;
    if (c.n == 0)
        return prism_error(PRISM_ERR_NOT_FOUND,
                           "no run '%s' in %s (`prism runs ls` lists them; `prism runs reindex` "
                           "rebuilds the index from the directories)",
                           prefix, ix->path);
    if (c.n > 1)
        return prism_error(PRISM_ERR_INVALID, "run id '%s' is ambiguous: %d runs match (%s%s)",
                           prefix, c.n, c.names, c.n > 3 ? ", ..." : "");
    return PRISM_OK;
}

prism_status prism_run_record_load(const char *run_dir, prism_run_record *r) {
    /* on the heap: the typed record holds fixed tables (tens of KiB) */
    prism_run_meta *m = prism_alloc(sizeof *m);
    if (!m) return prism_error(PRISM_ERR_NOMEM, "out of memory reading '%s'", run_dir);
    prism_status st = prism_run_read(run_dir, m);
    if (st) {
        prism_free(m);
        return st;
    }
    memset(r, 0, sizeof *r);
    copy_str(r->id, sizeof r->id, m->id);
    copy_str(r->dir, sizeof r->dir, run_dir);
    /* runs written before env ids were canonical may hold an alias */
    copy_str(r->env, sizeof r->env, prism_env_canonical_id(m->env));
    copy_str(r->agent, sizeof r->agent, m->agent);
    r->seed = m->seed;
    copy_str(r->status, sizeof r->status, prism_run_status_name(m->status));
    copy_str(r->start, sizeof r->start, m->start);
    copy_str(r->end, sizeof r->end, m->end);
    r->steps = m->steps;
    r->final_return = m->final_return;
    copy_str(r->commit, sizeof r->commit, m->build.commit);
    r->dirty = m->build.dirty;
    copy_str(r->host, sizeof r->host, m->host);
    copy_str(r->message, sizeof r->message, m->message);
    prism_run_meta_free(m);
    prism_free(m);
    return PRISM_OK;
}

prism_status prism_run_index_reindex(prism_run_index *ix, const char *runs_dir, int *count,
                                     int *skipped) {
    *count = *skipped = 0;
    DIR *d = opendir(runs_dir);
    if (!d)
        return prism_error(PRISM_ERR_IO, "cannot list runs directory '%s': %s", runs_dir,
                           strerror(errno));
    /* One transaction: other readers see the old index or the new one, never an empty one. */
    if (exec_retry(ix->db, "BEGIN IMMEDIATE") != SQLITE_OK ||
        exec_retry(ix->db, "DELETE FROM runs") != SQLITE_OK) {
        closedir(d);
        prism_status st = db_error(ix, "cannot start reindexing");
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }
    prism_status st = PRISM_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char dir[PRISM_PATH_MAX];
        struct stat sb;
        if (prism_path_join(dir, sizeof dir, runs_dir, e->d_name) || stat(dir, &sb) != 0 ||
            !S_ISDIR(sb.st_mode))
            continue;
        prism_run_record r;
        if (prism_run_record_load(dir, &r) != PRISM_OK) {
            (*skipped)++;
            continue;
        }
        /* the directory name is the id the CLI uses, whatever run.json says */
        copy_str(r.id, sizeof r.id, e->d_name);
        st = prism_run_index_upsert(ix, &r);
        if (st) break;
        (*count)++;
    }
    closedir(d);
    if (st || exec_retry(ix->db, "COMMIT") != SQLITE_OK) {
        if (!st) st = db_error(ix, "cannot commit the new index");
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        *count = 0;
    }
    return st;
}

prism_status prism_run_index_open_scan(prism_run_index *ix, const char *runs_dir, int *count,
                                       int *skipped) {
    memset(ix, 0, sizeof *ix);
    copy_str(ix->path, sizeof ix->path, ":memory:");
    if (sqlite3_open_v2(":memory:", &ix->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(ix->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        prism_status st = db_error(ix, "cannot create an index in memory");
        prism_run_index_close(ix);
        return st;
    }
    prism_status st = prism_run_index_reindex(ix, runs_dir, count, skipped);
    if (st) prism_run_index_close(ix);
    return st;
}

/* Rename <index> and its -wal / -shm companions to <index>.damaged-<UTC time>[-N]. */
static prism_status move_aside(const char *path, char *moved_to, size_t cap) {
    char stamp[32], dst[PRISM_PATH_MAX];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    struct stat sb;
    for (int i = 1;; i++) {
        int n = i == 1 ? snprintf(dst, sizeof dst, "%s.damaged-%s", path, stamp)
                       : snprintf(dst, sizeof dst, "%s.damaged-%s-%d", path, stamp, i);
        if (n < 0 || (size_t)n >= sizeof dst - 8)
            return prism_error(PRISM_ERR_INVALID, "run index path '%s' is too long", path);
        if (lstat(dst, &sb) != 0) break;
    }
    if (rename(path, dst) != 0)
        return prism_error(PRISM_ERR_IO,
                           "cannot move the damaged run index '%s' aside to '%s': %s; remove it "
                           "by hand and run `prism runs reindex` again",
                           path, dst, strerror(errno));
    static const char *const companions[] = {"-wal", "-shm"};
    for (int c = 0; c < 2; c++) {
        char from[PRISM_PATH_MAX], to[PRISM_PATH_MAX];
        snprintf(from, sizeof from, "%s%s", path, companions[c]);
        snprintf(to, sizeof to, "%s%s", dst, companions[c]);
        if (lstat(from, &sb) == 0) rename(from, to); /* stale companions only confuse sqlite */
    }
    copy_str(moved_to, cap, dst);
    return PRISM_OK;
}

prism_status prism_run_index_rebuild(const char *runs_dir, int *count, int *skipped, char *moved_to,
                                     size_t cap) {
    *count = *skipped = 0;
    moved_to[0] = 0;
    prism_run_index ix;
    prism_status st = prism_run_index_open_readonly(&ix, runs_dir);
    prism_run_index_close(&ix);
    if (st == PRISM_ERR_CORRUPT) st = move_aside(ix.path, moved_to, cap);
    if (st && st != PRISM_ERR_NOT_FOUND) return st;
    st = prism_run_index_open(&ix, runs_dir);
    if (st) return st;
    st = prism_run_index_reindex(&ix, runs_dir, count, skipped);
    prism_run_index_close(&ix);
    return st;
}
