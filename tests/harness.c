/* The test runner: `prism-tests [--slow] [--list] [FILTER...]`. A test runs when its name
 * contains any FILTER (all tests when none is given). */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static test_case *head, *tail;
static int current_failures;
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

const char *test_fixture_path(const char *name) {
    static char path[1024];
    /* a name with a directory is the project's own fixture, relative to the repository root */
    if (strchr(name, '/'))
        snprintf(path, sizeof path, "%s", name);
    else
        snprintf(path, sizeof path, "../shared/fixtures/reference/%s", name);
    if (access(path, R_OK) != 0) {
        test_fail(__FILE__, __LINE__,
                  "fixture %s is missing: the tests expect ../shared beside "
                  "the repository",
                  path);
        return NULL;
    }
    return path;
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

int main(int argc, char **argv) {
    int slow = 0, list = 0, nfilters = 0;
    char **filters = calloc((size_t)argc, sizeof *filters);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--slow"))
            slow = 1;
        else if (!strcmp(argv[i], "--list"))
            list = 1;
        else
            filters[nfilters++] = argv[i];
    }
    int passed = 0, failed = 0;
    for (test_case *t = head; t; t = t->next) {
        if (t->slow != slow || !matches(t->name, nfilters, filters)) continue;
        if (list) {
            printf("%s\n", t->name);
            continue;
        }
        current_name = t->name;
        current_failures = 0;
        tmpdir[0] = 0;
        fprintf(stderr, "%-60s ", t->name);
        fflush(stderr);
        t->fn();
        if (tmpdir[0]) {
            char cmd[600];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
            if (system(cmd) != 0) fprintf(stderr, "(could not remove %s) ", tmpdir);
        }
        if (current_failures) {
            failed++;
            fprintf(stderr, "%s FAILED (%d checks)\n", t->name, current_failures);
        } else {
            passed++;
            fprintf(stderr, "ok\n");
        }
    }
    free(filters);
    if (!list) printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : (passed == 0 && !list ? 1 : 0);
}
