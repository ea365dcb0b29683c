/* Facts about this binary and this machine that a run records in run.json: the git commit,
 * dirty flag and diff of the source tree it was built from (embedded at build time by
 * scripts/build_info.sh through the generated prism_build_info.h), compiler and flags, CPU model,
 * host name, and wall-clock time in ISO 8601. Not the archive itself (archive.c). */
#include "prism/archive.h"

#include "prism_build_info.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "unknown"
#endif

const prism_build_info *prism_build_info_get(void) {
    static const prism_build_info info = {
        PRISM_VERSION,
        PRISM_BUILD_COMMIT,
        PRISM_BUILD_DIRTY != 0,
        COMPILER,
        PRISM_BUILD_FLAGS,
        PRISM_BUILD_SOURCE_DIR,
        (const char *)prism_build_diff,
        PRISM_BUILD_DIFF_LEN,
    };
    return &info;
}

void prism_cpu_model(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        /* x86 says "model name", some ARM kernels only "Hardware" or "Processor" */
        if (strncmp(line, "model name", 10) && strncmp(line, "Processor", 9) &&
            strncmp(line, "Hardware", 8))
            continue;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        size_t n = strcspn(v, "\n");
        snprintf(out, cap, "%.*s", (int)n, v);
        break;
    }
    fclose(f);
}

void prism_host_name(char *out, size_t cap) {
    PRISM_ASSERT(cap > 0);
    if (gethostname(out, cap) != 0 || !out[0]) snprintf(out, cap, "unknown");
    out[cap - 1] = 0;
}

double prism_unix_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void prism_time_iso8601(double t, char *out, size_t cap) {
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
