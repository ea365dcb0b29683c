/* report/report.c — `prism report` (prism/report.h, docs/report.md): checks the options, has
 * study.c find, read, group and compute the study, has html.c and data.c write the page and
 * the data tables into buffers, and writes the files: <stem>.html, <stem>.<table>.csv,
 * <stem>.json and each figure as <stem>.fig-<name>.svg.
 *
 * It is the orchestrator only: it reads no run, computes no statistic and formats nothing of
 * the page or the data. */
#include "study.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

prism_report_options prism_report_options_default(void) {
    prism_report_options o = {2000, 0.95, 0.1, 0, 0};
    return o;
}

static prism_status write_text(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return prism_error(PRISM_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    size_t w = fwrite(text, 1, len, f);
    int bad = fclose(f) != 0 || w != len;
    if (bad) return prism_error(PRISM_ERR_IO, "cannot write %s (disk full?)", path);
    return PRISM_OK;
}

/* Write one file and list it in the summary. */
static prism_status write_listed(prism_report_summary *sum, const char *path, const char *text,
                                 size_t len) {
    prism_status st = write_text(path, text, len);
    if (!st) snprintf(sum->files[sum->nfiles++], sizeof sum->files[0], "%s", path);
    return st;
}

/* What the summary says of the study; the first unreadable run's reason, naming its file. */
static void summarize(const study *s, prism_report_summary *sum) {
    sum->runs_found = s->nruns, sum->runs_included = study_included(s);
    sum->runs_unreadable = 0;
    for (int i = 0; i < s->nruns; i++)
        if (!strcmp(s->runs[i].status, "unreadable") && sum->runs_unreadable++ == 0) {
            const char *note = s->runs[i].note, *end = strstr(note, "; "); /* the reason */
            snprintf(sum->unreadable, sizeof sum->unreadable, "%.*s",
                     (int)(end ? end - note : (long)strlen(note)), note);
        }
    sum->envs = s->nenvs, sum->agents = s->nagents;
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
    memset(sum, 0, sizeof *sum);
    study s;
    memset(&s, 0, sizeof s);
    study_stats stats;
    memset(&stats, 0, sizeof stats);
    prism_svg html, csv[REPORT_TABLES];
    prism_svg_init(&html);
    for (int i = 0; i < REPORT_TABLES; i++) prism_svg_init(&csv[i]);
    prism_json json;
    prism_json_init_lines(&json, 2);
    prism_status st = PRISM_OK;
    for (int i = 0; i < ndirs && !st; i++) st = study_find_runs(&s, dirs[i]);
    if (!st && s.nruns == 0)
        st = prism_error(PRISM_ERR_NOT_FOUND,
                         "no run directory (one with a run.json) found under the given "
                         "director%s (searched %d levels deep)",
                         ndirs == 1 ? "y" : "ies", STUDY_MAX_DEPTH);
    if (!st) st = study_group(&s, opt->final_fraction);
    int grouped = !st; /* the summary counts the runs from here on, even when a write fails */
    /* the statistics draw from one bootstrap stream, seeded here */
    prism_rng rng;
    prism_rng_seed(&rng, opt->seed, PRISM_STREAM_BOOTSTRAP);
    int computed = !st && study_included(&s) > 0;
    if (computed) st = study_compute(&s, opt, &rng, &stats);
    /* data files beside the HTML: <stem>.<table>.csv and one <stem>.json with every table */
    char stem[PATH_MAX];
    snprintf(stem, sizeof stem, "%.*s", (int)(olen - 5), out_html);
    const char *base = strrchr(stem, '/') ? strrchr(stem, '/') + 1 : stem;
    report_figures figs;
    figs.n = 0;
    if (!st) st = report_html(&html, &s, computed ? &stats : NULL, opt, base, &figs);
    if (!st) st = report_data(csv, &json, &s, computed ? &stats : NULL, opt);
    if (!st) st = write_listed(sum, out_html, html.buf, html.len);
    for (int i = 0; i < REPORT_TABLES && !st; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s.%s.csv", stem, report_table_name(i));
        st = write_listed(sum, path, csv[i].buf, csv[i].len);
    }
    if (!st) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s.json", stem);
        st = write_listed(sum, path, prism_json_text(&json), prism_json_length(&json));
    }
    /* each figure on its own, named for \includegraphics{<stem>.fig-<name>} */
    for (int i = 0; i < figs.n && !st; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s.fig-%s.svg", stem, figs.f[i].name);
        st = write_listed(sum, path, figs.f[i].svg.buf, figs.f[i].svg.len);
    }
    report_figures_free(&figs);
    if (grouped) summarize(&s, sum);
    prism_json_free(&json);
    for (int i = 0; i < REPORT_TABLES; i++) prism_svg_free(&csv[i]);
    prism_svg_free(&html);
    study_stats_free(&stats, &s);
    study_free(&s);
    return st;
}
