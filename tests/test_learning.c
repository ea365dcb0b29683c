/* Learning tests: whole training runs through the library (prism_train, no run index, a
 * temporary runs directory) that must reach a return measured beforehand, with margin, over
 * fixed seeds. They are SLOW_TESTs (make test-slow); docs/results.md has the measured numbers,
 * the commands that produced them and the wall times. Runs are deterministic for a seed on one
 * machine, so a failure here means the learning changed, not bad luck; the margins absorb the
 * differences another CPU's OpenBLAS kernels can make.
 *
 * Also here (fast): the minatar-dqn preset matches MinAtar's examples/dqn.py. */
#include "harness.h"
#include "prism/agent.h"
#include "prism/config.h"
#include "prism/env.h"
#include "prism/presets.h"
#include "prism/trainer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_ROWS = 20000 };

/* Print a measured value under the test's name, flushed at once so it stays next to it even
 * when stdout is a file and later tests fork. */
__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* Read one numeric column (by header name) of a CSV file written by prism_csv into out (cap
 * values). Returns the number of rows, or -1 (and a failed check) when the file or column is
 * missing. Empty fields (NaN) read as NaN. */
static int read_column(const char *path, const char *name, double *out, int cap) {
    FILE *f = fopen(path, "r");
    if (!f) {
        test_fail(__FILE__, __LINE__, "cannot open %s", path);
        return -1;
    }
    static char line[8192];
    int col = -1, rows = 0;
    if (fgets(line, sizeof line, f)) {
        int i = 0;
        for (char *tok = strtok(line, ",\n"); tok; tok = strtok(NULL, ",\n"), i++)
            if (!strcmp(tok, name)) col = i;
    }
    if (col < 0) {
        fclose(f);
        test_fail(__FILE__, __LINE__, "%s has no column %s", path, name);
        return -1;
    }
    while (rows < cap && fgets(line, sizeof line, f)) {
        /* walk the fields by hand: strtok would merge the empty fields NaN leaves */
        const char *p = line;
        for (int i = 0; i < col && p; i++) {
            p = strchr(p, ',');
            if (p) p++;
        }
        out[rows++] = (p && *p != ',' && *p != '\n') ? strtod(p, NULL) : (double)NAN;
    }
    fclose(f);
    return rows;
}

/* Train `preset` on `env` with `seed`; `steps` > 0 overrides train.steps; `extra` holds
 * further "key=value ..." assignments (may be NULL). The run directory goes to dir. Returns
 * false (with a failed check) when the run did not complete. */
static bool train(const char *env, const char *preset, int seed, long long steps, const char *extra,
                  char *dir, size_t cap) {
    prism_config c;
    prism_config_defaults(&c);
    if (prism_preset_apply(&c, preset, env) != PRISM_OK) {
        test_fail(__FILE__, __LINE__, "preset %s on %s: %s", preset, env, prism_error_message());
        return false;
    }
    c.seed = (uint64_t)seed;
    if (steps > 0) c.train.steps = steps;
    if (extra && prism_config_apply(&c, extra) != PRISM_OK) {
        test_fail(__FILE__, __LINE__, "%s: %s", extra, prism_error_message());
        return false;
    }
    char id[160];
    snprintf(id, sizeof id, "%s-%s-s%d-%lld", env, preset, seed, steps);
    prism_train_options o = prism_train_options_default();
    o.runs_dir = test_tmpdir();
    o.run_id = id;
    o.quiet = true;
    o.progress_bar = false;
    o.no_index = true;
    prism_status st = prism_train(&c, &o, dir, cap);
    if (st != PRISM_OK) {
        test_fail(__FILE__, __LINE__, "training %s on %s (seed %d) failed: %s", preset, env, seed,
                  prism_error_message());
        return false;
    }
    return true;
}

/* Train seeds 0..n-1 of `preset` on `env` side by side, one child process per seed (each run
 * is single-threaded and deterministic whatever runs beside it). dirs[i] gets seed i's run
 * directory. Returns false (with a failed check) when any run did not complete. */
enum { MAX_SEEDS = 8 };
static bool train_seeds(const char *env, const char *preset, int n, long long steps,
                        const char *extra, char dirs[][1024]) {
    PRISM_ASSERT(n <= MAX_SEEDS);
    test_tmpdir(); /* created here, once, for all the children */
    pid_t pid[MAX_SEEDS];
    int from[MAX_SEEDS];
    for (int seed = 0; seed < n; seed++) {
        int fd[2];
        PRISM_ASSERT(pipe(fd) == 0);
        fflush(stdout);
        fflush(stderr);
        pid[seed] = fork();
        if (pid[seed] == 0) {
            close(fd[0]);
            /* the trainer's header lines would interleave with the other seeds' (its console
             * output is in the run's stdout.log anyway); failures go to stderr */
            if (!freopen("/dev/null", "w", stdout)) _exit(1);
            char dir[1024] = "";
            bool ok = train(env, preset, seed, steps, extra, dir, sizeof dir);
            ssize_t w = write(fd[1], dir, strlen(dir) + 1);
            fflush(stdout);
            fflush(stderr);
            _exit(ok && w > 0 ? 0 : 1);
        }
        close(fd[1]);
        from[seed] = fd[0];
        PRISM_ASSERT(pid[seed] > 0);
    }
    bool all_ok = true;
    for (int seed = 0; seed < n; seed++) {
        size_t got = 0;
        ssize_t r;
        while (got < 1023 && (r = read(from[seed], dirs[seed] + got, 1023 - got)) > 0)
            got += (size_t)r;
        dirs[seed][got] = 0;
        close(from[seed]);
        int status;
        bool ok = waitpid(pid[seed], &status, 0) == pid[seed] && WIFEXITED(status) &&
                  WEXITSTATUS(status) == 0 && dirs[seed][0];
        if (!ok)
            test_fail(__FILE__, __LINE__, "%s on %s, seed %d: the run failed", preset, env, seed);
        all_ok = all_ok && ok;
    }
    return all_ok;
}

/* Column `name` of dir/file into out; the row count (<= 0 on failure). */
static int run_column(const char *dir, const char *file, const char *name, double *out) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return read_column(path, name, out, MAX_ROWS);
}

static double mean_of(const double *v, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return n > 0 ? s / n : (double)NAN;
}

/* The final iteration's return_mean of a run (NaN when no episode ended in it). */
static double final_return(const char *dir) {
    static double v[MAX_ROWS];
    int n = run_column(dir, "metrics.csv", "return_mean", v);
    return n > 0 ? v[n - 1] : (double)NAN;
}

/* ---- fast: presets ---- */

TEST(learning_minatar_dqn_preset_matches_minatar_dqn_py) {
    prism_config c;
    prism_config_defaults(&c);
    REQUIRE(prism_preset_apply(&c, "minatar-dqn", "breakout") == PRISM_OK);
    const prism_agent_config *a = &c.agent_cfg;
    /* conv 16 3x3 VALID (10x10 -> 8x8) -> 128 -> head, PyTorch default init */
    CHECK(a->conv_channels == 16 && a->conv_valid && a->n_hidden == 1 && a->hidden[0] == 128);
    CHECK(a->init == PRISM_NN_INIT_TORCH_DEFAULT);
    CHECK(!a->double_q && !a->prioritized && !a->dueling && a->n_step == 1 && !a->distributional &&
          !a->noisy);
    /* RMSprop(lr=0.00025, alpha=0.95, centered=True, eps=0.01), smooth_l1_loss */
    CHECK(a->optimizer == PRISM_OPTIM_RMSPROP_TORCH && a->lr == 2.5e-4 && a->rms_decay == 0.95 &&
          a->rms_centered && a->rms_eps == 0.01 && a->rms_momentum == 0);
    CHECK(a->loss == PRISM_LOSS_HUBER && a->gamma == 0.99 && !a->reward_clip);
    CHECK(a->batch_size == 32 && a->replay_capacity == 100000 && a->min_replay == 5000);
    CHECK(a->update_period == 1 && a->target_period == 1000 && a->tau == 1);
    CHECK(a->eps_start == 1 && a->eps_end == 0.1 && a->eps_decay_steps == 100000 &&
          a->eps_warmup == 5000);
    CHECK(c.train.steps == 5000000 && c.train.max_episode_steps == 0);
    /* the same on every game; on seaquest too */
    REQUIRE(prism_preset_apply(&c, "minatar-dqn", "seaquest") == PRISM_OK);
    CHECK(a->conv_valid && a->hidden[0] == 128 && a->update_period == 1);
}

/* The replay memory of a MinAtar run holds 100k Seaquest transitions (10x10x10 binary
 * observations) bit-packed: 125 bytes an observation instead of 4,000 as float32. The sizes are
 * printed (docs/results.md quotes them); the bounds say every observation is stored once, in
 * bits, plus at most 64 bytes of bookkeeping per slot. */
TEST(learning_seaquest_replay_of_100k_is_bit_packed) {
    const prism_env_class *cls = prism_env_find("seaquest");
    REQUIRE(cls != NULL);
    REQUIRE(prism_env_obs_size(cls) == 1000);
    const char *presets[] = {"dqn", "rainbow", "minatar-dqn"};
    for (int i = 0; i < 3; i++) {
        prism_config c;
        prism_config_defaults(&c);
        REQUIRE(prism_preset_apply(&c, presets[i], "seaquest") == PRISM_OK);
        REQUIRE(c.agent_cfg.replay_capacity == 100000);
        prism_agent ag;
        REQUIRE(prism_agent_init(&ag, &c.agent_cfg, cls, 0) == PRISM_OK);
        size_t bytes = prism_replay_memory_bytes(&ag.replay);
        note("    seaquest %s: replay of %d transitions = %zu bytes (%.1f MiB), %zu per obs\n",
             presets[i], ag.replay.opt.capacity, bytes, (double)bytes / (1024.0 * 1024.0),
             ag.replay.obs_bytes);
        CHECK(ag.replay.obs_bytes == 125);
        CHECK(bytes >= (size_t)100000 * 125);
        CHECK(bytes <= (size_t)ag.replay.opt.capacity * (125 + 64));
        prism_agent_free(&ag);
    }
}

/* ---- slow: classic control (issue 4) ---- */

/* CleanRL's dqn.py on CartPole-v1, 500k steps (~9 s a run): CleanRL reports 488.7 +- 16.1.
 * Measured: the last 20 episodes of seeds 0, 1, 2 all average 500. */
SLOW_TEST(learning_cleanrl_dqn_cartpole_v1_reaches_400) {
    static double ret[MAX_ROWS];
    char dirs[3][1024];
    if (!train_seeds("CartPole-v1", "cleanrl-dqn", 3, 0, NULL, dirs)) return;
    int good = 0;
    for (int seed = 0; seed < 3; seed++) {
        int n = run_column(dirs[seed], "episodes.csv", "return", ret);
        REQUIRE(n >= 20);
        double last20 = mean_of(ret + n - 20, 20);
        note("    cleanrl-dqn CartPole-v1 seed %d: mean of the last 20 episodes %.1f\n", seed,
             last20);
        good += last20 >= 400;
    }
    CHECK(good >= 2);
}

/* Train seeds 0-2 of `preset` on `env` for `steps` steps (0: the preset's) side by side, with
 * the settings `extra` (NULL: none) over the preset's.
 * "Clearly learns": every seed has an iteration averaging at least `best`, and the mean over the
 * seeds of their last `window` iterations is at least `last`. */
static void clearly_learns_with(const char *preset, const char *env, long long steps,
                                const char *extra, double best, int window, double last) {
    static double rm[MAX_ROWS];
    char dirs[3][1024];
    if (!train_seeds(env, preset, 3, steps, extra, dirs)) return;
    double sum = 0;
    for (int seed = 0; seed < 3; seed++) {
        int n = run_column(dirs[seed], "metrics.csv", "return_mean", rm);
        REQUIRE(n >= window);
        double b = rm[0];
        for (int i = 1; i < n; i++)
            if (rm[i] > b) b = rm[i];
        double tail = mean_of(rm + n - window, window);
        note("    %s %s seed %d: best iteration %.1f, last %d iterations %.1f\n", preset, env, seed,
             b, window, tail);
        CHECK(b >= best);
        sum += tail;
    }
    note("    %s %s: last %d iterations, mean over 3 seeds %.1f\n", preset, env, window, sum / 3);
    CHECK(sum / 3 >= last);
}

static void clearly_learns(const char *preset, const char *env, long long steps, double best,
                           int window, double last) {
    clearly_learns_with(preset, env, steps, NULL, best, window, last);
}

/* Revisiting Rainbow's DQN on CartPole-v0 (30k steps, ~27 s a run). It learns but is unstable:
 * the Q-values overshoot the largest possible value (100 = 1 / (1 - 0.99)) in every seed and
 * seed 0 collapses to ~20 after peaking at 127 (docs/results.md). "Clearly learns" is therefore
 * measured as: every seed has an iteration averaging >= 100 (a random policy averages ~22), and
 * the mean over seeds of the last 10 iterations is >= 90 (measured 126). */
SLOW_TEST(learning_dqn_cartpole_v0_clearly_learns) {
    clearly_learns("dqn", "CartPole-v0", 0, 100, 10, 90);
}

/* Revisiting Rainbow's Rainbow on CartPole-v0. The paper's 30k steps cost 150-200 s a run
 * under load, too much for three seeds in CI, so the test stops at 15k steps (15 iterations;
 * train.steps only sets the number of iterations, so this is exactly the first half of the
 * 30k run). Measured final iteration at 15k: 185, 150, 186 (mean 174); at 30k: 196, 193, 196
 * (docs/results.md; the paper: about 198). Threshold: the mean over seeds >= 150. */
SLOW_TEST(learning_rainbow_cartpole_v0_reaches_150) {
    char dirs[3][1024];
    if (!train_seeds("CartPole-v0", "rainbow", 3, 15000, NULL, dirs)) return;
    double sum = 0;
    for (int seed = 0; seed < 3; seed++) {
        double r = final_return(dirs[seed]);
        note("    rainbow CartPole-v0 seed %d: final iteration (15k steps) %.1f\n", seed, r);
        sum += r;
    }
    CHECK(sum / 3 >= 150);
}

/* Revisiting Rainbow's Rainbow on Acrobot-v1, seed 0, 20k of the paper's 30k steps (about
 * 120 steps/s under load). Measured: iterations 16-20 average -126.8 (the full 30k run ends
 * at -112, last 10 iterations -111.5; docs/results.md). Single iterations swing by 30-50
 * (-150 at iteration 17 and again at 29), hence the mean of the last five. Threshold: >= -150. */
SLOW_TEST(learning_rainbow_acrobot_v1_reaches_minus_150) {
    static double rm[MAX_ROWS];
    char dir[1024];
    if (!train("Acrobot-v1", "rainbow", 0, 20000, NULL, dir, sizeof dir)) return;
    int n = run_column(dir, "metrics.csv", "return_mean", rm);
    REQUIRE(n == 20);
    double last5 = mean_of(rm + n - 5, 5);
    note("    rainbow Acrobot-v1 seed 0: iterations 16-20 average %.1f\n", last5);
    CHECK(last5 >= -150);
}

/* ---- slow: LunarLander (issue 7) ---- */

/* Revisiting Rainbow's Rainbow on LunarLander-v3: the criterion, a positive mean return
 * at the end of the paper's 120k steps over three seeds (the paper: about +160). The three runs
 * go side by side (about 4.5 minutes each on one core). LunarLander is high-variance: an
 * iteration holds 4-10 episodes of returns between -200 and +250, and with rewards clipped (as
 * Dopamine's runner did) the agent often hovers instead of landing. Measured final iterations
 * (docs/results.md): 46.2, 88.5 and 109.9, mean 81.5. */
SLOW_TEST(learning_rainbow_lunarlander_v3_ends_positive_over_3_seeds) {
    static double rm[MAX_ROWS];
    char dirs[3][1024];
    if (!train_seeds("LunarLander-v3", "rainbow", 3, 0, NULL, dirs)) return;
    double sum = 0;
    for (int seed = 0; seed < 3; seed++) {
        int n = run_column(dirs[seed], "metrics.csv", "return_mean", rm);
        REQUIRE(n == 30);
        note("    rainbow LunarLander-v3 seed %d: final iteration %.1f, last 5 iterations %.1f\n",
             seed, rm[n - 1], mean_of(rm + n - 5, 5));
        sum += rm[n - 1];
    }
    note("    mean of the final iterations over 3 seeds: %.1f (random policy ~ -199)\n", sum / 3);
    CHECK(sum / 3 > 0);
}

/* ---- slow: MinAtar (issue 6) ---- */

/* Revisiting Rainbow's DQN (the `dqn` preset: conv 16 SAME -> linear head, one update every 4
 * steps) on Breakout, seeds 0 and 1 side by side, the first 200k of the paper's 10M steps in
 * 25k-step iterations (about 35 s a run). Epsilon falls from 1 to 0.01 over 250k steps, so
 * these are still exploring. Measured (docs/results.md): seed 0 0.54 -> 2.46, seed 1
 * 0.58 -> 2.11 from the first to the eighth iteration. Threshold per seed: the last iteration
 * >= 1.5 and at least twice the first. */
SLOW_TEST(learning_dqn_breakout_learns_in_200k_steps) {
    static double rm[MAX_ROWS];
    char dirs[2][1024];
    if (!train_seeds("breakout", "dqn", 2, 200000, "train.iteration_steps=25000", dirs)) return;
    for (int seed = 0; seed < 2; seed++) {
        int n = run_column(dirs[seed], "metrics.csv", "return_mean", rm);
        REQUIRE(n == 8);
        note("    dqn breakout seed %d: first iteration %.2f, eighth %.2f\n", seed, rm[0], rm[7]);
        CHECK(rm[7] >= 1.5);
        CHECK(rm[7] >= 2 * rm[0]);
    }
}

/* MinAtar's own DQN (minatar-dqn) on Breakout, seed 0, 100k frames in four 25k iterations
 * (100-270 s: one update per frame). Epsilon is still 0.15 at 100k frames (1 -> 0.1 over
 * 5k-105k), so the returns are those of a policy still exploring. Measured (docs/results.md):
 * 0.52, 1.02, 1.63, 2.46 per iteration (then 3.71, 4.07 at 125k, 150k). Threshold: the last
 * iteration >= 1.5, and at least twice the first (the near-random one). */
SLOW_TEST(learning_minatar_dqn_breakout_learns_in_100k_frames) {
    static double rm[MAX_ROWS];
    char dir[1024];
    if (!train("breakout", "minatar-dqn", 0, 100000, "train.iteration_steps=25000", dir,
               sizeof dir))
        return;
    int n = run_column(dir, "metrics.csv", "return_mean", rm);
    REQUIRE(n == 4);
    note("    minatar-dqn breakout seed 0: %.2f %.2f %.2f %.2f per 25k frames\n", rm[0], rm[1],
         rm[2], rm[3]);
    CHECK(rm[3] >= 1.5);
    CHECK(rm[3] >= 2 * rm[0]);
}

/* ---- slow: PQN ---- */

/* The mean of the last 100 training episodes of each of seeds 0, 1, 2 of `preset` on `env`
 * (CleanRL's pqn.py budget, 500k steps, about 6-10 CPU-seconds a run), into last100[3]. */
static bool pqn_last100(const char *env, double last100[3]) {
    static double ret[MAX_ROWS];
    char dirs[3][1024];
    if (!train_seeds(env, "pqn", 3, 0, "train.checkpoint_seconds=0", dirs)) return false;
    for (int seed = 0; seed < 3; seed++) {
        int n = run_column(dirs[seed], "episodes.csv", "return", ret);
        if (n < 100) {
            test_fail(__FILE__, __LINE__, "%s seed %d: only %d episodes", env, seed, n);
            return false;
        }
        last100[seed] = mean_of(ret + n - 100, 100);
        note("    pqn %s seed %d: mean of the last 100 episodes %.1f\n", env, seed, last100[seed]);
    }
    return true;
}

/* CleanRL publishes 495.1 +- 6.9 for pqn.py on CartPole-v1. Measured (docs/results.md): 472.4,
 * 500.0, 493.2 for seeds 0, 1, 2, mean 488.5, inside CleanRL's spread (>= 488.2). Threshold,
 * with room for another CPU's rounding: the mean over seeds >= 480 and every seed >= 450 (a
 * random policy averages about 22). */
SLOW_TEST(learning_pqn_cartpole_v1_reaches_cleanrl_returns) {
    double r[3];
    if (!pqn_last100("CartPole-v1", r)) return;
    CHECK((r[0] + r[1] + r[2]) / 3 >= 480);
    for (int s = 0; s < 3; s++) CHECK(r[s] >= 450);
}

/* CleanRL publishes -95.6 +- 5.7 on Acrobot-v1. Measured: -95.7, -92.7, -99.5, mean -96.0.
 * Threshold: the mean over seeds >= -105 and every seed >= -115 (a random policy gets about
 * -500, the time limit). */
SLOW_TEST(learning_pqn_acrobot_v1_reaches_cleanrl_returns) {
    double r[3];
    if (!pqn_last100("Acrobot-v1", r)) return;
    CHECK((r[0] + r[1] + r[2]) / 3 >= -105);
    for (int s = 0; s < 3; s++) CHECK(r[s] >= -115);
}

/* PQN with the PQN authors' MinAtar configuration on Breakout, cut down to its first 393,216
 * steps (3 iterations of 32 rollouts of 128 environments x 32 steps; about 37 CPU-seconds).
 * Epsilon is still 0.63 at the end (1 -> 0.05 over 1M steps), so these returns are those of a
 * policy still exploring. Measured for seed 1 (docs/results.md): 0.62, 1.03, 1.55 per iteration
 * (a random policy scores about 0.5). Threshold: the third iteration >= 1.2 and at least twice
 * the first. */
SLOW_TEST(learning_pqn_breakout_learns_in_393k_steps) {
    static double rm[MAX_ROWS];
    char dir[1024];
    if (!train("breakout", "pqn", 1, 393216, "train.checkpoint_seconds=0", dir, sizeof dir)) return;
    int n = run_column(dir, "metrics.csv", "return_mean", rm);
    REQUIRE(n == 3);
    note("    pqn breakout seed 1: %.2f %.2f %.2f per 131k steps\n", rm[0], rm[1], rm[2]);
    CHECK(rm[2] >= 1.2);
    CHECK(rm[2] >= 2 * rm[0]);
}

/* ---- slow: the quantile head and the Munchausen target ---- */

/* QR-DQN and M-DQN on CartPole-v0, seeds 0-2, the presets' 30k steps (QR-DQN's curves are still
 * rising at the end: it learns at Rainbow's lr 1e-4; M-DQN, at DQN's 1e-3, peaks early and then
 * sags as DQN does). Measured (docs/results.md), best iteration / last 5 per seed:
 * qr-dqn 149.7/142.5, 116.3/108.6, 186.8/159.7 (mean of last 5: 136.9); m-dqn 172.2/43.5,
 * 164.9/125.7, 200.0/174.6 (mean 114.6). Thresholds, as for dqn: every seed's best >= 100 (a
 * random policy averages ~22), the mean of the last 5 >= 90. */
SLOW_TEST(learning_qr_dqn_cartpole_v0_clearly_learns) {
    clearly_learns("qr-dqn", "CartPole-v0", 0, 100, 5, 90);
}

SLOW_TEST(learning_m_dqn_cartpole_v0_clearly_learns) {
    clearly_learns("m-dqn", "CartPole-v0", 0, 100, 5, 90);
}

/* The same on Acrobot-v1 (30k steps; a random policy never swings up: -500). Measured, best
 * iteration / last 5 per seed: qr-dqn -136.8/-187.7, -88.0/-107.2, -81.2/-92.3 (mean of last
 * 5: -129.1; seed 0 swings between -150 and -300 late in its run); m-dqn -79.8/-90.9,
 * -86.1/-90.6, -77.0/-90.1 (mean -90.5). Thresholds: every seed's best >= -150, the mean of the
 * last 5 >= -200. */
SLOW_TEST(learning_qr_dqn_acrobot_v1_clearly_learns) {
    clearly_learns("qr-dqn", "Acrobot-v1", 0, -150, 5, -200);
}

SLOW_TEST(learning_m_dqn_acrobot_v1_clearly_learns) {
    clearly_learns("m-dqn", "Acrobot-v1", 0, -150, 5, -200);
}

/* ---- slow: the implicit head ----
 * The iqn preset costs about eight times a qr-dqn step (32 fractions per sample through the
 * embedding and the head, three forwards an update): the preset's own 30k steps x 3 seeds would
 * take most of the slow suite. The tests cut it down: 8 fractions (N = N' = K) instead of 32,
 * and DQN's schedule (lr 1e-3, an update every 4 steps) instead of Rainbow's lr 1e-4, which
 * learns CartPole in a third of the steps. */
#define IQN_CUT                                                                                    \
    "agent.num_tau_samples=8 agent.num_tau_prime_samples=8 agent.num_quantile_samples=8 "          \
    "agent.lr=1e-3 agent.update_period=4"

/* IQN (cut down as above) on CartPole-v0, seeds 0-2, 10k steps. Measured, best iteration / mean
 * of the last 5 per seed: 196.7/184.1, 188.0/158.2, 200.0/195.3 (mean of last 5: 179.2; a
 * random policy averages ~22). Thresholds: every seed's best >= 150, the mean of the last 5 >=
 * 120. */
SLOW_TEST(learning_iqn_cartpole_v0_clearly_learns) {
    clearly_learns_with("iqn", "CartPole-v0", 10000, IQN_CUT, 150, 5, 120);
}

/* The same on Acrobot-v1, 10k steps (a random policy never swings up: -500). Measured, best
 * iteration / mean of the last 5 per seed: -144.8/-173.3, -144.6/-180.2, -117.6/-169.2 (mean of
 * last 5: -174.2; single iterations still swing to -250). Thresholds: every seed's best >= -200,
 * the mean of the last 5 >= -250. */
SLOW_TEST(learning_iqn_acrobot_v1_clearly_learns) {
    clearly_learns_with("iqn", "Acrobot-v1", 10000, IQN_CUT, -200, 5, -250);
}

/* One CartPole-v0 run of `agent`, seed 0: its final iteration must reach 150. */
static void cartpole_seed0_final_reaches_150(const char *agent, long long steps, const char *sets) {
    char dir[1024];
    if (!train("CartPole-v0", agent, 0, steps, sets, dir, sizeof dir)) return;
    double r = final_return(dir);
    note("    %s CartPole-v0 seed 0: final iteration (%lldk steps) %.1f\n", agent, steps / 1000, r);
    CHECK(r >= 150);
}

/* IRainbow (Rainbow with the implicit head, cut down as above) on CartPole-v0, seed 0, 10k
 * steps. Measured (docs/results.md): 10 11 15 61 180 180 174 186 188 195, final 195.0.
 * Threshold: the final iteration >= 150 (Rainbow's own test threshold). */
SLOW_TEST(learning_irainbow_cartpole_v0_reaches_150) {
    cartpole_seed0_final_reaches_150("irainbow", 10000, IQN_CUT);
}

/* QRainbow (Rainbow with the quantile head) on CartPole-v0, seed 0, the first 15k of the
 * preset's 30k steps, as the rainbow test above. Measured (docs/results.md): 24 161 137 144 149
 * 158 158 164 168 178 176 176 184 185 186, final 186.3. Threshold: the final iteration >= 150
 * (Rainbow's own test threshold). */
SLOW_TEST(learning_qrainbow_cartpole_v0_reaches_150) {
    cartpole_seed0_final_reaches_150("qrainbow", 15000, NULL);
}

/* ---- slow: the quantile and implicit heads on MinAtar ----
 * The qr-dqn and iqn presets on Breakout, cut down to the first 50k of Revisiting Rainbow's 10M
 * steps, in 10k-step iterations, with epsilon falling from 1 to 0.01 over 25k steps instead of
 * 250k (nothing else changes): on the presets' schedule, runs this short would still act mostly
 * at random. A random policy scores about 0.5. */
#define BREAKOUT_CUT "train.iteration_steps=10000 agent.eps_decay_steps=25000"

/* Seeds 0..n-1 of `preset` on Breakout, cut down as above: every seed's fifth (last) iteration
 * must reach `last` and at least twice its first (the near-random one). */
static void breakout_learns_in_50k_steps(const char *preset, int n, double last) {
    static double rm[MAX_ROWS];
    char dirs[MAX_SEEDS][1024];
    if (!train_seeds("breakout", preset, n, 50000, BREAKOUT_CUT, dirs)) return;
    for (int seed = 0; seed < n; seed++) {
        int rows = run_column(dirs[seed], "metrics.csv", "return_mean", rm);
        REQUIRE(rows == 5);
        note("    %s breakout seed %d: %.2f %.2f %.2f %.2f %.2f per 10k steps\n", preset, seed,
             rm[0], rm[1], rm[2], rm[3], rm[4]);
        CHECK(rm[4] >= last);
        CHECK(rm[4] >= 2 * rm[0]);
    }
}

/* QR-DQN, seeds 0 and 1 side by side (about 40 CPU-seconds a run). Measured (docs/results.md),
 * per 10k steps: seed 0 0.48 0.54 1.07 1.92 2.45, seed 1 0.50 0.62 1.56 2.51 2.81. Threshold:
 * every seed's fifth iteration >= 1.5 and at least twice its first. */
SLOW_TEST(learning_qr_dqn_breakout_learns_in_50k_steps) {
    breakout_learns_in_50k_steps("qr-dqn", 2, 1.5);
}

/* IQN with the preset's 32 fractions, seed 0 only: about eight times a qr-dqn step (5-6
 * CPU-minutes for the run on the shared 2-vCPU machine). Measured (docs/results.md): 0.51 0.56
 * 0.58 1.22 1.70 per 10k steps; it starts later than QR-DQN and is still rising (seed 1, not
 * run here: 0.54 0.60 0.46 0.49 1.42). Threshold: the fifth iteration >= 1.2 and at least twice
 * the first. */
SLOW_TEST(learning_iqn_breakout_learns_in_50k_steps) {
    breakout_learns_in_50k_steps("iqn", 1, 1.2);
}
