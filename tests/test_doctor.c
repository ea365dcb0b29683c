/* Tests for `prism doctor` (src/doctor/): the healthy dqn and rainbow presets pass every probe,
 * each deliberately injected agent bug is caught and named by the probes, the engine checks
 * pass on the default network, and each run detector fires on a synthetic run directory built
 * to show its problem (and not on a healthy one). */
#include "harness.h"
#include "prism/doctor.h"
#include "prism/json.h"
#include "prism/presets.h"
#include "prism/run_index.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed_probe(const prism_doctor_report *r, const char *name) {
    int n = 0;
    for (int i = 0; i < r->n; i++)
        if (r->checks[i].verdict == PRISM_DOCTOR_FAIL && !strcmp(r->checks[i].name, name)) n++;
    return n;
}

static void probes(const char *preset, prism_agent_bug bug, prism_doctor_report *r) {
    prism_doctor_options o = prism_doctor_options_default();
    o.preset = preset;
    o.bug = bug;
    prism_doctor_report_init(r);
    CHECK(prism_doctor_probes(&o, r) == PRISM_OK);
}

TEST(doctor_healthy_dqn_and_rainbow_pass_every_probe) {
    const char *presets[] = {"dqn", "rainbow"};
    for (int k = 0; k < 2; k++) {
        prism_doctor_report r;
        probes(presets[k], PRISM_BUG_NONE, &r);
        CHECK(r.n >= 21);
        CHECK_EQ_INT(r.failed, 0);
        for (int i = 0; i < r.n; i++)
            if (r.checks[i].verdict == PRISM_DOCTOR_FAIL) printf("  %s\n", r.checks[i].message);
        if (k == 1) CHECK_EQ_INT(r.skipped, 0); /* rainbow addresses the distribution and PER */
        prism_doctor_report_free(&r);
    }
}

TEST(doctor_catches_every_injected_bug_with_dqn) {
    prism_doctor_report r;
    probes("dqn", PRISM_BUG_NO_TERMINAL_MASK, &r);
    CHECK(failed_probe(&r, "probe-1-constant") == 1); /* bootstraps through the end */
    CHECK(failed_probe(&r, "probe-3-discount") == 2);
    prism_doctor_report_free(&r);

    probes("dqn", PRISM_BUG_TARGET_SIGN, &r);
    CHECK(failed_probe(&r, "probe-3-discount") >= 1);
    CHECK(failed_probe(&r, "probe-1-constant") == 0); /* one-step probes never bootstrap */
    bool named = false;
    for (int i = 0; i < r.n; i++)
        named |= strstr(r.checks[i].message, "probe-3-discount: Q(obs=0) = -0.99") != NULL &&
                 strstr(r.checks[i].message, "discounting and terminal masking") != NULL;
    CHECK(named);
    prism_doctor_report_free(&r);

    probes("dqn", PRISM_BUG_TARGET_NEVER_SYNCS, &r);
    CHECK(failed_probe(&r, "probe-nstep") >= 3);
    prism_doctor_report_free(&r);

    /* one discount too many: gamma^2 at probe 3, gamma^8 at probe-nstep's start */
    probes("dqn", PRISM_BUG_NSTEP_OFF_BY_ONE, &r);
    CHECK(failed_probe(&r, "probe-3-discount") == 1);
    CHECK(failed_probe(&r, "probe-nstep") == 4);
    CHECK(failed_probe(&r, "probe-5-match") == 0);
    prism_doctor_report_free(&r);
}

TEST(doctor_catches_nstep_off_by_one_with_rainbow) {
    /* n = 3: the gap is one factor gamma (0.0099), just above the tolerance */
    prism_doctor_report r;
    probes("rainbow", PRISM_BUG_NSTEP_OFF_BY_ONE, &r);
    CHECK(failed_probe(&r, "probe-nstep") >= 2);
    CHECK(failed_probe(&r, "probe-truncation") >= 1);
    prism_doctor_report_free(&r);
}

TEST(doctor_quantile_head_passes_and_a_reversed_indicator_is_caught) {
    prism_doctor_report r;
    probes("qr-dqn", PRISM_BUG_NONE, &r);
    CHECK_EQ_INT(r.failed, 0);
    bool quantiles = false;
    for (int i = 0; i < r.n; i++) {
        if (r.checks[i].verdict == PRISM_DOCTOR_FAIL) printf("  %s\n", r.checks[i].message);
        quantiles |= !strcmp(r.checks[i].what, "quantiles (mean distance)");
    }
    CHECK(quantiles); /* the quantile head's own check ran */
    prism_doctor_report_free(&r);
    /* the mean is right either way (the coin flip is symmetric): only the quantiles show it */
    probes("qr-dqn", PRISM_BUG_QUANTILE_INDICATOR, &r);
    CHECK_EQ_INT(r.failed, 1);
    CHECK(failed_probe(&r, "probe-distributional") == 1);
    prism_doctor_report_free(&r);
}

/* The implicit head on the probes, cut to 8 fractions of each kind (the preset's 32 would make
 * this the slowest test of the suite): its quantiles at (i + 1/2) / K recover the coin flip's,
 * and reversed fractions in the loss's indicator mirror them. */
static void implicit_probes(prism_agent_bug bug, prism_doctor_report *r) {
    prism_doctor_options o = prism_doctor_options_default();
    o.preset = "iqn";
    o.bug = bug;
    o.sets[o.n_sets++] = "agent.num_tau_samples=8";
    o.sets[o.n_sets++] = "agent.num_tau_prime_samples=8";
    o.sets[o.n_sets++] = "agent.num_quantile_samples=8";
    prism_doctor_report_init(r);
    CHECK(prism_doctor_probes(&o, r) == PRISM_OK);
}

TEST(doctor_implicit_head_passes_and_a_reversed_indicator_is_caught) {
    prism_doctor_report r;
    implicit_probes(PRISM_BUG_NONE, &r);
    CHECK_EQ_INT(r.failed, 0);
    bool quantiles = false;
    for (int i = 0; i < r.n; i++) {
        if (r.checks[i].verdict == PRISM_DOCTOR_FAIL) printf("  %s\n", r.checks[i].message);
        quantiles |= !strcmp(r.checks[i].what, "quantiles (mean distance)");
    }
    CHECK(quantiles);
    prism_doctor_report_free(&r);
    implicit_probes(PRISM_BUG_QUANTILE_INDICATOR, &r);
    CHECK(failed_probe(&r, "probe-distributional") == 1);
    prism_doctor_report_free(&r);
}

TEST(doctor_munchausen_passes_and_a_missing_inverse_tau_is_caught) {
    prism_doctor_report r;
    probes("m-dqn", PRISM_BUG_NONE, &r);
    CHECK_EQ_INT(r.failed, 0);
    for (int i = 0; i < r.n; i++)
        if (r.checks[i].verdict == PRISM_DOCTOR_FAIL) printf("  %s\n", r.checks[i].message);
    prism_doctor_report_free(&r);
    /* softmax(Q) for softmax(Q / tau): the worse actions' bonus shrinks, their values rise */
    probes("m-dqn", PRISM_BUG_MUNCHAUSEN_NO_INV_TAU, &r);
    CHECK(failed_probe(&r, "probe-4-action") >= 1);
    CHECK(failed_probe(&r, "probe-5-match") >= 2);
    prism_doctor_report_free(&r);
}

TEST(doctor_engine_checks_pass_and_are_deterministic) {
    prism_doctor_options o = prism_doctor_options_default();
    prism_doctor_report r;
    prism_doctor_report_init(&r);
    REQUIRE(prism_doctor_engine(&o, &r) == PRISM_OK);
    CHECK_EQ_INT(r.n, 4);
    CHECK_EQ_INT(r.failed, 0);
    prism_doctor_report_free(&r);
}

TEST(doctor_cli_exit_codes_and_bad_input) {
    char out[1 << 16];
    int rc = test_prism(out, sizeof out, "doctor --no-engine --inject-bug target-sign");
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(out, "UNHEALTHY") && strstr(out, "probe-3-discount: Q(obs=0)"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor --agent nosuch"), 2);
    CHECK(strstr(out, "nosuch"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor --inject-bug nosuch"), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor --set agent.lr=-1"), 2);
    rc = test_prism(out, sizeof out, "doctor --no-engine --json");
    CHECK(rc == 0 && strstr(out, "\"healthy\":true"));
}

/* ---- run detectors on synthetic run directories ------------------------------------------ */

static const char *const cols = "iteration,env_steps,return_mean,eval_return_mean,loss,q_max,"
                                "target_absmax,grad_norm,grad_norm_max,action_entropy,epsilon,"
                                "replay_size,sys_steps_per_s,sys_rss_mb\n";

typedef struct row {
    double ret, eval, loss, q, gn, ent, eps, replay, sps, rss;
} row;

/* A healthy 12-iteration CartPole-v0 DQN run; `mutate` edits row i to show one problem. */
static const char *make_run(const char *name, void (*mutate)(int i, row *r), bool same_lengths) {
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    char path[1100];
    snprintf(path, sizeof path, "mkdir -p %s", dir);
    if (system(path) != 0) return NULL;
    prism_config c;
    prism_config_defaults(&c);
    if (prism_preset_apply(&c, "dqn", "CartPole-v0")) return NULL;
    c.agent_cfg.replay_capacity = 5000;
    snprintf(path, sizeof path, "%s/config.ini", dir);
    FILE *f = fopen(path, "w");
    prism_config_write_ini(&c, f, false);
    fclose(f);
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    f = fopen(path, "w");
    fputs(cols, f);
    for (int i = 0; i < 12; i++) {
        row r = {20.0 + 10 * i,
                 22.0 + 10 * i,
                 0.05 + 0.01 * (i % 3),
                 5.0 + 3 * i,
                 3.0 + (i % 2),
                 0.68,
                 0.5,
                 i < 4 ? 1000.0 * (i + 1) : 5000,
                 900 + (i % 3),
                 300 + 0.1 * i};
        if (mutate) mutate(i, &r);
        fprintf(f, "%d,%d,%g,%g,%g,%g,%g,%g,%g,%g,%g,%g,%g,%g\n", i + 1, 1000 * (i + 1), r.ret,
                r.eval, r.loss, r.q, r.q, r.gn, r.gn, r.ent, r.eps, r.replay, r.sps, r.rss);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/episodes.csv", dir);
    f = fopen(path, "w");
    fputs("episode,iteration,env_steps,return,length,terminated\n", f);
    for (int e = 0; e < 40; e++) {
        int len = same_lengths ? 37 : 20 + (e * 7) % 50;
        fprintf(f, "%d,%d,%d,%d,%d,1\n", e + 1, e / 4 + 1, e * 50, len, len);
    }
    fclose(f);
    return dir;
}

static void q_high(int i, row *r) {
    r->q = i >= 7 ? 866 : r->q;
} /* above the bound from iteration 8 to the end */
static void q_spike(int i, row *r) {
    r->q = i == 7 ? 866 : r->q;
} /* above the bound at iteration 8 only, back within it for the last four iterations */
static void nan_loss(int i, row *r) {
    r->loss = i == 9 ? (double)INFINITY : r->loss;
}
static void loss_up(int i, row *r) {
    r->loss = 0.01 * pow(2.0, i);
}
static void grad_up(int i, row *r) {
    r->gn = i == 10 ? 5000 : r->gn;
}
static void collapse(int i, row *r) {
    r->ent = i == 2 ? 0.01 : r->ent;
}
static void slow(int i, row *r) {
    r->sps = 1000.0 / (1 + i);
}
static void leak(int i, row *r) {
    r->rss = 300 + 40.0 * i;
}
static void eval_gap(int i, row *r) {
    r->eval = 9;
    (void)i;
}

/* The verdict of detector `name` in a report. */
static int verdict(const prism_doctor_report *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->checks[i].name, name)) return (int)r->checks[i].verdict;
    return -1;
}

TEST(doctor_run_detectors_fire_on_synthetic_runs) {
    static const struct {
        const char *name;
        void (*mutate)(int, row *);
        bool same;
        prism_doctor_verdict v;
        const char *evidence;
    } cases[] = {
        /* the spike first: the q-bound directory the CLI checks below is q_high's */
        {"q-bound", q_spike, false, PRISM_DOCTOR_WARN,
         "peak 866 at iteration 8; it recovered: within the bound from iteration 9 to the end"},
        {"q-bound", q_high, false, PRISM_DOCTOR_FAIL, "iteration 8: q_max = 866"},
        {"non-finite", nan_loss, false, PRISM_DOCTOR_FAIL, "iteration 10: loss = inf"},
        {"loss-rising", loss_up, false, PRISM_DOCTOR_WARN, "rose steadily"},
        {"grad-explosion", grad_up, false, PRISM_DOCTOR_WARN, "iteration 11"},
        {"entropy-collapse", collapse, false, PRISM_DOCTOR_WARN, "iteration 3"},
        {"episode-lengths", NULL, true, PRISM_DOCTOR_WARN, "exactly 37 steps"},
        {"steps-per-s", slow, false, PRISM_DOCTOR_WARN, "steps/s fell"},
        {"memory", leak, false, PRISM_DOCTOR_WARN, "RSS grew"},
        {"eval-gap", eval_gap, false, PRISM_DOCTOR_WARN, "evaluation return"},
    };
    const char *healthy = make_run("healthy", NULL, false);
    REQUIRE(healthy);
    prism_doctor_report r;
    prism_doctor_report_init(&r);
    REQUIRE(prism_doctor_run(healthy, &r) == PRISM_OK);
    CHECK_EQ_INT(r.failed, 0);
    CHECK_EQ_INT(r.warned, 0);
    CHECK_EQ_INT(r.passed, 9);
    prism_doctor_report_free(&r);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *dir = make_run(cases[k].name, cases[k].mutate, cases[k].same);
        REQUIRE(dir);
        prism_doctor_report_init(&r);
        REQUIRE(prism_doctor_run(dir, &r) == PRISM_OK);
        if (verdict(&r, cases[k].name) != (int)cases[k].v)
            test_fail(__FILE__, __LINE__, "detector %s did not fire", cases[k].name);
        /* exactly one detector fires: the others stay quiet on the same data */
        CHECK_EQ_INT(r.failed + r.warned, 1);
        bool evidence = false;
        for (int i = 0; i < r.n; i++)
            evidence |= strstr(r.checks[i].message, cases[k].evidence) != NULL;
        if (!evidence)
            test_fail(__FILE__, __LINE__, "%s: no '%s' in the evidence", cases[k].name,
                      cases[k].evidence);
        prism_doctor_report_free(&r);
    }
    char out[4096];
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor %s/q-bound", test_tmpdir()), 1);
    CHECK(strstr(out, "q_max = 866") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor %s", healthy), 0);
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "doctor /nonexistent-run --runs-dir %s", test_tmpdir()), 2);
}

TEST(doctor_env_reports_scales_and_time_limit) {
    char out[8192];
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor env CartPole-v0 --episodes 5"), 0);
    CHECK(strstr(out, "time limit:     200 steps") != NULL);
    /* CartPole pays +1 every step: the reward line must say so exactly */
    CHECK(strstr(out, "reward:         mean 1, std 0, min 1, max 1") != NULL);
    /* the scripted pole-follower balances every episode to the limit; random falls early */
    CHECK(strstr(out, "scripted:       5 episodes, return 200 +- 0") != NULL);
    CHECK(strstr(out, "random policy:  5 episodes, return 200") == NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor env NoSuchEnv"), 2);
}

/* --json: the same facts as one JSON object, every observation dimension included. */
TEST(doctor_env_json_holds_the_same_facts) {
    char out[16384];
    REQUIRE(test_prism(out, sizeof out, "doctor env CartPole-v0 --episodes 5 --json") == 0);
    prism_json_value *doc = NULL;
    REQUIRE(prism_json_parse(out, strlen(out), "doctor env --json", &doc) == PRISM_OK);
    CHECK(!strcmp(prism_json_get_string(doc, "env", ""), "CartPole-v0"));
    CHECK(prism_json_get_number(doc, "time_limit", -1) == 200);
    const prism_json_value *rnd = prism_json_get(doc, "random"),
                           *scr = prism_json_get(doc, "scripted"),
                           *rew = prism_json_get(doc, "reward"),
                           *obs = prism_json_get(doc, "observation");
    REQUIRE(rnd && scr && rew && obs);
    CHECK(prism_json_get_number(rnd, "episodes", 0) == 5);
    CHECK(prism_json_get_number(rnd, "return_mean", 200) < 200);
    CHECK(prism_json_get_number(scr, "return_mean", 0) == 200);
    CHECK(prism_json_get_number(scr, "truncated", 0) == 5);
    CHECK(prism_json_get_number(rew, "mean", 0) == 1 && prism_json_get_number(rew, "std", 1) == 0);
    CHECK(obs->type == PRISM_JSON_ARRAY && obs->count == 4);
    prism_json_value_free(doc);
    /* a game without a time limit or a scripted policy: nulls, all 400 dimensions */
    REQUIRE(test_prism(out, sizeof out, "doctor env breakout --episodes 1 --json") == 0);
    REQUIRE(prism_json_parse(out, strlen(out), "doctor env --json", &doc) == PRISM_OK);
    const prism_json_value *tl = prism_json_get(doc, "time_limit");
    CHECK(tl && tl->type == PRISM_JSON_NULL);
    const prism_json_value *none = prism_json_get(doc, "scripted");
    CHECK(none && none->type == PRISM_JSON_NULL);
    obs = prism_json_get(doc, "observation");
    CHECK(obs && obs->count == 400);
    prism_json_value_free(doc);
}

TEST(doctor_probes_are_deterministic) {
    /* same options, same seed: every learned value bit for bit */
    prism_doctor_report a, b;
    probes("dqn", PRISM_BUG_NONE, &a);
    probes("dqn", PRISM_BUG_NONE, &b);
    REQUIRE(a.n == b.n && a.n > 0);
    for (int i = 0; i < a.n; i++)
        if (memcmp(&a.checks[i].learned, &b.checks[i].learned, sizeof(double)) != 0)
            test_fail(__FILE__, __LINE__, "%s %s: %.17g vs %.17g", a.checks[i].name,
                      a.checks[i].what, a.checks[i].learned, b.checks[i].learned);
    prism_doctor_report_free(&a);
    prism_doctor_report_free(&b);
}

TEST(doctor_skips_what_a_configuration_cannot_address) {
    /* a C51 support narrower than the probes' returns: every probe skipped, and a doctor that
     * checked nothing does not call the agent healthy */
    char out[1 << 15];
    int rc = test_prism(out, sizeof out,
                        "doctor --no-engine --agent rainbow --set agent.v_max=0.5 --steps 200");
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(out, "cannot hold this probe's returns") != NULL);
    CHECK(strstr(out, "nothing could be checked") != NULL);
    /* a scalar head: the distribution check is skipped with its reason, values still checked */
    prism_doctor_report r;
    probes("dqn", PRISM_BUG_NONE, &r);
    bool skipped = false;
    for (int i = 0; i < r.n; i++)
        skipped |= r.checks[i].verdict == PRISM_DOCTOR_SKIP &&
                   strstr(r.checks[i].message, "scalar head") != NULL;
    CHECK(skipped);
    prism_doctor_report_free(&r);
}

TEST(doctor_finds_a_run_by_id_prefix) {
    const char *dir = make_run("q-bound", q_high, false);
    REQUIRE(dir);
    prism_run_index ix;
    REQUIRE(prism_run_index_open(&ix, test_tmpdir()) == PRISM_OK);
    prism_run_record rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.id, sizeof rec.id, "20261121-dqn-diverged");
    snprintf(rec.dir, sizeof rec.dir, "%s", dir);
    snprintf(rec.env, sizeof rec.env, "CartPole-v0");
    snprintf(rec.status, sizeof rec.status, "completed");
    rec.final_return = NAN;
    CHECK(prism_run_index_upsert(&ix, &rec) == PRISM_OK);
    prism_run_index_close(&ix);
    char out[1 << 14];
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor 20261121-dqn --runs-dir %s", test_tmpdir()),
                 1);
    CHECK(strstr(out, "q_max = 866") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "doctor nosuchrun --runs-dir %s", test_tmpdir()), 2);
    CHECK(strstr(out, "prism runs ls") != NULL);
}

TEST(doctor_reads_a_real_run_directory) {
    /* the trainer's own metrics.csv / episodes.csv / config.ini, so a renamed column shows up */
    char out[1 << 15];
    int rc = test_prism(out, sizeof out,
                        "train probe-5-match --steps 3000 --set agent.hidden=16,16 "
                        "--set train.iteration_steps=500 --runs-dir %s --run-id real --quiet",
                        test_tmpdir());
    REQUIRE(rc == 0);
    rc = test_prism(out, sizeof out, "doctor %s/real --json", test_tmpdir());
    CHECK_EQ_INT(rc, 0);
    /* each detector found its columns: none skipped for a missing one */
    CHECK(strstr(out, "no grad_norm column") == NULL);
    CHECK(strstr(out, "no action_entropy/epsilon columns") == NULL);
    CHECK(strstr(out, "no sys_rss_mb") == NULL);
    CHECK(strstr(out, "\"name\":\"q-bound\",\"what\":\"max |Q|, |target|\"") != NULL);
    CHECK(strstr(out, "\"healthy\":true") != NULL);
}
