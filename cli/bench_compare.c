/* prism bench compare A B [--rounds N] [--json] [--resamples N] [--seed S] [-- TRAIN_ARGS...]:
 * is binary B faster than binary A, and by how much, on a machine whose speed drifts while
 * others use it. Each round runs the same `prism bench train --json TRAIN_ARGS` case once with
 * A and once with B, each in a child process, and reads its CPU_STEP_us (thread CPU time per
 * environment step over all chunks, the figure least moved by load); the order alternates
 * (A B, B A, A B, ...), so a machine that slows down or speeds up over the session charges both
 * binaries alike, and each round's ratio B/A compares two runs taken minutes apart at most.
 *
 * Reported: every round's times and ratio, the median ratio, and the geometric mean ratio with
 * a 95% percentile-bootstrap interval of the mean log ratio, and the Student-t interval beside
 * it (prism_stats_ratio_summary; the bootstrap is too narrow for few rounds): an interval that
 * excludes 1 says the difference is larger than the round-to-round noise of this session.
 * One untimed run of each binary comes first. TRAIN_ARGS default to `--only cleanrl-dqn
 * --updates 1000`; they must pick exactly one case. Only bench train's --json output is read,
 * so A may be an older prism (any with cpu_step_us). Nothing is asserted about speed; tests
 * check the statistics and the input handling. */
#include "cli.h"
#include "prism/stats.h"
#include "prism/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_TRAIN_ARGS = 32, MAX_ROUNDS = 1000, OUT_CAP = 1 << 16 };

typedef struct child_case {
    char name[128]; /* "preset env" */
    double cpu_step_us;
} child_case;

/* Run `exe bench train --json args...` and read its one case. On failure prints why (with the
 * child's output) and returns the exit code; CLI_USAGE when the child rejected its arguments or
 * its output holds no single case, CLI_FAILURE when it failed otherwise. */
static int run_child(const char *label, char *exe, char **args, int nargs, char *out,
                     child_case *c) {
    char *argv[MAX_TRAIN_ARGS + 5];
    int n = 0;
    argv[n++] = exe;
    argv[n++] = "bench";
    argv[n++] = "train";
    argv[n++] = "--json";
    for (int i = 0; i < nargs; i++) argv[n++] = args[i];
    argv[n] = NULL;
    int code;
    prism_status st = prism_sweep_capture(argv, out, OUT_CAP, &code);
    if (st) return cli_fail("bench compare", st, NULL);
    if (code != 0) {
        fprintf(stderr, "prism bench compare: %s (%s bench train) exited with %d:\n%s", label, exe,
                code, out);
        return code == CLI_USAGE ? CLI_USAGE : CLI_FAILURE;
    }
    int cases = 0;
    for (char *line = out; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (*line != '{') continue;
        size_t len = strcspn(line, "\n");
        prism_json_value *v;
        if (prism_json_parse(line, len, "bench train --json", &v)) continue;
        double us = prism_json_get_number(v, "cpu_step_us", -1);
        if (us > 0 && cases++ == 0) {
            snprintf(c->name, sizeof c->name, "%s %s", prism_json_get_string(v, "preset", "?"),
                     prism_json_get_string(v, "env", "?"));
            c->cpu_step_us = us;
        }
        prism_json_value_free(v);
    }
    if (cases != 1) {
        fprintf(stderr,
                "prism bench compare: %s (%s) reported %d bench train cases with cpu_step_us; "
                "compare needs exactly one: pass -- --only TEXT matching one case\n%s",
                label, exe, cases, out);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Whether `exe` can be run: a path must name an executable file; a bare name is looked up in
 * PATH by the child (and reported then if missing). */
static bool runnable(const char *exe) {
    return !strchr(exe, '/') || access(exe, X_OK) == 0;
}

int bench_compare(int argc, char **argv) {
    enum { O_ROUNDS, O_JSON, O_RESAMPLES, O_SEED, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_ROUNDS] = {.name = "rounds",
                      .metavar = "N",
                      .help = "rounds, each one run of A and one of B (default 10)"},
        [O_JSON] = {.name = "json", .help = "one JSON object with every round and the interval"},
        [O_RESAMPLES] = {.name = "resamples",
                         .metavar = "N",
                         .help = "bootstrap resamples of the interval (default 2000)"},
        [O_SEED] = {.name = "seed", .metavar = "S", .help = "bootstrap seed (default 0)"},
    };
    const char *usage = "prism bench compare A B [--rounds N] [--json] [--resamples N] [--seed S] "
                        "[-- BENCH_TRAIN_ARGS...]";
    /* everything after "--" goes to the children's bench train */
    int own = argc;
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            own = i;
            break;
        }
    char *pos[2];
    int npos;
    int rc = cli_parse("bench compare", usage, own, argv, opts, NOPTS, pos, 2, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 2) {
        fprintf(stderr,
                "prism bench compare: give two prism binaries, A (the base) and B\nusage: %s\n",
                usage);
        return CLI_USAGE;
    }
    long long rounds, resamples;
    uint64_t seed;
    if (!cli_int("bench compare", &opts[O_ROUNDS], 2, MAX_ROUNDS, 10, &rounds) ||
        !cli_int("bench compare", &opts[O_RESAMPLES], 100, 1000000, 2000, &resamples) ||
        !cli_u64("bench compare", &opts[O_SEED], 0, &seed))
        return CLI_USAGE;
    for (int k = 0; k < 2; k++)
        if (!runnable(pos[k])) {
            fprintf(stderr, "prism bench compare: %s '%s' is not an executable file\n",
                    k ? "B" : "A", pos[k]);
            return CLI_USAGE;
        }
    /* the default case: the cheapest, long enough (10,000 steps, ~0.15 s) that one burst of
     * another process's work does not decide a round */
    static char only_arg[] = "--only", only_value[] = "cleanrl-dqn", updates_arg[] = "--updates",
                updates_value[] = "1000";
    char *default_args[] = {only_arg, only_value, updates_arg, updates_value};
    char **targs = own < argc ? argv + own + 1 : default_args;
    int ntargs = own < argc ? argc - own - 1 : 4;
    if (ntargs > MAX_TRAIN_ARGS) {
        fprintf(stderr, "prism bench compare: at most %d bench train arguments after -- (got %d)\n",
                MAX_TRAIN_ARGS, ntargs);
        return CLI_USAGE;
    }
    const int json = opts[O_JSON].count > 0, R = (int)rounds;
    double *a_us = malloc(3 * sizeof(double) * (size_t)R);
    char *out = malloc(OUT_CAP);
    if (!a_us || !out) {
        free(a_us), free(out);
        return cli_fail("bench compare", prism_error(PRISM_ERR_NOMEM, "out of memory"), NULL);
    }
    double *b_us = a_us + R, *ratio = b_us + R;
    char name[128] = "";
    if (!json) {
        printf("A: %s\nB: %s\nbench train --json", pos[0], pos[1]);
        for (int i = 0; i < ntargs; i++) printf(" %s", targs[i]);
        printf(", %d rounds, CPU us per environment step\n", R);
        printf("%5s %5s %12s %12s %8s\n", "ROUND", "ORDER", "A_us", "B_us", "B/A");
        fflush(stdout);
    }
    /* one untimed run of each first: page cache, clocks, and bad arguments found at once */
    for (int k = 0; k < 2 && !rc; k++) {
        child_case c;
        rc = run_child(k ? "B" : "A", pos[k], targs, ntargs, out, &c);
    }
    for (int r = 0; r < R && !rc; r++) {
        const bool b_first = r % 2 == 1; /* A B, B A, A B, ...: drift charges both alike */
        for (int k = 0; k < 2 && !rc; k++) {
            const bool is_b = (k == 0) == b_first;
            child_case c;
            rc = run_child(is_b ? "B" : "A", pos[is_b], targs, ntargs, out, &c);
            if (rc) break;
            if (!name[0]) snprintf(name, sizeof name, "%s", c.name);
            if (strcmp(name, c.name)) {
                fprintf(stderr,
                        "prism bench compare: the binaries ran different cases ('%s' and '%s'): "
                        "pass -- --only TEXT naming one both have\n",
                        name, c.name);
                rc = CLI_USAGE;
                break;
            }
            (is_b ? b_us : a_us)[r] = c.cpu_step_us;
        }
        if (rc) break;
        ratio[r] = b_us[r] / a_us[r];
        if (!json) {
            printf("%5d %5s %12.2f %12.2f %8.4f\n", r + 1, b_first ? "BA" : "AB", a_us[r], b_us[r],
                   ratio[r]);
            fflush(stdout);
        }
    }
    prism_ratio_summary sum = {0};
    if (!rc) {
        prism_rng rng;
        prism_rng_seed(&rng, seed, PRISM_STREAM_BOOTSTRAP);
        prism_status st = prism_stats_ratio_summary(ratio, R, (int)resamples, 0.95, &rng, &sum);
        if (st) rc = cli_fail("bench compare", st, NULL);
    }
    if (!rc && json) {
        prism_json j;
        prism_json_init(&j, 0);
        prism_json_object_begin(&j);
        prism_json_kv_string(&j, "case", name);
        prism_json_kv_string(&j, "a", pos[0]);
        prism_json_kv_string(&j, "b", pos[1]);
        prism_json_key(&j, "rounds");
        prism_json_array_begin(&j);
        for (int r = 0; r < R; r++) {
            prism_json_object_begin(&j);
            prism_json_kv_string(&j, "order", r % 2 ? "BA" : "AB");
            prism_json_kv_fixed(&j, "a_cpu_step_us", a_us[r], 3);
            prism_json_kv_fixed(&j, "b_cpu_step_us", b_us[r], 3);
            prism_json_kv_fixed(&j, "ratio", ratio[r], 5);
            prism_json_object_end(&j);
        }
        prism_json_array_end(&j);
        prism_json_kv_fixed(&j, "median_ratio", sum.median, 5);
        prism_json_kv_fixed(&j, "geomean_ratio", sum.boot.point, 5);
        prism_json_kv_fixed(&j, "ci_lo", sum.boot.lo, 5);
        prism_json_kv_fixed(&j, "ci_hi", sum.boot.hi, 5);
        prism_json_kv_fixed(&j, "t_ci_lo", sum.t.lo, 5);
        prism_json_kv_fixed(&j, "t_ci_hi", sum.t.hi, 5);
        prism_json_kv_fixed(&j, "level", 0.95, 2);
        prism_json_kv_int(&j, "resamples", resamples);
        prism_json_object_end(&j);
        rc = cli_json_print("bench compare", &j);
    } else if (!rc) {
        printf("%s: median B/A %.4f; geometric mean %.4f, 95%% CI [%.4f, %.4f] (bootstrap of the "
               "mean log ratio, %lld resamples; Student t [%.4f, %.4f])\n",
               name, sum.median, sum.boot.point, sum.boot.lo, sum.boot.hi, resamples, sum.t.lo,
               sum.t.hi);
    }
    free(a_us), free(out);
    return rc;
}
