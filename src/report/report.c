/* report/report.c — `prism report`: run discovery, grouping runs by their configuration's
 * identity, the study's statistics and the HTML page with its CSV/JSON data (see
 * prism/report.h, docs/report.md). It parses nothing itself: run.json and metrics.csv come
 * through the archive's readers. Everything here runs once per report, so clarity wins over
 * speed; the statistics themselves live in stats.c. */
#include "prism/archive.h"
#include "prism/config.h"
#include "prism/env.h"
#include "prism/metrics_csv.h"
#include "prism/presets.h"
#include "prism/report.h"
#include "prism/stats.h"
#include "prism/svg.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* NAME_LEN holds an agent label: the preset and the settings that differ from it */
enum { MAX_DEPTH = 3, NAME_LEN = 256 };

typedef struct run {
    char dir[PATH_MAX];
    char env[NAME_LEN], status[32];
    char preset[NAME_LEN]; /* run.json's "agent" */
    char agent[NAME_LEN];  /* the group label: preset plus the settings that differ from it */
    char hash[32];         /* config_hash: run.json's, else computed from config.ini; "" if none */
    uint64_t seed;
    dev_t dev; /* of run.json: the same run reached by two paths is read once */
    ino_t ino;
    int nrows, ncols;
    char **cols;  /* (ncols) column names, owned */
    double *data; /* (nrows, ncols) NaN where empty */
    int c_iter, c_steps, c_ret;
    double final; /* final score, NaN when none */
    int included;
    int config_mismatch; /* config.ini is not the configuration run.json records */
    char note[600];
    char identity_note[300]; /* how the identity was found, added to note after the status */
} run;

typedef struct study {
    run *runs;
    int nruns, cap;
    char envs[64][NAME_LEN], agents[64][NAME_LEN]; /* MAX_GROUP */
    int nenvs, nagents;
} study;

prism_report_options prism_report_options_default(void) {
    prism_report_options o = {2000, 0.95, 0.1, 0, 0};
    return o;
}

/* ---------------------------------------------------------------- reading */

/* run.json through the archive's typed reader; the report also needs env and agent to place
 * the run in its table. */
static prism_status read_run_json(run *r) {
    prism_run_meta *m = prism_alloc(sizeof *m);
    if (!m) return prism_error(PRISM_ERR_NOMEM, "out of memory reading %s/run.json", r->dir);
    prism_status st = prism_run_read(r->dir, m);
    if (st) {
        prism_free(m);
        return st;
    }
    /* runs written before env ids were canonical may hold an alias: one environment, one panel */
    snprintf(r->env, sizeof r->env, "%.*s", (int)sizeof r->env - 1, prism_env_canonical_id(m->env));
    snprintf(r->preset, sizeof r->preset, "%.*s", (int)sizeof r->preset - 1, m->agent);
    snprintf(r->status, sizeof r->status, "%s", prism_run_status_name(m->status));
    /* absent ("") in runs written before the identity hash existed */
    snprintf(r->hash, sizeof r->hash, "%s", m->config_hash);
    r->seed = m->seed;
    prism_run_meta_free(m);
    prism_free(m);
    const char *missing = !r->env[0] ? "env" : !r->preset[0] ? "agent" : NULL;
    if (missing)
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s/run.json: %s is missing or empty; was the run written by prism "
                           "train?",
                           r->dir, missing);
    return PRISM_OK;
}

/* lenient (runs not completed): a row with the wrong number of fields ends the table, since a
 * run that is still writing may have a partial last line; otherwise it is an error. The table
 * reader's arrays become the run's (cols and data are freed with prism_free). */
static prism_status read_metrics(run *r, int lenient) {
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/metrics.csv", r->dir);
    prism_table t;
    prism_status st = prism_table_read(path, lenient ? PRISM_TABLE_LENIENT : 0, &t);
    if (st) return st;
    r->c_iter = prism_table_col(&t, "iteration");
    r->c_steps = prism_table_col(&t, "env_steps");
    r->c_ret = prism_table_col(&t, "return_mean");
    if (r->c_iter < 0 || r->c_steps < 0 || r->c_ret < 0) {
        prism_table_free(&t);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: the header needs the columns iteration, env_steps and "
                           "return_mean",
                           path);
    }
    int incomplete = t.stopped_line ? t.stopped_line : t.torn_line;
    if (incomplete)
        snprintf(r->note, sizeof r->note, "metrics.csv line %d is incomplete; ", incomplete);
    r->cols = t.names, r->data = t.v;
    r->nrows = t.nrows, r->ncols = t.ncols;
    return PRISM_OK;
}

static double cell(const run *r, int row, int col) {
    return r->data[(size_t)row * r->ncols + col];
}

/* Final score: mean of the finite return_mean values in the last ceil(fraction * rows) rows. */
static double final_score(const run *r, double fraction) {
    if (r->nrows == 0) return NAN;
    int k = (int)ceil(fraction * r->nrows - 1e-9);
    if (k < 1) k = 1;
    double s = 0;
    int n = 0;
    for (int i = r->nrows - k; i < r->nrows; i++) {
        double v = cell(r, i, r->c_ret);
        if (isfinite(v)) s += v, n++;
    }
    return n ? s / n : (double)NAN;
}

static void add_note(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(run *r, const char *fmt, ...) {
    size_t used = strlen(r->note);
    if (used >= 2 && strcmp(r->note + used - 2, "; ") && used + 2 < sizeof r->note)
        used += (size_t)snprintf(r->note + used, 3, "; ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + used, sizeof r->note - used, fmt, ap);
    va_end(ap);
}

/* Append " key=value" to the label for each identity setting of `c` that differs from `base`
 * (env is the other axis of the report, so it is not repeated). */
static void append_differences(char *label, size_t cap, const prism_config *c,
                               const prism_config *base) {
    char a[512], b[512], key[80];
    size_t used = strlen(label);
    for (int i = 0; prism_config_key_name(i); i++) {
        const char *name = prism_config_key_name(i);
        if (!prism_config_key_in_identity(i) || !strcmp(name, "env")) continue;
        prism_config_get(c, name, a, sizeof a);
        prism_config_get(base, name, b, sizeof b);
        if (strcmp(a, b) && used < cap)
            used += (size_t)snprintf(label + used, cap - used, " %s=%s", name, a);
    }
    /* env options, set in either */
    for (int pass = 0; pass < 2; pass++) {
        const prism_config *x = pass ? base : c, *y = pass ? c : base;
        for (int e = 0; e < x->n_env_options; e++) {
            snprintf(key, sizeof key, "env.%s", x->env_keys[e]);
            bool in_y = prism_config_get(y, key, b, sizeof b);
            if (pass && in_y) continue; /* compared in the first pass */
            if (in_y && !strcmp(b, x->env_values[e])) continue;
            if (used < cap)
                used += (size_t)snprintf(label + used, cap - used, " %s=%s", key,
                                         pass ? "(unset)" : x->env_values[e]);
        }
    }
}

static void note_identity(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_identity(run *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->identity_note, sizeof r->identity_note, fmt, ap);
    va_end(ap);
}

/* The run's identity and label from its config.ini, checked against run.json's config_hash. A
 * run without either is labelled by its preset name alone, with a note. */
static void label_run(run *r) {
    snprintf(r->agent, sizeof r->agent, "%s", r->preset);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/config.ini", r->dir);
    prism_config c, base;
    prism_config_defaults(&c);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (!r->hash[0])
            note_identity(r, "no config_hash and no config.ini: grouped by preset name only");
        return;
    }
    if (prism_config_load_ini(&c, path)) {
        note_identity(r, "config.ini unreadable (%.200s): grouped by preset name only",
                      prism_error_message());
        return;
    }
    char hash[PRISM_CONFIG_HASH_HEX];
    prism_config_hash_hex(&c, hash);
    if (r->hash[0] && strcmp(r->hash, hash)) {
        r->config_mismatch = 1;
        note_identity(r,
                      "config.ini (config_hash %s) is not the configuration run.json records (%s): "
                      "left out; restore the run's config.ini",
                      hash, r->hash);
        return;
    }
    snprintf(r->hash, sizeof r->hash, "%s", hash);
    prism_config_defaults(&base);
    if (prism_preset_apply(&base, r->preset, c.env)) prism_config_defaults(&base);
    append_differences(r->agent, sizeof r->agent, &c, &base);
}

static prism_status add_run(study *s, const char *dir) {
    if (s->nruns == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        run *nr = prism_calloc((size_t)cap, sizeof *nr);
        if (!nr) return prism_error(PRISM_ERR_NOMEM, "out of memory for %d runs", cap);
        if (s->runs) memcpy(nr, s->runs, (size_t)s->nruns * sizeof *nr);
        prism_free(s->runs);
        s->runs = nr, s->cap = cap;
    }
    char path[PATH_MAX + 16];
    struct stat sb;
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (stat(path, &sb) != 0) return prism_error(PRISM_ERR_NOT_FOUND, "cannot stat %s", path);
    for (int i = 0; i < s->nruns; i++)
        if (s->runs[i].dev == sb.st_dev && s->runs[i].ino == sb.st_ino) return PRISM_OK;
    run *r = &s->runs[s->nruns++];
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    r->dev = sb.st_dev, r->ino = sb.st_ino;
    prism_status st = read_run_json(r);
    if (st == PRISM_ERR_NOMEM) return st;
    if (st) {
        /* one damaged run must not take the study down: list it, left out, with the reason */
        snprintf(r->env, sizeof r->env, "?");
        snprintf(r->agent, sizeof r->agent, "?");
        snprintf(r->status, sizeof r->status, "unreadable");
        snprintf(r->note, sizeof r->note, "%.150s; ", prism_error_message());
        r->c_iter = r->c_steps = r->c_ret = -1;
        return PRISM_OK;
    }
    int completed = !strcmp(r->status, "completed");
    st = read_metrics(r, !completed);
    if (st && !completed && st != PRISM_ERR_NOMEM) {
        /* a run that failed or was stopped early may have no usable metrics: list it anyway */
        snprintf(r->note, sizeof r->note, "%.150s; ", prism_error_message());
        prism_free(r->cols), prism_free(r->data);
        r->cols = NULL, r->data = NULL, r->nrows = r->ncols = 0;
        r->c_iter = r->c_steps = r->c_ret = -1;
        st = PRISM_OK;
    }
    if (!st) label_run(r);
    return st;
}

static int is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A run directory is added; any other directory is searched (sorted, so the order of runs and
 * hence of the bootstrap draws does not depend on the file system). */
static prism_status find_runs(study *s, const char *dir, int depth) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (is_file(path)) return add_run(s, dir);
    if (depth >= MAX_DEPTH) return PRISM_OK;
    DIR *d = opendir(dir);
    if (!d) return PRISM_OK;
    char **names = NULL;
    int n = 0, cap = 0;
    prism_status st = PRISM_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && !st) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **nn = prism_alloc((size_t)cap * sizeof *nn);
            if (!nn) {
                st = prism_error(PRISM_ERR_NOMEM, "out of memory listing %s", dir);
                break;
            }
            if (names) memcpy(nn, names, (size_t)n * sizeof *nn);
            prism_free(names);
            names = nn;
        }
        size_t len = strlen(e->d_name) + 1;
        names[n] = prism_alloc(len);
        if (!names[n]) {
            st = prism_error(PRISM_ERR_NOMEM, "out of memory listing %s", dir);
            break;
        }
        memcpy(names[n++], e->d_name, len);
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!st && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) st = find_runs(s, path, depth + 1);
        prism_free(names[i]);
    }
    prism_free(names);
    return st;
}

/* ---------------------------------------------------------------- grouping */

/* Agent order of the paper's figures: dqn, dqn+X, rainbow, rainbow-X, then the rest. */
static int agent_rank(const char *a) {
    if (!strcmp(a, "dqn")) return 0;
    if (!strncmp(a, "dqn+", 4)) return 1;
    if (!strcmp(a, "rainbow")) return 2;
    if (!strncmp(a, "rainbow-", 8)) return 3;
    return 4;
}

static int cmp_agent(const void *a, const void *b) {
    const char *x = a, *y = b;
    int rx = agent_rank(x), ry = agent_rank(y);
    return rx != ry ? rx - ry : strcmp(x, y);
}

/* Environments in the order of the task table (the paper's), then alphabetically. */
static int env_rank(const char *e) {
    for (int i = 0; i < prism_task_score_count(); i++)
        if (!strcasecmp(prism_task_score_at(i)->env, e)) return i;
    return 1000;
}

static int cmp_env(const void *a, const void *b) {
    int rx = env_rank(a), ry = env_rank(b);
    return rx != ry ? rx - ry : strcmp(a, b);
}

static int index_of(char (*names)[NAME_LEN], int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}

enum { MAX_GROUP = 64 }; /* distinct envs and agents in one report: the paper's study has 9 x 14 */

/* Which runs enter the statistics, and under which label. Runs are in sorted directory order,
 * so "the first" below is deterministic. */
static void select_runs(study *s, double fraction) {
    for (int i = 0; i < s->nruns; i++) {
        run *r = &s->runs[i];
        r->final = final_score(r, fraction);
        r->included = 0;
        if (strcmp(r->status, "completed"))
            add_note(r, "status '%s': not completed, left out", r->status);
        else if (!isfinite(r->final))
            add_note(r, "no episode ended in the last iterations: no final score, left out");
        else if (!r->config_mismatch)
            r->included = 1;
        if (r->identity_note[0]) add_note(r, "%s", r->identity_note);
    }
    /* one configuration, one group: a run whose configuration equals an earlier run's under
     * another label (dqn+double vs dqn agent.double=true) joins that run's group */
    for (int i = 0; i < s->nruns; i++) {
        run *r = &s->runs[i];
        for (int j = 0; j < i && r->included && r->hash[0]; j++) {
            const run *q = &s->runs[j];
            if (q->included && !strcmp(q->hash, r->hash) && !strcmp(q->env, r->env) &&
                strcmp(q->agent, r->agent)) {
                add_note(r, "same configuration as '%.200s': grouped with it", q->agent);
                memmove(r->agent, q->agent, sizeof r->agent); /* q precedes r: distinct */
                break;
            }
        }
    }
    /* the same configuration and seed twice is one result counted twice: keep the first */
    for (int i = 0; i < s->nruns; i++) {
        run *r = &s->runs[i];
        for (int j = 0; j < i && r->included; j++) {
            const run *q = &s->runs[j];
            if (q->included && q->seed == r->seed && !strcmp(q->hash, r->hash) &&
                !strcmp(q->env, r->env) && !strcmp(q->agent, r->agent)) {
                add_note(r, "duplicate of %.300s (same configuration and seed): left out", q->dir);
                r->included = 0;
            }
        }
    }
}

static prism_status group(study *s, double fraction) {
    select_runs(s, fraction);
    for (int i = 0; i < s->nruns; i++) {
        run *r = &s->runs[i];
        if (!r->included) continue;
        int new_env = index_of(s->envs, s->nenvs, r->env) < 0;
        int new_agent = index_of(s->agents, s->nagents, r->agent) < 0;
        if ((new_env && s->nenvs == MAX_GROUP) || (new_agent && s->nagents == MAX_GROUP))
            return prism_error(PRISM_ERR_UNSUPPORTED,
                               "more than %d environments or agents in one report; report "
                               "a subset of the run directories",
                               MAX_GROUP);
        if (new_env) snprintf(s->envs[s->nenvs++], NAME_LEN, "%s", r->env);
        if (new_agent) snprintf(s->agents[s->nagents++], NAME_LEN, "%s", r->agent);
    }
    qsort(s->envs, (size_t)s->nenvs, NAME_LEN, cmp_env);
    qsort(s->agents, (size_t)s->nagents, NAME_LEN, cmp_agent);
    return PRISM_OK;
}

/* Included runs of (env, agent) into out (max entries); returns the count. */
static int runs_of(const study *s, const char *env, const char *agent, const run **out, int max) {
    int n = 0;
    for (int i = 0; i < s->nruns && n < max; i++) {
        const run *r = &s->runs[i];
        if (r->included && !strcmp(r->env, env) && !strcmp(r->agent, agent)) out[n++] = r;
    }
    return n;
}

/* ---------------------------------------------------------------- data tables (CSV + JSON) */

/* One table written twice, as CSV rows and as a JSON array of objects, so the two always agree
 * with each other and with the plots drawn from the same calls. */
typedef struct table {
    const char *name;
    const char *const *cols;
    int ncols, col, nrows;
    prism_svg csv, json;
} table;

static void table_init(table *t, const char *name, const char *const *cols, int ncols) {
    memset(t, 0, sizeof *t);
    t->name = name, t->cols = cols, t->ncols = ncols;
    prism_svg_init(&t->csv);
    prism_svg_init(&t->json);
    for (int i = 0; i < ncols; i++) prism_svg_printf(&t->csv, "%s%s", i ? "," : "", cols[i]);
    prism_svg_printf(&t->csv, "\n");
}

static void table_next(table *t) {
    PRISM_ASSERT(t->col < t->ncols);
    if (t->col == 0) prism_svg_printf(&t->json, "%s\n    {", t->nrows ? "," : "");
    prism_svg_printf(&t->csv, "%s", t->col ? "," : "");
    prism_svg_printf(&t->json, "%s\"%s\": ", t->col ? ", " : "", t->cols[t->col]);
}

static void table_end_cell(table *t) {
    if (++t->col == t->ncols) {
        prism_svg_printf(&t->csv, "\n");
        prism_svg_printf(&t->json, "}");
        t->col = 0, t->nrows++;
    }
}

/* RFC 4180: a field holding a comma, quote, CR or LF goes in double quotes with its quotes
 * doubled; run directories and agent labels are user text and may hold any of them. */
static void csv_field(prism_svg *out, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        prism_svg_printf(out, "%s", s);
        return;
    }
    prism_svg_printf(out, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"') prism_svg_printf(out, "\"");
        prism_svg_printf(out, "%c", *p);
    }
    prism_svg_printf(out, "\"");
}

static void tstr(table *t, const char *s) {
    table_next(t);
    csv_field(&t->csv, s);
    prism_svg_printf(&t->json, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            prism_svg_printf(&t->json, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            prism_svg_printf(&t->json, "\\u%04x", *p);
        else
            prism_svg_printf(&t->json, "%c", *p);
    }
    prism_svg_printf(&t->json, "\"");
    table_end_cell(t);
}

static void tnum(table *t, double v) {
    table_next(t);
    if (isfinite(v)) {
        prism_svg_printf(&t->csv, "%.10g", v);
        prism_svg_printf(&t->json, "%.10g", v);
    } else {
        prism_svg_printf(&t->csv, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        prism_svg_printf(&t->json, "null");
    }
    table_end_cell(t);
}

static void table_free(table *t) {
    prism_svg_free(&t->csv);
    prism_svg_free(&t->json);
}

/* ---------------------------------------------------------------- statistics per cell */

typedef struct curve {
    int n, seeds;
    double *x, *y, *lo, *hi; /* (n) */
} curve;

enum { MAX_SEEDS = 1024 };

/* Mean and bootstrap band across seeds at each iteration; iterations where no seed has a
 * finite return are NaN (a gap in the plot). */
static prism_status make_curve(curve *c, const run **rs, int nr, const prism_report_options *o,
                               prism_rng *rng) {
    int n = 0;
    for (int i = 0; i < nr; i++) n = rs[i]->nrows > n ? rs[i]->nrows : n;
    c->n = n, c->seeds = nr;
    c->x = prism_alloc((size_t)(4 * n + 1) * sizeof(double));
    if (!c->x) return prism_error(PRISM_ERR_NOMEM, "out of memory for a learning curve");
    c->y = c->x + n, c->lo = c->y + n, c->hi = c->lo + n;
    double v[MAX_SEEDS];
    for (int t = 0; t < n; t++) {
        int k = 0;
        c->x[t] = NAN;
        for (int i = 0; i < nr; i++) {
            if (t >= rs[i]->nrows) continue;
            if (!isfinite(c->x[t])) c->x[t] = cell(rs[i], t, rs[i]->c_steps);
            double r = cell(rs[i], t, rs[i]->c_ret);
            if (isfinite(r)) v[k++] = r;
        }
        c->y[t] = c->lo[t] = c->hi[t] = NAN;
        if (k == 0) continue;
        prism_ci ci;
        prism_status st =
            o->student_t ? prism_stats_mean_ci_t(v, k, o->level, &ci)
                         : prism_stats_mean_ci_bootstrap(v, k, o->resamples, o->level, rng, &ci);
        if (st) return st;
        c->y[t] = ci.point;
        if (k >= 2) c->lo[t] = ci.lo, c->hi[t] = ci.hi; /* one seed: a line with no band */
    }
    return PRISM_OK;
}

/* ---------------------------------------------------------------- HTML */

static const char *page_css =
    "body{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:1200px;margin:24px auto;"
    "padding:0 16px;line-height:1.4}h1{font-size:24px}h2{font-size:19px;margin-top:32px;"
    "border-bottom:1px solid #ccc}table{border-collapse:collapse;font-size:13px;margin:8px 0}"
    "td,th{border:1px solid #bbb;padding:3px 7px;text-align:right}th{background:#f0f0f0}"
    "td.l,th.l{text-align:left}.note{color:#8a4b00}.fig{overflow-x:auto}"
    "@media print{body{max-width:none}h2{page-break-after:avoid}.fig{page-break-inside:avoid}}";

static void h(prism_svg *o, const char *text) {
    prism_svg_escape(o, text);
}

static void fmt_ci(char *buf, size_t cap, double m, double lo, double hi) {
    if (!isfinite(lo) || !isfinite(hi))
        snprintf(buf, cap, "%.4g", m);
    else
        snprintf(buf, cap, "%.4g [%.4g, %.4g]", m, lo, hi);
}

static int is_ablation(const study *s) {
    for (int a = 0; a < s->nagents; a++)
        if (agent_rank(s->agents[a]) == 1 || agent_rank(s->agents[a]) == 3) return 1;
    return 0;
}

/* ---------------------------------------------------------------- the report */

typedef struct ctx {
    study st;
    const prism_report_options *o;
    prism_rng rng;
    prism_svg html;
    table t_runs, t_curves, t_final, t_agg, t_poi, t_prof;
    curve *curves; /* (E, A) */
} ctx;

static const char *runs_cols[] = {"dir",        "env",         "agent",    "seed", "status",
                                  "iterations", "final_score", "included", "note"};
static const char *curve_cols[] = {"env",   "agent",       "iteration", "env_steps",
                                   "seeds", "return_mean", "ci_lo",     "ci_hi"};
static const char *final_cols[] = {"env",     "agent", "seeds", "mean",           "boot_lo",
                                   "boot_hi", "t_lo",  "t_hi",  "normalized_mean"};
static const char *agg_cols[] = {"agent", "metric", "tasks", "point", "ci_lo", "ci_hi"};
static const char *poi_cols[] = {"x", "y", "tasks", "p_x_better", "ci_lo", "ci_hi"};
static const char *prof_cols[] = {"agent", "tau", "fraction_above", "ci_lo", "ci_hi"};

static void section_runs(ctx *c) {
    study *s = &c->st;
    prism_svg *o = &c->html;
    prism_svg_printf(o, "<h2>Runs</h2>\n<table><tr><th class=\"l\">run</th><th class=\"l\">env"
                        "</th><th class=\"l\">agent</th><th>seed</th><th class=\"l\">status</th>"
                        "<th>iterations</th><th>final score</th><th class=\"l\">note</th></tr>\n");
    for (int i = 0; i < s->nruns; i++) {
        run *r = &s->runs[i];
        char num[32];
        snprintf(num, sizeof num, "%.4g", r->final);
        prism_svg_printf(o, "<tr><td class=\"l\">");
        h(o, r->dir);
        prism_svg_printf(o, "</td><td class=\"l\">");
        h(o, r->env);
        prism_svg_printf(o, "</td><td class=\"l\">");
        h(o, r->agent);
        prism_svg_printf(o, "</td><td>%llu</td><td class=\"l\">", (unsigned long long)r->seed);
        h(o, r->status);
        prism_svg_printf(o, "</td><td>%d</td><td>%s</td><td class=\"l note\">", r->nrows,
                         isfinite(r->final) ? num : "&#8212;");
        h(o, r->note);
        prism_svg_printf(o, "</td></tr>\n");
        tstr(&c->t_runs, r->dir), tstr(&c->t_runs, r->env), tstr(&c->t_runs, r->agent);
        tnum(&c->t_runs, (double)r->seed), tstr(&c->t_runs, r->status);
        tnum(&c->t_runs, r->nrows), tnum(&c->t_runs, r->final);
        tnum(&c->t_runs, r->included), tstr(&c->t_runs, r->note);
    }
    prism_svg_printf(o, "</table>\n");
}

static prism_status compute_curves(ctx *c) {
    study *s = &c->st;
    c->curves = prism_calloc((size_t)(s->nenvs * s->nagents + 1), sizeof(curve));
    if (!c->curves) return prism_error(PRISM_ERR_NOMEM, "out of memory for learning curves");
    const run *rs[MAX_SEEDS];
    for (int e = 0; e < s->nenvs; e++)
        for (int a = 0; a < s->nagents; a++) {
            int nr = runs_of(s, s->envs[e], s->agents[a], rs, MAX_SEEDS);
            if (!nr) continue;
            curve *cv = &c->curves[e * s->nagents + a];
            prism_status st = make_curve(cv, rs, nr, c->o, &c->rng);
            if (st) return st;
            for (int t = 0; t < cv->n; t++) {
                tstr(&c->t_curves, s->envs[e]), tstr(&c->t_curves, s->agents[a]);
                tnum(&c->t_curves, t), tnum(&c->t_curves, cv->x[t]);
                tnum(&c->t_curves, nr), tnum(&c->t_curves, cv->y[t]);
                tnum(&c->t_curves, cv->lo[t]), tnum(&c->t_curves, cv->hi[t]);
            }
        }
    return PRISM_OK;
}

/* A grid of panels; panel p shows the agents a with include(a, p). */
static prism_status draw_curve_panels(ctx *c, int npanels, const char *const *titles,
                                      const int *env_of, int (*include)(const char *agent, int p),
                                      int cols) {
    study *s = &c->st;
    prism_svg_panel *panels = prism_calloc((size_t)npanels, sizeof *panels);
    prism_svg_series *series = prism_calloc((size_t)(npanels * s->nagents + 1), sizeof *series);
    if (!panels || !series) {
        prism_free(panels), prism_free(series);
        return prism_error(PRISM_ERR_NOMEM, "out of memory for plots");
    }
    for (int p = 0; p < npanels; p++) {
        prism_svg_series *sp = series + p * s->nagents;
        int k = 0;
        for (int a = 0; a < s->nagents; a++) {
            curve *cv = &c->curves[env_of[p] * s->nagents + a];
            if (!cv->n || (include && !include(s->agents[a], p))) continue;
            prism_svg_series r = {s->agents[a], a, cv->n, cv->x, cv->y, cv->lo, cv->hi};
            sp[k++] = r;
        }
        prism_svg_panel pn = {titles[p], "environment steps", "mean training return (points)", k,
                              sp};
        panels[p] = pn;
    }
    prism_svg_printf(&c->html, "<div class=\"fig\">\n");
    prism_svg_panels(&c->html, panels, npanels, cols, 390, 280);
    prism_svg_printf(&c->html, "</div>\n");
    prism_free(panels);
    prism_free(series);
    return PRISM_OK;
}

static int add_one(const char *agent, int p) {
    (void)p;
    int r = agent_rank(agent);
    return r == 0 || r == 1;
}
static int remove_one(const char *agent, int p) {
    (void)p;
    int r = agent_rank(agent);
    return r == 2 || r == 3;
}
static int ablation_side(const char *agent, int p) {
    return p % 2 ? remove_one(agent, p) : add_one(agent, p);
}

/* The per-task interval method, for the page's prose. */
static const char *ci_name(const prism_report_options *o) {
    return o->student_t ? "Student-t" : "percentile-bootstrap";
}

static prism_status section_curves(ctx *c) {
    study *s = &c->st;
    prism_svg_printf(&c->html,
                     "<h2>Learning curves</h2>\n<p>Mean over seeds of the mean return of the "
                     "training episodes that ended in each iteration; shaded: %.0f%% %s "
                     "interval across seeds.</p>\n",
                     100 * c->o->level, ci_name(c->o));
    const char *titles[128];
    int env_of[128];
    for (int e = 0; e < s->nenvs; e++) titles[e] = s->envs[e], env_of[e] = e;
    prism_status st = draw_curve_panels(c, s->nenvs, titles, env_of, NULL, 3);
    if (st || !is_ablation(s)) return st;
    /* Revisiting Rainbow's figure layout: per environment, DQN plus one component on the
     * left, Rainbow minus one component on the right */
    prism_svg_printf(&c->html,
                     "<h2>Ablations</h2>\n<p>Left: DQN and DQN plus one component (add-one). "
                     "Right: Rainbow and Rainbow minus one component (remove-one).</p>\n");
    char names[128][NAME_LEN + 32]; /* 2 * MAX_GROUP panel titles */
    for (int e = 0; e < s->nenvs; e++) {
        snprintf(names[2 * e], sizeof names[0], "%s: add one to DQN", s->envs[e]);
        snprintf(names[2 * e + 1], sizeof names[0], "%s: remove one from Rainbow", s->envs[e]);
        titles[2 * e] = names[2 * e], titles[2 * e + 1] = names[2 * e + 1];
        env_of[2 * e] = env_of[2 * e + 1] = e;
    }
    return draw_curve_panels(c, 2 * s->nenvs, titles, env_of, ablation_side, 2);
}

/* Whether some (env, agent) cell has between 2 and 9 seeds. */
static int few_seeds(const study *s) {
    const run *rs[MAX_SEEDS];
    for (int e = 0; e < s->nenvs; e++)
        for (int a = 0; a < s->nagents; a++) {
            int n = runs_of(s, s->envs[e], s->agents[a], rs, MAX_SEEDS);
            if (n >= 2 && n < 10) return 1;
        }
    return 0;
}

static prism_status section_final(ctx *c) {
    study *s = &c->st;
    prism_svg *o = &c->html;
    prism_svg_printf(o,
                     "<h2>Final scores</h2>\n<p>Final score of a run: the mean of return_mean "
                     "over its last %.0f%% of iterations. Cells: mean over seeds [%.0f%% %s "
                     "interval] and the number of seeds; both the bootstrap and the Student-t "
                     "intervals are in the CSV/JSON.</p>\n",
                     100 * c->o->final_fraction, 100 * c->o->level, ci_name(c->o));
    if (!c->o->student_t && few_seeds(s))
        /* measured (docs/statistics.md): coverage of nominal 95% intervals for the mean of
         * normal samples, 2,000 trials each */
        prism_svg_printf(o, "<p class=\"note\">Note: some cells have fewer than 10 seeds. There "
                            "the percentile bootstrap is too narrow: on normal data its nominal "
                            "95%% interval held the true mean in 76%% of trials with 3 seeds, 83%% "
                            "with 5 and 91%% with 10 (Student-t: 95%%). <code>prism report --ci "
                            "t</code> shows Student-t intervals.</p>\n");
    prism_svg_printf(o, "<table><tr><th class=\"l\">agent</th>");
    for (int e = 0; e < s->nenvs; e++) {
        prism_svg_printf(o, "<th>");
        h(o, s->envs[e]);
        prism_svg_printf(o, "</th>");
    }
    prism_svg_printf(o, "</tr>\n");
    const run *rs[MAX_SEEDS];
    double v[MAX_SEEDS];
    for (int a = 0; a < s->nagents; a++) {
        prism_svg_printf(o, "<tr><td class=\"l\">");
        h(o, s->agents[a]);
        prism_svg_printf(o, "</td>");
        for (int e = 0; e < s->nenvs; e++) {
            int nr = runs_of(s, s->envs[e], s->agents[a], rs, MAX_SEEDS);
            if (!nr) {
                prism_svg_printf(o, "<td>&#8212;</td>");
                continue;
            }
            for (int i = 0; i < nr; i++) v[i] = rs[i]->final;
            prism_ci b, t;
            prism_status st =
                prism_stats_mean_ci_bootstrap(v, nr, c->o->resamples, c->o->level, &c->rng, &b);
            if (!st) st = prism_stats_mean_ci_t(v, nr, c->o->level, &t);
            if (st) return st;
            if (nr < 2) b.lo = b.hi = NAN;
            const prism_ci *shown = c->o->student_t ? &t : &b;
            char cellbuf[96];
            fmt_ci(cellbuf, sizeof cellbuf, shown->point, shown->lo, shown->hi);
            prism_svg_printf(o, "<td>%s (n=%d)</td>", cellbuf, nr);
            const prism_task_score *ts = prism_task_score_find(s->envs[e]);
            tstr(&c->t_final, s->envs[e]), tstr(&c->t_final, s->agents[a]);
            tnum(&c->t_final, nr), tnum(&c->t_final, b.point), tnum(&c->t_final, b.lo);
            tnum(&c->t_final, b.hi), tnum(&c->t_final, t.lo), tnum(&c->t_final, t.hi);
            tnum(&c->t_final,
                 ts ? prism_stats_normalize(b.point, ts->random, ts->reference) : (double)NAN);
        }
        prism_svg_printf(o, "</tr>\n");
    }
    prism_svg_printf(o, "</table>\n");
    return PRISM_OK;
}

/* Normalised final scores of agent a over the normalisable envs it has runs on. */
static int agent_table(const study *s, int a, double *scores, int *nruns, int *env_ids) {
    const run *rs[MAX_SEEDS];
    int nt = 0, k = 0;
    for (int e = 0; e < s->nenvs; e++) {
        const prism_task_score *ts = prism_task_score_find(s->envs[e]);
        int nr = ts ? runs_of(s, s->envs[e], s->agents[a], rs, MAX_SEEDS) : 0;
        if (!nr) continue;
        for (int i = 0; i < nr; i++)
            scores[k++] = prism_stats_normalize(rs[i]->final, ts->random, ts->reference);
        env_ids[nt] = e;
        nruns[nt++] = nr;
    }
    return nt;
}

/* At the top of the page: a task without a reference score silently shrinks every aggregate, so
 * say which ones and why, before any number is read. */
static void notes_missing_scores(ctx *c) {
    for (int e = 0; e < c->st.nenvs; e++) {
        if (prism_task_score_find(c->st.envs[e])) continue;
        const char *why = prism_task_score_missing_reason(c->st.envs[e]);
        prism_svg_printf(&c->html, "<p class=\"note\">Note: ");
        h(&c->html, c->st.envs[e]);
        prism_svg_printf(&c->html, " has no reference score (");
        h(&c->html, why ? why : "not in the task table of docs/statistics.md");
        prism_svg_printf(&c->html, "), so its runs are left out of the aggregate metrics, the "
                                   "probability of improvement and the performance "
                                   "profiles.</p>\n");
    }
}

/* Environment steps a run reached: its last metrics row. */
static double budget(const run *r) {
    return r->nrows ? cell(r, r->nrows - 1, r->c_steps) : (double)NAN;
}

/* Runs of one environment trained for different numbers of steps are averaged in a cell or
 * compared across agents as if they were alike: name each group and budget. */
static void notes_unequal_budgets(ctx *c) {
    const study *s = &c->st;
    for (int e = 0; e < s->nenvs; e++) {
        double first = NAN;
        int differ = 0;
        for (int i = 0; i < s->nruns; i++) {
            const run *r = &s->runs[i];
            if (!r->included || strcmp(r->env, s->envs[e])) continue;
            if (isnan(first)) first = budget(r);
            differ |= budget(r) != first;
        }
        if (!differ) continue;
        prism_svg_printf(&c->html, "<p class=\"note\">Note: runs of unequal budgets on ");
        h(&c->html, s->envs[e]);
        prism_svg_printf(&c->html, ", whose final scores are not comparable:");
        /* each (agent, budget) pair once, with its number of runs */
        for (int i = 0; i < s->nruns; i++) {
            const run *r = &s->runs[i];
            if (!r->included || strcmp(r->env, s->envs[e])) continue;
            int seen = 0, n = 0;
            for (int j = 0; j < s->nruns; j++) {
                const run *q = &s->runs[j];
                if (!q->included || strcmp(q->env, r->env) || strcmp(q->agent, r->agent) ||
                    budget(q) != budget(r))
                    continue;
                seen |= j < i;
                n++;
            }
            if (seen) continue;
            prism_svg_printf(&c->html, " ");
            h(&c->html, r->agent);
            prism_svg_printf(&c->html, ": %.0f steps (%d run%s);", budget(r), n, n == 1 ? "" : "s");
        }
        prism_svg_printf(&c->html, " give them the same train.steps.</p>\n");
    }
}

static prism_status section_aggregates(ctx *c) {
    study *s = &c->st;
    prism_svg *o = &c->html;
    int A = s->nagents, cap = s->nruns + 1;
    double *scores = prism_alloc((size_t)(2 * cap) * sizeof(double));
    int *nruns = prism_alloc((size_t)(2 * (s->nenvs + 1)) * sizeof(int));
    int *envs = prism_alloc((size_t)(2 * (s->nenvs + 1)) * sizeof(int));
    prism_ci *vals = prism_alloc((size_t)(PRISM_AGG_COUNT * A + 1) * sizeof(prism_ci));
    const char **labels = prism_alloc((size_t)(A + 1) * sizeof(char *));
    int *styles = prism_alloc((size_t)(A + 1) * sizeof(int));
    prism_status st = PRISM_OK;
    if (!scores || !nruns || !envs || !vals || !labels || !styles) {
        st = prism_error(PRISM_ERR_NOMEM, "out of memory for aggregate metrics");
        goto done;
    }
    prism_svg_printf(o,
                     "<h2>Aggregate metrics</h2>\n<p>Scores normalised per task as (score "
                     "&#8722; random) / (reference &#8722; random), with the random-policy "
                     "and reference scores of docs/statistics.md. IQM, median, mean and "
                     "optimality gap (&#947; = 1; lower is better) as defined by Agarwal "
                     "et al. (2021), with %.0f%% stratified percentile-bootstrap intervals "
                     "(%d resamples).</p>\n",
                     100 * c->o->level, c->o->resamples);
    for (int e = 0; e < s->nenvs; e++) {
        const prism_task_score *ts = prism_task_score_find(s->envs[e]);
        if (!ts) {
            prism_svg_printf(o, "<p class=\"note\">Note: ");
            h(o, s->envs[e]);
            prism_svg_printf(o, " has no random/reference score, so it is left out of the "
                                "aggregates.</p>\n");
        } else if (strstr(ts->source, "UNVERIFIED")) {
            prism_svg_printf(o, "<p class=\"note\">Note: the normalisation of ");
            h(o, s->envs[e]);
            prism_svg_printf(o, " uses unverified values (");
            h(o, ts->source);
            prism_svg_printf(o, ").</p>\n");
        }
    }
    int used = 0, ntasks_first = -1, differ = 0;
    for (int a = 0; a < A; a++) {
        int nt = agent_table(s, a, scores, nruns, envs);
        labels[used] = s->agents[a], styles[used] = a; /* the agent's colour in every figure */
        if (!nt) continue;
        if (ntasks_first < 0) ntasks_first = nt;
        differ |= nt != ntasks_first;
        prism_score_table tab = {nt, nruns, scores};
        for (int m = 0; m < PRISM_AGG_COUNT; m++) {
            prism_ci *v = &vals[m * A + used];
            st = prism_stats_aggregate_ci(m, &tab, 1.0, c->o->resamples, c->o->level, &c->rng, v);
            if (st) goto done;
            tstr(&c->t_agg, s->agents[a]), tstr(&c->t_agg, prism_aggregate_name(m));
            tnum(&c->t_agg, nt), tnum(&c->t_agg, v->point), tnum(&c->t_agg, v->lo);
            tnum(&c->t_agg, v->hi);
        }
        used++;
    }
    if (!used) {
        prism_svg_printf(o, "<p class=\"note\">No task with a reference score: no aggregate "
                            "metrics.</p>\n");
        goto done;
    }
    if (differ)
        prism_svg_printf(o, "<p class=\"note\">Note: the agents were run on different sets of "
                            "tasks, so their aggregates are not directly comparable.</p>\n");
    /* the interval plot wants (M, A) rows with A = used */
    for (int m = 1; m < PRISM_AGG_COUNT; m++)
        memmove(&vals[m * used], &vals[m * A], (size_t)used * sizeof *vals);
    const char *titles[PRISM_AGG_COUNT];
    for (int m = 0; m < PRISM_AGG_COUNT; m++) titles[m] = prism_aggregate_title(m);
    prism_svg_printf(o, "<div class=\"fig\">\n");
    prism_svg_intervals(o, titles, PRISM_AGG_COUNT, labels, styles, used, vals, 210, NAN, NAN);
    prism_svg_printf(o, "</div>\n<p>Horizontal axes: normalised score (1 = reference, 0 = "
                        "random policy).</p>\n");
    prism_svg_printf(o, "<table><tr><th class=\"l\">agent</th>");
    for (int m = 0; m < PRISM_AGG_COUNT; m++) prism_svg_printf(o, "<th>%s</th>", titles[m]);
    prism_svg_printf(o, "</tr>\n");
    for (int a = 0; a < used; a++) {
        prism_svg_printf(o, "<tr><td class=\"l\">");
        h(o, labels[a]);
        prism_svg_printf(o, "</td>");
        for (int m = 0; m < PRISM_AGG_COUNT; m++) {
            char b[96];
            prism_ci *v = &vals[m * used + a];
            fmt_ci(b, sizeof b, v->point, v->lo, v->hi);
            prism_svg_printf(o, "<td>%s</td>", b);
        }
        prism_svg_printf(o, "</tr>\n");
    }
    prism_svg_printf(o, "</table>\n");
done:
    prism_free(scores), prism_free(nruns), prism_free(envs), prism_free(vals);
    prism_free(labels), prism_free(styles);
    return st;
}

/* P(X > baseline) for every other agent X, over the tasks both have; the baseline is dqn when
 * present, else the first agent. */
static prism_status section_poi(ctx *c) {
    study *s = &c->st;
    prism_svg *o = &c->html;
    if (s->nagents < 2) return PRISM_OK;
    int base = index_of(s->agents, s->nagents, "dqn");
    if (base < 0) base = 0;
    int cap = s->nruns + 1, ne = s->nenvs + 1;
    double *xs = prism_alloc((size_t)(2 * cap) * sizeof(double)), *ys = xs ? xs + cap : NULL;
    int *ints = prism_alloc((size_t)(6 * ne) * sizeof(int));
    prism_ci *vals = prism_alloc((size_t)s->nagents * sizeof(prism_ci));
    const char **labels = prism_alloc((size_t)s->nagents * sizeof(char *));
    int *styles = prism_alloc((size_t)s->nagents * sizeof(int));
    prism_status st = PRISM_OK;
    if (!xs || !ints || !vals || !labels || !styles) {
        st = prism_error(PRISM_ERR_NOMEM, "out of memory for probability of improvement");
        goto done;
    }
    int *nx = ints, *ny = ints + ne, *ex = ints + 2 * ne, *ey = ints + 3 * ne;
    double *bs = prism_alloc((size_t)cap * sizeof(double));
    if (!bs) {
        st = prism_error(PRISM_ERR_NOMEM, "out of memory for probability of improvement");
        goto done;
    }
    int nb = agent_table(s, base, bs, ny, ey), used = 0;
    for (int a = 0; a < s->nagents && nb; a++) {
        if (a == base) continue;
        int na = agent_table(s, a, xs, nx, ex);
        /* keep the tasks both agents have, in the same order */
        int tx = 0, ty = 0, kx = 0, ky = 0, ox = 0, oy = 0, nt = 0;
        int *cx = ints + 4 * ne, *cy = ints + 5 * ne;
        /* both tables list envs in the study's order: walk them together, compacting the
         * shared tasks' scores to the front of xs (in place: ox <= kx) and into ys */
        while (tx < na && ty < nb) {
            if (ex[tx] < ey[ty]) {
                kx += nx[tx++];
            } else if (ex[tx] > ey[ty]) {
                ky += ny[ty++];
            } else {
                memmove(xs + ox, xs + kx, (size_t)nx[tx] * sizeof(double));
                memcpy(ys + oy, bs + ky, (size_t)ny[ty] * sizeof(double));
                cx[nt] = nx[tx], cy[nt] = ny[ty], nt++;
                ox += nx[tx], oy += ny[ty];
                kx += nx[tx++], ky += ny[ty++];
            }
        }
        if (!nt) continue;
        prism_score_table X = {nt, cx, xs}, Y = {nt, cy, ys};
        st = prism_stats_prob_improvement(&X, &Y, c->o->resamples, c->o->level, &c->rng,
                                          &vals[used]);
        if (st) break;
        labels[used] = s->agents[a], styles[used] = a;
        tstr(&c->t_poi, s->agents[a]), tstr(&c->t_poi, s->agents[base]);
        tnum(&c->t_poi, nt), tnum(&c->t_poi, vals[used].point), tnum(&c->t_poi, vals[used].lo);
        tnum(&c->t_poi, vals[used].hi);
        used++;
    }
    prism_free(bs);
    if (st || !used) goto done;
    char title[NAME_LEN + 32];
    snprintf(title, sizeof title, "P(agent > %s)", s->agents[base]);
    const char *titles[] = {title};
    prism_svg_printf(o, "<h2>Probability of improvement</h2>\n<p>P(X &gt; ");
    h(o, s->agents[base]);
    prism_svg_printf(o,
                     "): the probability that a run of X scores above a run of the baseline "
                     "on a task (Mann-Whitney U / (n<sub>x</sub> n<sub>y</sub>), ties count "
                     "one half), averaged over the tasks both have; %.0f%% stratified "
                     "bootstrap intervals. 0.5 means no difference.</p>\n<div class=\"fig\">\n",
                     100 * c->o->level);
    prism_svg_intervals(o, titles, 1, labels, styles, used, vals, 320, 0, 1);
    prism_svg_printf(o, "</div>\n");
done:
    prism_free(xs), prism_free(ints), prism_free(vals), prism_free(labels), prism_free(styles);
    return st;
}

static prism_status section_profiles(ctx *c) {
    study *s = &c->st;
    enum { NTAU = 41 };
    int A = s->nagents, cap = s->nruns + 1;
    double *scores = prism_alloc((size_t)cap * sizeof(double));
    int *nruns = prism_alloc((size_t)(2 * (s->nenvs + 1)) * sizeof(int));
    double *buf = prism_alloc((size_t)(A * NTAU * 4 + NTAU) * sizeof(double));
    prism_ci *ci = prism_alloc(NTAU * sizeof(prism_ci));
    prism_svg_series *series = prism_calloc((size_t)A + 1, sizeof *series);
    prism_status st = PRISM_OK;
    if (!scores || !nruns || !buf || !ci || !series) {
        st = prism_error(PRISM_ERR_NOMEM, "out of memory for performance profiles");
        goto done;
    }
    int *envs = nruns + s->nenvs + 1;
    /* the tau grid spans every agent's normalised scores and at least [0, 1] */
    double lo = 0, hi = 1;
    for (int a = 0; a < A; a++) {
        int nt = agent_table(s, a, scores, nruns, envs), k = 0;
        for (int t = 0; t < nt; t++) k += nruns[t];
        for (int i = 0; i < k; i++) lo = fmin(lo, scores[i]), hi = fmax(hi, scores[i]);
    }
    double *tau = buf + (size_t)A * NTAU * 4;
    for (int i = 0; i < NTAU; i++) tau[i] = lo + (hi - lo) * i / (NTAU - 1);
    int used = 0;
    for (int a = 0; a < A; a++) {
        int nt = agent_table(s, a, scores, nruns, envs);
        if (!nt) continue;
        prism_score_table tab = {nt, nruns, scores};
        st = prism_stats_performance_profile(&tab, tau, NTAU, c->o->resamples, c->o->level, &c->rng,
                                             ci);
        if (st) goto done;
        double *y = buf + (size_t)used * NTAU * 4, *l = y + NTAU, *u = l + NTAU, *x = u + NTAU;
        for (int i = 0; i < NTAU; i++) {
            x[i] = tau[i], y[i] = ci[i].point, l[i] = ci[i].lo, u[i] = ci[i].hi;
            tstr(&c->t_prof, s->agents[a]), tnum(&c->t_prof, tau[i]);
            tnum(&c->t_prof, y[i]), tnum(&c->t_prof, l[i]), tnum(&c->t_prof, u[i]);
        }
        prism_svg_series r = {s->agents[a], a, NTAU, x, y, l, u};
        series[used++] = r;
    }
    if (!used) goto done;
    prism_svg_printf(&c->html,
                     "<h2>Performance profiles</h2>\n<p>Fraction of runs (per task, averaged "
                     "over tasks) whose normalised final score exceeds &#964;, with %.0f%% "
                     "stratified bootstrap bands.</p>\n<div class=\"fig\">\n",
                     100 * c->o->level);
    prism_svg_panel pn = {"Performance profile",
                          "normalised score threshold \xcf\x84 (1 = reference)",
                          "fraction of runs with score > \xcf\x84", used, series};
    prism_svg_panels(&c->html, &pn, 1, 1, 560, 340);
    prism_svg_printf(&c->html, "</div>\n");
done:
    prism_free(scores), prism_free(nruns), prism_free(buf), prism_free(ci), prism_free(series);
    return st;
}

/* The single-run view: every numeric column of metrics.csv against env_steps. */
static prism_status section_single(ctx *c, const run *r) {
    enum { MAXP = 48 };
    prism_svg_panel panels[MAXP];
    prism_svg_series series[MAXP];
    double *x = prism_alloc((size_t)(r->nrows + 1) * (MAXP + 1) * sizeof(double));
    if (!x) return prism_error(PRISM_ERR_NOMEM, "out of memory for the single-run view");
    int np = 0;
    for (int i = 0; i < r->nrows; i++) x[i] = cell(r, i, r->c_steps);
    /* return first, then the diagnostics in file order */
    int order[256], no = 0;
    order[no++] = r->c_ret;
    for (int k = 0; k < r->ncols && no < 256; k++)
        if (k != r->c_ret && k != r->c_iter && k != r->c_steps) order[no++] = k;
    for (int j = 0; j < no && np < MAXP; j++) {
        int k = order[j], finite = 0;
        double *y = x + (size_t)(np + 1) * (r->nrows + 1);
        for (int i = 0; i < r->nrows; i++) finite += isfinite(y[i] = cell(r, i, k));
        if (!finite) continue; /* a text column or an empty one */
        prism_svg_series sr = {r->cols[k], 0, r->nrows, x, y, NULL, NULL};
        series[np] = sr;
        prism_svg_panel pn = {r->cols[k], "environment steps",
                              k == r->c_ret ? "mean training return (points)" : r->cols[k], 1,
                              &series[np]};
        panels[np++] = pn;
    }
    prism_svg_printf(&c->html, "<h2>Single run: ");
    h(&c->html, r->dir);
    prism_svg_printf(&c->html, "</h2>\n<p>");
    h(&c->html, r->agent);
    prism_svg_printf(&c->html, " on ");
    h(&c->html, r->env);
    prism_svg_printf(&c->html, ", seed %llu, status ", (unsigned long long)r->seed);
    h(&c->html, r->status);
    prism_svg_printf(&c->html, ". Every numeric column of metrics.csv (sys_* columns are "
                               "timings in the trainer's units).</p>\n<div class=\"fig\">\n");
    if (np) prism_svg_panels(&c->html, panels, np, 3, 390, 260);
    prism_svg_printf(&c->html, "</div>\n");
    prism_free(x);
    return PRISM_OK;
}

static prism_status write_text(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return prism_error(PRISM_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    size_t w = fwrite(text, 1, len, f);
    int bad = fclose(f) != 0 || w != len;
    if (bad) return prism_error(PRISM_ERR_IO, "cannot write %s (disk full?)", path);
    return PRISM_OK;
}

static void free_ctx(ctx *c) {
    for (int i = 0; i < c->st.nruns; i++) {
        prism_free(c->st.runs[i].cols);
        prism_free(c->st.runs[i].data);
    }
    prism_free(c->st.runs);
    if (c->curves)
        for (int i = 0; i < c->st.nenvs * c->st.nagents; i++) prism_free(c->curves[i].x);
    prism_free(c->curves);
    prism_svg_free(&c->html);
    table *ts[] = {&c->t_runs, &c->t_curves, &c->t_final, &c->t_agg, &c->t_poi, &c->t_prof};
    for (int i = 0; i < 6; i++) table_free(ts[i]);
}

prism_status prism_report_write(const char *const *dirs, int ndirs, const char *out_html,
                                const prism_report_options *opt, prism_report_summary *sum) {
    if (opt->resamples < 1 || !(opt->level > 0 && opt->level < 1) ||
        !(opt->final_fraction > 0 && opt->final_fraction <= 1))
        return prism_error(PRISM_ERR_INVALID, "report options: resamples must be >= 1, level "
                                              "and final fraction in (0, 1]");
    size_t olen = strlen(out_html);
    if (olen < 6 || strcmp(out_html + olen - 5, ".html"))
        return prism_error(PRISM_ERR_INVALID, "the report file '%s' must end in .html", out_html);
    ctx c;
    memset(&c, 0, sizeof c);
    memset(sum, 0, sizeof *sum);
    c.o = opt;
    prism_rng_seed(&c.rng, opt->seed, PRISM_STREAM_BOOTSTRAP);
    prism_status st = PRISM_OK;
    for (int i = 0; i < ndirs && !st; i++) {
        struct stat sb;
        if (stat(dirs[i], &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = prism_error(PRISM_ERR_NOT_FOUND, "%s is not a directory", dirs[i]);
        else
            st = find_runs(&c.st, dirs[i], 0);
    }
    if (!st && c.st.nruns == 0)
        st = prism_error(PRISM_ERR_NOT_FOUND,
                         "no run directory (one with a run.json) found under the given "
                         "director%s (searched %d levels deep)",
                         ndirs == 1 ? "y" : "ies", MAX_DEPTH);
    if (st) {
        free_ctx(&c);
        return st;
    }
    st = group(&c.st, opt->final_fraction);
    if (st) {
        free_ctx(&c);
        return st;
    }
    table_init(&c.t_runs, "runs", runs_cols, 9);
    table_init(&c.t_curves, "curves", curve_cols, 8);
    table_init(&c.t_final, "final_scores", final_cols, 9);
    table_init(&c.t_agg, "aggregates", agg_cols, 6);
    table_init(&c.t_poi, "probability_of_improvement", poi_cols, 6);
    table_init(&c.t_prof, "performance_profiles", prof_cols, 5);
    prism_svg *o = &c.html;
    prism_svg_init(o);
    int included = 0;
    for (int i = 0; i < c.st.nruns; i++) included += c.st.runs[i].included;
    prism_svg_printf(o,
                     "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                     "<title>prism report</title>\n<style>%s</style>\n</head>\n<body>\n"
                     "<h1>prism report</h1>\n<p>%d run%s found, %d completed and used in "
                     "the statistics; %d environment%s, %d agent%s. prism %s.</p>\n",
                     page_css, c.st.nruns, c.st.nruns == 1 ? "" : "s", included, c.st.nenvs,
                     c.st.nenvs == 1 ? "" : "s", c.st.nagents, c.st.nagents == 1 ? "" : "s",
                     PRISM_VERSION);
    if (included < c.st.nruns)
        prism_svg_printf(o,
                         "<p class=\"note\">Note: %d run%s left out of every statistic (not "
                         "completed, no final score, a duplicate, or a config.ini that run.json "
                         "does not record); the run table says why.</p>\n",
                         c.st.nruns - included, c.st.nruns - included == 1 ? " is" : "s are");
    notes_missing_scores(&c);
    notes_unequal_budgets(&c);
    if (c.st.nruns == 1) st = section_single(&c, &c.st.runs[0]);
    if (!st && included) st = compute_curves(&c);
    if (!st && included) st = section_curves(&c);
    if (!st && included) st = section_final(&c);
    if (!st && included) st = section_aggregates(&c);
    if (!st && included) st = section_poi(&c);
    if (!st && included) st = section_profiles(&c);
    if (!st) section_runs(&c);
    /* data files beside the HTML: <stem>.<table>.csv and one <stem>.json with every table */
    char stem[PATH_MAX];
    snprintf(stem, sizeof stem, "%.*s", (int)(olen - 5), out_html);
    table *ts[] = {&c.t_curves, &c.t_final, &c.t_agg, &c.t_poi, &c.t_prof, &c.t_runs};
    prism_svg json;
    prism_svg_init(&json);
    prism_svg_printf(&json,
                     "{\n  \"prism_version\": \"%s\", \"resamples\": %d, \"level\": %g, "
                     "\"final_fraction\": %g, \"seed\": %llu, \"ci\": \"%s\"",
                     PRISM_VERSION, opt->resamples, opt->level, opt->final_fraction,
                     (unsigned long long)opt->seed, opt->student_t ? "t" : "bootstrap");
    for (int i = 0; i < 6; i++)
        prism_svg_printf(&json, ",\n  \"%s\": [%s\n  ]", ts[i]->name,
                         ts[i]->json.buf ? ts[i]->json.buf : "");
    prism_svg_printf(&json, "\n}\n");
    if (!st) {
        prism_svg_printf(o, "<h2>Data</h2>\n<p>Every number plotted is in ");
        for (int i = 0; i < 6; i++) {
            const char *base = strrchr(stem, '/');
            base = base ? base + 1 : stem;
            prism_svg_printf(o, "<code>");
            h(o, base);
            prism_svg_printf(o, ".%s.csv</code>, ", ts[i]->name);
        }
        prism_svg_printf(o, "and all of it in <code>");
        h(o, strrchr(stem, '/') ? strrchr(stem, '/') + 1 : stem);
        prism_svg_printf(o, ".json</code>.</p>\n</body>\n</html>\n");
    }
    for (int i = 0; i < 6 && !st; i++) st = prism_svg_status(&ts[i]->csv);
    if (!st) st = prism_svg_status(&json);
    if (!st) st = prism_svg_status(o);
    if (!st) st = write_text(out_html, o->buf, o->len);
    if (!st) snprintf(sum->files[sum->nfiles++], sizeof sum->files[0], "%s", out_html);
    for (int i = 0; i < 6 && !st; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s.%s.csv", stem, ts[i]->name);
        st = write_text(path, ts[i]->csv.buf, ts[i]->csv.len);
        if (!st) snprintf(sum->files[sum->nfiles++], sizeof sum->files[0], "%s", path);
    }
    if (!st) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s.json", stem);
        st = write_text(path, json.buf, json.len);
        if (!st) snprintf(sum->files[sum->nfiles++], sizeof sum->files[0], "%s", path);
    }
    sum->runs_found = c.st.nruns, sum->runs_included = included;
    sum->runs_unreadable = 0;
    for (int i = 0; i < c.st.nruns; i++)
        if (!strcmp(c.st.runs[i].status, "unreadable") && sum->runs_unreadable++ == 0) {
            const char *note = c.st.runs[i].note, *end = strstr(note, "; "); /* the reason */
            snprintf(sum->unreadable, sizeof sum->unreadable, "%.*s",
                     (int)(end ? end - note : (long)strlen(note)), note);
        }
    sum->envs = c.st.nenvs, sum->agents = c.st.nagents;
    prism_svg_free(&json);
    free_ctx(&c);
    return st;
}
