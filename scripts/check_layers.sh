#!/bin/sh
# Check that every #include in src/, include/ and cli/ points down the layer order of
# docs/architecture.md (or stays within its own layer). `make test` runs it before the suite.
#
#   scripts/check_layers.sh [ROOT]      ROOT defaults to the current directory
#
# Exit 0 when clean; 1 with one line per offending include (file:line, both layers and what
# to do); 2 when a public header has no layer (add it to HEADERS below).
#
# A file's layer is its folder: src/<layer>/..., cli/ is `cli`, include/prism/X.h is the layer
# of the folder that implements X (HEADERS). A file may include headers of its own layer and of
# layers with a smaller rank; headers of the same rank but another layer (nn and env, say) are
# as forbidden as higher ones, since siblings know nothing of each other. Quoted includes that
# are not prism/*.h resolve relative to the including file; ones that do not exist there are
# generated build files (prism_build_info.h) and are skipped.
set -eu
root=${1:-.}
cd "$root"

# The layer order, written once: rank, then the layers of that rank.
# archive sits above env: it canonicalises environment ids that older runs recorded as aliases.
LAYERS='
0 core
1 nn env replay
2 archive
3 agent
4 run
5 report doctor
6 cli
'

# Public header -> the layer of the src/ folder that implements it.
HEADERS='
core.h core
file.h core
json.h core
rng.h core
ini.h core
nn.h nn
env.h env
lunar_lander.h env
mdp.h env
obs_bits.h env
probes.h env
replay.h replay
agent.h agent
tabular.h agent
pqn.h agent
pqn_run.h run
archive.h archive
checkpoint.h run
config.h run
metrics_csv.h archive
presets.h run
run_index.h archive
sweep.h run
tfevents.h archive
dir_lock.h archive
run_state.h run
fields.h core
trainer.h run
watchdog.h run
report.h report
stats.h report
svg.h report
doctor.h doctor
'

# Known violations awaiting a move another change makes, as "file -> prism/header.h", one a
# line. Each entry says why it is here; the list is meant to be emptied, never grown.
ALLOW='
'

files=$(find src include cli \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) 2>/dev/null | sort)

# awk does the work: one pass over every include line of every file.
# shellcheck disable=SC2086
awk -v layers="$LAYERS" -v headers="$HEADERS" -v allow="$ALLOW" '
function dirname(p) { sub(/\/[^\/]*$/, "", p); return p }
function normalize(p,    n, i, parts, out, k) {
    n = split(p, parts, "/"); k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "." || parts[i] == "") continue
        if (parts[i] == ".." && k > 0) { k--; continue }
        out[++k] = parts[i]
    }
    p = ""
    for (i = 1; i <= k; i++) p = p (i > 1 ? "/" : "") out[i]
    return p
}
function exists(p,    line, r) {
    r = (getline line < p); if (r >= 0) close(p)
    return r >= 0
}
# layer of a repository path; "" when it has none
function layer_of(path,    parts, base) {
    split(path, parts, "/")
    if (parts[1] == "cli") return "cli"
    if (parts[1] == "src") return parts[2]
    if (parts[1] == "include" && parts[2] == "prism") {
        base = parts[3]
        if (!(base in header_layer)) {
            printf "%s: no layer for this public header: add \"%s <layer>\" to HEADERS in " \
                   "scripts/check_layers.sh\n", path, base > "/dev/stderr"
            unmapped = 1
            return ""
        }
        return header_layer[base]
    }
    return ""
}
BEGIN {
    bad = 0; unmapped = 0
    n = split(layers, ls, "\n")
    for (i = 1; i <= n; i++) {
        m = split(ls[i], f, " ")
        for (j = 2; j <= m; j++) rank[f[j]] = f[1] + 0
    }
    n = split(headers, hs, "\n")
    for (i = 1; i <= n; i++) if (split(hs[i], f, " ") == 2) {
        if (!(f[2] in rank)) {
            printf "HEADERS: %s maps to %s, which is not in LAYERS\n", f[1], f[2] > "/dev/stderr"
            unmapped = 1
        }
        header_layer[f[1]] = f[2]
    }
    n = split(allow, as, "\n")
    for (i = 1; i <= n; i++) if (split(as[i], f, " ") == 3) allowed[f[1] " " f[3]] = 1
}
FNR == 1 { from = layer_of(FILENAME) }
/^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
    if (inc ~ /^prism\//) target = "include/" inc
    else {
        target = normalize(dirname(FILENAME) "/" inc)
        if (!exists(target)) next
    }
    to = layer_of(target)
    if (from == "" || to == "" || from == to) next
    if (!(from in rank)) {
        printf "%s: folder %s is not in LAYERS\n", FILENAME, from > "/dev/stderr"
        unmapped = 1
        next
    }
    if (rank[to] < rank[from]) next
    if ((FILENAME " " inc) in allowed) { used[FILENAME " " inc] = 1; next }
    printf "%s:%d: layer %s (rank %d) includes %s of layer %s (rank %d): a layer may include " \
           "only its own and lower-ranked layers; move the code or type to where it belongs\n",
           FILENAME, FNR, from, rank[from], inc, to, rank[to]
    bad = 1
}
END {
    for (k in allowed) if (!(k in used)) {
        printf "ALLOW entry \"%s\" no longer matches a violation: remove it from " \
               "scripts/check_layers.sh\n", k
        bad = 1
    }
    if (unmapped) exit 2
    exit bad
}
' $files
