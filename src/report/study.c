/* report/study.c — the study behind a report: finding the run directories and reading them
 * through the archive's readers (prism_run_read, prism_table_read), labelling each run by its
 * configuration's identity (config_hash), grouping the runs into cells of one environment and
 * one configuration, and every statistic the report shows: per-cell learning curves and final
 * scores, the aggregate metrics over tasks, the probability of improvement and the performance
 * profiles (the formulas are stats.c's, the reference scores task_scores.c's).
 *
 * It is not the page or the data files: it writes no file and formats no number (html.c and
 * data.c show what it computes), and it parses no file itself. Everything here runs once per
 * report, so clarity wins over speed. */
#include "study.h"

#include "prism/archive.h"
#include "prism/config.h"
#include "prism/env.h"
#include "prism/metrics_csv.h"
#include "prism/presets.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- reading */

/* run.json through the archive's typed reader; the report also needs env and agent to place
 * the run in its table. */
static prism_status read_run_json(study_run *r) {
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
    snprintf(r->commit, sizeof r->commit, "%s", m->build.commit);
    r->dirty = m->build.dirty;
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
static prism_status read_metrics(study_run *r, int lenient) {
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

/* Final score: mean of the finite return_mean values in the last ceil(fraction * rows) rows. */
static double final_score(const study_run *r, double fraction) {
    if (r->nrows == 0) return NAN;
    int k = (int)ceil(fraction * r->nrows - 1e-9);
    if (k < 1) k = 1;
    double s = 0;
    int n = 0;
    for (int i = r->nrows - k; i < r->nrows; i++) {
        double v = study_value(r, i, r->c_ret);
        if (isfinite(v)) s += v, n++;
    }
    return n ? s / n : (double)NAN;
}

static void add_note(study_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(study_run *r, const char *fmt, ...) {
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
        if (!prism_config_key_counts(c, i) || !strcmp(name, "env")) continue;
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

static void note_identity(study_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_identity(study_run *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->identity_note, sizeof r->identity_note, fmt, ap);
    va_end(ap);
}

/* The first earlier run in `s` of the same label and environment with a readable config.ini,
 * loaded into `out`; false if none. */
static bool first_of_label(const study *s, const study_run *r, prism_config *out) {
    char path[PATH_MAX + 16];
    for (const study_run *q = s->runs; q < r; q++) {
        if (!q->hash[0] || strcmp(q->preset, r->preset) || strcmp(q->env, r->env)) continue;
        snprintf(path, sizeof path, "%s/config.ini", q->dir);
        prism_config_defaults(out);
        if (!prism_config_load_ini(out, path)) return true;
    }
    return false;
}

/* The run's identity and label from its config.ini, checked against run.json's config_hash. A
 * run without either is labelled by its preset name alone, with a note. A run named by a
 * user's label (`train --label`, a sweep's LABEL=PRESET) has no preset to compare with: the
 * label names its configuration, and a later run of the same label and environment with
 * another configuration is told apart by the settings where it differs from the first. */
static void label_run(const study *s, study_run *r) {
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
    r->train_steps = c.train.steps;
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
    if (prism_preset_apply(&base, r->preset, c.env)) {
        if (!first_of_label(s, r, &base)) return;
    }
    append_differences(r->agent, sizeof r->agent, &c, &base);
}

static prism_status add_run(study *s, const char *dir) {
    if (s->nruns == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        study_run *nr = prism_calloc((size_t)cap, sizeof *nr);
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
    study_run *r = &s->runs[s->nruns++];
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
    if (!st) label_run(s, r);
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
    if (depth >= STUDY_MAX_DEPTH) return PRISM_OK;
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

prism_status study_find_runs(study *s, const char *dir) {
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return prism_error(PRISM_ERR_NOT_FOUND, "%s is not a directory", dir);
    return find_runs(s, dir, 0);
}

/* ---------------------------------------------------------------- grouping */

int study_agent_rank(const char *a) {
    if (!strcmp(a, "dqn")) return 0;
    if (!strncmp(a, "dqn+", 4)) return 1;
    if (!strcmp(a, "rainbow")) return 2;
    if (!strncmp(a, "rainbow-", 8)) return 3;
    return 4;
}

static int cmp_agent(const void *a, const void *b) {
    const char *x = a, *y = b;
    int rx = study_agent_rank(x), ry = study_agent_rank(y);
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

/* The index of name among n names of STUDY_NAME_LEN bytes each from names (a study's envs or
 * agents), or -1. */
static int index_of(const char *names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names + (size_t)i * STUDY_NAME_LEN, name)) return i;
    return -1;
}

/* Which runs enter the statistics, and under which label. Runs are in sorted directory order,
 * so "the first" below is deterministic. */
static void select_runs(study *s, double fraction) {
    for (int i = 0; i < s->nruns; i++) {
        study_run *r = &s->runs[i];
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
        study_run *r = &s->runs[i];
        for (int j = 0; j < i && r->included && r->hash[0]; j++) {
            const study_run *q = &s->runs[j];
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
        study_run *r = &s->runs[i];
        for (int j = 0; j < i && r->included; j++) {
            const study_run *q = &s->runs[j];
            if (q->included && q->seed == r->seed && !strcmp(q->hash, r->hash) &&
                !strcmp(q->env, r->env) && !strcmp(q->agent, r->agent)) {
                add_note(r, "duplicate of %.300s (same configuration and seed): left out", q->dir);
                r->included = 0;
            }
        }
    }
}

prism_status study_group(study *s, double fraction) {
    select_runs(s, fraction);
    for (int i = 0; i < s->nruns; i++) {
        study_run *r = &s->runs[i];
        if (!r->included) continue;
        int new_env = index_of(s->envs[0], s->nenvs, r->env) < 0;
        int new_agent = index_of(s->agents[0], s->nagents, r->agent) < 0;
        if ((new_env && s->nenvs == STUDY_MAX_GROUP) ||
            (new_agent && s->nagents == STUDY_MAX_GROUP))
            return prism_error(PRISM_ERR_UNSUPPORTED,
                               "more than %d environments or agents in one report; report "
                               "a subset of the run directories",
                               STUDY_MAX_GROUP);
        if (new_env) snprintf(s->envs[s->nenvs++], STUDY_NAME_LEN, "%s", r->env);
        if (new_agent) snprintf(s->agents[s->nagents++], STUDY_NAME_LEN, "%s", r->agent);
    }
    qsort(s->envs, (size_t)s->nenvs, STUDY_NAME_LEN, cmp_env);
    qsort(s->agents, (size_t)s->nagents, STUDY_NAME_LEN, cmp_agent);
    return PRISM_OK;
}

/* Included runs of (env, agent) into out (max entries); returns the count. */
static int runs_of(const study *s, const char *env, const char *agent, const study_run **out,
                   int max) {
    int n = 0;
    for (int i = 0; i < s->nruns && n < max; i++) {
        const study_run *r = &s->runs[i];
        if (r->included && !strcmp(r->env, env) && !strcmp(r->agent, agent)) out[n++] = r;
    }
    return n;
}

int study_included(const study *s) {
    int n = 0;
    for (int i = 0; i < s->nruns; i++) n += s->runs[i].included;
    return n;
}

void study_free(study *s) {
    for (int i = 0; i < s->nruns; i++) {
        prism_free(s->runs[i].cols);
        prism_free(s->runs[i].data);
    }
    prism_free(s->runs);
    s->runs = NULL, s->nruns = s->cap = 0;
}

/* ---------------------------------------------------------------- statistics */

/* Mean and bootstrap band across seeds at each iteration; iterations where no seed has a
 * finite return are NaN (a gap in the plot). */
static prism_status make_curve(study_curve *c, const study_run **rs, int nr,
                               const prism_report_options *o, prism_rng *rng) {
    int n = 0;
    for (int i = 0; i < nr; i++) n = rs[i]->nrows > n ? rs[i]->nrows : n;
    c->n = n, c->seeds = nr;
    c->x = prism_alloc((size_t)(4 * n + 1) * sizeof(double));
    if (!c->x) return prism_error(PRISM_ERR_NOMEM, "out of memory for a learning curve");
    c->y = c->x + n, c->lo = c->y + n, c->hi = c->lo + n;
    double v[STUDY_MAX_SEEDS];
    for (int t = 0; t < n; t++) {
        int k = 0;
        c->x[t] = NAN;
        for (int i = 0; i < nr; i++) {
            if (t >= rs[i]->nrows) continue;
            if (!isfinite(c->x[t])) c->x[t] = study_value(rs[i], t, rs[i]->c_steps);
            double r = study_value(rs[i], t, rs[i]->c_ret);
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

static prism_status compute_curves(const study *s, const prism_report_options *o, prism_rng *rng,
                                   study_stats *out) {
    const study_run *rs[STUDY_MAX_SEEDS];
    for (int e = 0; e < s->nenvs; e++)
        for (int a = 0; a < s->nagents; a++) {
            int nr = runs_of(s, s->envs[e], s->agents[a], rs, STUDY_MAX_SEEDS);
            if (!nr) continue;
            prism_status st = make_curve(&out->curves[e * s->nagents + a], rs, nr, o, rng);
            if (st) return st;
        }
    return PRISM_OK;
}

/* Both intervals of every cell's mean final score; the bootstrap draws go agent by agent. */
static prism_status compute_finals(const study *s, const prism_report_options *o, prism_rng *rng,
                                   study_stats *out) {
    const study_run *rs[STUDY_MAX_SEEDS];
    double v[STUDY_MAX_SEEDS];
    for (int a = 0; a < s->nagents; a++)
        for (int e = 0; e < s->nenvs; e++) {
            int nr = runs_of(s, s->envs[e], s->agents[a], rs, STUDY_MAX_SEEDS);
            if (!nr) continue;
            for (int i = 0; i < nr; i++) v[i] = rs[i]->final;
            prism_ci b, t;
            prism_status st = prism_stats_mean_ci_bootstrap(v, nr, o->resamples, o->level, rng, &b);
            if (!st) st = prism_stats_mean_ci_t(v, nr, o->level, &t);
            if (st) return st;
            if (nr < 2) b.lo = b.hi = NAN;
            const prism_task_score *ts = prism_task_score_find(s->envs[e]);
            study_final *f = &out->finals[e * s->nagents + a];
            f->seeds = nr, f->boot = b, f->t = t;
            f->normalized =
                ts ? prism_stats_normalize(b.point, ts->random, ts->reference) : (double)NAN;
        }
    return PRISM_OK;
}

/* Normalised final scores of agent a over the normalisable envs it has runs on: scores
 * task-major, nruns and env_ids per task; returns the number of tasks. */
static int agent_table(const study *s, int a, double *scores, int *nruns, int *env_ids) {
    const study_run *rs[STUDY_MAX_SEEDS];
    int nt = 0, k = 0;
    for (int e = 0; e < s->nenvs; e++) {
        const prism_task_score *ts = prism_task_score_find(s->envs[e]);
        int nr = ts ? runs_of(s, s->envs[e], s->agents[a], rs, STUDY_MAX_SEEDS) : 0;
        if (!nr) continue;
        for (int i = 0; i < nr; i++)
            scores[k++] = prism_stats_normalize(rs[i]->final, ts->random, ts->reference);
        env_ids[nt] = e;
        nruns[nt++] = nr;
    }
    return nt;
}

/* Scratch for the statistics over tasks: three score tables (an agent's, a second agent's,
 * the baseline's) and their per-task counts and env ids. */
typedef struct scratch {
    double *xs, *ys, *bs;             /* (nruns + 1) each */
    int *nx, *ny, *ex, *ey, *cx, *cy; /* (nenvs + 1) each */
} scratch;

static prism_status compute_aggregates(const study *s, const prism_report_options *o,
                                       prism_rng *rng, scratch *w, study_stats *out) {
    for (int a = 0; a < s->nagents; a++) {
        int nt = agent_table(s, a, w->xs, w->nx, w->ex);
        out->agg_tasks[a] = nt;
        if (!nt) continue;
        prism_score_table tab = {nt, w->nx, w->xs};
        for (int m = 0; m < PRISM_AGG_COUNT; m++) {
            prism_status st = prism_stats_aggregate_ci(m, &tab, 1.0, o->resamples, o->level, rng,
                                                       &out->agg[a * PRISM_AGG_COUNT + m]);
            if (st) return st;
        }
    }
    return PRISM_OK;
}

/* P(X > baseline) for every other agent X, over the tasks both have; the baseline is dqn when
 * present, else the first agent. */
static prism_status compute_poi(const study *s, const prism_report_options *o, prism_rng *rng,
                                scratch *w, study_stats *out) {
    if (s->nagents < 2) return PRISM_OK;
    int base = index_of(s->agents[0], s->nagents, "dqn");
    if (base < 0) base = 0;
    out->poi_base = base;
    double *xs = w->xs, *ys = w->ys, *bs = w->bs;
    int *nx = w->nx, *ny = w->ny, *ex = w->ex, *ey = w->ey, *cx = w->cx, *cy = w->cy;
    int nb = agent_table(s, base, bs, ny, ey);
    for (int a = 0; a < s->nagents && nb; a++) {
        if (a == base) continue;
        int na = agent_table(s, a, xs, nx, ex);
        /* keep the tasks both agents have, in the same order */
        int tx = 0, ty = 0, kx = 0, ky = 0, ox = 0, oy = 0, nt = 0;
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
        prism_status st =
            prism_stats_prob_improvement(&X, &Y, o->resamples, o->level, rng, &out->poi[a]);
        if (st) return st;
        out->poi_tasks[a] = nt;
    }
    return PRISM_OK;
}

static prism_status compute_profiles(const study *s, const prism_report_options *o, prism_rng *rng,
                                     scratch *w, study_stats *out) {
    enum { NTAU = STUDY_NTAU };
    /* the tau grid spans every agent's normalised scores and at least [0, 1] */
    double lo = 0, hi = 1;
    for (int a = 0; a < s->nagents; a++) {
        int nt = agent_table(s, a, w->xs, w->nx, w->ex), k = 0;
        for (int t = 0; t < nt; t++) k += w->nx[t];
        for (int i = 0; i < k; i++) lo = fmin(lo, w->xs[i]), hi = fmax(hi, w->xs[i]);
    }
    double *tau = out->tau;
    for (int i = 0; i < NTAU; i++) tau[i] = lo + (hi - lo) * i / (NTAU - 1);
    prism_ci ci[NTAU];
    for (int a = 0; a < s->nagents; a++) {
        int nt = agent_table(s, a, w->xs, w->nx, w->ex);
        out->prof_tasks[a] = nt;
        if (!nt) continue;
        prism_score_table tab = {nt, w->nx, w->xs};
        prism_status st =
            prism_stats_performance_profile(&tab, tau, NTAU, o->resamples, o->level, rng, ci);
        if (st) return st;
        double *y = out->prof_y + (size_t)a * NTAU, *l = out->prof_lo + (size_t)a * NTAU;
        double *u = out->prof_hi + (size_t)a * NTAU;
        for (int i = 0; i < NTAU; i++) y[i] = ci[i].point, l[i] = ci[i].lo, u[i] = ci[i].hi;
    }
    return PRISM_OK;
}

/* The column of a run named `name`, or -1. */
static int column_of(const study_run *r, const char *name) {
    for (int k = 0; k < r->ncols; k++)
        if (!strcmp(r->cols[k], name)) return k;
    return -1;
}

/* Mean over the runs of column `name` at each iteration (x: the first run's env_steps there);
 * NaN where no run has a finite value. */
static prism_status make_metric_curve(study_curve *c, const study_run **rs, int nr,
                                      const char *name) {
    int n = 0;
    for (int i = 0; i < nr; i++) n = rs[i]->nrows > n ? rs[i]->nrows : n;
    c->n = n, c->seeds = nr;
    c->x = prism_alloc((size_t)(2 * n + 1) * sizeof(double));
    if (!c->x) return prism_error(PRISM_ERR_NOMEM, "out of memory for the metric %s", name);
    c->y = c->x + n, c->lo = c->hi = NULL;
    for (int t = 0; t < n; t++) {
        double sum = 0;
        int k = 0;
        c->x[t] = NAN;
        for (int i = 0; i < nr; i++) {
            int col = column_of(rs[i], name);
            if (t >= rs[i]->nrows) continue;
            if (!isfinite(c->x[t])) c->x[t] = study_value(rs[i], t, rs[i]->c_steps);
            double v = col < 0 ? (double)NAN : study_value(rs[i], t, col);
            if (isfinite(v)) sum += v, k++;
        }
        c->y[t] = k ? sum / k : (double)NAN;
    }
    return PRISM_OK;
}

/* Every numeric column of the included runs but iteration, env_steps and return_mean (the
 * learning curves), in the order first met, each as a curve per cell. Draws nothing. */
static prism_status compute_metrics(const study *s, study_stats *out) {
    int m = 0;
    out->metric_names = prism_calloc(STUDY_MAX_METRICS, sizeof *out->metric_names);
    if (!out->metric_names) return prism_error(PRISM_ERR_NOMEM, "out of memory for the metrics");
    for (int i = 0; i < s->nruns; i++) {
        const study_run *r = &s->runs[i];
        if (!r->included) continue;
        for (int k = 0; k < r->ncols && m < STUDY_MAX_METRICS; k++) {
            if (k == r->c_iter || k == r->c_steps || k == r->c_ret) continue;
            int known = 0;
            for (int j = 0; j < m && !known; j++) known = !strcmp(out->metric_names[j], r->cols[k]);
            if (!known) snprintf(out->metric_names[m++], STUDY_METRIC_LEN, "%s", r->cols[k]);
        }
    }
    int cells = s->nenvs * s->nagents;
    out->metric_curves = prism_calloc((size_t)(m * cells + 1), sizeof *out->metric_curves);
    if (!out->metric_curves) return prism_error(PRISM_ERR_NOMEM, "out of memory for the metrics");
    out->nmetrics = m;
    const study_run *rs[STUDY_MAX_SEEDS];
    for (int k = 0; k < m; k++)
        for (int e = 0; e < s->nenvs; e++)
            for (int a = 0; a < s->nagents; a++) {
                int nr = runs_of(s, s->envs[e], s->agents[a], rs, STUDY_MAX_SEEDS);
                if (!nr) continue;
                prism_status st =
                    make_metric_curve(&out->metric_curves[(size_t)k * cells + e * s->nagents + a],
                                      rs, nr, out->metric_names[k]);
                if (st) return st;
            }
    return PRISM_OK;
}

prism_status study_compute(const study *s, const prism_report_options *o, prism_rng *rng,
                           study_stats *out) {
    memset(out, 0, sizeof *out);
    int A = s->nagents, cells = s->nenvs * A + 1, cap = s->nruns + 1, ne = s->nenvs + 1;
    out->curves = prism_calloc((size_t)cells, sizeof *out->curves);
    out->finals = prism_calloc((size_t)cells, sizeof *out->finals);
    /* one allocation each: agg_tasks, poi_tasks, prof_tasks; agg, poi; prof_y, prof_lo,
     * prof_hi (study_stats_free frees the first of each) */
    out->agg_tasks = prism_calloc((size_t)(3 * A + 1), sizeof(int));
    out->agg = prism_calloc((size_t)((PRISM_AGG_COUNT + 1) * A + 1), sizeof(prism_ci));
    out->prof_y = prism_calloc((size_t)(3 * A * STUDY_NTAU + 1), sizeof(double));
    scratch w;
    w.xs = prism_alloc((size_t)(3 * cap) * sizeof(double));
    w.nx = prism_alloc((size_t)(6 * ne) * sizeof(int));
    prism_status st = PRISM_OK;
    if (!out->curves || !out->finals || !out->agg_tasks || !out->agg || !out->prof_y || !w.xs ||
        !w.nx) {
        st = prism_error(PRISM_ERR_NOMEM, "out of memory for the study's statistics");
        goto done;
    }
    out->poi_tasks = out->agg_tasks + A, out->prof_tasks = out->poi_tasks + A;
    out->poi = out->agg + (size_t)PRISM_AGG_COUNT * A;
    out->prof_lo = out->prof_y + (size_t)A * STUDY_NTAU;
    out->prof_hi = out->prof_lo + (size_t)A * STUDY_NTAU;
    w.ys = w.xs + cap, w.bs = w.ys + cap;
    w.ny = w.nx + ne, w.ex = w.ny + ne, w.ey = w.ex + ne, w.cx = w.ey + ne, w.cy = w.cx + ne;
    /* the order of the bootstrap draws: every number in a report depends on it */
    st = compute_curves(s, o, rng, out);
    if (!st) st = compute_finals(s, o, rng, out);
    if (!st) st = compute_aggregates(s, o, rng, &w, out);
    if (!st) st = compute_poi(s, o, rng, &w, out);
    if (!st) st = compute_profiles(s, o, rng, &w, out);
    if (!st) st = compute_metrics(s, out); /* after every draw: it draws none */
done:
    prism_free(w.xs);
    prism_free(w.nx);
    return st;
}

void study_stats_free(study_stats *st, const study *s) {
    if (st->curves)
        for (int i = 0; i < s->nenvs * s->nagents; i++) prism_free(st->curves[i].x);
    prism_free(st->curves);
    prism_free(st->finals);
    prism_free(st->agg_tasks);
    prism_free(st->agg);
    prism_free(st->prof_y);
    if (st->metric_curves)
        for (int i = 0; i < st->nmetrics * s->nenvs * s->nagents; i++)
            prism_free(st->metric_curves[i].x);
    prism_free(st->metric_curves);
    prism_free(st->metric_names);
    memset(st, 0, sizeof *st);
}
