/* prism runs — ls, show, diff, reindex, rm over the run archive (runs/<id>/ and
 * runs/index.sqlite). The index answers ls and resolves abbreviated ids; show and diff read
 * the run directories themselves (run.json, config.ini, metrics.csv), which are the truth. */
#include "cli.h"
#include "prism/archive.h"
#include "prism/file.h"
#include "prism/ini.h"
#include "prism/json.h"
#include "prism/metrics_csv.h"
#include "prism/run_index.h"

#include <errno.h>
#include <limits.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *runs_dir_of(const cli_opt *o) {
    return cli_runs_dir(cli_value(o, "runs"));
}

/* Open the index of runs_dir for writing (rm); a runs dir without an index (copied from
 * elsewhere, or the index deleted) is indexed on the spot, since the directories are the truth. */
static int open_index(const char *cmd, const char *runs_dir, prism_run_index *ix) {
    char path[PRISM_PATH_MAX];
    prism_status st = prism_path_join(path, sizeof path, runs_dir, "index.sqlite");
    if (st) return cli_fail(cmd, st, NULL);
    int fresh = access(path, F_OK) != 0;
    /* check before the read-write open, which would turn a 0-byte index into an empty one */
    if (!fresh) {
        st = prism_run_index_open_readonly(ix, runs_dir);
        prism_run_index_close(ix);
    }
    if (!st) st = prism_run_index_open(ix, runs_dir);
    if (st) {
        prism_run_index_close(ix);
        int rc = cli_fail(cmd, st, NULL);
        return st == PRISM_ERR_CORRUPT ? CLI_FAILURE : rc; /* a damaged index is no usage error */
    }
    if (fresh) {
        int n, skipped;
        st = prism_run_index_reindex(ix, runs_dir, &n, &skipped);
        if (st) {
            prism_run_index_close(ix);
            return cli_fail(cmd, st, NULL);
        }
    }
    return CLI_OK;
}

/* Open the index of runs_dir for ls, show and diff, which never write it (they work on a
 * read-only filesystem). A missing index is built as for rm when the directory is writable;
 * one that is damaged or cannot be created is replaced by a scan of the run directories into
 * memory (they are the truth; the scan costs a read of every run.json), with a warning. */
static int open_index_read(const char *cmd, const char *runs_dir, prism_run_index *ix) {
    prism_status st = prism_run_index_open_readonly(ix, runs_dir);
    if (st == PRISM_ERR_NOT_FOUND && access(runs_dir, W_OK) == 0)
        return open_index(cmd, runs_dir, ix);
    if (st != PRISM_ERR_CORRUPT && st != PRISM_ERR_NOT_FOUND)
        return st ? cli_fail(cmd, st, NULL) : CLI_OK;
    struct stat sb;
    if (stat(runs_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return cli_fail(cmd, st, NULL);
    if (st == PRISM_ERR_CORRUPT)
        fprintf(stderr, "prism %s: warning: %s; reading the run directories meanwhile\n", cmd,
                prism_error_message());
    int n, skipped;
    st = prism_run_index_open_scan(ix, runs_dir, &n, &skipped);
    return st ? cli_fail(cmd, st, NULL) : CLI_OK;
}

/* Resolve an id or unique prefix to a record; falls back to the directory itself when the
 * index does not know the run yet (a run created while the index was unwritable). */
static int resolve(const char *cmd, prism_run_index *ix, const char *runs_dir, const char *id,
                   prism_run_record *r) {
    prism_status st = prism_run_index_find(ix, id, r);
    if (st == PRISM_ERR_NOT_FOUND && !strchr(id, '/') && strcmp(id, ".") && strcmp(id, "..")) {
        char dir[PRISM_PATH_MAX];
        if (!prism_path_join(dir, sizeof dir, runs_dir, id) &&
            prism_run_record_load(dir, r) == PRISM_OK) {
            snprintf(r->id, sizeof r->id, "%s", id);
            return CLI_OK;
        }
        prism_run_index_find(ix, id, r); /* restore the index's message */
    }
    if (st) return cli_fail(cmd, st, NULL);
    return CLI_OK;
}

/* The run directory of a record: always <runs_dir>/<id> (never a path stored in the index,
 * so a stale or edited index cannot point rm elsewhere). */
static int run_dir(const char *cmd, const char *runs_dir, const prism_run_record *r, char *out,
                   size_t cap) {
    prism_status st = prism_archive_id_check(r->id);
    if (st)
        return cli_fail(cmd, st, "the index is stale or edited; `prism runs reindex` rebuilds it");
    st = prism_path_join(out, cap, runs_dir, r->id);
    if (st) return cli_fail(cmd, st, NULL);
    return CLI_OK;
}

/* The typed run.json of a run directory, on the heap (the record holds fixed tables); NULL
 * with the reader's status in *st (naming the file) on failure. Free with free_meta. */
static prism_run_meta *read_meta(const char *dir, prism_status *st) {
    prism_run_meta *m = prism_alloc(sizeof *m);
    if (!m) {
        *st = prism_error(PRISM_ERR_NOMEM, "out of memory reading %s/run.json", dir);
        return NULL;
    }
    *st = prism_run_read(dir, m);
    if (*st) {
        prism_free(m);
        return NULL;
    }
    return m;
}

static void free_meta(prism_run_meta *m) {
    if (!m) return;
    prism_run_meta_free(m);
    prism_free(m);
}

/* How `runs ls` prints: a table for people, or one JSON array or a CSV table for programs. */
typedef enum { LS_TABLE, LS_JSON, LS_CSV } ls_format;

typedef struct ls_out {
    ls_format format;
    prism_json *json;
    int n;
} ls_out;

/* The columns of --json and --csv, in this order. */
static const char *const ls_columns[] = {"id",   "status", "env",          "agent",
                                         "seed", "steps",  "final_return", "start",
                                         "end",  "commit", "dirty",        "host"};

/* One CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_field(const char *s, bool last) {
    if (strpbrk(s, ",\"\r\n")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"') putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

static int ls_visit(void *ctx, const prism_run_record *r) {
    ls_out *out = ctx;
    out->n++;
    if (out->format == LS_JSON) {
        prism_json *j = out->json;
        prism_json_object_begin(j);
        prism_json_kv_string(j, "id", r->id);
        prism_json_kv_string(j, "status", r->status);
        prism_json_kv_string(j, "env", r->env);
        prism_json_kv_string(j, "agent", r->agent);
        prism_json_kv_uint(j, "seed", r->seed);
        prism_json_kv_int(j, "steps", r->steps);
        prism_json_key(j, "final_return");
        prism_json_double_digits(j, r->final_return, 9); /* null when unknown */
        prism_json_kv_string(j, "start", r->start);
        prism_json_kv_string(j, "end", r->end);
        prism_json_kv_string(j, "commit", r->commit);
        prism_json_kv_bool(j, "dirty", r->dirty);
        prism_json_kv_string(j, "host", r->host);
        prism_json_object_end(j);
        return 0;
    }
    char seed[32], steps[32], ret[32] = "";
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    snprintf(steps, sizeof steps, "%lld", r->steps);
    if (out->format == LS_CSV) {
        if (isfinite(r->final_return)) snprintf(ret, sizeof ret, "%.9g", r->final_return);
        const char *fields[] = {r->id,
                                r->status,
                                r->env,
                                r->agent,
                                seed,
                                steps,
                                ret,
                                r->start,
                                r->end,
                                r->commit,
                                r->dirty ? "1" : "0",
                                r->host};
        int n = (int)(sizeof fields / sizeof fields[0]);
        for (int i = 0; i < n; i++) csv_field(fields[i], i == n - 1);
        return 0;
    }
    snprintf(ret, sizeof ret, "-");
    if (isfinite(r->final_return)) snprintf(ret, sizeof ret, "%.2f", r->final_return);
    printf("%-44s %-11s %-16s %-14s %5s %9s %9s %s\n", r->id, r->status, r->env, r->agent, seed,
           steps, ret, r->start);
    return 0;
}

static int runs_ls(int argc, char **argv) {
    enum { O_WHERE, O_RUNS_DIR, O_JSON, O_CSV, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_JSON] = {.name = "json", .help = "print the runs as one JSON array of objects"},
        [O_CSV] = {.name = "csv", .help = "print the runs as a CSV table with a header row"},
        [O_WHERE] = {.name = "where",
                     .metavar = "EXPR",
                     .help = "filter: key=value[,key=value...] on id (prefix), env, agent, seed, "
                             "status, commit, host"},
        [O_RUNS_DIR] = {.name = "runs-dir",
                        .metavar = "DIR",
                        .help = "the runs directory (default runs)"},
    };
    char *pos[1];
    int npos;
    const char *usage = "prism runs ls";
    int rc = cli_parse("runs ls", usage, argc, argv, opts, NOPTS, pos, 0, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (opts[O_JSON].count && opts[O_CSV].count) {
        fprintf(stderr, "prism runs ls: --json and --csv exclude each other; give one\n");
        return CLI_USAGE;
    }
    prism_run_filter f;
    prism_status st = prism_run_filter_parse(&f, cli_value(&opts[O_WHERE], NULL));
    if (st) return cli_fail("runs ls", st, NULL);
    prism_run_index ix;
    rc = open_index_read("runs ls", runs_dir_of(&opts[O_RUNS_DIR]), &ix);
    if (rc) {
        if (!opts[O_RUNS_DIR].count) cli_hint_sweep_runs("runs ls", NULL, "--runs-dir ");
        return rc;
    }
    prism_json j;
    ls_out out = {.format = opts[O_JSON].count  ? LS_JSON
                            : opts[O_CSV].count ? LS_CSV
                                                : LS_TABLE,
                  .json = &j};
    if (out.format == LS_TABLE)
        printf("%-44s %-11s %-16s %-14s %5s %9s %9s %s\n", "ID", "STATUS", "ENV", "AGENT", "SEED",
               "STEPS", "RETURN", "START");
    if (out.format == LS_CSV)
        for (size_t i = 0; i < sizeof ls_columns / sizeof ls_columns[0]; i++)
            csv_field(ls_columns[i], i + 1 == sizeof ls_columns / sizeof ls_columns[0]);
    if (out.format == LS_JSON) {
        prism_json_init(&j, 0);
        prism_json_array_begin(&j);
    }
    st = prism_run_index_query(&ix, &f, ls_visit, &out);
    prism_run_index_close(&ix);
    if (st) {
        if (out.format == LS_JSON) prism_json_free(&j);
        return cli_fail("runs ls", st, NULL);
    }
    if (out.format == LS_JSON) {
        prism_json_array_end(&j);
        return cli_json_print("runs ls", &j);
    }
    if (out.format == LS_TABLE) printf("%d run%s\n", out.n, out.n == 1 ? "" : "s");
    if (out.n == 0 && !opts[O_RUNS_DIR].count) cli_hint_sweep_runs("runs ls", NULL, "--runs-dir ");
    return CLI_OK;
}

/* Print the header and last complete row of a CSV file as "name: value" lines. */
static void print_last_row(const char *path) {
    prism_table t;
    prism_status st = prism_table_read(path, PRISM_TABLE_LENIENT, &t);
    if (st == PRISM_ERR_NOT_FOUND) {
        printf("\nlast metrics row: (no %s)\n", path);
        return;
    }
    if (st) {
        printf("\nlast metrics row: (%s)\n", prism_error_message());
        return;
    }
    if (t.nrows == 0) {
        printf("\nlast metrics row: (no rows yet in %s)\n", path);
        prism_table_free(&t);
        return;
    }
    printf("\nlast metrics row (%s):\n", path);
    for (int c = 0; c < t.ncols; c++) {
        double v = prism_table_at(&t, t.nrows - 1, c);
        /* the writer's spellings: integers exactly, floats with 9 significant digits */
        if (isnan(v))
            printf("  %-28s (none)\n", t.names[c]);
        else if (v == floor(v) && fabs(v) < 9007199254740992.0)
            printf("  %-28s %.0f\n", t.names[c], v);
        else
            printf("  %-28s %.9g\n", t.names[c], v);
    }
    prism_table_free(&t);
}

/* The last complete row of a CSV file as a JSON object of column: value (null where the row has
 * no value), or null when there is no such row. */
static void json_last_row(prism_json *j, const char *path) {
    prism_table t;
    if (prism_table_read(path, PRISM_TABLE_LENIENT, &t)) {
        prism_json_null(j);
        return;
    }
    if (t.nrows == 0) {
        prism_json_null(j);
        prism_table_free(&t);
        return;
    }
    prism_json_object_begin(j);
    for (int c = 0; c < t.ncols; c++) {
        prism_json_key(j, t.names[c]);
        prism_json_double_digits(j, prism_table_at(&t, t.nrows - 1, c), 9); /* the CSV's */
    }
    prism_json_object_end(j);
    prism_table_free(&t);
}

static int runs_show(int argc, char **argv) {
    enum { O_RUNS_DIR, O_JSON, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_JSON] = {.name = "json",
                    .help = "print one JSON object: {\"dir\", \"run\": run.json, "
                            "\"last_metrics\": the last metrics row or null}"},
        [O_RUNS_DIR] = {.name = "runs-dir",
                        .metavar = "DIR",
                        .help = "the runs directory (default runs)"},
    };
    char *pos[2];
    int npos;
    const char *usage = "prism runs show ID";
    int rc = cli_parse("runs show", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism runs show: which run? usage: %s\n", usage);
        return CLI_USAGE;
    }
    const char *runs = runs_dir_of(&opts[O_RUNS_DIR]);
    prism_run_index ix;
    rc = open_index_read("runs show", runs, &ix);
    if (rc) return rc;
    prism_run_record r;
    rc = resolve("runs show", &ix, runs, pos[0], &r);
    prism_run_index_close(&ix);
    if (rc) return rc;
    char dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    rc = run_dir("runs show", runs, &r, dir, sizeof dir);
    if (rc) return rc;
    prism_status st = prism_path_join(path, sizeof path, dir, "run.json");
    prism_run_meta *m = st ? NULL : read_meta(dir, &st);
    if (st) return cli_fail("runs show", st, "(`prism runs reindex` drops runs that are gone)");
    /* the whole document, keys a newer prism wrote included, as the file holds it */
    prism_json j;
    if (opts[O_JSON].count) {
        prism_json_init(&j, 0);
        prism_json_object_begin(&j);
        prism_json_kv_string(&j, "dir", dir);
        prism_json_key(&j, "run");
        prism_json_write_value(&j, m->doc);
        free_meta(m);
        prism_json_key(&j, "last_metrics");
        st = prism_path_join(path, sizeof path, dir, "metrics.csv");
        if (st)
            prism_json_null(&j);
        else
            json_last_row(&j, path);
        prism_json_object_end(&j);
        return cli_json_print("runs show", &j);
    }
    prism_json_init(&j, 2);
    prism_json_write_value(&j, m->doc);
    free_meta(m);
    st = prism_json_finish(&j);
    if (st) {
        prism_json_free(&j);
        return cli_fail("runs show", st, NULL);
    }
    printf("%s: %s", path, prism_json_text(&j));
    prism_json_free(&j);
    if (!prism_path_join(path, sizeof path, dir, "metrics.csv")) print_last_row(path);
    return CLI_OK;
}

/* ---- diff ---- */

/* "section.key" as the diff shows it (the key alone before any section). */
static void entry_name(const prism_ini_entry *e, char *out, size_t cap) {
    snprintf(out, cap, "%.120s%s%.120s", e->section, e->section[0] ? "." : "", e->key);
}

/* Whether e is the occurrence of its key that counts (a later duplicate wins). */
static bool is_last(const prism_ini *ini, const prism_ini_entry *e) {
    return prism_ini_get(ini, e->section, e->key) == e->value;
}

/* Read dir/config.ini; a missing one is an empty table and *missing = 1. */
static prism_status read_config(const char *dir, prism_ini *ini, int *missing) {
    char path[PRISM_PATH_MAX];
    memset(ini, 0, sizeof *ini);
    *missing = 0;
    prism_status st = prism_path_join(path, sizeof path, dir, "config.ini");
    if (!st) st = prism_ini_read(path, ini);
    if (st == PRISM_ERR_NOT_FOUND) {
        *missing = 1;
        return PRISM_OK;
    }
    return st;
}

static int diff_configs(const char *a_dir, const char *b_dir, const char *a_id, const char *b_id) {
    prism_ini a, b;
    int ma, mb, diffs = 0;
    prism_status st = read_config(a_dir, &a, &ma);
    if (!st) st = read_config(b_dir, &b, &mb);
    if (st) {
        fprintf(stderr, "prism runs diff: error: %s (fix or restore the file)\n",
                prism_error_message());
        prism_ini_free(&a);
        return -1;
    }
    char name[256];
    printf("config.ini:\n");
    if (ma || mb) printf("  (no config.ini in %s)\n", ma ? a_id : b_id);
    for (int i = 0; i < a.n; i++) {
        const prism_ini_entry *e = &a.entries[i];
        const char *vb = prism_ini_get(&b, e->section, e->key);
        if (!is_last(&a, e) || (vb && !strcmp(vb, e->value))) continue;
        entry_name(e, name, sizeof name);
        printf("  %-32s %-24s %s\n", name, e->value, vb ? vb : "(absent)");
        diffs++;
    }
    for (int i = 0; i < b.n; i++) {
        const prism_ini_entry *e = &b.entries[i];
        if (prism_ini_get(&a, e->section, e->key) || !is_last(&b, e)) continue;
        entry_name(e, name, sizeof name);
        printf("  %-32s %-24s %s\n", name, "(absent)", e->value);
        diffs++;
    }
    if (!diffs && !ma && !mb) printf("  (identical)\n");
    prism_ini_free(&a);
    prism_ini_free(&b);
    return diffs;
}

static void number_text(const prism_json_value *v, char *out, size_t cap) {
    if (!v)
        snprintf(out, cap, "(absent)");
    else if (v->type == PRISM_JSON_NUMBER)
        snprintf(out, cap, "%.9g", v->number);
    else if (v->type == PRISM_JSON_STRING)
        snprintf(out, cap, "%s", v->string);
    else if (v->type == PRISM_JSON_NULL)
        snprintf(out, cap, "null");
    else
        snprintf(out, cap, "(value)");
}

static int diff_metrics(const prism_json_value *ra, const prism_json_value *rb) {
    int diffs = 0;
    char ta[64], tb[64];
    printf("final metrics:\n");
    static const char *const top[] = {"status", "steps", "final_return"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        number_text(prism_json_get(ra, top[i]), ta, sizeof ta);
        number_text(prism_json_get(rb, top[i]), tb, sizeof tb);
        if (strcmp(ta, tb)) printf("  %-32s %-24s %s\n", top[i], ta, tb), diffs++;
    }
    const prism_json_value *ma = prism_json_get(ra, "metrics"), *mb = prism_json_get(rb, "metrics");
    for (const prism_json_value *c = ma ? ma->child : NULL; c; c = c->next) {
        number_text(c, ta, sizeof ta);
        number_text(prism_json_get(mb, c->key), tb, sizeof tb);
        if (strcmp(ta, tb)) printf("  %-32s %-24s %s\n", c->key, ta, tb), diffs++;
    }
    for (const prism_json_value *c = mb ? mb->child : NULL; c; c = c->next)
        if (!prism_json_get(ma, c->key)) {
            number_text(c, tb, sizeof tb);
            printf("  %-32s %-24s %s\n", c->key, "(absent)", tb);
            diffs++;
        }
    if (!diffs) printf("  (identical)\n");
    return diffs;
}

static int runs_diff(int argc, char **argv) {
    enum { O_RUNS_DIR, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_RUNS_DIR] = {.name = "runs-dir",
                        .metavar = "DIR",
                        .help = "the runs directory (default runs)"},
    };
    char *pos[3];
    int npos;
    const char *usage = "prism runs diff ID ID [--runs-dir DIR]";
    int rc = cli_parse("runs diff", usage, argc, argv, opts, NOPTS, pos, 2, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 2) {
        fprintf(stderr, "prism runs diff: which two runs? usage: %s\n", usage);
        return CLI_USAGE;
    }
    const char *runs = runs_dir_of(&opts[O_RUNS_DIR]);
    prism_run_index ix;
    rc = open_index_read("runs diff", runs, &ix);
    if (rc) return rc;
    prism_run_record r[2];
    for (int i = 0; i < 2 && !rc; i++) rc = resolve("runs diff", &ix, runs, pos[i], &r[i]);
    prism_run_index_close(&ix);
    if (rc) return rc;
    char dir[2][PRISM_PATH_MAX];
    prism_run_meta *m[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        rc = run_dir("runs diff", runs, &r[i], dir[i], sizeof dir[i]);
        prism_status st = PRISM_OK;
        if (!rc) m[i] = read_meta(dir[i], &st);
        if (!rc && st) rc = cli_fail("runs diff", st, NULL);
        if (rc) {
            free_meta(m[0]);
            return rc;
        }
    }
    printf("a: %s\nb: %s\n", r[0].id, r[1].id);
    int dc = diff_configs(dir[0], dir[1], r[0].id, r[1].id);
    /* from the documents: the values print as the files spell them */
    diff_metrics(m[0]->doc, m[1]->doc);
    free_meta(m[0]);
    free_meta(m[1]);
    return dc < 0 ? CLI_FAILURE : CLI_OK;
}

static int runs_reindex(int argc, char **argv) {
    enum { O_RUNS_DIR, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_RUNS_DIR] = {.name = "runs-dir",
                        .metavar = "DIR",
                        .help = "the runs directory (default runs)"},
    };
    char *pos[1];
    int npos;
    int rc = cli_parse("runs reindex", "prism runs reindex [--runs-dir DIR]", argc, argv, opts,
                       NOPTS, pos, 0, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *runs = runs_dir_of(&opts[O_RUNS_DIR]);
    int n, skipped;
    char moved[PRISM_PATH_MAX];
    prism_status st = prism_run_index_rebuild(runs, &n, &skipped, moved, sizeof moved);
    if (moved[0])
        fprintf(stderr,
                "prism runs reindex: the index was damaged; moved it aside to %s (delete "
                "it once the new index looks right)\n",
                moved);
    if (st) return cli_fail("runs reindex", st, NULL);
    printf("indexed %d run%s from %s", n, n == 1 ? "" : "s", runs);
    if (skipped)
        printf(" (%d director%s without a readable run.json skipped)", skipped,
               skipped == 1 ? "y" : "ies");
    printf("\n");
    return CLI_OK;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)ftw;
    int r = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    if (r != 0) fprintf(stderr, "prism runs rm: cannot remove '%s': %s\n", path, strerror(errno));
    return r != 0;
}

static int runs_rm(int argc, char **argv) {
    enum { O_FORCE, O_RUNS_DIR, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_FORCE] = {.name = "force",
                     .help = "remove a run whose status is running although no process writes it"},
        [O_RUNS_DIR] = {.name = "runs-dir",
                        .metavar = "DIR",
                        .help = "the runs directory (default runs)"},
    };
    char *pos[2];
    int npos;
    const char *usage = "prism runs rm ID [--force] [--runs-dir DIR]";
    int rc = cli_parse("runs rm", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism runs rm: which run? usage: %s\n", usage);
        return CLI_USAGE;
    }
    const char *runs = runs_dir_of(&opts[O_RUNS_DIR]);
    prism_run_index ix;
    rc = open_index("runs rm", runs, &ix);
    if (rc) return rc;
    prism_run_record r;
    char dir[PRISM_PATH_MAX];
    rc = resolve("runs rm", &ix, runs, pos[0], &r);
    if (!rc) rc = run_dir("runs rm", runs, &r, dir, sizeof dir);
    if (rc) {
        prism_run_index_close(&ix);
        return rc;
    }
    /* the directory's run.json is the truth about the status, not the index */
    prism_run_record cur;
    if (prism_run_record_load(dir, &cur) == PRISM_OK) memcpy(r.status, cur.status, sizeof r.status);
    /* a live writer holds the run's lock: never delete under it, --force or not (it would
     * re-create files in a half-removed directory) */
    struct stat sb;
    prism_dir_lock lock = {0};
    if (stat(dir, &sb) == 0) {
        prism_status lst = prism_dir_lock_acquire(&lock, dir);
        if (lst) {
            prism_run_index_close(&ix);
            return cli_fail("runs rm", lst, "(nothing was removed)");
        }
    }
    if (!strcmp(r.status, "running") && !opts[O_FORCE].count) {
        prism_dir_lock_release(&lock);
        prism_run_index_close(&ix);
        fprintf(stderr,
                "prism runs rm: error: run '%s' has status running, but no process is writing "
                "it (it was probably killed before it could say so); pass --force to remove it\n",
                r.id);
        return CLI_USAGE;
    }
    /* the lock is held until the directory, its .lock included, is gone */
    int removed = stat(dir, &sb) != 0 || nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0;
    prism_dir_lock_release(&lock);
    if (!removed) {
        prism_run_index_close(&ix);
        fprintf(stderr, "prism runs rm: error: could not remove all of '%s' (see above)\n", dir);
        return CLI_FAILURE;
    }
    prism_status st = prism_run_index_remove(&ix, r.id);
    prism_run_index_close(&ix);
    if (st) return cli_fail("runs rm", st, NULL);
    printf("removed %s\n", dir);
    return CLI_OK;
}

static const cli_subcommand subcommands[] = {
    {"ls", runs_ls, "list runs (filter with --where env=...,agent=...,status=...)"},
    {"show", runs_show, "print a run's run.json and its last metrics row"},
    {"diff", runs_diff, "config.ini and final-metric differences between two runs"},
    {"reindex", runs_reindex, "rebuild runs/index.sqlite from the run directories"},
    {"rm", runs_rm, "remove a run directory and its index row"},
};

int cmd_runs(int argc, char **argv) {
    return cli_dispatch(
        "runs", "prism runs SUBCOMMAND [ARGS...]   (IDs may be abbreviated to a unique prefix)",
        subcommands, (int)(sizeof subcommands / sizeof subcommands[0]), argc, argv);
}
