"""Registration in Gymnasium's registry, checked against a stand-in gymnasium module (gymnasium
is not a Debian package): every environment is registered under prism/ with an entry point that
builds it, and importing prism twice registers nothing twice."""

import importlib
import os
import subprocess
import sys

STUB = '''
registry = {}
calls = []

def register(id, entry_point, vector_entry_point=None, kwargs=None):
    if id in registry:
        raise ValueError("registered twice: " + id)
    registry[id] = (entry_point, vector_entry_point, kwargs)
    calls.append(id)
'''

CHECK = '''
import importlib, gymnasium, prism
assert prism.register_gymnasium() == 0            # already done by the import
assert sorted(gymnasium.registry) == sorted("prism/" + i for i in prism.env_ids())
for name, (entry, vector_entry, kwargs) in gymnasium.registry.items():
    module, attr = entry.split(":")
    env = getattr(importlib.import_module(module), attr)(**kwargs)
    obs, _ = env.reset(seed=0)
    assert obs in env.observation_space and env.spec.id == name
    module, attr = vector_entry.split(":")
    vec = getattr(importlib.import_module(module), attr)(num_envs=2, **kwargs)
    assert vec.reset(seed=0)[0].shape[0] == 2
print("registered", len(gymnasium.registry))
'''


def test_every_environment_registers_with_a_working_entry_point(tmp_path):
    (tmp_path / "gymnasium").mkdir()
    (tmp_path / "gymnasium" / "__init__.py").write_text(STUB)
    paths = [str(tmp_path)] + [p for p in sys.path if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"registered {len(importlib.import_module('prism').env_ids())}"
