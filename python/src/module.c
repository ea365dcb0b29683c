/* python/src/module.c — the module prism._core: its function table, its types, and the small
 * argument helpers the types share. The Python package (python/prism/) builds the
 * Gymnasium-shaped API on top of it. */
#define PRISM_PY_IMPORTS_NUMPY
#include "module.h"

#include "prism/env.h"
#include "prism/rng.h"

#include <stdio.h>
#include <sys/random.h>

uint64_t py_entropy_seed(void) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)(prism_now() * 1e9); /* no entropy source: the clock still differs */
    return seed;
}

int py_seed_arg(PyObject *obj, uint64_t max, uint64_t *out) {
    PyObject *index = PyNumber_Index(obj);
    if (!index) {
        PyErr_Format(PyExc_TypeError, "seed must be a non-negative integer or None, got %s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    unsigned long long v = PyLong_AsUnsignedLongLong(index);
    Py_DECREF(index);
    if (PyErr_Occurred() || v > max) {
        PyErr_Clear();
        py_raise("InvalidArgumentError", "seed must be an integer in [0, %llu]",
                 (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int py_env_configure(struct prism_env *env, PyObject *options) {
    if (!options || options == Py_None) return 0;
    if (!PyDict_Check(options)) {
        PyErr_SetString(PyExc_TypeError, "options must be a dict of environment options");
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(options, &pos, &key, &value)) {
        if (!PyUnicode_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "environment option names must be strings");
            return -1;
        }
        PyObject *text = PyObject_Str(value);
        if (!text) return -1;
        const char *k = PyUnicode_AsUTF8(key), *v = PyUnicode_AsUTF8(text);
        prism_status st = k && v ? prism_env_configure(env, k, v) : PRISM_OK;
        Py_DECREF(text);
        if (PyErr_Occurred()) return -1;
        if (st) {
            py_raise_status(st, NULL);
            return -1;
        }
    }
    return 0;
}

PyObject *py_env_ids(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    int n = prism_env_class_count();
    PyObject *list = PyList_New(n);
    for (int i = 0; list && i < n; i++) {
        PyObject *s = PyUnicode_FromString(prism_env_class_at(i)->id);
        if (!s) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, s);
    }
    return list;
}

/* {"id", "summary", "reference", "obs_shape", "num_actions", "action_names",
 *  "max_episode_steps", "supports_numpy_rng"} of one environment class. */
PyObject *py_env_info(PyObject *self, PyObject *id) {
    (void)self;
    const char *text = PyUnicode_AsUTF8(id);
    if (!text) return NULL;
    const prism_env_class *cls;
    prism_status st = prism_env_lookup(text, &cls);
    if (st) return py_raise_status(st, NULL);
    PyObject *shape = cls->obs_rank == 3 ? Py_BuildValue("(iii)", cls->obs_shape[0],
                                                         cls->obs_shape[1], cls->obs_shape[2])
                                         : Py_BuildValue("(i)", cls->obs_shape[0]);
    PyObject *names = PyList_New(cls->num_actions);
    for (int a = 0; names && a < cls->num_actions; a++)
        PyList_SET_ITEM(names, a, PyUnicode_FromString(cls->action_names[a]));
    PyObject *info = NULL;
    if (shape && names)
        info = Py_BuildValue("{s:s,s:s,s:s,s:O,s:i,s:O,s:i,s:O}", "id", cls->id, "summary",
                             cls->summary, "reference", cls->reference ? cls->reference : "",
                             "obs_shape", shape, "num_actions", cls->num_actions, "action_names",
                             names, "max_episode_steps", cls->max_episode_steps,
                             "supports_numpy_rng", cls->supports_numpy_rng ? Py_True : Py_False);
    Py_XDECREF(shape);
    Py_XDECREF(names);
    return info;
}

#define FN(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef methods[] = {
    {"env_ids", FN(py_env_ids), METH_NOARGS, "The ids of every built-in environment."},
    {"env_info", FN(py_env_info), METH_O, "Facts about one environment class, by id or alias."},
    {"train", FN(py_train), METH_VARARGS | METH_KEYWORDS,
     "Run what `prism train` runs, in this process; returns the run directory."},
    {"run_index", FN(py_run_index), METH_VARARGS | METH_KEYWORDS,
     "Rows of a runs directory's index (a scan of the run directories when it has none)."},
    {"run_meta", FN(py_run_meta), METH_O, "A run directory's run.json, read by prism."},
    {"run_config", FN(py_run_config), METH_O, "A run's checked config.ini as {key: text}."},
    {"read_table", FN(py_read_table), METH_O,
     "A metrics.csv / episodes.csv as (column names, (rows, cols) float64 array)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "prism._core",
    "prism's C core: environments, training, run archive.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__core(void);
PyMODINIT_FUNC PyInit__core(void) {
    import_array();
    if (py_errors_init() < 0) return NULL;
    PyTypeObject *types[] = {&PyPrismEnv_Type, &PyPrismVecEnv_Type, &PyPrismAgent_Type};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (PyType_Ready(types[i]) < 0) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    if (PyModule_AddStringConstant(m, "__version__", PRISM_VERSION) < 0 ||
        PyModule_AddObjectRef(m, "Env", (PyObject *)&PyPrismEnv_Type) < 0 ||
        PyModule_AddObjectRef(m, "VecEnv", (PyObject *)&PyPrismVecEnv_Type) < 0 ||
        PyModule_AddObjectRef(m, "Agent", (PyObject *)&PyPrismAgent_Type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
