/* Tests of `prism eval` and `prism watch` on a tiny trained run: returns reported match the
 * episodes actually played (CartPole pays 1 per step, so return == length), results repeat
 * exactly, a run is found by directory or id prefix, eval and watch agree on the same seed,
 * and bad input exits 2 with a message. */
#include "harness.h"
#include "prism/file.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int trained_run(char *dir) {
    char out[4096];
    int rc = test_prism(out, sizeof out,
                        "train CartPole-v0 --agent dqn --seed 2 --steps 1000 --set agent.hidden=8 "
                        "--set agent.min_replay=100 --set train.iteration_steps=500 --set "
                        "train.eval_episodes=0 --quiet --runs-dir %s --run-id evalrun",
                        test_tmpdir());
    if (rc != 0) {
        test_fail(__FILE__, __LINE__, "training failed (exit %d): %s", rc, out);
        return 0;
    }
    return prism_path_join(dir, PRISM_PATH_MAX, test_tmpdir(), "evalrun") == PRISM_OK;
}

static double num(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    return p ? strtod(p + strlen(pat), NULL) : -12345;
}

TEST(eval_cli_reports_returns_of_the_trained_agent) {
    char dir[PRISM_PATH_MAX], a[4096], b[4096];
    REQUIRE(trained_run(dir));
    CHECK_EQ_INT(test_prism(a, sizeof a, "eval %s --episodes 4 --json", dir), 0);
    CHECK(num(a, "episodes") == 4);
    CHECK(num(a, "iterations") == 2);
    double mean = num(a, "return_mean"), lo = num(a, "return_min"), hi = num(a, "return_max");
    CHECK(lo >= 1 && lo <= mean && mean <= hi && hi <= 200);
    CHECK_NEAR(num(a, "length_mean"), mean, 1e-9); /* CartPole: reward 1 per step */
    CHECK(num(a, "return_std") >= 0 && num(a, "return_std") <= (hi - lo) / 2 + 1e-9);
    CHECK(strstr(a, "ckpt-2.bin") != NULL);
    /* the same command, the same numbers (the checkpoint's evaluation streams) */
    CHECK_EQ_INT(test_prism(b, sizeof b, "eval %s --episodes 4 --json", dir), 0);
    CHECK(!strcmp(a, b));
    /* by id prefix through the index, text output */
    CHECK_EQ_INT(test_prism(b, sizeof b, "eval evalr --runs-dir %s --episodes 4", test_tmpdir()),
                 0);
    CHECK(strstr(b, "episodes 4") && strstr(b, "return mean"));
    /* epsilon 1: a uniformly random policy on CartPole rarely lasts long */
    CHECK_EQ_INT(test_prism(b, sizeof b, "eval %s --episodes 20 --epsilon 1 --json", dir), 0);
    CHECK(num(b, "epsilon") == 1 && num(b, "return_mean") < 60);
}

TEST(watch_cli_prints_frames_and_agrees_with_eval) {
    char dir[PRISM_PATH_MAX], w[1 << 17], e[4096];
    REQUIRE(trained_run(dir));
    CHECK_EQ_INT(test_prism(w, sizeof w, "watch %s --seed 7", dir), 0);
    const char *over = strstr(w, "episode over after ");
    REQUIRE(over != NULL);
    int steps = atoi(over + strlen("episode over after "));
    CHECK(steps >= 1 && steps <= 200);
    int frames = 0;
    for (const char *p = w; (p = strstr(p, "--- frame ")); p++) frames++;
    CHECK_EQ_INT(frames, steps + 1);   /* the start and after every step */
    CHECK(strstr(w, "\033[") == NULL); /* not a terminal: no escapes */
    /* eval with the same seed plays the same episode */
    CHECK_EQ_INT(test_prism(e, sizeof e, "eval %s --seed 7 --episodes 1 --json", dir), 0);
    CHECK_NEAR(num(e, "return_mean"), steps, 0);
    /* --episodes N: N episodes one after the other, the same as eval's N */
    CHECK_EQ_INT(test_prism(w, sizeof w, "watch %s --seed 7 --episodes 3", dir), 0);
    int overs = 0;
    for (const char *p = w; (p = strstr(p, "episode over after ")); p++) overs++;
    CHECK_EQ_INT(overs, 3);
    CHECK(strstr(w, "episode 3 of 3  step 0") != NULL);
    const char *mean = strstr(w, "3 episodes: mean return ");
    REQUIRE(mean != NULL);
    CHECK_EQ_INT(test_prism(e, sizeof e, "eval %s --seed 7 --episodes 3 --json", dir), 0);
    CHECK_NEAR(strtod(mean + strlen("3 episodes: mean return "), NULL), num(e, "return_mean"),
               1e-5 * num(e, "return_mean"));
    CHECK_EQ_INT(test_prism(w, sizeof w, "watch %s --episodes 0", dir), 2);
}

TEST(eval_and_watch_cli_reject_bad_input) {
    char out[4096], dir[PRISM_PATH_MAX];
    CHECK_EQ_INT(test_prism(out, sizeof out, "eval %s/none", test_tmpdir()), 2);
    CHECK(strstr(out, "none") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "watch nosuchrun --runs-dir %s", test_tmpdir()), 2);
    CHECK(strstr(out, "nosuchrun") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "eval"), 2);
    REQUIRE(trained_run(dir));
    CHECK_EQ_INT(test_prism(out, sizeof out, "eval %s --epsilon 2", dir), 2);
    CHECK(strstr(out, "--epsilon") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "eval %s --episodes 0", dir), 2);
    /* a run whose checkpoint is gone */
    char ck[PRISM_PATH_MAX];
    REQUIRE(prism_path_join(ck, sizeof ck, dir, "checkpoints/latest") == PRISM_OK);
    REQUIRE(unlink(ck) == 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "watch %s", dir), 2);
    CHECK(strstr(out, "no checkpoint") != NULL);
}
