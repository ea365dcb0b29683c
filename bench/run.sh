#!/usr/bin/env bash
# Throughput benchmarks. Numbers are reported, never asserted by tests.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== environments (steps/s)"
build/prism bench env --json
echo "== replay memory (adds/s, sampled batches/s, priority updates/s)"
build/prism bench replay
echo "== this core's arithmetic peak (FP32 FMA, BF16 dot products; GFLOP/s)"
build/prism bench peak
echo "== neural networks (update us, GFLOP/s vs sgemm, batch-1 action latency)"
build/prism bench nn
echo "== training (us per env step and per update, act/learn split, FLOP floor)"
build/prism bench train
if [ -f build/python/prism/_core.so ]; then
    echo "== Python (steps/s from Python; make python builds it)"
    PYTHONPATH=build/python "$(sh python/find_python.sh)" bench/python_env.py
fi
