"""Stage 1, the release: which exercises a notebook has, what each is worth and how each is checked.

The release is the instructor edition, ``notebooks/NN_name.ipynb`` beside the installed cnnlib
(or ``--release DIR``). A submission is matched to it by file name (:func:`identify`), and from
then on the release alone decides the exercises: a submission that deletes a check cell, or
invents one, changes nothing. For every "check" cell of the release (see ``cnnlib.exercises``)
an :class:`Exercise` records

- the checker ``check_<id>`` (found among ``cnnlib.exercises``' modules by its id) and its points
  (``@exercise(points=...)``);
- the expression the check cell hands to it (``conv2d_loops``, ``answer``): what the learner's
  answer cells must define;
- the ids of its exercise, solution and check cells, to find the learner's answer cells;
- for a function exercise, the cases its checker runs (asked through
  ``cnnlib.exercises.functions.CASE_SINK``, without running anything); a numeric exercise has none.
"""
from __future__ import annotations

import ast
import contextlib
import importlib
import io
import pkgutil
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

import cnnlib
import cnnlib.exercises
from cnnlib.exercises.core import DEFAULT_POINTS
from cnnlib.exercises.functions import CASE_SINK, Case

CHECK, EXERCISE, SOLUTION = "check", "exercise", "solution"
# Checkers print (sys.stdout, swapped while one runs) and record into a process-wide registry: one
# checker at a time in the whole grader, whichever thread asks (cases_of here, judge.judge).
CHECKER_LOCK = threading.RLock()


def default_release_dir() -> Path:
    """The instructor edition that ships with cnnlib: ``notebooks/`` beside the package."""
    return Path(cnnlib.__file__).resolve().parents[1] / "notebooks"


@dataclass(frozen=True)
class Exercise:
    id: str
    points: float
    checker: Callable[..., bool]
    target: str                      # the expression the check cell passes to the checker
    check_cell: str                  # cell ids in the release
    answer_cells: tuple[str, ...]    # its exercise cell and its solution cell
    cases: tuple[Case, ...] | None   # a function exercise's cases; None for a numeric answer

    @property
    def kind(self) -> str:
        return "value" if self.cases is None else "function"


@dataclass(frozen=True)
class Release:
    name: str          # the notebook's file name, e.g. 02_convolution.ipynb
    path: Path
    exercises: tuple[Exercise, ...]

    @property
    def max_points(self) -> float:
        return sum(e.points for e in self.exercises)


def checkers() -> dict[str, Callable[..., bool]]:
    """Every ``@exercise`` checker of ``cnnlib.exercises``' modules, by exercise id."""
    found = {}
    for info in pkgutil.iter_modules(cnnlib.exercises.__path__):
        module = importlib.import_module(f"cnnlib.exercises.{info.name}")
        for value in vars(module).values():
            key = getattr(value, "__exercise__", None)
            if isinstance(key, str) and callable(value):
                found.setdefault(key, value)
    return found


def cases_of(checker: Callable[..., bool]) -> tuple[Case, ...] | None:
    """The cases a function checker runs (nothing is run), or None for a checker of a numeric answer."""
    sink: list = []
    token = CASE_SINK.set(sink)
    try:
        with CHECKER_LOCK, contextlib.redirect_stdout(io.StringIO()):
            checker(lambda *args: None)
    finally:
        CASE_SINK.reset(token)
    return tuple(sink) if sink else None


def _check_call(source: str) -> tuple[str, str] | None:
    """(exercise id, the argument's source) of a check cell's ``check_<id>(arg)`` call."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name.startswith("check_") and len(node.args) == 1 and not node.keywords:
                return name[len("check_"):], ast.unparse(node.args[0])
    return None


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def load_release(path: Path, registry: dict | None = None) -> Release:
    """The exercises of one instructor notebook, in order; raises ValueError if a check cell is malformed."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    registry = checkers() if registry is None else registry
    exercises, answers = [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = _tags(cell)
        if EXERCISE in tags or SOLUTION in tags:
            answers.append(cell.get("id"))
        if CHECK not in tags:
            continue
        call = _check_call(cell.source)
        if call is None:
            raise ValueError(f"{path.name}: check cell {cell.get('id')} has no check_<id>(answer) call")
        key, target = call
        if key not in registry:
            raise ValueError(f"{path.name}: no checker check_{key} in cnnlib.exercises")
        checker = registry[key]
        exercises.append(Exercise(key, float(getattr(checker, "points", DEFAULT_POINTS)), checker, target,
                                  cell.get("id"), tuple(a for a in answers if a), cases_of(checker)))
        answers = []
    if len({e.id for e in exercises}) != len(exercises):
        raise ValueError(f"{path.name}: an exercise is checked twice")
    return Release(path.name, path, tuple(exercises))


def identify(path: Path, release_names) -> tuple[str, str | None]:
    """(student id, release notebook name or None) of a submission, from its path.

    ``submissions/alice/02_convolution.ipynb``: the file is named like the release notebook and
    the folder is the student's id. ``alice_02_convolution.ipynb`` (or ``alice-`` / ``alice.``):
    the id comes before the release's name. The longest release name that fits wins.
    """
    path = Path(path)
    for name in sorted(release_names, key=len, reverse=True):
        if path.name == name:
            return path.parent.name or "-", name
        match = re.fullmatch(rf"(.+?)[_.\-]{re.escape(name)}", path.name)
        if match:
            return match.group(1), name
    return path.stem, None


class Releases:
    """The release notebooks of a folder, loaded once each when first asked for."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_release_dir()
        self.names = sorted(p.name for p in self.folder.glob("*.ipynb")) if self.folder.is_dir() else []
        self._loaded: dict[str, Release] = {}
        self._registry: dict | None = None
        self._lock = threading.Lock()

    def get(self, name: str) -> Release:
        with self._lock:  # workers ask at once: load it once
            if name not in self._loaded:
                if self._registry is None:
                    self._registry = checkers()
                self._loaded[name] = load_release(self.folder / name, self._registry)
            return self._loaded[name]
