/* report/html.c — the report's page: one self-contained HTML document (inline CSS and SVG,
 * nothing fetched) with the notes that must be read before any number, the single-run view,
 * the learning curves (and the ablation layout), the final-score table, the aggregate metrics,
 * the probability of improvement, the performance profiles, the run table and the names of
 * the data files.
 *
 * It is not the statistics: every number it shows was computed by study.c, and it draws no
 * random number, so what it shows cannot change a result. It writes into a buffer, never a
 * file (report.c does), and its plots are svg.c's. */
#include "study.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* What every section reads: the study, its statistics and the options; the page it writes. */
typedef struct page {
    prism_svg *html;
    const study *s;
    const study_stats *st;
    const prism_report_options *o;
    const char *stem;     /* the data files' name: <stem>.<table>.csv, <stem>.fig-<name>.svg */
    report_figures *figs; /* every figure, also written as its own file */
} page;

static const char *page_css =
    "body{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:1200px;margin:24px auto;"
    "padding:0 16px;line-height:1.4}h1{font-size:24px}h2{font-size:19px;margin-top:32px;"
    "border-bottom:1px solid #ccc}table{border-collapse:collapse;font-size:13px;margin:8px 0}"
    "td,th{border:1px solid #bbb;padding:3px 7px;text-align:right}th{background:#f0f0f0}"
    "td.l,th.l{text-align:left}.note{color:#8a4b00}.fig{overflow-x:auto}"
    ".files{font-size:12px;color:#555}tr.differs td{background:#fff3d6;font-weight:bold}"
    "@media print{body{max-width:none}h2{page-break-after:avoid}.fig{page-break-inside:avoid}}";

static void h(prism_svg *o, const char *text) {
    prism_svg_escape(o, text);
}

void report_agent_env_head(prism_svg *o, const study *s) {
    prism_svg_printf(o, "<table><tr><th class=\"l\">agent</th>");
    for (int e = 0; e < s->nenvs; e++) {
        prism_svg_printf(o, "<th>");
        h(o, s->envs[e]);
        prism_svg_printf(o, "</th>");
    }
    prism_svg_printf(o, "</tr>\n");
}

void report_agent_row_head(prism_svg *o, const study *s, int a) {
    prism_svg_printf(o, "<tr><td class=\"l\">");
    h(o, s->agents[a]);
    prism_svg_printf(o, "</td>");
}

void report_figures_free(report_figures *figs) {
    for (int i = 0; i < figs->n; i++) prism_svg_free(&figs->f[i].svg);
    figs->n = 0;
}

/* A figure is drawn into its own buffer (figure_begin), then placed in the page with links to
 * its SVG file and the CSV of its data (figure_end, which keeps it for report.c to write). */
static prism_svg *figure_begin(page *c) {
    PRISM_ASSERT(c->figs->n < REPORT_MAX_FIGURES);
    prism_svg *svg = &c->figs->f[c->figs->n].svg;
    prism_svg_init(svg);
    return svg;
}

static void figure_end(page *c, const char *name, const char *table) {
    report_figure *f = &c->figs->f[c->figs->n++];
    snprintf(f->name, sizeof f->name, "%s", name);
    prism_svg *o = c->html;
    prism_svg_printf(o,
                     "<div class=\"fig\">\n%s</div>\n<p class=\"files\">This figure: "
                     "<a href=\"",
                     f->svg.buf ? f->svg.buf : "");
    h(o, c->stem);
    prism_svg_printf(o, ".fig-%s.svg\">", name);
    h(o, c->stem);
    prism_svg_printf(o, ".fig-%s.svg</a>", name);
    if (table) {
        prism_svg_printf(o, "; its data: <a href=\"");
        h(o, c->stem);
        prism_svg_printf(o, ".%s.csv\">", table);
        h(o, c->stem);
        prism_svg_printf(o, ".%s.csv</a>", table);
    }
    prism_svg_printf(o, ".</p>\n");
    if (prism_svg_status(&f->svg)) c->html->nomem = 1; /* the page reports it */
}

static void fmt_ci(char *buf, size_t cap, double m, double lo, double hi) {
    prism_report_format_estimate(buf, cap, m, lo, hi);
}

static int is_ablation(const study *s) {
    for (int a = 0; a < s->nagents; a++)
        if (study_agent_rank(s->agents[a]) == 1 || study_agent_rank(s->agents[a]) == 3) return 1;
    return 0;
}

/* At the top of the page: a task without a reference score silently shrinks every aggregate, so
 * say which ones and why, before any number is read. */
static void notes_missing_scores(page *c) {
    for (int e = 0; e < c->s->nenvs; e++) {
        if (prism_task_score_find(c->s->envs[e])) continue;
        const char *why = prism_task_score_missing_reason(c->s->envs[e]);
        prism_svg_printf(c->html, "<p class=\"note\">Note: ");
        h(c->html, c->s->envs[e]);
        prism_svg_printf(c->html, " has no reference score (");
        h(c->html, why ? why : "not in the task table of docs/statistics.md");
        prism_svg_printf(c->html, "), so its runs are left out of the aggregate metrics, the "
                                  "probability of improvement and the performance "
                                  "profiles.</p>\n");
    }
}

/* A run's budget: config.ini's train.steps, else the environment steps of its last metrics row. */
static double budget(const study_run *r) {
    if (r->train_steps > 0) return (double)r->train_steps;
    return r->nrows ? study_value(r, r->nrows - 1, r->c_steps) : (double)NAN;
}

/* Two runs had one budget when their config.ini say the same train.steps: the steps they reached
 * say little, since every iteration ends with its last episode (CartPole-v0 runs of 30k steps
 * end 5-8% past it, each a different amount). Without config.ini: as many iterations and step
 * counts within 2% of each other. */
static int same_budget(const study_run *a, const study_run *b) {
    if (a->train_steps > 0 && b->train_steps > 0) return a->train_steps == b->train_steps;
    double x = budget(a), y = budget(b);
    return a->nrows == b->nrows && fabs(x - y) <= 0.02 * fmax(fabs(x), fabs(y));
}

/* Runs of one environment trained for different numbers of steps are averaged in a cell or
 * compared across agents as if they were alike: name each group and budget. */
static void notes_unequal_budgets(page *c) {
    const study *s = c->s;
    for (int e = 0; e < s->nenvs; e++) {
        const study_run *first = NULL;
        int differ = 0;
        for (int i = 0; i < s->nruns; i++) {
            const study_run *r = &s->runs[i];
            if (!r->included || strcmp(r->env, s->envs[e])) continue;
            if (!first) first = r;
            differ |= !same_budget(r, first);
        }
        if (!differ) continue;
        prism_svg_printf(c->html, "<p class=\"note\">Note: runs of unequal budgets on ");
        h(c->html, s->envs[e]);
        prism_svg_printf(c->html, ", whose final scores are not comparable:");
        /* each (agent, budget) pair once, with its number of runs */
        for (int i = 0; i < s->nruns; i++) {
            const study_run *r = &s->runs[i];
            if (!r->included || strcmp(r->env, s->envs[e])) continue;
            int seen = 0, n = 0;
            for (int j = 0; j < s->nruns; j++) {
                const study_run *q = &s->runs[j];
                if (!q->included || strcmp(q->env, r->env) || strcmp(q->agent, r->agent) ||
                    !same_budget(q, r))
                    continue;
                seen |= j < i;
                n++;
            }
            if (seen) continue;
            prism_svg_printf(c->html, " ");
            h(c->html, r->agent);
            prism_svg_printf(c->html, ": %.0f steps (%d run%s);", budget(r), n, n == 1 ? "" : "s");
        }
        prism_svg_printf(c->html, " give them the same train.steps.</p>\n");
    }
}

/* The single-run view: every numeric column of metrics.csv against env_steps. */
static prism_status section_single(page *c, const study_run *r) {
    enum { MAXP = 48 };
    prism_svg_panel panels[MAXP];
    prism_svg_series series[MAXP];
    double *x = prism_alloc((size_t)(r->nrows + 1) * (MAXP + 1) * sizeof(double));
    if (!x) return prism_error(PRISM_ERR_NOMEM, "out of memory for the single-run view");
    int np = 0;
    for (int i = 0; i < r->nrows; i++) x[i] = study_value(r, i, r->c_steps);
    /* return first, then the diagnostics in file order */
    int order[256], no = 0;
    order[no++] = r->c_ret;
    for (int k = 0; k < r->ncols && no < 256; k++)
        if (k != r->c_ret && k != r->c_iter && k != r->c_steps) order[no++] = k;
    for (int j = 0; j < no && np < MAXP; j++) {
        int k = order[j], finite = 0;
        double *y = x + (size_t)(np + 1) * (r->nrows + 1);
        for (int i = 0; i < r->nrows; i++) finite += isfinite(y[i] = study_value(r, i, k));
        if (!finite) continue; /* a text column or an empty one */
        prism_svg_series sr = {r->cols[k], 0, r->nrows, x, y, NULL, NULL};
        series[np] = sr;
        prism_svg_panel pn = {r->cols[k],
                              "environment steps",
                              k == r->c_ret ? "mean training return (points)" : r->cols[k],
                              1,
                              &series[np],
                              0,
                              0,
                              0};
        panels[np++] = pn;
    }
    prism_svg_printf(c->html, "<h2>Single run: ");
    h(c->html, r->dir);
    prism_svg_printf(c->html, "</h2>\n<p>");
    h(c->html, r->agent);
    prism_svg_printf(c->html, " on ");
    h(c->html, r->env);
    prism_svg_printf(c->html, ", seed %llu, status ", (unsigned long long)r->seed);
    h(c->html, r->status);
    prism_svg_printf(c->html, ". Every numeric column of metrics.csv (sys_* columns are "
                              "timings in the trainer's units; their data is the run's "
                              "metrics.csv).</p>\n");
    if (np) {
        prism_svg_panels(figure_begin(c), panels, np, 3, 390, 260);
        figure_end(c, "single-run", NULL);
    }
    prism_free(x);
    return PRISM_OK;
}

/* The range of every curve and band of environment e, over all agents: the panels of one
 * environment share it, so add-one and remove-one panels can be compared by eye. */
static void env_range(const page *c, int e, double *lo, double *hi) {
    *lo = INFINITY, *hi = -INFINITY;
    for (int a = 0; a < c->s->nagents; a++) {
        const study_curve *cv = &c->st->curves[e * c->s->nagents + a];
        for (int i = 0; i < cv->n; i++) {
            double v[3] = {cv->y[i], cv->lo ? cv->lo[i] : (double)NAN,
                           cv->hi ? cv->hi[i] : (double)NAN};
            for (int k = 0; k < 3; k++)
                if (isfinite(v[k])) *lo = fmin(*lo, v[k]), *hi = fmax(*hi, v[k]);
        }
    }
}

/* A grid of panels; panel p shows the agents a with include(a, p). */
static prism_status draw_curve_panels(page *c, const char *name, int npanels,
                                      const char *const *titles, const int *env_of,
                                      int (*include)(const char *agent, int p), int cols) {
    const study *s = c->s;
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
            const study_curve *cv = &c->st->curves[env_of[p] * s->nagents + a];
            if (!cv->n || (include && !include(s->agents[a], p))) continue;
            prism_svg_series r = {s->agents[a], a, cv->n, cv->x, cv->y, cv->lo, cv->hi};
            sp[k++] = r;
        }
        prism_svg_panel pn = {
            titles[p], "environment steps", "mean training return (points)", k, sp, 1, 0, 0};
        env_range(c, env_of[p], &pn.ymin, &pn.ymax);
        panels[p] = pn;
    }
    prism_svg_panels(figure_begin(c), panels, npanels, cols, 560, 340);
    figure_end(c, name, "curves");
    prism_free(panels);
    prism_free(series);
    return PRISM_OK;
}

static int add_one(const char *agent, int p) {
    (void)p;
    int r = study_agent_rank(agent);
    return r == 0 || r == 1;
}
static int remove_one(const char *agent, int p) {
    (void)p;
    int r = study_agent_rank(agent);
    return r == 2 || r == 3;
}
static int ablation_side(const char *agent, int p) {
    return p % 2 ? remove_one(agent, p) : add_one(agent, p);
}

/* The per-task interval method, for the page's prose. */
static const char *ci_name(const prism_report_options *o) {
    return o->student_t ? "Student-t" : "percentile-bootstrap";
}

static prism_status section_curves(page *c) {
    const study *s = c->s;
    prism_svg_printf(c->html,
                     "<h2>Learning curves</h2>\n<p>Mean over seeds of the mean return of the "
                     "training episodes that ended in each iteration; shaded: %.0f%% %s "
                     "interval across seeds.</p>\n",
                     100 * c->o->level, ci_name(c->o));
    const char *titles[128];
    int env_of[128];
    for (int e = 0; e < s->nenvs; e++) titles[e] = s->envs[e], env_of[e] = e;
    prism_status st = draw_curve_panels(c, "curves", s->nenvs, titles, env_of, NULL, 2);
    if (st || !is_ablation(s)) return st;
    /* Revisiting Rainbow's figure layout: per environment, DQN plus one component on the
     * left, Rainbow minus one component on the right */
    prism_svg_printf(c->html,
                     "<h2>Ablations</h2>\n<p>Left: DQN and DQN plus one component (add-one). "
                     "Right: Rainbow and Rainbow minus one component (remove-one).</p>\n");
    char names[128][STUDY_NAME_LEN + 32]; /* 2 * MAX_GROUP panel titles */
    for (int e = 0; e < s->nenvs; e++) {
        snprintf(names[2 * e], sizeof names[0], "%s: add one to DQN", s->envs[e]);
        snprintf(names[2 * e + 1], sizeof names[0], "%s: remove one from Rainbow", s->envs[e]);
        titles[2 * e] = names[2 * e], titles[2 * e + 1] = names[2 * e + 1];
        env_of[2 * e] = env_of[2 * e + 1] = e;
    }
    return draw_curve_panels(c, "ablation", 2 * s->nenvs, titles, env_of, ablation_side, 2);
}

/* Whether some (env, agent) cell has between 2 and 9 seeds. */
static int few_seeds(const page *c) {
    for (int i = 0; i < c->s->nenvs * c->s->nagents; i++) {
        int n = c->st->finals[i].seeds;
        if (n >= 2 && n < 10) return 1;
    }
    return 0;
}

static void section_final(page *c) {
    const study *s = c->s;
    prism_svg *o = c->html;
    prism_svg_printf(o,
                     "<h2>Final scores</h2>\n<p>Final score of a run: the mean of return_mean "
                     "over its last %.0f%% of iterations. Cells: mean over seeds [%.0f%% %s "
                     "interval] and the number of seeds; both the bootstrap and the Student-t "
                     "intervals are in the CSV/JSON.</p>\n",
                     100 * c->o->final_fraction, 100 * c->o->level, ci_name(c->o));
    if (!c->o->student_t && few_seeds(c))
        /* measured (docs/statistics.md): coverage of nominal 95% intervals for the mean of
         * normal samples, 2,000 trials each */
        prism_svg_printf(o, "<p class=\"note\">Note: some cells have fewer than 10 seeds. There "
                            "the percentile bootstrap is too narrow: on normal data its nominal "
                            "95%% interval held the true mean in 76%% of trials with 3 seeds, 83%% "
                            "with 5 and 91%% with 10 (Student-t: 95%%). <code>prism report --ci "
                            "t</code> shows Student-t intervals.</p>\n");
    report_agent_env_head(o, s);
    for (int a = 0; a < s->nagents; a++) {
        report_agent_row_head(o, s, a);
        for (int e = 0; e < s->nenvs; e++) {
            const study_final *f = &c->st->finals[e * s->nagents + a];
            if (!f->seeds) {
                prism_svg_printf(o, "<td>&#8212;</td>");
                continue;
            }
            const prism_ci *shown = c->o->student_t ? &f->t : &f->boot;
            char cellbuf[96];
            fmt_ci(cellbuf, sizeof cellbuf, shown->point, shown->lo, shown->hi);
            prism_svg_printf(o, "<td>%s (n=%d)</td>", cellbuf, f->seeds);
        }
        prism_svg_printf(o, "</tr>\n");
    }
    prism_svg_printf(o, "</table>\n");
}

/* The agents that have a value (tasks[a] > 0), in the study's order, each with its label and
 * its colour in every figure (its index in the study). */
typedef struct picked {
    int n;
    const char *labels[STUDY_MAX_GROUP];
    int agent[STUDY_MAX_GROUP];
} picked;

static void pick_agents(const study *s, const int *tasks, picked *p) {
    p->n = 0;
    for (int a = 0; a < s->nagents; a++)
        if (tasks[a]) p->labels[p->n] = s->agents[a], p->agent[p->n++] = a;
}

static void section_aggregates(page *c) {
    const study *s = c->s;
    prism_svg *o = c->html;
    picked p;
    pick_agents(s, c->st->agg_tasks, &p);
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
    if (!p.n) {
        prism_svg_printf(o, "<p class=\"note\">No task with a reference score: no aggregate "
                            "metrics.</p>\n");
        return;
    }
    int differ = 0;
    for (int i = 1; i < p.n; i++)
        differ |= c->st->agg_tasks[p.agent[i]] != c->st->agg_tasks[p.agent[0]];
    if (differ)
        prism_svg_printf(o, "<p class=\"note\">Note: the agents were run on different sets of "
                            "tasks, so their aggregates are not directly comparable.</p>\n");
    /* the interval plot wants (M, A) rows with A = p.n */
    prism_ci vals[PRISM_AGG_COUNT * STUDY_MAX_GROUP];
    for (int m = 0; m < PRISM_AGG_COUNT; m++)
        for (int i = 0; i < p.n; i++)
            vals[m * p.n + i] = c->st->agg[p.agent[i] * PRISM_AGG_COUNT + m];
    const char *titles[PRISM_AGG_COUNT];
    for (int m = 0; m < PRISM_AGG_COUNT; m++) titles[m] = prism_aggregate_title(m);
    prism_svg_intervals(figure_begin(c), titles, PRISM_AGG_COUNT, p.labels, p.agent, p.n, vals, 260,
                        NAN, NAN);
    figure_end(c, "aggregates", "aggregates");
    prism_svg_printf(o, "<p>Horizontal axes: normalised score (1 = reference, 0 = random "
                        "policy).</p>\n");
    prism_svg_printf(o, "<table><tr><th class=\"l\">agent</th>");
    for (int m = 0; m < PRISM_AGG_COUNT; m++) prism_svg_printf(o, "<th>%s</th>", titles[m]);
    prism_svg_printf(o, "</tr>\n");
    for (int i = 0; i < p.n; i++) {
        prism_svg_printf(o, "<tr><td class=\"l\">");
        h(o, p.labels[i]);
        prism_svg_printf(o, "</td>");
        for (int m = 0; m < PRISM_AGG_COUNT; m++) {
            char b[96];
            const prism_ci *v = &vals[m * p.n + i];
            fmt_ci(b, sizeof b, v->point, v->lo, v->hi);
            prism_svg_printf(o, "<td>%s</td>", b);
        }
        prism_svg_printf(o, "</tr>\n");
    }
    prism_svg_printf(o, "</table>\n");
}

/* P(X > baseline) for every other agent X that shares a task with the baseline. */
static void section_poi(page *c) {
    const study *s = c->s;
    prism_svg *o = c->html;
    if (s->nagents < 2) return;
    picked p;
    pick_agents(s, c->st->poi_tasks, &p);
    if (!p.n) return;
    prism_ci vals[STUDY_MAX_GROUP];
    for (int i = 0; i < p.n; i++) vals[i] = c->st->poi[p.agent[i]];
    const char *base = s->agents[c->st->poi_base];
    char title[STUDY_NAME_LEN + 32];
    snprintf(title, sizeof title, "P(agent > %s)", base);
    const char *titles[] = {title};
    prism_svg_printf(o, "<h2>Probability of improvement</h2>\n<p>P(X &gt; ");
    h(o, base);
    prism_svg_printf(o,
                     "): the probability that a run of X scores above a run of the baseline "
                     "on a task (Mann-Whitney U / (n<sub>x</sub> n<sub>y</sub>), ties count "
                     "one half), averaged over the tasks both have; %.0f%% stratified "
                     "bootstrap intervals. 0.5 means no difference.</p>\n",
                     100 * c->o->level);
    prism_svg_intervals(figure_begin(c), titles, 1, p.labels, p.agent, p.n, vals, 480, 0, 1);
    figure_end(c, "improvement", "probability_of_improvement");
}

static void section_profiles(page *c) {
    const study *s = c->s;
    const study_stats *st = c->st;
    enum { NTAU = STUDY_NTAU };
    picked p;
    pick_agents(s, st->prof_tasks, &p);
    if (!p.n) return;
    prism_svg_series series[STUDY_MAX_GROUP];
    for (int i = 0; i < p.n; i++) {
        size_t at = (size_t)p.agent[i] * NTAU;
        prism_svg_series r = {p.labels[i],      p.agent[i],      NTAU, st->tau, st->prof_y + at,
                              st->prof_lo + at, st->prof_hi + at};
        series[i] = r;
    }
    prism_svg_printf(c->html,
                     "<h2>Performance profiles</h2>\n<p>Fraction of runs (per task, averaged "
                     "over tasks) whose normalised final score exceeds &#964;, with %.0f%% "
                     "stratified bootstrap bands.</p>\n",
                     100 * c->o->level);
    prism_svg_panel pn = {"Performance profile",
                          "normalised score threshold \xcf\x84 (1 = reference)",
                          "fraction of runs with score > \xcf\x84",
                          p.n,
                          series,
                          1,
                          0,
                          1};
    prism_svg_panels(figure_begin(c), &pn, 1, 1, 640, 380);
    figure_end(c, "profiles", "performance_profiles");
}

/* Every other logged metric as small multiples, one folded block per metric (opened without
 * any script): a panel per environment, a line per agent, the mean over seeds. */
static prism_status section_metrics(page *c) {
    const study *s = c->s;
    const study_stats *st = c->st;
    if (!st->nmetrics) return PRISM_OK;
    prism_svg *o = c->html;
    prism_svg_printf(o, "<h2>Every logged metric</h2>\n<p>Each column of the runs' metrics.csv "
                        "(losses, Q statistics, gradient norms, exploration, sys_* timings and "
                        "memory): per environment, the mean over each agent's seeds at every "
                        "iteration. Open a metric to see it; its numbers are in <a href=\"");
    h(o, c->stem);
    prism_svg_printf(o, ".metrics.csv\">");
    h(o, c->stem);
    prism_svg_printf(o, ".metrics.csv</a>.</p>\n");
    int cells = s->nenvs * s->nagents;
    prism_svg_panel *panels = prism_calloc((size_t)s->nenvs, sizeof *panels);
    prism_svg_series *series = prism_calloc((size_t)cells + 1, sizeof *series);
    if (!panels || !series) {
        prism_free(panels), prism_free(series);
        return prism_error(PRISM_ERR_NOMEM, "out of memory for the metric plots");
    }
    for (int m = 0; m < st->nmetrics; m++) {
        for (int e = 0; e < s->nenvs; e++) {
            prism_svg_series *sp = series + e * s->nagents;
            int k = 0;
            for (int a = 0; a < s->nagents; a++) {
                const study_curve *cv = &st->metric_curves[(size_t)m * cells + e * s->nagents + a];
                if (!cv->n) continue;
                prism_svg_series r = {s->agents[a], a, cv->n, cv->x, cv->y, NULL, NULL};
                sp[k++] = r;
            }
            prism_svg_panel pn = {s->envs[e], "environment steps", st->metric_names[m], k, sp, 0, 0,
                                  0};
            panels[e] = pn;
        }
        prism_svg_printf(o, "<details><summary>");
        h(o, st->metric_names[m]);
        prism_svg_printf(o, "</summary>\n<div class=\"fig\">\n");
        prism_svg_panels(o, panels, s->nenvs, 3, 390, 260);
        prism_svg_printf(o, "</div>\n</details>\n");
    }
    prism_free(panels);
    prism_free(series);
    return PRISM_OK;
}

/* Every run found, used or not, with the note that says why. */
static void section_runs(page *c) {
    const study *s = c->s;
    prism_svg *o = c->html;
    prism_svg_printf(o, "<h2>Runs</h2>\n<table><tr><th class=\"l\">run</th><th class=\"l\">env"
                        "</th><th class=\"l\">agent</th><th>seed</th><th class=\"l\">status</th>"
                        "<th>iterations</th><th>final score</th><th class=\"l\">note</th></tr>\n");
    for (int i = 0; i < s->nruns; i++) {
        const study_run *r = &s->runs[i];
        char num[32];
        prism_report_format_number(num, sizeof num, r->final);
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
    }
    prism_svg_printf(o, "</table>\n");
}

/* The last words: where every number of the page can be read back. */
static void section_data(page *c, const char *data_stem) {
    prism_svg *o = c->html;
    prism_svg_printf(o, "<h2>Data</h2>\n<p>Every number plotted is in ");
    for (int i = 0; i < REPORT_TABLES; i++) {
        prism_svg_printf(o, "<code>");
        h(o, data_stem);
        prism_svg_printf(o, ".%s.csv</code>, ", report_table_name(i));
    }
    prism_svg_printf(o, "and all of it in <code>");
    h(o, data_stem);
    prism_svg_printf(o, ".json</code>.</p>\n</body>\n</html>\n");
}

prism_status report_html(prism_svg *out, const study *s, const study_stats *stats,
                         const prism_report_options *o, const char *data_stem,
                         report_figures *figs) {
    page pg = {out, s, stats, o, data_stem, figs}, *c = &pg;
    int included = study_included(s);
    prism_svg_printf(out,
                     "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                     "<title>prism report</title>\n<style>%s</style>\n</head>\n<body>\n"
                     "<h1>prism report</h1>\n<p>%d run%s found, %d completed and used in "
                     "the statistics; %d environment%s, %d agent%s. prism %s; the versions, "
                     "budgets and hyperparameters behind every number are under "
                     "<a href=\"#provenance\">Provenance</a>.</p>\n",
                     page_css, s->nruns, s->nruns == 1 ? "" : "s", included, s->nenvs,
                     s->nenvs == 1 ? "" : "s", s->nagents, s->nagents == 1 ? "" : "s",
                     PRISM_VERSION);
    if (included < s->nruns)
        prism_svg_printf(out,
                         "<p class=\"note\">Note: %d run%s left out of every statistic (not "
                         "completed, no final score, a duplicate, or a config.ini that run.json "
                         "does not record); the run table says why.</p>\n",
                         s->nruns - included, s->nruns - included == 1 ? " is" : "s are");
    notes_missing_scores(c);
    notes_unequal_budgets(c);
    prism_status st = PRISM_OK;
    if (s->nruns == 1) st = section_single(c, &s->runs[0]);
    if (!st && stats) st = section_curves(c);
    if (!st && stats) {
        section_final(c);
        section_aggregates(c);
        section_poi(c);
        section_profiles(c);
        st = section_metrics(c);
    }
    if (st) return st;
    if ((st = report_provenance(out, s))) return st;
    section_runs(c);
    section_data(c, data_stem);
    return prism_svg_status(out);
}
