/* Status names, the per-thread error message, and the always-on assertion. */
#include "prism/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local char last_message[1024];

const char *prism_status_name(prism_status st) {
    switch (st) {
    case PRISM_OK:
        return "ok";
    case PRISM_ERR_INVALID:
        return "invalid input";
    case PRISM_ERR_NOT_FOUND:
        return "not found";
    case PRISM_ERR_IO:
        return "i/o error";
    case PRISM_ERR_CORRUPT:
        return "corrupt data";
    case PRISM_ERR_NOMEM:
        return "out of memory";
    case PRISM_ERR_UNSUPPORTED:
        return "unsupported";
    case PRISM_ERR_INTERRUPTED:
        return "interrupted";
    case PRISM_ERR_DIVERGED:
        return "diverged";
    }
    return "unknown status";
}

prism_status prism_error(prism_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return st;
}

const char *prism_error_message(void) {
    return last_message;
}

void prism_assert_fail(const char *file, int line, const char *expr) {
    fprintf(stderr, "prism: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
    fprintf(stderr, "This is a bug in prism; please report it with the command you ran.\n");
    abort();
}
