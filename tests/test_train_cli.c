/* `prism train` and `prism agents` through the CLI: bad input gives exit 2 and a message that
 * says what to do; a tiny run leaves a complete run directory and says where it is last. */
#include "harness.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A run small enough for the fast suite: 2 iterations of 300 steps, a 16-unit network. */
#define TINY                                                                                       \
    "--steps 600 --set train.iteration_steps=300 --set agent.hidden=16 "                           \
    "--set agent.min_replay=50 --set agent.batch_size=16"

TEST(train_cli_bad_input_exits_2_with_guidance) {
    char out[8192];
    const char *dir = test_tmpdir();
    CHECK_EQ_INT(test_prism(out, sizeof out, "train CartPol-v0 --runs-dir %s", dir), 2);
    CHECK(strstr(out, "did you mean CartPole-v0") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train CartPole-v0 --agent rainbo --runs-dir %s", dir),
                 2);
    CHECK(strstr(out, "unknown agent preset 'rainbo'") && strstr(out, "rainbow-noisy"));
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "train CartPole-v0 --set agent.lr=-1 --runs-dir %s", dir), 2);
    CHECK(strstr(out, "agent.lr must be a number") != NULL);
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "train CartPole-v0 --set agent.lrr=1 --runs-dir %s", dir), 2);
    CHECK(strstr(out, "did you mean 'agent.lr'") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train CartPole-v0 --set agent.lr --runs-dir %s", dir),
                 2);
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train CartPole-v0 --config /nonexistent.ini --runs-dir %s", dir),
                 2);
    CHECK(strstr(out, "/nonexistent.ini") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train CartPole-v0 --seed -4 --runs-dir %s", dir), 2);
    /* an environment option the environment does not know */
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "train CartPole-v0 --set env.gravity=3 --runs-dir %s", dir), 2);
    CHECK(strstr(out, "gravity") != NULL);
    /* a combination that cannot work: a conv layer on a vector observation */
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train CartPole-v0 --set agent.conv_channels=8 --runs-dir %s", dir),
                 2);
    CHECK(strstr(out, "conv_channels") != NULL);
    /* nothing half-made was left behind by the rejected runs */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c CartPole", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    CHECK_EQ_INT(n, 0);
}

TEST(train_cli_tiny_run_archives_everything) {
    char out[16384];
    const char *dir = test_tmpdir();
    int rc = test_prism(out, sizeof out,
                        "train CartPole-v0 --agent dqn %s --runs-dir %s --run-id tiny", TINY, dir);
    REQUIRE(rc == 0);
    /* the last line names the run directory */
    char *last = out + strlen(out);
    while (last > out && last[-1] == '\n') *--last = 0;
    while (last > out && last[-1] != '\n') last--;
    char want[1200];
    snprintf(want, sizeof want, "run: %s/tiny", dir);
    CHECK(strcmp(last, want) == 0);
    const char *files[] = {"run.json",    "config.ini",   "stdout.log",
                           "metrics.csv", "episodes.csv", "checkpoints/latest"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/tiny/%s", dir, files[i]);
        CHECK(access(path, R_OK) == 0);
    }
    char path[1400];
    snprintf(path, sizeof path, "%s/tiny/metrics.csv", dir);
    FILE *f = fopen(path, "r");
    REQUIRE(f != NULL);
    char header[4096];
    REQUIRE(fgets(header, sizeof header, f) != NULL);
    CHECK(strncmp(header, "iteration,env_steps,episodes,", 29) == 0);
    CHECK(strstr(header, ",return_mean,") && strstr(header, ",sys_steps_per_s,"));
    int rows = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) rows++;
    fclose(f);
    CHECK_EQ_INT(rows, 2);
    snprintf(path, sizeof path, "%s/tiny/run.json", dir);
    f = fopen(path, "r");
    REQUIRE(f != NULL);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    fclose(f);
    CHECK(strstr(out, "\"status\": \"completed\"") != NULL);
    CHECK(strstr(out, "\"agent\": \"dqn\"") != NULL);
}

TEST(train_cli_print_config_and_agents_commands) {
    char out[65536];
    CHECK_EQ_INT(test_prism(out, sizeof out, "train MountainCar-v0 --agent rainbow --print-config"),
                 0);
    CHECK(strstr(out, "max_episode_steps = 600") != NULL);
    CHECK(strstr(out, "distributional = true") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "agents"), 0);
    CHECK(strstr(out, "rainbow-multistep") && strstr(out, "cleanrl-dqn"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "agents show dqn+noisy --env breakout"), 0);
    CHECK(strstr(out, "noisy = true") && strstr(out, "conv_channels = 16"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "agents keys"), 0);
    CHECK(strstr(out, "agent.per_alpha") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "agents show nosuch"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "agents bogus"), 2);
}

/* Replace the text of `path` from the first occurrence of `from` on with `to`. */
/* A tiny run of `preset` (with the settings `extra`) logs the quantile spread (and no C51
 * entropy) in metrics.csv. */
static void logs_quantile_spread(const char *preset, const char *extra, const char *id) {
    char out[65536];
    const char *dir = test_tmpdir();
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train CartPole-v0 --agent %s --steps 600 --set agent.hidden=16 "
                            "--set agent.min_replay=100 --set agent.batch_size=16 --set "
                            "train.iteration_steps=300 %s --runs-dir %s --run-id %s --quiet",
                            preset, extra, dir, id),
                 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/metrics.csv", dir, id);
    char *csv = test_read_file(path, NULL);
    REQUIRE(csv != NULL);
    /* the column index of each name in the header, then the last row's fields */
    int spread = -1, entropy = -1, col = 0;
    for (const char *p = csv; *p && *p != '\n'; col++) {
        size_t len = strcspn(p, ",\n");
        if (len == 15 && !strncmp(p, "quantile_spread", 15)) spread = col;
        if (len == 12 && !strncmp(p, "dist_entropy", 12)) entropy = col;
        p += len + (p[len] == ',');
    }
    REQUIRE(spread >= 0 && entropy >= 0);
    const char *last = csv + strlen(csv) - 1;
    while (last > csv && last[-1] != '\n') last--;
    char fields[64][32];
    int n = 0;
    for (const char *p = last; *p && *p != '\n' && n < 64; n++) {
        size_t len = strcspn(p, ",\n");
        snprintf(fields[n], sizeof fields[n], "%.*s", (int)(len < 31 ? len : 31), p);
        p += len + (p[len] == ',');
    }
    CHECK(spread < n && strtod(fields[spread], NULL) > 0); /* the quantiles spread out */
    CHECK(entropy < n && fields[entropy][0] == 0);         /* no C51 entropy */
    free(csv);
}

/* The new heads' presets are listed, and tiny qr-dqn and iqn runs log the quantile spread. */
TEST(train_cli_quantile_heads_list_their_presets_and_log_their_spread) {
    char out[65536];
    CHECK_EQ_INT(test_prism(out, sizeof out, "agents"), 0);
    CHECK(strstr(out, "qr-dqn+dueling") && strstr(out, "qrainbow") && strstr(out, "m-dqn") &&
          strstr(out, "m-rainbow"));
    CHECK(strstr(out, "iqn+dueling") && strstr(out, "irainbow") && strstr(out, "m-iqn") &&
          strstr(out, "m-irainbow"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "agents show m-dqn+double"), 2); /* refused */
    logs_quantile_spread("qr-dqn", "", "qr");
    logs_quantile_spread("iqn",
                         "--set agent.num_tau_samples=8 --set agent.num_tau_prime_samples=8 "
                         "--set agent.num_quantile_samples=8",
                         "iqn");
}

static void rewrite_from(const char *path, const char *from, const char *to) {
    char *text = test_read_file(path, NULL);
    REQUIRE(text != NULL);
    char *at = strstr(text, from);
    REQUIRE(at != NULL);
    *at = 0;
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fprintf(f, "%s%s", text, to);
    fclose(f);
    free(text);
}

/* Whether test_tmpdir()/run/file holds `needle`. */
static bool run_file_has(const char *run, const char *file, const char *needle) {
    char path[1400];
    snprintf(path, sizeof path, "%s/%s/%s", test_tmpdir(), run, file);
    char *text = test_read_file(path, NULL);
    bool has = text && strstr(text, needle);
    free(text);
    return has;
}

TEST(train_cli_resume_refuses_a_config_ini_that_is_not_the_runs) {
    char out[16384], path[1400], ini[1400], saved[1400];
    const char *dir = test_tmpdir();
    REQUIRE(test_prism(out, sizeof out, "train CartPole-v0 %s --runs-dir %s --run-id cfg --quiet",
                       TINY, dir) == 0);
    snprintf(path, sizeof path, "%s/cfg/run.json", dir);
    char cmd[6000];
    /* as if stopped early: resuming a completed run does nothing at all, config.ini unread */
    snprintf(cmd, sizeof cmd,
             "sed -i 's/\"status\": \"completed\"/\"status\": \"interrupted\"/' %s", path);
    REQUIRE(system(cmd) == 0);
    char *json = test_read_file(path, NULL);
    REQUIRE(json != NULL);
    CHECK(strstr(json, "\"config_hash\": \"") != NULL && strstr(json, "interrupted") != NULL);
    snprintf(ini, sizeof ini, "%s/cfg/config.ini", dir);
    snprintf(saved, sizeof saved, "%s/cfg/config.ini.orig", dir);
    snprintf(cmd, sizeof cmd, "cp %s %s", ini, saved);
    REQUIRE(system(cmd) == 0);
    /* an edited learning rate, then a file truncated after [train]: both are refused, the file
     * is named with what to do, and run.json is left as it was */
    rewrite_from(ini, "\nlr = ", "\nlr = 0.5\n");
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s/cfg", dir), 2);
    CHECK(strstr(out, "config.ini is not the configuration this run was started with") != NULL);
    CHECK(strstr(out, "restore the original config.ini") != NULL);
    snprintf(cmd, sizeof cmd, "cp %s %s", saved, ini);
    REQUIRE(system(cmd) == 0);
    rewrite_from(ini, "[train]\n", "[train]\n");
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s/cfg", dir), 2);
    CHECK(strstr(out, "is not the configuration this run was started with") != NULL);
    /* eval and watch read the run's configuration the same way (eval once failed on such a
     * file with a message that named a key but not the file) */
    CHECK_EQ_INT(test_prism(out, sizeof out, "eval %s/cfg --episodes 1", dir), 2);
    CHECK(strstr(out, "config.ini is not the configuration this run was started with") != NULL);
    char *after = test_read_file(path, NULL);
    REQUIRE(after != NULL);
    CHECK(strcmp(json, after) == 0);
    free(after);
    free(json);
    /* the checkpoint cadence is not part of the identity: changing it is allowed */
    snprintf(cmd, sizeof cmd, "cp %s %s && sed -i 's/^checkpoint_keep = 2/checkpoint_keep = 3/' %s",
             saved, ini, ini);
    REQUIRE(system(cmd) == 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s/cfg --quiet", dir), 0);
}

TEST(train_cli_alias_records_the_canonical_env_id_everywhere) {
    char out[16384];
    const char *dir = test_tmpdir();
    REQUIRE(test_prism(out, sizeof out, "train cartpole %s --runs-dir %s --run-id alias --quiet",
                       TINY, dir) == 0);
    CHECK(run_file_has("alias", "run.json", "\"env\": \"CartPole-v1\""));
    CHECK(run_file_has("alias", "config.ini", "\nenv = CartPole-v1\n"));
    /* the index holds the id, and a query by id or by alias finds the run */
    const char *queries[] = {"env=CartPole-v1", "env=cartpole", "env=CARTPOLE-V1"};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(
            test_prism(out, sizeof out, "runs ls --runs-dir %s --where %s", dir, queries[i]), 0);
        CHECK(strstr(out, "alias") && strstr(out, "CartPole-v1"));
    }
}

/* `prism ARGS` run from directory `cwd` (the binary by its absolute path), output into out. */
static int prism_in(const char *cwd, char *out, size_t cap, const char *args) {
    char bin[1024], cmd[4096];
    if (!realpath(getenv("PRISM_BIN") ? getenv("PRISM_BIN") : "build/prism", bin)) return -1;
    snprintf(cmd, sizeof cmd, "cd %s && %s %s 2>&1", cwd, bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(train_cli_resume_takes_a_run_id_and_commands_find_a_sweeps_runs) {
    char out[16384], cmd[4096];
    const char *dir = test_tmpdir();
    /* a sweep's layout: sweeps/<name>/sweep.json beside sweeps/<name>/runs/<id> */
    char sweep[1200], runs[1300];
    snprintf(sweep, sizeof sweep, "%s/sweeps/demo-20260101-000000", dir);
    snprintf(runs, sizeof runs, "%s/runs", sweep);
    snprintf(cmd, sizeof cmd, "mkdir -p %s && echo '{}' > %s/sweep.json", runs, sweep);
    REQUIRE(system(cmd) == 0);
    REQUIRE(test_prism(out, sizeof out,
                       "train CartPole-v0 %s --runs-dir %s --run-id r1-xyz --quiet", TINY,
                       runs) == 0);
    snprintf(cmd, sizeof cmd,
             "sed -i 's/\"status\": \"completed\"/\"status\": \"interrupted\"/' %s/r1-xyz/run.json",
             runs);
    REQUIRE(system(cmd) == 0);
    /* --resume by id (a unique prefix), with --runs-dir naming the sweep's directory */
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume r1 --runs-dir %s --quiet", sweep), 0);
    CHECK(run_file_has("sweeps/demo-20260101-000000/runs/r1-xyz", "run.json",
                       "\"status\": \"completed\""));
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume nosuch --runs-dir %s", sweep), 2);
    CHECK(strstr(out, "no run 'nosuch'") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s", sweep), 0);
    CHECK(strstr(out, "r1-xyz") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "eval r1-xyz --episodes 1 --runs-dir %s", sweep), 0);
    /* from the directory holding sweeps/, without --runs-dir: the message says what to pass */
    CHECK_EQ_INT(prism_in(dir, out, sizeof out, "eval r1-xyz --episodes 1"), 2);
    CHECK(strstr(out, "pass --runs-dir sweeps/demo-20260101-000000/runs") != NULL);
    CHECK_EQ_INT(prism_in(dir, out, sizeof out, "runs ls"), 2);
    CHECK(strstr(out, "pass --runs-dir sweeps/demo-20260101-000000/runs\n") != NULL);
    CHECK_EQ_INT(prism_in(dir, out, sizeof out, "report runs -o r.html"), 2);
    CHECK(strstr(out, "sweep's runs are in sweeps/demo-20260101-000000/runs: pass "
                      "sweeps/demo-20260101-000000/runs\n") != NULL);
}

TEST(train_cli_label_names_the_agent_in_runs_ls_and_the_report) {
    char out[16384];
    const char *dir = test_tmpdir();
    REQUIRE(test_prism(out, sizeof out,
                       "train CartPole-v0 %s --runs-dir %s --run-id lab --label dqn-small --quiet",
                       TINY, dir) == 0);
    CHECK(run_file_has("lab", "run.json", "\"agent\": \"dqn-small\""));
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s", dir), 0);
    CHECK(strstr(out, " dqn-small ") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "report %s -o %s/r.html", dir, dir), 0);
    CHECK(run_file_has(".", "r.runs.csv", "dqn-small"));
    CHECK(run_file_has(".", "r.html", "dqn-small"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "train CartPole-v0 --label 'a b' --print-config"), 2);
    CHECK(strstr(out, "--label 'a b' must be 1 to 63 letters") != NULL);
}

TEST(train_cli_heartbeat_min_replay_warning_and_overshoot_are_said) {
    char out[16384];
    const char *dir = test_tmpdir();
    /* one 3000-step iteration: heartbeats at 1024 and 2048 steps when asked for, none by
     * default (30 s) on so short a run */
    REQUIRE(test_prism(out, sizeof out,
                       "train CartPole-v0 --steps 3000 --set train.iteration_steps=3000 "
                       "--set agent.hidden=16 --runs-dir %s --run-id hb --heartbeat 0.000001",
                       dir) == 0);
    CHECK(strstr(out, "    it   1: 1024 of 3000 steps, ") != NULL);
    CHECK(strstr(out, "    it   1: 2048 of 3000 steps, ") != NULL);
    CHECK(run_file_has("hb", "stdout.log", "    it   1: 1024 of 3000 steps, "));
    /* iterations end with their last episode: the run says by how much it passed --steps */
    CHECK(strstr(out, "past train.steps 3000: an iteration ends with its last episode") != NULL);
    REQUIRE(test_prism(out, sizeof out,
                       "train CartPole-v0 --steps 3000 --set train.iteration_steps=3000 "
                       "--set agent.hidden=16 --runs-dir %s --run-id quiet-hb",
                       dir) == 0);
    CHECK(strstr(out, " of 3000 steps, ") == NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train CartPole-v0 --heartbeat -1 --runs-dir %s", dir),
                 2);
    /* a budget below min_replay is warned about before any step is taken */
    CHECK_EQ_INT(test_prism(out, sizeof out, "train CartPole-v0 --steps 400 --print-config"), 0);
    CHECK(strstr(out, "warning: train.steps 400 is not above agent.min_replay 500") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train CartPole-v0 --steps 600 --print-config"), 0);
    CHECK(strstr(out, "warning:") == NULL);
}
