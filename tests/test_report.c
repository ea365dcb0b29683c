/* Tests of `prism report` (src/report/ through the CLI): a generator of fake run
 * directories following the run-directory contract of docs/report.md, then checks on the HTML
 * (well formed, the expected sections and numbers), the CSV/JSON beside it, excluded runs,
 * bad input, determinism, and a real browser (headless Chromium) when one is installed. */
#include "harness.h"
#include "prism/json.h"
#include "prism/report.h"
#include "prism/rng.h"
#include "xml_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fake run: return_mean at iteration i = base + slope * i + seed, exactly, so final scores
 * can be computed by hand; iteration 0 has no finished episode (empty cell) and seed 1 writes
 * "nan" at iteration 1. Extra diagnostics columns: loss (noisy), q_mean, sys_step_s. */
static void fake_run(const char *root, const char *env, const char *agent, int seed,
                     const char *status, int iters, double base, double slope) {
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s-%s-%d", root, env, agent, seed);
    for (char *p = dir + strlen(root) + 1; *p; p++)
        if (*p == '/') *p = '_'; /* an id such as MinAtar/Breakout-v1 */
    mkdir(root, 0755);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f,
            /* nested keys named like the top-level ones, strings with braces and escaped
             * quotes: only the top-level keys count */
            "{\"config\": {\"env\": \"Wrong-v0\", \"agent\": \"}{\"}, \"env\": \"%s\", "
            "\"agent\": \"%s\", \"seed\": %d, \"status\": \"%s\",\n"
            " \"argv\": [\"prism\", \"train\"], \"host\": {\"cpu\": \"x \\\" y\"}}\n",
            env, agent, seed, status);
    fclose(f);
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    f = fopen(path, "w");
    if (!f) return;
    prism_rng rng;
    prism_rng_seed(&rng, (uint64_t)seed, 99);
    fprintf(f, "iteration,env_steps,return_mean,loss,q_mean,sys_step_s\n");
    for (int i = 0; i < iters; i++) {
        fprintf(f, "%d,%d,", i, (i + 1) * 1000);
        if (i == 0)
            fprintf(f, ",");
        else if (i == 1 && seed == 1)
            fprintf(f, "nan,");
        else
            fprintf(f, "%.17g,", base + slope * i + seed);
        fprintf(f, "%.6f,%.3f,0.25\n", 1.0 / (i + 1) + 0.1 * prism_rng_uniform(&rng), 0.5 * i);
    }
    fclose(f);
}

/* The study: CartPole-v0 and Acrobot-v1, agents dqn, dqn+double, rainbow, rainbow-noisy, 3
 * seeds each, 20 iterations, plus a failed and a running run that must be left out. */
static void fake_study(const char *root) {
    const char *envs[] = {"CartPole-v0", "Acrobot-v1"};
    const char *agents[] = {"dqn", "dqn+double", "rainbow", "rainbow-noisy"};
    for (int e = 0; e < 2; e++)
        for (int a = 0; a < 4; a++)
            for (int s = 0; s < 3; s++)
                fake_run(root, envs[e], agents[a], s, "completed", 20, e ? -500.0 + 10 * a : 20.0,
                         e ? 15.0 : 10.0 - a);
    fake_run(root, "CartPole-v0", "dqn", 7, "failed", 5, 0, 1);
    fake_run(root, "CartPole-v0", "rainbow", 8, "running", 5, 0, 1);
}

TEST(report_study_html_csv_json) {
    char root[600], out[8192], path[700];
    snprintf(root, sizeof root, "%s/sweep", test_tmpdir());
    fake_study(root);
    int rc =
        test_prism(out, sizeof out, "report %s -o %s/r.html --resamples 300", root, test_tmpdir());
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(out, "26 runs found, 24 used") != NULL);
    CHECK(strstr(out, "2 runs were left out of the statistics") != NULL);
    snprintf(path, sizeof path, "%s/r.html", test_tmpdir());
    char *html = test_read_file(path, NULL);
    REQUIRE(html != NULL);
    char err[256] = "";
    int svgs = 0;
    CHECK(xml_check(html, "meta", err, sizeof err, "svg", &svgs) == 0);
    if (err[0]) fprintf(stderr, "(%s) ", err);
    /* curves, ablations, aggregate intervals, probability of improvement, profiles, and one
     * per other logged metric (loss, q_mean, sys_step_s) */
    CHECK_EQ_INT(svgs, 8);
    CHECK(strstr(html, "<details><summary>q_mean</summary>") != NULL);
    CHECK(strstr(html, ">Ablations</h2>") != NULL);
    CHECK(strstr(html, "CartPole-v0: add one to DQN") != NULL);
    CHECK(strstr(html, "Acrobot-v1: remove one from Rainbow") != NULL);
    CHECK(strstr(html, "status 'failed': not completed, left out") != NULL);
    CHECK(strstr(html, "status 'running': not completed, left out") != NULL);
    CHECK(strstr(html, "P(agent &gt; dqn)") != NULL);
    /* 3 seeds per cell: the page warns that the bootstrap interval is too narrow */
    CHECK(strstr(html, "some cells have fewer than 10 seeds") != NULL);
    /* self-contained: nothing to fetch (the SVG namespace is an identifier, not a fetch) */
    CHECK(strstr(html, "<script") == NULL && strstr(html, "<link") == NULL);
    CHECK(strstr(html, "src=") == NULL);
    /* links go only to the page's own section and to the files beside it */
    for (const char *p = html; (p = strstr(p, "href=\"")); p++)
        CHECK(!strncmp(p + 6, "r.", 2) || !strncmp(p + 6, "#provenance\"", 12));
    CHECK(strstr(html, "url(") == NULL && strstr(html, "@import") == NULL);
    free(html);
    /* final score = mean of the last 10% (2 of 20) iterations = base + slope * 18.5 + seed;
     * mean over seeds 0, 1, 2: CartPole dqn 20 + 10 * 18.5 + 1 = 206, dqn+double (slope 9)
     * 20 + 166.5 + 1 = 187.5; Acrobot rainbow (a = 2): -480 + 15 * 18.5 + 1 = -201.5 */
    snprintf(path, sizeof path, "%s/r.final_scores.csv", test_tmpdir());
    char *csv = test_read_file(path, NULL);
    REQUIRE(csv != NULL);
    const char *header = "env,agent,seeds,mean,boot_lo,boot_hi,t_lo,t_hi,normalized_mean\n";
    CHECK(strncmp(csv, header, strlen(header)) == 0);
    CHECK(strstr(csv, "\nCartPole-v0,dqn,3,206,") != NULL);
    CHECK(strstr(csv, "\nCartPole-v0,dqn+double,3,187.5,") != NULL);
    CHECK(strstr(csv, "\nAcrobot-v1,rainbow,3,-201.5,") != NULL);
    /* normalised: (206 - 22.26) / (200 - 22.26) */
    char expect[64];
    snprintf(expect, sizeof expect, ",%.10g\n", (206 - 22.26) / (200 - 22.26));
    CHECK(strstr(csv, expect) != NULL);
    free(csv);
    /* the curve at iteration 1 has seeds 0 and 2 only (seed 1 wrote nan): mean of 30 and 32 */
    snprintf(path, sizeof path, "%s/r.curves.csv", test_tmpdir());
    csv = test_read_file(path, NULL);
    REQUIRE(csv != NULL);
    CHECK(strstr(csv, "\nCartPole-v0,dqn,0,1000,3,nan,nan,nan\n") != NULL);
    CHECK(strstr(csv, "\nCartPole-v0,dqn,1,2000,3,31,30,32\n") != NULL);
    free(csv);
    /* q_mean = 0.5 i in every seed: its mean over the 3 seeds at iteration 4 is 2 */
    snprintf(path, sizeof path, "%s/r.metrics.csv", test_tmpdir());
    csv = test_read_file(path, NULL);
    REQUIRE(csv != NULL);
    CHECK(strstr(csv, "\nCartPole-v0,dqn,q_mean,4,5000,3,2\n") != NULL);
    free(csv);
    snprintf(path, sizeof path, "%s/r.json", test_tmpdir());
    char *json = test_read_file(path, NULL);
    REQUIRE(json != NULL);
    CHECK(strstr(json, "\"aggregates\": [") != NULL);
    CHECK(strstr(json, "\"metric\": \"iqm\"") != NULL);
    CHECK(strstr(json, "\"resamples\": 300") != NULL);
    free(json);
    const char *others[] = {"aggregates", "probability_of_improvement", "performance_profiles",
                            "runs", "metrics"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/r.%s.csv", test_tmpdir(), others[i]);
        CHECK(access(path, R_OK) == 0);
    }
}

/* Out of memory at each allocation of a report in turn: PRISM_ERR_NOMEM every time, never a
 * crash (nor a leak: the ASan build checks), then the same report once memory is back. */
TEST(report_out_of_memory_at_every_allocation_is_reported) {
    char root[600], html[700];
    snprintf(root, sizeof root, "%s/small", test_tmpdir());
    fake_run(root, "CartPole-v0", "dqn", 0, "completed", 4, 10, 1);
    fake_run(root, "CartPole-v0", "dqn", 1, "completed", 4, 10, 1);
    fake_run(root, "CartPole-v0", "rainbow", 0, "completed", 4, 20, 1);
    fake_run(root, "Acrobot-v1", "dqn", 0, "completed", 4, -400, 5);
    fake_run(root, "Acrobot-v1", "rainbow", 0, "running", 3, -400, 5);
    snprintf(html, sizeof html, "%s/oom.html", test_tmpdir());
    prism_report_options o = prism_report_options_default();
    o.resamples = 20;
    const char *dirs[] = {root};
    prism_report_summary sum;
    int n = 0, nomem = 0;
    prism_status st = PRISM_ERR_NOMEM;
    for (; n < 5000 && st; n++) {
        prism_alloc_fail_after(n);
        st = prism_report_write(dirs, 1, html, &o, &sum);
        prism_alloc_fail_after(-1);
        nomem += st == PRISM_ERR_NOMEM;
    }
    REQUIRE(st == PRISM_OK);
    CHECK(n > 10);
    CHECK_EQ_INT(nomem, n - 1);
    CHECK_EQ_INT(sum.runs_found, 5);
    CHECK_EQ_INT(sum.runs_included, 4);
    char *page = test_read_file(html, NULL);
    REQUIRE(page != NULL);
    CHECK(strstr(page, "<h2>Performance profiles</h2>") != NULL);
    free(page);
}

TEST(report_is_deterministic) {
    char root[600], out[4096], a[700], b[700];
    snprintf(root, sizeof root, "%s/sweep", test_tmpdir());
    fake_study(root);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o %s/a.html --resamples 200 --seed 5",
                            root, test_tmpdir()),
                 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o %s/b.html --resamples 200 --seed 5",
                            root, test_tmpdir()),
                 0);
    snprintf(a, sizeof a, "%s/a.json", test_tmpdir());
    snprintf(b, sizeof b, "%s/b.json", test_tmpdir());
    char *ja = test_read_file(a, NULL), *jb = test_read_file(b, NULL);
    REQUIRE(ja && jb);
    CHECK(strcmp(ja, jb) == 0);
    free(ja), free(jb);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o %s/c.html --resamples 200 --seed 6",
                            root, test_tmpdir()),
                 0);
    snprintf(b, sizeof b, "%s/c.aggregates.csv", test_tmpdir());
    snprintf(a, sizeof a, "%s/a.aggregates.csv", test_tmpdir());
    ja = test_read_file(a, NULL), jb = test_read_file(b, NULL);
    REQUIRE(ja && jb);
    CHECK(strcmp(ja, jb) != 0); /* another bootstrap seed, other intervals */
    free(ja), free(jb);
}

TEST(report_single_run_view) {
    char root[600], out[4096], path[700];
    snprintf(root, sizeof root, "%s/one", test_tmpdir());
    fake_run(root, "CartPole-v0", "dqn", 0, "completed", 12, 20, 10);
    snprintf(root, sizeof root, "%s/one/CartPole-v0-dqn-0", test_tmpdir());
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "report %s -o %s/s.html --resamples 100", root, test_tmpdir()),
        0);
    snprintf(path, sizeof path, "%s/s.html", test_tmpdir());
    char *html = test_read_file(path, NULL);
    REQUIRE(html != NULL);
    char err[256];
    CHECK(xml_check(html, "meta", err, sizeof err, NULL, NULL) == 0);
    CHECK(strstr(html, "<h2>Single run: ") != NULL);
    /* a panel per numeric column: return_mean, loss, q_mean, sys_step_s */
    CHECK(strstr(html, "class=\"title\" text-anchor=\"middle\">loss</text>") != NULL);
    CHECK(strstr(html, "class=\"title\" text-anchor=\"middle\">q_mean</text>") != NULL);
    CHECK(strstr(html, "class=\"title\" text-anchor=\"middle\">sys_step_s</text>") != NULL);
    /* one diagnostic per panel, titled by its column: no legend repeating the titles */
    CHECK(strstr(html, "class=\"legend\">loss</text>") == NULL);
    free(html);
}

TEST(report_bad_input) {
    char out[4096], dir[700], path[800];
    CHECK_EQ_INT(test_prism(out, sizeof out, "report /nonexistent/runs"), 2);
    CHECK(strstr(out, "/nonexistent/runs is not a directory") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s", test_tmpdir()), 2);
    CHECK(strstr(out, "no run directory") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s --resamples 0", test_tmpdir()), 2);
    CHECK(strstr(out, "--resamples must be") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o x.txt", test_tmpdir()), 2);
    /* a metrics.csv without return_mean names the file and the columns */
    snprintf(dir, sizeof dir, "%s/bad", test_tmpdir());
    fake_run(dir, "CartPole-v0", "dqn", 0, "completed", 3, 0, 1);
    snprintf(path, sizeof path, "%s/CartPole-v0-dqn-0/metrics.csv", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fprintf(f, "iteration,env_steps,loss\n0,1000,1.0\n");
    fclose(f);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o %s/x.html", dir, test_tmpdir()), 2);
    CHECK(strstr(out, "metrics.csv: the header needs the columns") != NULL);
    /* a ragged row names the line */
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fprintf(f, "iteration,env_steps,return_mean\n0,1000,1.0\n1,2000\n");
    fclose(f);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o %s/x.html", dir, test_tmpdir()), 2);
    CHECK(strstr(out, "line 3: 2 fields, the header has 3") != NULL);
    /* a run.json without the agent */
    snprintf(path, sizeof path, "%s/CartPole-v0-dqn-0/run.json", dir);
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fprintf(f, "{\"env\": \"CartPole-v0\", \"seed\": 1, \"status\": \"completed\"}\n");
    fclose(f);
    /* one unreadable run.json leaves its run out with a note naming the file; it does not
     * abort the report */
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o %s/x.html", dir, test_tmpdir()), 0);
    CHECK(strstr(out, "run.json: agent") != NULL);
}

TEST(report_tolerates_unfinished_runs) {
    char root[600], out[4096], path[800];
    snprintf(root, sizeof root, "%s/sweep", test_tmpdir());
    fake_run(root, "CartPole-v0", "dqn", 0, "completed", 10, 20, 10);
    fake_run(root, "CartPole-v0", "dqn", 1, "completed", 10, 20, 10);
    /* still running: its last line is half written */
    fake_run(root, "CartPole-v0", "dqn", 2, "running", 10, 20, 10);
    snprintf(path, sizeof path, "%s/CartPole-v0-dqn-2/metrics.csv", root);
    FILE *f = fopen(path, "a");
    REQUIRE(f != NULL);
    fprintf(f, "10,11000,12");
    fclose(f);
    /* failed before writing any metrics */
    fake_run(root, "CartPole-v0", "dqn", 3, "failed", 1, 0, 0);
    snprintf(path, sizeof path, "%s/CartPole-v0-dqn-3/metrics.csv", root);
    REQUIRE(remove(path) == 0);
    /* the same runs reached twice (the sweep and one run inside it) are read once */
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "report %s %s/CartPole-v0-dqn-0 -o %s/r.html --resamples 100", root,
                            root, test_tmpdir()),
                 0);
    CHECK(strstr(out, "4 runs found, 2 used") != NULL);
    snprintf(path, sizeof path, "%s/r.runs.csv", test_tmpdir());
    f = fopen(path, "r");
    REQUIRE(f != NULL);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK(strstr(buf, "metrics.csv line 12 is incomplete; status 'running'") != NULL);
    CHECK(strstr(buf, "metrics.csv': No such file or directory; status 'failed'") != NULL);
    /* a completed run with a missing metrics.csv is an error, not a silent omission */
    snprintf(path, sizeof path, "%s/CartPole-v0-dqn-1/metrics.csv", root);
    REQUIRE(remove(path) == 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o %s/r.html", root, test_tmpdir()), 2);
    CHECK(strstr(out, "CartPole-v0-dqn-1/metrics.csv") != NULL);
}

TEST(report_student_t_intervals) {
    /* CartPole dqn final scores 205, 206, 207 (see above): mean 206, s = 1, t(0.975, 2) =
     * 4.3027, half width 4.3027 / sqrt(3) = 2.484 -> [203.5, 208.5]; two significant digits of
     * the half width fix one decimal for all three numbers */
    char root[600], out[4096], path[700];
    snprintf(root, sizeof root, "%s/sweep", test_tmpdir());
    fake_study(root);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o %s/t.html --resamples 100 --ci t", root,
                            test_tmpdir()),
                 0);
    snprintf(path, sizeof path, "%s/t.html", test_tmpdir());
    char *html = test_read_file(path, NULL);
    REQUIRE(html != NULL);
    CHECK(strstr(html, "<td>206.0 [203.5, 208.5] (n=3)</td>") != NULL);
    CHECK(strstr(html, "95% Student-t interval") != NULL);
    CHECK(strstr(html, "some cells have fewer than 10 seeds") == NULL);
    free(html);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s --ci normal", root), 2);
    CHECK(strstr(out, "--ci must be 'bootstrap' or 't'") != NULL);
}

/* Whether the report output file test_tmpdir()/name holds every one of the NULL-ended needles
 * (each missing one is reported). */
static bool output_has(const char *name, ...) {
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    char *text = test_read_file(path, NULL);
    if (!text) return false;
    bool all = true;
    va_list ap;
    va_start(ap, name);
    for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *))
        if (!strstr(text, n)) {
            fprintf(stderr, "(%s lacks '%s') ", name, n);
            all = false;
        }
    va_end(ap);
    free(text);
    return all;
}

TEST(report_minatar_study_has_aggregates_and_missing_scores_are_loud) {
    char root[600], out[8192];
    snprintf(root, sizeof root, "%s/minatar", test_tmpdir());
    /* breakout recorded under an alias by an older prism, and under its id: one task */
    for (int s = 0; s < 3; s++) {
        fake_run(root, s ? "breakout" : "MinAtar/Breakout-v1", "dqn", s, "completed", 10, 1, 0.5);
        fake_run(root, "probe-4-action", "dqn", s, "completed", 10, 0, 0.1);
    }
    REQUIRE(test_prism(out, sizeof out, "report %s -o %s/m.html --resamples 100", root,
                       test_tmpdir()) == 0);
    /* IQM, median, mean, optimality gap over the one normalisable task, breakout */
    CHECK(output_has("m.aggregates.csv", "\ndqn,iqm,1,", "\ndqn,optimality_gap,1,", NULL));
    CHECK(output_has("m.html", "2 environments",
                     "probe-4-action has no reference score (a debugging probe", NULL));
}

/* Parse RFC 4180 CSV text: number of records, and field `want_field` of record `want_row` into
 * out; -1 when a quote is left open. */
static int csv_parse(const char *s, int *fields_per_row, int max_rows, int want_row, int want_field,
                     char *out, size_t cap) {
    int row = 0, field = 0;
    size_t n = 0;
    bool quoted = false;
    for (const char *p = s; *p; p++) {
        char ch = *p;
        if (quoted) {
            if (ch == '"' && p[1] == '"')
                p++;
            else if (ch == '"') {
                quoted = false;
                continue;
            }
        } else if (ch == '"') {
            quoted = true;
            continue;
        } else if (ch == ',' || ch == '\n') {
            if (row == want_row && field == want_field) out[n < cap ? n : cap - 1] = 0;
            field++;
            if (ch == '\n') {
                if (row < max_rows) fields_per_row[row] = field;
                row++, field = 0;
            }
            n = 0;
            continue;
        }
        if (row == want_row && field == want_field && n + 1 < cap) out[n++] = ch;
    }
    return quoted ? -1 : row;
}

/* Replace dir/run.json with `json`. */
static bool put_run_json(const char *dir, const char *json) {
    char path[1400];
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fputs(json, f);
    return fclose(f) == 0;
}

TEST(report_csv_quotes_and_html_escapes_hostile_names) {
    char root[600], out[8192], path[1400], dir[1000];
    snprintf(root, sizeof root, "%s/hostile", test_tmpdir());
    fake_run(root, "CartPole-v0", "x", 0, "completed", 4, 10, 1);
    /* a run directory and an agent label holding every CSV and HTML special character */
    const char *hostile_dir = "a,b \"q\" <script>&\nline";
    snprintf(path, sizeof path, "%s/CartPole-v0-x-0", root);
    snprintf(dir, sizeof dir, "%s/%s", root, hostile_dir);
    REQUIRE(rename(path, dir) == 0);
    REQUIRE(put_run_json(dir, "{\"env\": \"CartPole-v0\", \"agent\": \"a,b \\\"q\\\" <script>&\", "
                              "\"seed\": 0, \"status\": \"completed\"}\n"));
    REQUIRE(test_prism(out, sizeof out, "report %s -o '%s/<b>&x.html' --resamples 50", root,
                       test_tmpdir()) == 0);
    const char *tables[] = {"runs", "final_scores", "curves"};
    for (int t = 0; t < 3; t++) {
        snprintf(path, sizeof path, "%s/<b>&x.%s.csv", test_tmpdir(), tables[t]);
        char *csv = test_read_file(path, NULL);
        REQUIRE(csv != NULL);
        int per_row[64], field_of_agent = t == 0 ? 2 : 1;
        char agent[256] = "";
        int rows = csv_parse(csv, per_row, 64, 1, field_of_agent, agent, sizeof agent);
        CHECK(rows >= 2);
        for (int r = 1; r < rows && r < 64; r++) CHECK_EQ_INT(per_row[r], per_row[0]);
        CHECK(strcmp(agent, "a,b \"q\" <script>&") == 0);
        if (t == 0) {
            char d[512] = "";
            csv_parse(csv, per_row, 64, 1, 0, d, sizeof d);
            CHECK(strstr(d, hostile_dir) != NULL);
        }
        free(csv);
    }
    snprintf(path, sizeof path, "%s/<b>&x.html", test_tmpdir());
    char *html = test_read_file(path, NULL);
    REQUIRE(html != NULL);
    CHECK(strstr(html, "<script") == NULL && strstr(html, "<b>") == NULL);
    CHECK(strstr(html, "&lt;b&gt;&amp;x.json") != NULL);
    char err[256] = "";
    CHECK(xml_check(html, "meta", err, sizeof err, "svg", NULL) == 0);
    free(html);
    /* the JSON beside it is valid and reads back to the same names */
    snprintf(path, sizeof path, "%s/<b>&x.json", test_tmpdir());
    char *json = test_read_file(path, NULL);
    REQUIRE(json != NULL);
    prism_json_value *v = NULL;
    REQUIRE(prism_json_parse(json, strlen(json), path, &v) == PRISM_OK);
    const prism_json_value *runs = prism_json_get(v, "runs");
    REQUIRE(runs != NULL && runs->count == 1);
    CHECK(strstr(prism_json_get_string(runs->child, "dir", ""), hostile_dir) != NULL);
    CHECK(!strcmp(prism_json_get_string(runs->child, "agent", ""), "a,b \"q\" <script>&"));
    CHECK_EQ_INT(prism_json_get(v, "final_scores")->count, 1);
    prism_json_value_free(v);
    free(json);
}

/* A fake run in root/sub with the config.ini that `prism train ENV --agent PRESET SETTINGS`
 * resolves (run.json without config_hash, as older runs have: the report computes it); `agent`
 * is run.json's name for it: the preset, or the label that SETTINGS give with --label. */
static void fake_labelled_run(const char *root, const char *sub, const char *agent,
                              const char *preset, int seed, int iters, const char *settings) {
    char r[800], out[65536], path[1400];
    snprintf(r, sizeof r, "%s/%s", root, sub);
    mkdir(root, 0755);
    fake_run(r, "CartPole-v0", agent, seed, "completed", iters, 20, 1);
    if (!settings) return;
    REQUIRE(test_prism(out, sizeof out, "train CartPole-v0 --agent %s %s --print-config", preset,
                       settings) == 0);
    snprintf(path, sizeof path, "%s/CartPole-v0-%s-%d/config.ini", r, agent, seed);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs(out, f);
    fclose(f);
}

static void fake_run_with_config(const char *root, const char *sub, const char *agent, int seed,
                                 int iters, const char *settings) {
    fake_labelled_run(root, sub, agent, agent, seed, iters, settings);
}

/* A label names its configuration: runs of a label are not compared with the preset defaults
 * of a preset of that name (there is none), and one of another configuration under the same
 * label is told apart by where it differs from the label's first run. */
TEST(report_names_labelled_runs_by_their_label) {
    char root[600], out[8192];
    snprintf(root, sizeof root, "%s/labels", test_tmpdir());
    const char *fixed = "--label noisy.fixed --set agent.noisy_resample=fixed";
    fake_labelled_run(root, "a", "noisy.fixed", "dqn+noisy", 0, 20, fixed);
    fake_labelled_run(root, "b", "noisy.fixed", "dqn+noisy", 1, 20, fixed);
    fake_labelled_run(root, "c", "noisy.fixed", "dqn+noisy", 2, 20,
                      "--label noisy.fixed --set agent.noisy_resample=fixed --set agent.lr=0.5");
    REQUIRE(test_prism(out, sizeof out, "report %s -o %s/lab.html --resamples 100", root,
                       test_tmpdir()) == 0);
    CHECK(output_has("lab.final_scores.csv", "\nCartPole-v0,noisy.fixed,2,",
                     "\nCartPole-v0,noisy.fixed agent.lr=0.5,1,", NULL));
    CHECK(!output_has("lab.final_scores.csv", "agent.noisy=true", NULL));
}

TEST(report_groups_runs_by_configuration_with_labels_and_notes) {
    char root[600], out[8192], path[700];
    snprintf(root, sizeof root, "%s/ident", test_tmpdir());
    fake_run_with_config(root, "a", "dqn", 0, 20, "");
    fake_run_with_config(root, "b", "dqn", 0, 20, ""); /* an exact duplicate of a */
    fake_run_with_config(root, "c", "dqn", 2, 20, "");
    fake_run_with_config(root, "d", "dqn", 0, 20, "--set agent.lr=0.5");
    fake_run_with_config(root, "e", "dqn", 1, 20, "--set agent.double=true");
    fake_run_with_config(root, "f", "dqn", 5, 8, "--steps 8000");
    fake_run_with_config(root, "g", "dqn", 6, 20, "");
    fake_run_with_config(root, "h", "dqn", 7, 20, NULL); /* no config.ini: by preset name */
    /* g's run.json records another configuration than its config.ini */
    snprintf(path, sizeof path, "%s/g/CartPole-v0-dqn-6", root);
    REQUIRE(put_run_json(path,
                         "{\"env\": \"CartPole-v0\", \"agent\": \"dqn\", \"seed\": 6, "
                         "\"status\": \"completed\", \"config_hash\": \"0123456789abcdef\"}\n"));
    REQUIRE(test_prism(out, sizeof out, "report %s -o %s/id.html --resamples 100", root,
                       test_tmpdir()) == 0);
    CHECK(strstr(out, "8 runs found, 6 used") != NULL);
    /* dqn: seeds 0 (a), 2 (c) and 7 (h, no config); the duplicate b and the mismatched g are
     * out; each setting that differs from the preset is its own labelled group */
    CHECK(output_has("id.final_scores.csv", "\nCartPole-v0,dqn,3,",
                     "\nCartPole-v0,dqn agent.lr=0.5,1,", "\nCartPole-v0,dqn agent.double=true,1,",
                     "\nCartPole-v0,dqn train.steps=8000,1,", NULL));
    CHECK(output_has("id.html", "duplicate of ", "(same configuration and seed): left out",
                     "is not the configuration run.json records (0123456789abcdef)",
                     "no config_hash and no config.ini: grouped by preset name only",
                     "runs of unequal budgets on CartPole-v0",
                     "dqn train.steps=8000: 8000 steps (1 run)", NULL));
}

/* Runs of one train.steps end at different step counts (every iteration ends with its last
 * episode: CartPole-v0 runs of 30k steps end 5-8% past it). Their config.ini say they had one
 * budget, so the report must not call them unequal. */
TEST(report_takes_the_budget_from_config_ini_not_from_the_steps_reached) {
    char root[600], out[8192], cmd[1600];
    snprintf(root, sizeof root, "%s/budget", test_tmpdir());
    fake_run_with_config(root, "a", "dqn", 0, 20, "");
    fake_run_with_config(root, "b", "dqn", 1, 20, "");
    /* seed 1 reached 21,700 steps where seed 0 reached 20,000 (8.5% apart) */
    snprintf(cmd, sizeof cmd, "sed -i 's/^19,20000,/19,21700,/' %s/b/CartPole-v0-dqn-1/metrics.csv",
             root);
    REQUIRE(system(cmd) == 0);
    REQUIRE(test_prism(out, sizeof out, "report %s -o %s/budget.html --resamples 50", root,
                       test_tmpdir()) == 0);
    CHECK(output_has("budget.html", "seeds 0,1 (n=2)", NULL));
    char path[700];
    snprintf(path, sizeof path, "%s/budget.html", test_tmpdir());
    char *html = test_read_file(path, NULL);
    REQUIRE(html != NULL);
    CHECK(strstr(html, "unequal budgets") == NULL);
    free(html);
}

TEST(report_numbers_are_written_to_the_precision_their_interval_warrants) {
    char b[96];
    prism_report_format_estimate(b, sizeof b, 0.01073, 0, 0.03219);
    CHECK(!strcmp(b, "0.011 [0.000, 0.032]"));
    prism_report_format_estimate(b, sizeof b, 113.3, 98.1, 130);
    CHECK(!strcmp(b, "113 [98, 130]"));
    prism_report_format_estimate(b, sizeof b, 1, 1, 1); /* no width: three significant digits */
    CHECK(!strcmp(b, "1.00 [1.00, 1.00]"));
    prism_report_format_estimate(b, sizeof b, 42.123, NAN, NAN);
    CHECK(!strcmp(b, "42.1"));
    prism_report_format_number(b, sizeof b, -0.0003798);
    CHECK(!strcmp(b, "-0.000380"));
    prism_report_format_number(b, sizeof b, 113.3);
    CHECK(!strcmp(b, "113"));
    prism_report_format_number(b, sizeof b, 2.5e7);
    CHECK(!strcmp(b, "2.5e+07"));
    prism_report_format_number(b, sizeof b, NAN);
    CHECK(!strcmp(b, "-"));
}

/* Two real tiny runs, dqn and dqn+double: every figure is also a file of its own (a
 * standalone SVG) linked with its data, and the provenance names the build, the seeds and
 * budgets, and the setting that differs between the agents. */
TEST(report_writes_each_figure_and_its_provenance) {
    char out[16384], path[1200];
    const char *dir = test_tmpdir();
    const char *agents[] = {"dqn", "dqn+double"};
    for (int a = 0; a < 2; a++)
        for (int seed = 0; seed < 2; seed++)
            REQUIRE(test_prism(out, sizeof out,
                               "train CartPole-v0 --agent %s --seed %d --steps 600 "
                               "--set train.iteration_steps=300 --set agent.hidden=16 "
                               "--set agent.min_replay=50 --set agent.batch_size=16 --quiet "
                               "--runs-dir %s/runs --run-id %s-%d",
                               agents[a], seed, dir, agents[a], seed) == 0);
    REQUIRE(test_prism(out, sizeof out, "report %s/runs -o %s/r.html --resamples 50", dir, dir) ==
            0);
    const char *figures[] = {"curves", "ablation", "aggregates", "improvement", "profiles"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/r.fig-%s.svg", dir, figures[i]);
        char *svg = test_read_file(path, NULL);
        if (!svg) {
            test_fail(__FILE__, __LINE__, "no %s", path);
            continue;
        }
        char err[256] = "";
        int svgs = 0;
        CHECK(xml_check(svg, NULL, err, sizeof err, "svg", &svgs) == 0 && svgs == 1);
        const char *head = "<svg xmlns=\"http://www.w3.org/2000/svg\"";
        CHECK(!strncmp(svg, head, strlen(head)));
        CHECK(strstr(out, path) != NULL); /* the command lists what it wrote */
        free(svg);
    }
    snprintf(path, sizeof path, "%s/r.html", dir);
    char *html = test_read_file(path, NULL);
    REQUIRE(html != NULL);
    CHECK(strstr(html, "<a href=\"r.fig-curves.svg\">r.fig-curves.svg</a>; its data: "
                       "<a href=\"r.curves.csv\">r.curves.csv</a>") != NULL);
    CHECK(strstr(html, "<h2 id=\"provenance\">Provenance</h2>") != NULL);
    CHECK(strstr(html, "This report: prism ") && strstr(html, ", commit <code>"));
    CHECK(strstr(html, "The runs were trained with: commit <code>") != NULL);
    CHECK(strstr(html, "seeds 0,1 (n=2); ") != NULL);
    /* the switch that tells the agents apart is marked; what they share is folded away */
    CHECK(strstr(html, "<tr class=\"differs\"><td class=\"l\">&#9654; agent.double</td>") != NULL);
    CHECK(strstr(html, "<tr><td class=\"l\">agent.lr</td>") != NULL);
    CHECK(strstr(html, "settings every agent shares</summary>") != NULL);
    CHECK(strstr(html, "<tr class=\"differs\"><td class=\"l\">&#9654; agent.lr") == NULL);
    CHECK(strstr(html, "None: every run found is in the statistics.") != NULL);
    /* the same --steps, ended a few steps apart by the last episode: one budget, no note */
    CHECK(strstr(html, "unequal budgets") == NULL);
    free(html);
}
