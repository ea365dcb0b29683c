"""prism.make_vec: Gymnasium 1.x autoreset in both modes, checked copy by copy against the
single environment; the same buffers every step and no allocation per step."""

import threading
import tracemalloc

import numpy as np
import pytest

import prism


def single_trace(env_id, seed, actions):
    """Copy 0 of a vector is seeded like a single env's reset(seed=seed): replay it alone."""
    env = prism.make(env_id)
    obs, _ = env.reset(seed=seed)
    out = []
    for a in actions:
        obs, r, te, tr, _ = env.step(int(a))
        final = obs
        if te or tr:
            obs, _ = env.reset()
        out.append((final, obs, r, te, tr))
    return out


@pytest.mark.parametrize("env_id", ["CartPole-v1", "breakout"])
def test_same_step_matches_the_single_env(env_id):
    n, steps, seed = 3, 400, 11
    rng = np.random.default_rng(1)
    actions = rng.integers(0, prism.make(env_id).action_space.n, size=(steps, n))
    ref = single_trace(env_id, seed, actions[:, 0])
    vec = prism.make_vec(env_id, n, seed=seed, autoreset_mode="same_step")
    obs, _ = vec.reset(seed=seed)
    ends = 0
    for t in range(steps):
        obs, rew, te, tr, info = vec.step(actions[t])
        final, first, r, rte, rtr = ref[t]
        assert (rew[0], te[0], tr[0]) == (r, rte, rtr)
        assert np.array_equal(obs[0], first)
        assert info["_final_obs"][0] == (rte or rtr)
        if rte or rtr:
            ends += 1
            assert np.array_equal(info["final_obs"][0], final)
    assert ends > 0


@pytest.mark.parametrize("env_id", ["CartPole-v1", "breakout"])
def test_next_step_matches_the_single_env(env_id):
    n, steps, seed = 2, 400, 5
    rng = np.random.default_rng(2)
    actions = rng.integers(0, prism.make(env_id).action_space.n, size=(steps, n))
    vec = prism.make_vec(env_id, n, seed=seed)
    assert vec.autoreset_mode == "next_step" and vec.metadata["autoreset_mode"] == "next_step"
    ref_env = prism.make(env_id)
    ref_obs, _ = ref_env.reset(seed=seed)
    obs, _ = vec.reset(seed=seed)
    assert np.array_equal(obs[0], ref_obs)
    pending, ends = False, 0
    for t in range(steps):
        obs, rew, te, tr, _ = vec.step(actions[t])
        if pending:  # the action is ignored: this step is the reset
            ref_obs, _ = ref_env.reset()
            assert (rew[0], te[0], tr[0]) == (0.0, False, False)
            pending = False
        else:
            ref_obs, r, rte, rtr, _ = ref_env.step(int(actions[t, 0]))
            assert (rew[0], te[0], tr[0]) == (r, rte, rtr)
            pending = rte or rtr
            ends += pending
        assert np.array_equal(obs[0], ref_obs)  # the final observation on the ending step
    assert ends > 0


def test_spaces_and_dtypes_of_the_vector():
    vec = prism.make_vec("CartPole-v1", 8, seed=0)
    obs, info = vec.reset()
    assert obs.shape == (8, 4) and obs.dtype == np.float32 and obs in vec.observation_space
    assert vec.single_observation_space.shape == (4,) and vec.single_action_space.n == 2
    assert vec.action_space.sample().shape == (8,)
    obs, rew, te, tr, info = vec.step(vec.action_space.sample())
    assert rew.dtype == np.float64 and te.dtype == np.bool_ and tr.dtype == np.bool_
    minatar = prism.make_vec("space_invaders", 2, seed=0)
    assert minatar.reset()[0].dtype == np.bool_


def test_copies_differ_and_seeds_repeat():
    a = prism.make_vec("CartPole-v1", 4, seed=3).reset()[0].copy()
    b = prism.make_vec("CartPole-v1", 4, seed=3).reset()[0].copy()
    assert np.array_equal(a, b) and len({row.tobytes() for row in a}) == 4


def test_the_same_buffers_every_step_and_no_allocation():
    vec = prism.make_vec("CartPole-v1", 256, seed=0)
    obs0, _ = vec.reset()
    actions = np.ones(256, dtype=np.int64)
    first = vec.step(actions)
    for _ in range(10):
        vec.step(actions)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(2000):
            result = vec.step(actions)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a per-step copy of obs alone would be 4 KiB; the loop's own int objects are a few bytes
    assert peak - before < 512, f"{peak - before} bytes allocated while stepping"
    assert after - before < 512
    assert result is first and result[0] is obs0
    assert result[0].ctypes.data == obs0.ctypes.data


def test_a_per_step_copy_would_be_seen():
    # the measurement above can fail: copying obs each step shows up in the peak
    vec = prism.make_vec("CartPole-v1", 256, seed=0)
    vec.reset()
    actions = np.ones(256, dtype=np.int64)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(10):
            vec.step(actions)[0].copy()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before >= 256 * 4 * 4


def test_other_integer_actions_are_accepted():
    vec = prism.make_vec("Acrobot-v1", 3, seed=0)
    vec.reset()
    for actions in ([0, 1, 2], np.array([2, 1, 0], np.int32), np.array([1, 1, 1], np.uint8),
                    np.arange(3)[::-1]):
        vec.step(actions)


def test_stepping_releases_the_gil():
    # Another thread can only see the vector busy while a step runs without the GIL.
    vec = prism.make_vec("LunarLander-v3", 256, seed=0)
    vec.reset()
    actions = np.zeros(256, np.int64)
    done = threading.Event()
    busy = [0]

    def other():
        while not done.is_set():
            try:
                vec.step(actions)
            except RuntimeError as e:
                assert "another thread" in str(e)
                busy[0] += 1

    t = threading.Thread(target=other)
    t.start()
    try:
        for _ in range(300):
            try:
                vec.step(actions)
            except RuntimeError:
                busy[0] += 1
    finally:
        done.set()
        t.join()
    assert busy[0] > 0
