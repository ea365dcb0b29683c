/* Tests for the tabular agents (prism/tabular.h) and `prism train` with them: Q-value
 * iteration on homl-mdp against the book's result and the Bellman optimality equation,
 * Q-learning converging to the same policy, both solving the discrete probes, determinism,
 * bad options, out-of-memory, and the CLI's text and JSON output and exit codes. */
#include "fixture.h"
#include "harness.h"
#include "prism/probes.h"
#include "prism/tabular.h"

#include <stdlib.h>
#include <string.h>

/* max over the available actions of Q(s, .) computed here, independently of the library */
static double best(const prism_qtable *t, int s) {
    double v = -INFINITY;
    for (int a = 0; a < t->num_actions; a++)
        if (t->available[s * t->num_actions + a] && t->q[s * t->num_actions + a] > v)
            v = t->q[s * t->num_actions + a];
    return v;
}

/* Largest |Q(s, a) - sum P (R + gamma V(s'))| over available pairs: 0 at the optimum. */
static double bellman_residual(const prism_qtable *t, const prism_mdp *m, double gamma) {
    double worst = 0;
    int n = m->num_states + m->num_terminal;
    for (int s = 0; s < m->num_states; s++)
        for (int a = 0; a < m->num_actions; a++) {
            if (!prism_mdp_available(m, s, a)) continue;
            double sum = 0;
            for (int s2 = 0; s2 < n; s2++)
                sum += prism_mdp_p(m, s, a, s2) *
                       (prism_mdp_r(m, s, a, s2) + (s2 < m->num_states ? gamma * best(t, s2) : 0));
            double d = fabs(sum - t->q[s * m->num_actions + a]);
            if (d > worst) worst = d;
        }
    return worst;
}

static bool run_iteration(prism_qtable *t, const prism_mdp *m, double gamma) {
    if (prism_qtable_init(t, m) != PRISM_OK) return false;
    prism_q_iteration_options o = prism_q_iteration_defaults();
    o.gamma = gamma;
    return prism_q_iteration(t, m, &o, NULL) == PRISM_OK;
}

TEST(tabular_q_iteration_homl_matches_the_book) {
    const prism_mdp *m = prism_mdp_find("homl-mdp");
    prism_qtable t;
    REQUIRE(run_iteration(&t, m, 0.90));
    /* the book prints Q after 50 sweeps at gamma 0.90:
     * [[18.91, 17.02, 13.62], [0., -inf, -4.87], [-inf, 50.13, -inf]] */
    const double book[9] = {18.91, 17.02,     13.62, 0.0,      -INFINITY,
                            -4.87, -INFINITY, 50.13, -INFINITY};
    for (int i = 0; i < 9; i++) {
        if (isinf(book[i]))
            CHECK(isinf(t.q[i]) && t.q[i] < 0 && !t.available[i]);
        else
            CHECK_NEAR(t.q[i], book[i], 0.01); /* the book truncates to 2 decimals */
    }
    CHECK(bellman_residual(&t, m, 0.90) < 1e-10);
    CHECK_EQ_INT(prism_qtable_greedy(&t, 0), 0);
    CHECK_EQ_INT(prism_qtable_greedy(&t, 1), 0);
    CHECK_EQ_INT(prism_qtable_greedy(&t, 2), 1);
    /* exact: V(s0) = 10 * 0.7 / (1 - 0.9 * 0.7) when V(s1) = 0, i.e. 700 / 37 */
    CHECK_NEAR(t.q[0], 700.0 / 37.0, 1e-10);
    prism_qtable_free(&t);

    /* at gamma 0.95 the future reward of s2 is worth the -50: policy [0, 2, 1] */
    REQUIRE(run_iteration(&t, m, 0.95));
    CHECK(bellman_residual(&t, m, 0.95) < 1e-10);
    CHECK_EQ_INT(prism_qtable_greedy(&t, 0), 0);
    CHECK_EQ_INT(prism_qtable_greedy(&t, 1), 2);
    CHECK_EQ_INT(prism_qtable_greedy(&t, 2), 1);
    prism_qtable_free(&t);
}

TEST(tabular_q_iteration_runs_the_sweeps_it_is_asked) {
    const prism_mdp *m = prism_mdp_find("homl-mdp");
    prism_qtable t;
    REQUIRE(prism_qtable_init(&t, m) == PRISM_OK);
    prism_q_iteration_options o = prism_q_iteration_defaults();
    o.tolerance = 0; /* the book's fixed 50 sweeps */
    o.max_iterations = 50;
    int sweeps = 0;
    CHECK(prism_q_iteration(&t, m, &o, &sweeps) == PRISM_OK);
    CHECK_EQ_INT(sweeps, 50);
    CHECK(bellman_residual(&t, m, 0.9) > 1e-12); /* not yet exact after 50 */
    CHECK(bellman_residual(&t, m, 0.9) < 1e-3);
    /* one sweep from zero: Q = expected immediate reward */
    prism_qtable_clear(&t);
    o.max_iterations = 1;
    CHECK(prism_q_iteration(&t, m, &o, &sweeps) == PRISM_OK);
    CHECK_EQ_INT(sweeps, 1);
    CHECK_NEAR(t.q[0], 7.0, 1e-15);        /* s0 a0: 0.7 * 10 */
    CHECK_NEAR(t.q[1 * 3 + 2], -50, 0);    /* s1 a2 */
    CHECK_NEAR(t.q[2 * 3 + 1], 32, 1e-14); /* s2 a1: 0.8 * 40 */
    prism_qtable_free(&t);
}

TEST(tabular_q_iteration_rejects_bad_options) {
    const prism_mdp *m = prism_mdp_find("homl-mdp");
    prism_qtable t;
    REQUIRE(prism_qtable_init(&t, m) == PRISM_OK);
    prism_q_iteration_options o = prism_q_iteration_defaults();
    o.gamma = 1.5;
    CHECK(prism_q_iteration(&t, m, &o, NULL) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "gamma") != NULL);
    o.gamma = NAN;
    CHECK(prism_q_iteration(&t, m, &o, NULL) == PRISM_ERR_INVALID);
    o = prism_q_iteration_defaults();
    o.max_iterations = 0;
    CHECK(prism_q_iteration(&t, m, &o, NULL) == PRISM_ERR_INVALID);
    o = prism_q_iteration_defaults();
    o.tolerance = -1;
    CHECK(prism_q_iteration(&t, m, &o, NULL) == PRISM_ERR_INVALID);
    /* a table made for another model */
    o = prism_q_iteration_defaults();
    CHECK(prism_q_iteration(&t, prism_mdp_find("probe-5-match"), &o, NULL) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "does not match") != NULL);
    prism_qtable_free(&t);
}

TEST(tabular_survives_out_of_memory) {
    const prism_mdp *m = prism_mdp_find("homl-mdp");
    prism_qtable t;
    prism_alloc_fail_after(0);
    prism_status st = prism_qtable_init(&t, m);
    prism_alloc_fail_after(-1);
    CHECK(st == PRISM_ERR_NOMEM);
    prism_qtable_free(&t); /* safe on a failed init */
    REQUIRE(prism_qtable_init(&t, m) == PRISM_OK);
    prism_q_iteration_options o = prism_q_iteration_defaults();
    prism_alloc_fail_after(0);
    st = prism_q_iteration(&t, m, &o, NULL);
    prism_alloc_fail_after(-1);
    CHECK(st == PRISM_ERR_NOMEM);
    prism_qtable_free(&t);
}

static bool run_learning(prism_qtable *t, const char *id, const prism_q_learning_options *o) {
    const prism_mdp *m = prism_mdp_find(id);
    prism_env env;
    if (!m || prism_env_init(&env, id, NULL) != PRISM_OK) return false;
    bool ok = prism_qtable_init(t, m) == PRISM_OK && prism_q_learning(t, m, &env, o) == PRISM_OK;
    if (!ok) test_fail(__FILE__, __LINE__, "%s: %s", id, prism_error_message());
    prism_env_free(&env);
    return ok;
}

TEST(tabular_q_learning_homl_finds_the_book_policy) {
    /* the book's run: gamma 0.90, alpha0 0.05, decay 0.005, 10,000 random steps. Its greedy
     * policy must equal Q-value iteration's for every seed tried. */
    prism_qtable exact;
    REQUIRE(run_iteration(&exact, prism_mdp_find("homl-mdp"), 0.90));
    for (uint64_t seed = 0; seed < 5; seed++) {
        prism_q_learning_options o = prism_q_learning_defaults();
        o.seed = seed;
        prism_qtable t;
        REQUIRE(run_learning(&t, "homl-mdp", &o));
        for (int s = 0; s < 3; s++)
            CHECK_EQ_INT(prism_qtable_greedy(&t, s), prism_qtable_greedy(&exact, s));
        /* values close to the optimum (the book's own run lands within ~1 too); the learning
         * rate decays to 0.05 / 51, so a residual bias remains */
        CHECK_NEAR(t.q[0], exact.q[0], 2.0);
        CHECK_NEAR(t.q[2 * 3 + 1], exact.q[2 * 3 + 1], 3.0);
        uint64_t total = 0;
        for (int i = 0; i < 9; i++) total += t.visits[i];
        CHECK_EQ_INT(total, 10000);
        CHECK(t.visits[1 * 3 + 1] == 0 && t.visits[2 * 3 + 0] == 0); /* never unavailable */
        prism_qtable_free(&t);
    }
    prism_qtable_free(&exact);
}

TEST(tabular_q_learning_exploration_function_finds_the_policy) {
    prism_qtable exact;
    REQUIRE(run_iteration(&exact, prism_mdp_find("homl-mdp"), 0.90));
    for (uint64_t seed = 0; seed < 3; seed++) {
        prism_q_learning_options o = prism_q_learning_defaults();
        o.exploration = PRISM_EXPLORE_FUNCTION;
        o.kappa = 10;
        o.epsilon = 0.2;
        o.steps = 20000;
        o.seed = seed;
        prism_qtable t;
        REQUIRE(run_learning(&t, "homl-mdp", &o));
        for (int s = 0; s < 3; s++)
            CHECK_EQ_INT(prism_qtable_greedy(&t, s), prism_qtable_greedy(&exact, s));
        CHECK_NEAR(t.q[0], exact.q[0], 2.5);
        prism_qtable_free(&t);
    }
    prism_qtable_free(&exact);
    /* the bonus steers choices: greedy with epsilon 0 on probe-4 still tries action 1 because
     * an untried action carries the full bonus kappa / (1 + 0) */
    prism_q_learning_options o = prism_q_learning_defaults();
    o.exploration = PRISM_EXPLORE_FUNCTION;
    o.epsilon = 0;
    o.kappa = 5;
    o.steps = 50;
    prism_qtable t;
    REQUIRE(run_learning(&t, "probe-4-action", &o));
    CHECK(t.visits[0] >= 1 && t.visits[1] > t.visits[0]);
    CHECK_EQ_INT(prism_qtable_greedy(&t, 0), 1);
    prism_qtable_free(&t);
}

TEST(tabular_agents_solve_the_discrete_probes) {
    const double gamma = 0.9;
    for (int i = 0; i < prism_probe_count(); i++) {
        const prism_probe *p = prism_probe_at(i);
        prism_q_learning_options o = prism_q_learning_defaults();
        o.gamma = gamma;
        o.alpha0 = 0.1;
        o.decay = 0.001;
        o.steps = 20000;
        o.seed = 3;
        prism_qtable t;
        REQUIRE(run_learning(&t, p->env_id, &o));
        /* the coin-flip reward of the distributional probe leaves sampling noise of about
         * sqrt(alpha / 2) = 0.05 at the end; the deterministic probes settle exactly */
        double tol = strcmp(p->env_id, "probe-distributional") == 0 ? 0.15 : 0.01;
        for (int s = 0; s < t.num_states; s++)
            for (int a = 0; a < t.num_actions; a++) {
                double want = prism_probe_q(p, s, a, gamma);
                double got = t.q[s * t.num_actions + a];
                if (!(fabs(got - want) <= tol))
                    test_fail(__FILE__, __LINE__, "%s: Q(%s, %d) = %.4f, want %.4f (%s)", p->env_id,
                              p->model->state_names[s], a, got, want, p->implicates);
            }
        prism_qtable_free(&t);
    }
}

TEST(tabular_q_learning_is_deterministic) {
    prism_q_learning_options o = prism_q_learning_defaults();
    o.seed = 42;
    prism_qtable a, b, c;
    REQUIRE(run_learning(&a, "homl-mdp", &o));
    REQUIRE(run_learning(&b, "homl-mdp", &o));
    o.seed = 43;
    REQUIRE(run_learning(&c, "homl-mdp", &o));
    CHECK(memcmp(a.q, b.q, sizeof(double) * 9) == 0);
    CHECK(memcmp(a.visits, b.visits, sizeof(uint64_t) * 9) == 0);
    CHECK(memcmp(a.q, c.q, sizeof(double) * 9) != 0);
    prism_qtable_free(&a);
    prism_qtable_free(&b);
    prism_qtable_free(&c);
}

TEST(tabular_q_learning_rejects_bad_options) {
    const prism_mdp *m = prism_mdp_find("homl-mdp");
    prism_env env;
    REQUIRE(prism_env_init(&env, "homl-mdp", NULL) == PRISM_OK);
    prism_qtable t;
    REQUIRE(prism_qtable_init(&t, m) == PRISM_OK);
    prism_q_learning_options o;
#define BAD(field, value)                                                                          \
    do {                                                                                           \
        o = prism_q_learning_defaults();                                                           \
        o.field = value;                                                                           \
        CHECK(prism_q_learning(&t, m, &env, &o) == PRISM_ERR_INVALID);                             \
        CHECK(strstr(prism_error_message(), #field) != NULL);                                      \
    } while (0)
    BAD(gamma, -0.1);
    BAD(alpha0, 0);
    BAD(alpha0, 1.5);
    BAD(decay, -1);
    BAD(steps, 0);
    BAD(epsilon, 1.01);
    BAD(kappa, -1);
#undef BAD
    /* an environment that is not the model's */
    prism_env other;
    REQUIRE(prism_env_init(&other, "CartPole-v1", NULL) == PRISM_OK);
    o = prism_q_learning_defaults();
    CHECK(prism_q_learning(&t, m, &other, &o) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "does not match") != NULL);
    prism_env_free(&other);
    /* same shapes, different probe: still refused */
    const prism_mdp *m3 = prism_mdp_find("probe-3-discount");
    prism_qtable t3;
    REQUIRE(prism_qtable_init(&t3, m3) == PRISM_OK);
    REQUIRE(prism_env_init(&other, "probe-1-constant", NULL) == PRISM_OK);
    CHECK(prism_q_learning(&t3, m3, &other, &o) == PRISM_ERR_INVALID);
    prism_env_free(&other);
    prism_qtable_free(&t3);
    prism_qtable_free(&t);
    prism_env_free(&env);
}

TEST(tabular_settings_parse_every_key_and_name_it_on_error) {
    prism_tabular_settings s;
    CHECK(prism_tabular_settings_init(&s, "sarsa") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "q-iteration and q-learning") != NULL);
    /* the defaults are the library's */
    REQUIRE(prism_tabular_settings_init(&s, "q-iteration") == PRISM_OK);
    CHECK(!s.is_learning);
    CHECK(s.iteration.gamma == prism_q_iteration_defaults().gamma);
    CHECK(prism_tabular_set(&s, "agent.gamma", "0.95") == PRISM_OK && s.iteration.gamma == 0.95);
    CHECK(prism_tabular_set(&s, "agent.iterations", "50") == PRISM_OK &&
          s.iteration.max_iterations == 50);
    CHECK(prism_tabular_set(&s, "agent.tolerance", "0") == PRISM_OK && s.iteration.tolerance == 0);
    /* a bad value names the key and leaves the setting as it was */
    CHECK(prism_tabular_set(&s, "agent.iterations", "2.5") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "agent.iterations must be a whole number") != NULL);
    CHECK(prism_tabular_set(&s, "agent.gamma", "nan") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "agent.gamma") && strstr(prism_error_message(), "'nan'"));
    CHECK(prism_tabular_set(&s, "agent.gamma", "0.9x") == PRISM_ERR_INVALID);
    CHECK(s.iteration.gamma == 0.95 && s.iteration.max_iterations == 50);
    /* unknown keys: the closest one, or whose key it is */
    CHECK(prism_tabular_set(&s, "agent.gama", "0.5") == PRISM_ERR_NOT_FOUND);
    CHECK(strstr(prism_error_message(), "did you mean 'agent.gamma'") != NULL);
    CHECK(prism_tabular_set(&s, "agent.kappa", "1") == PRISM_ERR_NOT_FOUND);
    CHECK(strstr(prism_error_message(), "q-learning setting") != NULL);
    CHECK(prism_tabular_set(&s, "zzzzzzzzzz", "1") == PRISM_ERR_NOT_FOUND);
    CHECK(strstr(prism_error_message(), "did you mean") == NULL);
    /* every listed key is settable from its own default, and described with its default */
    for (int learning = 0; learning < 2; learning++) {
        REQUIRE(prism_tabular_settings_init(&s, learning ? "q-learning" : "q-iteration") ==
                PRISM_OK);
        int n = 0;
        for (const char *key; (key = prism_tabular_key_name(&s, n)) != NULL; n++) {
            char help[256], def[64];
            prism_tabular_key_describe(&s, n, help, sizeof help);
            const char *d = strstr(help, "(default ");
            REQUIRE(d);
            snprintf(def, sizeof def, "%.*s", (int)strcspn(d + 9, ")"), d + 9);
            prism_tabular_settings copy = s;
            CHECK(prism_tabular_set(&copy, key, def) == PRISM_OK);
            CHECK(!memcmp(&copy.iteration, &s.iteration, sizeof s.iteration));
            CHECK(copy.learning.gamma == s.learning.gamma &&
                  copy.learning.alpha0 == s.learning.alpha0 &&
                  copy.learning.decay == s.learning.decay &&
                  copy.learning.exploration == s.learning.exploration &&
                  copy.learning.kappa == s.learning.kappa);
        }
        CHECK_EQ_INT(n, learning ? 6 : 3);
    }
    /* q-learning: the exploration function's default epsilon is 0, in either order, unless
     * epsilon is given */
    REQUIRE(prism_tabular_settings_init(&s, "q-learning") == PRISM_OK);
    CHECK(s.learning.epsilon == 1);
    CHECK(prism_tabular_set(&s, "agent.exploration", "function") == PRISM_OK);
    CHECK(s.learning.exploration == PRISM_EXPLORE_FUNCTION && s.learning.epsilon == 0);
    CHECK(prism_tabular_set(&s, "agent.exploration", "greedy") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "epsilon or function") != NULL);
    CHECK(prism_tabular_set(&s, "agent.epsilon", "0.2") == PRISM_OK);
    CHECK(prism_tabular_set(&s, "agent.exploration", "function") == PRISM_OK);
    CHECK(s.learning.epsilon == 0.2);
    REQUIRE(prism_tabular_settings_init(&s, "q-learning") == PRISM_OK);
    CHECK(prism_tabular_set(&s, "agent.epsilon", "0.3") == PRISM_OK);
    CHECK(prism_tabular_set(&s, "agent.exploration", "function") == PRISM_OK);
    CHECK(s.learning.epsilon == 0.3);
    CHECK(prism_tabular_set(&s, "agent.alpha0", "0") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "agent.alpha0") != NULL);
    CHECK(prism_tabular_set(&s, "agent.alpha0", "1") == PRISM_OK && s.learning.alpha0 == 1);
}

/* Run `prism ARGS`, parse its last output line as JSON into the fixture; the caller closes. */
static const json *train_json(fixture *f, const char *args) {
    const char *bin = getenv("PRISM_BIN");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s train %s --json | tail -n 1", bin ? bin : "build/prism", args);
    if (!fixture_open_command(f, cmd)) return NULL;
    const json *rec = fixture_next(f);
    if (!rec) test_fail(__FILE__, __LINE__, "no JSON from: %s", cmd);
    return rec;
}

TEST(cli_train_q_iteration_json) {
    fixture f;
    const json *r = train_json(&f, "homl-mdp --agent q-iteration");
    if (r) {
        const json *q = json_get(r, "q"), *policy = json_get(r, "policy");
        REQUIRE(q && policy && q->kind == JSON_ARRAY && q->n == 3);
        CHECK_NEAR(json_num(json_at(json_at(q, 0), 0)), 700.0 / 37.0, 1e-10);
        CHECK(json_at(json_at(q, 1), 1)->kind == JSON_NULL);
        CHECK(json_at(json_at(q, 2), 0)->kind == JSON_NULL);
        CHECK(json_at(json_at(q, 2), 2)->kind == JSON_NULL);
        CHECK(json_at(json_at(q, 1), 2)->kind == JSON_NUMBER);
        CHECK_EQ_INT(json_num(json_at(policy, 0)), 0);
        CHECK_EQ_INT(json_num(json_at(policy, 1)), 0);
        CHECK_EQ_INT(json_num(json_at(policy, 2)), 1);
        CHECK(json_num(json_get(r, "gamma")) == 0.9);
        CHECK(!strcmp(json_str(json_get(r, "agent")), "q-iteration"));
    }
    fixture_close(&f);
    r = train_json(&f, "homl-mdp --agent q-iteration --set agent.gamma=0.95");
    if (r) {
        const json *policy = json_get(r, "policy");
        CHECK_EQ_INT(json_num(json_at(policy, 0)), 0);
        CHECK_EQ_INT(json_num(json_at(policy, 1)), 2);
        CHECK_EQ_INT(json_num(json_at(policy, 2)), 1);
    }
    fixture_close(&f);
    /* the text form names states and actions */
    char out[4096];
    CHECK_EQ_INT(test_prism(out, sizeof out, "train homl-mdp --agent q-iteration"), 0);
    CHECK(strstr(out, "s2") && strstr(out, "50.1337") && strstr(out, "greedy"));
}

TEST(cli_train_q_learning_json_is_reproducible) {
    fixture f;
    char first[4096] = "";
    for (int run = 0; run < 2; run++) {
        const json *r = train_json(&f, "probe-5-match --agent q-learning --steps 3000 --seed 7 "
                                       "--set agent.alpha0=0.2");
        if (r) {
            const json *q = json_get(r, "q");
            CHECK_NEAR(json_num(json_at(json_at(q, 0), 0)), 1.0, 0.01);
            CHECK_NEAR(json_num(json_at(json_at(q, 0), 1)), -1.0, 0.01);
            CHECK_EQ_INT(json_num(json_get(r, "steps")), 3000);
            CHECK_EQ_INT(json_num(json_get(r, "seed")), 7);
            char now[4096];
            snprintf(now, sizeof now, "%.17g %.17g", json_num(json_at(json_at(q, 1), 1)),
                     json_num(json_at(json_at(q, 1), 0)));
            if (run == 0)
                snprintf(first, sizeof first, "%s", now);
            else
                CHECK(!strcmp(first, now));
        }
        fixture_close(&f);
    }
    const json *r = train_json(&f, "homl-mdp --agent q-learning --set agent.exploration=function "
                                   "--set agent.kappa=10 --set agent.epsilon=0.2 --steps 20000");
    if (r) {
        CHECK(!strcmp(json_str(json_get(r, "exploration")), "function"));
        CHECK(json_num(json_get(r, "kappa")) == 10);
        CHECK_EQ_INT(json_num(json_at(json_get(r, "policy"), 2)), 1);
    }
    fixture_close(&f);
}

TEST(cli_train_bad_input_exits_2) {
    char out[8192];
    CHECK_EQ_INT(test_prism(out, sizeof out, "train homl-mdp --agent q-iteration --set agent.x=1"),
                 2);
    CHECK(strstr(out, "unknown key 'agent.x'") && strstr(out, "agent.gamma") &&
          strstr(out, "agent.iterations"));
    /* a misspelt key gets the closest one; another agent's key says whose it is */
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "train homl-mdp --agent q-learning --set agent.alpah0=0.1"), 2);
    CHECK(strstr(out, "did you mean 'agent.alpha0'") != NULL);
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "train homl-mdp --agent q-learning --set agent.iterations=3"),
        2);
    CHECK(strstr(out, "agent.iterations is a q-iteration setting") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train homl-mdp --agent q-learning --set alpha=1"), 2);
    CHECK(strstr(out, "agent.alpha0") && strstr(out, "agent.kappa"));
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "train homl-mdp --agent q-iteration --set agent.gamma=1.5"), 2);
    CHECK(strstr(out, "agent.gamma must be a number from 0 to 1") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train homl-mdp --agent q-iteration --set gamma"), 2);
    CHECK(strstr(out, "KEY=VALUE") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train homl-mdp --agent q-learning --set agent.exploration=greedy"),
                 2);
    CHECK(strstr(out, "epsilon or function") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train homl-mdp --agent q-learning --steps 0"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train homl-mdp --agent q-iteration --set agent.iterations=2.5"),
                 2);
    CHECK(strstr(out, "whole number") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train homl-mdp --agent q-iteration --set agent.iterations=abc"),
                 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train homl-mdp --agent q-iteration --steps 5"), 2);
    CHECK(strstr(out, "agent.iterations") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train homl-mdp --agent q-learning --set env.max_episode_steps=-3"),
                 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train CartPole-v1 --agent q-iteration"), 2);
    CHECK(strstr(out, "no known model") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train homl-mpd --agent q-iteration"), 2);
    CHECK(strstr(out, "did you mean homl-mdp") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train homl-mdp --agent q-iteration extra"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train homl-mdp --agent nosuch"), 2);
    CHECK(strstr(out, "unknown agent preset 'nosuch'") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --help"), 0);
    CHECK(strstr(out, "q-iteration") != NULL);
    /* env options pass through for q-learning */
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train homl-mdp --agent q-learning --set env.max_episode_steps=20"),
                 0);
}
