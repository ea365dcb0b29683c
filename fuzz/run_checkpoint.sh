#!/bin/sh
# Build fuzz/fuzz_checkpoint with clang (libFuzzer + ASan + UBSan) into build/fuzz and run it
# for $1 seconds (default 300) on a corpus in build/fuzz/corpus-checkpoint (seeded with a real
# checkpoint). Crashes are written as build/fuzz/crash-*; the last lines are libFuzzer's stats.
# Used by `make fuzz-checkpoint [FUZZ_SECONDS=N]`. Needs Debian's clang (14).
set -eu
SECONDS_TO_RUN=${1:-300}
CLANG=${CLANG:-clang}
CLANGXX=${CLANGXX:-clang++}
OUT=build/fuzz
FLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -std=c11 -D_GNU_SOURCE -Iinclude -Ibuild/gen"
mkdir -p "$OUT/obj"
objs=""
for src in $(find src -name '*.c' | sort); do
    obj="$OUT/obj/$(echo "$src" | tr / _).o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find include -newer "$obj" -name '*.h' | head -1)" ]; then
        $CLANG $FLAGS -c "$src" -o "$obj"
    fi
    objs="$objs $obj"
done
for src in $(find src -name '*.cpp' | sort); do
    obj="$OUT/obj/$(echo "$src" | tr / _).o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
        $CLANGXX -g -O1 -fsanitize=fuzzer-no-link,address,undefined -std=c++17 -Iinclude -c "$src" -o "$obj"
    fi
    objs="$objs $obj"
done
$CLANG $FLAGS -c fuzz/fuzz_checkpoint.c -o "$OUT/fuzz_checkpoint.o"
# linked by clang++ so that UBSan's C++ runtime (vptr checks in the Box2D shim) comes along
$CLANGXX -fsanitize=fuzzer,address,undefined "$OUT/fuzz_checkpoint.o" $objs \
    -o "$OUT/fuzz_checkpoint" -lopenblas -lsqlite3 -lbox2d -lm -lpthread
CORPUS="$OUT/corpus-checkpoint"
mkdir -p "$CORPUS"
PRISM_FUZZ_SEED_DIR="$CORPUS" "$OUT/fuzz_checkpoint" -runs=0 "$CORPUS" >/dev/null 2>&1
echo "fuzzing the checkpoint loader for $SECONDS_TO_RUN s (corpus $CORPUS)"
UBSAN_OPTIONS=halt_on_error=1 nice -n 10 "$OUT/fuzz_checkpoint" -max_total_time="$SECONDS_TO_RUN" \
    -print_final_stats=1 -max_len=200000 -artifact_prefix="$OUT/" "$CORPUS"
