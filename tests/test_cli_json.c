/* Tests of the JSON the subcommands print: every line parses with prism's own reader and has
 * the documented keys in order, and strings a user controls (a run directory, a run id) come
 * back verbatim, quotes and backslashes included. */
#include "harness.h"
#include "prism/json.h"

#include <stdio.h>
#include <string.h>

static char out[1 << 16];

/* Parse every line of `text` as one JSON object whose keys are `keys` (NULL-terminated, in
 * order); returns how many lines did. */
static int check_lines(const char *what, const char *text, const char *const *keys) {
    int good = 0;
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        prism_json_value *v = NULL;
        if (prism_json_parse(line, len, what, &v) != PRISM_OK || v->type != PRISM_JSON_OBJECT) {
            test_fail(__FILE__, __LINE__, "%s: not a JSON object: %.*s (%s)", what, (int)len, line,
                      prism_error_message());
        } else {
            const prism_json_value *c = v->child;
            int k = 0;
            for (; keys[k] && c; k++, c = c->next)
                if (strcmp(c->key, keys[k])) break;
            if (keys[k] || c)
                test_fail(__FILE__, __LINE__, "%s: key %d is '%s', expected '%s'", what, k,
                          c ? c->key : "(none)", keys[k] ? keys[k] : "(none)");
            else
                good++;
        }
        prism_json_value_free(v);
        line += len + (line[len] == '\n');
    }
    return good;
}

TEST(cli_json_lines_parse_with_their_keys) {
    static const char *const eval_keys[] = {"env",         "policy",     "episodes", "seed",
                                            "mean",        "std",        "min",      "max",
                                            "length_mean", "terminated", NULL};
    REQUIRE(test_prism(out, sizeof out, "env eval CartPole-v1 --episodes 3 --json") == 0);
    CHECK_EQ_INT(check_lines("env eval", out, eval_keys), 1);

    static const char *const reset_keys[] = {"type", "obs", NULL};
    static const char *const step_keys[] = {"type",   "t",          "action",    "obs",
                                            "reward", "terminated", "truncated", NULL};
    REQUIRE(test_prism(out, sizeof out, "env rollout CartPole-v1 --steps 1") == 0);
    char *second = strchr(out, '\n');
    REQUIRE(second && second[1]);
    *second++ = 0;
    CHECK_EQ_INT(check_lines("rollout reset", out, reset_keys), 1);
    CHECK_EQ_INT(check_lines("rollout step", second, step_keys), 1);

    static const char *const iteration_keys[] = {"env",        "agent",     "gamma",  "states",
                                                 "actions",    "q",         "visits", "policy",
                                                 "iterations", "tolerance", NULL};
    REQUIRE(test_prism(out, sizeof out, "train homl-mdp --agent q-iteration --json | tail -n 1") ==
            0);
    CHECK_EQ_INT(check_lines("q-iteration", out, iteration_keys), 1);
    static const char *const learning_keys[] = {
        "env",   "agent", "gamma",       "states", "actions", "q",       "visits", "policy",
        "steps", "seed",  "exploration", "alpha0", "decay",   "epsilon", "kappa",  NULL};
    REQUIRE(test_prism(out, sizeof out,
                       "train homl-mdp --agent q-learning --steps 50 --seed 18446744073709551615 "
                       "--json | tail -n 1") == 0);
    CHECK_EQ_INT(check_lines("q-learning", out, learning_keys), 1);
    /* a 64-bit seed is printed exactly, not through a signed or double conversion */
    CHECK(strstr(out, "\"seed\":18446744073709551615,") != NULL);
}

TEST(cli_json_keeps_a_hostile_run_path_verbatim) {
    /* a runs dir holding a quote, a backslash and a tab, and a run id holding a quote and a
     * backslash (run ids refuse control characters) */
    char runs[512], id[] = "id\"q\\bc", dir[700];
    snprintf(runs, sizeof runs, "%s/r\"\\\tx", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/%s", runs, id);
    REQUIRE(test_prism(out, sizeof out,
                       "train CartPole-v0 --steps 300 --set agent.hidden=8 "
                       "--set train.iteration_steps=100 --set train.eval_episodes=0 --quiet "
                       "--runs-dir '%s' --run-id '%s'",
                       runs, id) == 0);
    prism_json_value *v = NULL;
    REQUIRE(test_prism(out, sizeof out, "eval '%s' --episodes 1 --json", dir) == 0);
    REQUIRE(prism_json_parse(out, strlen(out), "eval --json", &v) == PRISM_OK);
    const char *ckpt = prism_json_get_string(v, "checkpoint", "");
    CHECK(!strncmp(ckpt, dir, strlen(dir)));
    prism_json_value_free(v);
    REQUIRE(test_prism(out, sizeof out, "doctor '%s' --json", dir) <= 1);
    REQUIRE(prism_json_parse(out, strlen(out), "doctor --json", &v) == PRISM_OK);
    CHECK(!strcmp(prism_json_get_string(v, "kind", ""), "run"));
    prism_json_value_free(v);
}

TEST(cli_json_runs_ls_json_and_csv_and_runs_show_json) {
    /* two runs, one whose id holds a comma and a quote (the CSV must quote it) */
    const char *runs = test_tmpdir();
    const char *ids[] = {"plain", "with,comma\"q"};
    for (int i = 0; i < 2; i++)
        REQUIRE(test_prism(out, sizeof out,
                           "train CartPole-v0 --steps 300 --set agent.hidden=8 --seed %d "
                           "--set train.iteration_steps=100 --set train.eval_episodes=0 --quiet "
                           "--runs-dir '%s' --run-id '%s'",
                           i, runs, ids[i]) == 0);
    prism_json_value *v = NULL;
    REQUIRE(test_prism(out, sizeof out, "runs ls --json --runs-dir '%s'", runs) == 0);
    REQUIRE(prism_json_parse(out, strlen(out), "runs ls --json", &v) == PRISM_OK);
    REQUIRE(v->type == PRISM_JSON_ARRAY);
    CHECK_EQ_INT(v->count, 2);
    int seen = 0;
    for (const prism_json_value *r = v->child; r; r = r->next) {
        const char *id = prism_json_get_string(r, "id", "");
        seen += !strcmp(id, ids[0]) || !strcmp(id, ids[1]);
        CHECK(!strcmp(prism_json_get_string(r, "status", ""), "completed"));
        CHECK(!strcmp(prism_json_get_string(r, "env", ""), "CartPole-v0"));
        const prism_json_value *steps = prism_json_get(r, "steps");
        CHECK(steps && steps->integer && steps->magnitude >= 300);
    }
    CHECK_EQ_INT(seen, 2);
    prism_json_value_free(v);
    REQUIRE(test_prism(out, sizeof out, "runs ls --csv --where seed=1 --runs-dir '%s'", runs) == 0);
    CHECK(!strncmp(out, "id,status,env,agent,seed,steps,final_return,start,end,commit,dirty,host\n",
                   72));
    CHECK(strstr(out, "\n\"with,comma\"\"q\",completed,CartPole-v0,dqn,1,") != NULL);
    CHECK(strstr(out, "plain") == NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --csv --json --runs-dir '%s'", runs), 2);
    REQUIRE(test_prism(out, sizeof out, "runs show pl --json --runs-dir '%s'", runs) == 0);
    REQUIRE(prism_json_parse(out, strlen(out), "runs show --json", &v) == PRISM_OK);
    const prism_json_value *run = prism_json_get(v, "run");
    const prism_json_value *last = prism_json_get(v, "last_metrics");
    REQUIRE(run && last && last->type == PRISM_JSON_OBJECT);
    CHECK(!strcmp(prism_json_get_string(run, "id", ""), "plain"));
    const prism_json_value *steps = prism_json_get(last, "env_steps");
    CHECK(steps && steps->number >= 300);
    CHECK(prism_json_get(last, "return_mean") != NULL);
    prism_json_value_free(v);
}
