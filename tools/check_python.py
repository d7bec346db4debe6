"""Fail early, with a readable message, when the Python that builds the environment is too old.

Written so that even an old interpreter can parse it (no f-strings, no annotations).
"""
import sys

MINIMUM = (3, 10)

if sys.version_info[:2] < MINIMUM:
    sys.stderr.write(
        "cnnlib needs Python %d.%d or newer, but `%s` is Python %d.%d.\n"
        "Install a newer Python and run, for example:  make PYTHON=python3.11 test\n"
        % (MINIMUM + (sys.executable,) + tuple(sys.version_info[:2]))
    )
    sys.exit(1)
