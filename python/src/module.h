/* python/src/module.h — what the files of the extension prism._core share: the Python and numpy
 * headers in the one order that works across files, the exception classes and the types.
 *
 * Not here: anything of libprism's own (include/prism/). The extension is a thin layer: every
 * decision (ids, settings, file formats, messages) stays in the library, and this layer turns
 * its status codes into exceptions and its caller-owned buffers into numpy arrays. */
#ifndef PRISM_PY_MODULE_H
#define PRISM_PY_MODULE_H

#define PY_SSIZE_T_CLEAN
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
/* numpy's C API is a table of pointers filled by import_array() in module.c; every other file
 * of the extension reaches the same table through this name. */
#define PY_ARRAY_UNIQUE_SYMBOL prism_numpy_api
#ifndef PRISM_PY_IMPORTS_NUMPY
#define NO_IMPORT_ARRAY
#endif
#include <Python.h>
#include <numpy/arrayobject.h>

#include "prism/core.h"

#include <stdbool.h>
#include <stdint.h>

/* Raise the exception class for `st` (prism.errors) with prism_error_message(), prefixed by
 * `context` when it is not NULL. Returns NULL, so a failing path reads
 * `return py_raise_status(st, NULL);`. */
PyObject *py_raise_status(prism_status st, const char *context);
/* Raise prism.errors.<name> (a class of that module) with a formatted message; returns NULL. */
PyObject *py_raise(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Load the classes of prism.errors (once, at module init). */
int py_errors_init(void);

/* A seed from the operating system's entropy, for reset() without a seed before any seed was
 * given (Gymnasium draws one the same way). */
uint64_t py_entropy_seed(void);
/* A Python seed (non-negative int, at most `max`) into *out; raises ValueError / TypeError. */
int py_seed_arg(PyObject *obj, uint64_t max, uint64_t *out);
/* Apply an options mapping {name: value} to an environment through prism_env_configure, the
 * values as str(value). Returns -1 with an exception set. */
struct prism_env;
int py_env_configure(struct prism_env *env, PyObject *options);

extern PyTypeObject PyPrismEnv_Type;
extern PyTypeObject PyPrismVecEnv_Type;
extern PyTypeObject PyPrismAgent_Type;

/* Module-level functions, defined beside the concept they belong to. */
PyObject *py_env_ids(PyObject *self, PyObject *unused);
PyObject *py_env_info(PyObject *self, PyObject *id);
PyObject *py_train(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *py_run_index(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *py_run_meta(PyObject *self, PyObject *dir);
PyObject *py_run_config(PyObject *self, PyObject *dir);
PyObject *py_read_table(PyObject *self, PyObject *path);

#endif
