#!/usr/bin/env bash
# Throughput benchmarks. Numbers are reported, never asserted by tests.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== environments (steps/s)"
build/prism bench env
build/prism bench env --json
