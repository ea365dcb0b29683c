/* python/src/vec_env.c — prism._core.VecEnv: N copies of one environment stepped in one C call
 * with the GIL released, writing into numpy arrays the object owns.
 *
 * Every step returns the same tuple of the same arrays (obs, rewards, terminated, truncated,
 * info), overwritten in place: nothing is allocated per step when the actions arrive as a
 * C-contiguous int64 array (the zero-copy contract Gymnasium offers with copy=False; copy an
 * array to keep it past the next step). Autoreset follows Gymnasium 1.x, in either mode:
 *   next_step (Gymnasium's default, prism_vec_env_step_next): the step that ends an episode
 *     returns its final observation; the next step resets that copy, ignores its action, and
 *     returns the first observation with reward 0 and both flags false;
 *   same_step (prism's own vector env, prism_vec_env_step): the step that ends an episode
 *     returns the first observation of the next one; the final observation is in
 *     info["final_obs"] (rows where info["_final_obs"] is true).
 * MinAtar observations are 0/1 and come out as numpy bool (the reference's dtype): the
 * environments write float32 into a scratch buffer that is converted per step. */
#include "module.h"

#include "prism/env.h"
#include "prism/rng.h"

enum { MAX_ENVS = 1 << 20 };

typedef struct {
    PyObject_HEAD prism_vec_env vec;
    bool open, busy, binary, same_step, needs_reset;
    int n, obs_size, num_actions;
    int *actions;     /* (n) validated copy of the caller's actions */
    float *rewards_f; /* (n) what the environments write; widened into `rewards` */
    bool *pending;    /* (n) next_step: copy i resets at the next step */
    float *obs_f;     /* (n, D) where the environments write: obs's data, or scratch if binary */
    float *final_f;   /* (n, D) final observations (same_step): final_obs's data, or scratch */
    void *scratch;    /* the one allocation behind the pointers above */
    PyArrayObject *obs, *final_obs, *rewards, *terminated, *truncated, *final_mask;
    PyObject *info, *step_result;
} VecEnvObject;

static void release(VecEnvObject *self) {
    if (self->open) prism_vec_env_free(&self->vec);
    self->open = false;
    PyMem_Free(self->scratch);
    self->scratch = NULL;
}

static void vec_dealloc(VecEnvObject *self) {
    release(self);
    Py_XDECREF(self->obs);
    Py_XDECREF(self->final_obs);
    Py_XDECREF(self->rewards);
    Py_XDECREF(self->terminated);
    Py_XDECREF(self->truncated);
    Py_XDECREF(self->final_mask);
    Py_XDECREF(self->info);
    Py_XDECREF(self->step_result);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int parse_num_envs(PyObject *obj, int *out) {
    PyObject *index = PyNumber_Index(obj);
    if (!index) {
        PyErr_Format(PyExc_TypeError, "num_envs must be an integer, got %s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
    Py_DECREF(index);
    if (overflow || v < 1 || v > MAX_ENVS) {
        py_raise("InvalidArgumentError", "num_envs must be between 1 and %d", MAX_ENVS);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_mode(PyObject *mode, bool *same_step) {
    /* a string, or Gymnasium's AutoresetMode enum (its value is "NextStep" / "SameStep") */
    PyObject *value =
        PyUnicode_Check(mode) ? (Py_INCREF(mode), mode) : PyObject_GetAttrString(mode, "value");
    const char *text = value && PyUnicode_Check(value) ? PyUnicode_AsUTF8(value) : NULL;
    PyErr_Clear();
    bool ok = text != NULL;
    if (ok && (!strcmp(text, "next_step") || !strcmp(text, "NextStep")))
        *same_step = false;
    else if (ok && (!strcmp(text, "same_step") || !strcmp(text, "SameStep")))
        *same_step = true;
    else
        ok = false;
    Py_XDECREF(value);
    if (!ok)
        py_raise("InvalidArgumentError", "autoreset_mode must be \"next_step\" (Gymnasium's "
                                         "default) or \"same_step\"");
    return ok ? 0 : -1;
}

static PyArrayObject *zeros(int nd, npy_intp *dims, int type) {
    return (PyArrayObject *)PyArray_ZEROS(nd, dims, type, 0);
}

static int make_buffers(VecEnvObject *self, const prism_env_class *cls) {
    npy_intp dims[4] = {self->n, 1, 1, 1};
    for (int d = 0; d < cls->obs_rank; d++) dims[1 + d] = cls->obs_shape[d];
    int obs_type = self->binary ? NPY_BOOL : NPY_FLOAT32;
    self->obs = zeros(1 + cls->obs_rank, dims, obs_type);
    self->final_obs = zeros(1 + cls->obs_rank, dims, obs_type);
    self->rewards = zeros(1, dims, NPY_FLOAT64); /* Gymnasium's vector envs return float64 */
    self->terminated = zeros(1, dims, NPY_BOOL);
    self->truncated = zeros(1, dims, NPY_BOOL);
    self->final_mask = zeros(1, dims, NPY_BOOL);
    if (!self->obs || !self->final_obs || !self->rewards || !self->terminated || !self->truncated ||
        !self->final_mask)
        return -1;
    size_t n = (size_t)self->n, nd = n * (size_t)self->obs_size;
    size_t bytes = n * (sizeof(int) + sizeof(float) + sizeof(bool)) + 64;
    if (self->binary) bytes += 2 * nd * sizeof(float);
    self->scratch = PyMem_Calloc(1, bytes);
    if (!self->scratch) {
        PyErr_NoMemory();
        return -1;
    }
    char *p = self->scratch;
    if (self->binary) {
        self->obs_f = (float *)p;
        self->final_f = self->obs_f + nd;
        p += 2 * nd * sizeof(float);
    } else {
        self->obs_f = PyArray_DATA(self->obs);
        self->final_f = PyArray_DATA(self->final_obs);
    }
    self->rewards_f = (float *)p;
    self->actions = (int *)(p + n * sizeof(float));
    self->pending = (bool *)(p + n * (sizeof(float) + sizeof(int)));
    self->info = PyDict_New();
    if (!self->info) return -1;
    if (self->same_step &&
        (PyDict_SetItemString(self->info, "final_obs", (PyObject *)self->final_obs) < 0 ||
         PyDict_SetItemString(self->info, "_final_obs", (PyObject *)self->final_mask) < 0))
        return -1;
    self->step_result =
        PyTuple_Pack(5, self->obs, self->rewards, self->terminated, self->truncated, self->info);
    return self->step_result ? 0 : -1;
}

static int vec_init(VecEnvObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"id",        "num_envs", "seed",           "max_episode_steps",
                             "numpy_rng", "options",  "autoreset_mode", NULL};
    const char *id;
    PyObject *num_envs, *seed = Py_None, *options = NULL, *mode = NULL;
    int max_steps = -1, numpy_rng = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sO|OipOO", kwlist, &id, &num_envs, &seed,
                                     &max_steps, &numpy_rng, &options, &mode))
        return -1;
    if (self->open || self->step_result) {
        PyErr_SetString(PyExc_RuntimeError, "a VecEnv is initialised once");
        return -1;
    }
    if (parse_num_envs(num_envs, &self->n) < 0) return -1;
    if (mode && parse_mode(mode, &self->same_step) < 0) return -1;
    if (max_steps < -1) {
        py_raise("InvalidArgumentError",
                 "max_episode_steps must be >= 0 (0 = no limit) or None for the default");
        return -1;
    }
    uint64_t s;
    if (seed == Py_None)
        s = numpy_rng ? (uint32_t)py_entropy_seed() : py_entropy_seed();
    else if (py_seed_arg(seed, numpy_rng ? UINT32_MAX - (uint64_t)self->n + 1 : UINT64_MAX, &s) < 0)
        return -1;
    prism_env_options opt = prism_env_options_default();
    opt.max_episode_steps = max_steps;
    opt.random = numpy_rng ? PRISM_RANDOM_NUMPY : PRISM_RANDOM_PRISM;
    prism_status st;
    PyThreadState *ts = PyEval_SaveThread(); /* a million LunarLander worlds take a while */
    st = prism_vec_env_init(&self->vec, id, self->n, &opt, s);
    PyEval_RestoreThread(ts);
    if (st) {
        py_raise_status(st, NULL);
        return -1;
    }
    self->open = true;
    for (int i = 0; i < self->n; i++)
        if (py_env_configure(&self->vec.envs[i], options) < 0) return -1;
    const prism_env_class *cls = self->vec.envs[0].cls;
    self->obs_size = self->vec.obs_size;
    self->num_actions = cls->num_actions;
    self->binary = cls->obs_rank == 3;
    self->needs_reset = true;
    return make_buffers(self, cls);
}

static int check_usable(VecEnvObject *self) {
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this VecEnv is being stepped by another thread; use one per thread");
        return -1;
    }
    if (!self->open) {
        py_raise("ClosedError", "the vector environment is closed (or was never created); make "
                                "a new one with prism.make_vec()");
        return -1;
    }
    return 0;
}

/* obs_f rows -> the bool obs array (MinAtar); final rows only where an episode ended. */
static void publish_binary(VecEnvObject *self, bool finals) {
    size_t nd = (size_t)self->n * (size_t)self->obs_size, d = (size_t)self->obs_size;
    npy_bool *out = PyArray_DATA(self->obs);
    for (size_t i = 0; i < nd; i++) out[i] = self->obs_f[i] != 0.0f;
    if (!finals) return;
    npy_bool *fin = PyArray_DATA(self->final_obs);
    const npy_bool *mask = PyArray_DATA(self->final_mask);
    for (int i = 0; i < self->n; i++)
        if (mask[i])
            for (size_t k = 0; k < d; k++) fin[i * d + k] = self->final_f[i * d + k] != 0.0f;
}

static PyObject *vec_reset(VecEnvObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"seed", "options", NULL};
    PyObject *seed = Py_None, *options = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$OO", kwlist, &seed, &options)) return NULL;
    if (check_usable(self) < 0) return NULL;
    if (options != Py_None && (!PyDict_Check(options) || PyDict_Size(options) > 0))
        return py_raise("InvalidArgumentError",
                        "reset() takes no options for prism environments (pass options to "
                        "prism.make_vec instead)");
    if (seed != Py_None) {
        bool numpy = self->vec.envs[0].random.kind == PRISM_RANDOM_NUMPY;
        uint64_t s;
        if (py_seed_arg(seed, numpy ? UINT32_MAX - (uint64_t)self->n + 1 : UINT64_MAX, &s) < 0)
            return NULL;
        /* the seeding of prism_vec_env_init: copy i on stream ENV + i (numpy: seed + i) */
        for (int i = 0; i < self->n; i++)
            prism_env_seed(&self->vec.envs[i], s + (numpy ? (uint64_t)i : 0),
                           PRISM_STREAM_ENV + (uint64_t)i);
    }
    prism_vec_env_reset(&self->vec, self->obs_f);
    memset(self->pending, 0, (size_t)self->n * sizeof *self->pending);
    memset(PyArray_DATA(self->final_mask), 0, (size_t)self->n);
    if (self->binary) publish_binary(self, false);
    self->needs_reset = false;
    PyObject *info = PyDict_New();
    if (!info) return NULL;
    PyObject *result = PyTuple_Pack(2, self->obs, info);
    Py_DECREF(info);
    return result;
}

/* The caller's actions into self->actions, validated; -1 with an exception set. Allocates
 * nothing when `obj` is a C-contiguous int64 array of shape (n). */
static int read_actions(VecEnvObject *self, PyObject *obj) {
    PyArrayObject *arr = (PyArrayObject *)PyArray_FromAny(obj, NULL, 0, 0, 0, NULL);
    if (!arr) return -1;
    int rc = -1;
    if (PyArray_NDIM(arr) != 1 || PyArray_DIM(arr, 0) != self->n) {
        py_raise("InvalidArgumentError", "actions must have shape (%d,), one per environment",
                 self->n);
        goto done;
    }
    if (!PyArray_ISINTEGER(arr)) {
        PyErr_Format(PyExc_TypeError,
                     "actions must be integers (an int array of shape (%d,)); floats and NaN are "
                     "not actions",
                     self->n);
        goto done;
    }
    if (PyArray_TYPE(arr) != NPY_INT64 || !PyArray_IS_C_CONTIGUOUS(arr)) {
        PyArrayObject *cast = (PyArrayObject *)PyArray_FromArray(
            arr, PyArray_DescrFromType(NPY_INT64), NPY_ARRAY_CARRAY | NPY_ARRAY_FORCECAST);
        if (!cast) goto done;
        Py_DECREF(arr);
        arr = cast;
    }
    const int64_t *a = PyArray_DATA(arr);
    for (int i = 0; i < self->n; i++) {
        if (a[i] < 0 || a[i] >= self->num_actions) {
            py_raise("InvalidArgumentError",
                     "actions[%d] = %lld is not an action of %s (valid: 0 "
                     "to %d)",
                     i, (long long)a[i], self->vec.envs[0].cls->id, self->num_actions - 1);
            goto done;
        }
        self->actions[i] = (int)a[i];
    }
    rc = 0;
done:
    Py_DECREF(arr);
    return rc;
}

static PyObject *vec_step(VecEnvObject *self, PyObject *actions) {
    if (check_usable(self) < 0) return NULL;
    if (self->needs_reset) return py_raise("ResetNeeded", "call reset() before step()");
    if (read_actions(self, actions) < 0) return NULL;
    bool *terminated = PyArray_DATA(self->terminated), *truncated = PyArray_DATA(self->truncated);
    bool *mask = PyArray_DATA(self->final_mask);
    double *rewards = PyArray_DATA(self->rewards);
    self->busy = true;
    PyThreadState *ts = PyEval_SaveThread();
    if (self->same_step) {
        prism_vec_env_step(&self->vec, self->actions, self->obs_f, self->final_f, self->rewards_f,
                           terminated, truncated);
        for (int i = 0; i < self->n; i++) mask[i] = terminated[i] || truncated[i];
    } else {
        prism_vec_env_step_next(&self->vec, self->actions, self->pending, self->obs_f,
                                self->rewards_f, terminated, truncated);
    }
    for (int i = 0; i < self->n; i++) rewards[i] = self->rewards_f[i];
    if (self->binary) publish_binary(self, self->same_step);
    PyEval_RestoreThread(ts);
    self->busy = false;
    Py_INCREF(self->step_result);
    return self->step_result;
}

static PyObject *vec_close(VecEnvObject *self, PyObject *unused) {
    (void)unused;
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close a VecEnv while another thread steps it");
        return NULL;
    }
    release(self);
    Py_RETURN_NONE;
}

static PyObject *vec_reduce(VecEnvObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyErr_SetString(PyExc_TypeError,
                    "prism vector environments cannot be pickled (their state lives in C); make "
                    "a new one with prism.make_vec(id, num_envs, seed=...)");
    return NULL;
}

static PyObject *get_num_envs(VecEnvObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(self->n);
}

static PyObject *get_mode(VecEnvObject *self, void *closure) {
    (void)closure;
    return PyUnicode_FromString(self->same_step ? "same_step" : "next_step");
}

static PyObject *get_closed(VecEnvObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(!self->open);
}

static PyObject *get_id(VecEnvObject *self, void *closure) {
    (void)closure;
    if (check_usable(self) < 0) return NULL;
    return PyUnicode_FromString(self->vec.envs[0].cls->id);
}

#define FN(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef vec_methods[] = {
    {"reset", FN(vec_reset), METH_VARARGS | METH_KEYWORDS,
     "reset(*, seed=None, options=None) -> (obs, info); seed s seeds copy i on stream i."},
    {"step", FN(vec_step), METH_O,
     "step(actions) -> (obs, rewards, terminated, truncated, info), the same arrays each "
     "step, overwritten in place."},
    {"close", FN(vec_close), METH_NOARGS, "Release the environments; later calls raise."},
    {"__reduce__", FN(vec_reduce), METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef vec_getset[] = {
    {"num_envs", (getter)get_num_envs, NULL, "Number of copies.", NULL},
    {"autoreset_mode", (getter)get_mode, NULL, "\"next_step\" or \"same_step\".", NULL},
    {"closed", (getter)get_closed, NULL, "Whether close() was called.", NULL},
    {"id", (getter)get_id, NULL, "The registered id.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject PyPrismVecEnv_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "prism._core.VecEnv",
    .tp_basicsize = sizeof(VecEnvObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "VecEnv(id, num_envs, seed=None, max_episode_steps=-1, numpy_rng=False, "
              "options=None, autoreset_mode=\"next_step\") (use prism.make_vec).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)vec_init,
    .tp_dealloc = (destructor)vec_dealloc,
    .tp_methods = vec_methods,
    .tp_getset = vec_getset,
};
