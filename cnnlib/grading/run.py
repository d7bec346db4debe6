"""Stage 4, run: each exercise's answer program, and the whole notebook, each in a sandbox of its own.

:func:`run_answers` writes one job per exercise (:mod:`cnnlib.grading.wire`: JSON and ``.npy``,
no pickle) into a fresh scratch folder, runs ``cnnlib.grading.child`` there in the sandbox with
a time limit, and reads back only the learner's outputs (:class:`Outputs`). A case the time
limit cut off simply has no output. :func:`run_notebook` executes the submission in full for the
feedback file (``cnnlib.grading.notebook``), a time limit per cell and one for the notebook.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnnlib.grading import wire
from cnnlib.grading.extract import Answer
from cnnlib.grading.notebook import kernelspec
from cnnlib.grading.release import Exercise
from cnnlib.grading.sandbox import INSIDE_SCRATCH, Sandbox

INSIDE_JUPYTER = "/sandbox/jupyter"


@dataclass
class Outputs:
    """What the sandbox sent back for one exercise: states and plain values only."""

    state: str                       # done, running (cut off), undefined, not callable, crashed, timed out
    value: object = None             # a numeric exercise's answer
    cases: dict = field(default_factory=dict)   # case number -> {"value"/"raised", "changed"}
    errors: list = field(default_factory=list)  # statements of the program that raised
    detail: str = ""                 # the type that was not callable, the name that was undefined
    timed_out: bool = False
    shortcuts: list = field(default_factory=list)  # (sentence, dotted name): what it takes from cnnlib/torch


def _read(folder: Path, name: str):
    try:
        return wire.load(folder, name)
    except (ValueError, OSError, KeyError):
        return None


def run_answer(sandbox: Sandbox, exercise: Exercise, answer: Answer, scratch: Path, timeout: float,
               slot: int = 0) -> Outputs:
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    arrays: dict = {}
    job = {"program": answer.program, "target": exercise.target, "kind": exercise.kind,
           "cases": [wire.encode(tuple(c.inputs.values()), arrays) for c in exercise.cases or ()]}
    wire.save(scratch, "job", job, arrays)
    result = sandbox.run([str(sandbox.python), "-s", "-P", "-m", "cnnlib.grading.child"], scratch, timeout, slot)
    status = _read(scratch, "status")
    if status is None:
        why = "timed out" if result.timed_out else "crashed"
        return Outputs(why, timed_out=result.timed_out, detail=result.log[-500:])
    tree, status_arrays = status
    out = Outputs(str(tree.get("state", "crashed")), errors=list(tree.get("errors", []))[:20],
                  timed_out=result.timed_out)
    for key in ("type", "reason"):
        if key in tree:
            out.detail = str(wire.decode(tree[key], status_arrays))[:300]
    if "shortcuts" in tree:
        found = wire.decode(tree["shortcuts"], status_arrays)
        out.shortcuts = [(str(f[0])[:300], str(f[1])[:200]) for f in list(found)[:20]
                         if isinstance(f, (list, tuple)) and len(f) == 2]
    if exercise.kind == "value" and out.state == "done":
        loaded = _read(scratch, "value")
        out.value = wire.decode(loaded[0]["value"], loaded[1]) if loaded else None
        if loaded is None:
            out.state = "crashed"
    elif exercise.kind == "function":
        for i in range(len(exercise.cases or ())):
            loaded = _read(scratch, f"case{i}")
            if loaded is None:
                continue
            tree, case_arrays = loaded
            record = {"changed": {int(k): wire.decode(v, case_arrays) for k, v in tree.get("changed", {}).items()
                                  if str(k).isdigit()}}
            if "raised" in tree:
                record["raised"] = tree["raised"]
            else:
                record["value"] = wire.decode(tree.get("value", {"t": "json", "v": None}), case_arrays)
            out.cases[i] = record
    if result.timed_out and out.state == "done":
        out.state = "timed out"  # it wrote its outputs but did not end in time: they still count
    return out


def run_answers(sandbox: Sandbox, exercises, answers: dict, workdir: Path, timeout: float, slot: int = 0) -> dict:
    return {e.id: run_answer(sandbox, e, answers[e.id], workdir / f"answer-{k}", timeout, slot)
            for k, e in enumerate(exercises)}


def run_notebook(sandbox: Sandbox, nb, workdir: Path, cell_timeout: float, timeout: float, slot: int = 0):
    """The submission executed in the sandbox (as far as it got), or None if nothing came back."""
    scratch = workdir / "notebook"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    nbformat.write(nb, scratch / "submission.ipynb")
    spec = kernelspec(workdir / "jupyter", str(sandbox.python))
    if sandbox.unsafe:
        extra, inside = [], str(scratch)
        sandbox_env_path = str(spec)
    else:
        extra, inside, sandbox_env_path = [(str(spec), INSIDE_JUPYTER)], INSIDE_SCRATCH, INSIDE_JUPYTER
    command = ["/usr/bin/env", f"JUPYTER_PATH={sandbox_env_path}", str(sandbox.python), "-s", "-P", "-m",
               "cnnlib.grading.notebook", f"{inside}/submission.ipynb", f"{inside}/executed.ipynb",
               str(max(1, int(cell_timeout)))]
    result = sandbox.run(command, scratch, timeout, slot, extra=extra)
    executed = scratch / "executed.ipynb"
    try:
        if executed.is_symlink() or not executed.is_file() or executed.stat().st_size > 64 << 20:
            return None, result
        return nbformat.read(executed, as_version=4), result
    except Exception:  # noqa: BLE001 - whatever the learner left there is not trusted to be a notebook
        return None, result
