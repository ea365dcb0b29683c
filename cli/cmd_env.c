/* prism env — ls, info (this file); the other subcommands live in cli/env_*.c. */
#include "cli.h"
#include "prism/env.h"

#include <stdio.h>
#include <string.h>

static int env_ls(int argc, char **argv) {
    char *pos[1];
    int npos;
    int rc = cli_parse("env ls", "prism env ls", argc, argv, NULL, 0, pos, 0, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    printf("%-22s %-12s %-7s %-6s %s\n", "ID", "OBS", "ACTIONS", "LIMIT", "SUMMARY");
    for (int i = 0; i < prism_env_class_count(); i++) {
        const prism_env_class *c = prism_env_class_at(i);
        char shape[32];
        if (c->obs_rank == 3)
            snprintf(shape, sizeof shape, "%dx%dx%d", c->obs_shape[0], c->obs_shape[1],
                     c->obs_shape[2]);
        else
            snprintf(shape, sizeof shape, "%d", c->obs_shape[0]);
        char limit[16] = "none";
        if (c->max_episode_steps) snprintf(limit, sizeof limit, "%d", c->max_episode_steps);
        printf("%-22s %-12s %-7d %-6s %s\n", c->id, shape, c->num_actions, limit, c->summary);
    }
    return CLI_OK;
}

static int env_info(int argc, char **argv) {
    char *pos[1];
    int npos;
    const char *usage = "prism env info ID";
    int rc = cli_parse("env info", usage, argc, argv, NULL, 0, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism env info: which environment? usage: %s\n", usage);
        return CLI_USAGE;
    }
    prism_env env;
    prism_status st = prism_env_init(&env, pos[0], NULL);
    if (st) return cli_fail("env info", st, NULL);
    const prism_env_class *c = env.cls;
    printf("id:             %s\n", c->id);
    if (c->aliases) printf("aliases:        %s\n", c->aliases);
    printf("summary:        %s\n", c->summary);
    printf("reference:      %s\n", c->reference);
    if (c->obs_rank == 3)
        printf("observation:    %d x %d x %d (H, W, C), float32\n", c->obs_shape[0],
               c->obs_shape[1], c->obs_shape[2]);
    else
        printf("observation:    %d values, float32\n", c->obs_shape[0]);
    printf("actions:        %d:", c->num_actions);
    for (int a = 0; a < c->num_actions; a++)
        printf(" %d=%s%s", a, c->action_names ? c->action_names[a] : "?",
               a + 1 < c->num_actions ? "," : "");
    printf("\n");
    if (c->max_episode_steps)
        printf("time limit:     %d steps (truncation)\n", c->max_episode_steps);
    else
        printf("time limit:     none\n");
    printf("numpy rng:      %s\n", c->supports_numpy_rng ? "supported" : "no");
    if (c->state_values) printf("state:          %s\n", c->state_names);
    prism_env_free(&env);
    return CLI_OK;
}

static const cli_subcommand subcommands[] = {
    {"ls", env_ls, "list the built-in environments"},
    {"info", env_info, "describe one environment"},
    {"eval", env_eval, "roll out a random or heuristic policy and summarise the returns"},
    {"rollout", env_rollout, "print a rollout as JSON lines (see docs/rollout.md)"},
    {"play", env_play, "play an environment yourself in the terminal"},
};

int cmd_env(int argc, char **argv) {
    return cli_dispatch("env", "prism env SUBCOMMAND [ARGS...]", subcommands,
                        (int)(sizeof subcommands / sizeof subcommands[0]), argc, argv);
}
