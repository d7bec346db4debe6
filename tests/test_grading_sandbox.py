"""The sandbox's guarantees, each tried by code that attempts to break it (cnnlib.grading.sandbox).

Every attack runs as a learner's code would: in ``Sandbox.run``, and writes what it managed to do into
its scratch folder, which the test reads. The release notebooks, a classmate's file and a file of the
grader's are real files outside the sandbox; the attack knows their paths.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import cnnlib
from cnnlib.grading.sandbox import Limits, Sandbox, find_bwrap

pytestmark = pytest.mark.skipif(find_bwrap() is None, reason="needs bubblewrap (apt-get install bubblewrap)")
RELEASE = Path(cnnlib.__file__).resolve().parents[1] / "notebooks"


def attack(tmp_path: Path, code: str, timeout: float = 60, limits: Limits = Limits(), **env) -> tuple[dict, object]:
    """Run ``code`` in the sandbox; it fills the dict ``found``, which comes back as JSON."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    program = "import json, os, sys\nfound = {}\ntry:\n" + textwrap.indent(textwrap.dedent(code), "    ") + \
        "\nfinally:\n    open('found.json', 'w').write(json.dumps(found))\n"
    (scratch / "attack.py").write_text(program)
    sandbox = Sandbox(limits, hidden=(RELEASE,))
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = sandbox.run([str(sandbox.python), "-s", "-P", "attack.py"], scratch, timeout)
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    path = scratch / "found.json"
    return (json.loads(path.read_text()) if path.exists() else {}), result


def test_the_instructor_edition_cannot_be_read_through_cnnlib_file(tmp_path):
    found, _ = attack(tmp_path, """
        import cnnlib, pathlib
        found["file"] = cnnlib.__file__
        release = pathlib.Path(cnnlib.__file__).resolve().parents[1] / "notebooks"
        found["exists"] = release.exists() or pathlib.Path(%r).exists()
        from cnnlib.fashion import SHIPPED_FOLDER
        found["data"] = SHIPPED_FOLDER.is_dir()  # the course's data is there: notebook 07 reads it
    """ % str(RELEASE / "02_convolution.ipynb"))
    assert found == {"file": "/sandbox/lib/cnnlib/__init__.py", "exists": False, "data": True}
    assert (RELEASE / "02_convolution.ipynb").exists()  # it is there, outside


def test_nothing_but_the_scratch_folder_can_be_written(tmp_path):
    victim = tmp_path / "classmate" / "02_convolution.ipynb"
    victim.parent.mkdir()
    victim.write_text("a classmate's work")
    core = Path(cnnlib.__file__).parent / "exercises" / "core.py"
    found, _ = attack(tmp_path, f"""
        for path in [{str(victim)!r}, {str(core)!r}, "/usr/lib/x", "/x", "/tmp/x", {str(tmp_path / 'grader.jsonl')!r}]:
            try:
                open(path, "a").write("pwned")
                found[path] = "written"
            except OSError as err:
                found[path] = type(err).__name__
        open("mine.txt", "w").write("fine")
        found["scratch"] = "written"
    """)
    assert found.pop("scratch") == "written"
    assert "written" not in found.values(), found
    assert victim.read_text() == "a classmate's work" and "pwned" not in core.read_text()
    assert not (tmp_path / "grader.jsonl").exists()


def test_there_is_no_network(tmp_path):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        found, _ = attack(tmp_path, f"""
            import socket
            for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 80)]:
                try:
                    socket.create_connection((host, port), timeout=3)
                    found[host] = "connected"
                except OSError as err:
                    found[host] = type(err).__name__
        """)
    finally:
        server.close()
    assert set(found) == {"127.0.0.1", "1.1.1.1"} and "connected" not in found.values(), found


def test_the_environment_is_empty_of_the_graders_variables(tmp_path):
    found, _ = attack(tmp_path, "found.update(os.environ)", GRADER_SECRET="s3cret")
    assert "GRADER_SECRET" not in found and found["HOME"] == "/scratch"


def test_a_fork_bomb_stops_at_the_process_limit(tmp_path):
    found, result = attack(tmp_path, """
        children = 0
        try:
            for _ in range(500):
                if os.fork() == 0:
                    import time
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError as err:
            found["stopped"] = type(err).__name__
        found["children"] = children
    """, limits=Limits(processes=20), timeout=60)
    assert found["stopped"] == "BlockingIOError" and found["children"] < 20, found
    assert not result.timed_out  # the sleepers did not keep the run alive: they died with it


def test_a_memory_hog_gets_memory_error(tmp_path):
    found, _ = attack(tmp_path, """
        try:
            hog = bytearray(3 << 30)
            found["hog"] = "allocated"
        except MemoryError:
            found["hog"] = "MemoryError"
    """, limits=Limits(memory_mb=1024))
    assert found == {"hog": "MemoryError"}


def test_a_file_larger_than_the_limit_cannot_be_written(tmp_path):
    found, _ = attack(tmp_path, """
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        try:
            with open("big", "wb") as f:
                f.write(b"x" * (3 << 20))
            found["big"] = "written"
        except OSError as err:
            found["big"] = type(err).__name__
    """, limits=Limits(file_mb=1))
    assert found == {"big": "OSError"} and (tmp_path / "scratch" / "big").stat().st_size <= 1 << 20


def test_a_shipped_cnnlib_folder_is_not_imported(tmp_path):
    found, _ = attack(tmp_path, """
        os.makedirs("cnnlib/exercises", exist_ok=True)
        open("cnnlib/__init__.py", "w").write("FAKE = True")
        import cnnlib
        found["file"] = cnnlib.__file__
        found["fake"] = hasattr(cnnlib, "FAKE")
        found["path"] = sys.path[:2]
    """)
    assert found["file"] == "/sandbox/lib/cnnlib/__init__.py" and found["fake"] is False
    assert "" not in found["path"] and "/scratch" not in found["path"]


def test_a_process_left_running_dies_with_the_run(tmp_path):
    marker = f"cnnlib-sandbox-daemon-{os.getpid()}-{time.monotonic_ns()}"
    found, _ = attack(tmp_path, f"""
        import subprocess
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "{marker}"], start_new_session=True)
        if os.fork() == 0:
            os.setsid()
            import time
            time.sleep(300)
        found["started"] = True
    """)
    assert found == {"started": True}
    time.sleep(0.5)
    ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
    assert marker not in ps


def test_root_is_dropped_and_cannot_be_regained(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the grader runs as root only on the CI machine")
    found, _ = attack(tmp_path, """
        found["uid"] = os.getuid()
        found["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
        try:
            os.setuid(0)
            found["setuid"] = "root again"
        except OSError as err:
            found["setuid"] = type(err).__name__
    """)
    assert found["uid"] != 0 and int(found["caps"], 16) == 0 and found["setuid"] == "PermissionError"


def test_the_grader_refuses_without_bubblewrap_unless_told(tmp_path, monkeypatch, capsys):
    from cnnlib import grade
    from cnnlib.grading import sandbox

    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    assert grade.main([str(tmp_path / "02_convolution.ipynb")]) == 2
    assert "apt-get install bubblewrap, or pass --unsafe-no-sandbox" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="bubblewrap"):
        Sandbox()
    assert Sandbox(unsafe=True).unsafe


def test_a_release_inside_what_the_sandbox_shows_is_refused():
    with pytest.raises(RuntimeError, match="would be visible in the sandbox"):
        Sandbox(hidden=(Path(sys.prefix) / "notebooks",))
