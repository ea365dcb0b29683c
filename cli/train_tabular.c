/* prism train ENV --agent q-iteration|q-learning: the tabular agents of prism/tabular.h on an
 * environment with a known model (homl-mdp, the probes). Prints the Q table and the greedy
 * policy; --json adds one closing JSON line. The agents parse their own --set keys
 * (prism_tabular_set); this file splits KEY=VALUE and hands env.KEY to the environment.
 * cmd_train.c dispatches here when train_tabular_handles(agent); the deep agents are not this
 * file's business. */
#include "cli.h"
#include "prism/mdp.h"
#include "prism/tabular.h"

#include <stdio.h>
#include <string.h>

static const char *const usage =
    "prism train ENV --agent q-iteration|q-learning [--set KEY=VALUE]... [--steps N] "
    "[--seed N] [--json]";

bool train_tabular_handles(const char *agent) {
    return prism_tabular_is_agent(agent);
}

/* The agent's keys, after a bad one. */
static int list_keys(const char *agent, const prism_tabular_settings *s) {
    fprintf(stderr, "valid --set keys for --agent %s:\n", agent);
    char help[256];
    for (int i = 0; prism_tabular_key_name(s, i); i++) {
        prism_tabular_key_describe(s, i, help, sizeof help);
        fprintf(stderr, "  %-18s %s\n", prism_tabular_key_name(s, i), help);
    }
    if (s->is_learning)
        fprintf(stderr, "  %-18s %s\n", "env.KEY",
                "an environment option, e.g. env.max_episode_steps");
    return CLI_USAGE;
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

/* The closing JSON line: the table, the policy and the agent's settings. */
static int print_json(const prism_qtable *t, const prism_mdp *m, const prism_env_class *cls,
                      const char *agent, const prism_tabular_settings *set, int iterations) {
    const int S = t->num_states, A = t->num_actions;
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_object_begin(&j);
    prism_json_kv_string(&j, "env", cls->id);
    prism_json_kv_string(&j, "agent", agent);
    prism_json_kv_double(&j, "gamma",
                         set->is_learning ? set->learning.gamma : set->iteration.gamma);
    prism_json_key(&j, "states");
    prism_json_array_begin(&j);
    for (int s = 0; s < S; s++) prism_json_string(&j, m->state_names[s]);
    prism_json_array_end(&j);
    prism_json_key(&j, "actions");
    prism_json_array_begin(&j);
    for (int a = 0; a < A; a++) prism_json_string(&j, cls->action_names[a]);
    prism_json_array_end(&j);
    prism_json_key(&j, "q"); /* null where the action is unavailable */
    prism_json_array_begin(&j);
    for (int s = 0; s < S; s++) {
        prism_json_array_begin(&j);
        for (int a = 0; a < A; a++) {
            if (t->available[s * A + a])
                prism_json_double(&j, t->q[s * A + a]);
            else
                prism_json_null(&j);
        }
        prism_json_array_end(&j);
    }
    prism_json_array_end(&j);
    prism_json_key(&j, "visits");
    prism_json_array_begin(&j);
    for (int s = 0; s < S; s++) {
        prism_json_array_begin(&j);
        for (int a = 0; a < A; a++) prism_json_u64(&j, t->visits[s * A + a]);
        prism_json_array_end(&j);
    }
    prism_json_array_end(&j);
    prism_json_key(&j, "policy");
    prism_json_array_begin(&j);
    for (int s = 0; s < S; s++) prism_json_int(&j, prism_qtable_greedy(t, s));
    prism_json_array_end(&j);
    if (set->is_learning) {
        const prism_q_learning_options *ql = &set->learning;
        prism_json_kv_int(&j, "steps", ql->steps);
        prism_json_key(&j, "seed");
        prism_json_u64(&j, ql->seed);
        prism_json_kv_string(&j, "exploration",
                             ql->exploration == PRISM_EXPLORE_FUNCTION ? "function" : "epsilon");
        prism_json_kv_double(&j, "alpha0", ql->alpha0);
        prism_json_kv_double(&j, "decay", ql->decay);
        prism_json_kv_double(&j, "epsilon", ql->epsilon);
        prism_json_kv_double(&j, "kappa", ql->kappa);
    } else {
        prism_json_kv_int(&j, "iterations", iterations);
        prism_json_kv_double(&j, "tolerance", set->iteration.tolerance);
    }
    prism_json_object_end(&j);
    return cli_json_print("train", &j);
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
    prism_tabular_settings set;
    if ((st = prism_tabular_settings_init(&set, agent))) {
        prism_env_free(&env);
        return cli_fail("train", st, NULL);
    }
    long long steps;
    if (!cli_int("train", &opts[O_STEPS], 1, 1000000000LL, set.learning.steps, &steps) ||
        !cli_u64("train", &opts[O_SEED], 0, &set.learning.seed)) {
        prism_env_free(&env);
        return CLI_USAGE;
    }
    set.learning.steps = (long)steps;
    for (int i = 0; i < opts[O_SET].count; i++) {
        const char *kv = opts[O_SET].values[i];
        const char *eq = strchr(kv, '=');
        char key[64];
        if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) {
            fprintf(stderr, "prism train: --set takes KEY=VALUE (got '%s')\n", kv);
            prism_env_free(&env);
            return list_keys(agent, &set);
        }
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        /* q-learning steps the environment, so it takes its options too */
        bool env_key = learning && !strncmp(key, "env.", 4);
        st = env_key ? prism_env_configure(&env, key + 4, eq + 1)
                     : prism_tabular_set(&set, key, eq + 1);
        if (st) {
            int code =
                cli_fail("train", st, env_key ? "(env.KEY passes KEY to the environment)" : NULL);
            prism_env_free(&env);
            return st == PRISM_ERR_NOT_FOUND && !env_key ? list_keys(agent, &set) : code;
        }
    }
    const prism_q_iteration_options qi = set.iteration;
    const prism_q_learning_options ql = set.learning;

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
    int out_rc = opts[O_JSON].count ? print_json(&t, m, env.cls, agent, &set, iterations) : CLI_OK;
    prism_qtable_free(&t);
    prism_env_free(&env);
    return out_rc;
}
