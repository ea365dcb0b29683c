/* Tests for the run archive (src/run/): metrics CSV writer and its resume, TensorBoard event
 * files read back with every CRC checked, run directory and run.json, the SQLite index with
 * concurrent writers, and the `prism runs` CLI on a fake runs directory. */
#include "harness.h"
#include "prism/archive.h"
#include "prism/metrics_csv.h"
#include "prism/rng.h"
#include "prism/run_index.h"
#include "prism/tfevents.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *read_all(const char *path) {
    char *text;
    size_t len;
    return prism_file_read(path, &text, &len) == PRISM_OK ? text : NULL;
}

/* Silence stdout or stderr while the archive tees to it (the log copy is what the tests check). */
static int saved_fd = -1;
static void mute(int fd) {
    fflush(NULL);
    saved_fd = dup(fd);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, fd), close(null);
}
static void unmute(int fd) {
    fflush(NULL);
    if (saved_fd >= 0) dup2(saved_fd, fd), close(saved_fd);
    saved_fd = -1;
}

static void join(char *out, const char *a, const char *b) {
    if (prism_path_join(out, PRISM_PATH_MAX, a, b) != PRISM_OK) out[0] = 0;
}

/* ---- metrics.csv ---- */

static const char *const csv_cols[] = {"iteration", "steps", "return_mean", "loss"};
static const unsigned char csv_int[] = {1, 1, 0, 0};

static void csv_rows(prism_csv *c, int from, int to) {
    for (int i = from; i < to; i++) {
        double row[4] = {i, 1000.0 * i, 1.0 / (i + 1), i == 2 ? (double)NAN : 0.1 * i};
        if (i == 3) row[3] = (double)INFINITY;
        CHECK(prism_csv_row(c, row) == PRISM_OK);
    }
}

TEST(metrics_csv_format_nan_empty_ints_as_ints) {
    char path[PRISM_PATH_MAX];
    join(path, test_tmpdir(), "metrics.csv");
    prism_csv c;
    REQUIRE(prism_csv_open(&c, path, 4, csv_cols, csv_int) == PRISM_OK);
    csv_rows(&c, 0, 4);
    long long off = prism_csv_offset(&c);
    prism_csv_close(&c);
    char *text = read_all(path);
    REQUIRE(text);
    /* exact expected bytes: %.9g for floats, integers as integers, NaN empty, inf spelled */
    const char *want = "iteration,steps,return_mean,loss\n"
                       "0,0,1,0\n"
                       "1,1000,0.5,0.1\n"
                       "2,2000,0.333333333,\n"
                       "3,3000,0.25,inf\n";
    CHECK(!strcmp(text, want));
    CHECK_EQ_INT(off, (long long)strlen(want));
    prism_free(text);
    const char *bad[] = {"a", "b,c"};
    CHECK(prism_csv_open(&c, path, 2, bad, NULL) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "b,c") != NULL);
}

/* A FIFO (or a directory) in place of a CSV is refused at once, naming it: it used to hang the
 * resume on the header read. */
TEST(metrics_csv_resume_refuses_what_is_not_a_regular_file) {
    char fifo[PRISM_PATH_MAX], sub[PRISM_PATH_MAX];
    join(fifo, test_tmpdir(), "fifo.csv");
    join(sub, test_tmpdir(), "dir.csv");
    REQUIRE(mkfifo(fifo, 0644) == 0);
    REQUIRE(mkdir(sub, 0755) == 0);
    prism_csv c;
    CHECK(prism_csv_resume(&c, fifo, 4, csv_cols, csv_int, 10) == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(), fifo) && strstr(prism_error_message(), "regular file"));
    CHECK(prism_csv_resume(&c, sub, 4, csv_cols, csv_int, 10) != PRISM_OK);
    CHECK(strstr(prism_error_message(), sub) != NULL);
}

TEST(metrics_csv_resume_truncates_and_continues_bit_identically) {
    char a[PRISM_PATH_MAX], b[PRISM_PATH_MAX];
    join(a, test_tmpdir(), "a.csv");
    join(b, test_tmpdir(), "b.csv");
    prism_csv c;
    /* uninterrupted */
    REQUIRE(prism_csv_open(&c, a, 4, csv_cols, csv_int) == PRISM_OK);
    csv_rows(&c, 0, 10);
    prism_csv_close(&c);
    /* interrupted: checkpoint after row 5, two more rows written, then killed */
    REQUIRE(prism_csv_open(&c, b, 4, csv_cols, csv_int) == PRISM_OK);
    csv_rows(&c, 0, 5);
    long long ckpt = prism_csv_offset(&c);
    csv_rows(&c, 5, 7);
    prism_csv_close(&c);
    REQUIRE(prism_csv_resume(&c, b, 4, csv_cols, csv_int, ckpt) == PRISM_OK);
    csv_rows(&c, 5, 10);
    prism_csv_close(&c);
    char *ta = read_all(a), *tb = read_all(b);
    REQUIRE(ta && tb);
    CHECK(!strcmp(ta, tb));
    prism_free(ta);
    prism_free(tb);
    /* a checkpoint offset past the end, or inside the header, is rejected */
    CHECK(prism_csv_resume(&c, b, 4, csv_cols, csv_int, 1 << 30) == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(), "b.csv") != NULL);
    CHECK(prism_csv_resume(&c, b, 4, csv_cols, csv_int, 3) == PRISM_ERR_CORRUPT);
    /* other columns: a different build's file */
    const char *other[] = {"iteration", "steps", "return_mean", "td_loss"};
    CHECK(prism_csv_resume(&c, b, 4, other, csv_int, ckpt) == PRISM_ERR_CORRUPT);
    join(b, test_tmpdir(), "missing.csv");
    CHECK(prism_csv_resume(&c, b, 4, csv_cols, csv_int, ckpt) == PRISM_ERR_NOT_FOUND);
}

/* ---- TensorBoard event files ---- */

typedef struct scalar_log {
    int n;
    double wall[2048];
    long long step[2048];
    char tag[2048][64];
    float value[2048];
} scalar_log;

static int collect(void *ctx, double wall_time, long long step, const char *tag, float value) {
    scalar_log *l = ctx;
    if (l->n >= 2048) return 1;
    l->wall[l->n] = wall_time;
    l->step[l->n] = step;
    snprintf(l->tag[l->n], sizeof l->tag[0], "%s", tag);
    l->value[l->n] = value;
    l->n++;
    return 0;
}

TEST(tfevents_round_trip_checks_every_crc_and_decodes_scalars) {
    static prism_tfevents w; /* 64 KiB buffer: not on the stack */
    static scalar_log log;
    memset(&log, 0, sizeof log);
    REQUIRE(prism_tfevents_open_at(&w, test_tmpdir(), 1700000000.5, "testhost") == PRISM_OK);
    CHECK(strstr(w.path, "events.out.tfevents.1700000000.testhost") != NULL);
    const char *tags[] = {"charts/episodic_return", "losses/td_loss", "values/q_mean", "time/sps",
                          "system/rss_mb"};
    float vals[5] = {187.0f, 0.03125f, -1.5f, 12345.678f, (float)NAN};
    for (int it = 0; it < 20; it++) {
        for (int k = 0; k < 5; k++)
            if (k != 4) vals[k] += 1.0f;
        REQUIRE(prism_tfevents_scalars(&w, it * 1000LL, 1700000001.25 + it, 5, tags, vals) ==
                PRISM_OK);
    }
    REQUIRE(prism_tfevents_scalar(&w, "charts/epsilon", -3, 0.01f) == PRISM_OK);
    REQUIRE(prism_tfevents_scalar(&w, "charts/big_step", 1LL << 40, 2.0f) == PRISM_OK);
    CHECK(prism_tfevents_flush(&w) == PRISM_OK);
    char path[PRISM_PATH_MAX];
    snprintf(path, sizeof path, "%s", w.path);
    prism_tfevents_close(&w);

    long long nrec = 0;
    REQUIRE(prism_tfevents_read(path, collect, &log, &nrec) == PRISM_OK);
    CHECK_EQ_INT(nrec, 1 + 20 + 2);
    REQUIRE(log.n == 20 * 5 + 2);
    for (int it = 0; it < 20; it++) {
        for (int k = 0; k < 5; k++) {
            int i = it * 5 + k;
            CHECK(!strcmp(log.tag[i], tags[k]));
            CHECK_EQ_INT(log.step[i], it * 1000LL);
            CHECK(log.wall[i] == 1700000001.25 + it);
        }
        CHECK(log.value[it * 5 + 0] == 187.0f + (float)(it + 1));
        CHECK(log.value[it * 5 + 1] == 0.03125f + (float)(it + 1));
        CHECK(isnan(log.value[it * 5 + 4]));
    }
    CHECK(log.step[100] == -3 && log.value[100] == 0.01f);
    CHECK(log.step[101] == (1LL << 40));

    /* corrupt one byte at a time in several places: every one is caught as a CRC error */
    char *bytes;
    size_t size;
    REQUIRE(prism_file_read(path, &bytes, &size) == PRISM_OK);
    size_t spots[] = {0, 8, 12, 20, size / 2, size - 1};
    char bad[PRISM_PATH_MAX];
    join(bad, test_tmpdir(), "bad.tfevents");
    for (size_t s = 0; s < sizeof spots / sizeof spots[0]; s++) {
        bytes[spots[s]] ^= 0x10;
        REQUIRE(prism_file_write_atomic(bad, bytes, size) == PRISM_OK);
        bytes[spots[s]] ^= 0x10;
        prism_status st = prism_tfevents_read(bad, NULL, NULL, NULL);
        CHECK(st == PRISM_ERR_CORRUPT);
        CHECK(strstr(prism_error_message(), "CRC") || strstr(prism_error_message(), "truncated"));
    }
    /* truncation anywhere is caught too */
    for (size_t cut = 1; cut < 60; cut += 7) {
        REQUIRE(prism_file_write_atomic(bad, bytes, size - cut) == PRISM_OK);
        CHECK(prism_tfevents_read(bad, NULL, NULL, NULL) == PRISM_ERR_CORRUPT);
    }
    prism_free(bytes);
}

TEST(tfevents_masked_crc_matches_the_tfrecord_definition) {
    /* masked = rotr(crc, 15) + 0xa282ead8, crc = CRC-32C; check on the known CRC-32C vector */
    uint32_t crc = 0xE3069283u; /* CRC-32C("123456789") */
    uint32_t want = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    CHECK(prism_tfrecord_masked_crc("123456789", 9) == want);
}

TEST(tfevents_bytes_match_the_protobuf_wire_format) {
    /* Guards against a mistake the round-trip test cannot see (writer and reader agreeing on a
     * wrong encoding). Expected bytes worked out by hand from the protobuf encoding rules:
     *   record 0: Event{wall_time=2.0 (09 + le64), step=0 (10 00), file_version (1a 0d ...)}
     *   record 1: Event{wall_time=1.0, step=-1 (ten-byte varint), summary (2a 0a) {
     *               value (0a 08) {tag "a" (0a 01 61), simple_value 1.0f (15 00 00 80 3f)}}} */
    static prism_tfevents w;
    REQUIRE(prism_tfevents_open_at(&w, test_tmpdir(), 2.0, "h") == PRISM_OK);
    const char *tag = "a";
    float one = 1.0f;
    REQUIRE(prism_tfevents_scalars(&w, -1, 1.0, 1, &tag, &one) == PRISM_OK);
    char path[PRISM_PATH_MAX];
    snprintf(path, sizeof path, "%s", w.path);
    prism_tfevents_close(&w);
    static const unsigned char rec0[] = {0x09, 0,    0,    0,    0,   0,   0,   0,   0x40,
                                         0x10, 0x00, 0x1a, 0x0d, 'b', 'r', 'a', 'i', 'n',
                                         '.',  'E',  'v',  'e',  'n', 't', ':', '2'};
    static const unsigned char rec1[] = {0x09, 0,    0,    0,    0,    0,    0,    0xf0,
                                         0x3f, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0x01, 0x2a, 0x0a, 0x0a, 0x08,
                                         0x0a, 0x01, 0x61, 0x15, 0x00, 0x00, 0x80, 0x3f};
    char *b;
    size_t n;
    REQUIRE(prism_file_read(path, &b, &n) == PRISM_OK);
    const unsigned char *u = (const unsigned char *)b;
    REQUIRE(n == 12 + sizeof rec0 + 4 + 12 + sizeof rec1 + 4);
    CHECK(u[0] == sizeof rec0 && !memcmp(u + 1, "\0\0\0\0\0\0\0", 7));
    CHECK(!memcmp(u + 12, rec0, sizeof rec0));
    const unsigned char *r1 = u + 12 + sizeof rec0 + 4;
    CHECK(r1[0] == sizeof rec1);
    CHECK(!memcmp(r1 + 12, rec1, sizeof rec1));
    /* the framing CRCs are the masked CRC-32C of the 8 length bytes and of the data, LE */
    uint32_t c = prism_tfrecord_masked_crc(r1 + 12, sizeof rec1);
    CHECK(r1[12 + sizeof rec1] == (c & 0xff) && r1[12 + sizeof rec1 + 3] == (c >> 24));
    c = prism_tfrecord_masked_crc(r1, 8);
    CHECK(r1[8] == (c & 0xff) && r1[11] == (c >> 24));
    prism_free(b);
}

/* SessionLog START, by hand from tensorflow/core/util/event.proto: Event{wall_time=3.0,
 * step=7 (10 07), session_log = field 6 (32 02) {status = START = 1 (08 01)}}; read back as the
 * PRISM_TFEVENTS_START_TAG pseudo-scalar at its step. */
TEST(tfevents_session_start_matches_the_wire_format_and_reads_back) {
    static prism_tfevents w;
    static scalar_log log;
    memset(&log, 0, sizeof log);
    REQUIRE(prism_tfevents_open_at(&w, test_tmpdir(), 2.0, "s") == PRISM_OK);
    REQUIRE(prism_tfevents_session_start(&w, 7, 3.0) == PRISM_OK);
    char path[PRISM_PATH_MAX];
    snprintf(path, sizeof path, "%s", w.path);
    prism_tfevents_close(&w);
    static const unsigned char rec1[] = {0x09, 0,    0,    0,    0,    0,    0,   0x08,
                                         0x40, 0x10, 0x07, 0x32, 0x02, 0x08, 0x01};
    char *b;
    size_t n;
    REQUIRE(prism_file_read(path, &b, &n) == PRISM_OK);
    const unsigned char *u = (const unsigned char *)b;
    const unsigned char *r1 = u + 12 + u[0] + 4;
    REQUIRE(n == (size_t)(r1 - u) + 12 + sizeof rec1 + 4);
    CHECK(r1[0] == sizeof rec1);
    CHECK(!memcmp(r1 + 12, rec1, sizeof rec1));
    prism_free(b);
    REQUIRE(prism_tfevents_read(path, collect, &log, NULL) == PRISM_OK);
    REQUIRE(log.n == 1);
    CHECK(!strcmp(log.tag[0], PRISM_TFEVENTS_START_TAG));
    CHECK(log.step[0] == 7 && log.wall[0] == 3.0 && isnan(log.value[0]));
}

TEST(tfevents_default_tags_follow_the_groups) {
    static const char *const cases[][2] = {
        {"return_mean", "charts/episodic_return"},
        {"length_mean", "charts/episodic_length"},
        {"td_loss", "losses/td_loss"},
        {"epsilon", "charts/epsilon"},
        {"return_max", "charts/return_max"},
        {"replay_size", "charts/replay_size"},
        {"q_mean", "values/q_mean"},
        {"grad_norm", "values/grad_norm"},
        {"action_entropy", "values/action_entropy"},
        {"is_weight_min", "values/is_weight_min"},
        {"sys_sps", "time/sps"},
        {"sys_env_s", "time/env_s"},
        {"sys_rss_mb", "system/rss_mb"},
        {"c51_loss", "losses/c51_loss"},
    };
    char tag[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prism_tfevents_default_tag(cases[i][0], tag, sizeof tag);
        CHECK(!strcmp(tag, cases[i][1]));
        if (strcmp(tag, cases[i][1])) fprintf(stderr, "%s -> %s\n", cases[i][0], tag);
    }
}

TEST(tfevents_large_batches_split_and_second_file_does_not_clobber) {
    static prism_tfevents w;
    static scalar_log log;
    memset(&log, 0, sizeof log);
    enum { N = 1500 };
    static char names[N][64];
    static const char *tags[N];
    static float vals[N];
    for (int i = 0; i < N; i++) {
        /* long tags so that N values exceed one 64 KiB event */
        snprintf(names[i], sizeof names[i], "values/a_rather_long_metric_name_%05d_xxxx", i);
        tags[i] = names[i];
        vals[i] = (float)i * 0.5f;
    }
    REQUIRE(prism_tfevents_open_at(&w, test_tmpdir(), 1700000000, "h") == PRISM_OK);
    REQUIRE(prism_tfevents_scalars(&w, 7, 1.0, N, tags, vals) == PRISM_OK);
    long long recs = w.records;
    char first[PRISM_PATH_MAX];
    snprintf(first, sizeof first, "%s", w.path);
    prism_tfevents_close(&w);
    CHECK(recs > 2);
    REQUIRE(prism_tfevents_read(first, collect, &log, NULL) == PRISM_OK);
    REQUIRE(log.n == N);
    for (int i = 0; i < N; i++) CHECK(!strcmp(log.tag[i], tags[i]) && log.value[i] == vals[i]);
    /* same second, same host: a new name, the first file intact */
    REQUIRE(prism_tfevents_open_at(&w, test_tmpdir(), 1700000000, "h") == PRISM_OK);
    CHECK(strcmp(first, w.path) != 0);
    prism_tfevents_close(&w);
    CHECK(prism_tfevents_read(first, NULL, NULL, NULL) == PRISM_OK);
    const char *empty = "";
    REQUIRE(prism_tfevents_open_at(&w, test_tmpdir(), 1700000001, "h") == PRISM_OK);
    CHECK(prism_tfevents_scalars(&w, 0, 0, 1, &empty, vals) == PRISM_ERR_INVALID);
    prism_tfevents_close(&w);
}

/* ---- run directory ---- */

static char *const fake_argv[] = {
    "prism", "train", "CartPole-v0", "--agent", "rainbow", "--set", "note=\"quoted\" \\ back"};

static prism_archive_spec spec_for(const char *runs, const char *id, uint64_t seed, bool no_index) {
    prism_archive_spec s = {.runs_dir = runs,
                            .run_id = id,
                            .env = "CartPole-v0",
                            .agent = "rainbow",
                            .seed = seed,
                            .argc = 7,
                            .argv = fake_argv,
                            .no_index = no_index};
    return s;
}

TEST(archive_create_writes_run_json_log_and_index_row) {
    static prism_archive a;
    char runs[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    join(runs, test_tmpdir(), "deep/runs"); /* created on demand */
    prism_archive_spec spec = spec_for(runs, NULL, 3, false);
    REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
    CHECK(strstr(a.id, "-CartPole-v0-rainbow-s3") != NULL);
    CHECK(strlen(a.id) == strlen("20261121-053012-CartPole-v0-rainbow-s3"));
    mute(1);
    prism_archive_printf(&a, "iteration %d return %.1f\n", 1, 21.5);
    unmute(1);
    mute(2);
    prism_archive_eprintf(&a, "a warning\n");
    unmute(2);
    CHECK(prism_archive_set_string(&a, "preset", "rainbow") == PRISM_OK);
    CHECK(prism_archive_set_int(&a, "iterations", 30) == PRISM_OK);
    CHECK(prism_archive_set_double(&a, "lr", 1e-4) == PRISM_OK);
    CHECK(prism_archive_set_metric(&a, "return_mean", 187.25) == PRISM_OK);
    CHECK(prism_archive_set_metric(&a, "return_mean", 190.5) == PRISM_OK); /* replaces */
    CHECK(prism_archive_set_metric(&a, "td_loss", (double)NAN) == PRISM_OK);
    prism_archive_set_progress(&a, 30000, 190.5);

    /* while running: run.json says so, the index knows the run */
    join(path, a.dir, "run.json");
    prism_json_value *doc;
    REQUIRE(prism_json_parse_file(path, &doc) == PRISM_OK);
    CHECK(!strcmp(prism_json_get_string(doc, "status", ""), "running"));
    CHECK(prism_json_get(doc, "end")->type == PRISM_JSON_NULL);
    prism_json_value_free(doc);

    char dir[PRISM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", a.dir);
    REQUIRE(prism_archive_finish(&a, PRISM_RUN_COMPLETED, NULL) == PRISM_OK);
    REQUIRE(prism_json_parse_file(path, &doc) == PRISM_OK);
    CHECK(!strcmp(prism_json_get_string(doc, "status", ""), "completed"));
    CHECK(!strcmp(prism_json_get_string(doc, "env", ""), "CartPole-v0"));
    CHECK(!strcmp(prism_json_get_string(doc, "agent", ""), "rainbow"));
    CHECK(prism_json_get_number(doc, "seed", -1) == 3);
    CHECK(prism_json_get_number(doc, "steps", -1) == 30000);
    CHECK(prism_json_get_number(doc, "final_return", -1) == 190.5);
    const char *start = prism_json_get_string(doc, "start", ""),
               *end = prism_json_get_string(doc, "end", "");
    CHECK(strlen(start) == 20 && start[10] == 'T' && start[19] == 'Z');
    CHECK(strlen(end) == 20 && strcmp(end, start) >= 0);
    const prism_json_value *argv = prism_json_get(doc, "argv");
    REQUIRE(argv && argv->type == PRISM_JSON_ARRAY && argv->count == 7);
    const prism_json_value *last = argv->child;
    while (last->next) last = last->next;
    CHECK(!strcmp(last->string, fake_argv[6]));
    CHECK(strlen(prism_json_get_string(doc, "cwd", "")) > 0);
    CHECK(strlen(prism_json_get_string(doc, "host", "")) > 0);
    CHECK(strlen(prism_json_get_string(doc, "cpu", "")) > 0);
    CHECK(!strcmp(prism_json_get_string(doc, "prism_version", ""), PRISM_VERSION));
    const prism_json_value *b = prism_json_get(doc, "build");
    const char *commit = prism_json_get_string(b, "commit", "");
    CHECK(!strcmp(commit, "unknown") || strlen(commit) == 40);
    CHECK(strlen(prism_json_get_string(b, "flags", "")) > 0);
    CHECK(strlen(prism_json_get_string(b, "compiler", "")) > 0);
    const prism_json_value *extra = prism_json_get(doc, "extra"),
                           *m = prism_json_get(doc, "metrics");
    CHECK(!strcmp(prism_json_get_string(extra, "preset", ""), "rainbow"));
    CHECK(prism_json_get_number(extra, "iterations", 0) == 30);
    CHECK(prism_json_get_number(extra, "lr", 0) == 1e-4);
    CHECK(prism_json_get_number(m, "return_mean", 0) == 190.5);
    CHECK(prism_json_get(m, "td_loss")->type == PRISM_JSON_NULL);
    prism_json_value_free(doc);

    /* diff.patch exactly when the build was dirty */
    join(path, dir, "diff.patch");
    const prism_build_info *bi = prism_build_info_get();
    CHECK((access(path, F_OK) == 0) == (bi->dirty && bi->diff_len > 0));
    /* stdout.log has what was printed, both streams */
    join(path, dir, "stdout.log");
    char *log = read_all(path);
    REQUIRE(log);
    CHECK(!strcmp(log, "iteration 1 return 21.5\na warning\n"));
    prism_free(log);

    /* the index row */
    prism_run_index ix;
    prism_run_record r;
    REQUIRE(prism_run_index_open(&ix, runs) == PRISM_OK);
    const char *slash = strrchr(dir, '/');
    REQUIRE(prism_run_index_find(&ix, slash + 1, &r) == PRISM_OK);
    CHECK(!strcmp(r.status, "completed") && r.seed == 3 && r.steps == 30000);
    CHECK(r.final_return == 190.5 && !strcmp(r.env, "CartPole-v0"));
    prism_run_index_close(&ix);
}

TEST(archive_ids_get_suffixes_and_bad_ids_are_refused) {
    static prism_archive a;
    char runs[PRISM_PATH_MAX];
    join(runs, test_tmpdir(), "runs");
    prism_archive_spec spec = spec_for(runs, "same", 0, true);
    REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
    CHECK(!strcmp(a.id, "same"));
    prism_archive_close(&a);
    REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
    CHECK(!strcmp(a.id, "same-2"));
    prism_archive_close(&a);
    REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
    CHECK(!strcmp(a.id, "same-3"));
    prism_archive_close(&a);
    const char *bad[] = {"", "../escape", "a/b", ".hidden"};
    for (int i = 0; i < 4; i++) {
        spec.run_id = bad[i];
        CHECK(prism_archive_create(&a, &spec) == PRISM_ERR_INVALID);
    }
    /* odd characters in env / agent names are made safe in generated ids */
    spec.run_id = NULL;
    spec.agent = "dqn+per/x y";
    REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
    CHECK(strstr(a.id, "-dqn+per_x_y-s0") != NULL);
    prism_archive_close(&a);
}

TEST(archive_in_unwritable_runs_dir_fails_with_a_clear_message) {
    static prism_archive a;
    char dir[PRISM_PATH_MAX], runs[PRISM_PATH_MAX];
    join(dir, test_tmpdir(), "ro");
    int mounted = 0;
    if (geteuid() == 0) {
        mkdir(dir, 0777);
        mounted = mount("tmpfs", dir, "tmpfs", MS_RDONLY, "size=64k") == 0;
        if (!mounted) {
            fprintf(stderr, "(cannot mount a read-only tmpfs: skipped) ");
            return;
        }
    } else
        mkdir(dir, 0555);
    prism_archive_spec spec = spec_for(dir, "x", 0, true);
    CHECK(prism_archive_create(&a, &spec) == PRISM_ERR_IO);
    CHECK(strstr(prism_error_message(), dir) && strstr(prism_error_message(), "--runs-dir"));
    join(runs, dir, "runs"); /* a runs dir that cannot be created */
    spec.runs_dir = runs;
    CHECK(prism_archive_create(&a, &spec) == PRISM_ERR_IO);
    CHECK(strstr(prism_error_message(), runs) != NULL);
    if (mounted) umount(dir);
}

/* The disk fills while the run writes (its checkpoints are what fill it): the final status must
 * still reach run.json, in the room `.reserve` kept for it, and nothing of the room stays. */
TEST(archive_final_status_is_recorded_on_a_full_disk) {
    static prism_archive a;
    char dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX], filler[PRISM_PATH_MAX];
    if (geteuid() != 0) {
        test_skip("needs root to mount a small tmpfs");
        return;
    }
    join(dir, test_tmpdir(), "small");
    REQUIRE(mkdir(dir, 0777) == 0);
    if (mount("tmpfs", dir, "tmpfs", 0, "size=512k") != 0) {
        test_skip("cannot mount a tmpfs");
        return;
    }
    prism_archive_spec spec = spec_for(dir, "r", 1, true);
    REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
    join(path, a.dir, ".reserve");
    CHECK(access(path, F_OK) == 0);
    /* fill the disk to the last byte */
    join(filler, dir, "filler");
    FILE *f = fopen(filler, "wb");
    REQUIRE(f != NULL);
    static const char block[4096];
    while (fwrite(block, 1, sizeof block, f) == sizeof block && fflush(f) == 0) {
    }
    while (fwrite(block, 1, 1, f) == 1 && fflush(f) == 0) {
    }
    fclose(f);
    CHECK(prism_archive_set_string(&a, "note", "x") == PRISM_OK);
    CHECK(prism_archive_update(&a) == PRISM_ERR_IO); /* the disk is full indeed */
    CHECK(prism_archive_finish(&a, PRISM_RUN_FAILED, "No space left on device") == PRISM_OK);
    CHECK(access(path, F_OK) != 0);
    join(path, a.dir, "run.json");
    prism_json_value *doc;
    REQUIRE(prism_json_parse_file(path, &doc) == PRISM_OK);
    CHECK(!strcmp(prism_json_get_string(doc, "status", ""), "failed"));
    prism_json_value_free(doc);
    umount(dir);
}

TEST(archive_reopen_resumes_the_same_run) {
    static prism_archive a;
    char runs[PRISM_PATH_MAX], dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    join(runs, test_tmpdir(), "runs");
    prism_archive_spec spec = spec_for(runs, "r1", 9, false);
    REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
    mute(1);
    prism_archive_printf(&a, "before\n");
    unmute(1);
    prism_archive_set_metric(&a, "loss", 0.5);
    prism_archive_set_progress(&a, 500, 10.0);
    snprintf(dir, sizeof dir, "%s", a.dir);
    double start = a.start_time;
    REQUIRE(prism_archive_finish(&a, PRISM_RUN_INTERRUPTED, "SIGINT") == PRISM_OK);

    char *const resume_argv[] = {"prism", "train", "--resume", dir};
    REQUIRE(prism_archive_reopen(&a, dir, 4, resume_argv) == PRISM_OK);
    CHECK(!strcmp(a.id, "r1") && a.seed == 9 && a.steps == 500 && a.resumed == 1);
    CHECK(a.status == PRISM_RUN_RUNNING);
    CHECK(fabs(a.start_time - start) < 1e-6);
    mute(1);
    prism_archive_printf(&a, "after\n");
    unmute(1);
    REQUIRE(prism_archive_finish(&a, PRISM_RUN_COMPLETED, NULL) == PRISM_OK);
    join(path, dir, "stdout.log");
    char *log = read_all(path);
    CHECK(log && !strcmp(log, "before\nafter\n"));
    prism_free(log);
    prism_json_value *doc;
    join(path, dir, "run.json");
    REQUIRE(prism_json_parse_file(path, &doc) == PRISM_OK);
    CHECK(!strcmp(prism_json_get_string(doc, "status", ""), "completed"));
    CHECK(prism_json_get(doc, "message")->type == PRISM_JSON_NULL);
    CHECK(prism_json_get_number(doc, "resumed", 0) == 1);
    CHECK(prism_json_get_number(prism_json_get(doc, "metrics"), "loss", 0) == 0.5);
    CHECK(strstr(prism_json_get_string(prism_json_get(doc, "extra"), "resume_argv", ""),
                 "--resume") != NULL);
    CHECK(prism_json_get(doc, "argv")->count == 7); /* the original command line stays */
    prism_json_value_free(doc);
    join(path, runs, "nope");
    CHECK(prism_archive_reopen(&a, path, 0, NULL) == PRISM_ERR_NOT_FOUND);
}

/* ---- index ---- */

static prism_run_record rec(const char *id, const char *env, const char *agent, uint64_t seed,
                            const char *status) {
    prism_run_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "%s", id);
    snprintf(r.dir, sizeof r.dir, "runs/%s", id);
    snprintf(r.env, sizeof r.env, "%s", env);
    snprintf(r.agent, sizeof r.agent, "%s", agent);
    r.seed = seed;
    snprintf(r.status, sizeof r.status, "%s", status);
    snprintf(r.start, sizeof r.start, "2026-11-21T05:%02d:00Z", (int)(seed % 60));
    r.final_return = (double)NAN;
    return r;
}

static int count_visit(void *ctx, const prism_run_record *r) {
    (void)r;
    (*(int *)ctx)++;
    return 0;
}

static int query_count(prism_run_index *ix, const char *expr) {
    prism_run_filter f;
    if (prism_run_filter_parse(&f, expr) != PRISM_OK) return -1;
    int n = 0;
    if (prism_run_index_query(ix, &f, count_visit, &n) != PRISM_OK) return -2;
    return n;
}

TEST(run_index_insert_update_filter_and_prefix_lookup) {
    prism_run_index ix;
    REQUIRE(prism_run_index_open(&ix, test_tmpdir()) == PRISM_OK);
    prism_run_record r = rec("20261121-0500-cp-dqn-s0", "CartPole-v0", "dqn", 0, "running");
    CHECK(prism_run_index_upsert(&ix, &r) == PRISM_OK);
    r = rec("20261121-0500-cp-rainbow-s1", "CartPole-v0", "rainbow", 1, "completed");
    r.final_return = 200;
    CHECK(prism_run_index_upsert(&ix, &r) == PRISM_OK);
    r = rec("20261121-0600-ac-rainbow-s1", "Acrobot-v1", "rainbow", 1, "failed");
    CHECK(prism_run_index_upsert(&ix, &r) == PRISM_OK);
    CHECK_EQ_INT(query_count(&ix, NULL), 3);
    CHECK_EQ_INT(query_count(&ix, "env=CartPole-v0"), 2);
    CHECK_EQ_INT(query_count(&ix, "agent=rainbow,seed=1"), 2);
    CHECK_EQ_INT(query_count(&ix, "env=CartPole-v0,agent=rainbow,status=completed"), 1);
    CHECK_EQ_INT(query_count(&ix, "id=20261121-05"), 2);
    CHECK_EQ_INT(query_count(&ix, "status=running"), 1);
    /* update: the dqn run completes */
    r = rec("20261121-0500-cp-dqn-s0", "CartPole-v0", "dqn", 0, "completed");
    r.steps = 30000;
    CHECK(prism_run_index_upsert(&ix, &r) == PRISM_OK);
    CHECK_EQ_INT(query_count(&ix, "status=running"), 0);
    CHECK_EQ_INT(query_count(&ix, NULL), 3);
    /* values are bound, never SQL: these match nothing and break nothing */
    CHECK_EQ_INT(query_count(&ix, "env=x' OR '1'='1"), 0);
    CHECK_EQ_INT(query_count(&ix, "id=%"), 0);
    CHECK_EQ_INT(query_count(&ix, "seed=1 OR 1=1"), 0);
    CHECK_EQ_INT(query_count(&ix, NULL), 3);
    /* bad filters */
    prism_run_filter f;
    CHECK(prism_run_filter_parse(&f, "colour=red") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "colour") && strstr(prism_error_message(), "env"));
    CHECK(prism_run_filter_parse(&f, "env") == PRISM_ERR_INVALID);
    CHECK(prism_run_filter_parse(&f, "env=a,,") == PRISM_OK && f.n == 1);
    /* lookup by unique prefix, ambiguous prefix, exact id */
    prism_run_record out;
    CHECK(prism_run_index_find(&ix, "20261121-06", &out) == PRISM_OK);
    CHECK(!strcmp(out.env, "Acrobot-v1") && !strcmp(out.status, "failed"));
    CHECK(prism_run_index_find(&ix, "20261121-05", &out) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "ambiguous") != NULL);
    CHECK(prism_run_index_find(&ix, "zzz", &out) == PRISM_ERR_NOT_FOUND);
    CHECK(prism_run_index_find(&ix, "20261121-0500-cp-dqn-s0", &out) == PRISM_OK);
    CHECK(out.steps == 30000 && isnan(out.final_return));
    CHECK(prism_run_index_remove(&ix, "20261121-0500-cp-dqn-s0") == PRISM_OK);
    CHECK_EQ_INT(query_count(&ix, NULL), 2);
    prism_run_index_close(&ix);
}

TEST(run_index_reindex_rebuilds_from_run_directories) {
    static prism_archive a;
    char runs[PRISM_PATH_MAX], junk[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    join(runs, test_tmpdir(), "runs");
    for (int s = 0; s < 3; s++) {
        char id[16];
        snprintf(id, sizeof id, "run%d", s);
        prism_archive_spec spec = spec_for(runs, id, (uint64_t)s, true);
        REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
        prism_archive_set_progress(&a, 100 * s, 1.5 * s);
        REQUIRE(prism_archive_finish(&a, s == 2 ? PRISM_RUN_DIVERGED : PRISM_RUN_COMPLETED,
                                     s == 2 ? "NaN in td_loss at iteration 7" : NULL) == PRISM_OK);
    }
    join(junk, runs, "not-a-run");
    mkdir(junk, 0777);
    join(path, junk, "run.json");
    REQUIRE(prism_file_write_atomic(path, "{truncated", 10) == PRISM_OK);
    prism_run_index ix;
    REQUIRE(prism_run_index_open(&ix, runs) == PRISM_OK);
    CHECK_EQ_INT(query_count(&ix, NULL), 0); /* no_index: nothing there yet */
    int n, skipped;
    REQUIRE(prism_run_index_reindex(&ix, runs, &n, &skipped) == PRISM_OK);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(skipped, 1);
    CHECK_EQ_INT(query_count(&ix, NULL), 3);
    CHECK_EQ_INT(query_count(&ix, "status=diverged"), 1);
    prism_run_record r;
    REQUIRE(prism_run_index_find(&ix, "run2", &r) == PRISM_OK);
    CHECK(r.steps == 200 && r.final_return == 3.0 && r.seed == 2);
    CHECK(!strcmp(r.message, "NaN in td_loss at iteration 7"));
    /* reindex is idempotent */
    REQUIRE(prism_run_index_reindex(&ix, runs, &n, &skipped) == PRISM_OK);
    CHECK_EQ_INT(query_count(&ix, NULL), 3);
    prism_run_index_close(&ix);
}

TEST(run_index_survives_concurrent_writers) {
    /* Several processes open the index and upsert at once, as a parallel sweep would. WAL and
     * the busy timeout must make every write land. */
    enum { PROCS = 4, ROWS = 25 };
    const char *dir = test_tmpdir();
    fflush(NULL);
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        REQUIRE(pids[p] >= 0);
        if (pids[p] == 0) {
            int fails = 0;
            for (int i = 0; i < ROWS; i++) {
                prism_run_index ix;
                if (prism_run_index_open(&ix, dir) != PRISM_OK) {
                    fails++;
                    continue;
                }
                char id[32];
                snprintf(id, sizeof id, "p%d-r%02d", p, i);
                prism_run_record r = rec(id, "CartPole-v0", "dqn", (uint64_t)i, "running");
                fails += prism_run_index_upsert(&ix, &r) != PRISM_OK;
                snprintf(r.status, sizeof r.status, "completed");
                fails += prism_run_index_upsert(&ix, &r) != PRISM_OK;
                prism_run_index_close(&ix);
            }
            _exit(fails ? 1 : 0);
        }
    }
    int bad = 0;
    for (int p = 0; p < PROCS; p++) {
        int status = 0;
        waitpid(pids[p], &status, 0);
        bad += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_EQ_INT(bad, 0);
    prism_run_index ix;
    REQUIRE(prism_run_index_open(&ix, dir) == PRISM_OK);
    CHECK_EQ_INT(query_count(&ix, NULL), PROCS * ROWS);
    CHECK_EQ_INT(query_count(&ix, "status=completed"), PROCS * ROWS);
    prism_run_index_close(&ix);
}

/* ---- the CLI ---- */

/* A fake runs dir: three runs with config.ini and metrics.csv, one still running. */
static void make_fake_runs(const char *runs) {
    static prism_archive a;
    static const char *const cfg[] = {
        "[agent]\nlr = 0.0001\ngamma = 0.99\n[env]\nid = CartPole-v0\n",
        "[agent]\nlr = 0.001\ngamma = 0.99\nnoisy = true\n[env]\nid = CartPole-v0\n",
        "[agent]\nlr = 0.001\n",
    };
    static const char *const ids[] = {"alpha-cp-rainbow", "beta-cp-dqn", "gamma-ac-dqn"};
    for (int i = 0; i < 3; i++) {
        prism_archive_spec spec = spec_for(runs, ids[i], (uint64_t)i, false);
        spec.agent = i == 0 ? "rainbow" : "dqn";
        spec.env = i == 2 ? "Acrobot-v1" : "CartPole-v0";
        if (prism_archive_create(&a, &spec) != PRISM_OK) {
            CHECK(!"archive create");
            return;
        }
        char path[PRISM_PATH_MAX];
        join(path, a.dir, "config.ini");
        CHECK(prism_file_write_atomic(path, cfg[i], strlen(cfg[i])) == PRISM_OK);
        join(path, a.dir, "metrics.csv");
        prism_csv c;
        CHECK(prism_csv_open(&c, path, 4, csv_cols, csv_int) == PRISM_OK);
        double row[4] = {1, 1000, 50.0 + i, (double)NAN};
        CHECK(prism_csv_row(&c, row) == PRISM_OK);
        row[0] = 2, row[1] = 2000, row[2] = 150.0 + i, row[3] = 0.25;
        CHECK(prism_csv_row(&c, row) == PRISM_OK);
        prism_csv_close(&c);
        prism_archive_set_metric(&a, "return_mean", 150.0 + i);
        prism_archive_set_progress(&a, 2000, 150.0 + i);
        if (i == 2)
            prism_archive_close(&a); /* still "running" */
        else
            CHECK(prism_archive_finish(&a, PRISM_RUN_COMPLETED, NULL) == PRISM_OK);
    }
}

TEST(cli_runs_ls_show_and_where_filters) {
    static char out[65536];
    char runs[PRISM_PATH_MAX];
    join(runs, test_tmpdir(), "runs");
    make_fake_runs(runs);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s", runs), 0);
    CHECK(strstr(out, "alpha-cp-rainbow") && strstr(out, "beta-cp-dqn") &&
          strstr(out, "gamma-ac-dqn") && strstr(out, "3 runs"));
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "runs ls --runs-dir %s --where agent=dqn,status=running", runs),
        0);
    CHECK(strstr(out, "gamma-ac-dqn") && !strstr(out, "beta-cp-dqn") && strstr(out, "1 run\n"));
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "runs ls --runs-dir %s --where \"env=x' OR 1=1 --\"", runs), 0);
    CHECK(strstr(out, "0 runs") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s --where flavour=x", runs), 2);
    CHECK(strstr(out, "flavour") != NULL);
    /* show by unique prefix: run.json and the last metrics row */
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs show al --runs-dir %s", runs), 0);
    CHECK(strstr(out, "\"status\": \"completed\"") && strstr(out, "\"env\": \"CartPole-v0\""));
    CHECK(strstr(out, "last metrics row") && strstr(out, "return_mean") && strstr(out, "150"));
    CHECK(strstr(out, "0.25") != NULL);
    /* a one-letter prefix is enough when unique; unknown ids are input errors */
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs show g --runs-dir %s", runs), 0);
    CHECK(strstr(out, "\"status\": \"running\"") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs show nope --runs-dir %s", runs), 2);
    CHECK(strstr(out, "no run 'nope'") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs show --runs-dir %s", runs), 2);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs frobnicate"), 2);
}

TEST(cli_runs_diff_reports_config_and_metric_differences) {
    static char out[65536];
    char runs[PRISM_PATH_MAX];
    join(runs, test_tmpdir(), "runs");
    make_fake_runs(runs);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs diff alpha beta --runs-dir %s", runs), 0);
    CHECK(strstr(out, "agent.lr") && strstr(out, "0.0001") && strstr(out, "0.001"));
    CHECK(strstr(out, "agent.noisy") && strstr(out, "(absent)"));
    CHECK(!strstr(out, "agent.gamma")); /* equal keys are not listed */
    CHECK(strstr(out, "return_mean") && strstr(out, "150") && strstr(out, "151"));
    CHECK(strstr(out, "final_return") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs diff alpha alpha --runs-dir %s", runs), 0);
    CHECK(strstr(out, "(identical)") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs diff alpha --runs-dir %s", runs), 2);
}

TEST(cli_runs_rm_refuses_running_runs_and_reindex_restores_the_index) {
    static char out[65536];
    char runs[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    join(runs, test_tmpdir(), "runs");
    make_fake_runs(runs);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs rm gamma --runs-dir %s", runs), 2);
    CHECK(strstr(out, "running") && strstr(out, "--force"));
    /* a run whose process died without a word (SIGKILL): the refusal says so */
    fflush(NULL);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        static prism_archive k;
        prism_archive_spec spec = spec_for(runs, "killed", 0, false);
        _exit(prism_archive_create(&k, &spec) == PRISM_OK ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs rm killed --runs-dir %s", runs), 2);
    CHECK(strstr(out, "probably killed") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs rm killed --force --runs-dir %s", runs), 0);
    join(path, runs, "gamma-ac-dqn/run.json");
    CHECK(access(path, F_OK) == 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs rm gamma --force --runs-dir %s", runs), 0);
    CHECK(access(path, F_OK) != 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs rm beta --runs-dir %s", runs), 0);
    join(path, runs, "beta-cp-dqn");
    CHECK(access(path, F_OK) != 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s", runs), 0);
    CHECK(strstr(out, "1 run\n") && strstr(out, "alpha"));
    /* lose the index: ls rebuilds it, reindex too */
    join(path, runs, "index.sqlite");
    CHECK(unlink(path) == 0);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s", runs), 0);
    CHECK(strstr(out, "alpha") && strstr(out, "1 run\n"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs reindex --runs-dir %s", runs), 0);
    CHECK(strstr(out, "indexed 1 run") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "runs ls --runs-dir %s/nonexistent", runs), 2);
}

/* ---- robustness ---- */

TEST(archive_survives_a_broken_index_and_out_of_memory) {
    static prism_archive a;
    char runs[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    join(runs, test_tmpdir(), "runs");
    REQUIRE(prism_mkdir_p(runs) == PRISM_OK);
    /* an index.sqlite that is a directory cannot be opened: the run goes on regardless */
    join(path, runs, "index.sqlite");
    REQUIRE(mkdir(path, 0777) == 0);
    prism_archive_spec spec = spec_for(runs, "noindex", 1, false);
    REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
    CHECK(a.index_error[0] != 0);
    CHECK(prism_archive_finish(&a, PRISM_RUN_COMPLETED, NULL) == PRISM_OK);
    join(path, runs, "noindex/stdout.log");
    char *log = read_all(path);
    CHECK(log && strstr(log, "prism: warning: run index") != NULL);
    prism_free(log);
    /* allocation failure at every point of create: a clean error, never a crash or a leak */
    int ok = 0, nomem = 0;
    for (long n = 0; n < 40; n++) {
        char id[32];
        snprintf(id, sizeof id, "oom%ld", n);
        spec = spec_for(runs, id, 0, true);
        prism_alloc_fail_after(n);
        prism_status st = prism_archive_create(&a, &spec);
        prism_alloc_fail_after(-1);
        if (st == PRISM_OK) {
            ok++;
            CHECK(prism_archive_finish(&a, PRISM_RUN_COMPLETED, NULL) == PRISM_OK);
        } else {
            nomem++;
            CHECK(st == PRISM_ERR_NOMEM);
            join(path, runs, id);
            CHECK(access(path, F_OK) != 0); /* nothing half-made left behind */
        }
    }
    CHECK(ok > 0 && nomem > 0);
}

TEST(readers_reject_random_corruption_without_crashing) {
    /* run.json and event files with random bytes flipped, inserted or cut: the readers return
     * OK or CORRUPT, never crash or read out of bounds (the ASan build checks the latter). */
    static prism_archive a;
    static prism_tfevents w;
    char runs[PRISM_PATH_MAX], path[PRISM_PATH_MAX], bad[PRISM_PATH_MAX];
    join(runs, test_tmpdir(), "runs");
    prism_archive_spec spec = spec_for(runs, "fuzz", 1, true);
    REQUIRE(prism_archive_create(&a, &spec) == PRISM_OK);
    prism_archive_set_metric(&a, "x", 1.5);
    REQUIRE(prism_archive_finish(&a, PRISM_RUN_COMPLETED, "done \"quoted\"") == PRISM_OK);
    join(path, runs, "fuzz/run.json");
    char *json;
    size_t jlen;
    REQUIRE(prism_file_read(path, &json, &jlen) == PRISM_OK);
    REQUIRE(prism_tfevents_open_at(&w, test_tmpdir(), 1, "h") == PRISM_OK);
    const char *tags[] = {"a/b", "c/d"};
    float v[] = {1, 2};
    for (int i = 0; i < 5; i++) CHECK(prism_tfevents_scalars(&w, i, 1, 2, tags, v) == PRISM_OK);
    char evpath[PRISM_PATH_MAX];
    snprintf(evpath, sizeof evpath, "%s", w.path);
    prism_tfevents_close(&w);
    char *ev;
    size_t evlen;
    REQUIRE(prism_file_read(evpath, &ev, &evlen) == PRISM_OK);
    join(bad, test_tmpdir(), "mutant");
    prism_rng r;
    prism_rng_seed(&r, 11, 0);
    static char buf[1 << 16];
    int json_rejected = 0, ev_rejected = 0;
    for (int it = 0; it < 600; it++) {
        int is_json = it % 2 == 0;
        const char *src = is_json ? json : ev;
        size_t len = is_json ? jlen : evlen;
        REQUIRE(len < sizeof buf);
        memcpy(buf, src, len);
        int kind = (int)prism_rng_below(&r, 3);
        size_t at = (size_t)prism_rng_below(&r, len);
        if (kind == 0)
            buf[at] ^= (char)(1 + prism_rng_below(&r, 255));
        else if (kind == 1)
            len = at;
        else
            buf[at] = "{}[]\",:\\0e-"[prism_rng_below(&r, 11)];
        if (is_json) {
            prism_json_value *doc = NULL;
            prism_status st = prism_json_parse(buf, len, "mutant", &doc);
            CHECK(st == PRISM_OK || st == PRISM_ERR_CORRUPT);
            json_rejected += st != PRISM_OK;
            prism_json_value_free(doc);
        } else {
            REQUIRE(prism_file_write_atomic(bad, buf, len) == PRISM_OK);
            long long nrec = 0;
            prism_status st = prism_tfevents_read(bad, NULL, NULL, &nrec);
            /* every change to an event file is caught (CRCs cover all bytes), except a cut
             * exactly at a record boundary, which leaves a shorter valid file */
            CHECK(st == PRISM_ERR_CORRUPT || (kind == 2 && !memcmp(buf, ev, evlen)) ||
                  (kind == 1 && nrec < 6));
            ev_rejected += st != PRISM_OK;
        }
    }
    CHECK(json_rejected > 100);
    CHECK(ev_rejected > 250);
    prism_free(json);
    prism_free(ev);
}
