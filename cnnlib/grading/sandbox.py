"""Stage 3, the sandbox: run a command on a learner's code with nothing of ours in reach.

A :class:`Sandbox` runs every command in Debian's ``bubblewrap`` (``bwrap``) with

- a new, empty root that is read-only: ``/usr``, the Python installation (the venv and its base
  Python), a few files of ``/etc`` (the loader's cache, passwd, fonts) and **the cnnlib package
  folder alone**, mounted at ``/sandbox/lib/cnnlib`` and first on ``PYTHONPATH``. So
  ``cnnlib.__file__`` leads only to the course's ``data/`` (read-only, ``/sandbox/lib/data``):
  ``notebooks/`` (the instructor edition, the solutions), the
  grader's output folder, the other submissions and ``$HOME`` are not in the sandbox at all;
- one writable folder, the run's scratch folder, at ``/scratch`` (also ``$HOME`` and ``$TMPDIR``);
- new network, PID, IPC and UTS namespaces: no network but a private loopback, no other
  process visible, and every process of the run dies with it;
- an empty environment but for the few variables set here (no secrets from ours);
- resource limits set by ``cnnlib.grading.launch`` before the learner's code starts: address
  memory (RLIMIT_DATA), processes, CPU seconds, file size, open files (:class:`Limits`); ``no_new_privs``;
- when the grader runs as root, the run drops to an unprivileged uid of its own (one per worker:
  the process limit counts that uid only; root is exempt from it, so this matters), after bwrap
  has built the mounts; otherwise bwrap's user namespace maps the grader's own uid.

The grader starts bwrap in a new session and kills that whole process group afterwards (on
success, timeout or a stop), and bwrap's ``--die-with-parent`` and the PID namespace take every
process inside down with it: nothing the learner starts outlives the run.

:func:`find_bwrap` says whether bubblewrap is installed. Without it the grader refuses to run
learner code unless asked for ``--unsafe-no-sandbox``, which runs the same commands as plain
subprocesses with the resource limits only (:attr:`Sandbox.unsafe`).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cnnlib

INSIDE_LIB = "/sandbox/lib"
INSIDE_SCRATCH = "/scratch"
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
             "alternatives", "fonts", "mime.types")
FIRST_UID = 61000  # the unprivileged uids of the workers when the grader runs as root


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 2048      # heap and private mappings per process (RLIMIT_DATA; Binder gives 2 GB)
    processes: int = 64        # processes and threads of the run's uid
    cpu_s: int = 600           # CPU seconds per process
    file_mb: int = 64          # the largest file it may write
    open_files: int = 256


@dataclass(frozen=True)
class Result:
    returncode: int | None     # None if it was killed for time
    timed_out: bool
    seconds: float
    log: str                   # the end of its stdout and stderr


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


def _is_under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


class Sandbox:
    """Runs commands in bwrap (or, if ``unsafe``, as plain subprocesses with the limits only)."""

    def __init__(self, limits: Limits = Limits(), unsafe: bool = False, hidden: tuple[Path, ...] = ()):
        self.limits, self.unsafe = limits, unsafe
        self.bwrap = None if unsafe else find_bwrap()
        if not unsafe and self.bwrap is None:
            raise RuntimeError("bubblewrap (bwrap) is not installed, so learner code cannot be sandboxed: "
                               "apt-get install bubblewrap, or pass --unsafe-no-sandbox to run it with "
                               "your own rights (only for code you trust)")
        self.root = os.geteuid() == 0
        self.package = Path(cnnlib.__file__).resolve().parent
        self.python = Path(sys.executable)
        self.read_only = self._read_only()
        for folder in hidden:  # the release must not sit inside anything we show the learner
            for source, _ in self.read_only:
                if _is_under(Path(folder), Path(source)) or _is_under(Path(source), Path(folder)):
                    raise RuntimeError(f"{folder} would be visible in the sandbox through {source}")

    def _read_only(self) -> list[tuple[str, str]]:
        """(outside, inside) pairs mounted read-only."""
        pairs = [("/usr", "/usr")]
        for prefix in {sys.prefix, sys.base_prefix, str(Path(os.path.realpath(sys.executable)).parents[1])}:
            if not prefix.startswith("/usr/") and prefix != "/usr":
                pairs.append((prefix, prefix))
        pairs += [(f"/etc/{name}", f"/etc/{name}") for name in ETC_FILES if os.path.exists(f"/etc/{name}")]
        pairs.append((str(self.package), f"{INSIDE_LIB}/cnnlib"))
        data = self.package.parent / "data"  # the course's data (cnnlib.fashion reads it beside the package)
        if data.is_dir():
            pairs.append((str(data), f"{INSIDE_LIB}/data"))
        return pairs

    def environment(self) -> dict[str, str]:
        scratch = INSIDE_SCRATCH if not self.unsafe else "{scratch}"
        return {"PATH": "/usr/bin:/bin", "HOME": scratch, "TMPDIR": f"{scratch}/tmp", "LANG": "C.UTF-8",
                "PYTHONPATH": INSIDE_LIB if not self.unsafe else str(self.package.parent),
                "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
                "MPLCONFIGDIR": f"{scratch}/.config/matplotlib", "IPYTHONDIR": f"{scratch}/.ipython",
                "JUPYTER_CONFIG_DIR": f"{scratch}/.jupyter", "JUPYTER_DATA_DIR": f"{scratch}/.local/share/jupyter",
                "JUPYTER_RUNTIME_DIR": f"{scratch}/.local/share/jupyter/runtime",
                "JUPYTER_PLATFORM_DIRS": "1", "CNNLIB_MY_LAYERS": "off",  # a submission writes no layer files
                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def _bwrap_argv(self, scratch: Path, extra: list[tuple[str, str]], env: dict) -> list[str]:
        argv = [self.bwrap, "--die-with-parent", "--new-session", "--clearenv"]
        if self.root:
            argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                     "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            argv += ["--unshare-all", "--disable-userns"]
        made = {"/"}
        for link in ("bin", "lib", "lib64", "sbin"):
            if os.path.islink(f"/{link}"):
                argv += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
                made.add(f"/{link}")
        for source, target in [*self.read_only, *extra]:
            for parent in reversed(Path(target).parents):  # bwrap would make them 0700 as root
                if str(parent) not in made:
                    argv += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            argv += ["--ro-bind", source, target]
            made.add(target)
        argv += ["--bind", str(scratch), INSIDE_SCRATCH, "--proc", "/proc", "--dev", "/dev",
                 "--chdir", INSIDE_SCRATCH, "--remount-ro", "/"]
        for key, value in env.items():
            argv += ["--setenv", key, value]
        return argv

    def run(self, command: list[str], scratch: Path, timeout: float, slot: int = 0,
            extra: list[tuple[str, str]] = (), log: Path | None = None) -> Result:
        """Run ``command`` (paths as the sandbox sees them) with ``scratch`` writable; kill it all after."""
        scratch = Path(scratch)
        (scratch / "tmp").mkdir(parents=True, exist_ok=True)
        uid = str(FIRST_UID + slot) if self.root and not self.unsafe else "-"
        if uid != "-":
            for path in [scratch, *scratch.rglob("*")]:
                os.chown(path, int(uid), int(uid), follow_symlinks=False)
        env = self.environment()
        if self.unsafe:
            env = {k: v.replace("{scratch}", str(scratch)) for k, v in env.items()}
        launch = [str(self.python), "-s", "-P", "-m", "cnnlib.grading.launch", json.dumps(asdict(self.limits)), uid, "--"]
        if self.unsafe:
            argv, cwd = launch + command, scratch
        else:
            argv, cwd, env = self._bwrap_argv(scratch, list(extra), env) + ["--"] + launch + command, None, {}
        log = log or scratch.parent / f"{scratch.name}.log"
        start = time.monotonic()
        with open(log, "wb") as out:
            process = subprocess.Popen(argv, cwd=cwd, env=env or None, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            RUNNING.add(process)
            try:
                code = process.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                code, timed_out = None, True
            finally:
                kill_group(process)
                RUNNING.discard(process)
        with open(log, "rb") as f:
            f.seek(max(0, os.path.getsize(log) - 4000))
            tail = f.read().decode("utf-8", "replace")
        return Result(code, timed_out, time.monotonic() - start, tail)


RUNNING: set[subprocess.Popen] = set()  # every sandbox still running, for a stop on SIGTERM


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group bwrap leads (bwrap's death takes the PID namespace with it)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def kill_all() -> None:
    for process in list(RUNNING):
        kill_group(process)
