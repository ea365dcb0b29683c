/* Tests of the measurement tools' command lines: prism bench peak (fields, the forced ymm
 * kernel, input errors) and prism bench compare (the alternating order of its rounds, its JSON,
 * every kind of bad input). Timings are printed by these commands, never asserted here: the
 * statistics are tested in test_stats.c, the FLOP counts in test_nn.c and test_agent.c. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TEST(bench_peak_reports_both_kernels_and_rejects_bad_input) {
    static char out[8192];
    int rc = test_prism(out, sizeof out, "bench peak --json --reps 2 --count 1");
    CHECK_EQ_INT(rc, 0);
    /* two lines, FP32 then BF16; each either measured or saying why not */
    const char *fp32 = strstr(out, "{\"kind\":\"fp32_fma\""),
               *bf16 = strstr(out, "{\"kind\":\"bf16_dot\"");
    REQUIRE(fp32 && bf16 && fp32 < bf16);
    if (strstr(fp32, "\"supported\":true")) {
        const char *f[] = {"\"chains\":12", "\"reps\":2",
                           "\"best_gflops\":", "\"median_gflops\":", "\"gflops\":["};
        CHECK_CONTAINS_ALL(fp32, f);
        CHECK(strstr(fp32, "\"flop_per_instruction\":32") ||
              strstr(fp32, "\"flop_per_instruction\":16"));
    }
    if (strstr(bf16, "\"supported\":true"))
        CHECK(strstr(bf16, "\"flop_per_instruction\":64,") != NULL);
    else
        CHECK(strstr(bf16, "\"reason\":\"") != NULL);
    /* the ymm kernel where the CPU has AVX2 and FMA; a clear refusal where not */
    rc = test_prism(out, sizeof out, "bench peak --isa avx2 --reps 1 --count 1");
    if (rc == 0)
        CHECK(strstr(out, "avx2+fma") != NULL && strstr(out, "vfmadd ymm") != NULL);
    else {
        CHECK_EQ_INT(rc, 2);
        CHECK(strstr(out, "cannot run it") != NULL);
    }
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench peak --isa sse"), 2);
    CHECK(strstr(out, "--isa must be auto, avx512 or avx2") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench peak --reps 0"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench peak --count 0"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench peak extra"), 2);
}

/* The binary under test against itself, two rounds of a tiny case: orders AB then BA, every
 * round's times and ratio, and the summary. */
TEST(bench_compare_alternates_rounds_and_reports_the_interval) {
    static char out[1 << 15];
    const char *bin = getenv("PRISM_BIN") ? getenv("PRISM_BIN") : "build/prism";
    int rc = test_prism(out, sizeof out,
                        "bench compare %s %s --json --rounds 3 --resamples 200 -- --only cleanrl "
                        "--updates 2 --peak 100",
                        bin, bin);
    CHECK_EQ_INT(rc, 0);
    const char *f[] = {"\"case\":\"cleanrl-dqn CartPole-v1\"",
                       "\"rounds\":[{\"order\":\"AB\"",
                       "},{\"order\":\"BA\"",
                       "},{\"order\":\"AB\"",
                       "\"a_cpu_step_us\":",
                       "\"b_cpu_step_us\":",
                       "\"ratio\":",
                       "\"median_ratio\":",
                       "\"geomean_ratio\":",
                       "\"ci_lo\":",
                       "\"ci_hi\":",
                       "\"t_ci_lo\":",
                       "\"t_ci_hi\":",
                       "\"level\":0.95",
                       "\"resamples\":200"};
    CHECK_CONTAINS_ALL(out, f);
    /* the table form names both binaries, the case arguments and the interval */
    rc = test_prism(out, sizeof out,
                    "bench compare %s %s --rounds 2 -- --only cleanrl --updates 2 --peak 100", bin,
                    bin);
    CHECK_EQ_INT(rc, 0);
    const char *t[] = {"A: ",         "B: ",         "--only cleanrl --updates 2",
                       "ROUND ORDER", "    1    AB", "    2    BA",
                       "median B/A",  "95% CI [",    "Student t ["};
    CHECK_CONTAINS_ALL(out, t);
}

TEST(bench_compare_rejects_bad_input) {
    static char out[1 << 15];
    const char *bin = getenv("PRISM_BIN") ? getenv("PRISM_BIN") : "build/prism";
    /* one binary, or none */
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench compare %s", bin), 2);
    CHECK(strstr(out, "give two prism binaries") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench compare"), 2);
    /* a path that is not an executable file */
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench compare %s /nonexistent/prism", bin), 2);
    CHECK(strstr(out, "B '/nonexistent/prism' is not an executable file") != NULL);
    /* too few rounds for an interval, bad resamples and seed */
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench compare %s %s --rounds 1", bin, bin), 2);
    CHECK(strstr(out, "--rounds must be a whole number from 2") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench compare %s %s --resamples 5", bin, bin), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench compare %s %s --seed -1", bin, bin), 2);
    /* bench train arguments the children reject: their message comes through, exit 2 */
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench compare %s %s -- --only nosuch", bin, bin), 2);
    CHECK(strstr(out, "exited with 2") != NULL && strstr(out, "no case matches 'nosuch'") != NULL);
    /* arguments that pick more than one case */
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "bench compare %s %s -- --only dqn --updates 1 --peak 100", bin, bin),
                 2);
    CHECK(strstr(out, "reported 5 bench train cases") != NULL); /* dqn, cleanrl-, qr-, m- */
    /* a program that is not prism (no bench train JSON): it fails or prints no case */
    int rc = test_prism(out, sizeof out, "bench compare %s /bin/true -- --only cleanrl --updates 2",
                        bin);
    CHECK_EQ_INT(rc, 2);
    CHECK(strstr(out, "reported 0 bench train cases") != NULL);
}
