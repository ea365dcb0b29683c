"""prism's environments behind Gymnasium's API: prism.make (one environment) and
prism.make_vec (N copies stepped in one C call)."""

import math
from dataclasses import dataclass, field

import numpy as np

from . import _core
from .errors import InvalidArgumentError
from .spaces import HAVE_GYMNASIUM, Box, Discrete, MultiDiscrete

NAMESPACE = "prism"

if HAVE_GYMNASIUM:  # pragma: no cover - gymnasium is optional
    import gymnasium

    _ENV_BASES = (_core.Env, gymnasium.Env)
    from gymnasium.envs.registration import EnvSpec
else:
    _ENV_BASES = (_core.Env,)

    @dataclass
    class EnvSpec:
        """The parts of Gymnasium's EnvSpec that describe a prism environment."""

        id: str
        entry_point: str = "prism.envs:PrismEnv"
        reward_threshold: float = None
        nondeterministic: bool = False
        max_episode_steps: int = None
        order_enforce: bool = True
        disable_env_checker: bool = False
        kwargs: dict = field(default_factory=dict)


_F32_MAX = float(np.finfo(np.float32).max)
# Gymnasium's observation bounds for the classic-control tasks (from their sources: CartPole's
# 2 * x_threshold and 2 * theta_threshold, Acrobot's cos/sin and velocity limits 4*pi and 9*pi,
# MountainCar's position and speed limits, LunarLander-v3's documented box). Other
# environments: MinAtar's channels are 0/1 (bool, as MinAtar's gym wrapper declares); the
# tabular MDP's one-hot in [0, 1]; the probes are unbounded.
_THETA2 = 2 * 12 * 2 * math.pi / 360
_BOUNDS = {
    "CartPole-v1": ([-4.8, -_F32_MAX, -_THETA2, -_F32_MAX], [4.8, _F32_MAX, _THETA2, _F32_MAX]),
    "Acrobot-v1": ([-1, -1, -1, -1, -4 * math.pi, -9 * math.pi],
                   [1, 1, 1, 1, 4 * math.pi, 9 * math.pi]),
    "MountainCar-v0": ([-1.2, -0.07], [0.6, 0.07]),
    "LunarLander-v3": ([-2.5, -2.5, -10, -10, -2 * math.pi, -10, 0, 0],
                       [2.5, 2.5, 10, 10, 2 * math.pi, 10, 1, 1]),
    "homl-mdp": (0.0, 1.0),
}
_BOUNDS["CartPole-v0"] = _BOUNDS["CartPole-v1"]


def _canonical(env_id):
    if not isinstance(env_id, str):
        raise TypeError(f"an environment id is a str, got {type(env_id).__name__}")
    if env_id.startswith(NAMESPACE + "/"):
        env_id = env_id[len(NAMESPACE) + 1:]
    return env_id


def observation_space(info):
    """The single-environment observation space of an environment class (env_info dict)."""
    shape = tuple(info["obs_shape"])
    if len(shape) == 3:
        return Box(0, 1, shape=shape, dtype=np.bool_)
    low, high = _BOUNDS.get(info["id"], (-np.inf, np.inf))
    return Box(np.broadcast_to(np.asarray(low, np.float32), shape),
               np.broadcast_to(np.asarray(high, np.float32), shape), shape=shape,
               dtype=np.float32)


def env_ids():
    """Every environment of `prism env ls`, by its registered id."""
    return _core.env_ids()


class _Closing:
    """What both environment classes add to their C type: `with` closes, `unwrapped` is the
    environment itself (there are no wrappers)."""

    @property
    def unwrapped(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class PrismEnv(_Closing, *_ENV_BASES):
    """One prism environment with Gymnasium's API (use prism.make).

    reset(seed=None, options=None) -> (obs, info); step(action) -> (obs, reward, terminated,
    truncated, info). The observation is a fresh array each call, float32 (bool for MinAtar).
    The time limit truncates inside the environment (no TimeLimit wrapper is needed).
    reset() without a seed before any seed draws one from the operating system, as Gymnasium
    does; reset(seed=s) seeds prism's stream for the environment with s.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 30}

    def __init__(self, env_id, render_mode=None, max_episode_steps=None, numpy_rng=False,
                 **options):
        env_id = _canonical(env_id)
        if render_mode not in (None, "ansi"):
            raise InvalidArgumentError(
                f"render_mode {render_mode!r} is not supported; prism renders 'ansi' (text)")
        super().__init__(env_id, -1 if max_episode_steps is None else max_episode_steps,
                         numpy_rng, options)
        info = _core.env_info(env_id)
        self.render_mode = render_mode
        self.observation_space = observation_space(info)
        self.action_space = Discrete(info["num_actions"])
        self.action_names = tuple(info["action_names"])
        kwargs = dict(options, numpy_rng=numpy_rng)
        self.spec = EnvSpec(id=f"{NAMESPACE}/{info['id']}", entry_point="prism.envs:PrismEnv",
                            max_episode_steps=self.max_episode_steps, kwargs=kwargs)

    def render(self):
        """The text picture of the state ('ansi' mode); None without a render mode."""
        if self.render_mode is None:
            return None
        return self._render_text()

    def __repr__(self):
        return f"<PrismEnv {self.id if not self.closed else '(closed)'}>"


def make(env_id, **kwargs):
    """prism.make(id, render_mode=None, max_episode_steps=None, numpy_rng=False, **options).

    id is any id or alias of `prism env ls` (also with the "prism/" namespace); options are the
    environment's own (e.g. sticky_action_prob=0.0 for MinAtar); numpy_rng draws from numpy's
    RandomState for exact parity with the MinAtar package.
    """
    return PrismEnv(env_id, **kwargs)


class PrismVecEnv(_Closing, _core.VecEnv):
    """num_envs copies of one environment stepped in one C call with the GIL released (use
    prism.make_vec). step() returns the same arrays every call, overwritten in place; copy what
    you keep. autoreset_mode is Gymnasium 1.x's "next_step" (its default) or "same_step"
    (then info["final_obs"][i] is copy i's final observation where info["_final_obs"][i])."""

    def __init__(self, env_id, num_envs, seed=None, autoreset_mode="next_step",
                 max_episode_steps=None, numpy_rng=False, **options):
        env_id = _canonical(env_id)
        super().__init__(env_id, num_envs, seed,
                         -1 if max_episode_steps is None else max_episode_steps, numpy_rng,
                         options, autoreset_mode)
        info = _core.env_info(env_id)
        n = self.num_envs
        self.single_observation_space = observation_space(info)
        self.single_action_space = Discrete(info["num_actions"])
        single = self.single_observation_space
        self.observation_space = Box(np.broadcast_to(single.low, (n,) + single.shape),
                                     np.broadcast_to(single.high, (n,) + single.shape),
                                     shape=(n,) + single.shape, dtype=single.dtype)
        self.action_space = MultiDiscrete(np.full(n, info["num_actions"]))
        self.metadata = {"autoreset_mode": self.autoreset_mode, "render_modes": []}
        self.render_mode = None
        self.spec = EnvSpec(id=f"{NAMESPACE}/{info['id']}", entry_point="prism.envs:PrismEnv",
                            kwargs=dict(options, numpy_rng=numpy_rng))

    def __repr__(self):
        return f"<PrismVecEnv {self.num_envs} x {self.id if not self.closed else '(closed)'}>"


def make_vec(env_id, num_envs=1, seed=None, autoreset_mode="next_step", **kwargs):
    """prism.make_vec(id, num_envs, seed=None, autoreset_mode="next_step", **make kwargs).

    Copy i is seeded with (seed, stream i), as prism's trainer seeds its vector env; seed None
    draws one from the operating system.
    """
    return PrismVecEnv(env_id, num_envs, seed=seed, autoreset_mode=autoreset_mode, **kwargs)
