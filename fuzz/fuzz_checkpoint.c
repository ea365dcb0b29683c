/* libFuzzer target for the checkpoint loader: prism_checkpoint_load_file and, through it,
 * prism_nn_read (online network + optimizer, target network) and prism_replay_load
 * (prioritized, n-step), into a small rainbow agent (PER, noisy nets, C51, dueling) built once.
 * After a successful load the agent acts and learns once, so values that pass the loaders but
 * break their users are found too.
 *
 * Input: one mode byte, then the file. Mode 0 loads the bytes as they are (the header and CRC
 * checks); mode 1 first fixes the header's payload length and the outer CRC-32C; mode 2 also
 * fixes the CRCs of the nested network and replay sections, so mutations reach the deepest
 * parsing and consistency checks instead of dying at a checksum.
 *
 * With PRISM_FUZZ_SEED_DIR set, Initialize trains the agent for 400 steps (the 300-slot replay
 * wraps) and writes seed inputs (modes 0 and 2 of a real checkpoint) there.
 * Build and run: make fuzz-checkpoint [FUZZ_SECONDS=300] (fuzz/run_checkpoint.sh).
 */
#include "prism/checkpoint.h"
#include "prism/core.h"
#include "prism/presets.h"
#include "prism/run_state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { HEADER = 24 };

static prism_run_state T;
static char path[256];
static unsigned char *buf;
static size_t buf_cap;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what) {
    fprintf(stderr, "fuzz_checkpoint: %s: %s\n", what, prism_error_message());
    exit(1);
}

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* The start of the next occurrence of magic (8 bytes) in p[from, end), or end. */
static size_t find(const unsigned char *p, size_t from, size_t end, const char *magic) {
    for (size_t i = from; i + 8 <= end; i++)
        if (!memcmp(p + i, magic, 8)) return i;
    return end;
}

/* Fix the CRCs of the nested sections: network, network, replay, in that order; each section's
 * CRC is its last 4 bytes, over everything from its magic. */
static void fix_nested(unsigned char *p, size_t payload_end) {
    static const char nn[8] = "PRISMNN";
    size_t a = find(p, HEADER, payload_end, nn);
    size_t b = a < payload_end ? find(p, a + 8, payload_end, nn) : payload_end;
    size_t c = b < payload_end ? find(p, b + 8, payload_end, "PRISMRPL") : payload_end;
    size_t starts[4] = {a, b, c, payload_end};
    for (int i = 0; i < 3; i++) {
        size_t s = starts[i], e = starts[i + 1];
        if (s >= payload_end || e < s + 12) continue;
        put_u32(p + e - 4, prism_crc32c(0, p + s, e - 4 - s));
    }
}

static void write_seed(const char *dir, const char *name, int mode, const char *ckpt) {
    char *data = NULL;
    size_t len = 0;
    if (prism_file_read(ckpt, &data, &len)) die("reading the seed checkpoint");
    char out[512];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    unsigned char m = (unsigned char)mode;
    if (!f || fwrite(&m, 1, 1, f) != 1 || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "fuzz_checkpoint: cannot write %s\n", out);
        exit(1);
    }
    prism_free(data);
}

static void remove_scratch(void) {
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    prism_config cfg;
    prism_config_defaults(&cfg);
    if (prism_preset_apply(&cfg, "rainbow", "CartPole-v0")) die("preset");
    static const char *const kv[][2] = {
        {"agent.hidden", "16"},       {"agent.replay_capacity", "300"},
        {"agent.min_replay", "50"},   {"agent.batch_size", "8"},
        {"agent.dueling", "true"},    {"train.eval_episodes", "0"},
        {"agent.update_period", "1"}, {"agent.num_atoms", "11"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (prism_config_set(&cfg, kv[i][0], kv[i][1])) die(kv[i][0]);
    if (prism_run_state_init(&T, &cfg)) die("building the agent");
    snprintf(path, sizeof path, "/dev/shm/prism-fuzz-ckpt-%ld.bin", (long)getpid());
    atexit(remove_scratch);
    const char *seed_dir = getenv("PRISM_FUZZ_SEED_DIR");
    if (seed_dir) {
        float obs[8], next[8];
        prism_env_reset(&T.env, obs);
        for (int i = 0; i < 400; i++) {
            int a = prism_agent_act(&T.agent, obs, false);
            prism_step s = prism_env_step(&T.env, a, next);
            if (prism_agent_observe(&T.agent, obs, a, s.reward, s.terminated, s.truncated, next))
                die("training");
            if (s.terminated || s.truncated)
                prism_env_reset(&T.env, obs);
            else
                memcpy(obs, next, sizeof obs);
        }
        T.counters = (prism_run_counters){.iterations_done = 2, .env_steps = 400, .episodes_total = 9};
        char dir[512];
        snprintf(dir, sizeof dir, "/dev/shm/prism-fuzz-seed-%ld", (long)getpid());
        if (prism_checkpoint_save(dir, 5, &T))
            die("saving the seed");
        char ck[600];
        snprintf(ck, sizeof ck, "%s/ckpt-2.bin", dir);
        write_seed(seed_dir, "seed-raw", 0, ck);
        write_seed(seed_dir, "seed-fixed", 2, ck);
        unlink(ck);
        snprintf(ck, sizeof ck, "%s/latest", dir);
        unlink(ck);
        rmdir(dir);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int mode = data[0] % 3;
    size_t len = size - 1;
    if (len > buf_cap) {
        free(buf);
        buf = malloc(len);
        buf_cap = buf ? len : 0;
        if (!buf) return 0;
    }
    if (len) memcpy(buf, data + 1, len);
    if (mode >= 1 && len >= HEADER + 4) {
        uint64_t payload = len - HEADER - 4;
        for (int i = 0; i < 8; i++) buf[16 + i] = (unsigned char)(payload >> (8 * i));
        if (mode == 2) fix_nested(buf, len - 4);
        put_u32(buf + len - 4, prism_crc32c(0, buf, len - 4));
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = len ? fwrite(buf, 1, len, f) : 0;
    fclose(f);
    if (w != len) return 0;
    if (prism_checkpoint_load_file(path, &T) == PRISM_OK) {
        /* use what was loaded: act (eval and training), learn once */
        float obs[8];
        prism_env_reset(&T.eval_env, obs);
        (void)prism_agent_act(&T.agent, obs, true);
        (void)prism_agent_act(&T.agent, obs, false);
        if (T.agent.replay.count >= T.agent.cfg.batch_size) (void)prism_agent_learn(&T.agent);
    }
    return 0;
}
