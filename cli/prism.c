/* prism — the command-line front end. Each subcommand lives in its own cli/cmd_*.c file. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const cli_subcommand commands[] = {
    {"env", cmd_env, "list, inspect, play and roll out environments"},
    {"train", cmd_train, "train an agent on an environment; every run archived under runs/"},
    {"sweep", cmd_sweep,
     "agents x envs x seeds in parallel worker processes or on Slurm, then a report"},
    {"agents", cmd_agents, "list agent presets, show one resolved, list config keys"},
    {"runs", cmd_runs, "list, show, compare, reindex and remove archived runs"},
    {"eval", cmd_eval, "evaluate a run's trained agent from its latest checkpoint"},
    {"watch", cmd_watch, "render an episode of a run's trained agent in the terminal"},
    {"report", cmd_report, "one HTML report (curves, scores, aggregate statistics) from runs"},
    {"doctor", cmd_doctor, "find deep-RL bugs: probes, engine checks, run and env health"},
    {"bench", cmd_bench, "measure throughput (environments, replay, networks)"},
    {"completion", cmd_completion, "print a bash or zsh completion script for prism"},
};

const cli_subcommand *cli_commands(int *n) {
    *n = (int)(sizeof commands / sizeof commands[0]);
    return commands;
}

static void usage(FILE *f) {
    fprintf(f, "prism %s — fast, reproducible value-based deep RL on a CPU\n\n", PRISM_VERSION);
    fprintf(f,
            "usage: prism COMMAND [ARGS...]   (prism help COMMAND [SUBCOMMAND] for details)\n\n");
    fprintf(f, "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

/* `prism help CMD [SUB...]` is `prism CMD [SUB...] --help`. */
static int help(int argc, char **argv) {
    char *args[8];
    int n = 0;
    for (int i = 0; i < argc && n < 6; i++) args[n++] = argv[i];
    char flag[] = "--help";
    args[n++] = flag;
    args[n] = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(args[0], commands[i].name)) return commands[i].run(n - 1, args + 1);
    fprintf(stderr, "prism help: unknown command '%s'\n\n", args[0]);
    usage(stderr);
    return CLI_USAGE;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "help")) return help(argc - 2, argv + 2);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("prism %s\n", PRISM_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "prism: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
