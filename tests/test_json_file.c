/* Tests for the JSON writer and reader (src/core/json_*.c) and atomic file writing
 * (src/core/file.c), including the failure paths: unwritable directory, full disk. */
#include "harness.h"
#include "prism/file.h"
#include "prism/json.h"
#include "prism/rng.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(json_writer_compact_nesting_and_escaping) {
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_object_begin(&j);
    prism_json_kv_string(&j, "s", "a\"b\\c\n\t\x01/é");
    prism_json_kv_int(&j, "i", -42);
    prism_json_key(&j, "arr");
    prism_json_array_begin(&j);
    prism_json_int(&j, 1);
    prism_json_array_begin(&j);
    prism_json_array_end(&j);
    prism_json_object_begin(&j);
    prism_json_object_end(&j);
    prism_json_null(&j);
    prism_json_bool(&j, true);
    prism_json_array_end(&j);
    prism_json_kv_double(&j, "nan", (double)NAN);
    prism_json_kv_double(&j, "inf", -(double)INFINITY);
    prism_json_kv_double(&j, "half", 0.5);
    prism_json_kv_string(&j, "null", NULL);
    prism_json_object_end(&j);
    REQUIRE(prism_json_finish(&j) == PRISM_OK);
    const char *want =
        "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001/é\",\"i\":-42,\"arr\":[1,[],{},null,true],"
        "\"nan\":null,\"inf\":null,\"half\":0.5,\"null\":null}";
    CHECK(!strcmp(prism_json_text(&j), want));
    if (strcmp(prism_json_text(&j), want)) fprintf(stderr, "got: %s\n", prism_json_text(&j));
    /* and it parses back to the same strings */
    prism_json_value *v;
    REQUIRE(prism_json_parse(prism_json_text(&j), prism_json_length(&j), "t", &v) == PRISM_OK);
    CHECK(!strcmp(prism_json_get_string(v, "s", ""), "a\"b\\c\n\t\x01/é"));
    CHECK(prism_json_get_number(v, "i", 0) == -42);
    CHECK(prism_json_get(v, "arr")->count == 5);
    CHECK(prism_json_get(v, "nan")->type == PRISM_JSON_NULL);
    prism_json_value_free(v);
    prism_json_free(&j);
}

TEST(json_writer_indented_output_reparses_identically) {
    prism_json a, b;
    prism_json_init(&a, 2);
    prism_json_object_begin(&a);
    prism_json_kv_string(&a, "env", "CartPole-v0");
    prism_json_key(&a, "list");
    prism_json_array_begin(&a);
    prism_json_double(&a, 1.25);
    prism_json_string(&a, "x");
    prism_json_array_end(&a);
    prism_json_object_end(&a);
    REQUIRE(prism_json_finish(&a) == PRISM_OK);
    CHECK(!strcmp(prism_json_text(&a),
                  "{\n  \"env\": \"CartPole-v0\",\n  \"list\": [\n    1.25,\n    \"x\"\n  ]\n}\n"));
    prism_json_value *v;
    REQUIRE(prism_json_parse(prism_json_text(&a), prism_json_length(&a), "t", &v) == PRISM_OK);
    prism_json_init(&b, 2);
    prism_json_write_value(&b, v);
    REQUIRE(prism_json_finish(&b) == PRISM_OK);
    CHECK(!strcmp(prism_json_text(&a), prism_json_text(&b)));
    prism_json_value_free(v);
    prism_json_free(&a);
    prism_json_free(&b);
}

/* The report's data document: options on one line, one row object a line, an empty table as
 * "[" and "]" on two lines; breaks are the caller's, separators ", " and ": ". */
TEST(json_writer_line_layout_breaks_where_asked) {
    prism_json j;
    prism_json_init_lines(&j, 2);
    prism_json_object_begin(&j);
    prism_json_break(&j);
    prism_json_kv_int(&j, "n", 3);
    prism_json_key(&j, "level");
    prism_json_double_digits(&j, 0.95, 6);
    prism_json_break(&j);
    prism_json_key(&j, "rows");
    prism_json_array_begin(&j);
    for (int i = 0; i < 2; i++) {
        prism_json_break(&j);
        prism_json_object_begin(&j);
        prism_json_kv_string(&j, "env", i ? "a\tb" : "x");
        prism_json_key(&j, "v");
        prism_json_double_digits(&j, i ? 1.0 / 3 : (double)NAN, 10);
        prism_json_object_end(&j);
    }
    prism_json_break(&j);
    prism_json_array_end(&j);
    prism_json_break(&j);
    prism_json_key(&j, "empty");
    prism_json_array_begin(&j);
    prism_json_break(&j);
    prism_json_array_end(&j);
    prism_json_break(&j);
    prism_json_object_end(&j);
    REQUIRE(prism_json_finish(&j) == PRISM_OK);
    const char *want =
        "{\n  \"n\": 3, \"level\": 0.95,\n  \"rows\": [\n    {\"env\": \"x\", \"v\": "
        "null},\n    {\"env\": \"a\\tb\", \"v\": 0.3333333333}\n  ],\n  \"empty\": "
        "[\n  ]\n}\n";
    if (strcmp(prism_json_text(&j), want))
        test_fail(__FILE__, __LINE__, "got %s, want %s", prism_json_text(&j), want);
    prism_json_value *v;
    REQUIRE(prism_json_parse(prism_json_text(&j), prism_json_length(&j), "t", &v) == PRISM_OK);
    CHECK_EQ_INT(prism_json_get(v, "rows")->count, 2);
    prism_json_value_free(v);
    prism_json_free(&j);
    /* a break in the other layouts changes nothing */
    prism_json_init(&j, 0);
    prism_json_array_begin(&j);
    prism_json_break(&j);
    prism_json_int(&j, 1);
    prism_json_array_end(&j);
    REQUIRE(prism_json_finish(&j) == PRISM_OK);
    CHECK(!strcmp(prism_json_text(&j), "[1]"));
    prism_json_free(&j);
}

TEST(json_doubles_round_trip_bit_for_bit) {
    prism_rng r;
    prism_rng_seed(&r, 5, 1);
    prism_json j;
    prism_json_init(&j, 0);
    enum { N = 5000 };
    static double xs[N];
    prism_json_array_begin(&j);
    for (int i = 0; i < N; i++) {
        uint64_t bits = prism_rng_next(&r);
        double x;
        memcpy(&x, &bits, 8);
        if (!isfinite(x)) x = (double)i * 1e-300; /* subnormals too */
        if (i % 3 == 0) x = prism_rng_normal(&r) * 1e3;
        xs[i] = x;
        prism_json_double(&j, x);
    }
    prism_json_array_end(&j);
    REQUIRE(prism_json_finish(&j) == PRISM_OK);
    prism_json_value *v;
    REQUIRE(prism_json_parse(prism_json_text(&j), prism_json_length(&j), "t", &v) == PRISM_OK);
    REQUIRE(v->count == N);
    int i = 0, bad = 0;
    for (prism_json_value *c = v->child; c; c = c->next, i++)
        bad += memcmp(&c->number, &xs[i], 8) != 0;
    CHECK_EQ_INT(bad, 0);
    prism_json_value_free(v);
    prism_json_free(&j);
}

TEST(json_writer_spells_numbers_short_and_exact) {
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_array_begin(&j);
    prism_json_double(&j, 0.9);           /* fewest digits that read back */
    prism_json_double(&j, 0.1 + 0.2);     /* needs all 17 */
    prism_json_double(&j, 700.0 / 37.0);  /* 16 suffice here */
    prism_json_float(&j, 0.1f);           /* float32: %.9g */
    prism_json_fixed(&j, 1234.5678, 2);   /* a measurement */
    prism_json_fixed(&j, (double)NAN, 2); /* no spelling in JSON */
    prism_json_u64(&j, UINT64_MAX);       /* a seed, exactly */
    prism_json_array_end(&j);
    REQUIRE(prism_json_finish(&j) == PRISM_OK);
    const char *want = "[0.9,0.30000000000000004,18.91891891891892,0.100000001,1234.57,null,"
                       "18446744073709551615]";
    if (strcmp(prism_json_text(&j), want))
        test_fail(__FILE__, __LINE__, "got %s, want %s", prism_json_text(&j), want);
    prism_json_free(&j);
}

TEST(json_writer_reports_unbalanced_and_out_of_memory) {
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_object_begin(&j);
    CHECK(prism_json_finish(&j) == PRISM_ERR_INVALID);
    prism_json_free(&j);
    prism_json_init(&j, 0);
    prism_json_array_begin(&j);
    prism_json_object_end(&j); /* wrong closer */
    CHECK(prism_json_finish(&j) == PRISM_ERR_INVALID);
    prism_json_free(&j);
    prism_json_init(&j, 0);
    prism_alloc_fail_after(0);
    prism_json_array_begin(&j);
    prism_json_string(&j, "x");
    prism_json_array_end(&j);
    prism_alloc_fail_after(-1);
    CHECK(prism_json_finish(&j) == PRISM_ERR_NOMEM);
    CHECK(!strcmp(prism_json_text(&j), ""));
    prism_json_free(&j);
}

TEST(json_reader_rejects_malformed_text_with_offset) {
    static const char *const bad[] = {
        "",
        "{",
        "{\"a\":}",
        "{\"a\" 1}",
        "[1,]",
        "[1 2]",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\ud800\"",
        "01",
        "1.",
        "1e",
        "-",
        "tru",
        "{} x",
        "{a:1}",
        "\"a\nb\"",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prism_json_value *v = (prism_json_value *)1;
        prism_status st = prism_json_parse(bad[i], strlen(bad[i]), "doc.json", &v);
        CHECK(st == PRISM_ERR_CORRUPT);
        CHECK(v == NULL);
        CHECK(strstr(prism_error_message(), "doc.json") && strstr(prism_error_message(), "byte"));
        if (st != PRISM_ERR_CORRUPT) fprintf(stderr, "accepted: %s\n", bad[i]);
    }
}

TEST(json_reader_unicode_escapes_and_numbers) {
    const char *t = "{\"a\":\"\\u00e9\\ud83d\\ude00\\/\",\"n\":-1.5e3,\"z\":0,\"b\":false,"
                    "\"t\":true,\"dup\":1,\"dup\":2}";
    prism_json_value *v;
    REQUIRE(prism_json_parse(t, strlen(t), "t", &v) == PRISM_OK);
    CHECK(!strcmp(prism_json_get_string(v, "a", ""), "é\xf0\x9f\x98\x80/"));
    CHECK(prism_json_get_number(v, "n", 0) == -1500.0);
    CHECK(prism_json_get(v, "b")->boolean == false);
    CHECK(prism_json_get(v, "t")->boolean == true);
    CHECK(prism_json_get_number(v, "dup", 0) == 2.0);
    CHECK(prism_json_get(v, "missing") == NULL);
    CHECK(prism_json_get_number(v, "a", 7.0) == 7.0); /* not a number: fallback */
    prism_json_value_free(v);
}

/* Names in `dir` other than `keep` (temporary files left behind would show up here). */
static int count_other_files(const char *dir, const char *keep) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, keep)) n++;
    closedir(d);
    return n;
}

TEST(atomic_write_replaces_the_file_and_leaves_no_temporary) {
    char path[PRISM_PATH_MAX];
    snprintf(path, sizeof path, "%s/out.txt", test_tmpdir());
    REQUIRE(prism_file_write_atomic(path, "first", 5) == PRISM_OK);
    REQUIRE(prism_file_write_atomic(path, "second!", 7) == PRISM_OK);
    char *text;
    size_t len;
    REQUIRE(prism_file_read(path, &text, &len) == PRISM_OK);
    CHECK(len == 7 && !strcmp(text, "second!"));
    prism_free(text);
    CHECK_EQ_INT(count_other_files(test_tmpdir(), "out.txt"), 0);
    /* the streaming form, aborted: destination untouched, temporary gone */
    prism_atomic_file af;
    REQUIRE(prism_atomic_open(&af, path) == PRISM_OK);
    REQUIRE(prism_atomic_write(&af, "partial", 7) == PRISM_OK);
    prism_atomic_abort(&af);
    REQUIRE(prism_file_read(path, &text, &len) == PRISM_OK);
    CHECK(!strcmp(text, "second!"));
    prism_free(text);
    CHECK_EQ_INT(count_other_files(test_tmpdir(), "out.txt"), 0);
    CHECK(prism_file_read("/nonexistent/prism/x", &text, &len) == PRISM_ERR_NOT_FOUND);
}

/* A small tmpfs under the test directory (root only; returns 0 when it cannot be mounted). */
static int mount_tmpfs(const char *dir, const char *opts) {
    mkdir(dir, 0777);
    return mount("tmpfs", dir, "tmpfs", strstr(opts, "ro") == opts ? MS_RDONLY : 0,
                 strstr(opts, "size=") ? strstr(opts, "size=") : NULL) == 0;
}

TEST(atomic_write_to_unwritable_directory_fails_naming_the_path) {
    char dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/ro", test_tmpdir());
    int mounted = 0;
    if (geteuid() == 0) {
        /* root ignores permission bits: use a read-only file system instead */
        mounted = mount_tmpfs(dir, "ro,size=64k");
        if (!mounted) {
            fprintf(stderr, "(cannot mount a read-only tmpfs: skipped) ");
            return;
        }
    } else {
        mkdir(dir, 0555);
    }
    CHECK(prism_path_join(path, sizeof path, dir, "run.json") == PRISM_OK);
    prism_status st = prism_file_write_atomic(path, "x", 1);
    CHECK(st == PRISM_ERR_IO);
    CHECK(strstr(prism_error_message(), path) != NULL);
    CHECK(access(path, F_OK) != 0);
    CHECK_EQ_INT(count_other_files(dir, ""), 0);
    if (mounted) umount(dir);
}

TEST(atomic_write_on_a_full_disk_fails_and_keeps_the_old_file) {
    char dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/full", test_tmpdir());
    if (geteuid() != 0 || !mount_tmpfs(dir, "size=64k")) {
        fprintf(stderr, "(needs root to mount a 64 KiB tmpfs: skipped) ");
        return;
    }
    CHECK(prism_path_join(path, sizeof path, dir, "ckpt.bin") == PRISM_OK);
    CHECK(prism_file_write_atomic(path, "old", 3) == PRISM_OK);
    size_t big = 256 * 1024;
    char *buf = calloc(1, big); /* 256 KiB of zeros: four times the file system */
    prism_status st = prism_file_write_atomic(path, buf, big);
    CHECK(st == PRISM_ERR_IO);
    CHECK(strstr(prism_error_message(), path) != NULL);
    CHECK(strstr(prism_error_message(), strerror(ENOSPC)) != NULL);
    char *text;
    size_t len;
    CHECK(prism_file_read(path, &text, &len) == PRISM_OK && len == 3 && !memcmp(text, "old", 3));
    prism_free(text);
    /* nothing was left behind, and the space is free again for the next write */
    CHECK(prism_file_write_atomic(path, "new", 3) == PRISM_OK);
    CHECK_EQ_INT(count_other_files(dir, "ckpt.bin"), 0);
    free(buf);
    umount(dir);
}

TEST(mkdir_p_creates_parents_and_rejects_files) {
    char path[PRISM_PATH_MAX], file[PRISM_PATH_MAX];
    snprintf(path, sizeof path, "%s/a/b/c", test_tmpdir());
    CHECK(prism_mkdir_p(path) == PRISM_OK);
    CHECK(prism_mkdir_p(path) == PRISM_OK);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
    snprintf(file, sizeof file, "%s/f", test_tmpdir());
    REQUIRE(prism_file_write_atomic(file, "x", 1) == PRISM_OK);
    CHECK(prism_mkdir_p(file) == PRISM_ERR_IO);
    snprintf(path, sizeof path, "%s/f/sub", test_tmpdir());
    CHECK(prism_mkdir_p(path) == PRISM_ERR_IO);
    CHECK(strstr(prism_error_message(), "/f") != NULL);
}
