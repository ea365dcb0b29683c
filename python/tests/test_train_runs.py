"""prism.train runs what `prism train` runs (bit-identical metrics and episodes for the same
seed); Ctrl-C stops it as it stops the CLI; the archive reads back through prism's readers."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import prism

SETTINGS = {"train.iteration_steps": 500, "agent.min_replay": 200, "agent.hidden": (64, 64)}


def deterministic_columns(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    keep = [i for i, name in enumerate(rows[0]) if not name.startswith("sys_")]
    return [[row[i] for i in keep] for row in rows]


def test_train_is_bit_identical_to_the_cli(tmp_path, prism_bin):
    runs_dir = tmp_path / "runs"
    run = prism.train("CartPole-v1", agent="rainbow", seed=4, steps=1000, runs_dir=runs_dir,
                      run_id="py", **SETTINGS)
    assert run.status == "completed" and isinstance(run, prism.Run)
    cmd = [prism_bin, "train", "CartPole-v1", "--agent", "rainbow", "--seed", "4", "--steps",
           "1000", "--runs-dir", str(runs_dir), "--run-id", "cli", "--quiet"]
    for key, value in SETTINGS.items():
        text = ",".join(map(str, value)) if isinstance(value, tuple) else value
        cmd += ["--set", f"{key}={text}"]
    subprocess.run(cmd, check=True, capture_output=True)
    for name in ("metrics.csv", "episodes.csv", "config.ini"):
        ours = runs_dir / "py" / name
        theirs = runs_dir / "cli" / name
        if name == "config.ini":
            assert ours.read_bytes() == theirs.read_bytes()
        else:
            assert deterministic_columns(ours) == deterministic_columns(theirs)
            assert len(deterministic_columns(ours)) > 2
    # the archived command line is the CLI's equivalent
    argv = json.loads((runs_dir / "py" / "run.json").read_text())["argv"]
    assert argv[:3] == ["prism", "train", "CartPole-v1"] and "--set" in argv
    # a different seed is a different run
    other = prism.train("CartPole-v1", agent="rainbow", seed=5, steps=1000, runs_dir=runs_dir,
                        run_id="py5", **SETTINGS)
    assert deterministic_columns(runs_dir / "py5" / "episodes.csv") != deterministic_columns(
        runs_dir / "py" / "episodes.csv")
    assert other.seed == 5


def test_run_reads_back(tmp_path):
    runs_dir = tmp_path / "runs"
    run = prism.train("CartPole-v1", agent="dqn", seed=1, steps=1000, runs_dir=runs_dir,
                      run_id="a", agent_lr=5e-4, **SETTINGS)
    m = run.metrics
    assert m.dtype.names[:2] == ("iteration", "env_steps") and len(m) == 2
    assert list(m["iteration"]) == [1.0, 2.0]
    with open(runs_dir / "a" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert m["return_mean"][1] == pytest.approx(float(rows[1]["return_mean"]), rel=1e-9)
    ep = run.episodes
    assert len(ep) > 10 and ep["return"].sum() == pytest.approx(run.meta["steps"], abs=600)
    cfg = run.config
    assert cfg["agent.lr"] == 5e-4 and cfg["seed"] == 1 and cfg["env"] == "CartPole-v1"
    agent = run.agent()
    obs, _ = prism.make("CartPole-v1").reset(seed=0)
    assert agent.act(obs) in (0, 1) and agent.num_actions == 2 and agent.obs_size == 4
    batch = agent.act(np.stack([obs] * 5))
    assert batch.shape == (5,) and len(set(batch.tolist())) == 1
    with pytest.raises(prism.InvalidArgumentError):
        agent.act(np.zeros(3))
    prism.train("Acrobot-v1", agent="dqn", seed=2, steps=500, runs_dir=runs_dir, run_id="b",
                **SETTINGS)
    assert [r.id for r in prism.runs(runs_dir)] == ["a", "b"]
    assert [r.id for r in prism.runs(runs_dir, where="env=Acrobot-v1")] == ["b"]
    os.remove(runs_dir / "index.sqlite")  # the directories are the truth: scanned instead
    assert [r.id for r in prism.runs(runs_dir, where="seed=1")] == ["a"]
    with pytest.raises(prism.InvalidArgumentError, match="valid"):
        prism.runs(runs_dir, where="colour=red")


def test_to_pandas(tmp_path):
    pandas = pytest.importorskip("pandas")
    run = prism.train("CartPole-v1", agent="dqn", seed=1, steps=1000, runs_dir=tmp_path,
                      **SETTINGS)
    frame = run.to_pandas()
    assert isinstance(frame, pandas.DataFrame) and list(frame["iteration"]) == [1.0, 2.0]
    assert len(run.to_pandas("episodes")) == len(run.episodes)


def test_training_errors_carry_prism_messages(tmp_path):
    with pytest.raises(prism.InvalidArgumentError, match="agent.lr"):
        prism.train("CartPole-v1", agent="dqn", runs_dir=tmp_path, agent_lr="fast")
    with pytest.raises(prism.InvalidArgumentError, match="did you mean"):
        prism.train("CartPole-v1", agent="dqn", runs_dir=tmp_path, agent_lrr=1e-3)
    with pytest.raises(prism.NotFoundError, match="rainbow"):
        prism.train("CartPole-v1", agent="rainbw", runs_dir=tmp_path)
    with pytest.raises(prism.NotFoundError):
        prism.train("CartPol-v1", runs_dir=tmp_path)
    assert not any(tmp_path.iterdir())  # nothing archived for a configuration error


def test_damaged_archive_files(tmp_path):
    with pytest.raises(prism.NotFoundError):
        prism.Run(tmp_path / "nothing")
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{not json")
    with pytest.raises(prism.CorruptFileError) as e:
        prism.Run(run_dir)
    assert "run.json" in str(e.value)
    (run_dir / "run.json").write_text('{"status": "completed"}')
    run = prism.Run(run_dir)
    (run_dir / "metrics.csv").write_text("")
    with pytest.raises(prism.CorruptFileError, match="metrics.csv"):
        run.metrics
    with pytest.raises(prism.NotFoundError):
        run.config
    with pytest.raises(prism.NotFoundError):
        run.agent()


CTRL_C_SCRIPT = """
import sys, prism
try:
    prism.train("CartPole-v1", agent="dqn", seed=0, steps=10_000_000, runs_dir=sys.argv[1],
                run_id="stopped")
except prism.TrainingInterrupted as e:
    print("interrupted", e.run_dir, flush=True)
    sys.exit(3)
"""


def test_ctrl_c_stops_at_an_episode_end_and_archives(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C_SCRIPT, str(tmp_path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_json = tmp_path / "stopped" / "run.json"
    deadline = time.monotonic() + 60
    while not run_json.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, (out, err)
    assert "stopping at the end of this episode" in err
    run = prism.Run(tmp_path / "stopped")
    assert run.status == "interrupted"
    assert (tmp_path / "stopped" / "checkpoints" / "latest").exists()
