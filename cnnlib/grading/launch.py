"""The first thing that runs inside the sandbox: limits, then the learner's command.

    python -s -P -m cnnlib.grading.launch LIMITS_JSON UID -- COMMAND ...

Sets ``no_new_privs`` (no setuid program can raise the rights again), the resource limits
(``resource.setrlimit``: data memory (heap and private mappings), processes, CPU seconds, file size, open files, core
files), a umask, and, when the sandbox was started by root (UID is not "-"), drops to UID and
its group with no supplementary groups, which also clears every capability. Then it execs
COMMAND. Nothing here reads the learner's files.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

PR_SET_NO_NEW_PRIVS = 38
LIMITS = {"memory_mb": resource.RLIMIT_DATA, "processes": resource.RLIMIT_NPROC, "cpu_s": resource.RLIMIT_CPU,
          "file_mb": resource.RLIMIT_FSIZE, "open_files": resource.RLIMIT_NOFILE}


def apply(limits: dict) -> None:
    for key, which in LIMITS.items():
        value = int(limits[key]) << 20 if key.endswith("_mb") else int(limits[key])
        resource.setrlimit(which, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> None:
    limits, uid, sep, *command = argv
    if sep != "--" or not command:
        raise SystemExit("usage: launch LIMITS_JSON UID -- COMMAND ...")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SystemExit("could not set no_new_privs")
    apply(json.loads(limits))
    if uid != "-":
        os.setgroups([])
        os.setgid(int(uid))
        os.setuid(int(uid))
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SystemExit("could not drop root")
    os.umask(0o077)
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
