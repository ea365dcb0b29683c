"""Shared fixtures: the CLI binary the bit-identity tests compare against."""

import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def prism_bin():
    path = os.environ.get("PRISM_BIN", os.path.join(ROOT, "build", "prism"))
    if not os.path.exists(path):
        pytest.skip(f"no prism binary at {path} (run make first)")
    return os.path.abspath(path)
