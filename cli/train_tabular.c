/* prism train ENV --agent q-iteration|q-learning: the tabular agents of prism/tabular.h on an
 * environment with a known model (homl-mdp, the probes). Prints the Q table and the greedy
 * policy; --json adds one closing JSON line. cmd_train.c dispatches here when
 * train_tabular_handles(agent); the deep agents are not this file's business. */
#include "cli.h"
#include "prism/mdp.h"
#include "prism/tabular.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usage =
    "prism train ENV --agent q-iteration|q-learning [--set KEY=VALUE]... [--steps N] "
    "[--seed N] [--json]";

bool train_tabular_handles(const char *agent) {
    return agent && (!strcmp(agent, "q-iteration") || !strcmp(agent, "q-learning"));
}

/* The --set keys of each agent, with what they take (printed on a bad key). */
static const char *const iteration_keys[] = {
    "agent.gamma       discount in [0, 1] (default 0.9)",
    "agent.iterations  most sweeps, >= 1 (default 1000)",
    "agent.tolerance   stop when no Q changes more than this, >= 0; 0 = all sweeps "
    "(default 1e-12)",
};
static const char *const learning_keys[] = {
    "agent.gamma        discount in [0, 1] (default 0.9)",
    "agent.alpha0       initial learning rate in (0, 1] (default 0.05)",
    "agent.decay        alpha_t = alpha0 / (1 + t * decay), >= 0 (default 0.005)",
    "agent.exploration  epsilon | function (default epsilon)",
    "agent.epsilon      random-action probability in [0, 1] (default 1, the book's random "
    "policy; 0 with exploration=function)",
    "agent.kappa        exploration-function bonus, f(Q, N) = Q + kappa / (1 + N), >= 0 "
    "(default 1)",
    "env.KEY            an environment option, e.g. env.max_episode_steps",
};

static int bad_key(const char *agent, const char *text, const char *const *keys, size_t n) {
    fprintf(stderr, "prism train: %s\nvalid --set keys for --agent %s:\n", text, agent);
    for (size_t i = 0; i < n; i++) fprintf(stderr, "  %s\n", keys[i]);
    return CLI_USAGE;
}

/* Parse a finite double within [lo, hi]; prints the problem and returns false otherwise. */
static bool parse_double(const char *key, const char *value, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (*value == 0 || *end != 0 || errno || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "prism train: %s must be a number from %g to %g (got '%s')\n", key, lo, hi,
                value);
        return false;
    }
    *out = v;
    return true;
}

static void json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* A double in the fewest digits that read back exactly (0.9, not 0.90000000000000002). */
static void json_number(double v) {
    char buf[32];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, stdout);
}

static void print_table(const prism_qtable *t, const prism_mdp *m, const prism_env_class *cls) {
    printf("%-10s", "state");
    for (int a = 0; a < t->num_actions; a++) printf(" %12.12s", cls->action_names[a]);
    printf("   greedy\n");
    for (int s = 0; s < t->num_states; s++) {
        printf("%-10s", m->state_names[s]);
        for (int a = 0; a < t->num_actions; a++) {
            int i = s * t->num_actions + a;
            if (t->available[i])
                printf(" %12.4f", t->q[i]);
            else
                printf(" %12s", "-");
        }
        printf("   %s\n", cls->action_names[prism_qtable_greedy(t, s)]);
    }
}

static void print_json(const prism_qtable *t, const prism_mdp *m, const prism_env_class *cls,
                       const char *agent, double gamma) {
    printf("{\"env\":");
    json_string(cls->id);
    printf(",\"agent\":");
    json_string(agent);
    printf(",\"gamma\":");
    json_number(gamma);
    printf(",\"states\":[");
    for (int s = 0; s < t->num_states; s++) {
        if (s) putchar(',');
        json_string(m->state_names[s]);
    }
    printf("],\"actions\":[");
    for (int a = 0; a < t->num_actions; a++) {
        if (a) putchar(',');
        json_string(cls->action_names[a]);
    }
    printf("],\"q\":[");
    for (int s = 0; s < t->num_states; s++) {
        printf("%s[", s ? "," : "");
        for (int a = 0; a < t->num_actions; a++) {
            int i = s * t->num_actions + a;
            if (a) putchar(',');
            if (t->available[i])
                json_number(t->q[i]);
            else
                printf("null");
        }
        putchar(']');
    }
    printf("],\"visits\":[");
    for (int s = 0; s < t->num_states; s++) {
        printf("%s[", s ? "," : "");
        for (int a = 0; a < t->num_actions; a++)
            printf("%s%llu", a ? "," : "", (unsigned long long)t->visits[s * t->num_actions + a]);
        putchar(']');
    }
    printf("],\"policy\":[");
    for (int s = 0; s < t->num_states; s++) printf("%s%d", s ? "," : "", prism_qtable_greedy(t, s));
    printf("]");
}

int train_tabular(int argc, char **argv) {
    enum { O_AGENT, O_SET, O_STEPS, O_SEED, O_JSON, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_AGENT] = {.name = "agent",
                     .metavar = "AGENT",
                     .help = "q-iteration (known model) or q-learning"},
        [O_SET] = {.name = "set",
                   .metavar = "KEY=VALUE",
                   .help = "an option (a bad key lists them all)"},
        [O_STEPS] = {.name = "steps",
                     .metavar = "N",
                     .help = "q-learning environment steps (default 10000)"},
        [O_SEED] = {.name = "seed", .metavar = "N", .help = "q-learning seed (default 0)"},
        [O_JSON] = {.name = "json", .help = "end with one JSON line: q, policy, visits, ..."},
    };
    char *pos[1];
    int npos;
    int rc = cli_parse("train", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *agent = cli_value(&opts[O_AGENT], NULL);
    if (!train_tabular_handles(agent)) {
        fprintf(stderr, "prism train: tabular agents are q-iteration and q-learning (got '%s')\n",
                agent ? agent : "none");
        return CLI_USAGE;
    }
    if (npos != 1) {
        fprintf(stderr, "prism train: which environment? usage: %s\n", usage);
        return CLI_USAGE;
    }
    bool learning = !strcmp(agent, "q-learning");
    const prism_mdp *m = prism_mdp_find(pos[0]);
    if (!m) {
        if (!prism_env_find(pos[0])) {
            prism_env probe;
            return cli_fail("train", prism_env_init(&probe, pos[0], NULL), NULL);
        }
        fprintf(stderr,
                "prism train: %s has no known model, so tabular agents cannot run on it; they "
                "run on homl-mdp and the probe environments (prism env ls)\n",
                pos[0]);
        return CLI_USAGE;
    }
    if (!learning && (opts[O_STEPS].count || opts[O_SEED].count)) {
        fprintf(stderr,
                "prism train: --%s is for q-learning; q-iteration sweeps the known model "
                "(use --set agent.iterations=N)\n",
                opts[O_STEPS].count ? "steps" : "seed");
        return CLI_USAGE;
    }

    prism_env env;
    prism_status st = prism_env_init(&env, m->env_id, NULL);
    if (st) return cli_fail("train", st, NULL);
    prism_q_iteration_options qi = prism_q_iteration_defaults();
    prism_q_learning_options ql = prism_q_learning_defaults();
    long long steps;
    uint64_t seed;
    if (!cli_int("train", &opts[O_STEPS], 1, 1000000000LL, ql.steps, &steps) ||
        !cli_u64("train", &opts[O_SEED], 0, &seed)) {
        prism_env_free(&env);
        return CLI_USAGE;
    }
    ql.steps = (long)steps;
    ql.seed = seed;
    bool epsilon_set = false;
    const char *const *keys = learning ? learning_keys : iteration_keys;
    size_t nkeys = learning ? sizeof learning_keys / sizeof learning_keys[0]
                            : sizeof iteration_keys / sizeof iteration_keys[0];
    for (int i = 0; i < opts[O_SET].count; i++) {
        const char *kv = opts[O_SET].values[i];
        const char *eq = strchr(kv, '=');
        char key[64], msg[160];
        if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) {
            snprintf(msg, sizeof msg, "--set takes KEY=VALUE (got '%s')", kv);
            prism_env_free(&env);
            return bad_key(agent, msg, keys, nkeys);
        }
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        const char *value = eq + 1;
        bool ok = true, known = true;
        if (!strcmp(key, "agent.gamma")) {
            double g;
            ok = parse_double(key, value, 0, 1, &g);
            qi.gamma = ql.gamma = g;
        } else if (!learning && !strcmp(key, "agent.iterations")) {
            double v = 1;
            ok = parse_double(key, value, 1, 1e9, &v);
            if (ok && v != floor(v)) {
                fprintf(stderr, "prism train: agent.iterations must be a whole number (got '%s')\n",
                        value);
                ok = false;
            }
            qi.max_iterations = (int)v;
        } else if (!learning && !strcmp(key, "agent.tolerance")) {
            ok = parse_double(key, value, 0, 1e9, &qi.tolerance);
        } else if (learning && !strcmp(key, "agent.alpha0")) {
            ok = parse_double(key, value, 1e-12, 1, &ql.alpha0);
        } else if (learning && !strcmp(key, "agent.decay")) {
            ok = parse_double(key, value, 0, 1e12, &ql.decay);
        } else if (learning && !strcmp(key, "agent.epsilon")) {
            ok = parse_double(key, value, 0, 1, &ql.epsilon);
            epsilon_set = true;
        } else if (learning && !strcmp(key, "agent.kappa")) {
            ok = parse_double(key, value, 0, 1e12, &ql.kappa);
        } else if (learning && !strcmp(key, "agent.exploration")) {
            if (!strcmp(value, "epsilon"))
                ql.exploration = PRISM_EXPLORE_EPSILON;
            else if (!strcmp(value, "function"))
                ql.exploration = PRISM_EXPLORE_FUNCTION;
            else {
                fprintf(stderr,
                        "prism train: agent.exploration is epsilon or function (got '%s')\n",
                        value);
                ok = false;
            }
        } else if (learning && !strncmp(key, "env.", 4)) {
            st = prism_env_configure(&env, key + 4, value);
            if (st) {
                prism_env_free(&env);
                return cli_fail("train", st, "(env.KEY passes KEY to the environment)");
            }
        } else {
            known = false;
        }
        if (!known) {
            snprintf(msg, sizeof msg, "unknown --set key '%s'", key);
            prism_env_free(&env);
            return bad_key(agent, msg, keys, nkeys);
        }
        if (!ok) {
            prism_env_free(&env);
            return CLI_USAGE;
        }
    }

    /* the exploration function explores by itself: its default is the book's pure form */
    if (ql.exploration == PRISM_EXPLORE_FUNCTION && !epsilon_set) ql.epsilon = 0;
    prism_qtable t;
    st = prism_qtable_init(&t, m);
    if (st) {
        prism_env_free(&env);
        return cli_fail("train", st, NULL);
    }
    int iterations = 0;
    double t0 = prism_now();
    st = learning ? prism_q_learning(&t, m, &env, &ql) : prism_q_iteration(&t, m, &qi, &iterations);
    double seconds = prism_now() - t0;
    if (st) {
        prism_qtable_free(&t);
        prism_env_free(&env);
        return cli_fail("train", st, NULL);
    }
    double gamma = learning ? ql.gamma : qi.gamma;
    const char *kind = ql.exploration == PRISM_EXPLORE_FUNCTION ? "function" : "epsilon";
    if (learning)
        printf("%s, q-learning, gamma %g, alpha0 %g, decay %g, %s exploration, %ld steps, seed "
               "%llu (%.3f s)\n",
               m->env_id, gamma, ql.alpha0, ql.decay, kind, ql.steps, (unsigned long long)ql.seed,
               seconds);
    else
        printf("%s, q-iteration, gamma %g: %d sweeps (%.3f s)\n", m->env_id, gamma, iterations,
               seconds);
    print_table(&t, m, env.cls);
    if (opts[O_JSON].count) {
        print_json(&t, m, env.cls, agent, gamma);
        if (learning) {
            printf(",\"steps\":%ld,\"seed\":%llu,\"exploration\":\"%s\",\"alpha0\":", ql.steps,
                   (unsigned long long)ql.seed, kind);
            json_number(ql.alpha0);
            printf(",\"decay\":");
            json_number(ql.decay);
            printf(",\"epsilon\":");
            json_number(ql.epsilon);
            printf(",\"kappa\":");
            json_number(ql.kappa);
        } else {
            printf(",\"iterations\":%d,\"tolerance\":", iterations);
            json_number(qi.tolerance);
        }
        printf("}\n");
    }
    prism_qtable_free(&t);
    prism_env_free(&env);
    return CLI_OK;
}
