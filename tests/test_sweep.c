/* Tests of sweeps (src/run/sweep*.c, cli/cmd_sweep.c): manifest expansion from flags, studies
 * and sweep files (counts, order, unknown environments skipped), usage errors (exit 2), a tiny
 * local sweep end to end with two workers (completed runs, a diverging run recorded as failed
 * while the others complete, the report), resuming (completed runs skipped, a lost run rerun,
 * an interrupted one continued from its checkpoint), a real Ctrl-C (slow), the Slurm scripts
 * (and a real single-node Slurm when tests/slurm/run.sh can start one: slow), and the one
 * `prism train` command line both backends run. */
#include "harness.h"
#include "prism/archive.h"
#include "prism/dir_lock.h"
#include "prism/file.h"
#include "prism/sweep.h"

#include "../src/run/sweep_internal.h"

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Settings that make a run take well under a second (a few on rainbow). */
#define TINY                                                                                       \
    "--set agent.hidden=32 --set train.steps=2000 --set train.iteration_steps=500 "                \
    "--set agent.min_replay=100"

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The last non-empty line of out, copied into line[cap]. */
static void last_line(const char *out, char *line, size_t cap) {
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '\n') n--;
    size_t b = n;
    while (b > 0 && out[b - 1] != '\n') b--;
    snprintf(line, cap, "%.*s", (int)(n - b), out + b);
}

/* The status string of run.json in DIR/runs/ID ("" when unreadable). */
static void run_status(const char *dir, const char *id, char *status, size_t cap) {
    char path[1200];
    snprintf(path, sizeof path, "%s/runs/%s/run.json", dir, id);
    status[0] = 0;
    char *t = test_read_file(path, NULL);
    const char *p = t ? strstr(t, "\"status\": \"") : NULL;
    if (p) {
        p += 11;
        const char *q = strchr(p, '"');
        if (q) snprintf(status, cap, "%.*s", (int)(q - p), p);
    }
    free(t);
}

TEST(sweep_grid_counts_order_and_canonical_envs) {
    prism_sweep s;
    prism_sweep_init(&s, "t");
    REQUIRE(prism_sweep_add_grid(&s, "dqn,rainbow", "CartPole-v0,acrobot-v1", 5, 2) == PRISM_OK);
    CHECK_EQ_INT(s.nruns, 2 * 2 * 2);
    /* seed outermost, then env, then agent; env ids canonical */
    const char *want[] = {"CartPole-v0-dqn-s5", "CartPole-v0-rainbow-s5",
                          "Acrobot-v1-dqn-s5",  "Acrobot-v1-rainbow-s5",
                          "CartPole-v0-dqn-s6", "CartPole-v0-rainbow-s6",
                          "Acrobot-v1-dqn-s6",  "Acrobot-v1-rainbow-s6"};
    for (int i = 0; i < s.nruns && i < 8; i++) {
        if (strcmp(s.runs[i].id, want[i]))
            test_fail(__FILE__, __LINE__, "run %d is %s, want %s", i, s.runs[i].id, want[i]);
    }
    CHECK_EQ_INT(s.runs[7].seed, 6);
    CHECK(!strcmp(s.runs[2].env, "Acrobot-v1"));
    CHECK(prism_sweep_validate(&s) == PRISM_OK);
    /* a typo in a preset is an error */
    CHECK(prism_sweep_add_grid(&s, "dqn,rainbw", "CartPole-v0", 0, 1) == PRISM_ERR_NOT_FOUND);
    CHECK(prism_sweep_add_grid(&s, "dqn", "CartPole-v0", 0, 0) == PRISM_ERR_INVALID);
    CHECK(prism_sweep_add_grid(&s, "a b=dqn", "CartPole-v0", 0, 1) == PRISM_ERR_INVALID);
    prism_sweep_free(&s);
}

TEST(sweep_studies_expand_to_the_paper_grid) {
    const char *agents, *envs, *settings;
    CHECK(!prism_sweep_study("revisiting-rainbow", &agents, &envs, &settings));
    struct {
        const char *name;
        int agents, envs;
    } want[] = {{"revisiting-rainbow-classic", 14, 4},
                {"revisiting-rainbow-minatar", 14, 5},
                {"optimizer-loss", 4, 4},
                {"quantile-components-classic", 7, 4},
                {"quantile-components-minatar", 7, 5},
                {"implicit-components-classic", 7, 4},
                {"implicit-components-minatar", 7, 5},
                {"munchausen-classic", 12, 4},
                {"munchausen-minatar", 12, 5},
                {"flavours-classic", 9, 4},
                {"flavours-minatar", 9, 5},
                {"noise-schedule", 10, 3}};
    for (int k = 0; k < (int)(sizeof want / sizeof want[0]); k++) {
        REQUIRE(prism_sweep_study(want[k].name, &agents, &envs, &settings));
        prism_sweep s;
        prism_sweep_init(&s, want[k].name);
        REQUIRE(prism_sweep_add_grid(&s, agents, envs, 0, 10) == PRISM_OK);
        CHECK_EQ_INT(s.nruns, want[k].agents * want[k].envs * 10);
        CHECK(prism_sweep_validate(&s) == PRISM_OK);
        if (k == 0) {
            /* the ablation agents: dqn, six dqn+X, rainbow, six rainbow-X */
            int plus = 0, minus = 0;
            for (int i = 0; i < 14; i++) {
                plus += !strncmp(s.runs[i].agent, "dqn+", 4);
                minus += !strncmp(s.runs[i].agent, "rainbow-", 8);
            }
            CHECK_EQ_INT(plus, 6);
            CHECK_EQ_INT(minus, 6);
        }
        prism_sweep_free(&s);
    }
}

/* A new sweep directory is locked from the moment it exists: a `sweep --resume` that finds it
 * before its creator started the runs is refused and starts nothing (it once ran the whole
 * sweep beside its creator when it came in that window). */
TEST(sweep_directory_is_locked_from_its_creation) {
    prism_sweep s;
    prism_sweep_init(&s, "window");
    REQUIRE(prism_sweep_add_grid(&s, "dqn", "CartPole-v0", 0, 1) == PRISM_OK);
    REQUIRE(prism_sweep_validate(&s) == PRISM_OK);
    char dir[1024], out[4096], runs[1100];
    char *argv[] = {(char *)"prism", (char *)"sweep"};
    prism_dir_lock lock;
    REQUIRE(prism_sweep_create_dir(&s, test_tmpdir(), 2, argv, dir, sizeof dir, &lock) == PRISM_OK);
    CHECK(lock.held);
    int rc = test_prism(out, sizeof out, "sweep --resume %s -j 1 --no-report", dir);
    CHECK_EQ_INT(rc, 2);
    CHECK(strstr(out, "pid") != NULL);
    snprintf(runs, sizeof runs, "%s/runs", dir);
    char *listing = NULL;
    size_t n = 0;
    FILE *ls = open_memstream(&listing, &n);
    REQUIRE(ls);
    DIR *d = opendir(runs);
    REQUIRE(d);
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') fprintf(ls, "%s ", e->d_name);
    closedir(d);
    fclose(ls);
    CHECK_EQ_INT((int)n, 0); /* no run was started */
    free(listing);
    prism_dir_lock_release(&lock);
    prism_sweep_free(&s);
}

TEST(sweep_optimizer_loss_labels_carry_their_settings) {
    const char *agents, *envs, *settings;
    REQUIRE(prism_sweep_study("optimizer-loss", &agents, &envs, &settings));
    prism_sweep s;
    prism_sweep_init(&s, "optimizer-loss");
    REQUIRE(prism_sweep_add_grid(&s, agents, "CartPole-v0", 0, 1) == PRISM_OK);
    REQUIRE(prism_sweep_validate(&s) == PRISM_OK);
    char dir[1024];
    char *argv[] = {(char *)"prism", (char *)"sweep"};
    REQUIRE(prism_sweep_create_dir(&s, test_tmpdir(), 2, argv, dir, sizeof dir, NULL) == PRISM_OK);
    char path[1200];
    snprintf(path, sizeof path, "%s/manifest.tsv", dir);
    char *m = test_read_file(path, NULL);
    REQUIRE(m);
    CHECK(strstr(m, "CartPole-v0-dqn-adam-mse-s0\tdqn-adam-mse\tdqn\tCartPole-v0\t0\t"
                    "agent.optimizer=adam agent.loss=mse\n") != NULL);
    CHECK(strstr(m, "CartPole-v0-dqn-rmsprop-huber-s0\tdqn-rmsprop-huber\tdqn\tCartPole-v0\t0\t"
                    "agent.optimizer=rmsprop_tf agent.loss=huber\n") != NULL);
    free(m);
    /* sweep.json reads back: same runs, all pending */
    prism_sweep r;
    REQUIRE(prism_sweep_open(&r, dir) == PRISM_OK);
    CHECK_EQ_INT(r.nruns, 4);
    CHECK(!strcmp(r.runs[1].id, s.runs[1].id));
    CHECK_EQ_INT(prism_sweep_count(&r).pending, 4);
    prism_sweep_free(&r);
    prism_sweep_free(&s);
}

/* The noise-schedule study's labels name the noise mode and carry it, seed by seed, so the
 * runs are those of docs/results.md (ids, presets and settings). */
TEST(sweep_noise_schedule_labels_carry_the_noise_mode) {
    char out[16384];
    REQUIRE(test_prism(out, sizeof out, "sweep noise-schedule --seeds 2 --dry-run") == 0);
    CHECK(strstr(out, "60 runs") != NULL);
    CHECK(strstr(out, "\nAcrobot-v1-dqn-s0\tdqn\tdqn\tAcrobot-v1\t0\t\n") != NULL);
    CHECK(strstr(out, "\nAcrobot-v1-dqn+noisy.fixed-shared-s0\tdqn+noisy.fixed-shared\t"
                      "dqn+noisy\tAcrobot-v1\t0\tagent.noisy_resample=fixed-shared\n") != NULL);
    CHECK(strstr(out, "\nCartPole-v0-rainbow.update-s1\trainbow.update\trainbow\tCartPole-v0\t"
                      "1\tagent.noisy_resample=update\n") != NULL);
    /* seed-major: every run of seed 0 comes before the first of seed 1 */
    const char *last0 = strstr(out, "CartPole-v0-rainbow.fixed-shared-s0");
    const char *first1 = strstr(out, "Acrobot-v1-dqn-s1");
    CHECK(last0 && first1 && last0 < first1);
}

TEST(sweep_file_parses_ranges_labels_settings_and_errors) {
    char path[1024];
    snprintf(path, sizeof path, "%s/s.txt", test_tmpdir());
    write_text(path, "# a sweep file\n"
                     "dqn CartPole-v0 0..2   # three seeds\n"
                     "\n"
                     "fast=rainbow Acrobot-v1 7 agent.lr=1e-3 agent.n_step=5\n"
                     "rainbow MountainCar-v0\n");
    prism_sweep s;
    prism_sweep_init(&s, "f");
    REQUIRE(prism_sweep_load_file(&s, path, 10, 2) == PRISM_OK);
    CHECK_EQ_INT(s.nruns, 3 + 1 + 2);
    CHECK(!strcmp(s.runs[0].id, "CartPole-v0-dqn-s0"));
    CHECK(!strcmp(s.runs[2].id, "CartPole-v0-dqn-s2"));
    CHECK(!strcmp(s.runs[3].id, "Acrobot-v1-fast-s7"));
    CHECK(!strcmp(s.runs[3].preset, "rainbow"));
    CHECK(!strcmp(s.runs[3].settings, "agent.lr=1e-3 agent.n_step=5"));
    CHECK(!strcmp(s.runs[4].id, "MountainCar-v0-rainbow-s10")); /* default seeds 10, 11 */
    CHECK(!strcmp(s.runs[5].id, "MountainCar-v0-rainbow-s11"));
    CHECK(prism_sweep_validate(&s) == PRISM_OK);
    prism_sweep_free(&s);

    const char *bad[][2] = {
        {"dqn CartPole-v0 3..1\n", ":1: seeds '3..1'"},
        {"# x\ndqn CartPole-v0 0 lr\n", ":2: setting 'lr' is not key=value"},
        {"dqn\n", ":1: expected AGENT ENV"},
        {"dqnn CartPole-v0\n", ":1:"},
        {"# nothing\n", "has no runs"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(path, bad[i][0]);
        prism_sweep b;
        prism_sweep_init(&b, "b");
        prism_status st = prism_sweep_load_file(&b, path, 0, 1);
        CHECK(st == PRISM_ERR_INVALID || st == PRISM_ERR_NOT_FOUND);
        if (!strstr(prism_error_message(), bad[i][1]))
            test_fail(__FILE__, __LINE__, "message '%s' lacks '%s'", prism_error_message(),
                      bad[i][1]);
        prism_sweep_free(&b);
    }
    /* a valid file whose settings are wrong fails validation, naming the run and the key */
    write_text(path, "dqn CartPole-v0 0 agent.lrr=1\n");
    prism_sweep v;
    prism_sweep_init(&v, "v");
    REQUIRE(prism_sweep_load_file(&v, path, 0, 1) == PRISM_OK);
    CHECK(prism_sweep_validate(&v) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "CartPole-v0-dqn-s0") != NULL);
    CHECK(strstr(prism_error_message(), "agent.lrr") != NULL);
    prism_sweep_free(&v);
}

/* A mistyped environment anywhere a sweep names one (flags, a sweep file, `agents show`) is an
 * error with a suggestion: skipping it would run half the grid and exit 0. */
TEST(sweep_unknown_env_is_an_error_with_a_suggestion) {
    prism_sweep s;
    prism_sweep_init(&s, "t");
    CHECK(prism_sweep_add_grid(&s, "dqn", "CartPole-v0,CartPol-v1", 0, 2) == PRISM_ERR_NOT_FOUND);
    CHECK(strstr(prism_error_message(), "did you mean CartPole-v1") != NULL);
    CHECK_EQ_INT(s.nruns, 0);
    prism_sweep_free(&s);

    char path[1024];
    snprintf(path, sizeof path, "%s/typo.sweep", test_tmpdir());
    write_text(path, "dqn CartPole-v0 0\ndqn CartPol-v1 0\n");
    prism_sweep_init(&s, "f");
    CHECK(prism_sweep_load_file(&s, path, 0, 1) == PRISM_ERR_NOT_FOUND);
    CHECK(strstr(prism_error_message(), "typo.sweep:2:") != NULL);
    CHECK(strstr(prism_error_message(), "did you mean CartPole-v1") != NULL);
    prism_sweep_free(&s);

    char out[8192];
    int rc = test_prism(out, sizeof out,
                        "sweep --agents dqn --envs CartPole-v0,CartPol-v1 "
                        "--sweeps-dir %s/sw",
                        test_tmpdir());
    CHECK_EQ_INT(rc, 2);
    CHECK(strstr(out, "did you mean CartPole-v1") != NULL);
    rc = test_prism(out, sizeof out, "sweep --file %s --sweeps-dir %s/sw", path, test_tmpdir());
    CHECK_EQ_INT(rc, 2);
    CHECK(strstr(out, "did you mean CartPole-v1") != NULL);
    char sw[1100];
    snprintf(sw, sizeof sw, "%s/sw", test_tmpdir());
    CHECK(!exists(sw));
    rc = test_prism(out, sizeof out, "agents show rainbow --env Acrobat");
    CHECK_EQ_INT(rc, 2);
    CHECK(strstr(out, "did you mean Acrobot-v1?") != NULL);
    CHECK(strstr(out, "resolved for") == NULL); /* no generic values printed */
}

/* Seeds up to UINT64_MAX: ranges end there instead of wrapping (a `seed <= hi` loop never
 * ends at UINT64_MAX), and only plain decimal integers in range are seeds. */
TEST(sweep_seeds_at_uint64_max_end_and_malformed_seeds_are_rejected) {
    char path[1024];
    snprintf(path, sizeof path, "%s/max.sweep", test_tmpdir());
    write_text(path, "dqn CartPole-v0 18446744073709551615\n"
                     "rainbow CartPole-v0 18446744073709551614..18446744073709551615\n");
    prism_sweep s;
    prism_sweep_init(&s, "m");
    /* a bounded allocator (the file and room for 64 runs): a range that never ends runs out
     * of it, and fails the test, instead of exhausting the machine */
    prism_alloc_fail_after(4);
    prism_status st = prism_sweep_load_file(&s, path, 0, 1);
    prism_alloc_fail_after(-1);
    REQUIRE(st == PRISM_OK);
    REQUIRE(s.nruns == 3);
    CHECK(s.runs[0].seed == UINT64_MAX);
    CHECK(s.runs[1].seed == UINT64_MAX - 1 && s.runs[2].seed == UINT64_MAX);
    CHECK(!strcmp(s.runs[2].id, "CartPole-v0-rainbow-s18446744073709551615"));
    CHECK(prism_sweep_validate(&s) == PRISM_OK);
    prism_sweep_free(&s);

    /* the default seeds of a line without SEEDS, and the grid, stop at UINT64_MAX too */
    write_text(path, "dqn CartPole-v0\n");
    prism_sweep_init(&s, "m");
    CHECK(prism_sweep_load_file(&s, path, UINT64_MAX - 1, 2) == PRISM_OK);
    CHECK_EQ_INT(s.nruns, 2);
    CHECK(prism_sweep_load_file(&s, path, UINT64_MAX, 2) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "max.sweep:1:") != NULL);
    CHECK(prism_sweep_add_grid(&s, "dqn", "CartPole-v0", UINT64_MAX - 1, 2) == PRISM_OK);
    CHECK_EQ_INT(s.nruns, 4);
    CHECK(s.runs[3].seed == UINT64_MAX);
    CHECK(prism_sweep_add_grid(&s, "dqn", "CartPole-v0", UINT64_MAX - 1, 3) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "largest seed") != NULL);
    CHECK_EQ_INT(s.nruns, 4); /* nothing wrapped around to seed 0 */
    prism_sweep_free(&s);

    const char *bad[] = {"-1",    "+5",  "0x10", "1e3",     "18446744073709551616",
                         "5..-1", "..3", "3..",  "1..2..3", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "dqn CartPole-v0 %s\n", bad[i]);
        write_text(path, line);
        prism_sweep_init(&s, "b");
        prism_alloc_fail_after(4);
        st = prism_sweep_load_file(&s, path, 0, 1);
        prism_alloc_fail_after(-1);
        if (st != PRISM_ERR_INVALID || !strstr(prism_error_message(), "plain decimal"))
            test_fail(__FILE__, __LINE__, "seeds '%s': status %d, %d runs, '%s'", bad[i], (int)st,
                      s.nruns, prism_error_message());
        prism_sweep_free(&s);
    }

    /* the CLI: --seed-start at the top of the range, past it, and not a number */
    char out[8192];
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "sweep --agents dqn --envs CartPole-v0 --seed-start "
                            "18446744073709551614 --seeds 2 --dry-run"),
                 0);
    CHECK(strstr(out, "2 runs") != NULL && strstr(out, "CartPole-v0-dqn-s18446744073709551615"));
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "sweep --agents dqn --envs CartPole-v0 --seed-start "
                            "18446744073709551615 --seeds 2 --dry-run"),
                 2);
    CHECK(strstr(out, "largest seed") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "sweep --agents dqn --envs CartPole-v0 --seed-start +3 --dry-run"),
                 2);
    CHECK(strstr(out, "plain whole number") != NULL);
}

/* A sweep directory of one quick run (not started), made through the library; its path in
 * dir[cap]. */
static bool make_sweep_dir(char *dir, size_t cap) {
    prism_sweep s;
    prism_sweep_init(&s, "m");
    char parent[1024];
    snprintf(parent, sizeof parent, "%s/sweeps", test_tmpdir());
    char *argv[] = {(char *)"prism", (char *)"sweep"};
    bool ok = prism_sweep_add_grid(&s, "dqn", "CartPole-v0", 0, 1) == PRISM_OK &&
              prism_sweep_create_dir(&s, parent, 2, argv, dir, cap, NULL) == PRISM_OK;
    prism_sweep_free(&s);
    return ok;
}

static void write_manifest(const char *dir, const char *text) {
    char path[1200];
    snprintf(path, sizeof path, "%s/manifest.tsv", dir);
    write_text(path, text);
}

/* Run ids read back from manifest.tsv become paths (runs/ID, logs/ID.log, failed/ID.k): one
 * that climbs out of the sweep must be refused before anything is moved or started. */
TEST(sweep_manifest_ids_cannot_reach_outside_the_sweep) {
    char dir[1024], victim[1100], keep[1200], out[8192];
    REQUIRE(make_sweep_dir(dir, sizeof dir));
    /* DIR/runs/../../../victimdir is <tmp>/victimdir */
    snprintf(victim, sizeof victim, "%s/victimdir", test_tmpdir());
    REQUIRE(mkdir(victim, 0777) == 0);
    snprintf(keep, sizeof keep, "%s/keep", victim);
    write_text(keep, "data\n");
    write_manifest(dir, "../../../victimdir\tdqn\tdqn\tCartPole-v0\t0\ttrain.steps=300 "
                        "train.iteration_steps=300 agent.min_replay=100 agent.hidden=8\n");
    char probe[1200];
    snprintf(probe, sizeof probe, "%s/runs/../../../victimdir/keep", dir);
    REQUIRE(exists(probe));
    int rc = test_prism(out, sizeof out, "sweep --resume %s -j 1 --no-report", dir);
    CHECK_EQ_INT(rc, 2);
    CHECK(strstr(out, "manifest.tsv:1:") && strstr(out, "run id '../../../victimdir'"));
    CHECK(exists(keep)); /* not moved aside, not trained into */
    char moved[1200];
    snprintf(moved, sizeof moved, "%s/sweeps/victimdir.1", test_tmpdir());
    CHECK(!exists(moved));

    /* the library refuses every damaged field, naming file and line */
    const char *bad[][2] = {
        {".hidden\tdqn\tdqn\tCartPole-v0\t0\t\n", "run id '.hidden'"},
        {"a/b\tdqn\tdqn\tCartPole-v0\t0\t\n", "run id 'a/b'"},
        {"\tdqn\tdqn\tCartPole-v0\t0\t\n", "run id ''"},
        {"a\001b\tdqn\tdqn\tCartPole-v0\t0\t\n", "control characters"},
        {"ok\tdqn\tdqn\tCartPol-v1\t0\t\n", "did you mean CartPole-v1"},
        {"ok\tdqn\tdqnn\tCartPole-v0\t0\t\n", "dqnn"},
        {"ok\ta;b\tdqn\tCartPole-v0\t0\t\n", "agent label 'a;b'"},
        {"ok\tdqn\tdqn\tCartPole-v0\t-1\t\n", "expected 6 tab-separated fields"},
        {"ok\tdqn\tdqn\tCartPole-v0\t0\tlr\n", "not key=value"},
        {"ok\tdqn\tdqn\tCartPole-v0\t0\ta=1\tb=2\n", "whitespace"},
        {"ok\tdqn\tdqn\tCartPole-v0\t0\t\n\nok2\tdqn\tdqn\tCartPole-v0\t1\t\n", ":2: expected 6"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_manifest(dir, bad[i][0]);
        prism_sweep s;
        prism_status st = prism_sweep_open(&s, dir);
        if (st != PRISM_ERR_CORRUPT || !strstr(prism_error_message(), "manifest.tsv:") ||
            !strstr(prism_error_message(), bad[i][1]))
            test_fail(__FILE__, __LINE__, "manifest %zu: status %d, '%s' (want '%s')", i, (int)st,
                      prism_error_message(), bad[i][1]);
        if (st == PRISM_OK) prism_sweep_free(&s);
    }
    /* the same check guards --run-id */
    CHECK(prism_archive_id_check("CartPole-v0-dqn-s0") == PRISM_OK);
    CHECK(prism_archive_id_check("..") == PRISM_ERR_INVALID);
    CHECK(prism_archive_id_check("x\ny") == PRISM_ERR_INVALID);
}

/* A manifest damaged after its first line: the runs read so far are freed (the asan suite
 * runs this with LeakSanitizer, so a leak in the CLI child or here fails it). */
TEST(sweep_resume_of_a_damaged_manifest_frees_what_it_read) {
    char dir[1024], out[8192];
    REQUIRE(make_sweep_dir(dir, sizeof dir));
    write_manifest(dir, "a\tdqn\tdqn\tCartPole-v0\t0\t\n"
                        "b\tdqn\tdqn\tCartPole-v0\t1\t\n"
                        "c\tdqn\tdqn\tCartPole-v0\n");
    prism_sweep s;
    CHECK(prism_sweep_open(&s, dir) == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(), "manifest.tsv:3:") != NULL);
    CHECK(s.runs == NULL && s.nruns == 0); /* nothing left for the caller to free */
    prism_sweep_free(&s);                  /* and freeing it anyway is harmless */
    int rc = test_prism(out, sizeof out, "sweep --resume %s", dir);
    CHECK_EQ_INT(rc, 2);
    CHECK(strstr(out, "manifest.tsv:3:") != NULL);
    CHECK(strstr(out, "LeakSanitizer") == NULL);
}

/* A stand-in for the prism binary at path: it writes its arguments, one a line, to $STUB_OUT. */
static bool write_stub_prism(const char *path) {
    write_text(path,
               "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$STUB_OUT\"\n");
    return chmod(path, 0755) == 0;
}

/* The Slurm scripts are shell code: hostile text (blanks, quotes, $(...), backticks, ';', globs,
 * newlines) in the binary's path, the options or the manifest's settings must stay data. The
 * scripts are checked with bash -n and the per-task path is run with a stub prism. */
TEST(sweep_slurm_scripts_keep_hostile_text_as_data) {
    char dir[1024], cmd[8192], path[1200], out[8192];
    REQUIRE(make_sweep_dir(dir, sizeof dir));
    const char *t = test_tmpdir();
    /* a glob in a setting would expand against the files where the task runs */
    write_manifest(
        dir, "CartPole-v0-dqn-s0\tdqn\tdqn\tCartPole-v0\t0\tagent.x=* b=$(touch${IFS}PWNED)\n");
    char bindir[1024], exe[1100], args[1100];
    snprintf(bindir, sizeof bindir, "%s/bin dir 'q\" $(touch PWNED) `touch PWNED2`; *", t);
    REQUIRE(mkdir(bindir, 0777) == 0);
    snprintf(exe, sizeof exe, "%s/prism", bindir);
    snprintf(args, sizeof args, "%s/args.txt", t);
    REQUIRE(write_stub_prism(exe));
    prism_sweep s;
    REQUIRE(prism_sweep_open(&s, dir) == PRISM_OK);
    prism_sweep_slurm_options o = {
        .exe = exe, .partition = "debug", .time = "1:00:00", .max_parallel = 2, .grace_s = 60};
    char array[256];
    REQUIRE(prism_sweep_slurm_write(&s, dir, &o, array, sizeof array) == PRISM_OK);
    snprintf(cmd, sizeof cmd, "bash -n '%s/slurm/array.sbatch' && bash -n '%s/slurm/report.sbatch'",
             dir, dir);
    CHECK(system(cmd) == 0);
    /* the task, from a directory where '*' has something to match */
    char cwd[1100];
    snprintf(cwd, sizeof cwd, "%s/cwd", t);
    REQUIRE(mkdir(cwd, 0777) == 0);
    snprintf(path, sizeof path, "%s/zzz", cwd);
    write_text(path, "");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && SLURM_ARRAY_TASK_ID=0 STUB_OUT='%s' bash '%s/slurm/array.sbatch' "
             "> '%s/task.out' 2>&1",
             cwd, args, dir, t);
    int ws = system(cmd);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    char *got = test_read_file(args, NULL);
    REQUIRE(got);
    CHECK(strstr(got, "train\nCartPole-v0\n--agent\ndqn\n--seed\n0\n--set\nagent=dqn\n") != NULL);
    CHECK(strstr(got, "--set\nagent.x=*\n--set\nb=$(touch${IFS}PWNED)\n") != NULL);
    CHECK(strstr(got, "zzz") == NULL);
    free(got);
    snprintf(path, sizeof path, "%s/PWNED", cwd);
    CHECK(!exists(path));
    snprintf(path, sizeof path, "%s/PWNED2", cwd);
    CHECK(!exists(path));

    /* a manifest id that climbs out is refused by the script too */
    write_manifest(dir, "../../x\tdqn\tdqn\tCartPole-v0\t0\t\n");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && SLURM_ARRAY_TASK_ID=0 STUB_OUT='%s' bash '%s/slurm/array.sbatch' "
             "> '%s/task.out' 2>&1",
             cwd, args, dir, t);
    ws = system(cmd);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 2);

    /* options that a #SBATCH line or the shell would misread are refused, nothing written */
    const char *bad_partition[] = {"a b", "a\nb", "$(id)", "`id`", "a;b",
                                   "*",   "a'b",  "a\"b",  "a#b",  ""};
    for (size_t i = 0; i < sizeof bad_partition / sizeof bad_partition[0]; i++) {
        prism_sweep_slurm_options b = o;
        b.partition = bad_partition[i];
        if (prism_sweep_slurm_write(&s, dir, &b, array, sizeof array) != PRISM_ERR_INVALID)
            test_fail(__FILE__, __LINE__, "--partition '%s' accepted", bad_partition[i]);
        b = o;
        b.time = bad_partition[i];
        if (prism_sweep_slurm_write(&s, dir, &b, array, sizeof array) != PRISM_ERR_INVALID)
            test_fail(__FILE__, __LINE__, "--time '%s' accepted", bad_partition[i]);
    }
    prism_sweep_slurm_options b = o;
    b.exe = "/usr/bin/pri\nsm";
    CHECK(prism_sweep_slurm_write(&s, dir, &b, array, sizeof array) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "control character") != NULL);
    prism_sweep_free(&s);
    write_manifest(dir, "CartPole-v0-dqn-s0\tdqn\tdqn\tCartPole-v0\t0\t\n");
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "sweep --resume %s --slurm --dry-run --partition 'x;touch PWNED'", dir),
                 2);
    CHECK(strstr(out, "--partition") && strstr(out, "#SBATCH"));
}

/* Both backends run one command line, built once (sweep_train_args): the words the local
 * backend execs are the words the Slurm task gives prism train, for a run started afresh and
 * for one resumed from its checkpoint. The task runs with a stub prism that prints them. */
TEST(sweep_both_backends_run_the_same_train_command) {
    char dir[1024], exe[1100], args[1100], cmd[4096], path[1400], want[4096];
    REQUIRE(make_sweep_dir(dir, sizeof dir));
    const char *t = test_tmpdir();
    write_manifest(dir, "CartPole-v0-fast-s7\tfast\trainbow\tCartPole-v0\t7\tagent.hidden=32,32 "
                        "train.steps=500\n");
    snprintf(exe, sizeof exe, "%s/prism-stub", t);
    snprintf(args, sizeof args, "%s/args.txt", t);
    REQUIRE(write_stub_prism(exe));
    prism_sweep s;
    REQUIRE(prism_sweep_open(&s, dir) == PRISM_OK);
    prism_sweep_slurm_options o = {.exe = exe, .max_parallel = 1};
    char array[64];
    REQUIRE(prism_sweep_slurm_write(&s, dir, &o, array, sizeof array) == PRISM_OK);
    const prism_sweep_run *r = &s.runs[0];
    for (int resume = 0; resume < 2; resume++) {
        if (resume) { /* a checkpoint to continue from */
            snprintf(path, sizeof path, "%s/runs/%s/checkpoints", dir, r->id);
            REQUIRE(prism_mkdir_p(path) == PRISM_OK);
            snprintf(path, sizeof path, "%s/runs/%s/checkpoints/latest", dir, r->id);
            write_text(path, "ckpt-1.bin\n");
        }
        sweep_argv a;
        REQUIRE(sweep_run_train_args(&s, r, dir, resume, &a) == PRISM_OK);
        REQUIRE(a.argv[a.argc] == NULL && !strcmp(a.argv[0], "prism"));
        size_t n = 0;
        want[0] = 0;
        for (int i = 1; i < a.argc; i++)
            n += (size_t)snprintf(want + n, sizeof want - n, "%s\n", a.argv[i]);
        char expect[4096];
        if (resume)
            snprintf(expect, sizeof expect, "train\n--resume\n%s/runs/%s\n--quiet\n", dir, r->id);
        else
            snprintf(expect, sizeof expect,
                     "train\nCartPole-v0\n--agent\nrainbow\n--seed\n7\n--set\nagent=fast\n"
                     "--set\nagent.hidden=32,32\n--set\ntrain.steps=500\n--runs-dir\n%s/runs\n"
                     "--run-id\n%s\n--quiet\n",
                     dir, r->id);
        CHECK(!strcmp(want, expect));
        CHECK_EQ_INT(a.set_end - a.set_begin, resume ? 0 : 4);
        sweep_argv_free(&a);
        snprintf(cmd, sizeof cmd,
                 "SLURM_ARRAY_TASK_ID=0 STUB_OUT='%s' bash '%s/slurm/array.sbatch' >/dev/null 2>&1",
                 args, dir);
        CHECK_EQ_INT(system(cmd), 0);
        char *got = test_read_file(args, NULL);
        REQUIRE(got);
        if (strcmp(got, want))
            test_fail(__FILE__, __LINE__, "%s: the Slurm task ran\n%s\nthe local backend runs\n%s",
                      resume ? "resume" : "fresh", got, want);
        free(got);
    }
    prism_sweep_free(&s);
}

TEST(sweep_cli_usage_errors_exit_2) {
    char out[8192];
    const char *t = test_tmpdir();
    struct {
        const char *args, *needle;
    } cases[] = {
        {"sweep", "say what to run"},
        {"sweep --agents dqn", "--agents needs --envs"},
        {"sweep no-such-study", "unknown study"},
        {"sweep --agents dqn --envs Nope-v0", "unknown environment 'Nope-v0'"},
        {"sweep --agents dqn,rainbw --envs CartPole-v0", "rainbw"},
        {"sweep --agents dqn --envs CartPole-v0 --set agent.lrr=1", "agent.lrr"},
        {"sweep --agents dqn --envs CartPole-v0 --set lr", "not key=value"},
        {"sweep --agents dqn --envs CartPole-v0 --seeds 0", "--seeds"},
        {"sweep --agents dqn --envs CartPole-v0 --partition x", "add --slurm"},
        {"sweep --agents dqn --envs CartPole-v0 --slurm -j 2", "--max-parallel"},
        {"sweep --resume /nonexistent/sweep", "not a sweep directory"},
        {"sweep --resume /tmp --agents dqn", "cannot be combined"},
        {"sweep --agnets dqn", "agnets"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* --sweeps-dir (to see that nothing is created) except where it is itself an error */
        bool resume = strstr(cases[i].args, "--resume") != NULL;
        int rc = test_prism(out, sizeof out, "%s%s%s%s", cases[i].args,
                            resume ? "" : " --sweeps-dir ", resume ? "" : t, resume ? "" : "/sw");
        if (rc != 2 || !strstr(out, cases[i].needle))
            test_fail(__FILE__, __LINE__, "'%s': exit %d, output:\n%s", cases[i].args, rc, out);
    }
    /* nothing was created by any of them */
    char sw[1024];
    snprintf(sw, sizeof sw, "%s/sw", t);
    CHECK(!exists(sw));
    /* the studies are listed */
    CHECK_EQ_INT(test_prism(out, sizeof out, "sweep --list"), 0);
    CHECK(strstr(out, "revisiting-rainbow-classic") && strstr(out, "optimizer-loss"));
    /* a dry run lists the runs and creates nothing */
    CHECK_EQ_INT(test_prism(out, sizeof out,
                            "sweep revisiting-rainbow-classic --seeds 10 --dry-run --sweeps-dir %s",
                            sw),
                 0);
    CHECK(strstr(out, "560 runs") != NULL);
    CHECK(!exists(sw));
}

/* The end-to-end sweep shared by the next tests: 2 agents x 1 env x 2 seeds plus one run that
 * diverges (SGD with lr 10 on MSE: the TD loss becomes inf at update 21, deterministically). */
static bool run_tiny_sweep(char *dir, size_t cap, char *out, size_t ocap) {
    char file[1024];
    snprintf(file, sizeof file, "%s/tiny.sweep", test_tmpdir());
    write_text(file, "dqn CartPole-v0 0..1\n"
                     "rainbow CartPole-v0 0..1\n"
                     "sgd10=dqn CartPole-v0 0 agent.optimizer=sgd agent.lr=10 agent.loss=mse\n");
    int rc = test_prism(
        out, ocap, "sweep --file %s -j 2 --sweeps-dir %s/sweeps " TINY " --set agent.num_atoms=11",
        file, test_tmpdir());
    /* a failed run makes the exit code 1; the report is still written */
    if (rc != 1) test_fail(__FILE__, __LINE__, "sweep exit %d:\n%s", rc, out);
    char line[1024];
    last_line(out, line, sizeof line);
    size_t n = strlen(line);
    const char *suffix = "/report.html";
    if (n <= strlen(suffix) || strcmp(line + n - strlen(suffix), suffix)) {
        test_fail(__FILE__, __LINE__, "last line is not the report: '%s'", line);
        return false;
    }
    snprintf(dir, cap, "%.*s", (int)(n - strlen(suffix)), line);
    return rc == 1;
}

TEST(sweep_local_end_to_end_with_a_failing_run) {
    char dir[1024], out[32768], path[1200], status[64];
    REQUIRE(run_tiny_sweep(dir, sizeof dir, out, sizeof out));
    const char *done[] = {"CartPole-v0-dqn-s0", "CartPole-v0-rainbow-s0", "CartPole-v0-dqn-s1",
                          "CartPole-v0-rainbow-s1"};
    for (int i = 0; i < 4; i++) {
        run_status(dir, done[i], status, sizeof status);
        if (strcmp(status, "completed"))
            test_fail(__FILE__, __LINE__, "%s: status '%s'", done[i], status);
        snprintf(path, sizeof path, "%s/logs/%s.log", dir, done[i]);
        CHECK(exists(path));
    }
    run_status(dir, "CartPole-v0-sgd10-s0", status, sizeof status);
    CHECK(!strcmp(status, "diverged"));
    CHECK(strstr(out, "failed: CartPole-v0-sgd10-s0") != NULL);
    CHECK(strstr(out, "4 completed, 1 failed") != NULL);
    /* deterministic failures are not retried */
    CHECK(strstr(out, "retrying") == NULL);
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    char *js = test_read_file(path, NULL);
    REQUIRE(js);
    CHECK(strstr(js, "\"status\": \"failed\"") != NULL); /* the sweep's: a run failed */
    CHECK(strstr(js, "\"completed\": 4") != NULL);
    CHECK(strstr(js, "\"failures\": 1") != NULL);
    free(js);
    /* the report exists and used the four completed runs (and lists the failed one) */
    snprintf(path, sizeof path, "%s/report.html", dir);
    CHECK(file_size(path) > 1000);
    snprintf(path, sizeof path, "%s/report.runs.csv", dir);
    char *runs = test_read_file(path, NULL);
    REQUIRE(runs);
    CHECK(strstr(runs, "diverged") != NULL);
    CHECK(strstr(runs, "sgd10") != NULL);
    free(runs);
    CHECK(strstr(out, "4 runs used (1 environment, 2 agents)") != NULL);
    /* the children were quiet: no per-iteration lines ("it   1  steps ...") in the sweep's
     * output (a failure's reason may still name an iteration) */
    CHECK(strstr(out, "it   1  steps") == NULL);
}

TEST(sweep_resume_skips_completed_and_continues_the_rest) {
    char dir[1024], out[32768], path[1200], status[64];
    REQUIRE(run_tiny_sweep(dir, sizeof dir, out, sizeof out));
    /* Lose one run (as if never started) and mark another interrupted: its final checkpoint
     * is there, so `prism train --resume` continues it. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s/runs/CartPole-v0-rainbow-s1' && "
             "sed -i 's/\"status\": \"completed\"/\"status\": \"interrupted\"/' "
             "'%s/runs/CartPole-v0-dqn-s1/run.json'",
             dir, dir);
    REQUIRE(system(cmd) == 0);
    snprintf(path, sizeof path, "%s/logs/CartPole-v0-dqn-s0.log", dir);
    long untouched = file_size(path);
    snprintf(path, sizeof path, "%s/runs/CartPole-v0-dqn-s0/run.json", dir);
    char *before = test_read_file(path, NULL);
    REQUIRE(before);
    int rc = test_prism(out, sizeof out, "sweep --resume %s -j 2", dir);
    /* the diverged run is still failed (not retried: it would diverge again) */
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(out, "resuming") && strstr(out, "2 completed, 1 interrupted"));
    CHECK(strstr(out, "resumed     CartPole-v0-dqn-s1") != NULL);
    CHECK(strstr(out, "started     CartPole-v0-rainbow-s1") != NULL);
    CHECK(strstr(out, "CartPole-v0-dqn-s0") == NULL); /* skipped: never mentioned */
    CHECK(strstr(out, "4 completed, 1 failed") != NULL);
    run_status(dir, "CartPole-v0-dqn-s1", status, sizeof status);
    CHECK(!strcmp(status, "completed"));
    run_status(dir, "CartPole-v0-rainbow-s1", status, sizeof status);
    CHECK(!strcmp(status, "completed"));
    char *after = test_read_file(path, NULL);
    CHECK(after && !strcmp(before, after));
    free(before), free(after);
    snprintf(path, sizeof path, "%s/logs/CartPole-v0-dqn-s0.log", dir);
    CHECK_EQ_INT(file_size(path), untouched);
    snprintf(path, sizeof path, "%s/runs/CartPole-v0-dqn-s1/run.json", dir);
    char *resumed = test_read_file(path, NULL);
    CHECK(resumed && strstr(resumed, "\"resumed\": 1"));
    free(resumed);
    /* while another process holds the directory's lock (here: this one), a second sweep
     * refuses to start, naming the holder */
    prism_dir_lock lock;
    REQUIRE(prism_dir_lock_acquire(&lock, dir) == PRISM_OK);
    CHECK_EQ_INT(test_prism(out, sizeof out, "sweep --resume %s", dir), 2);
    char who[64];
    snprintf(who, sizeof who, "pid %ld ", (long)getpid());
    CHECK(strstr(out, who) && strstr(out, "in use"));
    prism_dir_lock_release(&lock);
}

TEST(sweep_slurm_dry_run_writes_the_array_and_report_jobs) {
    char out[16384], line[1024], path[1200];
    const char *t = test_tmpdir();
    int rc = test_prism(out, sizeof out,
                        "sweep --agents dqn,rainbow --envs CartPole-v0 --seeds 3 --slurm "
                        "--dry-run --max-parallel 4 --partition debug --time 1:00:00 "
                        "--sweeps-dir %s/sw " TINY,
                        t);
    REQUIRE(rc == 0);
    last_line(out, line, sizeof line);
    char *slash = strrchr(line, '/');
    REQUIRE(slash && !strcmp(slash, "/report.html"));
    *slash = 0;
    snprintf(path, sizeof path, "%s/slurm/array.sbatch", line);
    char *a = test_read_file(path, NULL);
    REQUIRE(a);
    CHECK(strstr(a, "#SBATCH --array=0-5%4\n") != NULL);
    CHECK(strstr(a, "#SBATCH --signal=B:TERM@120\n") != NULL);
    CHECK(strstr(a, "#SBATCH --partition=debug\n") != NULL);
    CHECK(strstr(a, "#SBATCH --time=1:00:00\n") != NULL);
    CHECK(strstr(a, "SLURM_ARRAY_TASK_ID") != NULL);
    CHECK(strstr(a, "train --resume") != NULL);
    free(a);
    snprintf(path, sizeof path, "%s/slurm/report.sbatch", line);
    char *r = test_read_file(path, NULL);
    REQUIRE(r);
    CHECK(strstr(r, "report \"$SWEEP/runs\" -o \"$SWEEP/report.html\"") != NULL);
    free(r);
    CHECK(strstr(out, "--dependency=afterok:") != NULL);
    /* The array script runs task 4 by itself (what Slurm would do), without Slurm: the fifth
     * manifest line is CartPole-v0-dqn-s2. */
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "SLURM_ARRAY_TASK_ID=4 bash %s/slurm/array.sbatch >/dev/null 2>&1",
             line);
    CHECK_EQ_INT(system(cmd), 0);
    char status[64];
    run_status(line, "CartPole-v0-dqn-s2", status, sizeof status);
    CHECK(!strcmp(status, "completed"));
    /* a second time it sees the run completed and does nothing */
    snprintf(cmd, sizeof cmd, "SLURM_ARRAY_TASK_ID=4 bash %s/slurm/array.sbatch 2>&1", line);
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    char buf[4096] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    CHECK_EQ_INT(pclose(p), 0);
    CHECK(strstr(buf, "already completed") != NULL);
    /* resubmitting what is left skips it: the array becomes 0-3,5 */
    rc = test_prism(out, sizeof out, "sweep --resume %s --slurm --dry-run", line);
    CHECK_EQ_INT(rc, 0);
    snprintf(path, sizeof path, "%s/slurm/array.sbatch", line);
    a = test_read_file(path, NULL);
    CHECK(a && strstr(a, "#SBATCH --array=0-3,5%16\n"));
    free(a);
}

/* Ctrl-C for real: SIGINT to the sweep while two longer runs train; they checkpoint, the
 * sweep says how to resume, and --resume finishes the job. Slow (tens of seconds). */
SLOW_TEST(sweep_ctrl_c_leaves_a_resumable_sweep) {
    char out[32768], cmd[4096];
    const char *t = test_tmpdir();
    const char *bin = getenv("PRISM_BIN") ? getenv("PRISM_BIN") : "build/prism";
    snprintf(cmd, sizeof cmd,
             "%s sweep --agents rainbow --envs CartPole-v0 --seeds 3 -j 2 --sweeps-dir %s/sw "
             "--set agent.hidden=64 --set train.steps=15000 --set train.iteration_steps=1000 "
             "--no-report > %s/out.log 2>&1 & pid=$!; sleep 3; kill -INT $pid; wait $pid; "
             "echo \"exit $?\" >> %s/out.log",
             bin, t, t, t);
    REQUIRE(system(cmd) == 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/out.log", t);
    char *log = test_read_file(path, NULL);
    REQUIRE(log);
    CHECK(strstr(log, "exit 1") != NULL);
    CHECK(strstr(log, "prism sweep --resume") != NULL);
    CHECK(strstr(log, "interrupted") != NULL);
    const char *p = strstr(log, "--resume ");
    char dir[1024] = "";
    if (p) sscanf(p + 9, "%1023s", dir);
    free(log);
    REQUIRE(dir[0]);
    char status[64];
    run_status(dir, "CartPole-v0-rainbow-s0", status, sizeof status);
    CHECK(!strcmp(status, "interrupted"));
    snprintf(path, sizeof path, "%s/runs/CartPole-v0-rainbow-s2", dir);
    CHECK(!exists(path)); /* never started */
    int rc = test_prism(out, sizeof out, "sweep --resume %s -j 2 --no-report", dir);
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(out, "resumed     CartPole-v0-rainbow-s0") != NULL);
    CHECK(strstr(out, "3 completed, 0 failed") != NULL);
}

/* A real single-node Slurm (tests/slurm/run.sh): skipped when the daemons are not installed
 * or cannot start here. */
SLOW_TEST(sweep_slurm_for_real) {
    char out[65536];
    const char *bin = getenv("PRISM_BIN") ? getenv("PRISM_BIN") : "build/prism";
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "PRISM_BIN=%s bash tests/slurm/run.sh %s 2>&1", bin, test_tmpdir());
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int ws = pclose(p);
    int rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    printf("%s", out);
    if (rc == 77) {
        test_skip("Slurm could not be started here (see the lines above)");
        return;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(out, "PASSED") != NULL);
}

/* Progress events seen by the library's callback, as "event id" lines. */
static void collect(void *ctx, const prism_sweep_progress *p) {
    char *log = ctx;
    if (p->event && p->run) {
        size_t n = strlen(log);
        snprintf(log + n, 4096 - n, "%s %s\n", p->event, p->run->id);
    }
}

/* A crash (death by a signal) is retried once; a second crash leaves the run failed. The
 * "binary" is a script that kills itself with SIGSEGV (always, or on its first call only) and
 * otherwise execs the real prism. */
TEST(sweep_crashed_run_is_retried_once) {
    const char *t = test_tmpdir();
    char bin[4096], script[10000], flaky[1024], always[1024];
    if (!realpath(getenv("PRISM_BIN") ? getenv("PRISM_BIN") : "build/prism", bin)) {
        test_fail(__FILE__, __LINE__, "no prism binary");
        return;
    }
    snprintf(flaky, sizeof flaky, "%s/flaky.sh", t);
    snprintf(always, sizeof always, "%s/always.sh", t);
    snprintf(script, sizeof script,
             "#!/bin/sh\nm=\"%s/attempted\"\n"
             "if [ ! -e \"$m\" ]; then : > \"$m\"; kill -SEGV $$; fi\nexec '%s' \"$@\"\n",
             t, bin);
    write_text(flaky, script);
    write_text(always, "#!/bin/sh\nkill -SEGV $$\n");
    REQUIRE(chmod(flaky, 0755) == 0 && chmod(always, 0755) == 0);
    const char *exes[] = {flaky, always};
    for (int k = 0; k < 2; k++) {
        prism_sweep s;
        prism_sweep_init(&s, k ? "always" : "flaky");
        REQUIRE(prism_sweep_add_grid(&s, "dqn", "CartPole-v0", 0, 1) == PRISM_OK);
        const char *sets[] = {"agent.hidden=32", "train.steps=1000", "agent.min_replay=100"};
        for (int i = 0; i < 3; i++) REQUIRE(prism_sweep_add_setting(&s, sets[i]) == PRISM_OK);
        char dir[1024];
        char *argv[] = {(char *)"prism"};
        REQUIRE(prism_sweep_create_dir(&s, t, 1, argv, dir, sizeof dir, NULL) == PRISM_OK);
        char events[4096] = "";
        prism_sweep_local_options o = prism_sweep_local_options_default();
        o.exe = exes[k];
        o.progress = collect;
        o.ctx = events;
        CHECK(prism_sweep_run_local(&s, dir, &o) == PRISM_OK);
        prism_sweep_counts c = prism_sweep_count(&s);
        if (k == 0) {
            CHECK(strstr(events, "retrying CartPole-v0-dqn-s0\nstarted CartPole-v0-dqn-s0\n"
                                 "completed CartPole-v0-dqn-s0\n") != NULL);
            CHECK_EQ_INT(c.completed, 1);
            CHECK_EQ_INT(s.runs[0].failures, 1);
        } else {
            CHECK(strstr(events, "retrying CartPole-v0-dqn-s0\nstarted CartPole-v0-dqn-s0\n"
                                 "failed CartPole-v0-dqn-s0\n") != NULL);
            CHECK_EQ_INT(c.failed, 1);
            CHECK_EQ_INT(s.runs[0].failures, 2);
            CHECK(strstr(s.runs[0].message, "killed by signal 11") != NULL);
            /* resuming does not try a third time */
            prism_sweep r;
            REQUIRE(prism_sweep_open(&r, dir) == PRISM_OK);
            CHECK_EQ_INT(prism_sweep_count(&r).failed, 1);
            events[0] = 0;
            CHECK(prism_sweep_run_local(&r, dir, &o) == PRISM_OK);
            CHECK(events[0] == 0);
            prism_sweep_free(&r);
        }
        prism_sweep_free(&s);
    }
}

/* ---- the workers live and die with their sweep ---- */

/* The pid a run's run.json records (its writer), 0 when unreadable. */
static int run_pid(const char *dir, int k) {
    char path[1400];
    snprintf(path, sizeof path, "%s/runs/CartPole-v0-dqn-s%d/run.json", dir, k);
    char *t = test_read_file(path, NULL);
    const char *p = t ? strstr(t, "\"pid\": ") : NULL;
    int pid = p ? atoi(p + 7) : 0;
    free(t);
    return pid;
}

/* True while process `pid` exists and is not a zombie (an orphan's zombie may wait for a
 * reaper that never comes in a container). */
static bool alive(int pid) {
    char path[64], stat_line[256];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool live = fgets(stat_line, sizeof stat_line, f) != NULL;
    fclose(f);
    const char *paren = live ? strrchr(stat_line, ')') : NULL;
    return paren && paren[1] == ' ' && paren[2] != 'Z';
}

/* Start a sweep of two long dqn runs on two workers in the background (output to log) and wait
 * (at most 30 s) until both workers have checkpointed; the sweep directory goes to dir[cap], the
 * workers' pids to workers[2]. Returns the sweep's pid, or -1 (the test fails). */
static int start_long_sweep(const char *log, char *dir, size_t cap, int *workers) {
    char sweeps[1100];
    snprintf(sweeps, sizeof sweeps, "%s/sweeps", test_tmpdir());
    const char *args[] = {"sweep",
                          "--agents",
                          "dqn",
                          "--envs",
                          "CartPole-v0",
                          "--seeds",
                          "2",
                          "-j",
                          "2",
                          "--steps",
                          "5000000",
                          "--set",
                          "agent.hidden=16",
                          "--set",
                          "train.iteration_steps=200",
                          "--set",
                          "train.checkpoint_every=1",
                          "--no-report",
                          "--sweeps-dir",
                          sweeps,
                          NULL};
    int pid = test_prism_spawn(log, args);
    dir[0] = 0;
    for (int i = 0; i < 3000; i++) {
        if (!dir[0]) {
            DIR *d = opendir(sweeps);
            struct dirent *e;
            while (d && (e = readdir(d)))
                if (e->d_name[0] != '.' && prism_path_join(dir, cap, sweeps, e->d_name)) dir[0] = 0;
            if (d) closedir(d);
        }
        int ready = 0;
        for (int k = 0; dir[0] && k < 2; k++) {
            char latest[1500];
            snprintf(latest, sizeof latest, "%s/runs/CartPole-v0-dqn-s%d/checkpoints/latest", dir,
                     k);
            workers[k] = run_pid(dir, k);
            ready += exists(latest) && workers[k] > 0;
        }
        if (ready == 2) return pid;
        int rc;
        if (test_exited(pid, &rc)) break;
        test_sleep_us(10000);
    }
    char *text = test_read_file(log, NULL);
    test_fail(__FILE__, __LINE__, "the sweep's workers did not start; log:\n%s",
              text ? text : "(none)");
    free(text);
    return -1;
}

/* How many of the workers still live after at most `seconds`; the survivors are then killed
 * (they would train on for minutes). */
static int survivors_after(const int *workers, double seconds) {
    double start = prism_now();
    int n;
    do {
        n = alive(workers[0]) + alive(workers[1]);
        if (n) test_sleep_us(10000);
    } while (n && prism_now() - start < seconds);
    for (int k = 0; k < 2; k++)
        if (alive(workers[k])) kill(workers[k], SIGKILL);
    return n;
}

/* After its sweep stopped, each run was stopped by its worker at a checkpoint: status
 * interrupted, and nobody holds its lock. */
static void check_runs_interrupted(const char *dir, const char *after) {
    for (int k = 0; k < 2; k++) {
        char id[64], run[1400], status[64];
        snprintf(id, sizeof id, "CartPole-v0-dqn-s%d", k);
        snprintf(run, sizeof run, "%s/runs/%s", dir, id);
        run_status(dir, id, status, sizeof status);
        if (strcmp(status, "interrupted"))
            test_fail(__FILE__, __LINE__, "%s: status '%s' after %s", id, status, after);
        CHECK(!prism_dir_lock_held(run, NULL, 0));
    }
}

TEST(sweep_killed_takes_its_workers_with_it) {
    char log[1100], dir[1100], out[8192];
    int workers[2] = {0, 0};
    snprintf(log, sizeof log, "%s/sweep.log", test_tmpdir());
    int pid = start_long_sweep(log, dir, sizeof dir, workers);
    REQUIRE(pid > 0);
    /* a Slurm submission of the same directory would rewrite sweep.json under it: refused */
    char who[64];
    snprintf(who, sizeof who, "pid %d ", pid);
    CHECK_EQ_INT(test_prism(out, sizeof out, "sweep --resume %s --slurm --dry-run", dir), 2);
    CHECK(strstr(out, who) != NULL);
    kill(pid, SIGKILL);
    CHECK_EQ_INT(test_wait(pid), 128 + SIGKILL);
    /* the kernel tells the workers (SIGTERM): each ends its episode, checkpoints and stops; a
     * CartPole episode of a 16-unit network takes milliseconds */
    CHECK_EQ_INT(survivors_after(workers, 1.0), 0);
    check_runs_interrupted(dir, "its sweep was killed");
}

TEST(sweep_hangup_stops_the_workers_with_a_checkpoint) {
    char log[1100], dir[1100];
    int workers[2] = {0, 0};
    snprintf(log, sizeof log, "%s/sweep.log", test_tmpdir());
    /* a sweep keeps ignoring SIGHUP when it starts with SIGHUP ignored (under nohup): give it
     * the default, whatever the test runner was started with */
    struct sigaction dfl = {.sa_handler = SIG_DFL}, old;
    sigaction(SIGHUP, &dfl, &old);
    int pid = start_long_sweep(log, dir, sizeof dir, workers);
    sigaction(SIGHUP, &old, NULL);
    REQUIRE(pid > 0);
    kill(pid, SIGHUP); /* the terminal went away (an SSH disconnect) */
    int rc = -1;
    for (int i = 0; i < 1000 && !test_exited(pid, &rc); i++) test_sleep_us(10000);
    if (rc < 0) {
        kill(pid, SIGKILL);
        test_wait(pid);
    }
    CHECK_EQ_INT(rc, 1); /* stopped, with runs left to resume */
    CHECK_EQ_INT(survivors_after(workers, 1.0), 0);
    check_runs_interrupted(dir, "a hangup");
    char path[1200];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    char *js = test_read_file(path, NULL);
    CHECK(js && strstr(js, "\"status\": \"interrupted\"") != NULL);
    free(js);
}

TEST(sweep_resume_waits_for_a_run_another_process_writes) {
    char dir[1024], out[32768], run[1200], log[1200], status[64];
    REQUIRE(run_tiny_sweep(dir, sizeof dir, out, sizeof out));
    snprintf(run, sizeof run, "%s/runs/CartPole-v0-dqn-s1", dir);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "sed -i 's/\"status\": \"completed\"/\"status\": \"interrupted\"/' '%s/run.json'",
             run);
    REQUIRE(system(cmd) == 0);
    /* another process (here: this one) writes the run, as an earlier sweep's child finishing
     * its checkpoint would */
    prism_dir_lock lock;
    REQUIRE(prism_dir_lock_acquire(&lock, run) == PRISM_OK);
    snprintf(log, sizeof log, "%s/resume.log", test_tmpdir());
    const char *args[] = {"sweep", "--resume", dir, "-j", "1", "--no-report", NULL};
    int pid = test_prism_spawn(log, args);
    bool waiting = false;
    for (int i = 0; i < 1000 && !waiting; i++) {
        char *text = test_read_file(log, NULL);
        waiting = text && strstr(text, "waiting") && strstr(text, "CartPole-v0-dqn-s1");
        free(text);
        if (!waiting) test_sleep_us(10000);
    }
    CHECK(waiting);
    run_status(dir, "CartPole-v0-dqn-s1", status, sizeof status);
    CHECK(!strcmp(status, "interrupted")); /* untouched while another process writes it */
    prism_dir_lock_release(&lock);
    int rc = -1;
    for (int i = 0; i < 6000 && !test_exited(pid, &rc); i++) test_sleep_us(10000);
    if (rc < 0) {
        kill(pid, SIGKILL);
        test_wait(pid);
    }
    CHECK_EQ_INT(rc, 1); /* the diverged run is still failed */
    run_status(dir, "CartPole-v0-dqn-s1", status, sizeof status);
    CHECK(!strcmp(status, "completed"));
}
