/* prism train — a minimal dispatcher: the tabular agents (cli/train_tabular.c) when --agent
 * names one, otherwise a clear "not yet" for the deep agents. The lead replaces this file
 * with the deep-RL trainer and keeps the dispatch to train_tabular. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* The value of --agent in argv (either form), or NULL; the full parse is the handler's. */
static const char *find_agent(int argc, char **argv) {
    const char *agent = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--agent") && i + 1 < argc)
            agent = argv[++i];
        else if (!strncmp(argv[i], "--agent=", 8))
            agent = argv[i] + 8;
    }
    return agent;
}

int cmd_train(int argc, char **argv) {
    const char *agent = find_agent(argc, argv);
    if (train_tabular_handles(agent)) return train_tabular(argc, argv);
    bool help = argc == 0 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h");
    FILE *f = help && argc ? stdout : stderr;
    if (!help)
        fprintf(f, "prism train: deep agents are not available yet (got --agent %s)\n",
                agent ? agent : "<default>");
    fprintf(f, "usage: prism train ENV --agent q-iteration|q-learning [--set KEY=VALUE]... "
               "[--steps N] [--seed N] [--json]\n"
               "  (tabular agents run on homl-mdp and the probe environments; "
               "`prism train ENV --agent q-learning --help` for the options)\n");
    return f == stdout ? CLI_OK : CLI_USAGE;
}
