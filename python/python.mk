# The Python package prism (python/, docs/python.md), included by the Makefile.
#   make python       build/python/prism: the extension prism._core and the package's modules;
#                     import it with PYTHONPATH=build/python
#   make test-python  its pytest suite (make test runs it too when a suitable Python is found)
#   make test-python-asan  the same suite with the extension and library under AddressSanitizer
#                     + UBSan (build/python-asan; the interpreter loads libasan by LD_PRELOAD)
# The extension is a shared object, so it links a position-independent build of the library,
# build/pic/libprism.a; the main tree keeps its non-PIC objects for the CLI's speed.
# PYTHON is the first Python with numpy and Python.h (python/find_python.sh); override it with
# PYTHON=/path/to/python3.

ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell sh python/find_python.sh)
endif

$(eval $(call build_info,build/pic,-fPIC))
$(eval $(call build_tree,build/pic,-fPIC))
$(eval $(call build_info,build/pic-asan,-fPIC $(SAN) -O1))
$(eval $(call build_tree,build/pic-asan,-fPIC $(SAN) -O1))

PY_C    := $(sort $(wildcard python/src/*.c))
PY_OBJ  := $(patsubst python/src/%.c,build/python/obj/%.o,$(PY_C))
PY_MODS := $(patsubst python/%,build/python/%,$(sort $(wildcard python/prism/*.py)))
PY_ASAN_OBJ  := $(patsubst python/src/%.c,build/python-asan/obj/%.o,$(PY_C))
PY_ASAN_MODS := $(patsubst python/%,build/python-asan/%,$(sort $(wildcard python/prism/*.py)))
# -isystem: warnings in Python's and numpy's headers are theirs, not ours
PY_INCLUDES = $(shell $(PYTHON) -c 'import sysconfig, numpy; \
	print("-isystem", sysconfig.get_paths()["include"], "-isystem", numpy.get_include())')

build/python/obj/%.o: python/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -fPIC $(PY_INCLUDES) $(CFLAGS) -c $< -o $@
build/python-asan/obj/%.o: python/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -fPIC $(SAN) -O1 $(PY_INCLUDES) $(CFLAGS) -c $< -o $@
-include $(wildcard build/python/obj/*.d build/python-asan/obj/*.d)

build/python/prism/_core.so: $(PY_OBJ) build/pic/libprism.a
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/python-asan/prism/_core.so: $(PY_ASAN_OBJ) build/pic-asan/libprism.a
	@mkdir -p $(dir $@)
	$(CC) -shared $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/python/prism/%.py build/python-asan/prism/%.py: python/prism/%.py
	@mkdir -p $(dir $@)
	cp $< $@

.PHONY: python python-check python-build test-python test-python-asan
python-check:
	@if [ -z "$(PYTHON)" ]; then echo "make python: no Python with numpy and Python.h found;" \
	    "install python3-dev and python3-numpy (scripts/setup.sh does), or set PYTHON=" >&2; \
	    exit 1; fi

python: python-check
	@$(MAKE) --no-print-directory python-build

python-build: build/python/prism/_core.so $(PY_MODS)
	@:

# FILTER selects tests by name (pytest -k); a FILTER that matches no Python test is no failure.
# Without a suitable Python the tests are skipped with one line, unless PRISM_REQUIRE_PYTHON=1
# (CI), where that is an error.
test-python:
	@if [ -z "$(PYTHON)" ] || ! $(PYTHON) -c 'import numpy, pytest' 2>/dev/null; then \
	    echo "skipping the Python tests: no Python with numpy, pytest and Python.h" \
	         "(install python3-dev python3-numpy python3-pytest)"; \
	    [ "$(PRISM_REQUIRE_PYTHON)" != 1 ]; \
	else \
	    $(MAKE) --no-print-directory python && \
	    { PYTHONPATH=build/python PYTHONDONTWRITEBYTECODE=1 PRISM_BIN=build/prism \
	      $(PYTHON) -m pytest -q -p no:cacheprovider python/tests $(if $(FILTER),-k '$(FILTER)'); \
	      rc=$$?; [ $$rc -eq 5 ] && [ -n '$(FILTER)' ] && rc=0; exit $$rc; }; \
	fi
FMT_FILES += $(wildcard python/src/*.[ch])

# Leak detection stays off: the interpreter itself does not free everything at exit. The
# sanitizers' runtime must come first in the process, hence LD_PRELOAD of GCC's libasan.
test-python-asan: python-check build/python-asan/prism/_core.so $(PY_ASAN_MODS) build/prism
	LD_PRELOAD=$$($(CC) -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
	UBSAN_OPTIONS=print_stacktrace=1 PYTHONPATH=build/python-asan PYTHONDONTWRITEBYTECODE=1 \
	PRISM_BIN=build/prism $(PYTHON) -m pytest -q -p no:cacheprovider python/tests \
	    $(if $(FILTER),-k '$(FILTER)')
