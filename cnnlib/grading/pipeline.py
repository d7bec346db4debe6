"""The grader's pipeline for one submission, and for a class of them with ``-j N`` workers.

    release -> extract -> run (sandbox) -> judge -> report

:func:`grade_submission` grades one file and returns its result entry (the line of
``results.jsonl``); :func:`grade_class` grades many with a pool of workers, writes each entry as
soon as it is done, skips what an earlier run with the same output folder already graded, and
stops cleanly when :data:`STOP` is set (``python -m cnnlib.grade`` sets it on SIGTERM and
SIGINT; the sandboxes still running are killed and their submissions are left for the rerun).
"""
from __future__ import annotations

import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, CancelledError, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from cnnlib.exercises.core import ERROR, PASS
from cnnlib.grading.extract import extract
from cnnlib.grading.judge import judge
from cnnlib.grading.release import Releases, identify
from cnnlib.grading.report import Results, feedback_notebook, sha256, write_feedback
from cnnlib.grading.run import run_answer, run_notebook
from cnnlib.grading.sandbox import Sandbox, kill_all

STOP = threading.Event()


class Stopped(Exception):
    """The run was asked to stop before this submission was graded."""


@dataclass
class Options:
    timeout: float = 600          # the whole notebook's feedback run, kernel start included
    cell_timeout: float = 60      # one cell of the feedback run; one exercise's answer run
    feedback: bool = True         # execute the notebook and write the HTML feedback
    out: Path | None = None       # results.jsonl, gradebook.csv, feedback/


def _entry(path: Path, student: str, notebook: str, digest: str) -> dict:
    return {"submission": str(path), "sha256": digest, "student": student, "notebook": notebook,
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "exercises": [], "score": 0.0, "max_score": 0.0, "notebook_error": None, "feedback": None}


def grade_submission(path: Path, releases: Releases, sandbox: Sandbox, options: Options, slot: int = 0,
                     label: str | None = None) -> dict:
    """Grade one submission: its entry, with a row per exercise of its release (never raises for a bad file)."""
    path = Path(path)
    start = time.monotonic()
    student, name = identify(path, releases.names)
    digest = sha256(path) if path.is_file() else ""
    entry = _entry(path, student, label or path.name, digest)
    if name is None:
        entry["notebook_error"] = (f"no release notebook matches the file name {path.name!r} "
                                   f"(expected one of {', '.join(releases.names) or 'none'} in {releases.folder})")
        return entry
    release = releases.get(name)
    entry["max_score"] = release.max_points
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # noqa: BLE001 - JSON errors, missing files, invalid notebooks, ...
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        entry["notebook_error"] = f"not a notebook that can be graded ({type(err).__name__}: {reason})"
        entry["exercises"] = [_row(e, ERROR, "the submission could not be read", 0) for e in release.exercises]
        return entry
    answers = extract(nb, release)
    work = Path(tempfile.mkdtemp(prefix=f"cnnlib-grade-{slot}-", dir=options.out and options.out / "work"))
    try:
        for k, e in enumerate(release.exercises):
            if STOP.is_set():
                raise Stopped
            outputs = run_answer(sandbox, e, answers[e.id], work / f"answer-{k}", options.cell_timeout, slot)
            if STOP.is_set():
                raise Stopped
            v = judge(e, outputs, answers[e.id].problem)
            entry["exercises"].append(_row(e, v.status, v.message, e.points if v.status == PASS else 0))
        entry["score"] = sum(r["points"] for r in entry["exercises"])
        if options.feedback:
            executed, result = run_notebook(sandbox, nb, work, options.cell_timeout, options.timeout, slot)
            if STOP.is_set():
                raise Stopped
            if result.timed_out:
                entry["notebook_error"] = f"the notebook timed out (limit {options.timeout:g} s)"
            elif executed is None:
                entry["notebook_error"] = "the notebook could not be run"
            if options.out is not None:
                index = {c.get("id"): i for i, c in enumerate(nb.cells)}
                checks = {e.id: index[e.check_cell] for e in release.exercises if e.check_cell in index}
                target = options.out / "feedback" / _safe(student) / f"{Path(name).stem}.html"
                write_feedback(feedback_notebook(executed, entry, checks), target)
                entry["feedback"] = str(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    entry["seconds"] = round(time.monotonic() - start, 1)
    return entry


def _row(exercise, status: str, message: str, points: float) -> dict:
    return {"exercise": exercise.id, "status": status, "points": float(points), "max_points": exercise.points,
            "message": message}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "_"


def submissions(paths) -> list[Path]:
    """The notebooks named, folders searched for ``*.ipynb`` (checkpoints skipped), in a stable order."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        else:
            found.append(p)
    return found


def grade_class(paths: list[Path], releases: Releases, sandbox: Sandbox, options: Options, jobs: int = 1,
                results: Results | None = None, labels: dict | None = None, on_done=None) -> list[dict]:
    """Grade every submission with ``jobs`` workers; entries in the order of ``paths`` (graded ones only)."""
    slots: queue.Queue = queue.Queue()
    for s in range(jobs):
        slots.put(s)
    entries: dict[int, dict] = {}

    def work(i: int, path: Path) -> dict:
        slot = slots.get()
        try:
            return grade_submission(path, releases, sandbox, options, slot, (labels or {}).get(path))
        finally:
            slots.put(slot)

    todo = []
    for i, path in enumerate(paths):
        done = results.get(str(path), sha256(path)) if results and path.is_file() else None
        if done is not None:
            entries[i] = done
        else:
            todo.append((i, path))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        pending = {pool.submit(work, i, p): i for i, p in todo}
        while pending:
            finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            if STOP.is_set():
                kill_all()
                for f in pending:
                    f.cancel()
            for f in finished:
                i = pending.pop(f)
                try:
                    entry = f.result()
                except (Stopped, CancelledError):
                    continue
                entries[i] = entry
                if results is not None:
                    results.add(entry)
                if on_done:
                    on_done(entry)
            if STOP.is_set():
                kill_all()
    return [entries[i] for i in sorted(entries)]
