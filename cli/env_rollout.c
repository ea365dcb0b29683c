/* prism env rollout ID [--seed S] [--steps K] [--actions FILE] [--state v1,...] [--rng KIND]:
 * run an environment and print every reset and step as JSON lines (docs/rollout.md is the
 * contract: outside tools check parity with it, so the format is stable).
 * Not here: rendering (`prism env play`) and throughput (`prism bench env`). */
#include "cli.h"
#include "prism/env.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const command = "env rollout";

/* One line of the rollout (docs/rollout.md): a reset when `step` is NULL, else step t with
 * action a. Float32 values print with %.9g, which round-trips; NaN and Inf as null. */
static int print_line(long long t, int a, const float *obs, int d, const prism_step *step) {
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_object_begin(&j);
    prism_json_kv_string(&j, "type", step ? "step" : "reset");
    if (step) {
        prism_json_kv_int(&j, "t", t);
        prism_json_kv_int(&j, "action", a);
    }
    prism_json_key(&j, "obs");
    prism_json_array_begin(&j);
    for (int i = 0; i < d; i++) prism_json_float(&j, obs[i]);
    prism_json_array_end(&j);
    if (step) {
        prism_json_key(&j, "reward");
        prism_json_float(&j, step->reward);
        prism_json_kv_bool(&j, "terminated", step->terminated);
        prism_json_kv_bool(&j, "truncated", step->truncated);
    }
    prism_json_object_end(&j);
    return cli_json_print(command, &j);
}

/* Read one action per line from `path` into a growing array; every line must hold a whole
 * number in [0, num_actions) (surrounding blanks allowed, empty lines skipped). Prints the
 * problem with file and line and returns false on bad input. */
static bool read_actions(const char *path, int num_actions, const char *env_id, int **out,
                         long *count) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr,
                "prism %s: error: cannot read the actions file '%s': %s\n"
                "(--actions FILE holds one action per line, integers 0..%d)\n",
                command, path, strerror(errno), num_actions - 1);
        return false;
    }
    int *actions = NULL;
    long n = 0, cap = 0, line_no = 0;
    char line[256];
    bool ok = true;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            fprintf(stderr, "prism %s: error: %s:%ld: line too long (expected one action)\n",
                    command, path, line_no);
            ok = false;
            break;
        }
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        char *end = p + strlen(p);
        while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            *--end = 0;
        if (*p == 0) continue;
        char *stop;
        errno = 0;
        long v = strtol(p, &stop, 10);
        if (*stop != 0 || errno) {
            fprintf(stderr,
                    "prism %s: error: %s:%ld: '%s' is not a whole number (one action per line, "
                    "integers 0..%d)\n",
                    command, path, line_no, p, num_actions - 1);
            ok = false;
            break;
        }
        if (v < 0 || v >= num_actions) {
            fprintf(stderr,
                    "prism %s: error: %s:%ld: action %ld is out of range for %s (valid: 0..%d)\n",
                    command, path, line_no, v, env_id, num_actions - 1);
            ok = false;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            int *grown = realloc(actions, sizeof *actions * (size_t)cap);
            if (!grown) {
                fprintf(stderr, "prism %s: error: out of memory reading %s\n", command, path);
                ok = false;
                break;
            }
            actions = grown;
        }
        actions[n++] = (int)v;
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "prism %s: error: reading %s failed: %s\n", command, path, strerror(errno));
        ok = false;
    }
    fclose(f);
    if (!ok) {
        free(actions);
        return false;
    }
    *out = actions;
    *count = n;
    return true;
}

/* Parse "v1,v2,..." into at most `max` doubles; returns the count, or -1 (message printed). */
static int parse_state(const char *text, double *values, int max) {
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || (*end != ',' && *end != 0)) {
            fprintf(stderr,
                    "prism %s: error: --state '%s' is not a comma-separated list of numbers "
                    "(e.g. --state 0.01,0,-0.02,0)\n",
                    command, text);
            return -1;
        }
        if (n < max) values[n] = v;
        n++;
        if (*end == 0) break;
        p = end + 1;
    }
    return n;
}

int env_rollout(int argc, char **argv) {
    enum { O_SEED, O_STEPS, O_ACTIONS, O_STATE, O_RNG, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_SEED] = {.name = "seed",
                    .metavar = "S",
                    .help = "seed of the environment and the actions (0)"},
        [O_STEPS] = {.name = "steps",
                     .metavar = "K",
                     .help = "steps to run (default: the actions in FILE, else 1000)"},
        [O_ACTIONS] = {.name = "actions",
                       .metavar = "FILE",
                       .help = "one action per line (default: random)"},
        [O_STATE] = {.name = "state",
                     .metavar = "v1,v2,...",
                     .help = "internal state after the first reset"},
        [O_RNG] = {.name = "rng",
                   .metavar = "KIND",
                   .help = "environment random source: prism or numpy"},
    };
    const char *usage = "prism env rollout ID [--seed S] [--steps K] [--actions FILE] "
                        "[--state v1,v2,...] [--rng prism|numpy]";
    char *pos[1];
    int npos;
    int rc = cli_parse(command, usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism %s: which environment? usage: %s\n(`prism env ls` lists them)\n",
                command, usage);
        return CLI_USAGE;
    }
    uint64_t seed;
    long long steps;
    if (!cli_u64(command, &opts[O_SEED], 0, &seed)) return CLI_USAGE;
    if (!cli_int(command, &opts[O_STEPS], 0, 1000000000000LL, 1000, &steps)) return CLI_USAGE;
    prism_env_options options = prism_env_options_default();
    const char *rng = cli_value(&opts[O_RNG], "prism");
    if (!strcmp(rng, "numpy"))
        options.random = PRISM_RANDOM_NUMPY;
    else if (strcmp(rng, "prism")) {
        fprintf(stderr, "prism %s: --rng must be prism or numpy (got '%s')\n", command, rng);
        return CLI_USAGE;
    }
    const prism_env_class *cls = prism_env_find(pos[0]);
    if (cls && options.random == PRISM_RANDOM_NUMPY && !cls->supports_numpy_rng) {
        fprintf(stderr,
                "prism %s: error: --rng numpy is unsupported for this environment (%s draws "
                "only from prism's generator; the MinAtar games support numpy); use --rng prism\n",
                command, cls->id);
        return CLI_USAGE;
    }
    prism_env env;
    prism_status st = prism_env_init(&env, pos[0], &options);
    if (st) return cli_fail(command, st, NULL);
    cls = env.cls;

    int *actions = NULL;
    long num_file_actions = 0;
    if (opts[O_ACTIONS].count) {
        if (!read_actions(cli_value(&opts[O_ACTIONS], ""), cls->num_actions, cls->id, &actions,
                          &num_file_actions)) {
            prism_env_free(&env);
            return CLI_USAGE;
        }
        if (!opts[O_STEPS].count || steps > num_file_actions) steps = num_file_actions;
    }
    enum { MAX_STATE = 64 };
    double state[MAX_STATE];
    int nstate = 0;
    if (opts[O_STATE].count) {
        nstate = parse_state(cli_value(&opts[O_STATE], ""), state, MAX_STATE);
        if (nstate >= 0 && cls->state_values == 0) {
            prism_error(PRISM_ERR_UNSUPPORTED, "%s does not support --state", cls->id);
            nstate = -1;
            fprintf(stderr, "prism %s: error: %s\n", command, prism_error_message());
        } else if (nstate >= 0 && nstate != cls->state_values) {
            fprintf(stderr, "prism %s: error: --state needs %d values for %s (%s), got %d\n",
                    command, cls->state_values, cls->id, cls->state_names, nstate);
            nstate = -1;
        }
        if (nstate < 0) {
            free(actions);
            prism_env_free(&env);
            return CLI_USAGE;
        }
    }

    const int d = prism_env_obs_size(cls);
    float *obs = malloc(sizeof *obs * (size_t)d);
    if (!obs) {
        fprintf(stderr, "prism %s: error: out of memory\n", command);
        free(actions);
        prism_env_free(&env);
        return CLI_FAILURE;
    }
    prism_env_seed(&env, seed, PRISM_STREAM_ENV);
    prism_rng action_rng;
    prism_rng_seed(&action_rng, seed, PRISM_STREAM_ACTIONS);
    prism_env_reset(&env, obs);
    if (nstate > 0) {
        st = prism_env_set_state(&env, state, nstate, obs);
        if (st) {
            free(obs);
            free(actions);
            prism_env_free(&env);
            return cli_fail(command, st, NULL);
        }
    }
    int out_rc = print_line(0, 0, obs, d, NULL);
    for (long long t = 0; t < steps && !out_rc; t++) {
        int a =
            actions ? actions[t] : (int)prism_rng_below(&action_rng, (uint32_t)cls->num_actions);
        prism_step s = prism_env_step(&env, a, obs);
        out_rc = print_line(t, a, obs, d, &s);
        if (!out_rc && (s.terminated || s.truncated)) {
            prism_env_reset(&env, obs);
            out_rc = print_line(0, 0, obs, d, NULL);
        }
    }
    if (!out_rc && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "prism %s: error: writing the output failed: %s\n", command,
                strerror(errno));
        out_rc = CLI_FAILURE;
    }
    free(obs);
    free(actions);
    prism_env_free(&env);
    return out_rc;
}
