/* Tests for the archive's readers (src/archive/ and src/core/file.c): the bounded file reader,
 * the typed run.json reader, the CSV table reader, the INI reader, and the commands built on
 * them (`prism report`, `prism runs`) on damaged or hostile run directories. */
#include "harness.h"
#include "prism/archive.h"
#include "prism/file.h"
#include "prism/metrics_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write `text` to dir/name, creating dir. */
static void put(const char *dir, const char *name, const char *text) {
    char path[PRISM_PATH_MAX];
    REQUIRE(prism_mkdir_p(dir) == PRISM_OK);
    REQUIRE(prism_path_join(path, sizeof path, dir, name) == PRISM_OK);
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* A minimal run.json of a run `id` with the given status and seed text. */
static void put_run_json(const char *runs, const char *id, const char *status, const char *seed) {
    char dir[PRISM_PATH_MAX], text[1024];
    REQUIRE(prism_path_join(dir, sizeof dir, runs, id) == PRISM_OK);
    snprintf(text, sizeof text,
             "{\"id\": \"%s\", \"status\": \"%s\", \"env\": \"CartPole-v0\", \"agent\": \"dqn\", "
             "\"seed\": %s, \"start\": \"2026-01-01T00:00:00Z\", \"steps\": 2000, "
             "\"final_return\": 20}\n",
             id, status, seed);
    put(dir, "run.json", text);
}

/* test_prism under `timeout`: a command that blocks fails the test with 124 instead of hanging
 * the suite. */
static int prism_timed(char *out, size_t cap, const char *args) {
    const char *bin = getenv("PRISM_BIN");
    char saved[PRISM_PATH_MAX], timed[PRISM_PATH_MAX + 32];
    snprintf(saved, sizeof saved, "%s", bin ? bin : "build/prism");
    snprintf(timed, sizeof timed, "timeout -s KILL 20 %s", saved);
    setenv("PRISM_BIN", timed, 1);
    int rc = test_prism(out, cap, "%s", args);
    setenv("PRISM_BIN", saved, 1);
    return rc;
}

/* ---- the bounded file reader ---- */

/* A FIFO or a link to /dev/zero where run.json or config.ini should be: every command that
 * reads them must answer promptly (the timeout turns a hang into exit 124). */
TEST(cli_runs_refuse_fifo_and_device_files_without_blocking) {
    static char out[65536];
    char runs[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    REQUIRE(prism_path_join(runs, sizeof runs, test_tmpdir(), "runs") == PRISM_OK);
    put_run_json(runs, "good", "completed", "1");
    put_run_json(runs, "good2", "completed", "2");
    REQUIRE(prism_path_join(path, sizeof path, runs, "fifo") == PRISM_OK);
    REQUIRE(prism_mkdir_p(path) == PRISM_OK);
    REQUIRE(prism_path_join(path, sizeof path, runs, "fifo/run.json") == PRISM_OK);
    REQUIRE(mkfifo(path, 0666) == 0);
    REQUIRE(prism_path_join(path, sizeof path, runs, "zero") == PRISM_OK);
    REQUIRE(prism_mkdir_p(path) == PRISM_OK);
    REQUIRE(prism_path_join(path, sizeof path, runs, "zero/run.json") == PRISM_OK);
    REQUIRE(symlink("/dev/zero", path) == 0);
    REQUIRE(prism_path_join(path, sizeof path, runs, "good/config.ini") == PRISM_OK);
    REQUIRE(symlink("/dev/zero", path) == 0);
    put(runs, "good2/config.ini", "[agent]\nlr = 0.001\n");
    char args[PRISM_PATH_MAX + 64];
    snprintf(args, sizeof args, "runs reindex --runs-dir %s", runs);
    int rc = prism_timed(out, sizeof out, args);
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(out, "indexed 2 runs") != NULL);
    snprintf(args, sizeof args, "runs diff good good2 --runs-dir %s", runs);
    rc = prism_timed(out, sizeof out, args);
    CHECK(rc == 1 || rc == 2);
    CHECK(strstr(out, "not a regular file") != NULL);
}

/* ---- the CSV table reader ---- */

/* A completed run whose metrics.csv ends its lines with `eol`, `rows` rows of return 10 + i. */
static void put_run_with_metrics(const char *root, const char *id, int seed, const char *eol,
                                 int rows) {
    char dir[PRISM_PATH_MAX], seedtxt[16];
    REQUIRE(prism_path_join(dir, sizeof dir, root, id) == PRISM_OK);
    snprintf(seedtxt, sizeof seedtxt, "%d", seed);
    put_run_json(root, id, "completed", seedtxt);
    static char csv[1 << 16];
    int n = snprintf(csv, sizeof csv, "iteration,env_steps,return_mean%s", eol);
    for (int i = 0; i < rows; i++)
        n += snprintf(csv + n, sizeof csv - (size_t)n, "%d,%d,%d%s", i + 1, 1000 * (i + 1), 10 + i,
                      eol);
    put(dir, "metrics.csv", csv);
}

/* Rows were counted by "\n" and split on "\r" or "\n": a metrics.csv with "\r" line ends wrote
 * past the row buffer. Every line-end spelling must read as the same table. */
TEST(cli_report_reads_metrics_with_any_line_end) {
    static char out[65536];
    char root[PRISM_PATH_MAX], args[2 * PRISM_PATH_MAX];
    REQUIRE(prism_path_join(root, sizeof root, test_tmpdir(), "study") == PRISM_OK);
    put_run_with_metrics(root, "lf", 0, "\n", 200);
    put_run_with_metrics(root, "crlf", 1, "\r\n", 200);
    put_run_with_metrics(root, "cr", 2, "\r", 200);
    snprintf(args, sizeof args, "report %s -o %s/r.html --resamples 50", root, test_tmpdir());
    CHECK_EQ_INT(test_prism(out, sizeof out, "%s", args), 0);
    CHECK(strstr(out, "3 runs found, 3 used") != NULL);
}

TEST(table_reader_line_ends_torn_rows_and_field_counts) {
    const char *dir = test_tmpdir();
    char path[PRISM_PATH_MAX];
    static const char *const texts[] = {"a,b\n1,2\n3,\n", "a,b\r\n1,2\r\n3,\r\n", "a,b\r1,2\r3,\r"};
    for (int k = 0; k < 3; k++) {
        put(dir, "t.csv", texts[k]);
        REQUIRE(prism_path_join(path, sizeof path, dir, "t.csv") == PRISM_OK);
        prism_table t;
        REQUIRE(prism_table_read(path, 0, &t) == PRISM_OK);
        CHECK_EQ_INT(t.ncols, 2);
        CHECK_EQ_INT(t.nrows, 2);
        CHECK_EQ_INT(t.torn_line, 0);
        CHECK(!strcmp(t.names[1], "b") && prism_table_col(&t, "b") == 1);
        CHECK(prism_table_at(&t, 1, 0) == 3 && isnan(prism_table_at(&t, 1, 1)));
        prism_table_free(&t);
    }
    /* no final line end: the last row is torn and left out */
    put(dir, "t.csv", "a,b\n1,2\n3,4");
    prism_table t;
    REQUIRE(prism_table_read(path, 0, &t) == PRISM_OK);
    CHECK_EQ_INT(t.nrows, 1);
    CHECK_EQ_INT(t.torn_line, 3);
    prism_table_free(&t);
    /* a short row: an error naming line and byte offset, or the end of a lenient table */
    put(dir, "t.csv", "a,b\n1,2\n3\n5,6\n");
    CHECK(prism_table_read(path, 0, &t) == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(),
                 "line 3: 1 fields, the header has 2 (the line starts at byte 8)") != NULL);
    REQUIRE(prism_table_read(path, PRISM_TABLE_LENIENT, &t) == PRISM_OK);
    CHECK(t.nrows == 1 && t.stopped_line == 3);
    prism_table_free(&t);
    put(dir, "t.csv", "");
    CHECK(prism_table_read(path, 0, &t) == PRISM_ERR_CORRUPT);
    put(dir, "t.csv", "a,b");
    CHECK(prism_table_read(path, 0, &t) == PRISM_ERR_CORRUPT);
}

/* ---- run.json ---- */

/* One run directory whose run.json is not JSON aborted the whole report; it is left out with a
 * note naming it, and the other runs are reported. */
TEST(cli_report_leaves_out_an_unreadable_run_with_a_note) {
    static char out[65536];
    char root[PRISM_PATH_MAX], dir[PRISM_PATH_MAX], args[2 * PRISM_PATH_MAX];
    REQUIRE(prism_path_join(root, sizeof root, test_tmpdir(), "study") == PRISM_OK);
    put_run_with_metrics(root, "a-good", 0, "\n", 20);
    put_run_with_metrics(root, "b-good", 1, "\n", 20);
    REQUIRE(prism_path_join(dir, sizeof dir, root, "c-badjson") == PRISM_OK);
    put(dir, "run.json", "{\"status\": \"completed\", \"env\": ");
    snprintf(args, sizeof args, "report %s -o %s/r.html --resamples 50", root, test_tmpdir());
    CHECK_EQ_INT(test_prism(out, sizeof out, "%s", args), 0);
    CHECK(strstr(out, "3 runs found, 2 used") != NULL);
    CHECK(strstr(out, "c-badjson/run.json") != NULL);
}

/* "seed": 1e300 was converted to an integer without a range check (undefined behaviour): the
 * typed reader refuses it, naming the file and key, so reindex skips that run. */
TEST(run_read_range_checks_integers) {
    static char out[65536];
    char runs[PRISM_PATH_MAX], dir[PRISM_PATH_MAX], args[PRISM_PATH_MAX + 64];
    REQUIRE(prism_path_join(runs, sizeof runs, test_tmpdir(), "runs") == PRISM_OK);
    put_run_json(runs, "ok", "completed", "18446744073709549568"); /* just below 2^64 */
    put_run_json(runs, "huge", "completed", "1e300");
    put_run_json(runs, "neg", "completed", "-1");
    put_run_json(runs, "frac", "completed", "1.5");
    snprintf(args, sizeof args, "runs reindex --runs-dir %s", runs);
    CHECK_EQ_INT(test_prism(out, sizeof out, "%s", args), 0);
    CHECK(strstr(out, "indexed 1 run") != NULL);
    prism_run_meta *m = malloc(sizeof *m);
    REQUIRE(m != NULL);
    REQUIRE(prism_path_join(dir, sizeof dir, runs, "huge") == PRISM_OK);
    CHECK(prism_run_read(dir, m) == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(), "\"seed\" is 1.0000000000000001e+300") != NULL);
    REQUIRE(prism_path_join(dir, sizeof dir, runs, "ok") == PRISM_OK);
    REQUIRE(prism_run_read(dir, m) == PRISM_OK);
    CHECK(m->seed == 18446744073709549568ull && m->status == PRISM_RUN_COMPLETED);
    CHECK(m->steps == 2000 && m->final_return == 20 && !strcmp(m->env, "CartPole-v0"));
    prism_run_meta_free(m);
    free(m);
}
