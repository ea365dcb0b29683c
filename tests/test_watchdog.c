/* Tests of the watchdog: the trend checks on synthetic sequences (steady decay or growth warns;
 * noise, a single step, too little change or too few iterations do not), the non-finite scan,
 * and divergence end to end: a NaN injected into a parameter during a real (tiny) run must stop
 * it with status diverged, name the quantity and iteration in run.json and on the console, and
 * leave checkpoints/diverged.bin that loads but is never named by `latest`. */
#include "harness.h"
#include "prism/checkpoint.h"
#include "prism/config.h"
#include "prism/file.h"
#include "prism/json.h"
#include "prism/presets.h"
#include "prism/run_state.h"
#include "prism/trainer.h"
#include "prism/watchdog.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TEST(watchdog_nonfinite_finds_the_first_nan_or_inf) {
    float x[6] = {0, 1, -2, 3e38f, 4, 5};
    CHECK(prism_watchdog_nonfinite(x, 6) == -1);
    x[4] = INFINITY;
    CHECK(prism_watchdog_nonfinite(x, 6) == 4);
    x[1] = NAN;
    CHECK(prism_watchdog_nonfinite(x, 6) == 1);
    CHECK(prism_watchdog_nonfinite(x, 1) == -1);
}

TEST(watchdog_sps_decay_warns_only_on_a_steady_fall) {
    double from = 0, to = 0;
    /* steady fall, 1000 -> 580 */
    double fall[10] = {1200, 1210, 1000, 940, 880, 820, 760, 700, 640, 580};
    CHECK(prism_watchdog_sps_decay(fall, 10, &from, &to) == 1);
    CHECK_NEAR(from, 940, 1e-9); /* median of 1000, 940, 880 (the window is the newest 8) */
    CHECK_NEAR(to, 640, 1e-9);
    /* the same with one noisy iteration in the middle still warns */
    double noisy[8] = {1000, 950, 990, 820, 1100, 700, 650, 600};
    CHECK(prism_watchdog_sps_decay(noisy, 8, NULL, NULL) == 1);
    /* too few iterations: no verdict */
    CHECK(prism_watchdog_sps_decay(fall + 3, 7, NULL, NULL) == 0);
    /* a single step down (learning starts) then flat: no warning */
    double step[8] = {5000, 5000, 5000, 5000, 1000, 1000, 1000, 1000};
    CHECK(prism_watchdog_sps_decay(step, 8, NULL, NULL) == 0);
    /* noise around a constant, and a rise: no warning */
    double flat[8] = {1000, 980, 1020, 990, 1010, 970, 1030, 1000};
    CHECK(prism_watchdog_sps_decay(flat, 8, NULL, NULL) == 0);
    double rise[8] = {500, 600, 700, 800, 900, 1000, 1100, 1200};
    CHECK(prism_watchdog_sps_decay(rise, 8, NULL, NULL) == 0);
    /* steady but small (10%): no warning */
    double gentle[8] = {1000, 985, 970, 955, 940, 925, 910, 900};
    CHECK(prism_watchdog_sps_decay(gentle, 8, NULL, NULL) == 0);
    /* NaN iterations (zero wall time) are skipped, not counted */
    double gaps[10] = {1000, NAN, 900, 800, NAN, 700, 600, 500, 400, 300};
    CHECK(prism_watchdog_sps_decay(gaps, 10, NULL, NULL) == 1);
    CHECK(prism_watchdog_sps_decay(gaps, 9, NULL, NULL) == 0); /* only 7 finite */
}

TEST(watchdog_rss_growth_warns_only_on_steady_growth) {
    double from = 0, to = 0;
    double leak[8] = {100, 101, 102, 103, 104, 105, 106, 107.5};
    CHECK(prism_watchdog_rss_growth(leak, 8, &from, &to) == 1);
    CHECK_NEAR(from, 100, 0);
    CHECK_NEAR(to, 107.5, 0);
    double flat[8] = {100, 100, 100, 100, 100, 100, 100, 100};
    CHECK(prism_watchdog_rss_growth(flat, 8, NULL, NULL) == 0);
    double tiny[8] = {100, 100.2, 100.4, 100.6, 100.8, 101, 101.2, 101.4}; /* < 4 MB */
    CHECK(prism_watchdog_rss_growth(tiny, 8, NULL, NULL) == 0);
    double big_base[8] = {1000, 1001, 1002, 1003, 1004, 1005, 1006, 1010}; /* < 5% */
    CHECK(prism_watchdog_rss_growth(big_base, 8, NULL, NULL) == 0);
    double jump[8] = {100, 100, 100, 100, 120, 120, 120, 120}; /* one allocation, then flat */
    CHECK(prism_watchdog_rss_growth(jump, 8, NULL, NULL) == 0);
    CHECK(prism_watchdog_rss_growth(leak, 7, NULL, NULL) == 0);
}

#define REQUIRE_OR(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_fail(__FILE__, __LINE__, "%s", #cond);                                            \
            return PRISM_ERR_INVALID;                                                              \
        }                                                                                          \
    } while (0)

/* A tiny CartPole DQN run through the library with a NaN injected at env step `nan_step`. */
static prism_status run_with_nan(const char *id, long long nan_step, int learn, char *dir) {
    prism_config cfg;
    prism_config_defaults(&cfg);
    REQUIRE_OR(prism_preset_apply(&cfg, "dqn", "CartPole-v0") == PRISM_OK);
    static const char *const kv[][2] = {
        {"agent.hidden", "8"},
        {"agent.batch_size", "8"},
        {"agent.min_replay", "50"},
        {"train.steps", "1000"},
        {"train.iteration_steps", "200"},
        {"train.checkpoint_every", "1"},
        {"train.eval_episodes", "0"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        REQUIRE_OR(prism_config_set(&cfg, kv[i][0], kv[i][1]) == PRISM_OK);
    if (!learn) REQUIRE_OR(prism_config_set(&cfg, "agent.min_replay", "100000") == PRISM_OK);
    REQUIRE_OR(prism_config_set(&cfg, "agent.replay_capacity", "100000") == PRISM_OK);
    prism_train_options o = prism_train_options_default();
    o.runs_dir = test_tmpdir();
    o.run_id = id;
    o.quiet = true;
    o.no_index = true;
    o.test_nan_step = nan_step;
    /* the archive tees the console: keep the test output clean (stdout.log has it all) */
    fflush(NULL);
    int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    prism_status st = prism_train(&cfg, &o, dir, PRISM_PATH_MAX);
    fflush(NULL);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    close(null);
    return st;
}

static char *slurp(const char *dir, const char *name) {
    char path[PRISM_PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    if (prism_path_join(path, sizeof path, dir, name) || prism_file_read(path, &text, &len))
        return NULL;
    return text;
}

/* Run with a NaN at step 450 (iteration 3 of 200-step iterations) and check the outcome. */
static void check_divergence(int learn, const char *quantity) {
    char dir[PRISM_PATH_MAX];
    prism_status st = run_with_nan(learn ? "nan-learn" : "nan-params", 450, learn, dir);
    CHECK(st == PRISM_ERR_DIVERGED);
    if (!strstr(prism_error_message(), quantity)) fprintf(stderr, "[%s] ", prism_error_message());
    CHECK(strstr(prism_error_message(), quantity) != NULL);
    CHECK(strstr(prism_error_message(), "iteration 3") != NULL);
    char path[PRISM_PATH_MAX];
    prism_json_value *doc = NULL;
    REQUIRE(prism_path_join(path, sizeof path, dir, "run.json") == PRISM_OK);
    REQUIRE(prism_json_parse_file(path, &doc) == PRISM_OK);
    CHECK(!strcmp(prism_json_get_string(doc, "status", ""), "diverged"));
    CHECK(strstr(prism_json_get_string(doc, "message", ""), quantity) != NULL);
    const prism_json_value *extra = prism_json_get(doc, "extra");
    CHECK(!strcmp(prism_json_get_string(extra, "diverged_quantity", ""), quantity));
    CHECK(prism_json_get_number(extra, "diverged_iteration", 0) == 3);
    prism_json_value_free(doc);
    char *log = slurp(dir, "stdout.log");
    CHECK(log && strstr(log, "non-finite in iteration 3") && strstr(log, "diverged.bin"));
    prism_free(log);
    /* the diagnostic checkpoint loads (NaN and all) but `latest` names iteration 2's */
    char *latest = slurp(dir, "checkpoints/latest");
    CHECK(latest && !strcmp(latest, "ckpt-2.bin\n"));
    prism_free(latest);
    char ck[PRISM_PATH_MAX];
    REQUIRE(prism_path_join(ck, sizeof ck, dir, "checkpoints/diverged.bin") == PRISM_OK);
    prism_run_state tr;
    REQUIRE(prism_run_state_load(&tr, dir, ck) == PRISM_OK);
    CHECK(isnan(tr.agent.online.params[tr.agent.online.n_params - 1]));
    CHECK(tr.counters.env_steps >= 450 && tr.counters.env_steps < 800);
    prism_run_state_free(&tr);
    REQUIRE(prism_run_state_load(&tr, dir, NULL) == PRISM_OK);
    CHECK(prism_watchdog_nonfinite(tr.agent.online.params, tr.agent.online.n_params) == -1);
    prism_run_state_free(&tr);
}

TEST(watchdog_nan_in_learning_stops_the_run_as_diverged) {
    /* with learning on, the next update's loss is NaN: the agent reports it */
    check_divergence(1, "TD loss");
}

TEST(watchdog_nan_in_parameters_is_caught_at_the_iteration_end) {
    /* no learning (min_replay never reached): only the per-iteration parameter scan sees it */
    check_divergence(0, "parameters");
}
