"""prism from Python: its environments behind Gymnasium's API, vector environments stepped in
one C call, training that runs exactly what `prism train` runs, and the run archive.

    import prism
    env = prism.make("CartPole-v1")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

docs/python.md has an example per use.
"""

from . import _core
from .envs import PrismEnv, PrismVecEnv, env_ids, make, make_vec
from .errors import (ClosedError, CorruptFileError, DivergedError, InvalidArgumentError,
                     NotFoundError, PrismError, PrismIOError, PrismMemoryError, ResetNeeded,
                     TrainingInterrupted, UnsupportedError)
from .registration import register_gymnasium
from .runs import Run, runs, train

__version__ = _core.__version__
Agent = _core.Agent

__all__ = [
    "Agent", "ClosedError", "CorruptFileError", "DivergedError", "InvalidArgumentError",
    "NotFoundError", "PrismEnv", "PrismError", "PrismIOError", "PrismMemoryError",
    "PrismVecEnv", "ResetNeeded", "Run", "TrainingInterrupted", "UnsupportedError", "env_ids",
    "make", "make_vec", "register_gymnasium", "runs", "train",
]

register_gymnasium()
