/* python/src/env.c — prism._core.Env: one environment with Gymnasium's reset/step contract.
 *
 * step() is the hot call of a Python loop, so it is a METH_O C method returning a fresh tuple
 * (obs, reward, terminated, truncated, info) with a fresh observation array each step, as
 * Gymnasium does: an array handed to the caller is never written again. The Python class
 * prism.envs.PrismEnv subclasses this type for the spaces, render(), spec and metadata.
 * MinAtar observations are 0/1: they come out as numpy bool, the reference's dtype; every
 * other environment's as float32. */
#include "module.h"

#include "prism/env.h"
#include "prism/rng.h"

typedef struct {
    PyObject_HEAD prism_env env;
    bool open;        /* init succeeded and close() was not called */
    bool seeded;      /* a seed was given or drawn: reset() without one continues the stream */
    bool needs_reset; /* no reset yet, or the episode ended */
    bool binary;      /* observations are 0/1 (MinAtar): numpy bool */
    int obs_rank;
    npy_intp shape[3];
    int obs_size;
    float obs[1024]; /* (obs_size) the environment writes here; copied out per call. The
                        largest class (MinAtar Seaquest, 10x10x10) fits; checked at init. */
} EnvObject;

static int env_init(EnvObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"id", "max_episode_steps", "numpy_rng", "options", NULL};
    const char *id;
    int max_steps = -1, numpy_rng = 0;
    PyObject *options = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|ipO", kwlist, &id, &max_steps, &numpy_rng,
                                     &options))
        return -1;
    if (self->open) {
        prism_env_free(&self->env);
        self->open = false;
    }
    prism_env_options opt = prism_env_options_default();
    opt.max_episode_steps = max_steps;
    opt.random = numpy_rng ? PRISM_RANDOM_NUMPY : PRISM_RANDOM_PRISM;
    if (max_steps < -1) {
        py_raise("InvalidArgumentError",
                 "max_episode_steps must be >= 0 (0 = no limit) or None for the default, got %d",
                 max_steps);
        return -1;
    }
    prism_status st = prism_env_init(&self->env, id, &opt);
    if (st) {
        py_raise_status(st, NULL);
        return -1;
    }
    self->open = true;
    if (py_env_configure(&self->env, options) < 0) return -1;
    const prism_env_class *cls = self->env.cls;
    self->obs_size = prism_env_obs_size(cls);
    PRISM_ASSERT((size_t)self->obs_size <= sizeof self->obs / sizeof self->obs[0]);
    self->obs_rank = cls->obs_rank;
    for (int d = 0; d < cls->obs_rank; d++) self->shape[d] = cls->obs_shape[d];
    self->binary = cls->obs_rank == 3;
    self->seeded = false;
    self->needs_reset = true;
    return 0;
}

static void env_dealloc(EnvObject *self) {
    if (self->open) prism_env_free(&self->env);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int check_open(EnvObject *self) {
    if (self->open) return 0;
    py_raise("ClosedError", "the environment is closed (or was never created); make a new one "
                            "with prism.make()");
    return -1;
}

/* A fresh array holding the current observation. */
static PyObject *obs_array(EnvObject *self) {
    PyArrayObject *a = (PyArrayObject *)PyArray_SimpleNew(self->obs_rank, self->shape,
                                                          self->binary ? NPY_BOOL : NPY_FLOAT32);
    if (!a) return NULL;
    if (self->binary) {
        npy_bool *out = PyArray_DATA(a);
        for (int i = 0; i < self->obs_size; i++) out[i] = self->obs[i] != 0.0f;
    } else {
        memcpy(PyArray_DATA(a), self->obs, (size_t)self->obs_size * sizeof(float));
    }
    return (PyObject *)a;
}

static PyObject *env_reset(EnvObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"seed", "options", NULL};
    PyObject *seed = Py_None, *options = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$OO", kwlist, &seed, &options)) return NULL;
    if (check_open(self) < 0) return NULL;
    if (options != Py_None && (!PyDict_Check(options) || PyDict_Size(options) > 0))
        return py_raise("InvalidArgumentError",
                        "reset() takes no options for prism environments (pass options to "
                        "prism.make instead)");
    bool numpy = self->env.random.kind == PRISM_RANDOM_NUMPY;
    uint64_t s;
    if (seed != Py_None) {
        /* numpy's RandomState takes a 32-bit seed */
        if (py_seed_arg(seed, numpy ? UINT32_MAX : UINT64_MAX, &s) < 0) return NULL;
        prism_env_seed(&self->env, s, PRISM_STREAM_ENV);
        self->seeded = true;
    } else if (!self->seeded) {
        s = py_entropy_seed();
        prism_env_seed(&self->env, numpy ? (uint32_t)s : s, PRISM_STREAM_ENV);
        self->seeded = true;
    }
    prism_env_reset(&self->env, self->obs);
    self->needs_reset = false;
    PyObject *obs = obs_array(self);
    if (!obs) return NULL;
    PyObject *info = PyDict_New();
    if (!info) {
        Py_DECREF(obs);
        return NULL;
    }
    PyObject *result = PyTuple_Pack(2, obs, info);
    Py_DECREF(obs);
    Py_DECREF(info);
    return result;
}

/* An action argument as an int in [0, num_actions), or -1 with an exception set. */
static long action_arg(EnvObject *self, PyObject *action) {
    long a;
    if (PyLong_CheckExact(action)) {
        a = PyLong_AsLong(action);
    } else {
        PyObject *index = PyNumber_Index(action);
        if (!index) {
            PyErr_Format(PyExc_TypeError,
                         "action must be an integer in [0, %d) for %s, got %s (a float, NaN or "
                         "array is not an action)",
                         self->env.cls->num_actions, self->env.cls->id, Py_TYPE(action)->tp_name);
            return -1;
        }
        a = PyLong_AsLong(index);
        Py_DECREF(index);
    }
    if ((a == -1 && PyErr_Occurred()) || a < 0 || a >= self->env.cls->num_actions) {
        PyErr_Clear();
        py_raise("InvalidArgumentError", "action must be an integer in [0, %d) for %s",
                 self->env.cls->num_actions, self->env.cls->id);
        return -1;
    }
    return a;
}

static PyObject *env_step(EnvObject *self, PyObject *action) {
    if (check_open(self) < 0) return NULL;
    if (self->needs_reset)
        return py_raise("ResetNeeded", "call reset() before step(): %s",
                        self->seeded ? "the episode has ended" : "the environment was not reset");
    long a = action_arg(self, action);
    if (a < 0) return NULL;
    prism_step s = prism_env_step(&self->env, (int)a, self->obs);
    self->needs_reset = s.terminated || s.truncated;
    PyObject *result = PyTuple_New(5);
    if (!result) return NULL;
    PyObject *obs = obs_array(self), *reward = PyFloat_FromDouble(s.reward), *info = PyDict_New();
    PyTuple_SET_ITEM(result, 0, obs);
    PyTuple_SET_ITEM(result, 1, reward);
    PyTuple_SET_ITEM(result, 2, PyBool_FromLong(s.terminated));
    PyTuple_SET_ITEM(result, 3, PyBool_FromLong(s.truncated));
    PyTuple_SET_ITEM(result, 4, info);
    if (!obs || !reward || !info) {
        Py_DECREF(result);
        return NULL;
    }
    return result;
}

static PyObject *env_render_text(EnvObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"color", NULL};
    int color = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|p", kwlist, &color)) return NULL;
    if (check_open(self) < 0) return NULL;
    if (!self->env.cls->render)
        return py_raise("UnsupportedError", "%s has no text rendering", self->env.cls->id);
    if (self->needs_reset && !self->seeded)
        return py_raise("ResetNeeded", "call reset() before render()");
    char buf[16384];
    int n = self->env.cls->render(self->env.state, buf, sizeof buf, color);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    return PyUnicode_DecodeUTF8(buf, n, "replace");
}

static PyObject *env_close(EnvObject *self, PyObject *unused) {
    (void)unused;
    if (self->open) prism_env_free(&self->env);
    self->open = false;
    Py_RETURN_NONE;
}

static PyObject *env_reduce(EnvObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyErr_SetString(PyExc_TypeError,
                    "prism environments cannot be pickled (their state lives in C); make a new "
                    "one with prism.make(id) and seed it with reset(seed=...)");
    return NULL;
}

static PyObject *get_id(EnvObject *self, void *closure) {
    (void)closure;
    if (check_open(self) < 0) return NULL;
    return PyUnicode_FromString(self->env.cls->id);
}

static PyObject *get_closed(EnvObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(!self->open);
}

static PyObject *get_max_episode_steps(EnvObject *self, void *closure) {
    (void)closure;
    if (check_open(self) < 0) return NULL;
    if (self->env.max_episode_steps == 0) Py_RETURN_NONE;
    return PyLong_FromLong(self->env.max_episode_steps);
}

static PyObject *get_elapsed_steps(EnvObject *self, void *closure) {
    (void)closure;
    if (check_open(self) < 0) return NULL;
    return PyLong_FromLong(self->env.elapsed);
}

#define FN(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef env_methods[] = {
    {"reset", FN(env_reset), METH_VARARGS | METH_KEYWORDS,
     "reset(*, seed=None, options=None) -> (obs, info)"},
    {"step", FN(env_step), METH_O, "step(action) -> (obs, reward, terminated, truncated, info)"},
    {"_render_text", FN(env_render_text), METH_VARARGS | METH_KEYWORDS,
     "The environment's text picture (ANSI colour when color=True)."},
    {"close", FN(env_close), METH_NOARGS, "Release the environment; later calls raise."},
    {"__reduce__", FN(env_reduce), METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef env_getset[] = {
    {"id", (getter)get_id, NULL, "The registered id.", NULL},
    {"closed", (getter)get_closed, NULL, "Whether close() was called.", NULL},
    {"max_episode_steps", (getter)get_max_episode_steps, NULL,
     "The time limit in force (None: no limit).", NULL},
    {"elapsed_steps", (getter)get_elapsed_steps, NULL, "Steps since the last reset.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject PyPrismEnv_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "prism._core.Env",
    .tp_basicsize = sizeof(EnvObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Env(id, max_episode_steps=-1, numpy_rng=False, options=None): one prism "
              "environment (use prism.make).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)env_init,
    .tp_dealloc = (destructor)env_dealloc,
    .tp_methods = env_methods,
    .tp_getset = env_getset,
};
