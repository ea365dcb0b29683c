/* Tests for the INI reader (src/core/ini.c) and the commands that read config.ini through it:
 * the configuration loader and `prism runs diff`. */
#include "harness.h"
#include "prism/config.h"
#include "prism/file.h"
#include "prism/ini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Write `text` to dir/name, creating dir; the path in path[PRISM_PATH_MAX]. */
static void put(const char *dir, const char *name, const char *text, char *path) {
    REQUIRE(prism_mkdir_p(dir) == PRISM_OK);
    REQUIRE(prism_path_join(path, PRISM_PATH_MAX, dir, name) == PRISM_OK);
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

TEST(ini_read_sections_comments_duplicates_and_errors) {
    char path[PRISM_PATH_MAX];
    put(test_tmpdir(), "a.ini",
        "seed = 3\n# a comment\n\n[agent]\nlr = 0.001 ; why\n  [ train ]  \r\nsteps=600\r\n"
        "steps = 700\nempty =\n",
        path);
    prism_ini ini;
    REQUIRE(prism_ini_read(path, &ini) == PRISM_OK);
    CHECK_EQ_INT(ini.n, 5);
    CHECK(!strcmp(prism_ini_get(&ini, "", "seed"), "3"));
    CHECK(!strcmp(prism_ini_get(&ini, "agent", "lr"), "0.001"));
    CHECK(!strcmp(prism_ini_get(&ini, "train", "steps"), "700")); /* the last one wins */
    CHECK(!strcmp(prism_ini_get(&ini, "train", "empty"), ""));
    CHECK(prism_ini_get(&ini, "agent", "steps") == NULL);
    CHECK_EQ_INT(ini.entries[3].line, 8);
    prism_ini_free(&ini);

    put(test_tmpdir(), "b.ini", "[agent]\nlr = 1\njunk\n", path);
    CHECK(prism_ini_read(path, &ini) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "b.ini:3: expected 'key = value', got 'junk'") != NULL);
    put(test_tmpdir(), "c.ini", "[agent\nlr = 1\n", path);
    CHECK(prism_ini_read(path, &ini) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "c.ini:1: malformed section header") != NULL);
    CHECK(prism_ini_read(test_tmpdir(), &ini) == PRISM_ERR_IO); /* a directory */
}

/* What the writer writes, the reader reads back: every key of a default configuration. */
TEST(ini_read_reads_every_key_the_config_writer_writes) {
    prism_config *c = malloc(sizeof *c), *d = malloc(sizeof *d);
    REQUIRE(c && d);
    prism_config_defaults(c);
    REQUIRE(prism_config_set(c, "agent.lr", "0.00025") == PRISM_OK);
    char path[PRISM_PATH_MAX];
    REQUIRE(prism_path_join(path, sizeof path, test_tmpdir(), "config.ini") == PRISM_OK);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    prism_config_write_ini(c, f, true);
    fclose(f);
    prism_ini ini;
    REQUIRE(prism_ini_read(path, &ini) == PRISM_OK);
    CHECK(ini.n > 20);
    const char *lr = prism_ini_get(&ini, "agent", "lr"); /* %.17g: 0.00025000000000000001 */
    CHECK(lr && strtod(lr, NULL) == 0.00025);
    prism_ini_free(&ini);
    prism_config_defaults(d);
    CHECK(prism_config_load_ini(d, path) == PRISM_OK);
    char a[64], b[64];
    CHECK(prism_config_get(d, "agent.lr", a, sizeof a) &&
          prism_config_get(c, "agent.lr", b, sizeof b));
    CHECK(!strcmp(a, b));
    free(c);
    free(d);
}

/* `runs diff` reads config.ini with the loader's rules: an inline comment is not part of the
 * value, so two configurations that load identically diff as identical. */
TEST(cli_runs_diff_reads_config_ini_as_the_loader_does) {
    static char out[16384];
    char runs[PRISM_PATH_MAX], dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    REQUIRE(prism_path_join(runs, sizeof runs, test_tmpdir(), "runs") == PRISM_OK);
    const char *ids[] = {"a", "b"};
    const char *configs[] = {"seed = 1\n[agent]\nlr = 0.001\n",
                             "seed = 1\n[agent]\nlr = 0.001 ; as in the paper\n"};
    for (int i = 0; i < 2; i++) {
        char text[512];
        REQUIRE(prism_path_join(dir, sizeof dir, runs, ids[i]) == PRISM_OK);
        snprintf(text, sizeof text,
                 "{\"id\": \"%s\", \"status\": \"completed\", \"env\": \"CartPole-v0\", "
                 "\"agent\": \"dqn\", \"seed\": 1, \"steps\": 600, \"final_return\": 20}\n",
                 ids[i]);
        put(dir, "run.json", text, path);
        put(dir, "config.ini", configs[i], path);
    }
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs diff a b --runs-dir %s", runs), 0);
    CHECK(strstr(out, "config.ini:\n  (identical)\n") != NULL);
    /* a real difference is one line: name, value in a, value in b */
    put(dir, "config.ini", "seed = 1\n[agent]\nlr = 0.002\n[train]\nsteps = 5\n", path);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs diff a b --runs-dir %s", runs), 0);
    CHECK(strstr(out, "  agent.lr                         0.001                    0.002\n") !=
          NULL);
    CHECK(strstr(out, "  train.steps                      (absent)                 5\n") != NULL);
}
