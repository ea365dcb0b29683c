/* tests/harness.h — a small honest test harness: named tests that register themselves, checks
 * that record failures and keep going, a name filter, a non-zero exit on any failure, and the
 * closing line "N passed, N failed, N skipped".
 *
 *     TEST(rng_below_is_in_range) {
 *         prism_rng r; prism_rng_seed(&r, 1, 2);
 *         for (int i = 0; i < 1000; i++) CHECK(prism_rng_below(&r, 7) < 7);
 *     }
 *
 * SLOW_TEST(...) runs only with --slow (make test-slow). Fixture files are found relative to
 * the repository root (the tests run from there): see test_fixture_path().
 */
#ifndef PRISM_TEST_HARNESS_H
#define PRISM_TEST_HARNESS_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

typedef struct test_case {
    const char *name;
    void (*fn)(void);
    int slow;
    struct test_case *next;
} test_case;

void test_register(test_case *t);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Mark the current test as skipped (a missing tool, such as a browser): it prints SKIPPED with
 * the reason and counts neither as passed nor failed. Checks that fail still fail the test. */
void test_skip(const char *reason);
/* Path of a reference fixture in tests/fixtures/reference/, or NULL (and the test fails)
 * when it is missing. A name containing '/' (e.g. "tests/fixtures/x.jsonl.gz")
 * is the project's own fixture, relative to the repository root. */
const char *test_fixture_path(const char *name);
/* The whole file at `path`, NUL-terminated, in a malloc'd buffer (free() it); its length in
 * *len when len is not NULL. NULL when the file cannot be read. */
char *test_read_file(const char *path, size_t *len);
/* A fresh empty temporary directory for this test (removed after the run). */
const char *test_tmpdir(void);
/* Run `prism ARGS` (the binary named by $PRISM_BIN, default build/prism) through sh, capturing
 * stdout and stderr together into out (cap bytes, NUL-terminated). Returns the exit code. */
int test_prism(char *out, size_t cap, const char *args_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The CSV file at path with every column whose header starts with sys_ (timings, memory)
 * removed, in a malloc'd buffer (free() it); NULL when it cannot be read. Runs that must give
 * the same bits are compared through it. */
char *test_csv_without_sys(const char *path);

/* Start `prism ARGS...` (NULL-terminated; the binary as for test_prism) in the background with
 * stdout and stderr appended to `log`. Returns its pid (-1 when fork fails). */
int test_prism_spawn(const char *log, const char *const *args);
/* Wait for a child started by test_prism_spawn: its exit code, 128 + signal when killed. */
int test_wait(int pid);
/* 1 when the child has exited (reaped, exit code as test_wait's in *rc), 0 while it runs. */
int test_exited(int pid, int *rc);
void test_sleep_us(long us);

#define TEST_DEFINE(name_, slow_)                                                                  \
    static void test_fn_##name_(void);                                                             \
    __attribute__((constructor)) static void test_reg_##name_(void) {                              \
        static test_case tc = {#name_, test_fn_##name_, slow_, 0};                                 \
        test_register(&tc);                                                                        \
    }                                                                                              \
    static void test_fn_##name_(void)

#define TEST(name)      TEST_DEFINE(name, 0)
#define SLOW_TEST(name) TEST_DEFINE(name, 1)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) test_fail(__FILE__, __LINE__, "%s", #cond);                                   \
    } while (0)

/* Check and return from the test on failure (for checks later lines depend on). */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_fail(__FILE__, __LINE__, "%s", #cond);                                            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Check that text contains every string of the array `needles` (a file's JSON fields, say),
 * failing once per missing one with the text. */
#define CHECK_CONTAINS_ALL(text, needles)                                                          \
    test_check_contains(__FILE__, __LINE__, (text), (needles),                                     \
                        sizeof(needles) / sizeof((needles)[0]))
void test_check_contains(const char *file, int line, const char *text, const char *const *needles,
                         size_t n);

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) test_fail(__FILE__, __LINE__, "%s == %s (%lld vs %lld)", #a, #b, a_, b_);    \
    } while (0)

/* |a - b| <= tol, printing both values on failure. NaN never passes. */
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                             \
        if (!(fabs(a_ - b_) <= t_))                                                                \
            test_fail(__FILE__, __LINE__, "%s ~ %s (%.17g vs %.17g, tol %g)", #a, #b, a_, b_, t_); \
    } while (0)

#endif
