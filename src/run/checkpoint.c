/* Checkpoint files: the payload is assembled in memory (so one CRC covers it and the write is
 * one atomic file), then `latest` is switched to it. See prism/checkpoint.h. */
#include "prism/checkpoint.h"

#include "prism/file.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CKPT_MAGIC "PRISMCKP"
enum { CKPT_VERSION = 1, HEADER_BYTES = 8 + 4 + 4 + 8 };

/* The fixed-size part of the payload. Sizes of the structs it contains are checked on load so
 * a binary built with different struct layouts refuses the file instead of misreading it. */
typedef struct fixed_part {
    uint32_t counters_size, rng_size, env_random_size, stats_size;
    uint64_t blob_size;
    prism_run_counters counters;
    long long agent_steps;
    prism_agent_stats agent_stats;
    prism_rng explore_rng, replay_rng, eval_rng;
    prism_env_random env_random, eval_random;
} fixed_part;

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static prism_status build_payload(char **buf, size_t *len, const prism_run_counters *counters,
                                  const prism_agent *agent, const prism_env *env,
                                  const prism_env *eval_env, const void *blob, size_t blob_len) {
    FILE *f = open_memstream(buf, len);
    if (!f) return prism_error(PRISM_ERR_NOMEM, "out of memory building a checkpoint");
    fixed_part fp;
    memset(&fp, 0, sizeof fp);
    fp.counters_size = sizeof(prism_run_counters);
    fp.rng_size = sizeof(prism_rng);
    fp.env_random_size = sizeof(prism_env_random);
    fp.stats_size = sizeof(prism_agent_stats);
    fp.blob_size = blob_len;
    fp.counters = *counters;
    fp.agent_steps = agent->steps;
    fp.agent_stats = agent->stats;
    fp.explore_rng = agent->explore_rng;
    fp.replay_rng = agent->replay_rng;
    fp.eval_rng = agent->eval_rng;
    fp.env_random = env->random;
    fp.eval_random = eval_env->random;
    prism_status st = PRISM_OK;
    if (fwrite(&fp, sizeof fp, 1, f) != 1 || (blob_len && fwrite(blob, blob_len, 1, f) != 1))
        st = prism_error(PRISM_ERR_NOMEM, "out of memory building a checkpoint");
    if (!st) st = prism_nn_write(&agent->online, &agent->opt, f);
    if (!st) st = prism_nn_write(&agent->target, NULL, f);
    if (!st) st = prism_replay_save(&agent->replay, f);
    if (fclose(f) != 0 && !st)
        st = prism_error(PRISM_ERR_NOMEM, "out of memory building a checkpoint");
    if (st) {
        free(*buf);
        *buf = NULL;
    }
    return st;
}

/* The iteration number of "ckpt-N.bin" or "ckpt-N-mid.bin" (mid counts as N + 0.5 for
 * ordering, so it is returned doubled), or -1. */
static int checkpoint_number(const char *name) {
    int n, used = 0;
    if (sscanf(name, "ckpt-%d%n", &n, &used) != 1 || n < 0) return -1;
    if (!strcmp(name + used, ".bin")) return 2 * n;
    if (!strcmp(name + used, "-mid.bin")) return 2 * n + 1;
    return -1;
}

/* Remove all but the newest `keep` ckpt-*.bin files (best effort: a failure is harmless). */
static void prune(const char *dir, int keep) {
    DIR *d = opendir(dir);
    if (!d) return;
    int numbers[4096], n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 4096;) {
        int k = checkpoint_number(e->d_name);
        if (k >= 0) numbers[n++] = k;
    }
    closedir(d);
    for (int i = 0; i < n; i++) {
        int newer = 0;
        for (int j = 0; j < n; j++) newer += numbers[j] > numbers[i];
        if (newer >= keep) {
            char path[PRISM_PATH_MAX];
            snprintf(path, sizeof path, "%s/ckpt-%d%s.bin", dir, numbers[i] / 2,
                     numbers[i] % 2 ? "-mid" : "");
            unlink(path);
        }
    }
}

/* Write header, payload and trailer to `path` atomically. */
static prism_status write_file(const char *path, const prism_run_counters *counters,
                               const prism_agent *agent, const prism_env *env,
                               const prism_env *eval_env, const void *blob, size_t blob_len) {
    char *payload = NULL;
    size_t payload_len = 0;
    prism_status st =
        build_payload(&payload, &payload_len, counters, agent, env, eval_env, blob, blob_len);
    if (st) return st;
    unsigned char header[HEADER_BYTES], trailer[4];
    memcpy(header, CKPT_MAGIC, 8);
    put_u32(header + 8, CKPT_VERSION);
    put_u32(header + 12, 0);
    put_u64(header + 16, payload_len);
    uint32_t crc = prism_crc32c(prism_crc32c(0, header, sizeof header), payload, payload_len);
    put_u32(trailer, crc);
    prism_atomic_file af;
    st = prism_atomic_open(&af, path);
    if (!st) st = prism_atomic_write(&af, header, sizeof header);
    if (!st) st = prism_atomic_write(&af, payload, payload_len);
    if (!st) st = prism_atomic_write(&af, trailer, sizeof trailer);
    if (st)
        prism_atomic_abort(&af);
    else
        st = prism_atomic_commit(&af);
    free(payload);
    return st;
}

prism_status prism_checkpoint_save_file(const char *path, const prism_run_counters *counters,
                                        const prism_agent *agent, const prism_env *env,
                                        const prism_env *eval_env, const void *blob,
                                        size_t blob_len) {
    return write_file(path, counters, agent, env, eval_env, blob, blob_len);
}

prism_status prism_checkpoint_save(const char *dir, int keep, const prism_run_counters *counters,
                                   const prism_agent *agent, const prism_env *env,
                                   const prism_env *eval_env, const void *blob, size_t blob_len) {
    prism_status st = prism_mkdir_p(dir);
    if (st) return st;
    char name[64], path[PRISM_PATH_MAX], latest[PRISM_PATH_MAX];
    snprintf(name, sizeof name, "ckpt-%d%s.bin", counters->iterations_done,
             counters->mid_iteration ? "-mid" : "");
    if ((st = prism_path_join(path, sizeof path, dir, name)) ||
        (st = prism_path_join(latest, sizeof latest, dir, "latest")))
        return st;
    if ((st = write_file(path, counters, agent, env, eval_env, blob, blob_len))) return st;
    char text[80];
    int n = snprintf(text, sizeof text, "%s\n", name);
    if ((st = prism_file_write_atomic(latest, text, (size_t)n))) return st;
    prune(dir, keep);
    return PRISM_OK;
}

prism_status prism_checkpoint_load_file(const char *path, prism_run_counters *counters,
                                        prism_agent *agent, prism_env *env, prism_env *eval_env,
                                        void *blob, size_t blob_len) {
    char *data = NULL;
    size_t len = 0;
    prism_status st = prism_file_read(path, &data, &len);
    if (st) return st;
    const unsigned char *p = (const unsigned char *)data;
    if (len < HEADER_BYTES + 4 || memcmp(p, CKPT_MAGIC, 8) != 0) {
        prism_free(data);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s is not a prism checkpoint (bad magic or too short: "
                           "%zu bytes)",
                           path, len);
    }
    uint32_t version = get_u32(p + 8);
    uint64_t payload_len = get_u64(p + 16);
    if (version != CKPT_VERSION) {
        prism_free(data);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s has checkpoint format version %u; this prism reads version %d", path,
                           version, CKPT_VERSION);
    }
    if (payload_len != len - HEADER_BYTES - 4) {
        prism_free(data);
        return prism_error(
            PRISM_ERR_CORRUPT,
            "%s is truncated or padded: header says %llu payload bytes, file has %zu", path,
            (unsigned long long)payload_len, len - HEADER_BYTES - 4);
    }
    uint32_t want = get_u32(p + len - 4), got = prism_crc32c(0, p, len - 4);
    if (want != got) {
        prism_free(data);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s is corrupt: checksum mismatch (stored %08x, "
                           "computed %08x)",
                           path, want, got);
    }
    fixed_part fp;
    if (payload_len < sizeof fp) {
        prism_free(data);
        return prism_error(PRISM_ERR_CORRUPT, "%s: payload too short", path);
    }
    memcpy(&fp, p + HEADER_BYTES, sizeof fp);
    if (fp.counters_size != sizeof(prism_run_counters) || fp.rng_size != sizeof(prism_rng) ||
        fp.env_random_size != sizeof(prism_env_random) ||
        fp.stats_size != sizeof(prism_agent_stats) || (blob && fp.blob_size != blob_len) ||
        fp.blob_size > payload_len - sizeof fp) {
        prism_free(data);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s was written by an incompatible build of prism "
                           "(struct sizes differ)",
                           path);
    }
    /* The checksum only says the file is what was written; the values must also make sense
     * before anything indexes with them (a damaged file with a recomputed checksum, or a bug). */
    const prism_run_counters *rc = &fp.counters;
    const char *bad = NULL;
    if (rc->iterations_done < 0 || (rc->mid_iteration != 0 && rc->mid_iteration != 1) ||
        rc->env_steps < 0 || rc->episodes_total < 0 || rc->metrics_offset < 0 ||
        rc->episodes_offset < 0 || fp.agent_steps < 0)
        bad = "negative counters";
    else if (fp.env_random.kind != env->random.kind || fp.eval_random.kind != eval_env->random.kind)
        bad = "environment random source of another kind";
    else if (fp.env_random.np.pos < 0 || fp.env_random.np.pos > 624 || fp.eval_random.np.pos < 0 ||
             fp.eval_random.np.pos > 624)
        bad = "environment random position out of range";
    if (bad) {
        prism_free(data);
        return prism_error(PRISM_ERR_CORRUPT, "%s is damaged: %s", path, bad);
    }
    if (blob && blob_len) memcpy(blob, data + HEADER_BYTES + sizeof fp, blob_len);
    FILE *f = fmemopen(data + HEADER_BYTES + sizeof fp + fp.blob_size,
                       payload_len - sizeof fp - fp.blob_size, "rb");
    if (!f) {
        prism_free(data);
        return prism_error(PRISM_ERR_NOMEM, "out of memory reading %s", path);
    }
    st = prism_nn_read(&agent->online, &agent->opt, f, path);
    if (!st) st = prism_nn_read(&agent->target, NULL, f, path);
    if (!st && (st = prism_replay_load(&agent->replay, f))) {
        /* the replay loader's messages do not know the file: name it */
        char saved[512];
        snprintf(saved, sizeof saved, "%s", prism_error_message());
        prism_error(st, "%s: replay memory: %s", path, saved);
    }
    /* The replay memory cannot know the number of actions: a stored action outside the
     * agent's range would pass it and only fail (an assertion) when a batch reaches the loss.
     * (Found by fuzz/fuzz_checkpoint.c.) */
    if (!st) {
        const prism_replay *r = &agent->replay;
        const int64_t filled = r->pos < r->opt.capacity ? r->pos : r->opt.capacity;
        for (int64_t i = 0; i < filled && !st; i++)
            if (r->actions[i] >= agent->num_actions)
                st = prism_error(PRISM_ERR_CORRUPT,
                                 "%s is damaged: replay slot %lld holds action %d, but the "
                                 "environment has %d actions",
                                 path, (long long)i, (int)r->actions[i], agent->num_actions);
    }
    /* trailing bytes after the replay memory mean the layout is not the one written */
    if (!st && fgetc(f) != EOF)
        st = prism_error(PRISM_ERR_CORRUPT,
                         "%s is damaged: unexpected bytes after the replay memory", path);
    fclose(f);
    prism_free(data);
    if (st) return st;
    *counters = fp.counters;
    agent->steps = fp.agent_steps;
    agent->stats = fp.agent_stats;
    agent->explore_rng = fp.explore_rng;
    agent->replay_rng = fp.replay_rng;
    agent->eval_rng = fp.eval_rng;
    env->random = fp.env_random;
    eval_env->random = fp.eval_random;
    return PRISM_OK;
}

prism_status prism_checkpoint_load(const char *dir, prism_run_counters *counters,
                                   prism_agent *agent, prism_env *env, prism_env *eval_env,
                                   void *blob, size_t blob_len) {
    char latest[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    prism_status st = prism_path_join(latest, sizeof latest, dir, "latest");
    if (st) return st;
    char *text = NULL;
    size_t len = 0;
    st = prism_file_read(latest, &text, &len);
    if (st == PRISM_ERR_NOT_FOUND)
        return prism_error(PRISM_ERR_NOT_FOUND,
                           "no checkpoint in %s (the run stopped before its "
                           "first checkpoint; start it again)",
                           dir);
    if (st) return st;
    text[strcspn(text, "\r\n")] = 0;
    if (checkpoint_number(text) < 0) {
        prism_free(text);
        return prism_error(PRISM_ERR_CORRUPT, "%s does not name a checkpoint file", latest);
    }
    st = prism_path_join(path, sizeof path, dir, text);
    prism_free(text);
    if (st) return st;
    return prism_checkpoint_load_file(path, counters, agent, env, eval_env, blob, blob_len);
}
