/* prism/core.h — status codes, error text, assertions, allocation hooks, clocks, checksums.
 *
 * Three tiers of failure (docs/architecture.md, conventions):
 *   - a broken invariant is a bug: PRISM_ASSERT aborts with file and line, in every build;
 *   - a recoverable failure (bad input, I/O, corrupt file, out of memory at init) returns a
 *     prism_status and leaves a readable message in prism_error_message();
 *   - NaN/Inf during training is the watchdog's business (run/).
 * The library never calls exit(): only the CLI decides how to end.
 *
 *     prism_status st = prism_env_init(&env, "CartPol-v1", NULL);
 *     if (st != PRISM_OK) fprintf(stderr, "error: %s\n", prism_error_message());
 */
#ifndef PRISM_CORE_H
#define PRISM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRISM_VERSION "0.1.0"

typedef enum prism_status {
    PRISM_OK = 0,
    PRISM_ERR_INVALID,     /* bad argument, config key or value: the caller's input is wrong */
    PRISM_ERR_NOT_FOUND,   /* unknown id, missing file */
    PRISM_ERR_IO,          /* read/write failed (disk full, permission) */
    PRISM_ERR_CORRUPT,     /* a file is truncated, has a bad checksum or a wrong version */
    PRISM_ERR_NOMEM,       /* allocation failed */
    PRISM_ERR_UNSUPPORTED, /* the request is valid but not available for this object */
    PRISM_ERR_INTERRUPTED, /* stopped by a signal (Ctrl-C, SIGTERM) */
    PRISM_ERR_DIVERGED,    /* training produced NaN or Inf */
} prism_status;

/* A short fixed name for a status ("invalid input", "i/o error", ...). */
const char *prism_status_name(prism_status st);

/* Record a detailed message for the current thread and return `st`, so that a failing path
 * reads `return prism_error(PRISM_ERR_INVALID, "unknown key '%s'", key);`. */
prism_status prism_error(prism_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last message recorded on this thread by prism_error ("" if none). */
const char *prism_error_message(void);

/* Always-on assertion for invariants (never for input validation). */
#define PRISM_ASSERT(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) prism_assert_fail(__FILE__, __LINE__, #cond);                                 \
    } while (0)
_Noreturn void prism_assert_fail(const char *file, int line, const char *expr);

/* Allocation goes through these so a test can inject failures. prism_alloc returns NULL on
 * failure (callers turn that into PRISM_ERR_NOMEM); memory is 64-byte aligned for SIMD. */
void *prism_alloc(size_t bytes);
void *prism_calloc(size_t count, size_t size);
void prism_free(void *p);
/* Test hook: the next `n` allocations succeed, every later one fails; n < 0 disables. */
void prism_alloc_fail_after(long n);

/* Monotonic wall clock in seconds. */
double prism_now(void);
/* CPU time this thread has run, in seconds (CLOCK_THREAD_CPUTIME_ID): what benchmarks time so
 * that other processes' time on a shared machine stays out of the figure. */
double prism_thread_cpu_now(void);
/* CPU time of every thread of this process, in seconds (CLOCK_PROCESS_CPUTIME_ID): the figure
 * for work split over threads. */
double prism_process_cpu_now(void);

/* CRC-32C (Castagnoli), as TFRecord and our file formats use. `crc` chains calls: start at 0. */
uint32_t prism_crc32c(uint32_t crc, const void *data, size_t len);

/* 64-bit FNV-1a over `len` bytes. `h` chains calls: start at PRISM_FNV1A64_INIT. */
#define PRISM_FNV1A64_INIT 0xcbf29ce484222325ull
uint64_t prism_fnv1a64(uint64_t h, const void *data, size_t len);

/* Case-insensitive Levenshtein distance between two names (each compared on at most its first
 * 63 characters), for "did you mean" suggestions. */
int prism_edit_distance(const char *a, const char *b);

/* Resident set size of this process in bytes (0 when unknown). */
size_t prism_rss_bytes(void);

/* Parse a plain decimal integer in [0, UINT64_MAX] into *out: digits only (no sign, no
 * blanks, no "0x"), no overflow. Returns false otherwise and leaves *out unchanged. Seeds and
 * other counts read from files and flags use it, so "-1" is an error rather than 2^64 - 1. */
bool prism_parse_u64(const char *s, uint64_t *out);

#endif
