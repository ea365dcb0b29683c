/* The test runner: `prism-tests [--slow] [--list] [-j N] [FILTER...]`. A test runs when its name
 * contains any FILTER (all tests when none is given). */
#include "harness.h"
#include "prism/file.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static test_case *head, *tail;
static int current_failures, current_skipped;
static const char *skip_reason;
static const char *current_name;
static char tmpdir[512];

void test_register(test_case *t) {
    if (tail)
        tail->next = t;
    else
        head = t;
    tail = t;
}

void test_fail(const char *file, int line, const char *fmt, ...) {
    if (current_failures < 10) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "  FAIL %s (%s:%d): ", current_name, file, line);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    } else if (current_failures == 10) {
        fprintf(stderr, "  FAIL %s: further failures not shown\n", current_name);
    }
    current_failures++;
}

void test_check_contains(const char *file, int line, const char *text, const char *const *needles,
                         size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strstr(text, needles[i])) test_fail(file, line, "missing %s in: %s", needles[i], text);
}

void test_skip(const char *reason) {
    current_skipped = 1;
    skip_reason = reason;
}

const char *test_fixture_path(const char *name) {
    static char path[1024];
    /* a name with a directory is a path from the repository root; a bare name is one of the
     * reference traces in tests/fixtures/reference/ (see its README for their provenance) */
    if (strchr(name, '/'))
        snprintf(path, sizeof path, "%s", name);
    else
        snprintf(path, sizeof path, "tests/fixtures/reference/%s", name);
    if (access(path, R_OK) != 0) {
        test_fail(__FILE__, __LINE__,
                  "fixture %s is missing: run the tests from the repository root "
                  "(make test does)",
                  path);
        return NULL;
    }
    return path;
}

char *test_read_file(const char *path, size_t *len) {
    char *text = NULL;
    size_t n = 0;
    if (prism_file_read(path, &text, &n) != PRISM_OK) return NULL;
    char *copy = malloc(n + 1);
    if (copy) memcpy(copy, text, n + 1);
    prism_free(text);
    if (copy && len) *len = n;
    return copy;
}

const char *test_tmpdir(void) {
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/prism-test-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            test_fail(__FILE__, __LINE__, "cannot create a temporary directory");
            return "/tmp";
        }
    }
    return tmpdir;
}

static const char *prism_bin(void) {
    const char *b = getenv("PRISM_BIN");
    return b ? b : "build/prism";
}

int test_prism_spawn(const char *log, const char *const *args) {
    const char *argv[64];
    int n = 0;
    argv[n++] = prism_bin();
    for (int i = 0; args[i] && n < 63; i++) argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], (char **)(uintptr_t)argv); /* execv's historical signature */
        _exit(127);
    }
    return (int)pid;
}

int test_wait(int pid) {
    int status = 0;
    if (waitpid((pid_t)pid, &status, 0) != (pid_t)pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_exited(int pid, int *rc) {
    int status = 0;
    if (waitpid((pid_t)pid, &status, WNOHANG) != (pid_t)pid) return 0;
    *rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 1;
}

void test_sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

int test_prism(char *out, size_t cap, const char *args_fmt, ...) {
    const char *bin = getenv("PRISM_BIN");
    char args[4096], cmd[4200];
    va_list ap;
    va_start(ap, args_fmt);
    vsnprintf(args, sizeof args, args_fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin ? bin : "build/prism", args);
    FILE *p = popen(cmd, "r");
    if (!p) {
        test_fail(__FILE__, __LINE__, "cannot run %s", cmd);
        return -1;
    }
    size_t n = 0;
    if (cap) {
        n = fread(out, 1, cap - 1, p);
        out[n] = 0;
        char sink[4096];
        while (fread(sink, 1, sizeof sink, p) > 0) {
        }
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int matches(const char *name, int nfilters, char **filters) {
    if (nfilters == 0) return 1;
    for (int i = 0; i < nfilters; i++)
        if (strstr(name, filters[i])) return 1;
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum { RESULT_PASSED, RESULT_FAILED, RESULT_SKIPPED };

/* Run one test in this process and print its result line. */
static int run_one(test_case *t) {
    current_name = t->name;
    current_failures = 0;
    current_skipped = 0;
    tmpdir[0] = 0;
    fprintf(stderr, "%-60s ", t->name);
    fflush(stderr);
    double start = now_s();
    t->fn();
    double took = now_s() - start;
    if (tmpdir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "(could not remove %s) ", tmpdir);
    }
    char took_text[32] = "";
    if (took >= 1) snprintf(took_text, sizeof took_text, " (%.0f s)", took);
    if (current_failures) {
        fprintf(stderr, "%s FAILED (%d checks)%s\n", t->name, current_failures, took_text);
        return RESULT_FAILED;
    }
    if (current_skipped) {
        fprintf(stderr, "SKIPPED (%s)\n", skip_reason);
        return RESULT_SKIPPED;
    }
    fprintf(stderr, "ok%s\n", took_text);
    return RESULT_PASSED;
}

/* -j N: each test in its own child process, at most N at a time, taken in order as workers
 * free up (the slow learning tests are minutes each and single-threaded). A child's output
 * goes to a temporary file that is printed whole when it ends, so lines never interleave. */
static void run_parallel(test_case **sel, int n, int jobs, int *count) {
    pid_t *pid = calloc((size_t)n, sizeof *pid);
    FILE **out = calloc((size_t)n, sizeof *out);
    int next = 0, running = 0;
    while (next < n || running > 0) {
        while (running < jobs && next < n) {
            out[next] = tmpfile();
            if (!out[next]) {
                perror("prism-tests: tmpfile");
                exit(2);
            }
            fflush(stdout);
            fflush(stderr);
            pid[next] = fork();
            if (pid[next] < 0) {
                perror("prism-tests: fork");
                exit(2);
            }
            if (pid[next] == 0) {
                dup2(fileno(out[next]), STDOUT_FILENO);
                dup2(fileno(out[next]), STDERR_FILENO);
                int result = run_one(sel[next]);
                fflush(stdout);
                fflush(stderr);
                _exit(result);
            }
            next++;
            running++;
        }
        int status;
        pid_t done = wait(&status);
        if (done < 0) {
            perror("prism-tests: wait");
            exit(2);
        }
        int i = 0;
        while (i < next && pid[i] != done) i++;
        if (i == next) continue;
        running--;
        rewind(out[i]);
        char buf[4096];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, out[i])) > 0) fwrite(buf, 1, got, stderr);
        fclose(out[i]);
        int result = WIFEXITED(status) && WEXITSTATUS(status) <= RESULT_SKIPPED
                         ? WEXITSTATUS(status)
                         : RESULT_FAILED;
        if (!WIFEXITED(status))
            fprintf(stderr, "%s FAILED (killed by signal %d)\n", sel[i]->name, WTERMSIG(status));
        count[result]++;
    }
    free(pid);
    free(out);
}

int main(int argc, char **argv) {
    int slow = 0, list = 0, jobs = 1, nfilters = 0;
    char **filters = calloc((size_t)argc, sizeof *filters);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--slow"))
            slow = 1;
        else if (!strcmp(argv[i], "--list"))
            list = 1;
        else if (!strcmp(argv[i], "-j") && i + 1 < argc && atoi(argv[i + 1]) > 0)
            jobs = atoi(argv[++i]);
        else
            filters[nfilters++] = argv[i];
    }
    int n = 0;
    for (test_case *t = head; t; t = t->next) n++;
    test_case **sel = calloc((size_t)n + 1, sizeof *sel);
    int nsel = 0;
    for (test_case *t = head; t; t = t->next)
        if (t->slow == slow && matches(t->name, nfilters, filters)) sel[nsel++] = t;
    int count[3] = {0, 0, 0};
    if (list) {
        for (int i = 0; i < nsel; i++) printf("%s\n", sel[i]->name);
    } else if (jobs > 1) {
        run_parallel(sel, nsel, jobs, count);
    } else {
        for (int i = 0; i < nsel; i++) count[run_one(sel[i])]++;
    }
    free(sel);
    free(filters);
    if (list) return 0;
    printf("%d passed, %d failed, %d skipped\n", count[RESULT_PASSED], count[RESULT_FAILED],
           count[RESULT_SKIPPED]);
    if (nsel == 0) fprintf(stderr, "prism-tests: no test matches the filter\n");
    return count[RESULT_FAILED] || nsel == 0 ? 1 : 0;
}

char *test_csv_without_sys(const char *path) {
    char *text = NULL;
    size_t len = 0;
    if (prism_file_read(path, &text, &len) != PRISM_OK) return NULL;
    char *out = malloc(len + 1);
    if (!out) return NULL;
    unsigned char keep[256];
    int ncols = 0;
    size_t o = 0;
    int line = 0;
    for (char *p = text; *p;) {
        char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        int col = 0;
        int first = 1;
        for (size_t i = 0; i <= n; col++) {
            size_t j = i;
            while (j < n && p[j] != ',') j++;
            if (line == 0 && col < 256) {
                keep[col] = strncmp(p + i, "sys_", 4) != 0;
                ncols = col + 1;
            }
            if (col >= ncols || col >= 256 || keep[col]) {
                if (!first) out[o++] = ',';
                memcpy(out + o, p + i, j - i);
                o += j - i;
                first = 0;
            }
            i = j + 1;
        }
        out[o++] = '\n';
        line++;
        p += n + (eol ? 1 : 0);
    }
    out[o] = 0;
    prism_free(text);
    return out;
}
