/* python/src/errors.c — prism's status codes as Python exceptions. The classes live in
 * python/prism/errors.py (so they can subclass ValueError, KeyError, OSError, ... in plain
 * Python); this file looks them up once and raises them with the library's own message. */
#include "module.h"

#include <stdarg.h>
#include <stdio.h>

static PyObject *errors_module; /* prism.errors, held for the life of the process */

int py_errors_init(void) {
    errors_module = PyImport_ImportModule("prism.errors");
    return errors_module ? 0 : -1;
}

static const char *class_for(prism_status st) {
    switch (st) {
    case PRISM_ERR_INVALID:
        return "InvalidArgumentError";
    case PRISM_ERR_NOT_FOUND:
        return "NotFoundError";
    case PRISM_ERR_IO:
        return "PrismIOError";
    case PRISM_ERR_CORRUPT:
        return "CorruptFileError";
    case PRISM_ERR_NOMEM:
        return "PrismMemoryError";
    case PRISM_ERR_UNSUPPORTED:
        return "UnsupportedError";
    case PRISM_ERR_INTERRUPTED:
        return "TrainingInterrupted";
    case PRISM_ERR_DIVERGED:
        return "DivergedError";
    case PRISM_OK:
        break;
    }
    return "PrismError";
}

static PyObject *raise_text(const char *name, const char *text) {
    PyObject *cls = PyObject_GetAttrString(errors_module, name);
    if (!cls) return NULL;
    PyErr_SetString(cls, text);
    Py_DECREF(cls);
    return NULL;
}

PyObject *py_raise(const char *name, const char *fmt, ...) {
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return raise_text(name, text);
}

PyObject *py_raise_status(prism_status st, const char *context) {
    const char *msg = prism_error_message();
    if (!msg[0]) msg = prism_status_name(st);
    if (context) return py_raise(class_for(st), "%s: %s", context, msg);
    return raise_text(class_for(st), msg);
}
