/* Tests for runs at nn.precision=bf16: a seed gives the same bits twice, a run extended from its
 * checkpoint equals the run that had the budget from the start, the precision is recorded
 * (config.ini, run.json) and said on the console, a changed precision is refused on resume,
 * and (a `make GEMM=prism` build) two threads give the bits of one. Rainbow, so every kind of
 * dense layer (noisy, dueling, C51) is in it. */
#include "harness.h"
#include "prism/file.h"
#include "prism/nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BF16_RUN                                                                                   \
    "--agent rainbow --seed 5 --set agent.hidden=24,16 --set agent.min_replay=100 "                \
    "--set agent.batch_size=16 --set train.iteration_steps=300 --set train.checkpoint_every=1 "    \
    "--set train.checkpoint_seconds=0 --set nn.precision=bf16 --quiet"

static void join(char *out, const char *a, const char *b) {
    if (prism_path_join(out, PRISM_PATH_MAX, a, b) != PRISM_OK) out[0] = 0;
}

/* runs/id/file (sys_ columns removed from CSV files), malloc'd; NULL when unreadable */
static char *run_file(const char *runs, const char *id, const char *file) {
    char dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    join(dir, runs, id), join(path, dir, file);
    return strstr(file, ".csv") ? test_csv_without_sys(path) : test_read_file(path, NULL);
}

/* 1 when file is the same in runs/a and runs/b (and has at least min_lines lines) */
static int same(const char *runs, const char *a, const char *b, const char *file, int min_lines) {
    char *ta = run_file(runs, a, file), *tb = run_file(runs, b, file);
    int lines = 0;
    for (const char *p = ta; p && *p; p++) lines += *p == '\n';
    int eq = ta && tb && lines >= min_lines && !strcmp(ta, tb);
    free(ta), free(tb);
    return eq;
}

static int train(const char *runs, const char *id, const char *extra, char *out, size_t cap) {
    int rc = test_prism(out, cap, "train CartPole-v0 " BF16_RUN " --runs-dir %s --run-id %s %s",
                        runs, id, extra);
    if (rc) test_fail(__FILE__, __LINE__, "%s: rc %d\n%s", id, rc, out);
    return rc;
}

TEST(train_bf16_is_deterministic_recorded_and_resumes_bit_identically) {
    const char *runs = test_tmpdir();
    char out[8192];
    REQUIRE(train(runs, "full", "--steps 1500", out, sizeof out) == 0);
    CHECK(strstr(out, prism_nn_bf16_hardware() ? "the dense products run on AVX512_BF16"
                                               : "the bf16 arithmetic is emulated (the same "
                                                 "results as the hardware, slower than fp32)"));
    REQUIRE(train(runs, "again", "--steps 1500", out, sizeof out) == 0);
    CHECK(same(runs, "full", "again", "metrics.csv", 6));
    CHECK(same(runs, "full", "again", "episodes.csv", 6));
    /* half the budget, then extended from its last checkpoint to the whole */
    REQUIRE(train(runs, "ext", "--steps 900", out, sizeof out) == 0);
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "train --resume ext --runs-dir %s --steps 1500 --quiet", runs),
        0);
    CHECK(same(runs, "full", "ext", "metrics.csv", 6));
    CHECK(same(runs, "full", "ext", "episodes.csv", 6));
    /* recorded */
    char *ini = run_file(runs, "full", "config.ini"), *rj = run_file(runs, "full", "run.json");
    CHECK(ini && strstr(ini, "\n[nn]\n") && strstr(ini, "\nprecision = bf16\n"));
    CHECK(rj && strstr(rj, "\"precision\": \"bf16\""));
    free(ini), free(rj);
    /* and the arithmetic is not fp32's */
    REQUIRE(test_prism(out, sizeof out,
                       "train CartPole-v0 " BF16_RUN
                       " --set nn.precision=fp32 --steps 1500 --runs-dir %s --run-id f32",
                       runs) == 0);
    CHECK(!same(runs, "full", "f32", "metrics.csv", 6));
    rj = run_file(runs, "f32", "run.json");
    CHECK(rj && strstr(rj, "\"precision\": \"fp32\"") && !strstr(out, "precision bf16"));
    free(rj);
}

/* A run is continued with the precision it started with: config.ini edited to the other one is
 * refused, both ways, and nothing is trained. */
TEST(train_resume_refuses_a_changed_precision) {
    const char *runs = test_tmpdir();
    char out[8192], dir[PRISM_PATH_MAX], cmd[3 * PRISM_PATH_MAX];
    static const char *const from[] = {"bf16", "fp32"}, *const to[] = {"fp32", "bf16"};
    for (int k = 0; k < 2; k++) {
        char id[16], extra[64];
        snprintf(id, sizeof id, "run-%s", from[k]);
        snprintf(extra, sizeof extra, "--steps 600 --set nn.precision=%s", from[k]);
        REQUIRE(train(runs, id, extra, out, sizeof out) == 0);
        join(dir, runs, id);
        snprintf(cmd, sizeof cmd,
                 "sed -i 's/\"status\": \"completed\"/\"status\": \"interrupted\"/' %s/run.json && "
                 "sed -i 's/^precision = %s$/precision = %s/' %s/config.ini",
                 dir, from[k], to[k], dir);
        REQUIRE(system(cmd) == 0);
        char *before = run_file(runs, id, "metrics.csv");
        CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s --quiet", dir), 2);
        if (!strstr(out, "is not the configuration this run was started with"))
            test_fail(__FILE__, __LINE__, "%s -> %s: %s", from[k], to[k], out);
        char *after = run_file(runs, id, "metrics.csv");
        CHECK(before && after && !strcmp(before, after));
        free(before), free(after);
    }
}

TEST(train_bf16_with_two_threads_gives_the_same_run_as_one) {
#if !defined(PRISM_GEMM_OWN)
    test_skip("more than one thread needs a `make GEMM=prism` build");
#else
    /* 256-wide layers at batch 32: their products are split over the threads */
    const char *runs = test_tmpdir();
    char out[8192];
    const char *wide = "--steps 900 --set agent.hidden=256,256 --set agent.batch_size=32";
    char one[128], two[128];
    snprintf(one, sizeof one, "%s --threads 1", wide);
    snprintf(two, sizeof two, "%s --threads 2", wide);
    REQUIRE(train(runs, "t1", one, out, sizeof out) == 0);
    REQUIRE(train(runs, "t2", two, out, sizeof out) == 0);
    CHECK(same(runs, "t1", "t2", "metrics.csv", 3));
    CHECK(same(runs, "t1", "t2", "episodes.csv", 3));
#endif
}

/* prism bench train --precision times a case at bf16 (one exact case name picks one case, so
 * `bench compare` can time rainbow CartPole-v0 beside qrainbow's); a bad value is refused. */
TEST(bench_train_times_a_bf16_case) {
    char out[8192];
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "bench train --json --only 'rainbow CartPole-v0' --updates 2 "
                            "--peak 100 --precision bf16"),
                 0);
    int lines = 0;
    for (const char *p = out; *p; p++) lines += *p == '\n';
    CHECK_EQ_INT(lines, 1);
    CHECK(strstr(out, "\"preset\":\"rainbow\"") && strstr(out, "\"precision\":\"bf16\""));
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench train --only cleanrl --precision fp16"), 2);
    CHECK(strstr(out, "--precision must be fp32 or bf16 (got 'fp16')") != NULL);
}

/* prism eval --precision-diff N: the fraction of N greedy states where the other precision acts
 * differently, the same on a second call (the checkpoint's streams), both ways round. */
TEST(eval_precision_diff_compares_greedy_actions_at_both_precisions) {
    const char *runs = test_tmpdir();
    char out[8192], again[8192], dir[PRISM_PATH_MAX];
    static const char *const prec[] = {"bf16", "fp32"}, *const other[] = {"fp32", "bf16"};
    for (int k = 0; k < 2; k++) {
        char id[16], extra[64], want[64];
        snprintf(id, sizeof id, "diff-%s", prec[k]);
        snprintf(extra, sizeof extra, "--steps 600 --set nn.precision=%s", prec[k]);
        REQUIRE(train(runs, id, extra, out, sizeof out) == 0);
        join(dir, runs, id);
        CHECK_EQ_INT(test_prism(out, sizeof out, "eval %s --precision-diff 400 --json", dir), 0);
        CHECK_EQ_INT(test_prism(again, sizeof again, "eval %s --precision-diff 400 --json", dir),
                     0);
        CHECK(!strcmp(out, again));
        snprintf(want, sizeof want, "\"precision\":\"%s\",\"compared_with\":\"%s\"", prec[k],
                 other[k]);
        if (!strstr(out, want) || !strstr(out, "\"states\":400"))
            test_fail(__FILE__, __LINE__, "%s", out);
        const char *d = strstr(out, "\"greedy_actions_differ\":");
        long differ = d ? strtol(d + strlen("\"greedy_actions_differ\":"), NULL, 10) : -1;
        CHECK(differ >= 0 && differ <= 400);
    }
    CHECK_EQ_INT(test_prism(out, sizeof out, "eval %s --precision-diff 0", dir), 2);
}
