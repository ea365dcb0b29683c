/* prism sweep — agents x environments x seeds (flags, a sweep file or a named study), run by a
 * pool of local worker processes or submitted to Slurm as a job array, then one report.
 * Option handling, the progress display and signals; the work is in src/run/sweep*.c. */
#include "cli.h"
#include "prism/dir_lock.h"
#include "prism/json.h"
#include "prism/report.h"
#include "prism/sweep.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    static const char first[] = "\nprism sweep: stopping: every run checkpoints at the end of its "
                                "episode (press Ctrl-C again to stop at once)\n";
    if (stop_requested == 0 && write(STDERR_FILENO, first, sizeof first - 1) < 0)
        stop_requested = 1;
    stop_requested = stop_requested < 2 ? stop_requested + 1 : 2;
}

static void install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the worker loop polls anyway */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a hangup (an SSH disconnect) stops the sweep like Ctrl-C: the workers are told and
     * checkpoint; unless the sweep was started under nohup, which asked for the opposite */
    struct sigaction old;
    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
}

static const char *usage =
    "prism sweep [STUDY] [--agents A,B] [--envs E,F] [--seeds N] [--seed-start S] [--steps N] "
    "[--set key=value ...] [--file FILE] [-j N] [--no-report] [--name NAME] [--sweeps-dir DIR] "
    "[--slurm [--dry-run] "
    "[--partition P] [--time T] [--max-parallel K]] | prism sweep --resume DIR | prism sweep "
    "--list";

enum {
    O_AGENTS,
    O_ENVS,
    O_SEEDS,
    O_SEED_START,
    O_STEPS,
    O_SET,
    O_FILE,
    O_JOBS,
    O_SWEEPS_DIR,
    O_NAME,
    O_RESUME,
    O_NO_REPORT,
    O_DRY_RUN,
    O_SLURM,
    O_PARTITION,
    O_TIME,
    O_MAX_PARALLEL,
    O_LIST,
    NOPTS
};

static void fmt_time(double s, char *out, size_t cap) {
    if (s < 0) {
        snprintf(out, cap, "--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
}

typedef struct display {
    bool tty;
    bool line_shown; /* a live line is on screen (tty) */
} display;

/* The progress display: on a terminal, event lines scroll above one live status line; in a
 * log (not a terminal), one plain line per event and nothing per tick. */
static void on_progress(void *ctx, const prism_sweep_progress *p) {
    display *d = ctx;
    const prism_sweep_counts *c = &p->counts;
    char el[32], eta[32], status[200];
    fmt_time(p->elapsed_s, el, sizeof el);
    fmt_time(p->eta_s, eta, sizeof eta);
    snprintf(status, sizeof status, "%d/%d done, %d running, %d failed, elapsed %s, ETA %s",
             c->completed, c->total, c->running, c->failed, el, eta);
    if (d->tty && d->line_shown) printf("\r\033[K");
    if (p->event) {
        if (p->run) {
            char took[64] = "";
            if (strcmp(p->event, "started") && strcmp(p->event, "resumed"))
                snprintf(took, sizeof took, " after %.1fs (cpu %.1fs)", p->run->duration_s,
                         p->run->cpu_s);
            /* failures and retries say why */
            bool why = p->run->message[0] &&
                       (!strcmp(p->event, "failed") || !strcmp(p->event, "retrying") ||
                        !strcmp(p->event, "waiting"));
            if (!d->tty || strcmp(p->event, "started"))
                printf("%-11s %s%s%s%s\n", p->event, p->run->id, took, why ? ": " : "",
                       why ? p->run->message : "");
        } else
            printf("%s\n", p->event);
        if (!d->tty) printf("  [%s]\n", status);
    }
    if (d->tty) {
        printf("[sweep] %s", status);
        d->line_shown = true;
    }
    fflush(stdout);
}

static void end_display(display *d) {
    if (d->tty && d->line_shown) printf("\n");
    d->line_shown = false;
}

static int list_studies(void) {
    for (int i = 0; prism_sweep_study_name(i); i++) {
        const char *agents, *envs, *settings;
        prism_sweep_study(prism_sweep_study_name(i), &agents, &envs, &settings);
        printf("%-28s %s\n%-28s   agents: %s\n%-28s   envs:   %s\n", prism_sweep_study_name(i),
               prism_sweep_study_summary(i), "", agents, "", envs);
    }
    return CLI_OK;
}

/* Write the report of the sweep's completed runs; prints its path last. */
static int write_report(const char *dir) {
    char runs[4200], html[4200];
    snprintf(runs, sizeof runs, "%s/runs", dir);
    snprintf(html, sizeof html, "%s/report.html", dir);
    prism_report_options ro = prism_report_options_default();
    prism_report_summary sum;
    const char *dirs[] = {runs};
    prism_status st = prism_report_write(dirs, 1, html, &ro, &sum);
    if (st) return cli_fail("sweep", st, "the runs stay archived; `prism report DIR/runs` retries");
    printf("report: %d run%s used (%d environment%s, %d agent%s); data files beside it\n",
           sum.runs_included, sum.runs_included == 1 ? "" : "s", sum.envs, sum.envs == 1 ? "" : "s",
           sum.agents, sum.agents == 1 ? "" : "s");
    printf("%s\n", html);
    return CLI_OK;
}

static const char *self_exe(char *buf, size_t cap) {
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0) return NULL;
    buf[n] = 0;
    return buf;
}

/* On --resume --slurm: the report job of the previous submission waits on an array that
 * failed (afterok can no longer be met), so cancel it; the new submission brings its own. */
static void cancel_old_report_job(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    prism_json_value *v = NULL;
    if (prism_json_parse_file(path, &v) != PRISM_OK) return;
    long long id = (long long)prism_json_get_number(v, "slurm_report_job", 0);
    prism_json_value_free(v);
    if (id <= 0) return;
    char arg[32], out[1024];
    snprintf(arg, sizeof arg, "%lld", id);
    char *argv[] = {(char *)"scancel", arg, NULL};
    int code;
    if (prism_sweep_capture(argv, out, sizeof out, &code) == PRISM_OK && code == 0)
        printf("cancelled the previous report job %lld\n", id);
}

/* Submitting rewrites sweep.json and the scripts: not while a local sweep runs in DIR (or
 * another submission), so the caller holds the sweep directory's lock, as for a local run. */
static int submit_slurm_locked(prism_sweep *s, const char *dir, cli_opt *opts) {
    char exe[PATH_MAX], absdir[PATH_MAX];
    if (!self_exe(exe, sizeof exe)) {
        fprintf(stderr, "prism sweep: cannot find this binary's path (/proc/self/exe)\n");
        return CLI_FAILURE;
    }
    if (!realpath(dir, absdir)) snprintf(absdir, sizeof absdir, "%s", dir);
    long long maxp;
    if (!cli_int("sweep", &opts[O_MAX_PARALLEL], 1, 100000, 16, &maxp)) return CLI_USAGE;
    prism_sweep_slurm_options so = {.exe = exe,
                                    .partition = cli_value(&opts[O_PARTITION], NULL),
                                    .time = cli_value(&opts[O_TIME], NULL),
                                    .max_parallel = (int)maxp,
                                    .grace_s = 120};
    char array[4096];
    prism_status st = prism_sweep_slurm_write(s, absdir, &so, array, sizeof array);
    if (st) return cli_fail("sweep", st, NULL);
    char a_path[PATH_MAX + 32], r_path[PATH_MAX + 32];
    snprintf(a_path, sizeof a_path, "%s/slurm/array.sbatch", absdir);
    snprintf(r_path, sizeof r_path, "%s/slurm/report.sbatch", absdir);
    if (opts[O_DRY_RUN].count) {
        printf("dry run: wrote %s (array %s, at most %lld at once) and %s\n", a_path, array, maxp,
               r_path);
        printf("submit with:\n  jid=$(sbatch --parsable %s)\n"
               "  sbatch --dependency=afterok:${jid%%%%;*} %s\n",
               a_path, r_path);
        prism_sweep_write_status(s, absdir, "created", "\"backend\": \"slurm\"");
        printf("%s/report.html\n", absdir);
        return CLI_OK;
    }
    if (opts[O_RESUME].count) cancel_old_report_job(absdir);
    char out[4096];
    int code;
    char *a_argv[] = {(char *)"sbatch", (char *)"--parsable", a_path, NULL};
    st = prism_sweep_capture(a_argv, out, sizeof out, &code);
    if (st) return cli_fail("sweep", st, "install Slurm's client tools, or use --dry-run");
    char *end;
    long long jid = strtoll(out, &end, 10);
    if (code != 0 || end == out || jid <= 0) {
        fprintf(stderr, "prism sweep: sbatch failed (exit %d): %s\nscript: %s\n", code, out,
                a_path);
        return CLI_FAILURE;
    }
    char dep[64];
    snprintf(dep, sizeof dep, "--dependency=afterok:%lld", jid);
    char *r_argv[] = {(char *)"sbatch", (char *)"--parsable", dep, r_path, NULL};
    st = prism_sweep_capture(r_argv, out, sizeof out, &code);
    long long rid = st ? -1 : strtoll(out, &end, 10);
    if (st || code != 0 || rid <= 0) {
        fprintf(stderr,
                "prism sweep: the array job %lld is submitted, but submitting the report job "
                "failed: %s\nsubmit it by hand: sbatch %s %s\n",
                jid, st ? prism_error_message() : out, dep, r_path);
        return CLI_FAILURE;
    }
    char extra[256];
    snprintf(extra, sizeof extra,
             "\"backend\": \"slurm\", \"slurm_array_job\": %lld, \"slurm_report_job\": %lld", jid,
             rid);
    if ((st = prism_sweep_write_status(s, absdir, "submitted", extra)))
        return cli_fail("sweep", st, NULL);
    printf("submitted array job %lld (tasks %s, at most %lld at once) and report job %lld "
           "(after it succeeds)\n",
           jid, array, maxp, rid);
    printf("follow with: squeue -j %lld,%lld; continue what is left with: prism sweep --resume "
           "%s --slurm\n",
           jid, rid, absdir);
    printf("%s/report.html\n", absdir);
    return CLI_OK;
}

/* The sweep in dir, whose lock the caller holds, run here. */
static int run_local_locked(prism_sweep *s, const char *dir, cli_opt *opts) {
    long long jobs;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!cli_int("sweep", &opts[O_JOBS], 1, 1024, cores > 0 ? cores : 1, &jobs)) return CLI_USAGE;
    prism_sweep_counts c0 = prism_sweep_count(s);
    printf("sweep %s: %d run%s (%d already completed), %lld worker%s\n", dir, c0.total,
           c0.total == 1 ? "" : "s", c0.completed, jobs, jobs == 1 ? "" : "s");
    fflush(stdout);
    display d = {.tty = isatty(STDOUT_FILENO) != 0};
    prism_sweep_local_options o = prism_sweep_local_options_default();
    o.jobs = (int)jobs;
    o.exe = "/proc/self/exe";
    o.stop = &stop_requested;
    o.progress = on_progress;
    o.ctx = &d;
    o.lock_held = true;
    install_handlers();
    prism_status st = prism_sweep_run_local(s, dir, &o);
    end_display(&d);
    prism_sweep_counts c = prism_sweep_count(s);
    if (st == PRISM_ERR_INTERRUPTED) {
        fprintf(stderr, "prism sweep: %s\n", prism_error_message());
        return CLI_FAILURE;
    }
    if (st) return cli_fail("sweep", st, NULL);
    printf("sweep done: %d completed, %d failed\n", c.completed, c.failed);
    for (int i = 0; i < s->nruns; i++)
        if (s->runs[i].state == PRISM_SWEEP_FAILED)
            printf("  failed: %s: %s\n", s->runs[i].id, s->runs[i].message);
    int rc = c.failed ? CLI_FAILURE : CLI_OK;
    if (opts[O_NO_REPORT].count) {
        printf("%s\n", dir);
        return rc;
    }
    if (c.completed == 0) {
        fprintf(stderr, "prism sweep: no run completed, so there is no report\n");
        return CLI_FAILURE;
    }
    int rrc = write_report(dir);
    return rrc ? rrc : rc;
}

static int resume(cli_opt *opts, int npos) {
    const int allowed[] = {O_JOBS,    O_NO_REPORT, O_RESUME, O_SLURM,
                           O_DRY_RUN, O_PARTITION, O_TIME,   O_MAX_PARALLEL};
    for (int i = 0; i < NOPTS; i++) {
        bool ok = false;
        for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++) ok |= allowed[k] == i;
        if (!ok && opts[i].count) {
            fprintf(stderr,
                    "prism sweep: --resume continues a sweep with its own manifest; --%s cannot "
                    "be combined with it\n",
                    opts[i].name);
            return CLI_USAGE;
        }
    }
    if (npos) {
        fprintf(stderr, "prism sweep: --resume takes no study (the sweep directory has one)\n");
        return CLI_USAGE;
    }
    const char *dir = cli_value(&opts[O_RESUME], "");
    /* read once to say what is wrong with a directory that is not a sweep; then again under
     * the lock: a sweep still running there (or being created) is refused, never joined */
    prism_sweep s;
    prism_status st = prism_sweep_open(&s, dir);
    if (st) return cli_fail("sweep", st, NULL);
    prism_sweep_free(&s);
    prism_dir_lock lock;
    if ((st = prism_dir_lock_acquire(&lock, dir))) return cli_fail("sweep", st, NULL);
    if ((st = prism_sweep_open(&s, dir))) {
        prism_dir_lock_release(&lock);
        return cli_fail("sweep", st, NULL);
    }
    prism_sweep_counts c = prism_sweep_count(&s);
    printf("resuming %s: %d completed, %d interrupted (continued from their checkpoints), %d "
           "failed, %d not started\n",
           dir, c.completed, c.interrupted, c.failed, c.pending);
    int rc =
        opts[O_SLURM].count ? submit_slurm_locked(&s, dir, opts) : run_local_locked(&s, dir, opts);
    prism_dir_lock_release(&lock);
    prism_sweep_free(&s);
    return rc;
}

/* Build the manifest from a study, a file or the flags. */
static int build(prism_sweep *s, cli_opt *opts, char **pos, int npos) {
    long long nseeds, steps;
    uint64_t seed_start;
    if (!cli_int("sweep", &opts[O_SEEDS], 1, PRISM_SWEEP_MAX_SEEDS, 3, &nseeds)) return CLI_USAGE;
    if (!cli_u64("sweep", &opts[O_SEED_START], 0, &seed_start)) return CLI_USAGE;
    if (!cli_int("sweep", &opts[O_STEPS], 1, (long long)1 << 40, 0, &steps)) return CLI_USAGE;
    int sources = (npos > 0) + (opts[O_FILE].count > 0) + (opts[O_AGENTS].count > 0);
    if (sources != 1) {
        fprintf(stderr,
                "prism sweep: say what to run: a study (`prism sweep --list`), --file FILE, or "
                "--agents A,B --envs E,F (exactly one of them)\nusage: %s\n",
                usage);
        return CLI_USAGE;
    }
    const char *name = cli_value(&opts[O_NAME], NULL);
    const char *agents = cli_value(&opts[O_AGENTS], NULL), *envs = cli_value(&opts[O_ENVS], NULL);
    const char *study_settings = "";
    if (npos) {
        if (!prism_sweep_study(pos[0], &agents, &envs, &study_settings)) {
            fprintf(stderr, "prism sweep: unknown study '%s'; the studies are:\n", pos[0]);
            for (int i = 0; prism_sweep_study_name(i); i++)
                fprintf(stderr, "  %s\n", prism_sweep_study_name(i));
            return CLI_USAGE;
        }
        /* --agents/--envs narrow a study are not supported: a study is what it names */
        if (opts[O_ENVS].count) {
            fprintf(stderr, "prism sweep: a study names its own environments; use --agents A "
                            "--envs E without a study to choose them\n");
            return CLI_USAGE;
        }
        if (!name) name = pos[0];
    } else if (opts[O_AGENTS].count && !envs) {
        fprintf(stderr, "prism sweep: --agents needs --envs (e.g. --envs CartPole-v0)\n");
        return CLI_USAGE;
    } else if (opts[O_ENVS].count && !agents) {
        fprintf(stderr, "prism sweep: --envs needs --agents (e.g. --agents dqn,rainbow)\n");
        return CLI_USAGE;
    }
    if (!name) name = opts[O_FILE].count ? "file" : "sweep";
    prism_sweep_init(s, name);
    s->steps = steps;
    prism_status st = PRISM_OK;
    char buf[PRISM_SWEEP_SETTINGS_MAX];
    snprintf(buf, sizeof buf, "%s", study_settings);
    for (char *p = strtok(buf, " "); p && !st; p = strtok(NULL, " "))
        st = prism_sweep_add_setting(s, p);
    for (int i = 0; i < opts[O_SET].count && !st; i++)
        st = prism_sweep_add_setting(s, opts[O_SET].values[i]);
    if (!st) {
        if (opts[O_FILE].count)
            st = prism_sweep_load_file(s, cli_value(&opts[O_FILE], ""), seed_start, (int)nseeds);
        else
            st = prism_sweep_add_grid(s, agents, envs, seed_start, (int)nseeds);
    }
    if (!st) st = prism_sweep_validate(s);
    if (st) return cli_fail("sweep", st, NULL);
    return CLI_OK;
}

int cmd_sweep(int argc, char **argv) {
    cli_opt opts[NOPTS] = {
        [O_AGENTS] = {.name = "agents",
                      .metavar = "A,B",
                      .help = "agent presets, comma separated (LABEL=PRESET names a variant)"},
        [O_ENVS] = {.name = "envs",
                    .metavar = "E,F",
                    .help = "environments, comma separated (`prism env ls`)"},
        [O_SEEDS] = {.name = "seeds",
                     .metavar = "N",
                     .help = "seeds per agent and env (default 3)"},
        [O_SEED_START] = {.name = "seed-start", .metavar = "S", .help = "first seed (default 0)"},
        [O_STEPS] = {.name = "steps",
                     .metavar = "N",
                     .help = "environment steps per run (default: each preset's)"},
        [O_SET] = {.name = "set",
                   .metavar = "KEY=VALUE",
                   .help = "a setting for every run (repeatable; `prism agents keys`)"},
        [O_FILE] = {.name = "file",
                    .metavar = "FILE",
                    .help = "sweep file: AGENT ENV [SEEDS] [key=value ...] per line "
                            "(docs/sweeps.md)"},
        [O_JOBS] = {.name = "j",
                    .metavar = "N",
                    .help = "worker processes (default: the number of cores)"},
        [O_SWEEPS_DIR] = {.name = "sweeps-dir",
                          .metavar = "DIR",
                          .help = "where sweep directories go (default sweeps)"},
        [O_NAME] = {.name = "name",
                    .metavar = "NAME",
                    .help = "sweep name (default: the study, or 'sweep')"},
        [O_RESUME] = {.name = "resume",
                      .metavar = "DIR",
                      .help = "continue the sweep in DIR (completed runs are skipped)"},
        [O_NO_REPORT] = {.name = "no-report", .help = "do not write the report at the end"},
        [O_DRY_RUN] = {.name = "dry-run",
                       .help = "list the runs (local) or write the Slurm scripts without "
                               "submitting them (--slurm)"},
        [O_SLURM] = {.name = "slurm", .help = "submit a Slurm job array instead of running here"},
        [O_PARTITION] = {.name = "partition", .metavar = "P", .help = "Slurm partition"},
        [O_TIME] = {.name = "time",
                    .metavar = "T",
                    .help = "Slurm time limit per run (e.g. 2:00:00)"},
        [O_MAX_PARALLEL] = {.name = "max-parallel",
                            .metavar = "K",
                            .help = "Slurm: at most K runs at once (default 16)"},
        [O_LIST] = {.name = "list", .help = "list the named studies"},
    };
    char *pos[2];
    int npos;
    int rc = cli_parse("sweep", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (opts[O_LIST].count) return list_studies();
    if (opts[O_RESUME].count) return resume(opts, npos);
    const bool slurm = opts[O_SLURM].count > 0;
    if (!slurm) {
        const int slurm_only[] = {O_PARTITION, O_TIME, O_MAX_PARALLEL};
        for (size_t i = 0; i < 3; i++)
            if (opts[slurm_only[i]].count) {
                fprintf(stderr, "prism sweep: --%s is a Slurm option; add --slurm\n",
                        opts[slurm_only[i]].name);
                return CLI_USAGE;
            }
    } else if (opts[O_JOBS].count) {
        fprintf(stderr, "prism sweep: -j sets local workers; with --slurm use --max-parallel\n");
        return CLI_USAGE;
    }
    prism_sweep s;
    memset(&s, 0, sizeof s);
    if ((rc = build(&s, opts, pos, npos))) {
        prism_sweep_free(&s);
        return rc;
    }
    if (opts[O_DRY_RUN].count && !slurm) {
        printf("%d runs (id, agent, preset, env, seed, settings):\n", s.nruns);
        for (int i = 0; i < s.nruns; i++) {
            char all[PRISM_SWEEP_SETTINGS_MAX * 2];
            if (prism_sweep_run_settings(&s, &s.runs[i], all, sizeof all)) all[0] = 0;
            printf("%s\t%s\t%s\t%s\t%llu\t%s\n", s.runs[i].id, s.runs[i].agent, s.runs[i].preset,
                   s.runs[i].env, (unsigned long long)s.runs[i].seed, all);
        }
        prism_sweep_free(&s);
        return CLI_OK;
    }
    char dir[4096];
    prism_dir_lock lock;
    prism_status st = prism_sweep_create_dir(&s, cli_value(&opts[O_SWEEPS_DIR], "sweeps"), argc + 2,
                                             argv - 2, dir, sizeof dir, &lock);
    if (st) {
        prism_sweep_free(&s);
        return cli_fail("sweep", st, "choose another --sweeps-dir");
    }
    rc = slurm ? submit_slurm_locked(&s, dir, opts) : run_local_locked(&s, dir, opts);
    prism_dir_lock_release(&lock);
    prism_sweep_free(&s);
    return rc;
}
