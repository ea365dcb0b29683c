/* Tests for `prism train --threads N` (train.threads): bad counts are refused before anything is
 * written; in a `make GEMM=prism` build, runs with 1 and 2 threads and the same seed write the
 * same metrics.csv (sys_ timing columns aside) and episodes.csv, record their thread count in
 * config.ini and share one config_hash; in the default (OpenBLAS) build more than one thread is
 * refused with the way out named. */
#include "harness.h"
#include "prism/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void join(char *out, const char *a, const char *b) {
    if (prism_path_join(out, PRISM_PATH_MAX, a, b) != PRISM_OK) out[0] = 0;
}

TEST(train_threads_refuses_bad_counts) {
    static const char *bad[] = {"0", "-1", "65", "two", "1.5", ""};
    char out[4096];
    const char *runs = test_tmpdir();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = test_prism(out, sizeof out, "train CartPole-v0 --threads '%s' --runs-dir %s",
                            bad[i], runs);
        CHECK(rc != 0);
        if (!strstr(out, "train.threads must be a whole number from 1 to 64"))
            test_fail(__FILE__, __LINE__, "--threads '%s': %s", bad[i], out);
    }
    int rc = test_prism(out, sizeof out,
                        "train CartPole-v0 --set train.threads=100 --runs-dir %s --quiet", runs);
    CHECK(rc != 0 && strstr(out, "from 1 to 64") != NULL);
#if !defined(PRISM_GEMM_OWN)
    rc = test_prism(out, sizeof out, "train CartPole-v0 --threads 2 --runs-dir %s --quiet", runs);
    CHECK(rc != 0);
    if (!strstr(out, "make GEMM=prism")) test_fail(__FILE__, __LINE__, "%s", out);
    rc = test_prism(out, sizeof out, "bench train --only 'dqn CartPole-v0' --threads 2");
    CHECK(rc != 0 && strstr(out, "make GEMM=prism") != NULL);
#endif
    /* nothing was archived by a refused run */
    char path[PRISM_PATH_MAX];
    join(path, runs, "index.sqlite");
    CHECK(access(path, F_OK) != 0);
}

#if defined(PRISM_GEMM_OWN)
/* Train `agent` on `env` with `threads` threads into runs/id; 0 on success. */
static int train(const char *runs, const char *id, const char *agent, const char *env,
                 const char *extra, int threads) {
    char out[8192];
    int rc = test_prism(out, sizeof out,
                        "train %s --agent %s --seed 7 --threads %d --runs-dir %s --run-id %s "
                        "--set train.eval_episodes=1 --quiet %s",
                        env, agent, threads, runs, id, extra);
    if (rc)
        test_fail(__FILE__, __LINE__, "%s on %s, %d threads: rc %d\n%s", agent, env, threads, rc,
                  out);
    return rc;
}

/* files of runs/a and runs/b, sys_ columns removed, must be equal and non-trivial */
static void same_file(const char *runs, const char *a, const char *b, const char *file,
                      int min_lines) {
    char pa[PRISM_PATH_MAX], pb[PRISM_PATH_MAX], da[PRISM_PATH_MAX], db[PRISM_PATH_MAX];
    join(da, runs, a), join(db, runs, b);
    join(pa, da, file), join(pb, db, file);
    char *ta = test_csv_without_sys(pa), *tb = test_csv_without_sys(pb);
    if (!ta || !tb) {
        test_fail(__FILE__, __LINE__, "cannot read %s of %s or %s", file, a, b);
    } else {
        int lines = 0;
        for (const char *p = ta; *p; p++) lines += *p == '\n';
        if (lines < min_lines)
            test_fail(__FILE__, __LINE__, "%s of %s has %d lines", file, a, lines);
        if (strcmp(ta, tb)) test_fail(__FILE__, __LINE__, "%s differs: %s vs %s", file, a, b);
    }
    free(ta), free(tb);
}

/* The value of `key` in runs/id/name (a line `key = value` or `"key": value`), or "". */
static void value_of(const char *runs, const char *id, const char *name, const char *key, char *out,
                     size_t cap) {
    char dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    join(dir, runs, id), join(path, dir, name);
    out[0] = 0;
    char *text = test_read_file(path, NULL);
    const char *p = text ? strstr(text, key) : NULL;
    if (p) {
        p += strlen(key);
        p += strspn(p, " =:\"");
        size_t n = strcspn(p, "\",\n");
        snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
    }
    free(text);
}

#endif

SLOW_TEST(train_with_two_threads_gives_the_same_run_as_one) {
#if !defined(PRISM_GEMM_OWN)
    test_skip("more than one thread needs a `make GEMM=prism` build");
#else
    /* long enough for a few hundred updates through every layer of each network, with the
     * 512-wide layers and the MinAtar trunk (1600 -> 512) above the split threshold */
    static const struct {
        const char *agent, *env, *extra;
    } cases[] = {
        {"dqn", "CartPole-v0",
         "--steps 2000 --set agent.min_replay=500 --set train.iteration_steps=500"},
        {"rainbow", "CartPole-v0",
         "--steps 2000 --set agent.min_replay=500 --set train.iteration_steps=500"},
        {"rainbow", "breakout",
         "--steps 1500 --set agent.min_replay=500 --set train.iteration_steps=500 "
         "--set agent.update_period=2"},
    };
    const char *runs = test_tmpdir();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char one[64], two[64];
        snprintf(one, sizeof one, "%s-%s-1", cases[i].agent, cases[i].env);
        snprintf(two, sizeof two, "%s-%s-2", cases[i].agent, cases[i].env);
        if (train(runs, one, cases[i].agent, cases[i].env, cases[i].extra, 1) ||
            train(runs, two, cases[i].agent, cases[i].env, cases[i].extra, 2))
            continue;
        same_file(runs, one, two, "metrics.csv", 4);
        same_file(runs, one, two, "episodes.csv", 4);
        char t1[32], t2[32], h1[32], h2[32];
        value_of(runs, one, "config.ini", "\nthreads", t1, sizeof t1);
        value_of(runs, two, "config.ini", "\nthreads", t2, sizeof t2);
        CHECK(!strcmp(t1, "1") && !strcmp(t2, "2"));
        value_of(runs, one, "run.json", "\"config_hash\"", h1, sizeof h1);
        value_of(runs, two, "run.json", "\"config_hash\"", h2, sizeof h2);
        CHECK(strlen(h1) == 16 && !strcmp(h1, h2));
    }
#endif
}
