"""Stage 5, judge: the released checker's verdict on the learner's outputs, in the grader's own process.

The checker is the one the notebook calls (``check_<id>``, found by :mod:`cnnlib.grading.release`),
unchanged; only what it is given differs:

- a numeric exercise: the value the sandbox sent back (plain numbers, arrays, tuples);
- a function exercise: a stand-in function, :func:`replay`, that answers each case the checker
  asks for with the learner's recorded output for that case (found by the inputs' fingerprint):
  it returns the recorded result, raises the recorded exception (as its nearest built-in class)
  and makes the recorded in-place changes to its inputs. The checker computes its reference,
  compares and picks its hint exactly as in the notebook. What the learner's function takes from
  cnnlib or torch (a shortcut the checker refuses) was read in the sandbox and comes with it.

So the learner's code never runs here, and nothing it did in the sandbox (patching a checker,
recording a verdict, writing a log) reaches this process. Checkers print and record into a
process-wide registry, so :func:`judge` holds ``CHECKER_LOCK`` while one runs.
"""
from __future__ import annotations

import contextlib
import io

from cnnlib.exercises import core
from cnnlib.exercises.core import ERROR, NOT_ATTEMPTED, Verdict
from cnnlib.exercises.functions import record_findings
from cnnlib.grading import wire
from cnnlib.grading.release import CHECKER_LOCK, Exercise
from cnnlib.grading.run import Outputs


def replay(exercise: Exercise, outputs: Outputs, name: str):
    """A function that gives the checker the learner's recorded output for each of its cases."""
    index = {wire.fingerprint(tuple(c.inputs.values())): i for i, c in enumerate(exercise.cases or ())}

    def learner(*args):
        i = index.get(wire.fingerprint(args))
        if i is None:
            raise RuntimeError("the grader has no recorded output for this case")
        record = outputs.cases.get(i)
        if record is None:
            raise TimeoutError("it did not finish this case within the grader's time limit")
        for k, new in record.get("changed", {}).items():
            if k < len(args) and hasattr(args[k], "shape"):
                if args[k].shape != getattr(new, "shape", None):
                    args[k].resize(new.shape, refcheck=False)
                args[k][...] = new
        if "raised" in record:
            raise wire.rebuild_error(record["raised"])
        return record["value"]

    learner.__name__ = learner.__qualname__ = name
    record_findings(learner, outputs.shortcuts)  # judged by the learner's own code, not this stand-in's
    return learner


def _program_error(outputs: Outputs) -> str:
    if not outputs.errors:
        return ""
    e = outputs.errors[0]
    return f" (your cell raised {e.get('type', 'Exception')}: {str(e.get('message', ''))[:200]} at `{e.get('line', '')}`)"


def judge(exercise: Exercise, outputs: Outputs, problem: str = "") -> Verdict:
    """The verdict of ``exercise``'s checker on ``outputs``; ``problem`` says why there was no answer to run."""
    if problem and outputs.state in ("undefined", "crashed"):
        return Verdict(exercise.id, ERROR, f"could not read your answer: {problem}")
    if outputs.state == "crashed":
        return Verdict(exercise.id, ERROR, "running your answer crashed (out of memory, or it ended the process)")
    if outputs.state == "timed out" and exercise.kind == "value":
        return Verdict(exercise.id, ERROR, "your answer cells did not finish within the grader's time limit")
    if outputs.state == "undefined":
        if outputs.errors:
            return Verdict(exercise.id, ERROR, f"{exercise.target} is not defined{_program_error(outputs)}")
        return Verdict(exercise.id, NOT_ATTEMPTED, f"not attempted: {exercise.target} is not defined")
    if exercise.kind == "value":
        answer = outputs.value
    elif outputs.state == "not callable":
        answer = type(outputs.detail or "object", (), {})()  # the checker names its type
    else:
        answer = replay(exercise, outputs, exercise.target.split(".")[-1])
    with CHECKER_LOCK:
        core.clear_verdicts()
        with contextlib.redirect_stdout(io.StringIO()):
            exercise.checker(answer)
        verdict = core.latest(exercise.id)
        core.clear_verdicts()
    if verdict is None:
        return Verdict(exercise.id, ERROR, "the checker recorded no verdict (a bug in cnnlib.exercises)")
    return verdict
