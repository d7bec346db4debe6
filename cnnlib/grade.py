"""Grade notebooks against their release: the learner's answers run sandboxed, verdicts from the grader.

    python -m cnnlib.grade [--json FILE] [--timeout S] NOTEBOOK.ipynb ...
    python -m cnnlib.grade -j 2 --out grades/ submissions/          # a class: folders are searched

A submission is matched to its release, the instructor edition ``notebooks/NN_name.ipynb`` (or
``--release DIR``), by file name, which also gives the student id:
``submissions/<student id>/02_convolution.ipynb`` or ``<student id>_02_convolution.ipynb``. The
release alone decides the exercises and their points. Each exercise's answer cells are run in a
sandbox on the checker's cases and only the learner's outputs come back; the checker judges them
in this process (see ``cnnlib.grading``). Every row has a notebook, an exercise id, a status
(pass, fail, not attempted, error) and a message; a file that cannot be graded gets a row of its
own (exercise "-"). Then a total per notebook, in points.

With ``--out DIR``: ``results.jsonl`` (a line per submission as soon as it is graded; a rerun
resumes), ``gradebook.csv`` (nbgrader's export layout, a column per exercise) and
``feedback/<student>/<notebook>.html``. SIGTERM or Ctrl-C stops cleanly: sandboxes are killed,
finished lines are kept, and the rerun grades the rest.

Without bubblewrap (``apt-get install bubblewrap``) the grader refuses to run submissions unless
given ``--unsafe-no-sandbox``. The exit status is 0 once every submission has its rows, whatever
the marks; 2 for a usage error or no sandbox; 143 after a stop.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from cnnlib.exercises.core import ERROR, FAIL, NOT_ATTEMPTED, PASS
from cnnlib.grading import pipeline
from cnnlib.grading.release import Releases
from cnnlib.grading.report import Results, write_gradebook
from cnnlib.grading.sandbox import Limits, Sandbox

NOTEBOOK_ROW = "-"  # the exercise of a row about the whole notebook


@dataclass(frozen=True)
class Row:
    notebook: str
    exercise: str
    status: str
    message: str


def rows_of(entry: dict) -> list[Row]:
    """A submission's rows: one about the whole file if something went wrong with it, then one per exercise."""
    name = entry["notebook"]
    rows = [Row(name, NOTEBOOK_ROW, ERROR, entry["notebook_error"])] if entry.get("notebook_error") else []
    return rows + [Row(name, r["exercise"], r["status"], r["message"]) for r in entry["exercises"]]


def grade_notebook(path, timeout: float = 600, kernel_name: str = "python3", label: str | None = None,
                   release: Path | None = None, cell_timeout: float = 60, feedback: bool = True,
                   unsafe: bool = False) -> list[Row]:
    """Grade one notebook and return its rows (never raises for a bad notebook, timeout or dead kernel).

    ``label`` names the notebook in the rows (default: its file name). ``kernel_name`` is kept for
    callers of the first grader; the sandbox runs its own kernel.
    """
    del kernel_name
    releases = Releases(release)
    sandbox = Sandbox(Limits(), unsafe=unsafe, hidden=(releases.folder,))
    options = pipeline.Options(timeout=timeout, cell_timeout=cell_timeout, feedback=feedback)
    return rows_of(pipeline.grade_submission(Path(path), releases, sandbox, options, label=label))


def format_table(entries: list[dict], width: int = 100) -> str:
    """The rows as an aligned text table (first line of each message), then a total per submission."""
    header = ("notebook", "exercise", "status", "hint")
    body = [(r.notebook, r.exercise, r.status, (r.message.splitlines() or [""])[0])
            for e in entries for r in rows_of(e)]
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(3)]
    lines = []
    for cols in [header, *body]:
        hint = cols[3] if len(cols[3]) <= width else cols[3][: width - 3] + "..."
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(cols[:3], widths)) + "  " + hint)
    lines.insert(1, "-" * min(len(lines[0]), sum(widths) + 6 + width))
    lines.append("")
    for e in entries:
        rows = e["exercises"]
        if not rows:
            lines.append(f"{e['notebook']}: no exercise graded")
            continue
        counts = {s: sum(r["status"] == s for r in rows) for s in (PASS, FAIL, NOT_ATTEMPTED, ERROR)}
        rest = ", ".join(f"{n} {s}" for s, n in counts.items() if s != PASS and n)
        lines.append(f"{e['notebook']}: {e['score']:g} of {e['max_score']:g} points, {counts[PASS]} of {len(rows)} "
                     f"exercises pass" + (f" ({rest})" if rest else "") + f" [student {e['student']}]")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cnnlib.grade", description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK.ipynb",
                   help="submissions: notebooks, or folders searched for *.ipynb")
    p.add_argument("--json", type=Path, metavar="FILE",
                   help="also write the rows as a JSON list of {notebook, exercise, status, message}")
    p.add_argument("--timeout", type=float, default=600, metavar="S",
                   help="time limit for running a whole notebook for feedback, kernel start included (default 600)")
    p.add_argument("--cell-timeout", type=float, default=60, metavar="S",
                   help="time limit per cell of the feedback run, and per exercise's answer run (default 60)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="submissions graded at once (default 1)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write DIR/results.jsonl (resumable), DIR/gradebook.csv and DIR/feedback/")
    p.add_argument("--release", type=Path, metavar="DIR",
                   help="the instructor edition to grade against (default: notebooks/ beside cnnlib)")
    p.add_argument("--no-feedback", action="store_true", help="do not execute whole notebooks (no HTML feedback)")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="memory per process in MiB (heap and private mappings, default 2048)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run submissions WITHOUT bubblewrap, with your rights (only resource limits): trusted code only")
    p.add_argument("--kernel", default="python3", help=argparse.SUPPRESS)  # the first grader's option, now unused
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.cell_timeout <= 0:
        parser.error("--timeout and --cell-timeout must be positive")
    if args.jobs < 1:
        parser.error("-j must be at least 1")
    pipeline.STOP.clear()
    releases = Releases(args.release)
    try:
        sandbox = Sandbox(Limits(memory_mb=args.memory_mb), unsafe=args.unsafe_no_sandbox, hidden=(releases.folder,))
    except RuntimeError as err:
        print(f"python -m cnnlib.grade: refusing to grade: {err}", file=sys.stderr)
        return 2
    if args.unsafe_no_sandbox:
        print("WARNING: --unsafe-no-sandbox: submissions run with your own rights, unsandboxed", file=sys.stderr)
    paths = pipeline.submissions(args.notebooks)
    names = [p.name for p in paths]
    labels = {p: (p.name if names.count(p.name) == 1 else str(p)) for p in paths}
    results = None
    if args.out:
        (args.out / "work").mkdir(parents=True, exist_ok=True)
        results = Results(args.out / "results.jsonl")
    options = pipeline.Options(args.timeout, args.cell_timeout, not args.no_feedback, args.out)

    def stop(signum, frame):
        pipeline.STOP.set()

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    start = time.monotonic()
    try:
        entries = pipeline.grade_class(paths, releases, sandbox, options, args.jobs, results, labels)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    print(format_table(entries))
    print(f"\n{len(entries)} of {len(paths)} submissions graded in {time.monotonic() - start:.0f} s")
    if args.out:
        write_gradebook(list(results.done.values()), args.out / "gradebook.csv")
    if args.json:
        rows = [asdict(r) for e in entries for r in rows_of(e)]
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    if pipeline.STOP.is_set():
        print("stopped: rerun the same command to grade the rest", file=sys.stderr)
        return 143
    return 0


if __name__ == "__main__":
    sys.exit(main())
