"""Every prism environment in Gymnasium's registry under the "prism/" namespace, when
gymnasium is importable: gymnasium.make("prism/CartPole-v1"), or
gymnasium.make("prism:prism/CartPole-v1"), which imports this package first."""

from . import _core
from .envs import NAMESPACE


def _make_vec(num_envs=1, env_id=None, **kwargs):  # pragma: no cover - needs gymnasium
    from .envs import PrismVecEnv

    kwargs.pop("render_mode", None)
    return PrismVecEnv(env_id, num_envs, **kwargs)


def register_gymnasium():
    """Register the environments; returns how many were added (0 without gymnasium)."""
    try:
        import gymnasium
    except ImportError:
        return 0
    added = 0  # pragma: no cover - needs gymnasium
    for env_id in _core.env_ids():  # pragma: no cover
        name = f"{NAMESPACE}/{env_id}"
        if name in gymnasium.registry:
            continue
        # the environment truncates itself, so no TimeLimit wrapper (max_episode_steps None)
        kwargs = {"env_id": env_id}
        try:
            gymnasium.register(id=name, entry_point="prism.envs:PrismEnv",
                               vector_entry_point="prism.registration:_make_vec", kwargs=kwargs)
        except TypeError:  # gymnasium before 1.0 has no vector entry points
            gymnasium.register(id=name, entry_point="prism.envs:PrismEnv", kwargs=kwargs)
        added += 1
    return added
