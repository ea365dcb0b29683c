/* python/src/agent.c — prism._core.Agent: a run's checkpoint loaded as prism_run_state_load
 * loads it for `prism eval`, with act(obs) for evaluation and analysis from Python. */
#include "module.h"

#include "prism/agent.h"
#include "prism/run_state.h"

typedef struct {
    PyObject_HEAD prism_run_state *rs; /* large (agent, replay): on the heap */
} AgentObject;

static int agent_init(AgentObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"run_dir", "checkpoint", NULL};
    const char *dir, *checkpoint = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|z", kwlist, &dir, &checkpoint)) return -1;
    if (self->rs) {
        PyErr_SetString(PyExc_RuntimeError, "an Agent is initialised once");
        return -1;
    }
    prism_run_state *rs = PyMem_Calloc(1, sizeof *rs);
    if (!rs) {
        PyErr_NoMemory();
        return -1;
    }
    prism_status st;
    PyThreadState *ts = PyEval_SaveThread(); /* reading a checkpoint: let other threads run */
    st = prism_run_state_load(rs, dir, checkpoint);
    PyEval_RestoreThread(ts);
    if (st) {
        PyMem_Free(rs);
        py_raise_status(st, NULL);
        return -1;
    }
    self->rs = rs;
    return 0;
}

static void agent_dealloc(AgentObject *self) {
    if (self->rs) {
        prism_run_state_free(self->rs);
        PyMem_Free(self->rs);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* act(obs, explore=False): the action for one observation (any shape with obs_size values),
 * or an int64 array of actions for a batch (B, ...). explore=False is prism eval's policy
 * (eps_eval, noisy nets at their mean); True the training policy. */
static PyObject *agent_act(AgentObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"obs", "explore", NULL};
    PyObject *obs;
    int explore = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|p", kwlist, &obs, &explore)) return NULL;
    PyArrayObject *a =
        (PyArrayObject *)PyArray_FromAny(obs, PyArray_DescrFromType(NPY_FLOAT32), 0, 0,
                                         NPY_ARRAY_CARRAY | NPY_ARRAY_FORCECAST, NULL);
    if (!a) return NULL;
    prism_agent *ag = &self->rs->agent;
    npy_intp size = PyArray_SIZE(a), d = ag->obs_size;
    bool batch = PyArray_NDIM(a) > 1 && size == PyArray_DIM(a, 0) * d && size != d;
    if (size != d && !batch) {
        Py_DECREF(a);
        return py_raise("InvalidArgumentError",
                        "act() takes one observation of %ld values or a batch (B, ...) of them; "
                        "got %ld values",
                        (long)d, (long)size);
    }
    const float *x = PyArray_DATA(a);
    if (!batch) {
        int action = prism_agent_act(ag, x, !explore);
        Py_DECREF(a);
        return PyLong_FromLong(action);
    }
    npy_intp b = PyArray_DIM(a, 0);
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(1, &b, NPY_INT64);
    if (out) {
        int64_t *actions = PyArray_DATA(out);
        /* with the GIL held: act() uses the agent's scratch, so two threads must not overlap */
        for (npy_intp i = 0; i < b; i++) actions[i] = prism_agent_act(ag, x + i * d, !explore);
    }
    Py_DECREF(a);
    return (PyObject *)out;
}

static PyObject *get_obs_size(AgentObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(self->rs->agent.obs_size);
}

static PyObject *get_num_actions(AgentObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(self->rs->agent.num_actions);
}

static PyObject *get_env_steps(AgentObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLongLong(self->rs->counters.env_steps);
}

static PyObject *get_checkpoint(AgentObject *self, void *closure) {
    (void)closure;
    return PyUnicode_FromString(self->rs->checkpoint);
}

static PyObject *get_env_id(AgentObject *self, void *closure) {
    (void)closure;
    return PyUnicode_FromString(self->rs->cfg.env);
}

static PyObject *agent_reduce(AgentObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyErr_SetString(PyExc_TypeError, "a prism Agent cannot be pickled; load it again from its "
                                     "run with Run.agent()");
    return NULL;
}

#define FN(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef agent_methods[] = {
    {"act", FN(agent_act), METH_VARARGS | METH_KEYWORDS,
     "act(obs, explore=False) -> action (int), or an int64 array for a batch"},
    {"__reduce__", FN(agent_reduce), METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef agent_getset[] = {
    {"obs_size", (getter)get_obs_size, NULL, "Values per observation.", NULL},
    {"num_actions", (getter)get_num_actions, NULL, "Number of actions.", NULL},
    {"env_steps", (getter)get_env_steps, NULL, "Environment steps at the checkpoint.", NULL},
    {"checkpoint", (getter)get_checkpoint, NULL, "The checkpoint file loaded.", NULL},
    {"env_id", (getter)get_env_id, NULL, "The environment the agent was trained on.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject PyPrismAgent_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "prism._core.Agent",
    .tp_basicsize = sizeof(AgentObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Agent(run_dir, checkpoint=None): a run's checkpoint as a policy.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)agent_init,
    .tp_dealloc = (destructor)agent_dealloc,
    .tp_methods = agent_methods,
    .tp_getset = agent_getset,
};
