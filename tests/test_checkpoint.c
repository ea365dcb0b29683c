/* Tests of damaged and mismatched checkpoints: truncated, bit-flipped, wrong version, a
 * `latest` naming nothing, a run resumed with another network size. Each must be refused with
 * a message naming the file and the problem (exit 2 from the CLI), never a crash; and a
 * damaged payload whose checksum was recomputed (what the CRC cannot catch) must still be
 * refused or loaded cleanly by the nested network and replay loaders (run under ASan by
 * `make test-asan`; fuzz/ does the same at scale).
 *
 * Not here: resume of healthy checkpoints (test_resume.c).
 */
#include "harness.h"
#include "prism/checkpoint.h"
#include "prism/core.h"
#include "prism/file.h"
#include "prism/rng.h"
#include "prism/run_state.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

enum { HEADER = 24 };

/* A tiny rainbow run in the test's temporary directory (PER, noisy nets, C51): 3 iterations of
 * 200 steps, a checkpoint after each, the newest two kept. It ran to the end, but its run.json
 * says interrupted: resuming a completed run does nothing at all, and these tests want the
 * resume to load (and refuse) the checkpoint. */
static int make_run(const char *id, char *dir) {
    char out[4096];
    int rc = test_prism(out, sizeof out,
                        "train CartPole-v0 --agent rainbow --seed 1 --steps 600 --set "
                        "agent.hidden=16 --set agent.min_replay=50 --set agent.batch_size=8 "
                        "--set agent.replay_capacity=300 --set train.iteration_steps=200 "
                        "--set train.checkpoint_every=1 --set train.eval_episodes=0 --quiet "
                        "--runs-dir %s --run-id %s",
                        test_tmpdir(), id);
    if (rc != 0) {
        test_fail(__FILE__, __LINE__, "training run failed (exit %d): %s", rc, out);
        return 0;
    }
    snprintf(dir, PRISM_PATH_MAX, "%s/%s", test_tmpdir(), id);
    char path[PRISM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/run.json", dir);
    char *json = test_read_file(path, NULL);
    char *status = json ? strstr(json, "\"status\": \"completed\"") : NULL;
    if (!status) {
        test_fail(__FILE__, __LINE__, "%s has no completed status", path);
        free(json);
        return 0;
    }
    *status = 0;
    FILE *f = fopen(path, "wb");
    int ok = f && fprintf(f, "%s\"status\": \"interrupted\"%s", json,
                          status + strlen("\"status\": \"completed\"")) > 0;
    if (f && fclose(f) != 0) ok = 0;
    free(json);
    return ok;
}

static char *slurp(const char *path, size_t *len) {
    char *text = NULL;
    if (prism_file_read(path, &text, len) != PRISM_OK) return NULL;
    return text;
}

static int spit(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Recompute the outer CRC-32C so that only the contents are wrong. */
static void fix_crc(unsigned char *p, size_t len) {
    put_u32(p + len - 4, prism_crc32c(0, p, len - 4));
}

/* `prism train --resume dir` must exit 2 with a message naming `names` and containing `what`. */
static void check_refused(const char *dir, const char *names, const char *what) {
    char out[8192];
    int rc = test_prism(out, sizeof out, "train --resume %s --quiet", dir);
    CHECK_EQ_INT(rc, 2);
    if (!strstr(out, names) || !strstr(out, what))
        test_fail(__FILE__, __LINE__, "expected a message naming '%s' and saying '%s'; got:\n%s",
                  names, what, out);
}

/* The path of the latest checkpoint of dir (from checkpoints/latest). */
static void latest_of(const char *dir, char *path) {
    char latest[PRISM_PATH_MAX];
    size_t len;
    path[0] = 0;
    if (prism_path_join(latest, sizeof latest, dir, "checkpoints/latest")) return;
    char *name = slurp(latest, &len);
    if (!name) {
        path[0] = 0;
        return;
    }
    name[strcspn(name, "\n")] = 0;
    snprintf(path, PRISM_PATH_MAX, "%s/checkpoints/%.200s", dir, name);
    prism_free(name);
}

/* A fresh run `id` (make_run) and the bytes of its latest checkpoint, whose path goes to ck;
 * NULL when either failed (make_run says why). */
static unsigned char *run_with_checkpoint(const char *id, char *dir, char *ck, size_t *len) {
    if (!make_run(id, dir)) return NULL;
    latest_of(dir, ck);
    return (unsigned char *)slurp(ck, len);
}

TEST(checkpoint_truncated_is_refused_naming_the_file) {
    char dir[PRISM_PATH_MAX], ck[PRISM_PATH_MAX];
    size_t len;
    unsigned char *data = run_with_checkpoint("t", dir, ck, &len);
    REQUIRE(data && len > 1000);
    REQUIRE(truncate(ck, (off_t)(len / 2)) == 0);
    check_refused(dir, ck, "truncated");
    REQUIRE(truncate(ck, 10) == 0);
    check_refused(dir, ck, "too short");
    REQUIRE(truncate(ck, 0) == 0);
    check_refused(dir, ck, "not a prism checkpoint");
    /* restored, the run resumes (nothing left to run: it is complete) */
    REQUIRE(spit(ck, data, len));
    char out[4096];
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s --quiet", dir), 0);
    prism_free(data);
}

TEST(checkpoint_bit_flip_and_wrong_version_are_refused) {
    char dir[PRISM_PATH_MAX], ck[PRISM_PATH_MAX];
    size_t len;
    unsigned char *data = run_with_checkpoint("f", dir, ck, &len);
    REQUIRE(data && len > 1000);
    unsigned char *copy = malloc(len);
    REQUIRE(copy);
    /* one flipped bit anywhere: header, payload (network, replay), trailer */
    size_t where[] = {3, HEADER + 40, len / 2, len - 100, len - 2};
    for (int i = 0; i < 5; i++) {
        memcpy(copy, data, len);
        copy[where[i]] ^= 0x10;
        REQUIRE(spit(ck, copy, len));
        check_refused(dir, ck, i == 0 ? "not a prism checkpoint" : "checksum mismatch");
    }
    /* another format version, even with a valid checksum */
    memcpy(copy, data, len);
    put_u32(copy + 8, 99);
    fix_crc(copy, len);
    REQUIRE(spit(ck, copy, len));
    check_refused(dir, ck, "version 99");
    /* version 1 (raw struct bytes) is refused with what to do */
    memcpy(copy, data, len);
    put_u32(copy + 8, 1);
    fix_crc(copy, len);
    REQUIRE(spit(ck, copy, len));
    check_refused(dir, ck, "version 1");
    check_refused(dir, ck, "with the prism that started it");
    /* a payload length that disagrees with the file */
    memcpy(copy, data, len);
    copy[16] ^= 1;
    REQUIRE(spit(ck, copy, len));
    check_refused(dir, ck, "truncated or padded");
    free(copy);
    prism_free(data);
}

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

TEST(checkpoint_fields_are_read_by_name_and_a_missing_or_unknown_one_is_refused) {
    char dir[PRISM_PATH_MAX], ck[PRISM_PATH_MAX];
    size_t len;
    unsigned char *data = run_with_checkpoint("n", dir, ck, &len);
    REQUIRE(data && len > 1000);
    /* the named fields lead the payload: a field renamed (checksum fixed) is missing */
    unsigned char *copy = malloc(len + 64);
    REQUIRE(copy);
    memcpy(copy, data, len);
    unsigned char *name = memmem(copy, len, "run.env_steps", 13);
    REQUIRE(name != NULL);
    name[12] = 'z';
    fix_crc(copy, len);
    REQUIRE(spit(ck, copy, len));
    check_refused(dir, ck, "has no field run.env_steps");
    /* a field of another size */
    memcpy(copy, data, len);
    name = memmem(copy, len, "run.env_steps", 13);
    REQUIRE(name != NULL);
    name[13] = 4; /* its length: 8 -> 4 would misalign the rest: refused as malformed or sized */
    fix_crc(copy, len);
    REQUIRE(spit(ck, copy, len));
    check_refused(dir, ck, "is damaged");
    /* one more field at the end of the section, as a newer prism would write it */
    static const unsigned char extra[] = {10, 'r', 'u', 'n', '.', 'f', 'u', 't', 'u', 'r', 'e', 8,
                                          0,  0,   0,   1,   2,   3,   4,   5,   6,   7,   8};
    const size_t n = sizeof extra;
    const uint64_t count = get_le(data + HEADER, 4), section = get_le(data + HEADER + 4, 8);
    const size_t at = HEADER + 12 + (size_t)section;
    memcpy(copy, data, at);
    memcpy(copy + at, extra, n);
    memcpy(copy + at + n, data + at, len - at);
    put_u32(copy + HEADER, (uint32_t)count + 1);
    put_u64(copy + HEADER + 4, section + n);
    put_u64(copy + 16, len + n - HEADER - 4);
    fix_crc(copy, len + n);
    REQUIRE(spit(ck, copy, len + n));
    check_refused(dir, ck, "does not know (run.future)");
    /* the original loads */
    REQUIRE(spit(ck, data, len));
    char out[8192];
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s --quiet", dir), 0);
    free(copy);
    prism_free(data);
}

TEST(checkpoint_latest_naming_nothing_or_missing_is_refused) {
    char dir[PRISM_PATH_MAX], latest[PRISM_PATH_MAX], out[4096];
    REQUIRE(make_run("l", dir));
    REQUIRE(prism_path_join(latest, sizeof latest, dir, "checkpoints/latest") == PRISM_OK);
    REQUIRE(spit(latest, "../../etc/passwd\n", 17));
    check_refused(dir, latest, "does not name a checkpoint");
    REQUIRE(spit(latest, "ckpt-77.bin\n", 12));
    check_refused(dir, "ckpt-77.bin", "");
    REQUIRE(unlink(latest) == 0);
    check_refused(dir, dir, "no checkpoint");
    /* a directory that is not a run at all */
    CHECK_EQ_INT(test_prism(out, sizeof out, "train --resume %s/nowhere --quiet", test_tmpdir()),
                 2);
    CHECK(strstr(out, "nowhere") != NULL);
}

TEST(checkpoint_of_another_network_size_is_refused) {
    char dir[PRISM_PATH_MAX], ini[PRISM_PATH_MAX], ck[PRISM_PATH_MAX];
    REQUIRE(make_run("c", dir));
    latest_of(dir, ck);
    REQUIRE(prism_path_join(ini, sizeof ini, dir, "config.ini") == PRISM_OK);
    size_t len;
    char *text = slurp(ini, &len);
    REQUIRE(text);
    char *h = strstr(text, "\nhidden = 16");
    REQUIRE(h != NULL); /* the [agent] section's hidden key */
    char *edited = malloc(len + 8);
    REQUIRE(edited);
    size_t at = (size_t)(h - text) + 10;
    memcpy(edited, text, at);
    memcpy(edited + at, "32", 2);
    memcpy(edited + at + 2, text + at + 2, len - at - 2);
    REQUIRE(spit(ini, edited, len));
    /* run.json's config_hash catches the edit before the checkpoint is opened */
    check_refused(dir, "config.ini", "is not the configuration this run was started with");
    /* a run from before config_hash existed: the checkpoint's own checks refuse it */
    char cmd[PRISM_PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "sed -i '/\"config_hash\"/d' %s/run.json", dir);
    REQUIRE(system(cmd) == 0);
    check_refused(dir, ck, "different configuration");
    /* replay capacity differs: the network loads, the replay memory is refused */
    h = strstr(text, "\nreplay_capacity = 300");
    REQUIRE(h != NULL);
    memcpy(edited, text, len);
    at = (size_t)(h - text) + 19;
    memcpy(edited + at, "400", 3);
    REQUIRE(spit(ini, edited, len));
    check_refused(dir, ck, "replay memory");
    free(edited);
    prism_free(text);
}

TEST(checkpoint_damage_behind_a_valid_checksum_never_crashes) {
    /* Bytes changed inside the payload with the outer CRC recomputed: the nested loaders
     * (network, replay) and the counter checks must refuse or load; a crash or a sanitizer
     * report fails the test (make test-asan). */
    char dir[PRISM_PATH_MAX], ck[PRISM_PATH_MAX], bad[PRISM_PATH_MAX];
    size_t len;
    unsigned char *data = run_with_checkpoint("d", dir, ck, &len);
    REQUIRE(data);
    REQUIRE(prism_path_join(bad, sizeof bad, test_tmpdir(), "damaged.bin") == PRISM_OK);
    prism_run_state good;
    REQUIRE(prism_run_state_load(&good, dir, ck) == PRISM_OK);
    CHECK(good.counters.iterations_done == 3 && good.counters.env_steps >= 600);
    unsigned char *copy = malloc(len);
    REQUIRE(copy);
    prism_rng r;
    prism_rng_seed(&r, 42, 0);
    int refused = 0, loaded = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(copy, data, len);
        /* i < 100: every byte of the fixed part and the start of the network section;
         * then random positions, 1-4 bytes each, sometimes set to 0xff */
        int n = i < 100 ? 1 : 1 + (int)prism_rng_below(&r, 4);
        for (int k = 0; k < n; k++) {
            size_t pos = i < 100 ? HEADER + (size_t)i * 7
                                 : HEADER + prism_rng_below(&r, (uint32_t)(len - HEADER - 4));
            copy[pos] = prism_rng_below(&r, 2) ? 0xff : (unsigned char)(copy[pos] ^ 0x5a);
        }
        fix_crc(copy, len);
        REQUIRE(spit(bad, copy, len));
        prism_status st = prism_checkpoint_load_file(bad, &good);
        if (st) {
            refused++;
            CHECK(st == PRISM_ERR_CORRUPT || st == PRISM_ERR_INVALID);
            CHECK(strstr(prism_error_message(), bad) != NULL);
        } else {
            loaded++;
        }
    }
    /* both outcomes happen: weights may take any value; structure may not */
    CHECK(refused > 50);
    CHECK(loaded > 10);
    /* the original still loads after all that */
    CHECK(prism_checkpoint_load_file(ck, &good) == PRISM_OK);
    prism_run_state_free(&good);
    free(copy);
    prism_free(data);
}

TEST(checkpoint_full_disk_fails_the_run_cleanly) {
    /* A 256 KiB tmpfs as the runs dir: the run fills it and a checkpoint write fails. The run
     * must end with status failed and the message, exit 1, leave no temporary file, and leave
     * `latest` naming a complete checkpoint from which the run resumes once there is room. */
    if (geteuid() != 0) {
        test_skip("needs root to mount a small tmpfs");
        return;
    }
    char full[PRISM_PATH_MAX], out[8192], cmd[3 * PRISM_PATH_MAX];
    REQUIRE(prism_path_join(full, sizeof full, test_tmpdir(), "full") == PRISM_OK);
    REQUIRE(mkdir(full, 0755) == 0);
    if (mount("tmpfs", full, "tmpfs", 0, "size=256k") != 0) {
        test_skip("cannot mount a tmpfs");
        return;
    }
    int rc = test_prism(out, sizeof out,
                        "train CartPole-v0 --agent dqn --steps 20000 --set agent.hidden=16 "
                        "--set train.iteration_steps=500 --set train.checkpoint_every=1 "
                        "--set train.eval_episodes=0 --quiet --runs-dir %s --run-id x",
                        full);
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(out, "No space left on device") != NULL);
    char dir[PRISM_PATH_MAX], rj[PRISM_PATH_MAX], ck[PRISM_PATH_MAX];
    REQUIRE(prism_path_join(dir, sizeof dir, full, "x") == PRISM_OK);
    REQUIRE(prism_path_join(rj, sizeof rj, dir, "run.json") == PRISM_OK);
    size_t len;
    char *run = slurp(rj, &len);
    CHECK(run && strstr(run, "\"status\": \"failed\"") && strstr(run, "No space left"));
    prism_free(run);
    REQUIRE(prism_path_join(ck, sizeof ck, dir, "checkpoints") == PRISM_OK);
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c tmp", ck);
    FILE *p = popen(cmd, "r");
    int leftovers = -1;
    if (p) {
        if (fscanf(p, "%d", &leftovers) != 1) leftovers = -1;
        pclose(p);
    }
    CHECK_EQ_INT(leftovers, 0);
    prism_run_state tr;
    CHECK(prism_run_state_load(&tr, dir, NULL) == PRISM_OK);
    CHECK(tr.counters.iterations_done >= 1);
    prism_run_state_free(&tr);
    /* with room again (a copy on the big disk), the run resumes and completes */
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s/copy'", dir, test_tmpdir());
    CHECK(system(cmd) == 0);
    umount(full);
    rc = test_prism(out, sizeof out, "train --resume %s/copy --quiet", test_tmpdir());
    CHECK_EQ_INT(rc, 0);
}

TEST(checkpoint_unwritable_runs_dir_fails_the_run_with_a_message) {
    if (geteuid() != 0) {
        test_skip("needs root to mount a read-only tmpfs");
        return;
    }
    char ro[PRISM_PATH_MAX], out[4096];
    REQUIRE(prism_path_join(ro, sizeof ro, test_tmpdir(), "ro") == PRISM_OK);
    REQUIRE(mkdir(ro, 0755) == 0);
    if (mount("tmpfs", ro, "tmpfs", MS_RDONLY, "size=64k") != 0) {
        test_skip("cannot mount a tmpfs");
        return;
    }
    int rc = test_prism(out, sizeof out, "train CartPole-v0 --steps 600 --quiet --runs-dir %s", ro);
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(out, ro) && strstr(out, "Read-only file system") && strstr(out, "--runs-dir"));
    rc =
        test_prism(out, sizeof out, "train CartPole-v0 --steps 600 --quiet --runs-dir %s/runs", ro);
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(out, "/runs") && strstr(out, "Read-only file system"));
    umount(ro);
}

TEST(checkpoint_with_an_action_out_of_range_is_refused) {
    /* Found by the fuzzer: a replay slot holding an action the environment does not have passed
     * every loader check (valid CRCs) and aborted on an assertion in the C51 loss at the first
     * update. Such files are written here with valid checksums by saving a tampered agent. */
    char dir[PRISM_PATH_MAX], bad[PRISM_PATH_MAX];
    REQUIRE(make_run("a", dir));
    REQUIRE(prism_path_join(bad, sizeof bad, test_tmpdir(), "bad-action.bin") == PRISM_OK);
    prism_run_state tr;
    REQUIRE(prism_run_state_load(&tr, dir, NULL) == PRISM_OK);
    prism_replay *r = &tr.agent.replay;
    int step = -1, other = -1; /* a slot with an action taken, and one without */
    for (int i = 0; i < r->opt.capacity && i < r->pos; i++) {
        if (r->actions[i] >= 0 && step < 0) step = i;
        if (r->actions[i] < 0 && other < 0) other = i;
    }
    REQUIRE(step >= 0 && other >= 0);
    const int32_t keep_step = r->actions[step];
    /* 1. action == A in a step slot: refused by the checkpoint loader (it knows A) */
    r->actions[step] = tr.agent.num_actions;
    REQUIRE(prism_checkpoint_save_file(bad, &tr) == PRISM_OK);
    r->actions[step] = keep_step;
    prism_run_state fresh;
    REQUIRE(prism_run_state_init(&fresh, &tr.cfg) == PRISM_OK);
    CHECK(prism_checkpoint_load_file(bad, &fresh) == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(), bad) && strstr(prism_error_message(), "action"));
    /* 2. a negative action in a step slot, 3. an action in a slot without a step: refused by the
     * replay memory's own consistency check */
    for (int k = 0; k < 2; k++) {
        if (k == 0)
            r->actions[step] = -1;
        else
            r->actions[other] = 0;
        REQUIRE(prism_checkpoint_save_file(bad, &tr) == PRISM_OK);
        r->actions[step] = keep_step;
        r->actions[other] = -1;
        CHECK(prism_checkpoint_load_file(bad, &fresh) == PRISM_ERR_CORRUPT);
        CHECK(strstr(prism_error_message(), "replay memory") != NULL);
    }
    /* untampered, the same agent saves and loads */
    REQUIRE(prism_checkpoint_save_file(bad, &tr) == PRISM_OK);
    CHECK(prism_checkpoint_load_file(bad, &fresh) == PRISM_OK);
    prism_run_state_free(&fresh);
    prism_run_state_free(&tr);
}

TEST(checkpoint_with_a_nan_reward_diverges_cleanly_when_learning) {
    /* Found by the fuzzer: a NaN reward in a loaded replay memory reached the C51 projection,
     * which converted NaN to an atom index (undefined behaviour, then a wild write). It must
     * instead end in a NaN loss that the agent reports as divergence. */
    char dir[PRISM_PATH_MAX], bad[PRISM_PATH_MAX];
    REQUIRE(make_run("n", dir));
    REQUIRE(prism_path_join(bad, sizeof bad, test_tmpdir(), "nan-reward.bin") == PRISM_OK);
    prism_run_state tr;
    REQUIRE(prism_run_state_load(&tr, dir, NULL) == PRISM_OK);
    REQUIRE(tr.agent.num_atoms > 1); /* rainbow: the C51 head */
    prism_replay *r = &tr.agent.replay;
    const int filled = (int)(r->pos < r->opt.capacity ? r->pos : r->opt.capacity);
    for (int i = 0; i < filled; i++)
        if (r->actions[i] >= 0) r->rewards[i] = NAN; /* every sampled batch has one */
    REQUIRE(prism_checkpoint_save_file(bad, &tr) == PRISM_OK);
    prism_run_state_free(&tr);
    REQUIRE(prism_run_state_init(&tr, &tr.cfg) == PRISM_OK);
    REQUIRE(prism_checkpoint_load_file(bad, &tr) == PRISM_OK);
    CHECK(prism_agent_learn(&tr.agent) == PRISM_ERR_DIVERGED);
    prism_run_state_free(&tr);
}
