#!/bin/bash
# tests/slurm/run.sh [WORKDIR] — `prism sweep --slurm` through a real single-node Slurm.
#
# Installs nothing. When slurmctld, slurmd, munged and the Slurm client tools are installed
# (Debian: apt-get install slurm-wlm munge), it writes a minimal slurm.conf for this host on
# 127.0.0.1 (private ports, state and logs under WORKDIR), starts its own munged (own key and
# socket), slurmctld and slurmd, submits a tiny sweep (2 agents x 1 env x 2 seeds, 2,000 steps
# each) with `prism sweep --slurm`, waits for the job array and the aggregation job, checks
# that every run completed and the report exists, and stops the daemons it started.
#
# Exit codes: 0 PASSED, 1 FAILED, 77 SKIPPED (Slurm is missing or could not be started here;
# the reason is printed). Run by `make test-slurm` and by the slow test sweep_slurm_for_real.
set -u

PRISM=$(realpath "${PRISM_BIN:-build/prism}")
BASE=${1:-$(mktemp -d /tmp/prism-slurm-XXXXXX)}
W=$(realpath "$BASE")/slurm
rm -rf "$W" && mkdir -p "$W"/state "$W"/spool "$W"/sweeps

skip() { echo "SKIPPED: $*"; exit 77; }
fail() {
    echo "FAILED: $*"
    for f in "$W"/slurmctld.log "$W"/slurmd.log; do
        [ -f "$f" ] && { echo "--- tail of $f"; tail -n 15 "$f"; }
    done
    exit 1
}

for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
    command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null 2>&1 ||
        skip "$tool is not installed (Debian packages slurm-wlm and munge)"
done
export PATH=$PATH:/usr/sbin
[ -x "$PRISM" ] || fail "no prism binary at $PRISM (build first)"

PIDS=()
cleanup() {
    # stop exactly the daemons started here, newest first
    # (they run in the foreground as children of this shell, so they are reaped here)
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[$i]}" 2>/dev/null; done
    for _ in $(seq 50); do
        alive=0
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -9 "${PIDS[$i]}" 2>/dev/null; done
    wait 2>/dev/null
}
trap cleanup EXIT

# munge: our own key and socket, so a system munged (if any) is left alone
dd if=/dev/urandom of="$W/munge.key" bs=1024 count=1 status=none
chmod 0400 "$W/munge.key"
# every daemon runs in the foreground as a child of this shell: its pid is known exactly
munged --foreground --force --key-file="$W/munge.key" --socket="$W/munge.sock" \
    --pid-file="$W/munged.pid" --log-file="$W/munged.log" --seed-file="$W/munged.seed" \
    >"$W/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$W/munge.sock" ] && break; sleep 0.1; done
[ -S "$W/munge.sock" ] || skip "munged did not start (see $W/munged.log)"

HOST=$(hostname -s)
NODE=$(slurmd -C 2>/dev/null | head -n 1 | sed 's/ RealMemory=[0-9]*//')
case "$NODE" in NodeName=*) ;; *) skip "slurmd -C could not describe this node" ;; esac
CPUS=$(echo "$NODE" | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')
cat >"$W/slurm.conf" <<EOF
# written by tests/slurm/run.sh: a single-node cluster on this host, for tests only
ClusterName=prismtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$W/munge.sock
CredType=cred/munge
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
$NODE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$W/slurm.conf

slurmctld -D -c -f "$SLURM_CONF" >"$W/slurmctld.out" 2>&1 &
PIDS+=($!)
sleep 1
kill -0 "${PIDS[-1]}" 2>/dev/null || skip "slurmctld would not start: $(tail -n 3 "$W/slurmctld.out")"
slurmd -D -f "$SLURM_CONF" >"$W/slurmd.out" 2>&1 &
PIDS+=($!)
sleep 1
kill -0 "${PIDS[-1]}" 2>/dev/null || skip "slurmd would not start: $(tail -n 3 "$W/slurmd.out")"

state=
for _ in $(seq 60); do
    state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1)
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "$state" = idle ] || skip "the Slurm node did not become idle (state '$state'; see $W/slurmd.log)"
echo "slurm: single node $HOST with $CPUS CPUs is up"

out=$("$PRISM" sweep --agents dqn,rainbow --envs CartPole-v0 --seeds 2 --slurm --max-parallel 2 \
    --sweeps-dir "$W/sweeps" --set agent.hidden=32 --set train.steps=2000 \
    --set train.iteration_steps=500 --set agent.min_replay=100 --set agent.num_atoms=11 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "prism sweep --slurm exited $rc"
report=$(echo "$out" | tail -n 1)
dir=$(dirname "$report")
jobs=$(echo "$out" | sed -n 's/^submitted array job \([0-9]*\).* report job \([0-9]*\).*/\1 \2/p')
[ -n "$jobs" ] || fail "no job ids in the output"
echo "jobs: $jobs"

for _ in $(seq 600); do
    [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
    sleep 0.5
done
[ -z "$(squeue -h -o %i)" ] || fail "jobs still queued after 5 minutes: $(squeue -h)"

n=0
for id in CartPole-v0-dqn-s0 CartPole-v0-rainbow-s0 CartPole-v0-dqn-s1 CartPole-v0-rainbow-s1; do
    if grep -q '"status": "completed"' "$dir/runs/$id/run.json" 2>/dev/null; then
        n=$((n + 1))
    else
        echo "run $id did not complete:"
        tail -n 5 "$dir/logs/$id.log" 2>/dev/null
    fi
done
[ $n -eq 4 ] || fail "$n of 4 runs completed"
[ -s "$report" ] || fail "no report at $report (the aggregation job's log: $(cat "$dir"/logs/slurm-report-*.out 2>/dev/null))"
grep -q '"status": "submitted"' "$dir/sweep.json" || fail "sweep.json does not say submitted"
echo "4 of 4 runs completed under Slurm; report $report"

# Phase 2: the pre-timeout signal. TERM to the batch shell (what --signal=B:TERM@120 sends
# before the time limit) must reach prism train, which checkpoints; the task fails, so the
# report job is cancelled as never runnable; `prism sweep --resume DIR --slurm` then continues
# the run from its checkpoint and the new report job writes the report.
out=$("$PRISM" sweep --agents dqn --envs CartPole-v0 --seeds 1 --slurm --sweeps-dir "$W/sweeps" \
    --name preempt --set agent.hidden=32 --set train.steps=100000 --set train.iteration_steps=1000 \
    --set agent.min_replay=100 --set train.checkpoint_seconds=0 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "prism sweep --slurm (phase 2) exited $rc"
dir=$(dirname "$(echo "$out" | tail -n 1)")
job=$(echo "$out" | sed -n 's/^submitted array job \([0-9]*\).*/\1/p')
run="$dir/runs/CartPole-v0-dqn-s0"
# signal as soon as the first iteration is written (prism train's handlers are installed by
# then); the run needs about 100 iterations, so it is still training when TERM lands
for _ in $(seq 1200); do
    [ -f "$run/metrics.csv" ] && [ "$(wc -l <"$run/metrics.csv")" -ge 2 ] && break
    sleep 0.1
done
[ -f "$run/metrics.csv" ] || fail "the phase 2 run never started"
scancel --batch --signal=TERM "${job}_0" || fail "scancel --batch --signal=TERM failed"
for _ in $(seq 240); do
    [ -z "$(squeue -h -o %i -j "$job" 2>/dev/null)" ] && break
    sleep 0.5
done
grep -q '"status": "interrupted"' "$run/run.json" || fail "after TERM the run is not interrupted: $(grep '"status"' "$run/run.json")"
[ -f "$run/checkpoints/latest" ] || fail "after TERM the run has no checkpoint"
echo "TERM reached prism train: run interrupted with a checkpoint"
out=$("$PRISM" sweep --resume "$dir" --slurm 2>&1)
echo "$out"
echo "$out" | grep -q "cancelled the previous report job" || fail "the old report job was not cancelled"
for _ in $(seq 600); do
    [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
    sleep 0.5
done
grep -q '"status": "completed"' "$run/run.json" || fail "the resubmitted run did not complete"
grep -q '"resumed": 1' "$run/run.json" || fail "the resubmitted run was not resumed from its checkpoint"
[ -s "$dir/report.html" ] || fail "no report after the resubmission"
echo "resubmitted: the run continued from its checkpoint and completed; report written"
echo PASSED
