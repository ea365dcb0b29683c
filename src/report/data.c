/* report/data.c — the report's data files: seven tables of every number the page shows (the
 * learning curves, final scores, aggregates, probability of improvement, performance profiles,
 * the runs and every other logged metric), each as one CSV file and all of them, with the report's
 * options, as one JSON document written through the JSON writer (prism/json.h) in its line layout:
 * one row a line.
 *
 * It is not the statistics (study.c computes every number) nor the page (html.c); it writes
 * into buffers, never a file (report.c does). A row goes to the CSV and the JSON in the same
 * calls, so the two always agree. Numbers carry 10 significant digits in both (%.10g); a value
 * that is not finite is nan, inf or -inf in the CSV and null in the JSON. */
#include "study.h"

#include <math.h>
#include <string.h>

static const char *const runs_cols[] = {"dir",        "env",         "agent",    "seed", "status",
                                        "iterations", "final_score", "included", "note"};
static const char *const curve_cols[] = {"env",   "agent",       "iteration", "env_steps",
                                         "seeds", "return_mean", "ci_lo",     "ci_hi"};
static const char *const final_cols[] = {"env",     "agent", "seeds", "mean",           "boot_lo",
                                         "boot_hi", "t_lo",  "t_hi",  "normalized_mean"};
static const char *const agg_cols[] = {"agent", "metric", "tasks", "point", "ci_lo", "ci_hi"};
static const char *const poi_cols[] = {"x", "y", "tasks", "p_x_better", "ci_lo", "ci_hi"};
static const char *const prof_cols[] = {"agent", "tau", "fraction_above", "ci_lo", "ci_hi"};
static const char *const metric_cols[] = {"env",       "agent", "metric", "iteration",
                                          "env_steps", "seeds", "mean"};

static const char *const table_names[REPORT_TABLES] = {
    "curves", "final_scores", "aggregates", "probability_of_improvement", "performance_profiles",
    "runs",   "metrics"};

const char *report_table_name(int i) {
    PRISM_ASSERT(i >= 0 && i < REPORT_TABLES);
    return table_names[i];
}

/* One table being written: CSV rows into csv, and in json an array of one object a row under
 * the table's name. Cells come in column order, row after row. */
typedef struct table {
    const char *const *cols;
    int ncols, col;
    prism_svg *csv;
    prism_json *json;
} table;

static void table_begin(table *t, prism_svg *csv, prism_json *json, const char *name,
                        const char *const *cols, int ncols) {
    t->cols = cols, t->ncols = ncols, t->col = 0, t->csv = csv, t->json = json;
    for (int i = 0; i < ncols; i++) prism_svg_printf(csv, "%s%s", i ? "," : "", cols[i]);
    prism_svg_printf(csv, "\n");
    prism_json_break(json);
    prism_json_key(json, name);
    prism_json_array_begin(json);
}

static void table_end(table *t) {
    PRISM_ASSERT(t->col == 0);
    prism_json_break(t->json);
    prism_json_array_end(t->json);
}

static void cell_begin(table *t) {
    PRISM_ASSERT(t->col < t->ncols);
    if (t->col == 0) {
        prism_json_break(t->json);
        prism_json_object_begin(t->json);
    }
    prism_svg_printf(t->csv, "%s", t->col ? "," : "");
    prism_json_key(t->json, t->cols[t->col]);
}

static void cell_end(table *t) {
    if (++t->col == t->ncols) {
        prism_svg_printf(t->csv, "\n");
        prism_json_object_end(t->json);
        t->col = 0;
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
    cell_begin(t);
    csv_field(t->csv, s);
    prism_json_string(t->json, s);
    cell_end(t);
}

static void tnum(table *t, double v) {
    cell_begin(t);
    if (isfinite(v))
        prism_svg_printf(t->csv, "%.10g", v);
    else
        prism_svg_printf(t->csv, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    prism_json_double_digits(t->json, v, 10);
    cell_end(t);
}

/* Each table's rows in the order of the page; nothing but the runs when stats is NULL. */

static void rows_curves(table *t, const study *s, const study_stats *st) {
    for (int e = 0; e < s->nenvs; e++)
        for (int a = 0; a < s->nagents; a++) {
            const study_curve *cv = &st->curves[e * s->nagents + a];
            for (int i = 0; i < cv->n; i++) {
                tstr(t, s->envs[e]), tstr(t, s->agents[a]);
                tnum(t, i), tnum(t, cv->x[i]);
                tnum(t, cv->seeds), tnum(t, cv->y[i]);
                tnum(t, cv->lo[i]), tnum(t, cv->hi[i]);
            }
        }
}

static void rows_metrics(table *t, const study *s, const study_stats *st) {
    int cells = s->nenvs * s->nagents;
    for (int m = 0; m < st->nmetrics; m++)
        for (int e = 0; e < s->nenvs; e++)
            for (int a = 0; a < s->nagents; a++) {
                const study_curve *cv = &st->metric_curves[(size_t)m * cells + e * s->nagents + a];
                for (int i = 0; i < cv->n; i++) {
                    tstr(t, s->envs[e]), tstr(t, s->agents[a]), tstr(t, st->metric_names[m]);
                    tnum(t, i), tnum(t, cv->x[i]), tnum(t, cv->seeds), tnum(t, cv->y[i]);
                }
            }
}

static void rows_finals(table *t, const study *s, const study_stats *st) {
    for (int a = 0; a < s->nagents; a++)
        for (int e = 0; e < s->nenvs; e++) {
            const study_final *f = &st->finals[e * s->nagents + a];
            if (!f->seeds) continue;
            tstr(t, s->envs[e]), tstr(t, s->agents[a]);
            tnum(t, f->seeds), tnum(t, f->boot.point), tnum(t, f->boot.lo);
            tnum(t, f->boot.hi), tnum(t, f->t.lo), tnum(t, f->t.hi);
            tnum(t, f->normalized);
        }
}

static void rows_aggregates(table *t, const study *s, const study_stats *st) {
    for (int a = 0; a < s->nagents; a++) {
        if (!st->agg_tasks[a]) continue;
        for (int m = 0; m < PRISM_AGG_COUNT; m++) {
            const prism_ci *v = &st->agg[a * PRISM_AGG_COUNT + m];
            tstr(t, s->agents[a]), tstr(t, prism_aggregate_name(m));
            tnum(t, st->agg_tasks[a]), tnum(t, v->point), tnum(t, v->lo), tnum(t, v->hi);
        }
    }
}

static void rows_poi(table *t, const study *s, const study_stats *st) {
    for (int a = 0; a < s->nagents; a++) {
        if (!st->poi_tasks[a]) continue;
        const prism_ci *v = &st->poi[a];
        tstr(t, s->agents[a]), tstr(t, s->agents[st->poi_base]);
        tnum(t, st->poi_tasks[a]), tnum(t, v->point), tnum(t, v->lo), tnum(t, v->hi);
    }
}

static void rows_profiles(table *t, const study *s, const study_stats *st) {
    for (int a = 0; a < s->nagents; a++) {
        if (!st->prof_tasks[a]) continue;
        size_t at = (size_t)a * STUDY_NTAU;
        for (int i = 0; i < STUDY_NTAU; i++) {
            tstr(t, s->agents[a]), tnum(t, st->tau[i]);
            tnum(t, st->prof_y[at + i]), tnum(t, st->prof_lo[at + i]);
            tnum(t, st->prof_hi[at + i]);
        }
    }
}

static void rows_runs(table *t, const study *s, const study_stats *st) {
    (void)st;
    for (int i = 0; i < s->nruns; i++) {
        const study_run *r = &s->runs[i];
        tstr(t, r->dir), tstr(t, r->env), tstr(t, r->agent);
        /* as a double, as the table has always written it: exact up to 2^53 */
        tnum(t, (double)r->seed), tstr(t, r->status);
        tnum(t, r->nrows), tnum(t, r->final);
        tnum(t, r->included), tstr(t, r->note);
    }
}

prism_status report_data(prism_svg *csv, prism_json *json, const study *s, const study_stats *stats,
                         const prism_report_options *o) {
    static const struct {
        const char *const *cols;
        int ncols;
        void (*rows)(table *t, const study *s, const study_stats *st);
        int needs_stats;
    } tables[REPORT_TABLES] = {
        {curve_cols, 8, rows_curves, 1},   {final_cols, 9, rows_finals, 1},
        {agg_cols, 6, rows_aggregates, 1}, {poi_cols, 6, rows_poi, 1},
        {prof_cols, 5, rows_profiles, 1},  {runs_cols, 9, rows_runs, 0},
        {metric_cols, 7, rows_metrics, 1},
    };
    /* the options on the first line, then one table after the other */
    prism_json_object_begin(json);
    prism_json_break(json);
    prism_json_kv_string(json, "prism_version", PRISM_VERSION);
    prism_json_kv_int(json, "resamples", o->resamples);
    /* %g, six significant digits, as the options have always been written */
    prism_json_key(json, "level");
    prism_json_double_digits(json, o->level, 6);
    prism_json_key(json, "final_fraction");
    prism_json_double_digits(json, o->final_fraction, 6);
    prism_json_kv_uint(json, "seed", o->seed);
    prism_json_kv_string(json, "ci", o->student_t ? "t" : "bootstrap");
    for (int i = 0; i < REPORT_TABLES; i++) {
        table t;
        table_begin(&t, &csv[i], json, table_names[i], tables[i].cols, tables[i].ncols);
        if (stats || !tables[i].needs_stats) tables[i].rows(&t, s, stats);
        table_end(&t);
    }
    prism_json_break(json);
    prism_json_object_end(json);
    prism_status st = prism_json_finish(json);
    for (int i = 0; i < REPORT_TABLES && !st; i++) st = prism_svg_status(&csv[i]);
    return st;
}
