/* prism bench — throughput measurements. Subcommands live in cli/bench_*.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

typedef struct bench_kind {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} bench_kind;

static const bench_kind kinds[] = {
    {"env", bench_env, "environment steps per second, single and vectorised"},
    {"replay", bench_replay, "replay memory adds, sampled batches and priority updates per second"},
    {"nn", bench_nn, "neural-network update time, GFLOP/s vs sgemm, batch-1 action latency"},
    {"train", bench_train, "agent steps: us per env step and per update, act/learn split"},
};

int cmd_bench(int argc, char **argv) {
    size_t n = sizeof kinds / sizeof kinds[0];
    if (argc >= 1)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(argv[0], kinds[i].name)) return kinds[i].run(argc - 1, argv + 1);
    FILE *f = argc >= 1 && strcmp(argv[0], "--help") && strcmp(argv[0], "-h") ? stderr : stdout;
    if (f == stderr && argc >= 1) fprintf(f, "prism bench: unknown benchmark '%s'\n", argv[0]);
    fprintf(f, "usage: prism bench KIND [--json] ...\n\n");
    for (size_t i = 0; i < n; i++) fprintf(f, "  %-8s %s\n", kinds[i].name, kinds[i].summary);
    return f == stderr ? CLI_USAGE : CLI_OK;
}
