"""Inside the sandbox: run one exercise's answer program and write down the learner's outputs.

    python -s -P -m cnnlib.grading.child        (in the run's scratch folder)

Reads ``job.json`` (written by the grader with :mod:`cnnlib.grading.wire`): the program (the
learner's kept statements, see :mod:`cnnlib.grading.extract`), the target expression and, for a
function exercise, the inputs of every case. Runs the program one statement at a time (a
statement that raises is noted and the next one runs), then

- a numeric exercise: writes the target's value as ``value``;
- a function exercise: calls the target on each case's inputs, in order, and writes
  ``case<i>`` as soon as that case is done: the result or the exception, and every input array
  the function changed in place.

No checker, no reference and no verdict is here: the grader judges these outputs in its own
process. Whatever the learner's code does to this process changes only its own outputs.
"""
from __future__ import annotations

import ast
import copy
from pathlib import Path

import numpy as np

from cnnlib.exercises.own_code import shortcut_findings  # bound before the learner's code runs
from cnnlib.grading import wire

HERE = Path(".")


def _run_program(program: str, namespace: dict) -> list[dict]:
    errors = []
    for node in ast.parse(program).body:
        try:
            exec(compile(ast.Module([node], type_ignores=[]), "<answer>", "exec"), namespace)  # noqa: S102
        except BaseException as err:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
            errors.append({"line": ast.unparse(node).splitlines()[0][:120], **wire.encode_error(err)})
    return errors


def _status(state: str, errors: list, **more) -> None:
    arrays: dict = {}
    tree = {"state": state, "errors": errors[:20], **{k: wire.encode(v, arrays) for k, v in more.items()}}
    wire.save(HERE, "status", tree, arrays)


def main() -> None:
    loaded = wire.load(HERE, "job")
    if loaded is None:
        raise SystemExit("no job.json")
    job, job_arrays = loaded
    namespace: dict = {"__name__": "__main__"}
    errors = _run_program(job["program"], namespace)
    try:
        target = eval(job["target"], namespace)  # noqa: S307 - the release's expression, in the learner's sandbox
    except BaseException as err:  # noqa: BLE001
        _status("undefined", errors, reason=f"{type(err).__name__}: {err}")
        return
    if job["kind"] == "value":
        arrays: dict = {}
        wire.save(HERE, "value", {"value": wire.encode(target, arrays)}, arrays)
        _status("done", errors)
        return
    if not callable(target):
        _status("not callable", errors, type=type(target).__name__)
        return
    try:  # what the learner's function takes from cnnlib or torch: the checker refuses a shortcut
        findings = [list(f) for f in shortcut_findings(target)]
    except Exception:  # noqa: BLE001 - an odd callable: nothing found
        findings = []
    _status("running", errors, shortcuts=findings)
    for i, inputs in enumerate(job["cases"]):
        args = list(wire.decode(inputs, job_arrays, tensors=True))
        before = copy.deepcopy(args)
        arrays = {}
        try:
            record = {"value": wire.encode(target(*args), arrays)}
        except BaseException as err:  # noqa: BLE001 - the learner's code may raise anything, SystemExit too
            record = {"raised": wire.encode_error(err)}
        record["changed"] = {str(k): wire.encode(a, arrays) for k, (a, b) in enumerate(zip(args, before))
                             if isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                             and (a.shape != b.shape or not np.array_equal(a, b, equal_nan=True))}
        wire.save(HERE, f"case{i}", record, arrays)
    _status("done", errors, shortcuts=findings)


if __name__ == "__main__":
    main()
