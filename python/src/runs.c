/* python/src/runs.c — the run archive read through prism's own readers: the index
 * (prism/run_index.h), run.json (prism_run_read), config.ini (prism_run_config_load, which also
 * checks it against run.json) and metrics.csv / episodes.csv (prism_table_read). Reading never
 * writes: a runs directory without a readable index is scanned into memory, as `prism runs ls`
 * does on a read-only disk. */
#include "module.h"

#include "prism/archive.h"
#include "prism/config.h"
#include "prism/metrics_csv.h"
#include "prism/run_index.h"
#include "prism/run_state.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

static PyObject *optional_double(double v) {
    if (isnan(v)) Py_RETURN_NONE;
    return PyFloat_FromDouble(v);
}

static int visit_record(void *ctx, const prism_run_record *r) {
    PyObject *row = Py_BuildValue(
        "{s:s,s:s,s:s,s:s,s:K,s:s,s:s,s:s,s:L,s:N,s:s,s:O,s:s,s:s}", "id", r->id, "dir", r->dir,
        "env", r->env, "agent", r->agent, "seed", (unsigned long long)r->seed, "status", r->status,
        "start", r->start, "end", r->end, "steps", r->steps, "final_return",
        optional_double(r->final_return), "commit", r->commit, "dirty",
        r->dirty ? Py_True : Py_False, "host", r->host, "message", r->message);
    if (!row || PyList_Append(ctx, row) < 0) {
        Py_XDECREF(row);
        return 1;
    }
    Py_DECREF(row);
    return 0;
}

PyObject *py_run_index(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"runs_dir", "where", NULL};
    const char *runs_dir, *where = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|z", kwlist, &runs_dir, &where)) return NULL;
    prism_run_filter f;
    prism_status st = prism_run_filter_parse(&f, where);
    if (st) return py_raise_status(st, NULL);
    prism_run_index ix = {0};
    st = prism_run_index_open_readonly(&ix, runs_dir);
    struct stat sb;
    if ((st == PRISM_ERR_NOT_FOUND || st == PRISM_ERR_CORRUPT) && stat(runs_dir, &sb) == 0 &&
        S_ISDIR(sb.st_mode)) {
        int n, skipped;
        prism_run_index_close(&ix);
        st = prism_run_index_open_scan(&ix, runs_dir, &n, &skipped);
    }
    if (st) {
        prism_run_index_close(&ix);
        return py_raise_status(st, NULL);
    }
    PyObject *rows = PyList_New(0);
    if (rows) st = prism_run_index_query(&ix, &f, visit_record, rows);
    prism_run_index_close(&ix);
    if (!rows || PyErr_Occurred()) {
        Py_XDECREF(rows);
        return NULL;
    }
    if (st) {
        Py_DECREF(rows);
        return py_raise_status(st, NULL);
    }
    return rows;
}

/* {key: value} of an archive value table. */
static PyObject *value_table(const prism_archive_value *v, int n) {
    PyObject *d = PyDict_New();
    for (int i = 0; d && i < n; i++) {
        PyObject *x = v[i].kind == PRISM_ARCHIVE_STRING ? PyUnicode_FromString(v[i].s)
                      : v[i].kind == PRISM_ARCHIVE_INT  ? PyLong_FromLongLong(v[i].i)
                                                        : PyFloat_FromDouble(v[i].d);
        if (!x || PyDict_SetItemString(d, v[i].key, x) < 0) {
            Py_XDECREF(x);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(x);
    }
    return d;
}

PyObject *py_run_meta(PyObject *self, PyObject *dir) {
    (void)self;
    const char *path = PyUnicode_AsUTF8(dir);
    if (!path) return NULL;
    prism_run_meta *m = PyMem_Malloc(sizeof *m); /* large: keep it off the stack */
    if (!m) return PyErr_NoMemory();
    prism_status st;
    PyThreadState *ts = PyEval_SaveThread();
    st = prism_run_read(path, m);
    PyEval_RestoreThread(ts);
    if (st) {
        PyMem_Free(m);
        return py_raise_status(st, NULL);
    }
    PyObject *out = Py_BuildValue(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:K,s:s,s:s,s:N,s:L,s:N,s:i,s:s,s:s,s:s,s:N,s:N}", "id", m->id,
        "status", prism_run_status_name(m->status), "message", m->message, "env", m->env, "agent",
        m->agent, "config_hash", m->config_hash, "seed", (unsigned long long)m->seed, "start",
        m->start, "end", m->end, "duration", optional_double(m->duration), "steps", m->steps,
        "final_return", optional_double(m->final_return), "resumed", m->resumed, "host", m->host,
        "prism_version", m->prism_version, "commit", m->build.commit, "extra",
        value_table(m->extra, m->nextra), "metrics", value_table(m->metrics, m->nmetrics));
    prism_run_meta_free(m);
    PyMem_Free(m);
    return out;
}

/* A value of config.ini as Python: int, float or str, whichever the text reads as. */
static PyObject *config_value(const char *text) {
    char *end;
    long long i = strtoll(text, &end, 10);
    if (*text && !*end) return PyLong_FromLongLong(i);
    double d = strtod(text, &end);
    if (*text && !*end) return PyFloat_FromDouble(d);
    if (!strcmp(text, "true") || !strcmp(text, "false")) return PyBool_FromLong(text[0] == 't');
    return PyUnicode_FromString(text);
}

PyObject *py_run_config(PyObject *self, PyObject *dir) {
    (void)self;
    const char *path = PyUnicode_AsUTF8(dir);
    if (!path) return NULL;
    prism_config *c = PyMem_Malloc(sizeof *c);
    if (!c) return PyErr_NoMemory();
    prism_status st = prism_run_config_load(path, c);
    if (st) {
        PyMem_Free(c);
        return py_raise_status(st, NULL);
    }
    PyObject *d = PyDict_New();
    char buf[4096];
    for (int i = 0; d && prism_config_key_name(i); i++) {
        const char *key = prism_config_key_name(i);
        if (!prism_config_get(c, key, buf, sizeof buf)) continue;
        PyObject *v = config_value(buf);
        if (!v || PyDict_SetItemString(d, key, v) < 0) {
            Py_XDECREF(v);
            Py_CLEAR(d);
            break;
        }
        Py_DECREF(v);
    }
    for (int i = 0; d && i < c->n_env_options; i++) {
        char key[64];
        snprintf(key, sizeof key, "env.%s", c->env_keys[i]);
        PyObject *v = config_value(c->env_values[i]);
        if (!v || PyDict_SetItemString(d, key, v) < 0) Py_CLEAR(d);
        Py_XDECREF(v);
    }
    PyMem_Free(c);
    return d;
}

PyObject *py_read_table(PyObject *self, PyObject *path_obj) {
    (void)self;
    const char *path = PyUnicode_AsUTF8(path_obj);
    if (!path) return NULL;
    prism_table t;
    prism_status st;
    /* lenient: a run still writing (or killed mid-row) reads up to its last complete row */
    PyThreadState *ts = PyEval_SaveThread();
    st = prism_table_read(path, PRISM_TABLE_LENIENT, &t);
    PyEval_RestoreThread(ts);
    if (st) return py_raise_status(st, NULL);
    npy_intp dims[2] = {t.nrows, t.ncols};
    PyArrayObject *a = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_FLOAT64);
    PyObject *names = PyList_New(t.ncols);
    if (a) memcpy(PyArray_DATA(a), t.v, (size_t)t.nrows * (size_t)t.ncols * sizeof(double));
    for (int c = 0; names && c < t.ncols; c++)
        PyList_SET_ITEM(names, c, PyUnicode_FromString(t.names[c]));
    prism_table_free(&t);
    if (!a || !names) {
        Py_XDECREF(a);
        Py_XDECREF(names);
        return NULL;
    }
    return Py_BuildValue("(NN)", names, a);
}
