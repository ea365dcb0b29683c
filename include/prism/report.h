/* prism/report.h — the study report: reads run directories (run.json + metrics.csv, see
 * docs/report.md for the contract), computes the statistics of prism/stats.h and writes one
 * self-contained HTML file (inline SVG and CSS, nothing external) plus CSV and JSON files of
 * every number plotted, beside it.
 *
 *     prism_report_options o = prism_report_options_default();
 *     prism_report_summary sum;
 *     const char *dirs[] = {"runs"};
 *     if (prism_report_write(dirs, 1, "report.html", &o, &sum) != PRISM_OK) ...
 *
 * Runs whose status is not "completed" are listed in the report and left out of every
 * statistic, with a note saying so. The library prints nothing: notes go into the HTML.
 */
#ifndef PRISM_REPORT_H
#define PRISM_REPORT_H

#include "prism/core.h"

#include <stdint.h>

typedef struct prism_report_options {
    int resamples;         /* bootstrap resamples, >= 1 (default 2000) */
    double level;          /* confidence level (default 0.95) */
    double final_fraction; /* final score = mean return over this last fraction of iterations
                              (default 0.1) */
    uint64_t seed;         /* seed of the bootstrap stream (default 0) */
    int student_t;         /* per-task intervals (final scores, curve bands): 0 percentile
                              bootstrap (default), 1 Student's t; aggregates always use the
                              stratified bootstrap */
} prism_report_options;

prism_report_options prism_report_options_default(void);

typedef struct prism_report_summary {
    int runs_found;       /* run directories read */
    int runs_included;    /* completed runs with a final score, used in the statistics */
    int envs, agents;     /* distinct among the included runs */
    int runs_unreadable;  /* run directories whose run.json could not be read: left out */
    char unreadable[208]; /* the first one's reason, naming its file */
    char files[24][4200]; /* files written: the HTML first, then CSV, JSON and the figures */
    int nfiles;
} prism_report_summary;

/* Find the runs under dirs (each a run directory or a directory searched recursively to depth
 * 3), and write the report to out_html and its data to <stem>.*.csv and <stem>.json beside it.
 * PRISM_ERR_NOT_FOUND when a directory is missing or holds no run, PRISM_ERR_CORRUPT when the
 * metrics.csv of a completed run cannot be read (naming the file and line), PRISM_ERR_IO when
 * writing fails, PRISM_ERR_INVALID on bad options. A run.json that cannot be read is no error:
 * its run is left out with a note (runs_unreadable, unreadable). */
prism_status prism_report_write(const char *const *dirs, int ndirs, const char *out_html,
                                const prism_report_options *opt, prism_report_summary *summary);

/* Numbers as the page shows them (the CSV and JSON keep every digit): three significant
 * digits for a lone number ("-" for NaN); for an estimate and its interval, the decimals that
 * two significant digits of the interval's half-width call for, the same for all three
 * ("0.011 [0.000, 0.032]", "113 [98, 130]"). */
void prism_report_format_number(char *buf, size_t cap, double v);
void prism_report_format_estimate(char *buf, size_t cap, double point, double lo, double hi);

#endif
