"""No expected answer is shown above its exercise: not in the student edition's Markdown, and not in what the
cells above it print (the instructor edition's stored outputs: what a learner sees after running them).

For every numeric exercise of notebooks 01-09 the expected answer is found two ways, and at least one must
work (a new exercise that neither reaches fails the coverage test):

- from its checker: the checker is run on a few impossible answers while ``expect_equal``,
  ``expect_close`` and ``expect_by_hand`` only record the value they are asked to compare with;
- from its worked solution: the program the grader extracts (``cnnlib.grading.extract``: the notebook's
  imports, the cells above that the answer reads, the solution cell) is run, within a time limit, where
  the checker gave nothing.

Each value is searched in the forms a learner reads (see :func:`forms`): 61706, 61,706, 61 706, 61.7K,
61.7 thousand; 27x27x256, 27 × 27 × 256, (27, 27, 256); 1.84 for 1.84235. Trivially small answers are left
out: whole numbers below 100, shapes whose product is below 100, and decimals with fewer than three
significant digits (0, 1, 2, 0.7, 1.5 are everywhere and give nothing away).
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import io
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cnnlib.exercises import core
from cnnlib.exercises.guard import run_guarded
from cnnlib.grading.extract import extract
from cnnlib.grading.release import load_release

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))
PROGRAM_LIMIT_S = 20.0  # a worked solution's program; one that needs more counts as not found
IMPOSSIBLE = [987_654_321, 98765.4321, (987_654_321,) * 2, (987_654_321,) * 3, (987_654_321,) * 4,
              np.full((2, 3), 98765.4321)]
_SPACE = r"[ \u00a0\u2009\u202f]"


# -- expected values ---------------------------------------------------------------------------------
def _from_checker(checker) -> list:
    """The values the checker compares answers with, recorded while it judges impossible answers."""
    seen: list = []
    module = sys.modules[checker.__module__]

    def record(answer, expected, *args, **kwargs):  # records, and lets the checker go on to its next value
        seen.append(expected)

    patched = {name: getattr(module, name) for name in ("expect_equal", "expect_close", "expect_by_hand")
               if hasattr(module, name)}
    try:
        for name in patched:
            setattr(module, name, record)
        with contextlib.redirect_stdout(io.StringIO()):
            for answer in IMPOSSIBLE:
                checker(answer)
    finally:
        for name, original in patched.items():
            setattr(module, name, original)
        core.clear_verdicts()
    return seen


def _from_solution(program: str, target: str):
    def run():
        namespace: dict = {}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(program, "<worked solution>", "exec"), namespace)  # noqa: S102 - our own notebook
        return eval(target, namespace)  # noqa: S307
    outcome = run_guarded(run, time_limit=PROGRAM_LIMIT_S)
    return [] if outcome.error is not None or outcome.timed_out else [outcome.value]


# Values that give an answer away together without being it: a ratio whose two terms are both shown above
# is read off (each term alone is not a leak).
TERMS = {"macs_ratio": ("cnnlib.exercises.nb09", ("VGG19_MACS", "RESNET152_MACS"))}


@functools.lru_cache(maxsize=None)
def expected_answers(path: Path) -> dict[str, list]:
    """Per numeric exercise id of an instructor notebook, the values its answer is judged against."""
    release = load_release(path)
    answers = None
    found = {}
    for e in release.exercises:
        if e.kind != "value":
            continue
        values = _from_checker(e.checker)
        if not values:
            if answers is None:
                answers = extract(nbformat.read(path, as_version=4), release)
            values = _from_solution(answers[e.id].program, e.target)
        found[e.id] = values
    return found


# -- the forms a learner reads -----------------------------------------------------------------------
def _number(text: str) -> str:
    """A regex for a number written as ``text``, not part of a longer number."""
    return rf"(?<![\d.,]){re.escape(text)}(?![\d]|[.,]\d)"


def _whole(n: int) -> set[str]:
    n = abs(int(n))
    if n < 100:
        return set()
    grouped = f"{n:,}"
    found = {_number(str(n)), _number(grouped), _number(grouped.replace(",", "{,}"))}
    found.add(rf"(?<![\d.,]){_SPACE.join(re.escape(g) for g in grouped.split(','))}(?![\d]|[.,]\d)")
    for scale, suffix in [(1e3, r"(?:K|k|thousand)"), (1e6, r"(?:M|million|mn)"), (1e9, r"(?:G|B|billion|bn)")]:
        x = n / scale
        if n >= 10_000 and 1 <= x < 1000:
            for spec in (".3g", ".4g"):
                found.add(rf"(?<![\d.,]){re.escape(format(x, spec))}{_SPACE}?{suffix}(?![a-zA-Z])")
    return found


def _decimal(x: float) -> set[str]:
    x = abs(float(x))
    if x == 0 or x.is_integer():
        return _whole(int(x)) if x.is_integer() else set()
    found = set()
    for spec in (".3g", ".4g"):
        text = format(x, spec)
        if len(re.sub(r"[^\d]", "", text).lstrip("0")) >= 3 and "e" not in text:
            found.add(_number(text))
            if x < 1:
                found.add(rf"(?<![\d.,]){re.escape(format(100 * x, spec))}{_SPACE}?%")
    return found


def _shape(dims: tuple[int, ...]) -> set[str]:
    if len(dims) < 2 or int(np.prod([max(d, 1) for d in dims])) < 100:
        return set()
    times = rf"{_SPACE}*(?:x|×|\\times|\*){_SPACE}*"
    return {rf"(?<![\d.,]){times.join(map(str, dims))}(?![\d]|[.,]\d)",
            r"[(\[]\s*" + r"\s*,\s*".join(map(str, dims)) + r"\s*,?\s*[)\]]"}


def forms(value) -> set[str]:
    """Regexes for every way ``value`` (a number, or a tuple of them: a shape) would be written out."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return set()
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        items = list(np.asarray(value, dtype=np.float64)) if isinstance(value, np.ndarray) else list(value)
        # each entry alone only if it is a count (27 or 256 of a shape is in any question about it)
        scalars = [v for v in items if not float(v).is_integer() or abs(float(v)) >= 1000]
        found = set().union(*(forms(v) for v in scalars)) if scalars else set()
        if items and all(float(v).is_integer() for v in items if isinstance(v, (int, float, np.number))) \
                and all(isinstance(v, (int, float, np.number)) for v in items):
            dims = tuple(int(v) for v in items)
            for length in range(len(dims), 1, -1):  # the whole shape and its runs of 3 or more (27x27x256 of 4)
                for start in range(len(dims) - length + 1):
                    if length == len(dims) or length >= 3:
                        found |= _shape(dims[start:start + length])
        return found
    if isinstance(value, np.ndarray):
        return forms(value.item()) if value.size == 1 else set()  # a matrix answer: its small entries say nothing
    if isinstance(value, (int, np.integer)):
        return _whole(int(value))
    if isinstance(value, (float, np.floating)):
        return _decimal(float(value))
    return set()


# -- where a learner reads them ----------------------------------------------------------------------
def _output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        for mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
            if mime in out.get("data", {}):
                parts.append(out["data"][mime])
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


def _above(nb, exercise_cell: str) -> list[tuple[int, str, str]]:
    """(cell number, what, text) of the Markdown and the stored outputs above the exercise cell."""
    cells = nb.cells
    stop = next((i for i, c in enumerate(cells) if c.get("id") == exercise_cell), len(cells))
    found = []
    for i, cell in enumerate(cells[:stop]):
        if cell.cell_type == "markdown":
            found.append((i, "Markdown", cell.source))
        elif cell.cell_type == "code" and cell.get("outputs"):
            found.append((i, "output", _output_text(cell)))
    return found


def leaks(path: Path, student_nb) -> list[str]:
    """Every place an expected answer is readable above its exercise, in a sentence each."""
    instructor = nbformat.read(path, as_version=4)
    release = load_release(path)
    expected = expected_answers(path)
    found = []
    for e in release.exercises:
        if e.id not in expected:
            continue
        exercise_cell = e.answer_cells[0]
        patterns = set().union(*(forms(v) for v in expected[e.id])) if expected[e.id] else set()
        places = ([("student edition", *p) for p in _above(student_nb, exercise_cell) if p[1] == "Markdown"]
                  + [("instructor edition", *p) for p in _above(instructor, exercise_cell) if p[1] == "output"])
        found += [f"{path.stem} {e.id}: {hit}" for hit in _hits(patterns, places)]
        if e.id in TERMS:
            module, names = TERMS[e.id]
            terms = [_hits(forms(getattr(importlib.import_module(module), n)), places) for n in names]
            if all(terms):
                found += [f"{path.stem} {e.id} (both terms of the ratio are shown): {t[0]}" for t in terms]
    return found


def _hits(patterns, places) -> list[str]:
    """Where any of ``patterns`` matches in ``places`` (the first match of each place), in sentences."""
    hits = []
    for edition, number, what, text in places:
        for pattern in sorted(patterns):
            match = re.search(pattern, text)
            if match:
                start = max(0, match.start() - 40)
                context = text[start:match.end() + 40].replace("\n", " ")
                hits.append(f"{match.group(0)!r} in the {what} of cell {number} ({edition}), above the exercise: "
                            f"...{context}...")
                break
    return hits


# -- the tests -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def student_editions(tmp_path_factory):
    """The student edition of notebooks 01-09, built by tools/student.py into a scratch folder."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        student = importlib.import_module("student")
    finally:
        sys.path.remove(str(ROOT / "tools"))
    out = tmp_path_factory.mktemp("student")
    assert student.main([str(p) for p in NOTEBOOKS] + ["--out", str(out)]) == 0
    return {p.name: nbformat.read(out / "notebooks" / p.name, as_version=4) for p in NOTEBOOKS}


def test_every_numeric_exercise_has_an_expected_answer_to_look_for():
    missing = [f"{p.stem} {key}" for p in NOTEBOOKS for key, values in expected_answers(p).items() if not values]
    assert not missing, f"no expected value found (checker or worked solution) for: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_no_expected_answer_is_shown_above_its_exercise(path, student_editions):
    found = leaks(path, student_editions[path.name])
    assert not found, "answers shown before their exercise:\n" + "\n".join(found)


# -- the forms themselves --------------------------------------------------------------------------
@pytest.mark.parametrize("value, text", [
    (61706, "LeNet-5 has 61,706 parameters"), (61706, "61706"), (61706, "about 61.7K weights"),
    (61706, "61.7 thousand"), (61706, "61 706"), (19_630_000_000, "19.63G MACs"), (614656, "614,656"),
    ((27, 27, 256), "27x27x256"), ((27, 27, 256), "27 × 27 × 256"), ((27, 27, 256), "(27, 27, 256)"),
    ((27, 27, 256, 614656), "a 27x27x256 map"), (1.8423495823898222, "a loss of 1.84"),
    (0.8936473749490668, "89.4% of the weights"),
])
def test_forms_find_an_answer_written_out(value, text):
    assert any(re.search(p, text) for p in forms(value)), (value, text)


@pytest.mark.parametrize("value, text", [
    (61706, "161,706"), (61706, "61,7060"), (61706, "617.06"), (1.8423495823898222, "1.845"),
    ((27, 27, 256), "27x27x2560"), (10, "10 layers"), ((2, 1), "(2, 1)"), (0.7, "0.7"), (1.5, "1.5"),
    ((27, 27, 256, 614656), "CONV2 has 256 filters"),
])
def test_forms_leave_other_numbers_and_small_answers_alone(value, text):
    assert not any(re.search(p, text) for p in forms(value)), (value, text)


def test_a_leak_in_markdown_or_in_an_output_above_the_exercise_is_found(tmp_path):
    from exercise_notebooks import instructor_notebook, load_student_tool, write

    nb = instructor_notebook()
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("Such a layer holds 23.04M parameters."))
    shown = nbformat.v4.new_code_cell("print(320 * 240 * 3 * 100 + 100)", execution_count=1,
                                      outputs=[nbformat.v4.new_output("stream", text="23,040,100\n")])
    nb.cells.insert(2, shown)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"
    path = write(nb, tmp_path / "01_tiny.ipynb")
    found = leaks(path, load_student_tool().student_edition(nb))
    assert len(found) == 2 and all(f.startswith("01_tiny fc_parameters:") for f in found), found
    assert "'23.04M' in the Markdown of cell 1 (student edition)" in found[0]
    assert "'23,040,100' in the output of cell 2 (instructor edition)" in found[1]
