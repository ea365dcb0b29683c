"""Environment steps per second from Python (run by bench/run.sh after `make python`).

Times with this thread's CPU time, so other processes on a shared machine stay out of the
figure. Measures: single-environment step() (a Python loop with reset on episode end), and a
256-copy vector stepped with numpy int64 actions (pre-drawn random rows, so drawing them is not
timed) in both autoreset modes. Gymnasium's CartPole and SyncVectorEnv are measured beside them
when gymnasium is importable.

    PYTHONPATH=build/python python3 bench/python_env.py [--seconds S] [--env ID]
"""

import argparse
import time

import numpy as np

import prism


def rate(step_block, seconds):
    """Steps per second of step_block() (which returns the steps it took), best of 3."""
    best = 0.0
    for _ in range(3):
        steps, start = 0, time.thread_time()
        while True:
            steps += step_block()
            elapsed = time.thread_time() - start
            if elapsed >= seconds / 3:
                break
        best = max(best, steps / elapsed)
    return best


def single(make, env_id, seconds):
    env = make(env_id)
    env.reset(seed=0)
    n_actions = env.action_space.n
    actions = np.random.default_rng(0).integers(0, n_actions, size=4096).tolist()
    step = env.step
    reset = env.reset

    def block():
        for a in actions:
            _, _, terminated, truncated, _ = step(a)
            if terminated or truncated:
                reset()
        return len(actions)

    return rate(block, seconds)


def vector(env, num_envs, n_actions, seconds):
    env.reset(seed=0)
    rows = list(np.random.default_rng(0).integers(0, n_actions, size=(64, num_envs)))
    step = env.step

    def block():
        for row in rows:
            step(row)
        return len(rows) * num_envs

    return rate(block, seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--num-envs", type=int, default=256)
    args = parser.parse_args()
    n_actions = prism.make(args.env).action_space.n
    print(f"{args.env}, steps/s per core (thread CPU time)")
    print(f"  prism single env step()        {single(prism.make, args.env, args.seconds):14,.0f}")
    for mode in ("next_step", "same_step"):
        vec = prism.make_vec(args.env, args.num_envs, seed=0, autoreset_mode=mode)
        r = vector(vec, args.num_envs, n_actions, args.seconds)
        print(f"  prism vector x{args.num_envs} {mode:<10}   {r:14,.0f}")
    try:
        import gymnasium
    except ImportError:
        print("  gymnasium: not installed here (no Gymnasium figures)")
        return
    gym_id = args.env
    print(f"  gymnasium single env step()    {single(gymnasium.make, gym_id, args.seconds):14,.0f}")
    sync = gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make(gym_id)] * args.num_envs)
    r = vector(sync, args.num_envs, n_actions, args.seconds)
    print(f"  gymnasium SyncVectorEnv x{args.num_envs}   {r:14,.0f}")


if __name__ == "__main__":
    main()
