"""Bad input raises a Python exception carrying prism's message, never crashes: wrong types,
NaN and out-of-range actions, huge num_envs, bad seeds and options, use after close, reset
needed, pickling; then a seeded random fuzz over all of them."""

import copy
import pickle

import numpy as np
import pytest

import prism


def test_unknown_id_suggests_the_closest():
    with pytest.raises(prism.NotFoundError) as e:
        prism.make("CartPol-v1")
    assert isinstance(e.value, KeyError) and "CartPole-v1" in str(e.value)
    with pytest.raises(KeyError):
        prism.make_vec("nope", 2)
    with pytest.raises(TypeError):
        prism.make(42)


@pytest.mark.parametrize("action", [2, -1, 10**30, -(10**30)])
def test_out_of_range_actions(action):
    env = prism.make("CartPole-v1")
    env.reset(seed=0)
    with pytest.raises(prism.InvalidArgumentError, match=r"\[0, 2\)"):
        env.step(action)
    env.step(1)  # the environment is still usable


@pytest.mark.parametrize("action", [float("nan"), 0.5, 1.0, "1", None, [1], np.array([1]),
                                    np.float32(1), object()])
def test_actions_of_the_wrong_type(action):
    env = prism.make("CartPole-v1")
    env.reset(seed=0)
    with pytest.raises((TypeError, ValueError)):
        env.step(action)


def test_numpy_integer_actions_work():
    env = prism.make("CartPole-v1")
    env.reset(seed=0)
    for a in (np.int64(1), np.int32(0), np.array(1), np.uint8(1), True):
        env.step(a)


@pytest.mark.parametrize("actions", [np.full(4, np.nan), np.zeros(4, np.float32),
                                     np.array([0, 1, 2, 0]), np.array([-1, 0, 0, 0]),
                                     np.zeros(3, np.int64), np.zeros((4, 1), np.int64), "0000",
                                     None, [0.5] * 4, np.array([2**62] * 4)])
def test_bad_vector_actions(actions):
    vec = prism.make_vec("CartPole-v1", 4, seed=0)
    vec.reset()
    with pytest.raises((TypeError, ValueError)):
        vec.step(actions)
    vec.step(np.zeros(4, np.int64))


@pytest.mark.parametrize("n", [0, -1, 2**21, 10**30, 2.0, "8", None])
def test_bad_num_envs(n):
    with pytest.raises((TypeError, ValueError)):
        prism.make_vec("CartPole-v1", n)


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "0", [1]])
def test_bad_seeds(seed):
    env = prism.make("CartPole-v1")
    with pytest.raises((TypeError, ValueError)):
        env.reset(seed=seed)
    vec = prism.make_vec("CartPole-v1", 2, seed=0)
    with pytest.raises((TypeError, ValueError)):
        vec.reset(seed=seed)


def test_numpy_seed_must_fit_32_bits():
    env = prism.make("breakout", numpy_rng=True)
    env.reset(seed=2**32 - 1)
    with pytest.raises(prism.InvalidArgumentError):
        env.reset(seed=2**32)


def test_bad_options():
    with pytest.raises(prism.InvalidArgumentError):
        prism.make("breakout", sticky_action_prob=2.0)
    with pytest.raises(prism.InvalidArgumentError):
        prism.make("breakout", no_such_option=1)
    with pytest.raises(prism.UnsupportedError, match="numpy"):
        prism.make("CartPole-v1", numpy_rng=True)
    with pytest.raises(prism.InvalidArgumentError):
        prism.make("CartPole-v1", max_episode_steps=-5)
    with pytest.raises(prism.InvalidArgumentError):
        prism.make("CartPole-v1", render_mode="human")
    with pytest.raises(prism.InvalidArgumentError):
        prism.make_vec("CartPole-v1", 2, autoreset_mode="sometimes")
    with pytest.raises(prism.InvalidArgumentError):
        prism.make("CartPole-v1").reset(options={"x": 1})


def test_use_after_close():
    env = prism.make("CartPole-v1", render_mode="ansi")
    env.reset(seed=0)
    env.close()
    env.close()  # twice is fine
    for call in (lambda: env.step(0), lambda: env.reset(), env.render):
        with pytest.raises(prism.ClosedError):
            call()
    vec = prism.make_vec("CartPole-v1", 2, seed=0)
    obs, _ = vec.reset()
    vec.close()
    with pytest.raises(prism.ClosedError):
        vec.step(np.zeros(2, np.int64))
    with pytest.raises(prism.ClosedError):
        vec.reset()
    assert obs.shape == (2, 4)  # arrays handed out stay valid


def test_step_needs_a_reset():
    env = prism.make("CartPole-v1")
    with pytest.raises(prism.ResetNeeded):
        env.step(0)
    env.reset(seed=0)
    while not any(env.step(1)[2:4]):
        pass
    with pytest.raises(prism.ResetNeeded, match="ended"):
        env.step(0)
    with pytest.raises(prism.ResetNeeded):
        prism.make_vec("CartPole-v1", 2).step(np.zeros(2, np.int64))


def test_reset_without_seed_works_everywhere():
    for env_id in prism.env_ids():
        obs, _ = prism.make(env_id).reset()
        assert obs is not None


def test_pickling_is_refused_with_a_message():
    objects = [prism.make("CartPole-v1"), prism.make_vec("CartPole-v1", 2, seed=0)]
    for obj in objects:
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(obj)
        with pytest.raises(TypeError):
            copy.deepcopy(obj)


def test_random_fuzz_never_crashes():
    rng = np.random.default_rng(2026)
    values = [0, 1, 2, 5, -1, 2**31, 2**63, 1.5, float("nan"), float("inf"), None, "a", b"x",
              [], [0], np.int64(1), np.float64(0.0), np.array([0, 1]), np.zeros(3, np.int8),
              object(), True]
    ids = prism.env_ids() + ["", "x" * 5000, "prism/", "CartPole-v1\0"]
    for _ in range(1500):
        env_id = ids[rng.integers(len(ids))]
        try:
            env = prism.make(env_id, max_episode_steps=int(rng.integers(0, 4)))
        except (TypeError, ValueError, KeyError):
            continue
        for _ in range(int(rng.integers(1, 6))):
            op = rng.integers(5)
            arg = values[rng.integers(len(values))]
            try:
                if op == 0:
                    env.reset(seed=arg)
                elif op == 1:
                    env.reset()
                elif op == 2:
                    env.step(arg)
                elif op == 3:
                    env.close()
                else:
                    env._render_text()
            except (TypeError, ValueError, KeyError, RuntimeError):
                pass


def test_a_vector_is_initialised_once():
    vec = prism.make_vec("CartPole-v1", 2, seed=0)
    with pytest.raises(RuntimeError, match="once"):
        vec.__init__("CartPole-v1", 4)
    assert vec.num_envs == 2 and vec.reset()[0].shape == (2, 4)
