#!/usr/bin/python3
"""Regenerate tests/fixtures/*_libm_states.jsonl.gz: Gymnasium's CartPole-v1 and Acrobot-v1
steps with numpy's cos/sin replaced by libm's (math.cos/math.sin).

Why: on an AVX-512 machine numpy evaluates float64 cos/sin with Intel SVML kernels whose last
bit differs from glibc's for some arguments, so the reference traces can only be matched
to within a few units in the last place. With the trigonometry pinned to libm, the rest of the
reference arithmetic (operation order, RK4 grouping, wrapping, clipping) must agree with prism
bit for bit, and these fixtures check that exactly.

Inputs: the state_step records of tests/fixtures/reference/<env>_states_seed0_300.jsonl.gz
and every transition of <env>_seed0_2000.jsonl.gz (from the previous record's state).
Usage: PYTHONPATH=<a Gymnasium 1.4.0 checkout> /usr/bin/python3 scripts/gen_libm_fixtures.py
"""
import gzip
import json
import math
import os

import numpy as np

import gymnasium.envs.classic_control.acrobot as acrobot
import gymnasium.envs.classic_control.cartpole as cartpole

acrobot.cos, acrobot.sin = math.cos, math.sin


class NumpyWithLibmTrig:
    def __getattr__(self, key):
        return getattr(np, key)


cartpole.np = NumpyWithLibmTrig()
cartpole.np.cos, cartpole.np.sin = math.cos, math.sin

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(ROOT, "tests", "fixtures", "reference")


def inputs(name):
    for line in gzip.open(os.path.join(REF, f"{name}_states_seed0_300.jsonl.gz")):
        r = json.loads(line)
        if r["type"] == "state_step":
            yield r["state_in"], r["action"]
    prev = None
    for line in gzip.open(os.path.join(REF, f"{name}_seed0_2000.jsonl.gz")):
        r = json.loads(line)
        if r["type"] == "step":
            yield prev, r["action"]
        if "state" in r:
            prev = r["state"]


for name, cls in (("cartpole-v1", cartpole.CartPoleEnv), ("acrobot-v1", acrobot.AcrobotEnv)):
    env = cls()
    env.reset(seed=0)
    out = os.path.join(ROOT, "tests", "fixtures", f"{name}_libm_states.jsonl.gz")
    with gzip.open(out, "wt") as f:
        f.write(json.dumps({"type": "meta", "env": env.spec.id if env.spec else name,
                            "note": "Gymnasium 1.4.0 with math.cos/math.sin in place of numpy's"}) + "\n")
        for i, (state_in, action) in enumerate(inputs(name)):
            env.state = np.array(state_in, dtype=np.float64)
            if hasattr(env, "steps_beyond_terminated"):
                env.steps_beyond_terminated = None
            obs, reward, terminated, _, _ = env.step(action)
            f.write(json.dumps({"type": "state_step", "i": i, "state_in": state_in, "action": action,
                                "state": [float(v) for v in env.state], "obs": [float(v) for v in obs],
                                "reward": float(reward), "terminated": bool(terminated)}) + "\n")
    print(out)
