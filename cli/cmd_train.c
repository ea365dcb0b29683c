/* prism train ENV [--agent PRESET] [--seed N] [--steps N] [--config FILE] [--set key=value ...]
 * [--runs-dir DIR]: resolve the configuration (defaults -> preset -> file -> --set), run it,
 * archive it. Tabular agents (q-iteration, q-learning) are handed to cli/train_tabular.c. */
#include "cli.h"
#include "prism/archive.h"
#include "prism/config.h"
#include "prism/env.h"
#include "prism/presets.h"
#include "prism/run_index.h"
#include "prism/run_state.h"
#include "prism/trainer.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
/* The exit code SIGALRM ends the process with: interrupted until the command has decided. */
static volatile sig_atomic_t deadline_exit_code = CLI_FAILURE;

/* Deadlines after a stop request. The trainer polls the request between steps, so it normally
 * stops within an episode and a checkpoint (well under a second on classic control, a few
 * seconds for a long MinAtar episode); a process stuck where it cannot poll (OpenBLAS spins
 * forever when its work buffer cannot be allocated, e.g. under `ulimit -v`) would otherwise
 * never end, and `timeout` sends only one SIGTERM. */
enum { FIRST_STOP_DEADLINE_S = 60, SECOND_STOP_DEADLINE_S = 2, EXIT_DEADLINE_S = 10 };

static void say(const char *text, size_t len) {
    ssize_t ignored = write(STDERR_FILENO, text, len); /* best effort, async-signal-safe */
    (void)ignored;
}

static void on_signal(int sig) {
    (void)sig;
    static const char first[] = "\nprism: stopping at the end of this episode to save a checkpoint "
                                "(press Ctrl-C again to stop at once)\n";
    /* The message is best effort: a failed write must not count as a second Ctrl-C. */
    if (stop_requested == 0) say(first, sizeof first - 1);
    stop_requested = stop_requested < 2 ? stop_requested + 1 : 2;
    alarm(stop_requested == 1 ? FIRST_STOP_DEADLINE_S : SECOND_STOP_DEADLINE_S);
}

/* A deadline passed: mark the run (when it is still open) and end the process now. */
static void on_deadline(int sig) {
    (void)sig;
    static const char marked[] = "prism train: stopped at once (the process did not reach a "
                                 "safe point in time); run.json says interrupted, resume from "
                                 "the last checkpoint\n";
    if (prism_archive_mark_abandoned()) say(marked, sizeof marked - 1);
    _exit(deadline_exit_code);
}

/* The command's outcome is decided: exit with rc, even if a library's exit-time shutdown hangs
 * (OpenBLAS joins worker threads that may spin forever after an out-of-memory). */
static int leave(int rc) {
    fflush(NULL); /* exit flushes only after the destructors, which may be what hangs */
    deadline_exit_code = rc;
    unsigned pending = alarm(EXIT_DEADLINE_S);
    if (pending > 0 && pending < EXIT_DEADLINE_S) alarm(pending); /* a stop's, sooner */
    return rc;
}

/* The synopsis; the help appends every option of the table (cli/args.c). */
static const char *usage = "prism train (ENV | --resume RUN)";

/* The options of cmd_train's table, by index. */
enum {
    O_AGENT,
    O_SEED,
    O_STEPS,
    O_CONFIG,
    O_SET,
    O_RUNS_DIR,
    O_RUN_ID,
    O_PRINT_CONFIG,
    O_QUIET,
    O_JSON,
    O_RESUME,
    O_LABEL,
    O_HEARTBEAT,
    O_THREADS,
    NOPTS
};

/* Seconds between heartbeat lines in a long iteration when stdout is no terminal. */
enum { DEFAULT_HEARTBEAT_S = 30 };

/* A label names the agent in `runs ls` and the report, as a sweep's LABEL=PRESET does: the
 * same characters, so labels from both read alike. */
static bool label_ok(const char *label) {
    size_t n = strlen(label);
    if (n == 0 || n > 63) return false;
    for (const char *p = label; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_.+", *p)) return false;
    return true;
}

/* Resolve the configuration from the parsed options; prints the error and returns an exit
 * code on failure, CLI_OK on success. */
static int resolve(prism_config *c, const char *env_id, cli_opt *opts) {
    const char *agent = cli_value(&opts[O_AGENT], "dqn");
    const prism_env_class *cls;
    prism_status st = prism_env_lookup(env_id, &cls);
    if (st) return cli_fail("train", st, NULL);
    prism_config_defaults(c);
    st = prism_preset_apply(c, agent, env_id);
    if (st) return cli_fail("train", st, "(`prism agents` lists the presets)");
    if (opts[O_CONFIG].count) {
        st = prism_config_load_ini(c, cli_value(&opts[O_CONFIG], ""));
        if (st) return cli_fail("train", st, NULL);
        /* the file may name another env; the command line's ENV wins */
        snprintf(c->env, sizeof c->env, "%s", prism_env_canonical_id(env_id));
    }
    for (int i = 0; i < opts[O_SET].count; i++) {
        const char *kv = opts[O_SET].values[i];
        const char *eq = strchr(kv, '=');
        if (!eq) {
            fprintf(stderr, "prism train: --set needs key=value (got '%s')\n", kv);
            return CLI_USAGE;
        }
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        st = prism_config_set(c, key, eq + 1);
        if (st) return cli_fail("train", st, NULL);
    }
    if (opts[O_LABEL].count) {
        const char *label = cli_value(&opts[O_LABEL], "");
        if (!label_ok(label)) {
            fprintf(stderr,
                    "prism train: --label '%s' must be 1 to 63 letters, digits or - _ . + "
                    "(e.g. --label dqn-lr3e-4)\n",
                    label);
            return CLI_USAGE;
        }
        if ((st = prism_config_set(c, "agent", label))) return cli_fail("train", st, NULL);
    }
    if (opts[O_SEED].count && (st = prism_config_set(c, "seed", cli_value(&opts[O_SEED], ""))))
        return cli_fail("train", st, NULL);
    if (opts[O_STEPS].count &&
        (st = prism_config_set(c, "train.steps", cli_value(&opts[O_STEPS], ""))))
        return cli_fail("train", st, NULL);
    if (opts[O_THREADS].count &&
        (st = prism_config_set(c, "train.threads", cli_value(&opts[O_THREADS], ""))))
        return cli_fail("train", st, NULL);
    if (c->train.iteration_steps > c->train.steps) c->train.iteration_steps = c->train.steps;
    /* PQN has no replay memory: min_replay does not apply to it */
    if (c->agent_cfg.kind == PRISM_AGENT_DQN && c->train.steps <= c->agent_cfg.min_replay)
        fprintf(stderr,
                "prism train: warning: train.steps %lld is not above agent.min_replay %d: "
                "learning starts only once the replay memory holds %d transitions, so this run "
                "learns little or nothing (loss nan until then); give more --steps or --set "
                "agent.min_replay=N with a smaller N\n",
                (long long)c->train.steps, c->agent_cfg.min_replay, c->agent_cfg.min_replay);
    return CLI_OK;
}

/* --heartbeat SECONDS into the options; false (with the message printed) when invalid. */
static bool heartbeat_option(const cli_opt *o, prism_train_options *t) {
    return cli_double("train", o, 0, 86400, DEFAULT_HEARTBEAT_S, &t->heartbeat_s);
}

static void install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_deadline;
    sigaction(SIGALRM, &sa, NULL);
}

/* Map the outcome of a run to a message and an exit code. */
static int report(prism_status st, const char *dir) {
    if (st == PRISM_OK) return CLI_OK;
    if (st == PRISM_ERR_INTERRUPTED) {
        fprintf(stderr,
                "prism train: interrupted; the run is archived in %s (status interrupted)\n"
                "continue it with: prism train --resume %s\n",
                dir, dir);
        return CLI_FAILURE;
    }
    if (st == PRISM_ERR_DIVERGED) {
        fprintf(stderr,
                "prism train: the run diverged: %s\nrun directory: %s\n"
                "Try a smaller agent.lr, agent.grad_clip, or `prism doctor`.\n",
                prism_error_message(), dir);
        return CLI_FAILURE;
    }
    return cli_fail("train", st, dir[0] ? "(the run directory records the failure)" : NULL);
}

/* --resume RUN --steps N: raise the run's budget to N (recorded in run.json), before resuming. */
static int extend(const char *dir, const cli_opt *steps_opt) {
    long long steps;
    if (!cli_int("train", steps_opt, 1, (long long)1 << 50, 0, &steps)) return CLI_USAGE;
    prism_config before;
    prism_status st = prism_run_config_load(dir, &before);
    if (!st) st = prism_run_extend(dir, steps);
    if (st) return cli_fail("train", st, NULL);
    printf("prism train: the budget of %s is now %lld steps (was %lld); run.json records the "
           "extension\n",
           dir, steps, before.train.steps);
    return CLI_OK;
}

static int resume(cli_opt *opts, int npos, int argc, char **argv) {
    for (int i = 0; i < NOPTS; i++)
        if (opts[i].count && i != O_QUIET && i != O_RESUME && i != O_RUNS_DIR && i != O_HEARTBEAT &&
            i != O_STEPS) {
            fprintf(stderr,
                    "prism train: --resume continues a run with its own configuration; "
                    "--%s cannot be combined with it (only --steps, to extend the run's "
                    "budget)\n",
                    opts[i].name);
            return CLI_USAGE;
        }
    if (npos) {
        fprintf(stderr, "prism train: --resume takes no environment (the run directory has one)\n");
        return CLI_USAGE;
    }
    char dir[PRISM_PATH_MAX];
    int rc = cli_find_run("train", cli_value(&opts[O_RESUME], ""),
                          cli_runs_dir(cli_value(&opts[O_RUNS_DIR], "runs")), dir, sizeof dir);
    if (rc) return rc;
    if (opts[O_STEPS].count && (rc = extend(dir, &opts[O_STEPS]))) return rc;
    prism_train_options o = prism_train_options_default();
    o.argc = argc + 2;
    o.argv = argv - 2;
    o.progress_bar = isatty(STDOUT_FILENO) && !opts[O_QUIET].count;
    o.quiet = opts[O_QUIET].count > 0;
    o.stop = &stop_requested;
    if (!heartbeat_option(&opts[O_HEARTBEAT], &o)) return CLI_USAGE;
    install_handlers();
    prism_run_record rec;
    if (prism_run_record_load(dir, &rec) == PRISM_OK && !strcmp(rec.status, "completed")) {
        /* nothing to continue; the library leaves it untouched too */
        printf("prism train: the run in %s is complete (%lld steps); nothing to resume\n", dir,
               rec.steps);
        return CLI_OK;
    }
    prism_config cfg;
    prism_status st = prism_train_resume(dir, &cfg, &o);
    if (st == PRISM_ERR_INVALID && prism_dir_lock_held(dir, NULL, 0))
        return leave(cli_fail("train", st, NULL)); /* the message names the lock's holder */
    if (st == PRISM_ERR_CORRUPT || st == PRISM_ERR_INVALID || st == PRISM_ERR_NOT_FOUND)
        return leave(
            cli_fail("train", st,
                     "(the run was left as it was; checkpoints/ keeps the newest "
                     "train.checkpoint_keep checkpoints: to fall back to an older one, write "
                     "its name into checkpoints/latest)"));
    return leave(report(st, dir));
}

int cmd_train(int argc, char **argv) {
    cli_opt opts[NOPTS] = {
        [O_AGENT] = {.name = "agent",
                     .metavar = "PRESET",
                     .help = "agent preset (default dqn; see `prism agents`); q-iteration and "
                             "q-learning train tabular agents on small MDPs"},
        [O_SEED] = {.name = "seed", .metavar = "N", .help = "run seed (default 0)"},
        [O_STEPS] = {.name = "steps",
                     .metavar = "N",
                     .help = "environment steps (default: the preset's); with --resume, a larger "
                             "budget for the run (an extension, recorded in run.json)"},
        [O_CONFIG] = {.name = "config",
                      .metavar = "FILE",
                      .help = "INI file of settings (e.g. a run's config.ini)"},
        [O_SET] = {.name = "set",
                   .metavar = "KEY=VALUE",
                   .help = "override one setting (repeatable)"},
        [O_RUNS_DIR] = {.name = "runs-dir",
                        .metavar = "DIR",
                        .help = "where run directories go, and where --resume looks up a run id "
                                "(default runs)"},
        [O_RUN_ID] = {.name = "run-id",
                      .metavar = "ID",
                      .help = "name of the run directory (default: generated)"},
        [O_PRINT_CONFIG] = {.name = "print-config",
                            .help = "print the resolved configuration and exit"},
        [O_QUIET] = {.name = "quiet",
                     .help = "no per-iteration lines (still written to stdout.log)"},
        [O_JSON] = {.name = "json", .help = "tabular agents: end with one JSON line"},
        [O_RESUME] = {.name = "resume",
                      .metavar = "RUN",
                      .help = "continue RUN (a run directory, or a run id in --runs-dir) from its "
                              "last checkpoint"},
        [O_LABEL] = {.name = "label",
                     .metavar = "NAME",
                     .help = "the name the agent goes by in `runs ls` and reports (default: the "
                             "preset's; a sweep's LABEL=PRESET sets the same)"},
        [O_HEARTBEAT] = {.name = "heartbeat",
                         .metavar = "S",
                         .help = "a progress line every S seconds within a long iteration when "
                                 "stdout is not a terminal (default 30; 0: none)"},
        [O_THREADS] = {.name = "threads",
                       .metavar = "N",
                       .help = "threads for the network's matrix products (train.threads, default "
                               "1; more needs a `make GEMM=prism` build; the results are the same "
                               "for any N)"},
    };
    char *pos[1];
    int npos;
    /* tabular agents parse their own options */
    for (int i = 0; i + 1 < argc; i++) {
        const char *a = NULL;
        if (!strcmp(argv[i], "--agent")) a = argv[i + 1];
        if (a && train_tabular_handles(a)) return train_tabular(argc, argv);
    }
    for (int i = 0; i < argc; i++)
        if (!strncmp(argv[i], "--agent=", 8) && train_tabular_handles(argv[i] + 8))
            return train_tabular(argc, argv);
    int rc = cli_parse("train", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (opts[O_RESUME].count) return resume(opts, npos, argc, argv);
    if (npos != 1) {
        fprintf(stderr, "prism train: which environment? usage: %s\n(`prism env ls` lists them)\n",
                usage);
        return CLI_USAGE;
    }
    prism_config cfg;
    if ((rc = resolve(&cfg, pos[0], opts))) return rc;
    if (opts[O_PRINT_CONFIG].count) {
        prism_config_write_ini(&cfg, stdout, true);
        return CLI_OK;
    }
    prism_train_options o = prism_train_options_default();
    o.runs_dir = cli_value(&opts[O_RUNS_DIR], "runs");
    o.run_id = cli_value(&opts[O_RUN_ID], NULL);
    o.argc = argc + 2;
    o.argv = argv - 2; /* the whole command line, "prism train" included */
    o.progress_bar = isatty(STDOUT_FILENO) && !opts[O_QUIET].count;
    o.quiet = opts[O_QUIET].count > 0;
    o.stop = &stop_requested;
    if (!heartbeat_option(&opts[O_HEARTBEAT], &o)) return CLI_USAGE;
    install_handlers();
    char dir[1024];
    return leave(report(prism_train(&cfg, &o, dir, sizeof dir), dir));
}
