/* Tests for runs/index.sqlite when it is damaged or read-only, and for seeds above 2^63 through
 * run.json, the typed reader and the index (src/archive/run_index.c, src/core/json_*.c). */
#include "harness.h"
#include "prism/archive.h"
#include "prism/file.h"
#include "prism/json.h"
#include "prism/run_index.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* runs/<id>/run.json for two completed runs, indexed by `prism runs reindex`; the index path in
 * index[cap]. */
static void make_indexed_runs(char *runs, char *index, size_t cap) {
    static char out[8192];
    REQUIRE(prism_path_join(runs, PRISM_PATH_MAX, test_tmpdir(), "runs") == PRISM_OK);
    for (int i = 0; i < 2; i++) {
        char dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX], id[16];
        snprintf(id, sizeof id, "run-%d", i);
        REQUIRE(prism_path_join(dir, sizeof dir, runs, id) == PRISM_OK);
        REQUIRE(prism_mkdir_p(dir) == PRISM_OK);
        REQUIRE(prism_path_join(path, sizeof path, dir, "run.json") == PRISM_OK);
        FILE *f = fopen(path, "w");
        REQUIRE(f != NULL);
        fprintf(f,
                "{\"id\": \"%s\", \"status\": \"completed\", \"env\": \"CartPole-v0\", "
                "\"agent\": \"dqn\", \"seed\": %d, \"start\": \"2026-01-0%dT00:00:00Z\"}\n",
                id, i, i + 1);
        fclose(f);
    }
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs reindex --runs-dir %s", runs), 0);
    REQUIRE(prism_path_join(index, cap, runs, "index.sqlite") == PRISM_OK);
}

/* Whether some entry of runs_dir starts with "index.sqlite.damaged-". */
static bool has_damaged_copy(const char *runs) {
    DIR *d = opendir(runs);
    bool found = false;
    for (struct dirent *e; d && (e = readdir(d));)
        found |= !strncmp(e->d_name, "index.sqlite.damaged-", 21);
    if (d) closedir(d);
    return found;
}

/* Every reading command still answers from the run directories with a warning that names the
 * index and says to reindex; reindex moves the damaged file aside, says where, and rebuilds. */
static void check_damaged_index_recovers(const char *runs, const char *what) {
    static char out[16384];
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s", runs), 0);
    if (!strstr(out, "2 runs") || !strstr(out, "prism runs reindex") || !strstr(out, "damaged"))
        fprintf(stderr, "  %s: runs ls said: %s\n", what, out);
    CHECK(strstr(out, "2 runs") && strstr(out, "damaged") && strstr(out, "prism runs reindex"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs show run-1 --runs-dir %s", runs), 0);
    CHECK(strstr(out, "\"seed\": 1") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs diff run-0 run-1 --runs-dir %s", runs), 0);
    /* the doctor resolves an id through the index too: it says what to do */
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor run-0 --runs-dir %s", runs), 1);
    CHECK(strstr(out, "damaged") && strstr(out, "prism runs reindex"));
    /* rm would write into it: it stops, saying what to do */
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs rm run-0 --runs-dir %s", runs), 1);
    CHECK(strstr(out, "damaged") && strstr(out, "prism runs reindex"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs reindex --runs-dir %s", runs), 0);
    if (!strstr(out, "indexed 2 runs")) fprintf(stderr, "  %s: reindex said: %s\n", what, out);
    CHECK(strstr(out, "indexed 2 runs") && strstr(out, "moved it aside to"));
    CHECK(has_damaged_copy(runs));
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s", runs), 0);
    CHECK(strstr(out, "2 runs") && !strstr(out, "warning"));
}

TEST(runs_commands_survive_a_truncated_index) {
    char runs[PRISM_PATH_MAX], index[PRISM_PATH_MAX];
    make_indexed_runs(runs, index, sizeof index);
    size_t len;
    char *good = test_read_file(index, &len);
    REQUIRE(good != NULL && len >= 8192); /* at least two 4 KiB pages */
    /* empty, inside the header, just after it, mid first page, mid second page, mid last page
     * (a cut that only drops unused trailing bytes of the last page loses nothing: sqlite
     * reads the short page zero-filled, so that is not damage) */
    const size_t cuts[] = {0, 50, 100, 2048, 4096 + 2048, len - 2048};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu bytes", cuts[i]);
        FILE *f = fopen(index, "wb");
        REQUIRE(f != NULL);
        fwrite(good, 1, cuts[i], f);
        fclose(f);
        check_damaged_index_recovers(runs, what);
    }
    free(good);
}

TEST(runs_commands_survive_a_garbage_index_and_a_directory_in_its_place) {
    char runs[PRISM_PATH_MAX], index[PRISM_PATH_MAX];
    make_indexed_runs(runs, index, sizeof index);
    FILE *f = fopen(index, "wb");
    REQUIRE(f != NULL);
    for (int i = 0; i < 10000; i++) fputc((i * 7919) & 0xff, f);
    fclose(f);
    check_damaged_index_recovers(runs, "garbage");
    REQUIRE(remove(index) == 0);
    REQUIRE(mkdir(index, 0755) == 0);
    check_damaged_index_recovers(runs, "a directory");
}

TEST(run_index_open_readonly_never_writes) {
    char runs[PRISM_PATH_MAX], index[PRISM_PATH_MAX];
    make_indexed_runs(runs, index, sizeof index);
    /* a missing index is not created by a read-only open */
    char empty[PRISM_PATH_MAX], missing[PRISM_PATH_MAX];
    REQUIRE(prism_path_join(empty, sizeof empty, test_tmpdir(), "empty") == PRISM_OK);
    REQUIRE(prism_mkdir_p(empty) == PRISM_OK);
    prism_run_index ix;
    CHECK(prism_run_index_open_readonly(&ix, empty) == PRISM_ERR_NOT_FOUND);
    REQUIRE(prism_path_join(missing, sizeof missing, empty, "index.sqlite") == PRISM_OK);
    CHECK(access(missing, F_OK) != 0);
    /* a healthy index opens and answers */
    REQUIRE(prism_run_index_open_readonly(&ix, runs) == PRISM_OK);
    prism_run_record r;
    CHECK(prism_run_index_find(&ix, "run-1", &r) == PRISM_OK && r.seed == 1);
    prism_run_index_close(&ix);
    /* on a read-only mount: ls, show and diff read the index as it is */
    if (geteuid() != 0) {
        test_skip("needs root to bind-mount the runs directory read-only");
        return;
    }
    if (mount(runs, runs, NULL, MS_BIND, NULL) != 0) {
        test_skip("cannot bind-mount");
        return;
    }
    if (mount(NULL, runs, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0) {
        umount(runs);
        test_skip("cannot remount read-only");
        return;
    }
    static char out[16384];
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s", runs), 0);
    CHECK(strstr(out, "2 runs") && !strstr(out, "warning"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs show run-0 --runs-dir %s", runs), 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs diff run-0 run-1 --runs-dir %s", runs), 0);
    CHECK(strstr(out, "a: run-0") != NULL);
    umount(runs);
}

/* ---- seeds above 2^63 ---- */

TEST(json_integers_round_trip_exactly_to_64_bits) {
    const char *text = "{\"u\": 18446744073709551615, \"i\": -9223372036854775808, "
                       "\"big\": 18446744073709551616, \"f\": 1.5}";
    prism_json_value *doc;
    REQUIRE(prism_json_parse(text, strlen(text), "test", &doc) == PRISM_OK);
    uint64_t u = 0;
    long long i = 0;
    CHECK(prism_json_get_uint64(doc, "u", "test", &u) == PRISM_OK && u == UINT64_MAX);
    CHECK(prism_json_get_int64(doc, "i", "test", &i) == PRISM_OK && i == INT64_MIN);
    CHECK(prism_json_get_int64(doc, "u", "test", &i) == PRISM_ERR_CORRUPT);
    CHECK(prism_json_get_uint64(doc, "i", "test", &u) == PRISM_ERR_CORRUPT);
    CHECK(prism_json_get_uint64(doc, "big", "test", &u) == PRISM_ERR_CORRUPT);
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_write_value(&j, doc);
    REQUIRE(prism_json_finish(&j) == PRISM_OK);
    CHECK(strstr(prism_json_text(&j), "18446744073709551615") != NULL);
    CHECK(strstr(prism_json_text(&j), "-9223372036854775808") != NULL);
    prism_json_free(&j);
    prism_json_value_free(doc);
}

TEST(cli_seed_above_2_63_round_trips_through_run_json_and_the_index) {
    static char out[65536];
    char runs[PRISM_PATH_MAX], dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    REQUIRE(prism_path_join(runs, sizeof runs, test_tmpdir(), "runs") == PRISM_OK);
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train CartPole-v0 --steps 600 --seed 18446744073709551615 --quiet "
                            "--runs-dir %s",
                            runs),
                 0);
    DIR *d = opendir(runs);
    REQUIRE(d != NULL);
    dir[0] = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && !strstr(e->d_name, "index.sqlite"))
            REQUIRE(prism_path_join(dir, sizeof dir, runs, e->d_name) == PRISM_OK);
    closedir(d);
    REQUIRE(dir[0] != 0);
    REQUIRE(prism_path_join(path, sizeof path, dir, "run.json") == PRISM_OK);
    char *text = test_read_file(path, NULL);
    REQUIRE(text != NULL);
    CHECK(strstr(text, "\"seed\": 18446744073709551615,") != NULL);
    free(text);
    prism_run_meta *m = malloc(sizeof *m);
    REQUIRE(m != NULL);
    REQUIRE(prism_run_read(dir, m) == PRISM_OK);
    CHECK(m->seed == UINT64_MAX);
    prism_run_meta_free(m);
    free(m);
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "runs ls --where seed=18446744073709551615 "
                            "--runs-dir %s",
                            runs),
                 0);
    CHECK(strstr(out, "1 run\n") && strstr(out, " 18446744073709551615 "));
    /* the signed spelling of the same bits, and non-numbers, match nothing */
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --where seed=-1 --runs-dir %s", runs), 0);
    CHECK(strstr(out, "0 runs") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --where seed=x --runs-dir %s", runs), 0);
    CHECK(strstr(out, "0 runs") != NULL);
}
