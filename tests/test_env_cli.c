/* Tests of `prism env rollout` (the JSON-lines format of docs/rollout.md, every bad-input
 * case, and agreement with the Gymnasium traces) and `prism env play` driven through a pipe. */
#include "fixture.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static char out[1 << 18];

/* Write `text` to a file in this test's temporary directory; returns its path (static). */
static const char *write_file(const char *name, const char *text) {
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f) {
        test_fail(__FILE__, __LINE__, "cannot write %s", path);
        return path;
    }
    fputs(text, f);
    fclose(f);
    return path;
}

/* The n-th line of out (0-based) copied into line (cap bytes); false when there is none. */
static bool nth_line(const char *text, int n, char *line, size_t cap) {
    const char *p = text;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (!p || !*p) return false;
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len >= cap) len = cap - 1;
    memcpy(line, p, len);
    line[len] = 0;
    return true;
}

TEST(cli_rollout_prints_reset_then_steps_as_json_lines) {
    REQUIRE(test_prism(out, sizeof out, "env rollout CartPole-v1 --seed 3 --steps 300") == 0);
    char line[1024];
    REQUIRE(nth_line(out, 0, line, sizeof line));
    CHECK(!strncmp(line, "{\"type\":\"reset\",\"obs\":[", 23));
    /* every step line is complete and numbered; an episode end is followed by a reset line */
    int steps = 0, resets = 1, ends = 0;
    bool expect_reset = false;
    for (int i = 1; nth_line(out, i, line, sizeof line); i++) {
        if (expect_reset) {
            CHECK(!strncmp(line, "{\"type\":\"reset\",\"obs\":[", 23));
            expect_reset = false;
            resets++;
            continue;
        }
        char want[64];
        snprintf(want, sizeof want, "{\"type\":\"step\",\"t\":%d,\"action\":", steps);
        CHECK(!strncmp(line, want, strlen(want)));
        CHECK(strstr(line, "\"obs\":[") && strstr(line, "\"reward\":1,"));
        CHECK(line[strlen(line) - 1] == '}');
        bool term = strstr(line, "\"terminated\":true") != NULL;
        bool trunc = strstr(line, "\"truncated\":true") != NULL;
        CHECK(term || strstr(line, "\"terminated\":false"));
        CHECK(trunc || strstr(line, "\"truncated\":false"));
        if (term || trunc) expect_reset = true, ends++;
        steps++;
    }
    CHECK_EQ_INT(steps, 300);
    CHECK(ends >= 2); /* random CartPole episodes last ~20 steps */
    CHECK_EQ_INT(resets, 1 + ends);
    /* the same seed gives the same output, another seed another */
    static char again[sizeof out];
    CHECK(test_prism(again, sizeof again, "env rollout CartPole-v1 --seed=3 --steps 300") == 0);
    CHECK(!strcmp(out, again));
    CHECK(test_prism(again, sizeof again, "env rollout CartPole-v1 --seed 4 --steps 300") == 0);
    CHECK(strcmp(out, again) != 0);
}

TEST(cli_rollout_follows_an_actions_file_and_resets_at_the_time_limit) {
    static char actions[2048];
    actions[0] = 0;
    for (int i = 0; i < 203; i++) strcat(actions, i == 5 ? "  2 \n\n" : "1\n");
    const char *path = write_file("actions.txt", actions);
    REQUIRE(test_prism(out, sizeof out, "env rollout MountainCar-v0 --actions '%s'", path) == 0);
    char line[1024];
    /* coasting never reaches the goal: the 200th step is truncated, then a reset line */
    REQUIRE(nth_line(out, 200, line, sizeof line));
    CHECK(strstr(line, "\"t\":199,") && strstr(line, "\"truncated\":true"));
    CHECK(strstr(line, "\"terminated\":false") != NULL);
    REQUIRE(nth_line(out, 201, line, sizeof line));
    CHECK(!strncmp(line, "{\"type\":\"reset\"", 15));
    REQUIRE(nth_line(out, 6, line, sizeof line));
    CHECK(strstr(line, "\"t\":5,\"action\":2,") != NULL);
    /* 203 actions: 203 steps, and --steps shortens */
    CHECK(nth_line(out, 204, line, sizeof line) && strstr(line, "\"t\":202,"));
    CHECK(!nth_line(out, 205, line, sizeof line));
    REQUIRE(test_prism(out, sizeof out, "env rollout MountainCar-v0 --actions '%s' --steps 2",
                       path) == 0);
    CHECK(nth_line(out, 2, line, sizeof line) && !nth_line(out, 3, line, sizeof line));
}

TEST(cli_rollout_rejects_bad_input_with_exit_2) {
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout CartPol-v1"), 2);
    CHECK(strstr(out, "unknown environment 'CartPol-v1'") &&
          strstr(out, "did you mean CartPole-v1"));
    CHECK(strstr(out, "{\"type\"") == NULL);

    const char *path = write_file("range.txt", "0\n1\n2\n");
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout CartPole-v1 --actions '%s'", path), 2);
    CHECK(strstr(out, ":3: action 2 is out of range for CartPole-v1 (valid: 0..1)") != NULL);
    CHECK(strstr(out, "{\"type\"") == NULL); /* nothing printed before the file was checked */

    path = write_file("word.txt", "1\n0\nleft\n");
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout CartPole-v1 --actions '%s'", path), 2);
    CHECK(strstr(out, ":3: 'left' is not a whole number") != NULL);
    path = write_file("frac.txt", "1.5\n");
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout Acrobot-v1 --actions '%s'", path), 2);
    CHECK(strstr(out, ":1: '1.5' is not a whole number") != NULL);
    path = write_file("neg.txt", "-1\n");
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout Acrobot-v1 --actions '%s'", path), 2);
    CHECK(strstr(out, "action -1 is out of range") != NULL);

    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout CartPole-v1 --actions %s/missing.txt",
                            test_tmpdir()),
                 2);
    CHECK(strstr(out, "cannot read the actions file") && strstr(out, "missing.txt"));

    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout CartPole-v1 --state 0.1,0,0"), 2);
    CHECK(strstr(out, "--state needs 4 values for CartPole-v1 (x,x_dot,theta,theta_dot), got 3"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout MountainCar-v0 --state=-0.5,0,1"), 2);
    CHECK(strstr(out, "needs 2 values") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout MountainCar-v0 --state -0.5,x"), 2);
    CHECK(strstr(out, "not a comma-separated list of numbers") != NULL);

    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout Acrobot-v1 --state 1e300,0,0,0"), 2);
    CHECK(strstr(out, "theta1") && strstr(out, "within +-1e4"));

    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout CartPole-v1 --rng numpy"), 2);
    CHECK(strstr(out, "unsupported for this environment") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout CartPole-v1 --rng mt"), 2);
    CHECK(strstr(out, "--rng must be prism or numpy") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout CartPole-v1 --steps -3"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "env rollout"), 2);
}

/* Replay the first episode of a reference trace through the CLI: --state from the reset record,
 * --actions from the step records; every line must equal the trace's values printed with %.9g. */
static void check_cli_reproduces_trace(const char *id, const char *file) {
    fixture f;
    REQUIRE(fixture_open(&f, file));
    static char actions[1 << 16], expected[1 << 18];
    char state[512] = "", line[1024];
    size_t na = 0, ne = 0;
    actions[0] = expected[0] = 0;
    bool done = false; /* read to the end: closing the gzip pipe early counts as a failure */
    for (const json *r; (r = fixture_next(&f));) {
        const char *type = json_str(json_get(r, "type"));
        const json *obs = json_get(r, "obs");
        if (!strcmp(type, "reset") && state[0]) done = true; /* the second episode starts */
        if (done || (strcmp(type, "reset") && strcmp(type, "step"))) continue;
        size_t used = 0;
        if (!strcmp(type, "reset")) {
            const json *s = json_get(r, "state");
            for (int i = 0; i < s->n; i++)
                used += (size_t)snprintf(state + used, sizeof state - used, "%s%.17g", i ? "," : "",
                                         json_num(json_at(s, i)));
            used = (size_t)snprintf(line, sizeof line, "{\"type\":\"reset\",\"obs\":[");
        } else {
            int a = (int)json_num(json_get(r, "action"));
            na += (size_t)snprintf(actions + na, sizeof actions - na, "%d\n", a);
            used = (size_t)snprintf(line, sizeof line,
                                    "{\"type\":\"step\",\"t\":%d,\"action\":%d,\"obs\":[",
                                    (int)json_num(json_get(r, "t")), a);
        }
        for (int i = 0; i < obs->n; i++)
            used += (size_t)snprintf(line + used, sizeof line - used, "%s%.9g", i ? "," : "",
                                     (double)(float)json_num(json_at(obs, i)));
        if (!strcmp(type, "reset"))
            snprintf(line + used, sizeof line - used, "]}\n");
        else
            snprintf(line + used, sizeof line - used,
                     "],\"reward\":%.9g,\"terminated\":%s,\"truncated\":%s}\n",
                     (double)(float)json_num(json_get(r, "reward")),
                     json_bool(json_get(r, "terminated")) ? "true" : "false",
                     json_bool(json_get(r, "truncated")) ? "true" : "false");
        ne += (size_t)snprintf(expected + ne, sizeof expected - ne, "%s", line);
    }
    fixture_close(&f);
    const char *path = write_file("trace_actions.txt", actions);
    REQUIRE(test_prism(out, sizeof out, "env rollout %s --state=%s --actions '%s'", id, state,
                       path) == 0);
    /* the CLI prints a reset line after the final step; the expectation stops before it */
    CHECK(strlen(out) > ne);
    CHECK(ne > 1000 && strncmp(out, expected, ne) == 0);
    for (int i = 0; nth_line(expected, i, line, sizeof line); i++) {
        char got[1024];
        if (!nth_line(out, i, got, sizeof got) || strcmp(got, line)) {
            test_fail(__FILE__, __LINE__, "line %d: got %s\nwant %s", i, got, line);
            break;
        }
    }
}

TEST(cli_rollout_reproduces_gymnasium_mountain_car_episode) {
    check_cli_reproduces_trace("MountainCar-v0", "mountaincar-v0_seed0_2000.jsonl.gz");
}

TEST(cli_rollout_reproduces_gymnasium_cartpole_episode) {
    check_cli_reproduces_trace("CartPole-v1", "cartpole-v1_seed0_2000.jsonl.gz");
}

TEST(cli_play_reads_keys_from_a_pipe) {
    const char *keys = write_file("keys.txt", "d d\nx a q d");
    CHECK_EQ_INT(test_prism(out, sizeof out, "env play CartPole-v1 --seed 1 < '%s'", keys), 0);
    CHECK(strstr(out, "step 3  score 3") != NULL);
    CHECK(strstr(out, "step 4") == NULL); /* q stopped before the last d */
    CHECK(strstr(out, "key 'x' does nothing here") != NULL);
    CHECK(strstr(out, "a=push left d=push right; left, right as their actions, q=quit") != NULL);
    CHECK(strstr(out, "\033[") == NULL); /* no colour or screen control on a pipe */

    static char many[1024];
    memset(many, 's', 205);
    many[205] = 0;
    keys = write_file("coast.txt", many);
    CHECK_EQ_INT(test_prism(out, sizeof out, "env play mountaincar < '%s'", keys), 0);
    CHECK(strstr(out, "episode 1 over (time limit) after 200 steps: score -200") != NULL);
    CHECK(strstr(out, "episode 2  step 5  score -5") != NULL);
    CHECK(strstr(out, "1 episode finished, best score -200") != NULL);

    CHECK_EQ_INT(test_prism(out, sizeof out, "env play Acrobat-v1 < /dev/null"), 2);
    CHECK(strstr(out, "did you mean Acrobot-v1") != NULL);
}

/* On a terminal (a pty made by util-linux `script`): raw mode takes keys without Enter, and
 * the terminal is back in canonical mode with echo after q and after Ctrl-C. */
static bool run_in_pty(const char *input_cmd, const char *env_id, char *buf, size_t cap) {
    const char *bin = getenv("PRISM_BIN");
    char cmd[1024];
    /* the shell ignores SIGINT so that it survives Ctrl-C and can run stty afterwards; prism
     * installs its own handler, restores the terminal, and dies by the signal */
    snprintf(cmd, sizeof cmd,
             "(%s) | script -qc \"trap '' INT; %s env play %s; echo status=\\$?; "
             "stty -a\" /dev/null 2>&1",
             input_cmd, bin ? bin : "build/prism", env_id);
    FILE *p = popen(cmd, "r");
    if (!p) return false;
    size_t n = fread(buf, 1, cap - 1, p);
    buf[n] = 0;
    pclose(p);
    return n > 0;
}

TEST(cli_play_on_a_terminal_restores_it) {
    if (system("command -v script >/dev/null 2>&1") != 0) {
        test_fail(__FILE__, __LINE__, "util-linux `script` is missing (apt-get install bsdutils)");
        return;
    }
    REQUIRE(run_in_pty("printf ddq", "CartPole-v1", out, sizeof out));
    CHECK(strstr(out, "step 2  score 2") != NULL);
    CHECK(strstr(out, "\033[33m") != NULL); /* colour on a terminal */
    CHECK(strstr(out, "status=0") != NULL);
    CHECK(strstr(out, " icanon") && strstr(out, " echo ") && !strstr(out, "-icanon"));
    /* Ctrl-C must arrive once prism is running (typed ahead, the pty would deliver SIGINT to
     * the shell before prism exists), hence the pause */
    REQUIRE(run_in_pty("printf d; sleep 1; printf '\\003'", "MountainCar-v0", out, sizeof out));
    CHECK(strstr(out, "step 1  score -1") != NULL);
    CHECK(strstr(out, "status=130") != NULL); /* killed by SIGINT, as Ctrl-C should */
    CHECK(strstr(out, " icanon") && strstr(out, " echo ") && !strstr(out, "-icanon"));
}

/* Whether two terminal sessions drew the same screens (from the first screen clear on: the pty
 * echoes the typed keys before prism takes the terminal). */
static bool same_screens(const char *a, const char *b) {
    const char *sa = strstr(a, "\033[H"), *sb = strstr(b, "\033[H");
    return sa && sb && !strcmp(sa, sb);
}

TEST(cli_play_arrows_and_space_act_as_the_named_keys) {
    if (system("command -v script >/dev/null 2>&1") != 0) {
        test_fail(__FILE__, __LINE__, "util-linux `script` is missing (apt-get install bsdutils)");
        return;
    }
    static char letters[1 << 16], arrows[1 << 16];
    /* right, right, left: the same game as d, d, a */
    REQUIRE(run_in_pty("printf ddaq", "CartPole-v1", letters, sizeof letters));
    REQUIRE(run_in_pty("printf '\\033[C\\033[C\\033[Dq'", "CartPole-v1", arrows, sizeof arrows));
    CHECK(strstr(arrows, "step 3  score 3") != NULL);
    CHECK(strstr(arrows, "left, right as their actions") != NULL);
    CHECK(same_screens(letters, arrows));
    /* Space fires where a game can fire (Seaquest's f) */
    REQUIRE(run_in_pty("printf ffq", "seaquest", letters, sizeof letters));
    REQUIRE(run_in_pty("printf '  q'", "seaquest", arrows, sizeof arrows));
    CHECK(strstr(arrows, "step 2") != NULL);
    CHECK(same_screens(letters, arrows));
    /* up means nothing to CartPole; the message says so */
    REQUIRE(run_in_pty("printf '\\033[Aq'", "CartPole-v1", arrows, sizeof arrows));
    CHECK(strstr(arrows, "does nothing here") != NULL);
    /* through a pipe too (arrows; Space there separates keys) */
    const char *keys = write_file("arrows.txt", "\033[C \033[C");
    CHECK_EQ_INT(test_prism(out, sizeof out, "env play CartPole-v1 --seed 1 < '%s'", keys), 0);
    CHECK(strstr(out, "step 2  score 2") != NULL);
    CHECK(strstr(out, "does nothing") == NULL);
}
