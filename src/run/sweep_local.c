/* src/run/sweep_local.c — the local backend (prism/sweep.h): a pool of child `prism train`
 * processes, up to o->jobs at once, one per run, each in its own process group with its output
 * in DIR/logs/ID.log. The pool holds the sweep directory's lock while it runs. When a child
 * ends, its exit and its run directory say what happened (classify_exit), the retry policy
 * says whether a failed run gets another attempt (retry_policy), and sweep.json is rewritten
 * after every event.
 *
 * A child's command line comes from sweep_train_args (sweep.c), the builder the Slurm script
 * uses too. */
#define _POSIX_C_SOURCE 200809L
#include "sweep_internal.h"

#include "prism/dir_lock.h"
#include "prism/file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

prism_sweep_local_options prism_sweep_local_options_default(void) {
    prism_sweep_local_options o = {.jobs = 1, .exe = "/proc/self/exe"};
    return o;
}

typedef struct worker {
    pid_t pid;    /* 0: a free slot */
    int run;      /* index into s->runs */
    double start; /* prism_now() at start */
} worker;

/* One call of prism_sweep_run_local. */
typedef struct pool {
    prism_sweep *s;
    const char *dir;
    const prism_sweep_local_options *o;
    prism_dir_lock lock;
    worker *w;        /* (o->jobs) */
    int running;      /* children alive */
    int forwarded;    /* the stop level forwarded to the children so far (0: none) */
    int next;         /* runs before it are started or done (a retry moves it back) */
    double t0;        /* prism_now() when this call started */
    double last_tick; /* when the last periodic progress went out */
    double done_time; /* wall time of the runs completed in this call ... */
    int done_count;   /* ... and how many they are (for the ETA) */
    prism_status st;  /* a setup failure: the pool stops, its children checkpoint */
} pool;

/* Move a failed or unusable run directory aside (to failed/<id>.<k>) so a fresh attempt can
 * take its id. */
static prism_status move_aside(const char *dir, const char *id) {
    char from[PRISM_PATH_MAX], to[PRISM_PATH_MAX];
    prism_status st = sweep_pathf(from, sizeof from, "%s/runs/%s", dir, id);
    if (st || !sweep_file_exists(from)) return st;
    for (int k = 1; k < 1000; k++) {
        if ((st = sweep_pathf(to, sizeof to, "%s/failed/%s.%d", dir, id, k))) return st;
        if (sweep_file_exists(to)) continue;
        if (rename(from, to) == 0) return PRISM_OK;
        return prism_error(PRISM_ERR_IO, "cannot move %s to %s: %s", from, to, strerror(errno));
    }
    return prism_error(PRISM_ERR_IO, "too many failed attempts of %s under %s/failed", id, dir);
}

/* Fork and exec exe with argv, its stdin /dev/null and its output appended to log; returns its
 * pid or -1 (with prism_error set). */
static pid_t start_child(const char *exe, char *const *argv, const char *log) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) {
        prism_error(PRISM_ERR_IO, "cannot open %s: %s", log, strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t sweep_pid = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        prism_error(PRISM_ERR_IO, "cannot start a worker process: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* A worker dies with its sweep: however the sweep ends (SIGKILL included), the kernel
         * sends the worker SIGTERM, which makes it checkpoint at the end of its episode and
         * stop, so no orphan goes on writing a run that `sweep --resume` would start again.
         * If the sweep died before this line, getppid() is no longer it: stop right here. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != sweep_pid) _exit(1);
        /* own process group: the terminal's Ctrl-C reaches only the sweep, which forwards it
         * exactly once per press (two deliveries would stop the child without a checkpoint) */
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(exe, argv);
        dprintf(STDERR_FILENO, "prism sweep: cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also from the parent, so a signal sent right away finds the group */
    close(fd);
    return pid;
}

/* A run's command line holds fewer words than this, as the fixed array it was once built in
 * did: 72 settings at most. More fail to start. (prism train itself takes at most 64 --set.) */
enum { MAX_WORDS = 160 };

/* Start one child for run r (from its checkpoint when resume); returns its pid or -1 (with
 * prism_error set). */
static pid_t spawn(const prism_sweep *s, const prism_sweep_run *r, const char *dir, const char *exe,
                   bool resume) {
    /* the longest path of the child's (DIR/runs and DIR/runs/ID are shorter) */
    char log[PRISM_PATH_MAX];
    if (sweep_pathf(log, sizeof log, "%s/logs/%s.log", dir, r->id)) return -1;
    sweep_argv a;
    prism_status st = sweep_run_train_args(s, r, dir, resume, &a);
    if (!st && a.argc >= MAX_WORDS)
        st = prism_error(PRISM_ERR_INVALID, "run %s has too many settings", r->id);
    pid_t pid = st ? -1 : start_child(exe, a.argv, log);
    sweep_argv_free(&a); /* the child has its own copy */
    return pid;
}

/* Report progress: the counts, the elapsed time and an ETA, with the run and event (NULL, NULL
 * for the periodic tick). */
static void emit(const pool *p, const prism_sweep_run *r, const char *event) {
    const prism_sweep_local_options *o = p->o;
    if (!o->progress) return;
    prism_sweep_progress pr = {.counts = prism_sweep_count(p->s), .run = r, .event = event};
    pr.elapsed_s = prism_now() - p->t0;
    pr.eta_s = -1;
    if (p->done_count > 0) {
        /* mean wall time of the runs finished in this invocation, spread over the workers */
        double per_run = p->done_time / p->done_count;
        int left = pr.counts.pending + pr.counts.running + pr.counts.interrupted;
        int jobs = o->jobs < left ? o->jobs : left;
        if (jobs < 1) jobs = 1;
        pr.eta_s = per_run * (double)left / (double)jobs;
    }
    o->progress(o->ctx, &pr);
}

/* Runs that another process still writes (a worker of an earlier sweep that has not finished
 * its last checkpoint, or a `prism train --resume` started by hand): starting them again would
 * make a second writer (refused by the run's lock) or move the directory from under the first.
 * Wait until each lets go, then take its state afresh from run.json. PRISM_ERR_INTERRUPTED when
 * a stop is requested while waiting. */
static prism_status wait_for_writers(pool *p) {
    prism_sweep *s = p->s;
    const char *dir = p->dir;
    for (int i = 0; i < s->nruns; i++) {
        prism_sweep_run *r = &s->runs[i];
        char run_dir[PRISM_PATH_MAX], who[320];
        if (r->state == PRISM_SWEEP_COMPLETED) continue;
        prism_status st = sweep_pathf(run_dir, sizeof run_dir, "%s/runs/%s", dir, r->id);
        if (st) return st;
        if (!prism_dir_lock_held(run_dir, who, sizeof who)) continue;
        snprintf(r->message, sizeof r->message, "waiting for %s, which still writes it", who);
        emit(p, r, "waiting");
        while (prism_dir_lock_held(run_dir, NULL, 0)) {
            if (p->o->stop && *p->o->stop)
                return prism_error(PRISM_ERR_INTERRUPTED,
                                   "stopped while %s still wrote %s; continue with: prism sweep "
                                   "--resume %s",
                                   who, run_dir, dir);
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        r->message[0] = 0;
        sweep_refresh_state(dir, r);
    }
    return PRISM_OK;
}

/* Acquiring the lock: one sweep process per directory, since two would start the same runs
 * twice. The lock goes with the process and is not inherited by the workers
 * (prism/dir_lock.h). Then the worker table. On failure nothing is held. */
static prism_status pool_open(pool *p, prism_sweep *s, const char *dir,
                              const prism_sweep_local_options *o) {
    memset(p, 0, sizeof *p);
    p->s = s, p->dir = dir, p->o = o;
    prism_status st = o->lock_held ? PRISM_OK : prism_dir_lock_acquire(&p->lock, dir);
    if (st) return st;
    p->w = prism_calloc((size_t)o->jobs, sizeof *p->w);
    if (!p->w) {
        prism_dir_lock_release(&p->lock);
        return prism_error(PRISM_ERR_NOMEM, "out of memory for %d workers", o->jobs);
    }
    p->t0 = p->last_tick = prism_now();
    return PRISM_OK;
}

/* The retry policy: whether run r, whose failed attempts r->failures counts, gets another.
 * A diverged run or a configuration prism train rejected (exit 2) would repeat exactly: same
 * seed, same result. Anything else (a crash, an I/O error) is retried until
 * PRISM_SWEEP_MAX_FAILURES attempts have failed, but not while the sweep is stopping.
 * exit_code -1: killed by a signal, or not known (a run left failed by an earlier call). */
static bool retry_policy(const prism_sweep_run *r, bool diverged, int exit_code, bool stopping) {
    return !diverged && exit_code != 2 && r->failures < PRISM_SWEEP_MAX_FAILURES && !stopping;
}

/* Runs left failed by an earlier call get their retry now, if the retry policy allows it. */
static void retry_earlier_failures(pool *p) {
    for (int i = 0; i < p->s->nruns && !p->st; i++) {
        prism_sweep_run *r = &p->s->runs[i];
        bool diverged;
        char why[256];
        if (r->state != PRISM_SWEEP_FAILED) continue;
        sweep_run_dir_state(p->dir, r->id, &diverged, why, sizeof why);
        if (!retry_policy(r, diverged, -1, false)) continue;
        if ((p->st = move_aside(p->dir, r->id))) break;
        r->state = PRISM_SWEEP_PENDING;
    }
}

/* Forward each new stop request to every child's process group, once (a second delivery of
 * one request would stop a child before its checkpoint). Returns the stop level: 0 while no
 * stop is requested. */
static int forward_stop(pool *p) {
    int level = p->o->stop ? (int)*p->o->stop : 0;
    if (level > p->forwarded) {
        for (int k = 0; k < p->o->jobs; k++)
            if (p->w[k].pid > 0) kill(-p->w[k].pid, SIGINT);
        if (p->forwarded == 0) emit(p, NULL, "stopping");
        p->forwarded = level;
    }
    return level;
}

/* Start runs in manifest order while a worker is free and no stop is requested: pending ones
 * from scratch (a stale partial directory moved aside first), interrupted ones from their
 * checkpoint. A failure to start one is a setup failure (p->st). */
static void start_what_fits(pool *p, int level) {
    prism_sweep *s = p->s;
    while (level == 0 && p->running < p->o->jobs) {
        while (p->next < s->nruns && s->runs[p->next].state != PRISM_SWEEP_PENDING &&
               s->runs[p->next].state != PRISM_SWEEP_INTERRUPTED)
            p->next++;
        if (p->next >= s->nruns) break;
        prism_sweep_run *r = &s->runs[p->next];
        bool resume = r->state == PRISM_SWEEP_INTERRUPTED;
        if (!resume && (p->st = move_aside(p->dir, r->id))) break; /* a stale partial dir */
        pid_t pid = spawn(s, r, p->dir, p->o->exe, resume);
        if (pid < 0) {
            p->st = PRISM_ERR_IO;
            break;
        }
        int k = 0;
        while (p->w[k].pid > 0) k++;
        p->w[k] = (worker){.pid = pid, .run = p->next, .start = prism_now()};
        r->state = PRISM_SWEEP_RUNNING;
        p->running++;
        prism_status io_error = prism_sweep_write_status(s, p->dir, "running", NULL);
        if (io_error) p->st = io_error;
        emit(p, r, resume ? "resumed" : "started");
        p->next++;
    }
}

/* Exit classification: what the attempt of r that just ended says, from how its child ended
 * (ws, as wait4 gives it) and what its run directory says (ds, and why: run.json's status and
 * message). Completed: the directory says so and the child exited 0 (the message is cleared).
 * While the sweep is stopping, a run stopped with a checkpoint is interrupted, one stopped
 * before its first checkpoint pending. Anything else failed: r->message says how (a signal, a
 * rejected configuration, an exit code with run.json's status) and where to look. */
static prism_sweep_state classify_exit(prism_sweep_run *r, int ws, prism_sweep_state ds,
                                       const char *why, bool stopping) {
    int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    if (ds == PRISM_SWEEP_COMPLETED && code == 0) {
        r->message[0] = 0;
        return PRISM_SWEEP_COMPLETED;
    }
    if (stopping && (ds == PRISM_SWEEP_INTERRUPTED || ds == PRISM_SWEEP_PENDING)) return ds;
    if (WIFSIGNALED(ws))
        snprintf(r->message, sizeof r->message, "killed by signal %d (%s); see logs/%s.log",
                 WTERMSIG(ws), strsignal(WTERMSIG(ws)), r->id);
    else if (code == 2)
        snprintf(r->message, sizeof r->message,
                 "prism train rejected the configuration (exit 2); see logs/%s.log", r->id);
    else
        snprintf(r->message, sizeof r->message, "exit %d, run %s; see logs/%s.log", code,
                 why[0] ? why : "without run.json", r->id);
    return PRISM_SWEEP_FAILED;
}

/* Reaping: take one ended child, if any (without blocking; when none has ended, sleep 50 ms
 * and send the periodic progress). Its run gets its wall and CPU time and its next state from
 * the exit classification and, for a failed attempt, the retry policy (a retried run is
 * pending again, its directory moved to failed/); then sweep.json is rewritten and the event
 * reported. */
static void reap(pool *p) {
    int ws;
    struct rusage ru;
    /* wait4 for the child's CPU time: a load-independent measure of a run's cost */
    pid_t pid = wait4(-1, &ws, WNOHANG, &ru);
    if (pid < 0 && errno != EINTR && errno != ECHILD) {
        p->st = prism_error(PRISM_ERR_IO, "waiting for workers failed: %s", strerror(errno));
        return;
    }
    if (pid <= 0) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (prism_now() - p->last_tick >= 1.0) {
            p->last_tick = prism_now();
            emit(p, NULL, NULL);
        }
        return;
    }
    int k = 0;
    while (k < p->o->jobs && p->w[k].pid != pid) k++;
    if (k == p->o->jobs) return; /* not ours */
    int run = p->w[k].run;
    prism_sweep_run *r = &p->s->runs[run];
    double took = prism_now() - p->w[k].start;
    p->w[k].pid = 0;
    p->running--;
    r->duration_s = took;
    r->cpu_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
               (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    bool diverged, stopping = p->forwarded != 0;
    char why[200];
    prism_sweep_state ds = sweep_run_dir_state(p->dir, r->id, &diverged, why, sizeof why);
    prism_sweep_state next = classify_exit(r, ws, ds, why, stopping);
    const char *event;
    if (next == PRISM_SWEEP_COMPLETED) {
        p->done_time += took, p->done_count++;
        event = "completed";
    } else if (next != PRISM_SWEEP_FAILED) {
        event = "interrupted";
    } else {
        r->failures++;
        bool retry = retry_policy(r, diverged, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, stopping);
        if (retry && (p->st = move_aside(p->dir, r->id))) retry = false;
        next = retry ? PRISM_SWEEP_PENDING : PRISM_SWEEP_FAILED;
        if (retry && run < p->next) p->next = run;
        event = retry ? "retrying" : "failed";
    }
    r->state = next;
    prism_status io_error = prism_sweep_write_status(p->s, p->dir, "running", NULL);
    if (io_error) p->st = io_error;
    emit(p, r, event);
}

/* After a setup failure (p->st): stop the children started, which checkpoint, and record them
 * as interrupted; sweep.json says interrupted or failed; the lock is given up. Returns p->st
 * with its message. */
static prism_status pool_abort(pool *p) {
    char msg[1024];
    sweep_copy_str(msg, sizeof msg, prism_error_message());
    for (int k = 0; k < p->o->jobs; k++)
        if (p->w[k].pid > 0) kill(-p->w[k].pid, SIGINT);
    for (int k = 0; k < p->o->jobs; k++)
        if (p->w[k].pid > 0) {
            int ws;
            waitpid(p->w[k].pid, &ws, 0);
            p->s->runs[p->w[k].run].state = PRISM_SWEEP_INTERRUPTED;
        }
    prism_sweep_write_status(p->s, p->dir,
                             p->st == PRISM_ERR_INTERRUPTED ? "interrupted" : "failed", NULL);
    prism_free(p->w);
    prism_dir_lock_release(&p->lock);
    return prism_error(p->st, "%s", msg);
}

/* Every child has ended: sweep.json's last status (interrupted while runs are left, failed
 * when one failed, else completed), then the lock is given up. */
static prism_status pool_finish(pool *p) {
    prism_free(p->w);
    prism_sweep_counts c = prism_sweep_count(p->s);
    bool stopped = c.pending + c.interrupted > 0;
    const char *status = stopped ? "interrupted" : c.failed ? "failed" : "completed";
    prism_status st = prism_sweep_write_status(p->s, p->dir, status, NULL);
    prism_dir_lock_release(&p->lock); /* after the last write of sweep.json */
    if (st) return st;
    if (stopped)
        return prism_error(PRISM_ERR_INTERRUPTED,
                           "sweep stopped with %d run%s left; continue it with: prism sweep "
                           "--resume %s",
                           c.pending + c.interrupted, c.pending + c.interrupted == 1 ? "" : "s",
                           p->dir);
    return PRISM_OK;
}

prism_status prism_sweep_run_local(prism_sweep *s, const char *dir,
                                   const prism_sweep_local_options *o) {
    PRISM_ASSERT(o->jobs >= 1 && o->exe);
    pool p;
    prism_status st = pool_open(&p, s, dir, o);
    if (st) return st;
    p.st = wait_for_writers(&p);
    if (!p.st) p.st = prism_sweep_write_status(s, dir, "running", NULL);
    retry_earlier_failures(&p);
    while (!p.st) {
        int level = forward_stop(&p);
        start_what_fits(&p, level);
        if (p.running == 0) break;
        reap(&p);
    }
    return p.st ? pool_abort(&p) : pool_finish(&p);
}
