/* Tests of checkpoints and resume through the real binary: runs killed with SIGKILL (at times
 * spread over the run, and while a checkpoint is being written), stopped with one or two
 * SIGINTs, then continued with `prism train --resume` until done, must leave metrics.csv
 * (sys_ columns aside) and episodes.csv byte-identical to an uninterrupted run with the same
 * seed. Also: the same seed twice gives identical metrics, and damaged or mismatched
 * checkpoints are refused with a message naming the file (exit 2), never a crash.
 *
 * Not here: the metrics CSV writer's own resume (test_archive.c), the network and replay file
 * formats (test_nn.c, test_replay.c).
 */
#include "harness.h"
#include "prism/core.h"
#include "prism/file.h"
#include "prism/rng.h"
#include "prism/tfevents.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A small DQN run: 20 iterations of 300 steps, a checkpoint after every iteration, one
 * evaluation episode per iteration (so the evaluation streams are resumed too). */
#define SMALL_RUN                                                                                  \
    "--seed", "3", "--steps", "6000", "--set", "agent.hidden=16", "--set", "agent.min_replay=100", \
        "--set", "agent.batch_size=16", "--set", "train.iteration_steps=300", "--set",             \
        "train.checkpoint_every=1", "--set", "train.checkpoint_seconds=0", "--set",                \
        "train.eval_episodes=1", "--set", "train.checkpoint_keep=2", "--quiet"

static void join(char *out, const char *a, const char *b) {
    if (prism_path_join(out, PRISM_PATH_MAX, a, b) != PRISM_OK) out[0] = 0;
}

static int exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* A new training run: `prism train ENV --agent AGENT SMALL_RUN --runs-dir T --run-id ID`. */
static pid_t start_run(const char *runs, const char *id, const char *agent, const char *log) {
    const char *args[] = {"train",      "CartPole-v0", "--agent",  agent, SMALL_RUN,
                          "--runs-dir", runs,          "--run-id", id,    NULL};
    return test_prism_spawn(log, args);
}

static pid_t start_resume(const char *dir, const char *log) {
    const char *args[] = {"train", "--resume", dir, "--quiet", NULL};
    return test_prism_spawn(log, args);
}

/* Number of lines in s (rows + header). */
static int lines(const char *s) {
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

/* TensorBoard's view of a run directory: the scalars of all its event files read in file-name
 * order, applying TensorBoard's rule for a run's second and later SessionLog START at step s
 * (drop the points held at step >= s). Machine-dependent tags (time/, system/) are left out. */
typedef struct {
    struct {
        char tag[64];
        long long step;
        float value;
    } p[8192];
    int n, starts;
} tb_view;

static int tb_visit(void *ctx, double wall_time, long long step, const char *tag, float value) {
    (void)wall_time;
    tb_view *v = ctx;
    if (!strcmp(tag, PRISM_TFEVENTS_START_TAG)) {
        if (v->starts++ > 0) {
            int kept = 0;
            for (int i = 0; i < v->n; i++)
                if (v->p[i].step < step) v->p[kept++] = v->p[i];
            v->n = kept;
        }
        return 0;
    }
    if (!strncmp(tag, "time/", 5) || !strncmp(tag, "system/", 7)) return 0;
    if (v->n == (int)(sizeof v->p / sizeof v->p[0])) return 1;
    snprintf(v->p[v->n].tag, sizeof v->p[v->n].tag, "%s", tag);
    v->p[v->n].step = step;
    v->p[v->n].value = value;
    v->n++;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fills v; returns the number of event files read (-1 on a read error, with a failed check). */
static int tensorboard_view(const char *dir, tb_view *v) {
    memset(v, 0, sizeof *v);
    DIR *d = opendir(dir);
    if (!d) return -1;
    char *names[64];
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) && files < 64)
        if (!strncmp(e->d_name, "events.out.tfevents.", 20)) names[files++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)files, sizeof names[0], by_name);
    int ok = 1;
    for (int i = 0; i < files; i++) {
        char path[PRISM_PATH_MAX];
        join(path, dir, names[i]);
        /* a run killed in the middle of a write can leave a partial last record; TensorBoard
         * drops it (the points before it count), and so does this view */
        if (prism_tfevents_read(path, tb_visit, v, NULL) != PRISM_OK &&
            !strstr(prism_error_message(), "truncated record")) {
            test_fail(__FILE__, __LINE__, "%s: %s", path, prism_error_message());
            ok = 0;
        }
        free(names[i]);
    }
    return ok ? files : -1;
}

/* What TensorBoard draws for `dir` must be what it draws for the uninterrupted `ref`. */
static void check_tensorboard_same_as(const char *dir, const char *ref, const char *what) {
    static tb_view a, b;
    int fa = tensorboard_view(dir, &a), fb = tensorboard_view(ref, &b);
    REQUIRE(fa >= 1 && fb == 1);
    CHECK(b.n > 0);
    int same = a.n == b.n;
    for (int i = 0; same && i < a.n; i++)
        same = !strcmp(a.p[i].tag, b.p[i].tag) && a.p[i].step == b.p[i].step &&
               memcmp(&a.p[i].value, &b.p[i].value, sizeof(float)) == 0;
    if (!same)
        test_fail(__FILE__, __LINE__,
                  "%s: TensorBoard would show %d points across %d event files, the "
                  "uninterrupted run %d",
                  what, a.n, fa, b.n);
}

/* Compare run `dir` with the reference run `ref`: metrics.csv without sys_ columns and
 * episodes.csv must be byte-identical, and TensorBoard must draw the same points. */
static void check_same_as(const char *dir, const char *ref, const char *what) {
    char a[PRISM_PATH_MAX], b[PRISM_PATH_MAX];
    join(a, dir, "metrics.csv");
    join(b, ref, "metrics.csv");
    char *ma = test_csv_without_sys(a), *mb = test_csv_without_sys(b);
    if (!ma || !mb || strcmp(ma, mb) != 0) {
        test_fail(__FILE__, __LINE__, "%s: metrics.csv of %s differs from %s (%d vs %d lines)",
                  what, dir, ref, lines(ma), lines(mb));
    }
    CHECK(lines(mb) == 21); /* header + 20 iterations */
    free(ma);
    free(mb);
    join(a, dir, "episodes.csv");
    join(b, ref, "episodes.csv");
    char *ea = test_read_file(a, NULL), *eb = test_read_file(b, NULL);
    if (!ea || !eb || strcmp(ea, eb) != 0)
        test_fail(__FILE__, __LINE__, "%s: episodes.csv of %s differs from %s (%d vs %d lines)",
                  what, dir, ref, lines(ea), lines(eb));
    free(ea);
    free(eb);
    char rj[PRISM_PATH_MAX];
    join(rj, dir, "run.json");
    char *run = test_read_file(rj, NULL);
    CHECK(run && strstr(run, "\"status\": \"completed\""));
    free(run);
    check_tensorboard_same_as(dir, ref, what);
}

static char ref_runs[PRISM_PATH_MAX];
static double ref_seconds = 1; /* wall time of the reference run last asked for */

static void remove_references(void) {
    char cmd[PRISM_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", ref_runs);
    if (ref_runs[0] && system(cmd) != 0) fprintf(stderr, "(could not remove %s)\n", ref_runs);
}

/* The uninterrupted reference run of `agent` (made once per agent and test process, shared by
 * the tests, removed at exit). */
static const char *reference(const char *agent) {
    static const char *const agents[] = {"dqn",       "rainbow", "qrainbow",
                                         "m-rainbow", "iqn",     "irainbow"};
    enum { N_AGENTS = (int)(sizeof agents / sizeof agents[0]) };
    static char dirs[N_AGENTS][PRISM_PATH_MAX];
    static double seconds[N_AGENTS];
    int k = 0;
    while (k < N_AGENTS - 1 && strcmp(agent, agents[k])) k++;
    PRISM_ASSERT(!strcmp(agent, agents[k]));
    if (dirs[k][0]) {
        ref_seconds = seconds[k];
        return dirs[k];
    }
    char *runs = ref_runs;
    if (!runs[0]) {
        snprintf(runs, PRISM_PATH_MAX, "/tmp/prism-resume-ref-%ld", (long)getpid());
        mkdir(runs, 0755);
        atexit(remove_references);
    }
    char id[32], log[PRISM_PATH_MAX + 48];
    snprintf(id, sizeof id, "ref-%s", agent);
    snprintf(log, sizeof log, "%s/%s.log", runs, id);
    double t0 = prism_now();
    int rc = test_wait(start_run(runs, id, agent, log));
    ref_seconds = seconds[k] = prism_now() - t0;
    if (rc != 0) {
        test_fail(__FILE__, __LINE__, "reference run of %s failed (exit %d, see %s)", agent, rc,
                  log);
        return NULL;
    }
    join(dirs[k], runs, id);
    return dirs[k];
}

/* Wait (at most ~20 s) until the run has written its first checkpoint. 0 if it exited first. */
static int wait_first_checkpoint(pid_t pid, const char *dir, int *rc) {
    char latest[PRISM_PATH_MAX];
    join(latest, dir, "checkpoints/latest");
    for (int i = 0; i < 20000; i++) {
        if (exists(latest)) return 1;
        if (test_exited(pid, rc)) return 0;
        test_sleep_us(1000);
    }
    return 1;
}

/* The iteration checkpoints/latest names (ckpt-K.bin), or -1. */
static int latest_checkpoint(const char *dir) {
    char latest[PRISM_PATH_MAX];
    join(latest, dir, "checkpoints/latest");
    char *name = test_read_file(latest, NULL);
    int n = -1;
    if (!name || sscanf(name, "ckpt-%d", &n) != 1) n = -1;
    free(name);
    return n;
}

/* Wait until checkpoints/latest names iteration `k` or later. 0 if the process exited first. */
static int wait_checkpoint_at_least(pid_t pid, const char *dir, int k, int *rc) {
    double start = prism_now();
    while (prism_now() - start < 20) {
        if (latest_checkpoint(dir) >= k) return 1;
        if (test_exited(pid, rc)) return 0;
        test_sleep_us(200);
    }
    return 1;
}

/* Let the run go on for `seconds`, but not past checkpoint 17 of its 20 iterations, so a kill
 * after it lands while the process runs however fast the machine is now (the delays are
 * fractions of the reference run's time, which another load may have stretched). 0 if the
 * process exited first. */
static int run_for_at_most(pid_t pid, const char *dir, double seconds, int *rc) {
    double until = prism_now() + seconds;
    while (prism_now() < until && latest_checkpoint(dir) < 17) {
        if (test_exited(pid, rc)) return 0;
        test_sleep_us(500);
    }
    return 1;
}

/* Poll the checkpoints directory and return 1 as soon as a temporary file (a checkpoint or
 * `latest` being written) is seen, or after ~10 s; 0 when the process exited first. */
static int wait_checkpoint_write(pid_t pid, const char *dir, int *rc) {
    char ck[PRISM_PATH_MAX];
    join(ck, dir, "checkpoints");
    double start = prism_now();
    while (prism_now() - start < 10) {
        DIR *d = opendir(ck);
        if (d) {
            struct dirent *e;
            int seen = 0;
            while ((e = readdir(d)))
                if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp-")) seen = 1;
            closedir(d);
            if (seen) return 1;
        }
        if (test_exited(pid, rc)) return 0;
    }
    return 1; /* not seen in time: kill it anyway */
}

/* Kill the run `id` of `agent` with SIGKILL after each delay in delays (after the first
 * checkpoint of each attempt, as a fraction of the reference run's wall time; a negative delay
 * means "while a checkpoint file is being written"), resuming in between, then resume to the end
 * and compare with the reference. Returns the number of kills that landed while the process still
 * ran. */
static int kill_and_resume(const char *agent, const char *id, const double *delays, int n) {
    const char *ref = reference(agent);
    if (!ref) return 0;
    const char *runs = test_tmpdir();
    char dir[PRISM_PATH_MAX], log[PRISM_PATH_MAX];
    join(dir, runs, id);
    snprintf(log, sizeof log, "%s/%s.log", runs, id);
    int landed = 0, rc = 0, done = 0;
    pid_t pid = start_run(runs, id, agent, log);
    for (int k = 0; k < n && !done; k++) {
        /* (a kill during the very first checkpoint would leave nothing to resume from) */
        int running = wait_first_checkpoint(pid, dir, &rc);
        if (running && delays[k] < 0) running = wait_checkpoint_write(pid, dir, &rc);
        if (running && delays[k] > 0)
            running = run_for_at_most(pid, dir, delays[k] * ref_seconds, &rc);
        if (running && !test_exited(pid, &rc)) {
            kill(pid, SIGKILL);
            rc = test_wait(pid);
            landed += rc == 128 + SIGKILL;
        } else if (!running) {
            done = rc == 0; /* finished before the kill */
        }
        if (!done) pid = start_resume(dir, log);
    }
    if (!done) rc = test_wait(pid);
    if (rc != 0) {
        char *text = test_read_file(log, NULL);
        test_fail(__FILE__, __LINE__, "%s: the last run exited %d; log:\n%s", id, rc,
                  text ? text : "(none)");
        free(text);
        return landed;
    }
    check_same_as(dir, ref, id);
    return landed;
}

TEST(resume_same_seed_twice_gives_identical_metrics) {
    const char *ref = reference("dqn");
    REQUIRE(ref != NULL);
    char log[PRISM_PATH_MAX], dir[PRISM_PATH_MAX];
    snprintf(log, sizeof log, "%s/again.log", test_tmpdir());
    REQUIRE(test_wait(start_run(test_tmpdir(), "again", "dqn", log)) == 0);
    join(dir, test_tmpdir(), "again");
    check_same_as(dir, ref, "same seed");
    /* the comparison can fail: another seed gives other metrics */
    char m1[PRISM_PATH_MAX];
    join(m1, ref, "metrics.csv");
    char *a = test_csv_without_sys(m1);
    const char *args[] = {"train",       "CartPole-v0", "--agent", "dqn", SMALL_RUN,
                          "--seed",      "4",           "--steps", "600", "--runs-dir",
                          test_tmpdir(), "--run-id",    "other",   NULL};
    REQUIRE(test_wait(test_prism_spawn(log, args)) == 0);
    join(dir, test_tmpdir(), "other/metrics.csv");
    char *b = test_csv_without_sys(dir);
    REQUIRE(a && b);
    /* rows 1-2 of seed 4 differ from rows 1-2 of seed 3 */
    const char *a2 = strchr(a, '\n'), *b2 = strchr(b, '\n');
    CHECK(a2 && b2 && strncmp(a2, b2, 200) != 0);
    free(a);
    free(b);
}

TEST(resume_after_sigkill_at_several_points_is_bit_identical) {
    /* delays after each attempt's first checkpoint: the first lands early, the others spread
     * over the run (each attempt starts again from the latest checkpoint) */
    static const double delays[] = {0, 0.1, 0.3, 0.5, 0.02, 0.2};
    int landed = kill_and_resume("dqn", "killed", delays, 6);
    CHECK(landed >= 3);
}

TEST(resume_after_sigkill_during_checkpoint_writes_is_bit_identical) {
    static const double delays[] = {-1, -1, -1, -1};
    int landed = kill_and_resume("dqn", "killed-in-write", delays, 4);
    CHECK(landed >= 2);
    /* a killed writer leaves its temporary file behind; it is never loaded */
}

TEST(resume_rainbow_after_sigkill_is_bit_identical) {
    /* prioritized replay (priorities, sum tree), noisy nets (noise streams), n-step, C51 */
    static const double delays[] = {0.05, -1, 0.3};
    int landed = kill_and_resume("rainbow", "rainbow-killed", delays, 3);
    CHECK(landed >= 2);
}

/* Send `signals` SIGINTs (a few ms apart) some time (a fraction of the reference run's wall
 * time) after the checkpoint of iteration 3; the run must
 * exit 1 (interrupted) with a checkpoint; resume it to the end and compare. */
static void interrupt_and_resume(const char *agent, const char *id, int signals, double delay,
                                 int expect_mid) {
    const char *ref = reference(agent);
    if (!ref) return;
    const char *runs = test_tmpdir();
    char dir[PRISM_PATH_MAX], log[PRISM_PATH_MAX];
    join(dir, runs, id);
    snprintf(log, sizeof log, "%s/%s.log", runs, id);
    int rc = 0;
    pid_t pid = start_run(runs, id, agent, log);
    if (!wait_checkpoint_at_least(pid, dir, 3, &rc)) {
        test_fail(__FILE__, __LINE__, "%s finished (exit %d) before it could be interrupted", id,
                  rc);
        return;
    }
    test_sleep_us((long)(delay * ref_seconds * 1e6));
    for (int i = 0; i < signals; i++) {
        kill(pid, SIGINT);
        if (i + 1 < signals) test_sleep_us(2000);
    }
    rc = test_wait(pid);
    if (rc != 1) {
        char *text = test_read_file(log, NULL);
        test_fail(__FILE__, __LINE__, "%s: exit %d after SIGINT (expected 1); log:\n%s", id, rc,
                  text ? text : "(none)");
        free(text);
    }
    char rj[PRISM_PATH_MAX], latest[PRISM_PATH_MAX];
    join(rj, dir, "run.json");
    char *run = test_read_file(rj, NULL);
    CHECK(run && strstr(run, "\"status\": \"interrupted\""));
    free(run);
    join(latest, dir, "checkpoints/latest");
    char *name = test_read_file(latest, NULL);
    REQUIRE(name != NULL);
    if (expect_mid) CHECK(strstr(name, "-mid.bin") != NULL); /* saved inside the iteration */
    free(name);
    char *text = test_read_file(log, NULL);
    CHECK(text && strstr(text, "--resume"));
    free(text);
    rc = test_wait(start_resume(dir, log));
    CHECK_EQ_INT(rc, 0);
    check_same_as(dir, ref, id);
}

/* Checkpoints every 5 iterations; the run is frozen and killed once it has written rows past
 * its latest checkpoint (any of 5, 10, 15: three windows, so a loaded machine still catches
 * one). Resumed from checkpoint K, it writes rows K+1.. again: metrics.csv is cut back to the
 * checkpoint, and the new event file's SessionLog START makes TensorBoard drop the earlier
 * file's rows K+1.. instead of drawing them twice. */
static int rows_past_checkpoint(const char *metrics, const char *latest, int *rows) {
    char *m = test_read_file(metrics, NULL), *name = test_read_file(latest, NULL);
    *rows = m ? lines(m) - 1 : 0;
    int k = name && !strncmp(name, "ckpt-", 5) ? atoi(name + 5) : 0;
    free(m);
    free(name);
    return k > 0 && *rows > k;
}

TEST(resume_after_rows_past_the_checkpoint_draws_each_point_once) {
    const char *ref = reference("dqn");
    if (!ref) return;
    const char *runs = test_tmpdir();
    char dir[PRISM_PATH_MAX], log[PRISM_PATH_MAX], metrics[PRISM_PATH_MAX], latest[PRISM_PATH_MAX];
    join(dir, runs, "rows-past");
    join(metrics, dir, "metrics.csv");
    join(latest, dir, "checkpoints/latest");
    snprintf(log, sizeof log, "%s/rows-past.log", runs);
    const char *args[] = {"train",
                          "CartPole-v0",
                          "--agent",
                          "dqn",
                          SMALL_RUN,
                          "--set",
                          "train.checkpoint_every=5",
                          "--runs-dir",
                          runs,
                          "--run-id",
                          "rows-past",
                          NULL};
    pid_t pid = test_prism_spawn(log, args);
    int rc = 0, rows = 0, frozen = 0;
    double start = prism_now();
    while (!frozen && prism_now() - start < 60 && !test_exited(pid, &rc)) {
        if (rows_past_checkpoint(metrics, latest, &rows)) {
            kill(pid, SIGSTOP); /* then look again: it may have moved on before it stopped */
            frozen = rows_past_checkpoint(metrics, latest, &rows);
            if (!frozen) kill(pid, SIGCONT);
        }
        test_sleep_us(200);
    }
    kill(pid, SIGKILL);
    kill(pid, SIGCONT);
    test_wait(pid);
    if (!frozen) {
        test_fail(__FILE__, __LINE__, "never caught the run with rows past its latest checkpoint");
        return;
    }
    CHECK(rows > 5);
    CHECK_EQ_INT(test_wait(start_resume(dir, log)), 0);
    check_same_as(dir, ref, "rows past the checkpoint");
}

TEST(resume_after_sigint_continues_mid_iteration_bit_identically) {
    /* one SIGINT: the run stops at the next episode boundary, inside an iteration, and saves a
     * -mid checkpoint there */
    interrupt_and_resume("dqn", "sigint", 1, 0.01, 1);
}

TEST(resume_after_two_sigints_is_bit_identical) {
    /* two SIGINTs: stop at once; resume from the last checkpoint */
    interrupt_and_resume("dqn", "sigint2", 2, 0.02, 0);
}

TEST(resume_rainbow_after_sigint_is_bit_identical) {
    interrupt_and_resume("rainbow", "rainbow-sigint", 1, 0.01, 1);
}

TEST(resume_qrainbow_and_m_rainbow_after_sigint_are_bit_identical) {
    /* the quantile head (and its spread statistic) with every component it takes; Munchausen's
     * target with prioritized replay, noisy nets, dueling and n-step */
    interrupt_and_resume("qrainbow", "qrainbow-sigint", 1, 0.01, 1);
    interrupt_and_resume("m-rainbow", "m-rainbow-sigint", 1, 0.01, 1);
}

TEST(resume_irainbow_after_sigint_is_bit_identical) {
    /* the implicit head draws fractions at every action and update (its stream is in the
     * checkpoint), with every component it takes */
    interrupt_and_resume("irainbow", "irainbow-sigint", 1, 0.01, 1);
}

SLOW_TEST(resume_after_many_random_sigkills_is_bit_identical) {
    /* random delays (the seed is in the run id, printed on failure) over many attempts; each
     * attempt runs at least one iteration, so later kills may find the run finished */
    prism_rng r;
    uint64_t seed = (uint64_t)time(NULL);
    prism_rng_seed(&r, seed, 1);
    double delays[24];
    for (int i = 0; i < 24; i++)
        delays[i] = prism_rng_below(&r, 8) == 0 ? -1 : prism_rng_uniform(&r) * 0.08;
    char id[64];
    snprintf(id, sizeof id, "random-kills-%llu", (unsigned long long)seed);
    int landed = kill_and_resume("dqn", id, delays, 24);
    fprintf(stderr, "(%d kills) ", landed);
    /* how many land depends on the machine's load (an attempt that outlives its delay finishes
     * the run); the point is that every kill that did land was survived bit-identically */
    CHECK(landed >= 1);
    snprintf(id, sizeof id, "random-kills-rainbow-%llu", (unsigned long long)seed);
    landed = kill_and_resume("rainbow", id, delays, 12);
    fprintf(stderr, "(%d kills) ", landed);
    CHECK(landed >= 1);
}

TEST(resume_with_more_steps_extends_the_run_as_if_started_with_that_budget) {
    const char *ref = reference("dqn"); /* 6000 steps in one go */
    REQUIRE(ref != NULL);
    char log[PRISM_PATH_MAX], dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX], out[8192];
    snprintf(log, sizeof log, "%s/ext.log", test_tmpdir());
    /* the same run with half the budget (the later --steps wins), completed ... */
    const char *args[] = {"train", "CartPole-v0", "--agent",     "dqn",      SMALL_RUN, "--steps",
                          "3000",  "--runs-dir",  test_tmpdir(), "--run-id", "ext",     NULL};
    REQUIRE(test_wait(test_prism_spawn(log, args)) == 0);
    join(dir, test_tmpdir(), "ext");
    join(path, dir, "run.json");
    char *before = test_read_file(path, NULL);
    REQUIRE(before != NULL);
    /* a budget is never shortened, and no other setting changes on resume: nothing written */
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s --steps 3000", dir), 2);
    CHECK(strstr(out, "does not extend the run") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s --steps 6000 --seed 4", dir), 2);
    CHECK(strstr(out, "--seed cannot be combined with it") != NULL);
    char *after = test_read_file(path, NULL);
    CHECK(after && !strcmp(before, after));
    free(after);
    free(before);
    /* ... then extended to 6000: the same metrics, episodes and TensorBoard points as the run
     * that had 6000 from the start */
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "train --resume ext --runs-dir %s --steps 6000 --quiet", test_tmpdir()),
                 0);
    CHECK(strstr(out, "is now 6000 steps (was 3000)") != NULL);
    check_same_as(dir, ref, "extended from 3000 to 6000 steps");
    char *run = test_read_file(path, NULL);
    CHECK(run && strstr(run, "\"extensions\": \"3000->6000 at "));
    free(run);
    join(path, dir, "config.ini");
    char *ini = test_read_file(path, NULL);
    CHECK(ini && strstr(ini, "\nsteps = 6000\n"));
    free(ini);
    /* the extended run's identity is its new config.ini: a hand edit is still refused */
    char cmd[PRISM_PATH_MAX * 3];
    snprintf(cmd, sizeof cmd,
             "sed -i 's/\"status\": \"completed\"/\"status\": \"interrupted\"/' %s/run.json && "
             "sed -i 's/^steps = 6000$/steps = 9000/' %s",
             dir, path);
    REQUIRE(system(cmd) == 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s --quiet", dir), 2);
    CHECK(strstr(out, "is not the configuration this run was started with") != NULL);
}

/* PQN's learning rate is annealed over the budget (agent.lr_anneal): a larger budget would change
 * every update already made, so an extension is refused and nothing is written. PQN has no replay
 * memory, so the min_replay warning of a short DQN run does not apply to it. */
TEST(resume_with_more_steps_refuses_an_annealed_pqn_run) {
    char dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX], out[8192];
    CHECK_EQ_INT(
        test_prism(out, sizeof out,
                   "train CartPole-v1 --agent pqn --steps 1024 --set train.eval_episodes=0 "
                   "--runs-dir %s --run-id pqn-ext --quiet",
                   test_tmpdir()),
        0);
    CHECK(strstr(out, "min_replay") == NULL);
    join(dir, test_tmpdir(), "pqn-ext");
    join(path, dir, "run.json");
    char *before = test_read_file(path, NULL);
    REQUIRE(before != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s --steps 2048", dir), 2);
    CHECK(strstr(out, "cannot be extended") != NULL);
    char *after = test_read_file(path, NULL);
    CHECK(after && !strcmp(before, after));
    free(after);
    free(before);
}
