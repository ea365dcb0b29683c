# prism — build, test, sanitize, benchmark, format.
#   make            library, CLI (build/prism) and test runner
#   make test       the layer check (scripts/check_layers.sh), then the fast suite
#                   (build/prism-tests); FILTER=name runs matching tests only
#   make test-slow  learning tests and other long checks
#   make test-asan  the fast suite under AddressSanitizer + UBSan
#   make test-asan-clang  the same built with clang, whose UBSan also traps float-to-int overflow
#   make bench      throughput benchmarks (never asserted in tests)
#   make faults     the fault-injection campaign (docs/faults.md); FAULT_ROUNDS, FAULT_SEED
#   make fmt / fmt-check
#   make python     the Python package in build/python (python/python.mk, docs/python.md)
# WERROR=1 turns warnings into errors (CI does this). MARCH= overrides -march=native.
# GEMM=prism builds the dense layers on prism's own matrix kernels (src/nn/gemm.c: a fixed
# summation order, the same bits with AVX-512, AVX2 or none) and links no BLAS; the default,
# GEMM=openblas, uses OpenBLAS for wide layers (docs/nn.md compares the two). Run `make clean`
# when switching.

.DEFAULT_GOAL := all

CC      ?= cc
CXX     ?= c++
MARCH   ?= -march=native
OPT     ?= -O2
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -Wdouble-promotion
ifeq ($(WERROR),1)
WARN    += -Werror
endif
# No contraction of a*b+c into FMA, so the physics agrees with the references bit for bit:
# -std=c11 (not gnu11) implies it for GCC, but clang contracts within an expression by default
# (its CartPole parity test fails without the flag), so it is spelled out for every compiler.
# No fast-math, ever, by default.
GEMM    ?= openblas
ifeq ($(GEMM),prism)
GEMM_DEF  := -DPRISM_GEMM_OWN
BLAS_LIBS :=
else ifeq ($(GEMM),openblas)
GEMM_DEF  :=
BLAS_LIBS := -lopenblas
else
$(error GEMM must be openblas or prism (got '$(GEMM)'))
endif
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(OPT) -g $(MARCH) -ffp-contract=off -Iinclude $(WARN) -MMD -MP \
               $(GEMM_DEF)
CXXFLAGS_BASE := -std=c++17 -D_GNU_SOURCE $(OPT) -g $(MARCH) -ffp-contract=off -Iinclude -Wall \
                 -Wextra -MMD -MP
LDLIBS  := $(BLAS_LIBS) -lsqlite3 -lbox2d -lstdc++ -lm -lpthread

SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang's -fsanitize=float-cast-overflow catches (int)x for an x out of int's range, which GCC's
# UBSan does not check; the tree is built with clang and clang++ regardless of CC.
SAN_CLANG := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all \
             -fno-omit-frame-pointer

LIB_C   := $(sort $(shell find src -name '*.c'))
LIB_CXX := $(sort $(shell find src -name '*.cpp'))
CLI_C   := $(sort $(wildcard cli/*.c))
TEST_C  := $(sort $(wildcard tests/*.c))

define build_tree # $(1) = build dir, $(2) = extra flags
$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_BASE) $(2) $$(CFLAGS) -c $$< -o $$@
$(1)/obj/%.o: %.cpp
	@mkdir -p $$(dir $$@)
	$$(CXX) $$(CXXFLAGS_BASE) $(2) $$(CXXFLAGS) -c $$< -o $$@
$(1)/libprism.a: $(patsubst %.c,$(1)/obj/%.o,$(LIB_C)) $(patsubst %.cpp,$(1)/obj/%.o,$(LIB_CXX))
	@rm -f $$@
	ar rcs $$@ $$^
$(1)/prism: $(patsubst %.c,$(1)/obj/%.o,$(CLI_C)) $(1)/libprism.a
	$$(CC) $(2) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
$(1)/prism-tests: $(patsubst %.c,$(1)/obj/%.o,$(TEST_C)) $(1)/libprism.a
	$$(CC) $(2) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
-include $(shell find $(1)/obj -name '*.d' 2>/dev/null)
endef

# Build facts for run.json (src/archive/run_info.c): git commit, dirty flag and diff of the source
# tree, compiler and flags. Regenerated on every make but replaced only when its content changes,
# so run_info.o and the link are redone exactly when HEAD or the working tree changes.
define build_info # $(1) = build dir, $(2) = extra flags
$(1)/gen/prism_build_info.h: FORCE
	@mkdir -p $$(dir $$@)
	@sh scripts/build_info.sh '$$(CC) $$(CFLAGS_BASE) $(2) $$(CFLAGS)' >$$@.tmp
	@if cmp -s $$@.tmp $$@; then rm -f $$@.tmp; else mv $$@.tmp $$@; fi
$(1)/obj/src/archive/run_info.o: $(1)/gen/prism_build_info.h
$(1)/obj/src/archive/run_info.o: CFLAGS += -I$(1)/gen
endef
.PHONY: FORCE
FORCE:

$(eval $(call build_info,build,))
$(eval $(call build_info,build/asan,$(SAN) -O1))
$(eval $(call build_tree,build,))
$(eval $(call build_tree,build/asan,$(SAN) -O1))
$(eval $(call build_info,build/asan-clang,$(SAN_CLANG) -O1))
$(eval $(call build_tree,build/asan-clang,$(SAN_CLANG) -O1))
build/asan-clang/%: CC := clang
build/asan-clang/%: CXX := clang++
# the link driver is clang (C): it must still bring UBSan's C++ runtime for box2d_shim.cpp
build/asan-clang/%: LDFLAGS += -fsanitize-link-c++-runtime

.PHONY: all test test-slow test-asan test-asan-clang test-slurm bench fmt fmt-check clean
# the build_tree rules above come first in the file; without this `make` would build only
# build/libprism.a
.DEFAULT_GOAL := all
all: build/prism build/prism-tests

# the include-direction check (the layer order of docs/architecture.md) runs first: it takes a second
test: all
	sh scripts/check_layers.sh
	PRISM_BIN=build/prism build/prism-tests $(FILTER)
	@$(MAKE) --no-print-directory test-python

# the slow tests are single-threaded minutes each: run them side by side, one per core
SLOW_JOBS ?= 2
test-slow: all
	PRISM_BIN=build/prism build/prism-tests --slow -j $(SLOW_JOBS) $(FILTER)

test-asan: build/asan/prism build/asan/prism-tests
	PRISM_BIN=build/asan/prism ASAN_OPTIONS=detect_leaks=1 build/asan/prism-tests $(FILTER)

test-asan-clang: build/asan-clang/prism build/asan-clang/prism-tests
	PRISM_BIN=build/asan-clang/prism ASAN_OPTIONS=detect_leaks=1 build/asan-clang/prism-tests $(FILTER)

# prism sweep --slurm through a real single-node Slurm (skipped, exit 77, without slurm-wlm + munge)
test-slurm: all
	PRISM_BIN=build/prism bash tests/slurm/run.sh

bench: build/prism
	bench/run.sh

FMT_FILES = $(shell find include src cli tests bench -name '*.[ch]' -o -name '*.cpp' 2>/dev/null)
fmt:
	clang-format -i $(FMT_FILES)
fmt-check:
	clang-format --dry-run --Werror $(FMT_FILES)

# libFuzzer on the checkpoint loader (clang); FUZZ_SECONDS of fuzzing (fuzz/run_checkpoint.sh)
FUZZ_SECONDS ?= 300
.PHONY: fuzz-checkpoint
fuzz-checkpoint: build/prism
	sh fuzz/run_checkpoint.sh $(FUZZ_SECONDS)

# the fault-injection campaign against build/prism (docs/faults.md): kills, damaged files,
# concurrent writers, hostile names, resource limits; about 5 minutes on 2 cores by default
FAULT_ROUNDS ?= 6
FAULT_SEED ?= 1
.PHONY: faults
faults: build/prism
	PRISM=build/prism FAULT_ROUNDS=$(FAULT_ROUNDS) FAULT_SEED=$(FAULT_SEED) bash fuzz/faults.sh

include python/python.mk

clean:
	rm -rf build
