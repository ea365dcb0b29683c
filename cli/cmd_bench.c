/* prism bench — throughput measurements. Subcommands live in cli/bench_*.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const cli_subcommand kinds[] = {
    {"env", bench_env, "environment steps per second, single and vectorised"},
    {"replay", bench_replay, "replay memory adds, sampled batches and priority updates per second"},
    {"nn", bench_nn, "neural-network update time, GFLOP/s vs sgemm, batch-1 action latency"},
    {"train", bench_train, "agent steps: us per env step and per update, FLOP floor, split"},
    {"peak", bench_peak, "this core's FP32 FMA and BF16 dot-product peak GFLOP/s"},
    {"compare", bench_compare, "two prism binaries' bench train, interleaved: ratio B/A, 95% CI"},
};

int cmd_bench(int argc, char **argv) {
    return cli_dispatch("bench", "prism bench KIND [--json] ...", kinds,
                        (int)(sizeof kinds / sizeof kinds[0]), argc, argv);
}
