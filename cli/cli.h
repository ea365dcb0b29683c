/* cli/cli.h — what the subcommands of `prism` share: option parsing, exit codes, and the
 * entry point of each subcommand. Exit codes: 0 success, 1 runtime failure, 2 usage or input
 * error. Every error message says what to do next. */
#ifndef PRISM_CLI_H
#define PRISM_CLI_H

#include "prism/core.h"
#include "prism/json.h"

#include <stdbool.h>
#include <stdint.h>

enum { CLI_OK = 0, CLI_FAILURE = 1, CLI_USAGE = 2 };
enum { CLI_MAX_VALUES = 64 };

/* One option: `--name VALUE`, `--name=VALUE` (VALUE may start with '-'), or a flag `--name`
 * when metavar is NULL. Repeated options keep every value (e.g. --set). */
typedef struct cli_opt {
    const char *name;    /* without the dashes */
    const char *metavar; /* NULL for a flag */
    const char *help;
    int count;
    const char *values[CLI_MAX_VALUES];
} cli_opt;

/* Commands declare an enum of option indices beside their table and fill the table with
 * designated initializers, so opts[O_SEED] is --seed whatever the order:
 *
 *     enum { O_SEED, O_JSON, NOPTS };
 *     cli_opt opts[NOPTS] = {
 *         [O_SEED] = {.name = "seed", .metavar = "N", .help = "seed (default 0)"},
 *         [O_JSON] = {.name = "json", .help = "print one JSON object"},
 *     };
 *
 * An index without an entry leaves a nameless slot, which cli_parse asserts against. */

/* The last value given, or `fallback`. */
const char *cli_value(const cli_opt *o, const char *fallback);

/* Parse argv (after the subcommand words) into opts and positional arguments. On a bad option
 * prints a message naming it (with the closest valid one) and returns CLI_USAGE; `-h`/`--help`
 * prints usage and returns -1; success returns CLI_OK. `usage` is the one-line synopsis. */
int cli_parse(const char *command, const char *usage, int argc, char **argv, cli_opt *opts,
              int nopts, char **positional, int max_positional, int *npositional);

/* A subcommand table entry, and dispatch: run the entry named by argv[0] with the rest of
 * argv. No name, -h or --help: print `usage` and the table, return CLI_OK (CLI_USAGE when
 * argv is empty). An unknown name: say so on stderr, print the table, return CLI_USAGE. */
typedef struct cli_subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_subcommand;
int cli_dispatch(const char *command, const char *usage, const cli_subcommand *subs, int n,
                 int argc, char **argv);

/* Where `--help` goes. By default cli_parse and cli_dispatch print it; with a sink set they hand
 * their tables to it instead and return as after --help (the completion generator walks every
 * command this way, so completion is made from the same tables as the help). NULL restores
 * printing. */
typedef struct cli_help_sink {
    void (*options)(void *ctx, const char *command, const char *usage, const cli_opt *opts, int n);
    void (*subcommands)(void *ctx, const char *command, const cli_subcommand *subs, int n);
    void *ctx;
} cli_help_sink;
void cli_set_help_sink(const cli_help_sink *sink);

/* The top-level commands (cli/prism.c), for `prism help` and the completion generator. */
const cli_subcommand *cli_commands(int *n);

/* Runs on the command line (cli/run_lookup.c). cli_runs_dir: the runs directory that `given`
 * names: given itself, or given/runs when given is a sweep's directory (static storage).
 * cli_find_run: the directory of RUN, a run directory or a run id (or unique prefix) in
 * runs_dir, into dir; prints the error (with cli_hint_sweep_runs) and returns an exit code when
 * there is none. cli_hint_sweep_runs: when sweeps/ holds RUN (or, for NULL, any runs), say which
 * directory to pass, after `how` ("--runs-dir " or "" for a positional argument). */
const char *cli_runs_dir(const char *given);
int cli_find_run(const char *cmd, const char *run, const char *runs_dir, char *dir, size_t cap);
void cli_hint_sweep_runs(const char *cmd, const char *run, const char *how);

/* Convert an option value, printing "<command>: --name must be ... (got ...)" on error. */
bool cli_int(const char *command, const cli_opt *o, long long lo, long long hi, long long fallback,
             long long *out);
bool cli_u64(const char *command, const cli_opt *o, uint64_t fallback, uint64_t *out);
/* The same for a number in [lo, hi] (strtod's syntax; NaN never passes). */
bool cli_double(const char *command, const cli_opt *o, double lo, double hi, double fallback,
                double *out);

/* Print "prism <command>: error: <message>" and return the exit code for the status. */
int cli_fail(const char *command, prism_status st, const char *hint);
int cli_exit_code(prism_status st);

/* Finish the document `j`, print it as one line on stdout and free it (cli/json_out.c). A
 * writer failure (out of memory, unbalanced containers) is reported; returns the exit code. */
int cli_json_print(const char *command, prism_json *j);

/* Subcommands (cli/cmd_*.c), dispatched by cli/prism.c. */
int cmd_env(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_agents(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_eval(int argc, char **argv);  /* cli/cmd_eval.c */
int cmd_watch(int argc, char **argv); /* cli/cmd_eval.c */
/* prism eval --precision-diff N (cli/eval_precision.c): on N states of the greedy policy, how
 * often the run's network at the other precision picks another action. t is a loaded run. */
struct prism_run_state;
int eval_precision_diff(struct prism_run_state *t, long long states, bool json);
int cmd_report(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_completion(int argc, char **argv); /* cli/cmd_completion.c */

/* `prism env` subcommands beyond ls and info (cli/env_*.c). */
int env_eval(int argc, char **argv);
int env_rollout(int argc, char **argv);
int env_play(int argc, char **argv);

/* Tabular agents (cli/train_tabular.c): whether `agent` is one (q-iteration, q-learning),
 * and `prism train` for them (argv: everything after `train`). */
bool train_tabular_handles(const char *agent);
int train_tabular(int argc, char **argv);

/* Benchmarks (prism bench KIND, cli/bench_*.c), listed in cmd_bench.c. */
int bench_env(int argc, char **argv);
int bench_replay(int argc, char **argv);
int bench_nn(int argc, char **argv);
int bench_train(int argc, char **argv);
int bench_peak(int argc, char **argv);
int bench_compare(int argc, char **argv);

/* This core's arithmetic peak (cli/bench_peak.c). bench_peak_measure times one kernel: FP32
 * FMAs (bf16 false) on the instruction set `isa` (AUTO: the widest this CPU runs), or BF16
 * dot products (bf16 true, isa ignored); `instructions` per repetition, 1 <= reps <=
 * PEAK_MAX_REPS. Where the CPU lacks the instructions, supported is false and reason says
 * which. bench_peak_fp32 is the FP32 best of a shorter run (5 x 100M), 0 when unsupported. */
enum { PEAK_MAX_REPS = 100 };
typedef enum peak_isa {
    PEAK_ISA_AUTO,
    PEAK_ISA_AVX512,
    PEAK_ISA_AVX2,
    PEAK_ISA_AVX512_BF16
} peak_isa;
typedef struct peak_result {
    bool supported;
    const char *isa, *instruction, *reason; /* reason: why not supported */
    int chains, flop_per_instruction, reps;
    long long instructions;       /* per repetition */
    double gflops[PEAK_MAX_REPS]; /* (reps) in the order run */
    double best_gflops, median_gflops;
    double cpu_per_wall; /* thread CPU over wall time of the timed repetitions */
} peak_result;
void bench_peak_measure(bool bf16, peak_isa isa, int reps, long long instructions, peak_result *r);
double bench_peak_fp32(void);

#endif
