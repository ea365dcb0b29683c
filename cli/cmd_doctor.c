/* prism doctor — the debugging playbook as a command:
 *   prism doctor [--agent PRESET] [--set key=value ...] [--seed N] [--json]   probes + engine
 *   prism doctor RUN [--runs-dir DIR] [--json]                                run health
 *   prism doctor env ID [--episodes N] [--seed N] [--json]                    env baselines
 * Exit 0 healthy, 1 when a check fails, 2 for bad input. The examinations live in src/doctor/;
 * this file parses options and prints. --inject-bug is for the doctor's own tests only. */
#include "cli.h"
#include "prism/doctor.h"
#include "prism/env.h"
#include "prism/json.h"
#include "prism/run_index.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *usage =
    "prism doctor [RUN | env ID] [--agent PRESET] [--set key=value ...] [--seed N] [--steps N] "
    "[--json] [--no-engine] [--no-probes] [--engine-env ID] [--runs-dir DIR] [--inject-bug NAME]";

static const char *const bug_names[] = {"none",
                                        "no-terminal-mask",
                                        "target-sign",
                                        "target-never-syncs",
                                        "nstep-off-by-one",
                                        "quantile-indicator",
                                        "munchausen-no-inv-tau"};

static const char *verdict_name(prism_doctor_verdict v) {
    switch (v) {
    case PRISM_DOCTOR_PASS:
        return "ok";
    case PRISM_DOCTOR_FAIL:
        return "FAIL";
    case PRISM_DOCTOR_SKIP:
        return "skip";
    case PRISM_DOCTOR_WARN:
        return "WARN";
    }
    return "?";
}

static void print_number(double v) {
    if (isnan(v))
        printf(" %9s", "-");
    else if (fabs(v) >= 1e4 || (v != 0 && fabs(v) < 1e-3))
        printf(" %9.3g", v);
    else
        printf(" %9.4f", v);
}

static void print_table(const prism_doctor_report *r, const char *title) {
    printf("%s\n%-22s %-28s %9s %9s  %s\n", title, "CHECK", "QUANTITY", "EXPECTED", "LEARNED",
           "VERDICT");
    for (int i = 0; i < r->n; i++) {
        const prism_doctor_check *c = &r->checks[i];
        printf("%-22s %-28s", c->name, c->what);
        print_number(c->expected);
        print_number(c->learned);
        printf("  %s", verdict_name(c->verdict));
        if (c->verdict != PRISM_DOCTOR_PASS && c->message[0])
            printf("  %s", c->message);
        else if (c->verdict == PRISM_DOCTOR_PASS && c->message[0])
            printf("  (%s)", c->message);
        printf("\n");
    }
}

/* The report as one JSON line; returns rc, or the exit code of a writer failure. */
static int print_json(const prism_doctor_report *r, const char *kind, int rc) {
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_object_begin(&j);
    prism_json_kv_string(&j, "kind", kind);
    prism_json_kv_bool(&j, "healthy", rc == CLI_OK);
    prism_json_kv_int(&j, "passed", r->passed);
    prism_json_kv_int(&j, "failed", r->failed);
    prism_json_kv_int(&j, "warned", r->warned);
    prism_json_kv_int(&j, "skipped", r->skipped);
    prism_json_key(&j, "checks");
    prism_json_array_begin(&j);
    for (int i = 0; i < r->n; i++) {
        const prism_doctor_check *c = &r->checks[i];
        prism_json_object_begin(&j);
        prism_json_kv_string(&j, "name", c->name);
        prism_json_kv_string(&j, "what", c->what);
        prism_json_kv_double(&j, "expected", c->expected);
        prism_json_kv_double(&j, "learned", c->learned);
        prism_json_kv_double(&j, "tolerance", c->tolerance);
        prism_json_kv_string(&j, "verdict", verdict_name(c->verdict));
        prism_json_kv_string(&j, "message", c->message);
        prism_json_object_end(&j);
    }
    prism_json_array_end(&j);
    prism_json_object_end(&j);
    int out_rc = cli_json_print("doctor", &j);
    return out_rc ? out_rc : rc;
}

/* The failures again, one per line, so the summary names every implicated component. */
static int summarize(const prism_doctor_report *r, const char *what) {
    printf("\n%s: %d passed, %d failed, %d warnings, %d skipped\n", what, r->passed, r->failed,
           r->warned, r->skipped);
    for (int i = 0; i < r->n; i++)
        if (r->checks[i].verdict == PRISM_DOCTOR_FAIL || r->checks[i].verdict == PRISM_DOCTOR_WARN)
            printf("  %s %s\n", verdict_name(r->checks[i].verdict), r->checks[i].message);
    if (r->failed == 0 && r->passed == 0) {
        /* every check skipped: nothing was shown healthy (the skips say why) */
        printf("verdict: nothing could be checked (see the skips)\n");
        return CLI_FAILURE;
    }
    printf("%s\n", r->failed ? "verdict: UNHEALTHY" : "verdict: healthy");
    return r->failed ? CLI_FAILURE : CLI_OK;
}

static int doctor_env(int argc, char **argv) {
    enum { O_EPISODES, O_SEED, O_JSON, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_EPISODES] = {.name = "episodes",
                        .metavar = "N",
                        .help = "random-policy episodes (default 20)"},
        [O_SEED] = {.name = "seed", .metavar = "N", .help = "seed (default 0)"},
        [O_JSON] = {.name = "json", .help = "print one JSON object instead of the text"},
    };
    char *pos[1];
    int npos;
    const char *u = "prism doctor env ID [--episodes N] [--seed N] [--json]";
    int rc = cli_parse("doctor env", u, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr,
                "prism doctor env: which environment? usage: %s\n(`prism env ls` lists them)\n", u);
        return CLI_USAGE;
    }
    long long episodes;
    uint64_t seed;
    if (!cli_int("doctor env", &opts[O_EPISODES], 1, 100000, 20, &episodes)) return CLI_USAGE;
    if (!cli_u64("doctor env", &opts[O_SEED], 0, &seed)) return CLI_USAGE;
    prism_status st =
        prism_doctor_env(pos[0], (int)episodes, seed,
                         prism_env_find(pos[0]) ? prism_env_find(pos[0])->heuristic : NULL,
                         opts[O_JSON].count > 0, stdout);
    if (st)
        return cli_fail("doctor env", st,
                        st == PRISM_ERR_NOT_FOUND ? "(`prism env ls` lists them)" : NULL);
    return CLI_OK;
}

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int doctor_run(const char *arg, const char *runs_dir, bool json) {
    char dir[PRISM_PATH_MAX];
    if (is_dir(arg)) {
        snprintf(dir, sizeof dir, "%s", arg);
    } else {
        prism_run_index ix;
        prism_status st = prism_run_index_open_readonly(&ix, runs_dir);
        if (st == PRISM_ERR_CORRUPT) { /* the index, not the user's input: a runtime failure */
            cli_fail("doctor", st, NULL);
            return CLI_FAILURE;
        }
        if (st)
            return cli_fail("doctor", st,
                            "(RUN is a run directory or a run id prefix; --runs-dir "
                            "says where runs live)");
        prism_run_record rec;
        st = prism_run_index_find(&ix, arg, &rec);
        prism_run_index_close(&ix);
        if (st) return cli_fail("doctor", st, "(`prism runs ls` lists the runs)");
        snprintf(dir, sizeof dir, "%s", rec.dir);
    }
    prism_doctor_report r;
    prism_doctor_report_init(&r);
    prism_status st = prism_doctor_run(dir, &r);
    if (st) {
        prism_doctor_report_free(&r);
        return cli_fail("doctor", st, NULL);
    }
    int rc = r.failed || r.passed == 0 ? CLI_FAILURE : CLI_OK;
    if (json) {
        rc = print_json(&r, "run", rc);
    } else {
        char title[PRISM_PATH_MAX + 32];
        snprintf(title, sizeof title, "run %s", dir);
        print_table(&r, title);
        rc = summarize(&r, "run checks");
    }
    prism_doctor_report_free(&r);
    return rc;
}

int cmd_doctor(int argc, char **argv) {
    if (argc >= 1 && !strcmp(argv[0], "env")) return doctor_env(argc - 1, argv + 1);
    enum {
        O_AGENT,
        O_SET,
        O_SEED,
        O_STEPS,
        O_JSON,
        O_NO_ENGINE,
        O_NO_PROBES,
        O_ENGINE_ENV,
        O_RUNS_DIR,
        O_INJECT_BUG,
        NOPTS
    };
    cli_opt opts[NOPTS] = {
        [O_AGENT] = {.name = "agent",
                     .metavar = "PRESET",
                     .help = "agent preset to examine (default dqn)"},
        [O_SET] = {.name = "set",
                   .metavar = "KEY=VALUE",
                   .help = "override one setting (repeatable)"},
        [O_SEED] = {.name = "seed", .metavar = "N", .help = "seed of every check (default 0)"},
        [O_STEPS] = {.name = "steps",
                     .metavar = "N",
                     .help = "environment steps per probe (default 4000)"},
        [O_JSON] = {.name = "json", .help = "print one JSON line instead of the table"},
        [O_NO_ENGINE] = {.name = "no-engine", .help = "probes only: skip the engine checks"},
        [O_NO_PROBES] = {.name = "no-probes", .help = "engine checks only"},
        [O_ENGINE_ENV] = {.name = "engine-env",
                          .metavar = "ID",
                          .help = "environment whose network the engine checks use (default "
                                  "CartPole-v0)"},
        [O_RUNS_DIR] = {.name = "runs-dir",
                        .metavar = "DIR",
                        .help = "where RUN ids are looked up (default runs)"},
        [O_INJECT_BUG] = {.name = "inject-bug",
                          .metavar = "NAME",
                          .help = "TEST ONLY: break the agent on purpose (no-terminal-mask, "
                                  "target-sign, target-never-syncs, nstep-off-by-one) to prove "
                                  "the doctor catches it"},
    };
    char *pos[1];
    int npos;
    int rc = cli_parse("doctor", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    bool json = opts[O_JSON].count > 0;
    if (npos == 1) return doctor_run(pos[0], cli_value(&opts[O_RUNS_DIR], "runs"), json);

    prism_doctor_options o = prism_doctor_options_default();
    o.preset = cli_value(&opts[O_AGENT], "dqn");
    if (opts[O_SET].count > PRISM_DOCTOR_MAX_SETS) {
        fprintf(stderr, "prism doctor: at most %d --set options\n", PRISM_DOCTOR_MAX_SETS);
        return CLI_USAGE;
    }
    for (int i = 0; i < opts[O_SET].count; i++) o.sets[o.n_sets++] = opts[O_SET].values[i];
    long long steps;
    if (!cli_u64("doctor", &opts[O_SEED], 0, &o.seed)) return CLI_USAGE;
    if (!cli_int("doctor", &opts[O_STEPS], 100, 10000000, 0, &steps)) return CLI_USAGE;
    o.probe_steps = steps;
    o.engine_env = cli_value(&opts[O_ENGINE_ENV], "CartPole-v0");
    if (opts[O_INJECT_BUG].count) {
        const char *b = cli_value(&opts[O_INJECT_BUG], "");
        int found = -1;
        for (int i = 0; i < (int)(sizeof bug_names / sizeof bug_names[0]); i++)
            if (!strcmp(b, bug_names[i])) found = i;
        if (found < 0) {
            fprintf(stderr,
                    "prism doctor: unknown --inject-bug '%s'; use one of no-terminal-mask, "
                    "target-sign, target-never-syncs, nstep-off-by-one, quantile-indicator, "
                    "munchausen-no-inv-tau\n",
                    b);
            return CLI_USAGE;
        }
        o.bug = (prism_agent_bug)found;
    }
    /* Resolve once up front so a bad preset or key is a usage error, not a failed check. */
    prism_config probe_cfg;
    prism_status st = prism_doctor_config(&o, "probe-1-constant", true, &probe_cfg);
    if (st)
        return cli_fail("doctor", st,
                        "(`prism agents` lists presets, `prism agents keys` the keys)");

    prism_doctor_report r;
    prism_doctor_report_init(&r);
    double t0 = prism_now();
    if (!opts[O_NO_PROBES].count) st = prism_doctor_probes(&o, &r);
    double t1 = prism_now();
    if (!st && !opts[O_NO_ENGINE].count) st = prism_doctor_engine(&o, &r);
    double t2 = prism_now();
    if (st) {
        prism_doctor_report_free(&r);
        return cli_fail("doctor", st, NULL);
    }
    rc = r.failed || r.passed == 0 ? CLI_FAILURE : CLI_OK;
    if (json) {
        rc = print_json(&r, "agent", rc);
    } else {
        char title[256];
        snprintf(title, sizeof title, "prism doctor: agent %s, gamma %g, seed %llu%s%s", o.preset,
                 r.gamma, (unsigned long long)o.seed, o.bug ? ", INJECTED BUG " : "",
                 o.bug ? bug_names[o.bug] : "");
        print_table(&r, title);
        printf("\nprobes %.1f s, engine checks %.1f s\n", t1 - t0, t2 - t1);
        rc = summarize(&r, "doctor");
    }
    prism_doctor_report_free(&r);
    return rc;
}
