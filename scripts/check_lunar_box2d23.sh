#!/usr/bin/env bash
# Build prism's test runner against Box2D 2.3 (the copy embedded in pybox2d 2.3.10, which is what
# Gymnasium's LunarLander runs on) instead of Debian's 2.4, and run the LunarLander parity tests.
# Linked with 2.3 they demand bit-identical observations over the whole reference trace, which
# shows that every difference left on 2.4 comes from Box2D itself, not from prism's port.
#
# Needs network access once (git clone of pybox2d into the work directory) and a built tree
# (`make`). Everything it fetches and builds stays in $WORK (default /tmp/prism-box2d23), outside
# the repository; nothing of pybox2d is committed. Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-/tmp/prism-box2d23}
mkdir -p "$WORK"
if [ ! -d "$WORK/pybox2d" ]; then
    git clone --depth 1 https://github.com/pybox2d/pybox2d "$WORK/pybox2d"
fi
SRC=$WORK/pybox2d
# pybox2d's b2Settings.h routes asserts to Python exceptions; build it as plain C++ instead.
sed -i 's/^#define USE_EXCEPTIONS/\/\/ #define USE_EXCEPTIONS (plain asserts: no Python here)/' \
    "$SRC/Box2D/Common/b2Settings.h"
mkdir -p "$WORK/obj"
for f in $(cd "$SRC" && find Box2D -name '*.cpp'); do
    o="$WORK/obj/$(echo "$f" | tr / _).o"
    [ -f "$o" ] || g++ -std=c++11 -O2 -fwrapv -I"$SRC" -c "$SRC/$f" -o "$o"
done
# prism's shim, ported to the 2.3 API (header path; edges had only the two-sided Set then)
sed -e 's|#include <box2d/box2d.h>|#include "Box2D/Box2D.h"|' -e 's|edge.SetTwoSided(|edge.Set(|' \
    src/env/classic/box2d_shim.cpp > "$WORK/shim23.cpp"
g++ -std=c++17 -O2 -I"$SRC" -I"$ROOT/src/env/classic" -c "$WORK/shim23.cpp" -o "$WORK/shim23.o"
make -s all
LIB_OBJS=$(find build/obj/src -name '*.o' ! -name 'box2d_shim.o')
g++ -o "$WORK/prism-tests-box2d23" build/obj/tests/*.o $LIB_OBJS "$WORK/shim23.o" "$WORK"/obj/*.o \
    -lopenblas -lsqlite3 -lm -lpthread
PRISM_BIN=build/prism "$WORK/prism-tests-box2d23" lunar_terrain lunar_first lunar_free
