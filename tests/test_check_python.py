"""`make venv` refuses a Python older than 3.10 with a message, not a traceback."""
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "check_python.py"


def run_as(version: tuple[int, int]) -> subprocess.CompletedProcess:
    # Pretend to be another Python by patching sys.version_info before the script runs.
    code = (f"import sys; sys.version_info = {version!r} + (0, 'final', 0); "
            f"exec(compile(open({str(SCRIPT)!r}).read(), 'check_python.py', 'exec'))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_old_python_gets_a_clear_message():
    result = run_as((3, 8))
    assert result.returncode == 1
    assert "cnnlib needs Python 3.10 or newer" in result.stderr and "is Python 3.8" in result.stderr
    assert "make PYTHON=python3.11" in result.stderr and "Traceback" not in result.stderr


def test_supported_pythons_pass_silently():
    for version in [(3, 10), (3, 11), (3, 13)]:
        result = run_as(version)
        assert (result.returncode, result.stderr) == (0, ""), version
