"""Gymnasium's documented Env contract, checked for every environment of `prism env ls`
without gymnasium: spaces, dtypes, seeding determinism, reset/step return shapes and types,
terminated/truncated, obs in observation_space, render, close, spec and metadata."""

import numpy as np
import pytest

import prism

ALL_IDS = prism.env_ids()


def rollout(env, seed, steps, action_seed=0):
    rng = np.random.default_rng(action_seed)
    obs, info = env.reset(seed=seed)
    trace = [obs.copy()]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        trace.append((obs.copy(), reward, terminated, truncated))
        if terminated or truncated:
            obs, info = env.reset()
            trace.append(obs.copy())
    return trace


def test_every_environment_of_the_cli_is_available(prism_bin):
    import subprocess

    out = subprocess.run([prism_bin, "env", "ls"], capture_output=True, text=True, check=True)
    listed = [line.split()[0] for line in out.stdout.splitlines()[1:] if line.strip()]
    assert listed == ALL_IDS


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_contract(env_id):
    env = prism.make(env_id)
    obs_space, act_space = env.observation_space, env.action_space
    assert isinstance(act_space, prism.spaces.Discrete) and act_space.n >= 1
    assert obs_space.dtype == (np.bool_ if len(obs_space.shape) == 3 else np.float32)
    obs, info = env.reset(seed=123)
    assert isinstance(obs, np.ndarray) and obs.shape == obs_space.shape
    assert obs.dtype == obs_space.dtype
    assert isinstance(info, dict)
    assert obs in obs_space, f"{env_id}: reset obs {obs} outside {obs_space}"
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(600):
        result = env.step(act_space.sample())
        assert isinstance(result, tuple) and len(result) == 5
        obs, reward, terminated, truncated, info = result
        assert obs.shape == obs_space.shape and obs.dtype == obs_space.dtype
        assert obs in obs_space, f"{env_id}: obs {obs} outside {obs_space}"
        assert isinstance(reward, float) and np.isfinite(reward)
        assert type(terminated) is bool and type(truncated) is bool
        assert isinstance(info, dict)
        if terminated or truncated:
            ends += 1
            obs, info = env.reset(seed=int(rng.integers(1000)))
    assert act_space.sample() in act_space
    assert env.spec.id == "prism/" + env.id
    assert "ansi" in env.metadata["render_modes"]
    env.close()
    assert env.closed


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_same_seed_same_episode_other_seed_other_start(env_id):
    a = rollout(prism.make(env_id), seed=7, steps=200)
    b = rollout(prism.make(env_id), seed=7, steps=200)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, tuple):
            assert np.array_equal(x[0], y[0]) and x[1:] == y[1:]
        else:
            assert np.array_equal(x, y)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Acrobot-v1", "MountainCar-v0",
                                    "LunarLander-v3", "breakout"])
def test_seeds_change_the_start(env_id):
    env = prism.make(env_id)
    starts = {env.reset(seed=s)[0].tobytes() for s in range(8)}
    assert len(starts) > 1


def test_reset_without_seed_continues_the_stream():
    env = prism.make("CartPole-v1")
    first = env.reset(seed=3)[0]
    second = env.reset()[0]
    assert not np.array_equal(first, second)
    again = prism.make("CartPole-v1")
    assert np.array_equal(again.reset(seed=3)[0], first)
    assert np.array_equal(again.reset()[0], second)


def test_time_limit_truncates_and_terminal_terminates():
    env = prism.make("CartPole-v1", max_episode_steps=5)
    env.reset(seed=0)
    flags = [env.step(0)[2:4] for _ in range(5)]
    assert flags[:4] == [(False, False)] * 4 and flags[4][1] is True
    assert env.spec.max_episode_steps == 5
    env = prism.make("CartPole-v1")
    env.reset(seed=0)
    for t in range(500):
        _, _, terminated, truncated, _ = env.step(1)  # always right: the pole falls
        if terminated:
            break
    assert terminated and not truncated and t < 100


def test_render_ansi_is_text_and_none_without_mode():
    env = prism.make("breakout", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and len(text.splitlines()) >= 10
    plain = prism.make("breakout")
    plain.reset(seed=0)
    assert plain.render() is None


def test_minatar_numpy_rng_and_options():
    a = prism.make("breakout", numpy_rng=True, sticky_action_prob=0.0)
    b = prism.make("breakout", numpy_rng=True, sticky_action_prob=0.0)
    ta, tb = rollout(a, 5, 300), rollout(b, 5, 300)
    assert all(np.array_equal(x[0] if isinstance(x, tuple) else x,
                              y[0] if isinstance(y, tuple) else y) for x, y in zip(ta, tb))
    assert a.spec.kwargs["sticky_action_prob"] == 0.0


def test_namespaced_ids_and_aliases():
    assert prism.make("prism/CartPole-v1").id == "CartPole-v1"
    assert prism.make("cartpole").id == "CartPole-v1"


def test_spaces_lookalikes_sample_and_contain():
    env = prism.make("MountainCar-v0")
    env.observation_space.seed(0)
    for _ in range(50):
        assert env.observation_space.sample() in env.observation_space
    assert np.array([5.0, 0.0], np.float32) not in env.observation_space
    assert 3 not in env.action_space and 2 in env.action_space and 1.0 not in env.action_space
