/* prism report — one self-contained HTML report (plus CSV/JSON data) from run directories.
 * Option handling only; the work is in src/report/ (report.c orchestrates). */
#include "cli.h"
#include "prism/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_report(int argc, char **argv) {
    const char *usage = "prism report DIR... [-o FILE] [--resamples N] [--seed N] "
                        "[--final-fraction F] [--ci bootstrap|t]";
    enum { O_OUT, O_RESAMPLES, O_SEED, O_FINAL_FRACTION, O_CI, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_OUT] = {.name = "o",
                   .metavar = "FILE",
                   .help = "the HTML file to write (default report.html); data files go beside "
                           "it"},
        [O_RESAMPLES] = {.name = "resamples",
                         .metavar = "N",
                         .help = "bootstrap resamples for every interval (default 2000)"},
        [O_SEED] = {.name = "seed",
                    .metavar = "N",
                    .help = "seed of the bootstrap stream (default 0)"},
        [O_FINAL_FRACTION] = {.name = "final-fraction",
                              .metavar = "F",
                              .help = "final score = mean return over this last fraction of "
                                      "iterations (default 0.1)"},
        [O_CI] = {.name = "ci",
                  .metavar = "bootstrap|t",
                  .help = "per-task intervals: percentile bootstrap (default) or Student's t "
                          "(better with < 10 seeds)"},
    };
    enum { MAXDIRS = 256 };
    char *dirs[MAXDIRS];
    int ndirs;
    int rc = cli_parse("report", usage, argc, argv, opts, NOPTS, dirs, MAXDIRS, &ndirs);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (ndirs == 0) {
        fprintf(stderr,
                "prism report: which runs? give one or more run directories (or "
                "directories holding them)\nusage: %s\n",
                usage);
        return CLI_USAGE;
    }
    prism_report_options o = prism_report_options_default();
    long long resamples;
    uint64_t seed;
    if (!cli_int("report", &opts[O_RESAMPLES], 1, 1000000, o.resamples, &resamples))
        return CLI_USAGE;
    if (!cli_u64("report", &opts[O_SEED], o.seed, &seed)) return CLI_USAGE;
    o.resamples = (int)resamples, o.seed = seed;
    if (opts[O_FINAL_FRACTION].count) {
        const char *s = cli_value(&opts[O_FINAL_FRACTION], "");
        char *end;
        double f = strtod(s, &end);
        if (!*s || *end || !(f > 0 && f <= 1)) {
            fprintf(stderr,
                    "prism report: --final-fraction must be a number in (0, 1] (got "
                    "'%s')\n",
                    s);
            return CLI_USAGE;
        }
        o.final_fraction = f;
    }
    const char *ci = cli_value(&opts[O_CI], "bootstrap");
    if (strcmp(ci, "bootstrap") && strcmp(ci, "t")) {
        fprintf(stderr, "prism report: --ci must be 'bootstrap' or 't' (got '%s')\n", ci);
        return CLI_USAGE;
    }
    o.student_t = !strcmp(ci, "t");
    if (o.resamples < 2000)
        fprintf(stderr,
                "prism report: note: %d resamples; rliable recommends at least 2000 for "
                "stable intervals\n",
                o.resamples);
    prism_report_summary sum;
    const char *out = cli_value(&opts[O_OUT], "report.html");
    prism_status st = prism_report_write((const char *const *)dirs, ndirs, out, &o, &sum);
    if (st) {
        rc = cli_fail("report", st,
                      "a run directory holds run.json and metrics.csv (see docs/report.md)");
        if (st == PRISM_ERR_NOT_FOUND) cli_hint_sweep_runs("report", NULL, "");
        return rc;
    }
    printf("%d run%s found, %d used in the statistics (%d environment%s, %d agent%s)\n",
           sum.runs_found, sum.runs_found == 1 ? "" : "s", sum.runs_included, sum.envs,
           sum.envs == 1 ? "" : "s", sum.agents, sum.agents == 1 ? "" : "s");
    if (sum.runs_included < sum.runs_found)
        printf("note: %d run%s left out of the statistics (not completed, no final score, a "
               "duplicate, or a config.ini that run.json does not record; the run table says "
               "which)\n",
               sum.runs_found - sum.runs_included,
               sum.runs_found - sum.runs_included == 1 ? " was" : "s were");
    if (sum.runs_unreadable)
        printf("note: %d unreadable run%s left out: %s (fix or remove the directory)\n",
               sum.runs_unreadable, sum.runs_unreadable == 1 ? "" : "s", sum.unreadable);
    for (int i = 0; i < sum.nfiles; i++) printf("wrote %s\n", sum.files[i]);
    return CLI_OK;
}
