/* Tests for the archive's readers (src/archive/ and src/core/file.c): the bounded file reader,
 * the typed run.json reader, the CSV table reader, the INI reader, and the commands built on
 * them (`prism report`, `prism runs`) on damaged or hostile run directories. */
#include "harness.h"
#include "prism/archive.h"
#include "prism/file.h"

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
