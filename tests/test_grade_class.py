"""Grading a class: tools/make_class.py's submissions of notebook 02, one of each kind, with -j 2; every cheat
scores only what its real answers earn; results are written as they come, a SIGTERM stops cleanly, a rerun resumes."""
from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnlib.grading.sandbox import find_bwrap

pytestmark = pytest.mark.skipif(find_bwrap() is None, reason="needs bubblewrap (apt-get install bubblewrap)")
ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("make_class", ROOT / "tools" / "make_class.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    tool = _tool()
    assert tool.main(["--out", str(folder), "--students", str(len(tool.KINDS))]) == 0
    return folder, json.loads((folder / "expected.json").read_text())


def _grade(out: Path, *paths: Path):
    command = [sys.executable, "-m", "cnnlib.grade", "-j", "2", "--no-feedback", "--cell-timeout", "5",
               "--out", str(out), *map(str, paths)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_every_kind_gets_exactly_its_points(made):
    folder, expected = made
    process = _grade(folder / "grades", folder / "submissions")
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    rows = [line.split(",") for line in (folder / "grades" / "gradebook.csv").read_text().splitlines()]
    score = {row[3]: float(row[9]) for row in rows[1:]}
    assert score == {student: e["points"] for student, e in expected.items()}
    assert {e["kind"] for e in expected.values()} >= {"honest", "partial", "empty", "hanging", *_tool().CHEATS}
    assert max(score.values()) == 11 and score["s001-honest"] == 11  # 02's full marks (2 + 3 + 3 + 1 + 1 + 1): some earn them
    assert f"{len(expected)} of {len(expected)} submissions graded" in out


def test_sigterm_stops_cleanly_and_a_rerun_resumes(made):
    folder, expected = made
    out = folder / "stopped"
    some = sorted((folder / "submissions").iterdir())[:4]  # four are enough to stop after the first
    expected = {p.name: expected[p.name] for p in some}
    process = _grade(out, *some)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (not results.exists() or not results.read_text().count("\n")):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143 and "rerun the same command" in err
    done = [json.loads(line) for line in results.read_text().splitlines()]  # every line whole
    assert 1 <= len(done) < len(expected)
    ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
    assert str(out / "work") not in ps  # no sandbox of this run left running (bwrap's arguments name its scratch)
    rerun = _grade(out, *some)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(lines) == len(expected) and lines[: len(done)] == done  # the first ones were not graded again
    assert {e["student"] for e in lines} == set(expected)
