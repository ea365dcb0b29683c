#!/bin/sh
# Print the first Python that can build and test the extension: it has numpy and its own
# development headers (Python.h). Candidates in order: $1 when given, then python3 on PATH,
# then /usr/bin/python3 (Debian's, where python3-numpy and python3-dev install). Prints
# nothing when none qualifies.
for p in ${1:+"$1"} python3 /usr/bin/python3; do
    command -v "$p" >/dev/null 2>&1 || continue
    "$p" -c 'import numpy, os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' \
        >/dev/null 2>&1 && { command -v "$p"; exit 0; }
done
exit 0
