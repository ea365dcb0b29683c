"""pip install --no-build-isolation ./python: the package prism with its extension prism._core.

The extension links the position-independent library build/pic/libprism.a, built here by the
project's Makefile (`make build/pic/libprism.a`) when it is missing or stale. A pip that
builds in an isolated environment would fetch setuptools from the network;
--no-build-isolation uses the installed one (Debian: python3-setuptools), so nothing is
downloaded. docs/python.md has the commands.
"""

import os
import subprocess
import sysconfig

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIBRARY = os.path.join(ROOT, "build", "pic", "libprism.a")


class BuildWithLibrary(build_ext):
    def run(self):
        jobs = str(os.cpu_count() or 1)
        subprocess.run(["make", "-C", ROOT, "-j" + jobs, "build/pic/libprism.a"], check=True)
        super().run()


def version():
    with open(os.path.join(ROOT, "include", "prism", "core.h")) as f:
        for line in f:
            if line.startswith("#define PRISM_VERSION"):
                return line.split('"')[1]
    raise RuntimeError("PRISM_VERSION not found in include/prism/core.h")


core = Extension(
    "prism._core",
    sources=sorted(os.path.join("src", f) for f in os.listdir(os.path.join(HERE, "src"))
                   if f.endswith(".c")),
    include_dirs=[os.path.join(ROOT, "include"), numpy.get_include(),
                  sysconfig.get_paths()["include"]],
    extra_compile_args=["-std=c11", "-D_GNU_SOURCE", "-ffp-contract=off"],
    extra_objects=[LIBRARY],
    libraries=["openblas", "sqlite3", "box2d", "stdc++", "m", "pthread"],
)

setup(
    name="prism-rl",
    version=version(),
    description="prism's environments, training and run archive from Python",
    packages=["prism"],
    ext_modules=[core],
    cmdclass={"build_ext": BuildWithLibrary},
    python_requires=">=3.9",
    install_requires=["numpy"],
)
