/* python/src/train.c — prism._core.train: the configuration `prism train` resolves, handed to
 * prism_train in this process with the GIL released.
 *
 * The resolution order is the CLI's (cli/cmd_train.c): defaults -> preset for (agent, env) ->
 * config file (its env replaced by the given one) -> settings in order -> seed -> steps, and the
 * iteration is clamped to the run's length. So a call with the same arguments as a command
 * line trains the same run, bit for bit. Ctrl-C works as in the CLI: the first SIGINT or
 * SIGTERM stops at the end of the episode and saves a checkpoint, a second stops at once; the
 * CLI's further deadlines (ending a process stuck where it cannot poll) are left out, since
 * ending the interpreter is the caller's decision. */
#include "module.h"

#include "prism/config.h"
#include "prism/env.h"
#include "prism/file.h"
#include "prism/presets.h"
#include "prism/trainer.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static bool training; /* one run per process at a time: the stop flag and handlers are shared */

static void on_signal(int sig) {
    (void)sig;
    static const char first[] = "\nprism: stopping at the end of this episode to save a checkpoint "
                                "(press Ctrl-C again to stop at once)\n";
    if (stop_requested == 0) {
        ssize_t ignored = write(STDERR_FILENO, first, sizeof first - 1);
        (void)ignored;
    }
    stop_requested = stop_requested < 2 ? stop_requested + 1 : 2;
}

/* Apply [(key, text), ...] with prism_config_set; -1 with an exception set. */
static int apply_settings(prism_config *c, PyObject *settings) {
    PyObject *seq = PySequence_Fast(settings, "settings must be a sequence of (key, value) pairs");
    if (!seq) return -1;
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
        const char *key, *value;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "ss", &key, &value)) {
            rc = -1;
            break;
        }
        prism_status st = prism_config_set(c, key, value);
        if (st) {
            py_raise_status(st, NULL);
            rc = -1;
        }
    }
    Py_DECREF(seq);
    return rc;
}

static int resolve(prism_config *c, const char *env_id, const char *agent, const char *config_file,
                   PyObject *settings, const char *seed, const char *steps) {
    const prism_env_class *cls;
    prism_status st = prism_env_lookup(env_id, &cls);
    if (!st) {
        prism_config_defaults(c);
        st = prism_preset_apply(c, agent, env_id);
    }
    if (!st && config_file) {
        st = prism_config_load_ini(c, config_file);
        snprintf(c->env, sizeof c->env, "%s", prism_env_canonical_id(env_id));
    }
    if (st) {
        py_raise_status(st, NULL);
        return -1;
    }
    if (apply_settings(c, settings) < 0) return -1;
    if ((seed && (st = prism_config_set(c, "seed", seed))) ||
        (steps && (st = prism_config_set(c, "train.steps", steps)))) {
        py_raise_status(st, NULL);
        return -1;
    }
    if (c->train.iteration_steps > c->train.steps) c->train.iteration_steps = c->train.steps;
    return 0;
}

/* train(env, agent, seed, steps, runs_dir, run_id, config_file, settings, argv, quiet,
 *       handle_signals) -> run directory. seed and steps are text or None. */
PyObject *py_train(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"env",         "agent",    "seed", "steps", "runs_dir",       "run_id",
                             "config_file", "settings", "argv", "quiet", "handle_signals", NULL};
    const char *env_id, *agent, *seed = NULL, *steps = NULL, *runs_dir, *run_id = NULL,
                                *config_file = NULL;
    PyObject *settings, *argv;
    int quiet = 1, handle_signals = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sszzszzOO|pp", kwlist, &env_id, &agent, &seed,
                                     &steps, &runs_dir, &run_id, &config_file, &settings, &argv,
                                     &quiet, &handle_signals))
        return NULL;
    if (training)
        return py_raise("InvalidArgumentError",
                        "a prism.train run is already in progress in this process; start "
                        "parallel runs in separate processes (prism sweep does)");
    prism_config cfg;
    if (resolve(&cfg, env_id, agent, config_file, settings, seed, steps) < 0) return NULL;

    PyObject *argv_seq = PySequence_Fast(argv, "argv must be a sequence of str");
    if (!argv_seq) return NULL;
    Py_ssize_t argc = PySequence_Fast_GET_SIZE(argv_seq);
    char **argv_c = PyMem_Calloc((size_t)argc + 1, sizeof *argv_c);
    for (Py_ssize_t i = 0; argv_c && i < argc; i++) {
        /* the library records argv and never writes it; its type is main()'s */
        argv_c[i] = (char *)(uintptr_t)PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(argv_seq, i));
        if (!argv_c[i]) {
            PyMem_Free(argv_c);
            Py_DECREF(argv_seq);
            return NULL;
        }
    }
    if (!argv_c) {
        Py_DECREF(argv_seq);
        return PyErr_NoMemory();
    }

    prism_train_options o = prism_train_options_default();
    o.runs_dir = runs_dir;
    o.run_id = run_id;
    o.argc = (int)argc;
    o.argv = argv_c;
    o.quiet = quiet;
    o.stop = &stop_requested;
    struct sigaction sa, old_int, old_term;
    if (handle_signals) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    stop_requested = 0;
    training = true;
    char dir[PRISM_PATH_MAX] = "";
    prism_status st;
    PyThreadState *ts = PyEval_SaveThread();
    fflush(stdout);
    st = prism_train(&cfg, &o, dir, sizeof dir);
    fflush(stdout);
    PyEval_RestoreThread(ts);
    training = false;
    if (handle_signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    PyMem_Free(argv_c);
    Py_DECREF(argv_seq);

    if (st == PRISM_OK) return PyUnicode_FromString(dir);
    PyObject *dir_obj = PyUnicode_FromString(dir);
    if (st == PRISM_ERR_INTERRUPTED)
        py_raise("TrainingInterrupted",
                 "interrupted; the run is archived in %s (status interrupted); continue it with: "
                 "prism train --resume %s",
                 dir, dir);
    else if (st == PRISM_ERR_DIVERGED)
        py_raise("DivergedError",
                 "the run diverged: %s; run directory: %s. Try a smaller agent.lr, "
                 "agent.grad_clip, or `prism doctor`.",
                 prism_error_message(), dir);
    else
        py_raise_status(st, dir[0] ? dir : NULL);
    /* the run directory (when one was made) travels with the exception */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && dir_obj && dir[0]) PyObject_SetAttrString(value, "run_dir", dir_obj);
    Py_XDECREF(dir_obj);
    PyErr_Restore(type, value, tb);
    return NULL;
}
