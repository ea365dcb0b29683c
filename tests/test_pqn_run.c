/* Tests for PQN runs (prism/pqn_run.h): the run archive a PQN run writes, and checkpoints that
 * resume bit-identically mid-run, with every environment mid-episode. */
#include "harness.h"
#include "prism/presets.h"
#include "prism/pqn_run.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static prism_config pqn_cartpole(void) {
    prism_config c;
    prism_config_defaults(&c);
    PRISM_ASSERT(prism_preset_apply(&c, "pqn", "CartPole-v1") == PRISM_OK);
    /* 3 iterations of 5 rollouts of 4 x 128 steps; evaluation after each */
    PRISM_ASSERT(prism_config_apply(&c, "train.steps=7680 train.iteration_steps=2560 "
                                        "train.eval_episodes=2 agent.eps_decay_steps=4000 "
                                        "train.checkpoint_seconds=0 seed=3") == PRISM_OK);
    return c;
}

/* The file with every sys_ column dropped (they depend on the machine's speed). */
static char *without_sys_columns(const char *path) {
    char *text = test_read_file(path, NULL);
    if (!text) return NULL;
    int first_sys = -1, col = 0;
    for (const char *p = text; *p && *p != '\n'; p++) {
        if ((p == text || p[-1] == ',') && !strncmp(p, "sys_", 4) && first_sys < 0) first_sys = col;
        if (*p == ',') col++;
    }
    char *out = malloc(strlen(text) + 1), *o = out;
    col = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') col = 0;
        bool keep = first_sys < 0 || col < first_sys || *p == '\n';
        if (*p == ',') col++;
        if (keep && !(*p == ',' && col == first_sys)) *o++ = *p;
    }
    *o = 0;
    free(text);
    return out;
}

static void file_in(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static void resume_case(prism_config cfg, long long steps, int iterations, int obs_floats) {
    prism_train_options o = prism_train_options_default();
    o.runs_dir = test_tmpdir();
    o.quiet = true, o.no_index = true;
    char full[1024], part[1024], path[1200];
    o.run_id = "full";
    REQUIRE(prism_train(&cfg, &o, full, sizeof full) == PRISM_OK);
    /* a stop request before the first rollout: the run stops after it, inside iteration 1,
     * and checkpoints there (4 CartPoles mid-episode) */
    volatile sig_atomic_t stop = 1;
    o.stop = &stop;
    o.run_id = "part";
    CHECK(prism_train(&cfg, &o, part, sizeof part) == PRISM_ERR_INTERRUPTED);
    file_in(path, sizeof path, part, "checkpoints/ckpt-0-mid.bin");
    REQUIRE(access(path, F_OK) == 0);
    stop = 0;
    prism_config back;
    REQUIRE(prism_train_resume(part, &back, &o) == PRISM_OK);
    CHECK(back.agent_cfg.kind == PRISM_AGENT_PQN);
    const char *files[] = {"metrics.csv", "episodes.csv"};
    for (int i = 0; i < 2; i++) {
        char a[1200], b[1200];
        file_in(a, sizeof a, full, files[i]);
        file_in(b, sizeof b, part, files[i]);
        char *ta = without_sys_columns(a), *tb = without_sys_columns(b);
        REQUIRE(ta && tb);
        if (strcmp(ta, tb))
            test_fail(__FILE__, __LINE__, "%s differs between the run and its resumed twin",
                      files[i]);
        free(ta), free(tb);
    }
    /* the final networks are the same bits: the two last checkpoints' network sections */
    prism_pqn_run ra, rb;
    char da[1200], db[1200];
    file_in(da, sizeof da, full, "checkpoints");
    file_in(db, sizeof db, part, "checkpoints");
    REQUIRE(prism_pqn_run_init(&ra, &cfg) == PRISM_OK);
    REQUIRE(prism_pqn_run_init(&rb, &cfg) == PRISM_OK);
    REQUIRE(prism_pqn_checkpoint_load(da, &ra) == PRISM_OK);
    REQUIRE(prism_pqn_checkpoint_load(db, &rb) == PRISM_OK);
    CHECK(memcmp(ra.pq.net.params, rb.pq.net.params, sizeof(float) * ra.pq.net.n_params) == 0);
    CHECK(ra.pq.env_steps == steps && rb.pq.env_steps == steps);
    CHECK(ra.iterations_done == iterations && rb.iterations_done == iterations);
    CHECK(memcmp(ra.pq.obs, rb.pq.obs, sizeof(float) * (size_t)obs_floats) == 0);
    prism_pqn_run_free(&ra), prism_pqn_run_free(&rb);
}

TEST(pqn_run_archive_and_bit_identical_resume_mid_iteration) {
    prism_config cfg = pqn_cartpole();
    char full[1024], path[1200];
    resume_case(cfg, 7680, 3, 16);
    snprintf(full, sizeof full, "%s/full", test_tmpdir());
    /* the archive: three rows with PQN's columns, a completed run.json */
    file_in(path, sizeof path, full, "metrics.csv");
    char *m = test_read_file(path, NULL);
    REQUIRE(m);
    CHECK(strstr(m, "lambda_return_mean") && strstr(m, "epsilon") && strstr(m, "eval_return"));
    int rows = 0;
    for (char *p = m; *p; p++) rows += *p == '\n';
    CHECK_EQ_INT(rows, 4);
    free(m);
    /* prism eval (and watch, which loads the same way) evaluates the PQN checkpoint's network */
    char out[4096];
    CHECK(test_prism(out, sizeof out, "eval %s --episodes 3 --epsilon 0 --json", full) == 0);
    CHECK(strstr(out, "ckpt-3.bin") && strstr(out, "\"env_steps\":7680"));
    file_in(path, sizeof path, full, "run.json");
    char *run = test_read_file(path, NULL);
    CHECK(run && strstr(run, "\"status\": \"completed\""));
    free(run);
}

/* MinAtar states hold pointers to static tables: the checkpoint must not depend on them. */
TEST(pqn_run_resumes_minatar_mid_episode) {
    prism_config c;
    prism_config_defaults(&c);
    REQUIRE(prism_preset_apply(&c, "pqn", "MinAtar/Breakout-v1") == PRISM_OK);
    /* the preset's 128 environments, 2 iterations of 2 rollouts of 32 steps */
    REQUIRE(prism_config_apply(&c, "train.steps=16384 train.iteration_steps=8192 "
                                   "train.checkpoint_seconds=0 train.eval_episodes=0 seed=2") ==
            PRISM_OK);
    resume_case(c, 16384, 2, 128 * 400);
}

/* Write buf (len bytes) to path. */
static void write_bytes(const char *path, const char *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    CHECK_EQ_INT((int)fwrite(buf, 1, len, f), (int)len);
    fclose(f);
}

/* A damaged checkpoint is refused with a message naming the file and the problem, and the
 * state is not used: a flipped bit, a truncated file, another format version (checksum
 * recomputed, so only the version is wrong) and a file of another kind. The envelope reader is
 * the one run checkpoints use. */
TEST(pqn_checkpoint_rejects_damage) {
    prism_config cfg = pqn_cartpole();
    prism_pqn_run r;
    REQUIRE(prism_pqn_run_init(&r, &cfg) == PRISM_OK);
    const char *dir = test_tmpdir();
    REQUIRE(prism_pqn_checkpoint_save(dir, &r) == PRISM_OK);
    char path[1200];
    file_in(path, sizeof path, dir, "ckpt-0.bin");
    size_t len = 0;
    char *good = test_read_file(path, &len);
    REQUIRE(good && len > 100);
    char *buf = malloc(len);
    REQUIRE(buf);
    static const struct {
        const char *what;
        int flip;    /* 1: one bit in the middle flipped */
        int cut;     /* bytes cut off the end */
        int version; /* written at offset 8 with the checksum fixed (0: untouched) */
        int magic;   /* 1: a run checkpoint's magic */
    } cases[] = {{"checksum mismatch", 1, 0, 0, 0},
                 {"truncated or padded", 0, 7, 0, 0},
                 {"too short", 0, -1, 0, 0},
                 {"version 7", 0, 0, 7, 0},
                 {"not a PQN checkpoint", 0, 0, 0, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(buf, good, len);
        size_t n = cases[i].cut < 0 ? 10 : len - (size_t)cases[i].cut;
        if (cases[i].flip) buf[len / 2] ^= 1;
        if (cases[i].version) {
            for (int b = 0; b < 4; b++)
                buf[8 + b] = (char)(((uint32_t)cases[i].version >> (8 * b)) & 0xff);
            uint32_t crc = prism_crc32c(0, buf, len - 4);
            for (int b = 0; b < 4; b++) buf[len - 4 + b] = (char)((crc >> (8 * b)) & 0xff);
        }
        if (cases[i].magic) memcpy(buf, "PRISMCKP", 8);
        write_bytes(path, buf, n);
        CHECK(prism_pqn_checkpoint_load(dir, &r) == PRISM_ERR_CORRUPT);
        CHECK(strstr(prism_error_message(), "ckpt-0.bin") != NULL);
        if (!strstr(prism_error_message(), cases[i].what))
            test_fail(__FILE__, __LINE__, "case %zu: '%s' not in: %s", i, cases[i].what,
                      prism_error_message());
    }
    /* restored, it loads */
    write_bytes(path, good, len);
    CHECK(prism_pqn_checkpoint_load(dir, &r) == PRISM_OK);
    free(buf), free(good);
    prism_pqn_run_free(&r);
}

/* LunarLander's Box2D world lives outside its struct: its checkpoint is refused, saying why. */
TEST(pqn_checkpoint_refuses_lunarlander) {
    prism_config cfg = pqn_cartpole();
    prism_pqn_run r;
    const char *dir = test_tmpdir();
    REQUIRE(prism_config_set(&cfg, "env", "LunarLander-v3") == PRISM_OK);
    REQUIRE(prism_pqn_run_init(&r, &cfg) == PRISM_OK);
    CHECK(prism_pqn_checkpoint_save(dir, &r) == PRISM_ERR_UNSUPPORTED);
    prism_pqn_run_free(&r);
}
