/* src/report/study.h — what the files of src/report/ share: a study (the runs found under the
 * report's directories, labelled and grouped into cells of one environment and one
 * configuration) and its statistics, and the two writers that turn a computed study into the
 * page (html.c) and the data files (data.c). Not a public header: nothing outside src/report/
 * includes it; the public face of the report is prism/report.h.
 *
 * The order of a report (report.c): study_find_runs, study_group, study_compute, then the
 * writers, which only read. Every bootstrap interval is drawn in study_compute, in one fixed
 * order, so the writers cannot change a number by what they show or in which order.
 *
 * Dimension letters: E environments (study.nenvs), A agents (study.nagents, the cells'
 * configurations), T iterations of a curve, NTAU thresholds of a performance profile.
 */
#ifndef PRISM_REPORT_STUDY_H
#define PRISM_REPORT_STUDY_H

#include "prism/json.h"
#include "prism/report.h"
#include "prism/stats.h"
#include "prism/svg.h"

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

enum {
    STUDY_MAX_DEPTH = 3,  /* directory levels searched below each report directory */
    STUDY_NAME_LEN = 256, /* an agent label: the preset and the settings that differ from it */
    STUDY_MAX_GROUP = 64, /* distinct envs and agents in one report: the paper's study has 9 x 14 */
    STUDY_MAX_SEEDS = 1024 /* runs in one cell */
};
enum { STUDY_NTAU = 41 };                               /* thresholds of a performance profile */
enum { STUDY_MAX_METRICS = 96, STUDY_METRIC_LEN = 64 }; /* logged metrics shown, name length */

typedef struct study_run {
    char dir[PATH_MAX];
    char env[STUDY_NAME_LEN], status[32];
    char preset[STUDY_NAME_LEN]; /* run.json's "agent" */
    char agent[STUDY_NAME_LEN];  /* the group label: preset plus the settings that differ */
    char hash[32];   /* config_hash: run.json's, else computed from config.ini; "" if none */
    char commit[48]; /* the build that trained it (run.json's build.commit), "" if unknown */
    int dirty;       /* that build had uncommitted changes */
    uint64_t seed;
    dev_t dev; /* of run.json: the same run reached by two paths is read once */
    ino_t ino;
    long long train_steps; /* config.ini's train.steps: the budget; 0 when unknown */
    int nrows, ncols;
    char **cols;  /* (ncols) column names, owned */
    double *data; /* (nrows, ncols) NaN where empty */
    int c_iter, c_steps, c_ret;
    double final; /* final score, NaN when none */
    int included;
    int config_mismatch; /* config.ini is not the configuration run.json records */
    char note[600];
    char identity_note[300]; /* how the identity was found, added to note after the status */
} study_run;

typedef struct study {
    study_run *runs; /* (nruns) in sorted directory order */
    int nruns, cap;
    char envs[STUDY_MAX_GROUP][STUDY_NAME_LEN], agents[STUDY_MAX_GROUP][STUDY_NAME_LEN];
    int nenvs, nagents; /* distinct among the included runs, in the paper's order */
} study;

/* The value of metrics.csv row `row`, column `col` of a run (NaN where the cell was empty). */
static inline double study_value(const study_run *r, int row, int col) {
    return r->data[(size_t)row * r->ncols + col];
}

/* Mean return across the seeds of a cell at each iteration, with its band; NaN where no seed
 * has a finite return (a gap in the plot), and no band where only one has. */
typedef struct study_curve {
    int n, seeds;            /* n = T; n == 0: the cell has no runs */
    double *x, *y, *lo, *hi; /* (T) env steps, mean, band; one allocation at x */
} study_curve;

/* The final scores of a cell: their mean with both intervals. */
typedef struct study_final {
    int seeds;         /* 0: the cell has no runs (and nothing else is set) */
    prism_ci boot, t;  /* percentile bootstrap (lo, hi NaN with one seed) and Student-t */
    double normalized; /* boot.point normalised by the task's scores, NaN when it has none */
} study_final;

/* Everything the writers show beyond the runs themselves. */
typedef struct study_stats {
    study_curve *curves; /* (E, A) */
    study_final *finals; /* (E, A) */
    /* aggregate metrics over the tasks with a reference score */
    int *agg_tasks; /* (A) tasks behind the agent's aggregates; 0: it has none */
    prism_ci *agg;  /* (A, PRISM_AGG_COUNT) */
    /* probability of improvement over the baseline (dqn when present, else the first agent) */
    int poi_base;
    int *poi_tasks; /* (A) tasks shared with the baseline; 0: no value (and for the baseline) */
    prism_ci *poi;  /* (A) */
    /* performance profiles: fraction of runs above each threshold */
    double tau[STUDY_NTAU];
    int *prof_tasks;                    /* (A) 0: no profile */
    double *prof_y, *prof_lo, *prof_hi; /* (A, NTAU) */
    /* every other numeric column of metrics.csv (losses, Q statistics, gradient norms,
     * timings): the mean over a cell's seeds at each iteration, no band (lo, hi NULL) */
    int nmetrics;                           /* M */
    char (*metric_names)[STUDY_METRIC_LEN]; /* (M) in the order first met */
    study_curve *metric_curves;             /* (M, E, A) */
} study_stats;

/* Add the runs under dir (a run directory, or one searched to STUDY_MAX_DEPTH levels, in
 * sorted order so that the bootstrap draws do not depend on the file system). A run whose
 * run.json cannot be read, or whose metrics an unfinished run left unusable, is kept with a
 * note and left out later. PRISM_ERR_NOMEM; PRISM_ERR_CORRUPT when the metrics.csv of a
 * completed run cannot be read. */
prism_status study_find_runs(study *s, const char *dir);
/* Final scores, which runs enter the statistics (notes for the others), one label per
 * configuration, and the sorted envs and agents. PRISM_ERR_UNSUPPORTED past STUDY_MAX_GROUP. */
prism_status study_group(study *s, double final_fraction);
/* Included runs. */
int study_included(const study *s);
/* Every statistic of the study, drawing from rng in a fixed order. Call only when some run is
 * included. On failure (PRISM_ERR_NOMEM, or the statistics' errors) *out holds what was
 * computed; free it with study_stats_free either way. */
prism_status study_compute(const study *s, const prism_report_options *o, prism_rng *rng,
                           study_stats *out);
void study_stats_free(study_stats *st, const study *s);
void study_free(study *s);

/* Agent order of the paper's figures: dqn 0, dqn+X 1, rainbow 2, rainbow-X 3, the rest 4. */
int study_agent_rank(const char *agent);

/* The figures of the page, each also written as its own file <stem>.fig-<name>.svg beside the
 * page, for \includegraphics. */
enum { REPORT_MAX_FIGURES = 8 };
typedef struct report_figure {
    char name[48]; /* e.g. "curves", "ablation", "aggregates" */
    prism_svg svg; /* one standalone <svg> document */
} report_figure;
typedef struct report_figures {
    int n;
    report_figure f[REPORT_MAX_FIGURES];
} report_figures;
void report_figures_free(report_figures *figs);

/* The head of an agents x environments table (html.c): "<table>", the header row of the
 * environments; and the start of agent a's row. */
void report_agent_env_head(prism_svg *o, const study *s);
void report_agent_row_head(prism_svg *o, const study *s, int a);

/* The page (html.c): the whole HTML document into out, and each of its figures into figs;
 * stats NULL when no run is included. data_stem is the data files' name without directory
 * (the page names and links them). */
prism_status report_html(prism_svg *out, const study *s, const study_stats *stats,
                         const prism_report_options *o, const char *data_stem,
                         report_figures *figs);

/* The provenance section (provenance.c): this report's build, date and machine, the runs'
 * builds, seeds and budgets per cell, the runs left out, and each environment's resolved
 * hyperparameters per agent with the differences marked. */
prism_status report_provenance(prism_svg *out, const study *s);

/* The data files (data.c): the tables of every number the page shows, each table as CSV into
 * csv[i] (REPORT_TABLES of them, named by report_table_name) and all of them with the options
 * as one JSON document into json. stats NULL when no run is included. */
enum { REPORT_TABLES = 7 };
const char *report_table_name(int i);
prism_status report_data(prism_svg *csv, prism_json *json, const study *s, const study_stats *stats,
                         const prism_report_options *o);

#endif
