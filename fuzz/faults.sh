#!/usr/bin/env bash
# fuzz/faults.sh — a fault-injection campaign against build/prism (docs/faults.md).
#
# Attacks the binary the way a bad day does: signals at random times (kills), damaged archive
# files (corrupt), two writers on one run or sweep (concurrent), hostile run ids, labels and
# Slurm options (names), and memory, file-descriptor, disk-space and read-only limits (limits).
# Every check prints one PASS or FAIL line; a FAIL says how to reproduce it. Ends with a table
# of counts per category and exits 1 when any check failed.
#
# Everything happens in a fresh temporary directory, removed at the end (FAULT_KEEP=1 keeps
# it). Random choices come from a generator seeded by FAULT_SEED and the category, so the
# same seed makes the same attacks (the moment a signal lands still depends on the machine;
# the checks are written so that any moment must pass).
#
# Knobs (environment): FAULT_ROUNDS (default 6: about 5 minutes on 2 cores), FAULT_SEED
# (default 1), FAULT_CATEGORIES (default kills,corrupt,concurrent,names,limits),
# FAULT_TIMEOUT (seconds a reader may take, default 20), PRISM (default build/prism).
# Not done: it does not attack the TensorBoard event files (tests/test_archive.c does) and
# it does not look for files created outside its directory except a PWNED file in /tmp or $HOME.
set -u
shopt -s nullglob

ROUNDS=${FAULT_ROUNDS:-6}
SEED=${FAULT_SEED:-1}
CATEGORIES=${FAULT_CATEGORIES:-kills,corrupt,concurrent,names,limits}
TMO=${FAULT_TIMEOUT:-20}
PRISM=$(readlink -f "${PRISM:-build/prism}")
[ -x "$PRISM" ] || {
    echo "faults: no prism binary at ${PRISM:-build/prism}: run make first" >&2
    exit 2
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/prism-faults.XXXXXX")
MOUNTS=()
STARTED=() # pids of background processes this script started (killed at exit if still alive)

cleanup() {
    local p m
    for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
    if [ "${FAULT_KEEP:-0}" = 1 ]; then echo "faults: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- random choices: a 64-bit LCG in a global (no subshells, so the stream is reproducible)
RNG=0
seed_category() { # seed_category NAME
    local h=$SEED i
    for ((i = 0; i < ${#1}; i++)); do h=$((h * 31 + $(printf '%d' "'${1:i:1}"))); done
    RNG=$((h & 0x7fffffffffffffff))
}
draw() { # draw N: R = a number in 0..N-1
    RNG=$(((RNG * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff))
    R=$(((RNG >> 20) % $1))
}
choose() { # choose WORD...: R = one of the words
    draw $#
    local a=("$@")
    R=${a[$R]}
}

# ---- results
declare -A NPASS NFAIL NSKIP
CAT=""
REPRO=""
pass() {
    NPASS[$CAT]=$((${NPASS[$CAT]:-0} + 1))
    echo "PASS $CAT $1"
}
skip() {
    NSKIP[$CAT]=$((${NSKIP[$CAT]:-0} + 1))
    echo "SKIP $CAT $1"
}
fail() { # fail DESCRIPTION [DETAIL]: the last command run by `run` is the one to reproduce
    NFAIL[$CAT]=$((${NFAIL[$CAT]:-0} + 1))
    echo "FAIL $CAT $1"
    [ -n "${2:-}" ] && echo "  detail: $2"
    echo "  command: (cd $LASTDIR && $LASTCMD)"
    [ -s "$ERRF" ] && echo "  stderr: $(head -c 600 "$ERRF" | tr '\n' ' ')"
    echo "  reproduce: $REPRO"
}
check() { # check CONDITION-STATUS DESCRIPTION [DETAIL]
    if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2" "${3:-}"; fi
}

# ---- running prism
OUTF=$WORK/out
ERRF=$WORK/err
LASTCMD=""
LASTDIR=""
RC=0
run() { # run ARGS...: prism ARGS in the current directory under the reader timeout; sets RC
    LASTCMD="timeout $TMO $(printf '%q ' "$PRISM" "$@")"
    LASTDIR=$PWD
    timeout -k 5 "$TMO" "$PRISM" "$@" >"$OUTF" 2>"$ERRF" </dev/null
    RC=$?
}
start() { # start ARGS...: prism ARGS in the background; sets PID
    LASTCMD="$(printf '%q ' "$PRISM" "$@")"
    LASTDIR=$PWD
    "$PRISM" "$@" >"$OUTF" 2>"$ERRF" </dev/null &
    PID=$!
    STARTED+=("$PID")
}
finish() { # finish: wait for PID; sets RC
    wait "$PID" 2>/dev/null
    RC=$?
}
clean_exit() { # clean_exit [BASELINE-RC]: 0 when RC is 0/1/2 (and, when it differs from the
    # baseline, non-zero with a message on stderr); describes the problem in WHY otherwise
    WHY=""
    if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
        WHY="no answer within ${TMO}s (exit $RC)"
    elif [ "$RC" -ge 128 ]; then
        WHY="killed by signal $((RC - 128)) (exit $RC)"
    elif [ "$RC" -gt 2 ]; then
        WHY="exit $RC (0, 1 or 2 expected)"
    elif [ "$RC" -ne 0 ] && [ "$RC" -ne "${1:-0}" ] && [ ! -s "$ERRF" ]; then
        WHY="exit $RC without a message on stderr"
    fi
    [ -z "$WHY" ]
}

# ---- files and runs
# a small network, a checkpoint after every 300-step iteration (as tests/test_resume.c)
SMALL_SET=(--set agent.hidden=16 --set agent.min_replay=100 --set agent.batch_size=16
    --set train.iteration_steps=300 --set train.checkpoint_every=1
    --set train.checkpoint_seconds=0 --set train.eval_episodes=1)
TRAIN_SMALL=("${SMALL_SET[@]}" --quiet)
rewind_run() { # rewind_run RUNDIR CKPT: as if the run had stopped at CKPT (a completed run's
    # resume does nothing at all, so the status goes back to interrupted too)
    echo "$2" >"$1/checkpoints/latest" &&
        sed -i 's/^\( *"status": \)"completed"/\1"interrupted"/' "$1/run.json"
}
status_of() { # status_of RUNDIR: the run.json status (empty when unreadable)
    sed -n 's/^ *"status": "\([a-z]*\)".*/\1/p' "$1/run.json" 2>/dev/null | head -1
}
strip_sys() { # strip_sys CSV: the file without its sys_ columns (as tests/test_resume.c does)
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) keep[i] = ($i !~ /^sys_/) }
             { s = ""; for (i = 1; i <= NF; i++) if (keep[i]) s = s (s == "" ? "" : ",") $i; print s }' "$1"
}
same_data() { # same_data RUN REF: 0 when metrics.csv (sys_ aside) and episodes.csv are identical
    WHY=""
    cmp -s <(strip_sys "$1/metrics.csv") <(strip_sys "$2/metrics.csv") || WHY="metrics.csv differs from the uninterrupted run $2"
    cmp -s "$1/episodes.csv" "$2/episodes.csv" || WHY="${WHY:+$WHY; }episodes.csv differs from $2"
    [ -z "$WHY" ]
}
csv_consistent() { # csv_consistent FILE...: every line has the header's number of fields
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        awk -F, 'NR == 1 { n = NF } NF != n || /\r/ { bad = 1 } END { exit bad }' "$f" || return 1
    done
}
orphan_temps() { # orphan_temps DIR: the temporary files of atomic writes left behind
    find "$1" -name '*.tmp*' 2>/dev/null
}
index_status() { # index_status RUNSDIR ID: the status the index holds for ID
    sqlite3 -readonly "$1/index.sqlite" "SELECT status FROM runs WHERE id = '${2//\'/\'\'}'" 2>/dev/null
}
fingerprint() { # fingerprint DIR...: checksums of every file under DIR (locks aside)
    find "$@" -type f ! -name .lock ! -name 'index.sqlite*' -print0 2>/dev/null | sort -z |
        xargs -0 -r md5sum 2>/dev/null
}

# One uninterrupted run per configuration, trained once and reused as the reference.
reference() { # reference ENV AGENT STEPS: sets REF to the run directory
    REF=$WORK/ref/runs/$1-$2-$3
    [ -f "$REF/run.json" ] && return
    (cd "$WORK/ref" && "$PRISM" train "$1" --agent "$2" --seed 7 --steps "$3" "${TRAIN_SMALL[@]}" \
        --set train.checkpoint_keep=40 --runs-dir runs --run-id "$1-$2-$3" >/dev/null 2>&1)
}

# The `kills` resume loop: resume RUN until completed, signalling again when asked.
resume_to_end() { # resume_to_end RUNDIR ENV AGENT STEPS: RC of the last attempt
    local dir=$1 tries=0
    while [ "$(status_of "$dir")" != completed ] && [ $tries -lt 6 ]; do
        tries=$((tries + 1))
        if [ ! -f "$dir/checkpoints/latest" ]; then
            # killed before the first checkpoint: documented as "start it again"
            run train --resume "$dir"
            clean_exit 2 && [ "$RC" -eq 2 ] || fail "resume without a checkpoint is refused with exit 2" "$WHY"
            rm -rf "$dir"
            start train "$2" --agent "$3" --seed 7 --steps "$4" "${TRAIN_SMALL[@]}" \
                --set train.checkpoint_keep=40 --runs-dir "${dir%/*}" --run-id "${dir##*/}"
        else
            start train --resume "$dir"
        fi
        draw 3
        if [ "$R" -eq 0 ]; then # a second interruption, during the resumed run
            draw 1500
            sleep "$(printf '0.%03d' "$R")"
            kill -KILL "$PID" 2>/dev/null
        fi
        finish
    done
}

# ============================================================================ kills
send() { # send SIG PID: SIG is KILL, INT, TERM or TERM2 (two TERMs 50 ms apart)
    case $1 in
    TERM2) kill -TERM "$2" 2>/dev/null && sleep 0.05 && kill -TERM "$2" 2>/dev/null ;;
    *) kill "-$1" "$2" 2>/dev/null ;;
    esac
}
kill_train() { # kill_train ENV AGENT STEPS SIG
    local env=$1 agent=$2 steps=$3 sig=$4 id dir
    reference "$env" "$agent" "$steps"
    id=k$ROUND-$env-$agent-$sig
    dir=$WORK/k/runs/$id
    cd "$WORK/k" || return
    start train "$env" --agent "$agent" --seed 7 --steps "$steps" "${TRAIN_SMALL[@]}" \
        --set train.checkpoint_keep=40 --runs-dir runs --run-id "$id"
    draw 1500
    sleep "$(printf '%d.%03d' $(((R + 200) / 1000)) $(((R + 200) % 1000)))"
    send "$sig" "$PID"
    finish
    local what="$agent on $env, SIG$sig after $(((R + 200)))ms"
    if [ "$sig" != KILL ]; then
        clean_exit
        check $? "$what: the interrupted run exits 0/1" "$WHY"
        local st
        st=$(status_of "$dir")
        [ "$st" = interrupted ] || [ "$st" = completed ]
        check $? "$what: run.json status is interrupted or completed (is '$st')"
    fi
    resume_to_end "$dir" "$env" "$agent" "$steps"
    [ "$RC" -eq 0 ] && [ "$(status_of "$dir")" = completed ]
    check $? "$what: resumed to completion (exit $RC, status $(status_of "$dir"))"
    same_data "$dir" "$REF"
    check $? "$what: metrics.csv and episodes.csv identical to the uninterrupted run" "$WHY"
    local tmps
    tmps=$(orphan_temps "$dir")
    [ -z "$tmps" ]
    check $? "$what: no orphan temporary files" "$tmps"
    [ "$(index_status "$WORK/k/runs" "$id")" = completed ]
    check $? "$what: the index says completed"
}

sweep_args() { # the small sweep of the kills and corrupt categories
    SWEEP=(--agents dqn,rainbow --envs CartPole-v0 --seeds 2 --steps 4500 "${SMALL_SET[@]}"
        --set train.checkpoint_keep=40 -j 2 --no-report)
}
ref_sweep() { # sets REFSWEEP to a completed, uninterrupted sweep directory
    REFSWEEP=("$WORK"/ref/sweeps/ref-*)
    [ ${#REFSWEEP[@]} -gt 0 ] && { REFSWEEP=${REFSWEEP[0]}; return; }
    sweep_args
    (cd "$WORK/ref" && "$PRISM" sweep "${SWEEP[@]}" --sweeps-dir sweeps --name ref >/dev/null 2>&1)
    REFSWEEP=("$WORK"/ref/sweeps/ref-*)
    REFSWEEP=${REFSWEEP[0]}
}
survivors() { # survivors DIR: pids of processes whose command line names DIR
    pgrep -f -- "$1" | grep -vx "$$" || true
}
kill_sweep() { # kill_sweep SIG
    local sig=$1 name=ks$ROUND$1 dir what left
    ref_sweep
    sweep_args
    cd "$WORK/k" || return
    start sweep "${SWEEP[@]}" --sweeps-dir sweeps --name "$name"
    # the signal lands while runs are in progress: wait for the first child, then up to 0.5 s
    local i
    for ((i = 0; i < 100; i++)); do
        [ -n "$(survivors "sweeps/$name-")" ] && break
        sleep 0.1
    done
    draw 500
    sleep "$(printf '0.%03d' "$R")"
    what="sweep, SIG$sig ${R}ms after its first run started"
    # the children alive when the sweep dies must follow it: each is sent SIGTERM when its
    # parent dies, saves a checkpoint at the end of its episode and exits (10 s is ample)
    local children
    children=$(survivors "sweeps/$name-")
    send "$sig" "$PID"
    finish
    children="$children $(survivors "sweeps/$name-")"
    dir=$(echo "$WORK"/k/sweeps/"$name"-*)
    local p left="" t
    for ((t = 0; t < 100; t++)); do
        left=""
        for p in $(printf '%s\n' $children | sort -u); do kill -0 "$p" 2>/dev/null && left="$left $p"; done
        [ -z "$left" ] && break
        sleep 0.1
    done
    [ -z "$left" ]
    check $? "$what: no child of the sweep survives it" "still running 10 s later:$left"
    for p in $left; do kill -KILL "$p" 2>/dev/null; done
    sleep 0.2
    run sweep --resume "$dir" -j 2 --no-report
    [ "$RC" -eq 0 ]
    check $? "$what: sweep --resume completes (exit $RC)"
    local r bad=""
    for r in "$REFSWEEP"/runs/*/; do
        r=${r%/}
        [ "$(status_of "$dir/runs/${r##*/}")" = completed ] && same_data "$dir/runs/${r##*/}" "$r" ||
            bad="$bad ${r##*/}"
    done
    [ -z "$bad" ]
    check $? "$what: every run completed and identical to the uninterrupted sweep" "differ:$bad"
}

category_kills() {
    mkdir -p "$WORK/k"
    local sigs=(KILL KILL INT TERM TERM2) agents=(dqn rainbow dqn+prioritized rainbow-noisy)
    for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
        choose "${agents[@]}"
        local agent=$R
        choose "${sigs[@]}"
        kill_train CartPole-v0 "$agent" 3000 "$R"
    done
    kill_train breakout dqn 4000 KILL
    kill_sweep KILL
    kill_sweep HUP
}

# ============================================================================ corrupt
# A victim run (trained with every checkpoint kept, latest pointed back to an earlier one so a
# resume has work to do), a bystander run, and a completed sweep are copied fresh for every
# attack.
mutate() { # mutate FILE KIND
    local f=$1 size
    size=$(stat -Lc %s "$f" 2>/dev/null || echo 0)
    case $2 in
    truncate)
        draw $((size > 0 ? size : 1))
        truncate -s "$R" "$f"
        MUT="truncate to $R of $size bytes"
        ;;
    bitflip)
        draw $((size > 0 ? size : 1))
        local off=$R
        draw 8
        local byte
        byte=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
        printf "$(printf '\\%03o' $(((${byte:-0} ^ (1 << R)) & 255)))" |
            dd of="$f" bs=1 seek="$off" conv=notrunc status=none
        MUT="flip bit $R of byte $off"
        ;;
    crlf) sed -i 's/$/\r/' "$f" && MUT="CRLF line endings" ;;
    cr) tr '\n' '\r' <"$f" >"$f.x" && mv "$f.x" "$f" && MUT="CR line endings" ;;
    fifo) rm -rf "$f" && mkfifo "$f" && MUT="a FIFO" ;;
    devzero) rm -rf "$f" && ln -s /dev/zero "$f" && MUT="a symlink to /dev/zero" ;;
    empty) : >"$f" && MUT="an empty file" ;;
    dir) rm -rf "$f" && mkdir "$f" && MUT="a directory" ;;
    none) MUT="undamaged" ;;
    esac
}
corrupt_fixture() {
    [ -d "$WORK/c/pristine" ] && return
    mkdir -p "$WORK/c/pristine"
    (cd "$WORK/c/pristine" &&
        for id in victim bystander; do
            "$PRISM" train CartPole-v0 --agent rainbow --seed 7 --steps 3000 "${TRAIN_SMALL[@]}" \
                --set train.checkpoint_keep=40 --runs-dir runs --run-id "$id" >/dev/null 2>&1
        done)
    ref_sweep
}
readers_run() { # readers_run COPY TARGET: every reader of a run archive, each checked
    local copy=$1 target=$2 what=$3 base
    local -a readers=("train --resume runs/victim" "runs ls --runs-dir runs"
        "runs show victim --runs-dir runs" "runs reindex --runs-dir runs"
        "report runs -o rep/report.html" "doctor runs/victim" "eval runs/victim --episodes 1")
    local -A baseline=([doctor]=1)
    local reader
    for reader in "${readers[@]}"; do
        cd "$copy" || return
        mkdir -p rep
        # shellcheck disable=SC2086 # the reader strings are fixed words
        run $reader
        base=${baseline[${reader%% *}]:-0}
        if ! clean_exit "$base"; then
            fail "$what: $reader exits cleanly" "$WHY"
        elif [ "$RC" -ne 0 ] && [ "$RC" -ne "$base" ] &&
            ! grep -qF -e "${target##*/}" -e "victim" "$ERRF"; then
            fail "$what: $reader names the damaged file" "exit $RC"
        elif [ "${reader%% *}" = train ] && [ "$RC" -eq 0 ] && [ "$COMPARE" = 1 ] &&
            ! { [ "$(status_of runs/victim)" = completed ] && same_data runs/victim "$WORK/c/pristine/runs/victim"; }; then
            fail "$what: $reader either refuses or produces the uninterrupted run's data" "$WHY status $(status_of runs/victim)"
        else
            pass "$what: $reader (exit $RC)"
        fi
    done
}
corrupt_run() { # corrupt_run N TARGET KIND
    local copy=$WORK/c/$1 target=$2 kind=$3 before after
    rm -rf "$copy" && cp -a "$WORK/c/pristine" "$copy"
    draw 8
    rewind_run "$copy/runs/victim" "$(printf 'ckpt-%d.bin' $((R + 2)))"
    local file=$copy/runs/$target
    [ "$target" = checkpoint ] && file=$copy/runs/victim/checkpoints/$(cat "$copy/runs/victim/checkpoints/latest")
    mutate "$file" "$kind"
    # CSVs and config.ini carry no checksum: a flipped bit there cannot be noticed, only
    # missing or misread data can
    COMPARE=1
    case $target:$kind in victim/config.ini:bitflip | *.csv:bitflip | *.csv:crlf | *.csv:cr) COMPARE=0 ;; esac
    before=$(fingerprint "$copy/runs/bystander")
    readers_run "$copy" "$file" "${target} as $MUT"
    after=$(fingerprint "$copy/runs/bystander")
    [ "$before" = "$after" ]
    check $? "${target} as $MUT: the other run's files are unchanged"
    cd "$WORK" && rm -rf "$copy"
}
corrupt_sweep() { # corrupt_sweep N TARGET KIND
    local copy=$WORK/c/$1 kind=$3 before after what
    rm -rf "$copy" && mkdir -p "$copy" && cp -a "$REFSWEEP" "$copy/s"
    rm -f "$copy/s/.lock"
    mutate "$copy/s/$2" "$kind"
    what="sweep $2 as $MUT"
    before=$(fingerprint "$copy/s/runs")
    cd "$copy" || return
    run sweep --resume s -j 2 --no-report
    clean_exit && { [ "$RC" -eq 0 ] || grep -qF -e "$2" -e "s/" "$ERRF"; }
    check $? "$what: sweep --resume exits cleanly naming the file (exit $RC)" "$WHY"
    run runs ls --runs-dir s/runs
    clean_exit
    check $? "$what: runs ls (exit $RC)" "$WHY"
    after=$(fingerprint "$copy/s/runs")
    [ "$before" = "$after" ]
    check $? "$what: the completed runs' files are unchanged"
    cd "$WORK" && rm -rf "$copy"
}
category_corrupt() {
    corrupt_fixture
    local targets=(victim/run.json victim/config.ini victim/metrics.csv victim/episodes.csv
        checkpoint victim/checkpoints/latest index.sqlite manifest.tsv sweep.json)
    local kinds=(truncate bitflip crlf cr fifo devzero empty dir) n=0 target kind
    # the undamaged copy first: every reader must succeed there, or the attacks prove nothing
    corrupt_run 0 victim/run.json none
    for ((ROUND = 1; ROUND <= ROUNDS * 4; ROUND++)); do
        choose "${targets[@]}"
        target=$R
        choose "${kinds[@]}"
        kind=$R
        n=$((n + 1))
        case $target in
        manifest.tsv | sweep.json) corrupt_sweep $n "$target" "$kind" ;;
        *) corrupt_run $n "$target" "$kind" ;;
        esac
    done
}

# ============================================================================ concurrent
category_concurrent() {
    corrupt_fixture
    local copy=$WORK/w a b rca rcb
    for ((ROUND = 1; ROUND <= (ROUNDS + 1) / 2; ROUND++)); do
        rm -rf "$copy" && cp -a "$WORK/c/pristine" "$copy" && cd "$copy" || return
        rewind_run runs/victim ckpt-1.bin
        start train --resume runs/victim
        a=$PID
        cp "$ERRF" "$WORK/err.a" 2>/dev/null
        start train --resume runs/victim
        b=$PID
        wait "$a" 2>/dev/null
        rca=$?
        wait "$b" 2>/dev/null
        rcb=$?
        [ "$rca" -ne 0 ] || [ "$rcb" -ne 0 ]
        check $? "two train --resume of one run: at most one succeeds (exits $rca and $rcb)"
        { [ "$rca" -eq 2 ] || [ "$rcb" -eq 2 ]; } && grep -qE "[0-9]+" "$ERRF"
        check $? "two train --resume of one run: the loser exits 2 naming the holder"
        csv_consistent runs/victim/metrics.csv runs/victim/episodes.csv
        check $? "two train --resume of one run: metrics.csv and episodes.csv have consistent rows"
        [ "$(status_of runs/victim)" = completed ] && same_data runs/victim "$WORK/c/pristine/runs/victim"
        check $? "two train --resume of one run: the result is the uninterrupted run's" "$WHY"

        # runs rm --force while the run trains
        start train CartPole-v0 --agent dqn --seed 7 --steps 3000 "${TRAIN_SMALL[@]}" \
            --runs-dir runs --run-id live
        local trainer=$PID
        draw 1500
        sleep "$(printf '0.%03d' $((R / 2 + 200)))"
        run runs rm live --force --runs-dir runs
        local rmrc=$RC
        PID=$trainer
        finish
        if [ "$rmrc" -eq 2 ]; then
            grep -qE "[0-9]+" "$ERRF"
            check $? "runs rm --force of a live run: refused naming the holder"
        else
            [ ! -e runs/live ] && [ -z "$(index_status runs live)" ]
            check $? "runs rm --force of a live run: removed, and the trainer (exit $RC) does not bring it back" \
                "left: $(ls runs/live 2>/dev/null | tr '\n' ' ')"
        fi
    done
    # sweep --resume while the sweep runs
    cd "$WORK" && mkdir -p cs && cd cs || return
    sweep_args
    start sweep "${SWEEP[@]}" --sweeps-dir sweeps --name live
    local sw=$PID i
    # the sweep is held still (SIGSTOP) once its directory exists, so the resume meets a live
    # sweep however fast the machine is (on an idle one the whole sweep ends within a second)
    for i in $(seq 100); do
        [ -e "$(echo sweeps/live-*)/manifest.tsv" ] && break
        sleep 0.1
    done
    kill -STOP "$sw" 2>/dev/null
    run sweep --resume "$(echo sweeps/live-*)" -j 2 --no-report
    kill -CONT "$sw" 2>/dev/null
    [ "$RC" -eq 2 ] && grep -q . "$ERRF"
    check $? "sweep --resume of a running sweep is refused with exit 2 (exit $RC)"
    PID=$sw
    finish
    ref_sweep
    local r bad=""
    for r in "$REFSWEEP"/runs/*/; do
        r=${r%/}
        same_data "$(echo sweeps/live-*)/runs/${r##*/}" "$r" || bad="$bad ${r##*/}"
    done
    [ "$RC" -eq 0 ] && [ -z "$bad" ]
    check $? "sweep with a refused --resume beside it: completes with every run intact" "exit $RC, differ:$bad"
}

# ============================================================================ names
HOSTILE=('a b' "it's" 'q"uote' '$(touch PWNED)' '`touch PWNED`' 'x;touch PWNED' 'star*'
    $'new\nline' '../../escape' '<script>alert(1)</script>' 'com,ma' '-rf' '.hidden' '')
pwned() { find "$WORK" /tmp/PWNED "$HOME/PWNED" -maxdepth 8 -name PWNED 2>/dev/null | head -3; }
outside() { # outside ALLOWED: every path under $WORK/n except those under ALLOWED
    find "$WORK/n" -path "$1" -prune -o -print | sort
}
jail_check() { # jail_check ALLOWED: nothing new outside ALLOWED since `SNAP=$(outside ALLOWED)`, no PWNED
    local new
    new=$(comm -13 <(echo "$SNAP") <(outside "$1") | head -3)
    [ -z "$new" ] && [ -z "$(pwned)" ] || WHY="created $new $(pwned)"
    [ -z "$new" ] && [ -z "$(pwned)" ]
}
slurm_scripts_safe() { # slurm_scripts_safe SWEEPDIR: 0 when the scripts parse, their directives
    # hold no shell metacharacters and running them (prism itself, with a stub sbatch world)
    # creates nothing but run files
    local s
    WHY=""
    for s in "$1"/slurm/*.sbatch; do
        bash -n "$s" 2>/dev/null || WHY="$WHY; $s does not parse"
        sed -n 's/^#SBATCH --[a-z-]*=//p' "$s" | grep -q "[\"'\`\$;*<> ]" &&
            WHY="$WHY; $s has shell or Slurm metacharacters in an #SBATCH value"
        (cd "$1" && SLURM_ARRAY_TASK_ID=0 timeout 30 bash "$s" >/dev/null 2>&1)
    done
    [ -z "$(pwned)" ] || WHY="$WHY; created $(pwned)"
    [ -z "$WHY" ]
}
hostile_one() { # hostile_one TEXT
    local h=$1 shown
    shown=$(printf '%q' "$h")
    local jail=$WORK/n/j/a/b/c
    mkdir -p "$jail" && cd "$jail" || return
    SNAP=$(outside "$jail/runs")
    run train CartPole-v0 --steps 600 "${TRAIN_SMALL[@]}" --runs-dir runs --run-id "$h"
    clean_exit && jail_check "$jail/runs"
    check $? "run id $shown: refused (exit 2) or kept inside the runs directory (exit $RC)" "$WHY"
    local opt
    for opt in label name partition time sweeps-dir; do
        cd "$jail" || return
        rm -rf sw
        local args=(--agents dqn --envs CartPole-v0 --seeds 1 --steps 600 --slurm --dry-run --sweeps-dir sw)
        case $opt in
        label) args[1]="$h=dqn" ;;
        sweeps-dir) args[11]=$h ;;
        *) args+=("--$opt" "$h") ;;
        esac
        local allowed=$jail/sw
        [ $opt = sweeps-dir ] && allowed=$jail # the user chose the place
        SNAP=$(outside "$allowed")
        run sweep "${args[@]}"
        if ! clean_exit; then
            fail "sweep --$opt $shown exits cleanly" "$WHY"
        elif [ "$RC" -ne 0 ]; then
            jail_check "$allowed"
            check $? "sweep --$opt $shown: refused (exit $RC)"
        else
            local script
            script=$(find "$WORK/n" -path '*/slurm/array.sbatch' | head -1)
            WHY="exit 0 but no slurm/array.sbatch written"
            [ -n "$script" ] && slurm_scripts_safe "${script%/slurm/*}" && jail_check "$allowed"
            check $? "sweep --$opt $shown: the Slurm scripts are safe to run" "$WHY"
        fi
        cd "$WORK" && rm -rf "$WORK/n/j"
        mkdir -p "$jail"
    done
    rm -rf "$WORK/n"
}
category_names() {
    local h i
    # every hostile text once (ROUNDS large) or a seeded subset
    local n=$((ROUNDS < ${#HOSTILE[@]} ? ROUNDS : ${#HOSTILE[@]}))
    for ((i = 0; i < n; i++)); do
        draw ${#HOSTILE[@]}
        [ "$n" -eq ${#HOSTILE[@]} ] && R=$i
        h=${HOSTILE[$R]}
        hostile_one "$h"
    done
}

# ============================================================================ limits
limited() { # limited ULIMIT-ARGS -- PRISM-ARGS: run prism under a ulimit; sets RC
    local lim=()
    while [ "$1" != -- ]; do lim+=("$1") && shift; done
    shift
    LASTCMD="(ulimit ${lim[*]}; timeout $TMO $(printf '%q ' "$PRISM" "$@"))"
    LASTDIR=$PWD
    (ulimit "${lim[@]}" && exec timeout -k 5 "$TMO" "$PRISM" "$@") >"$OUTF" 2>"$ERRF" </dev/null
    RC=$?
}
not_left_running() { # not_left_running RUNDIR: a run that was created is not left `running`
    [ ! -f "$1/run.json" ] || [ "$(status_of "$1")" != running ]
}
category_limits() {
    mkdir -p "$WORK/l" && cd "$WORK/l" || return
    local v n
    for v in 60 100 200; do
        # OpenBLAS initialises itself when the binary loads, before any prism code runs, and
        # under a small enough limit it spins there; what prism can answer for starts at main
        if ! (ulimit -v $((v * 1024)) && exec timeout -k 2 5 "$PRISM" --version) >/dev/null 2>&1; then
            skip "ulimit -v ${v}MB: the binary cannot start (OpenBLAS's load-time initialisation needs more); train and report not attacked"
            continue
        fi
        limited -v $((v * 1024)) -- train CartPole-v0 --agent rainbow --steps 900 "${TRAIN_SMALL[@]}" \
            --runs-dir runs --run-id "mem$v"
        clean_exit 1 && not_left_running "runs/mem$v"
        check $? "ulimit -v ${v}MB: train exits cleanly (exit $RC) and the run is not left running" "$WHY"
        limited -v $((v * 1024)) -- report runs -o mem$v.html
        clean_exit 1
        check $? "ulimit -v ${v}MB: report exits cleanly (exit $RC)" "$WHY"
    done
    for n in 5 8 12; do
        limited -n "$n" -- train CartPole-v0 --steps 900 "${TRAIN_SMALL[@]}" --runs-dir runs --run-id "fd$n"
        clean_exit 1 && not_left_running "runs/fd$n"
        check $? "ulimit -n $n: train exits cleanly (exit $RC) and the run is not left running" "$WHY"
        limited -n "$n" -- sweep --agents dqn --envs CartPole-v0 --seeds 2 --steps 600 -j 2 \
            --no-report --sweeps-dir fdsw --name "fd$n"
        clean_exit 1
        check $? "ulimit -n $n: sweep exits cleanly (exit $RC)" "$WHY"
        limited -n "$n" -- runs ls --runs-dir runs
        clean_exit 1
        check $? "ulimit -n $n: runs ls exits cleanly (exit $RC)" "$WHY"
    done
    # a full disk: a 2 MB tmpfs (needs root and mount; skipped otherwise)
    mkdir -p full
    if mount -t tmpfs -o size=2m tmpfs full 2>/dev/null; then
        MOUNTS+=("$WORK/l/full")
        run train CartPole-v0 --agent rainbow --steps 6000 "${TRAIN_SMALL[@]}" \
            --set train.checkpoint_keep=40 --runs-dir full --run-id full
        clean_exit && [ "$RC" -ne 0 ] && not_left_running full/full
        check $? "full disk: train fails cleanly (exit $RC), the run marked $(status_of full/full)" "$WHY"
        local tmps
        tmps=$(orphan_temps full)
        [ -z "$tmps" ]
        check $? "full disk: no orphan temporary files" "$tmps"
        umount -l full
    else
        skip "full disk: cannot mount a tmpfs here (needs root)"
    fi
    # a read-only run directory: a bind mount remounted read-only (root), else skipped
    corrupt_fixture
    rm -rf ro && cp -a "$WORK/c/pristine/runs" ro && rewind_run ro/victim ckpt-3.bin
    if mount --bind ro ro 2>/dev/null && MOUNTS+=("$WORK/l/ro") && mount -o remount,ro,bind ro 2>/dev/null; then
        run train --resume ro/victim
        clean_exit && [ "$RC" -ne 0 ]
        check $? "read-only run directory: train --resume fails cleanly (exit $RC)" "$WHY"
        run train CartPole-v0 --steps 600 "${TRAIN_SMALL[@]}" --runs-dir ro --run-id new
        clean_exit && [ "$RC" -ne 0 ]
        check $? "read-only runs directory: a new train fails cleanly (exit $RC)" "$WHY"
        local r
        for r in "runs ls --runs-dir ro" "runs reindex --runs-dir ro" "eval ro/victim --episodes 1"; do
            # shellcheck disable=SC2086
            run $r
            clean_exit
            check $? "read-only runs directory: $r exits cleanly (exit $RC)" "$WHY"
        done
        umount -l ro
    else
        skip "read-only run directory: cannot bind-mount read-only here (needs root)"
    fi
}

# ============================================================================ main
echo "faults: prism $PRISM, FAULT_SEED=$SEED FAULT_ROUNDS=$ROUNDS, in $WORK"
mkdir -p "$WORK/ref"
for CAT in ${CATEGORIES//,/ }; do
    declare -F "category_$CAT" >/dev/null || {
        echo "faults: unknown category '$CAT' (kills, corrupt, concurrent, names, limits)" >&2
        exit 2
    }
    REPRO="make faults FAULT_SEED=$SEED FAULT_ROUNDS=$ROUNDS FAULT_CATEGORIES=$CAT"
    seed_category "$CAT"
    t0=$SECONDS
    "category_$CAT"
    cd "$WORK" || exit 1
    echo "faults: $CAT took $((SECONDS - t0))s"
done

printf '\n%-12s %6s %6s %6s\n' category pass fail skip
total_fail=0
for CAT in ${CATEGORIES//,/ }; do
    printf '%-12s %6d %6d %6d\n' "$CAT" "${NPASS[$CAT]:-0}" "${NFAIL[$CAT]:-0}" "${NSKIP[$CAT]:-0}"
    total_fail=$((total_fail + ${NFAIL[$CAT]:-0}))
done
[ "$total_fail" -eq 0 ] || {
    echo "faults: $total_fail checks failed"
    exit 1
}
echo "faults: every check passed"
