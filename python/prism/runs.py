"""Training from Python and the run archive: prism.train, prism.runs, Run."""

import os
import threading

import numpy as np

from . import _core

_SECTIONS = ("agent", "train", "env")


def _setting_key(name):
    """agent_lr -> agent.lr (the first '_' after a section name); keys with dots pass as they
    are, so both train(..., agent_lr=1e-3) and train(..., **{"agent.lr": 1e-3}) work."""
    if "." in name:
        return name
    section, _, rest = name.partition("_")
    return f"{section}.{rest}" if section in _SECTIONS and rest else name


def _setting_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_setting_text(v) for v in value)
    return str(value)


def train(env_id, agent="rainbow", seed=0, steps=None, runs_dir="runs", run_id=None,
          config=None, quiet=True, **settings):
    """Run what `prism train` runs, in this process, and return its Run.

    The same arguments as `prism train ENV --agent AGENT --seed SEED --steps STEPS
    [--config FILE] [--set key=value ...]` give the same run, bit for bit (metrics.csv's sys_
    timing columns aside): the settings are resolved in the CLI's order. Settings are keyword
    arguments named like agent_lr=1e-3 or passed as **{"agent.lr": 1e-3}. The GIL is released
    while training. Ctrl-C (in the main thread) stops at the end of the episode, saves a
    checkpoint and raises prism.TrainingInterrupted (its run_dir continues with `prism train
    --resume`); a second Ctrl-C stops at once.
    """
    pairs = [(_setting_key(k), _setting_text(v)) for k, v in settings.items()]
    argv = ["prism", "train", str(env_id), "--agent", str(agent), "--seed", str(seed)]
    if steps is not None:
        argv += ["--steps", str(steps)]
    if config is not None:
        argv += ["--config", os.fspath(config)]
    for key, value in pairs:
        argv += ["--set", f"{key}={value}"]
    argv += ["--runs-dir", os.fspath(runs_dir)]
    if run_id is not None:
        argv += ["--run-id", run_id]
    run_dir = _core.train(
        str(env_id), str(agent), None if seed is None else str(seed),
        None if steps is None else str(steps), os.fspath(runs_dir), run_id,
        None if config is None else os.fspath(config), pairs, argv, quiet=bool(quiet),
        handle_signals=threading.current_thread() is threading.main_thread())
    return Run(run_dir)


def _structured(names, values):
    dtype = np.dtype([(name, np.float64) for name in names])
    if values.shape[0] == 0:
        return np.zeros(0, dtype=dtype)
    return np.ascontiguousarray(values).view(dtype).reshape(-1)


class Run:
    """One run directory, read through prism's own readers. Properties re-read the files on
    each access, so a run still training shows its latest state."""

    def __init__(self, run_dir):
        self.dir = os.fspath(run_dir)
        self._meta = _core.run_meta(self.dir)  # fails early on a directory that is no run

    @property
    def meta(self):
        """run.json as a dict (id, status, env, agent, seed, steps, final_return, metrics...)."""
        self._meta = _core.run_meta(self.dir)
        return self._meta

    id = property(lambda self: self._meta["id"])
    env = property(lambda self: self._meta["env"])
    seed = property(lambda self: self._meta["seed"])
    agent_name = property(lambda self: self._meta["agent"])

    @property
    def status(self):
        """"running", "completed", "failed", "interrupted" or "diverged"."""
        return self.meta["status"]

    @property
    def config(self):
        """config.ini as {key: value}, checked against run.json as `prism train --resume` does."""
        return _core.run_config(self.dir)

    def _table(self, name):
        return _structured(*_core.read_table(os.path.join(self.dir, name)))

    @property
    def metrics(self):
        """metrics.csv as a numpy structured array, one row per iteration (NaN: empty field)."""
        return self._table("metrics.csv")

    @property
    def episodes(self):
        """episodes.csv as a numpy structured array, one row per training episode."""
        return self._table("episodes.csv")

    def to_pandas(self, table="metrics"):
        """metrics (or episodes) as a pandas DataFrame; needs pandas."""
        import pandas

        return pandas.DataFrame(self.episodes if table == "episodes" else self.metrics)

    def agent(self, checkpoint=None):
        """The agent of the latest checkpoint (or of `checkpoint`, a path), with act(obs)."""
        return _core.Agent(self.dir, checkpoint)

    def __repr__(self):
        return f"<Run {self.id} {self._meta['status']}>"

    def __eq__(self, other):
        return isinstance(other, Run) and os.path.realpath(self.dir) == os.path.realpath(other.dir)

    def __hash__(self):
        return hash(os.path.realpath(self.dir))


def runs(runs_dir="runs", where=None):
    """The runs of runs_dir from its index (a scan of the run directories when it has none),
    oldest first. where: "key=value,key=value" over id (prefix), env, agent, seed, status,
    commit, host, as `prism runs ls --where`."""
    return [Run(row["dir"]) for row in _core.run_index(os.fspath(runs_dir), where)]
