"""Self-checking exercises for the notebooks: one module of checkers per notebook (``nb01``, ``nb02``, ...).

Modules
-------
- ``core``: the :class:`~cnnlib.exercises.core.Verdict` of a check, the ``@exercise`` decorator,
  ``verdict`` (numeric answers) and the process-wide registry of verdicts.
- ``answers``: reading numeric answers of any type (list, tuple, NumPy, torch, ``torch.Size``) and
  judging them: ``expect_close`` (found by code, tight), ``expect_by_hand`` (1%, or ``sig_figs``
  / ``decimals``), ``expect_equal`` (counts and shapes, exact), ``as_numbers``, ``as_number``,
  ``as_count``, ``is_close`` (for hints).
- ``functions``: ``check_function(fn, reference, cases, name, hints=..., output_names=...)``
  with :class:`Case` and :class:`Hint`: the learner's function against cnnlib's on many cases;
  float32 answers judged at float32 precision (``compare``), integer results kept integers, and a
  function that calls cnnlib or torch refused as a shortcut (``own_code``; ``allowed=`` for names
  the worked solution may use).
- ``compare``: the tolerance that follows the dtype, and the failing entry shown in full.
- ``own_code``: what a function takes from cnnlib or torch (``shortcuts``, ``assert_own_code``).
- ``guard``: ``run_guarded(fn, *args)``, how every call of a learner's code is made: a time limit
  per call (``TIME_LIMIT_S``, SIGALRM in the main thread, a watcher thread elsewhere), prints
  captured and capped, every exception but KeyboardInterrupt caught (``sys.exit`` too), and
  ``settle`` for iterators that may never end.
- ``examples``: the template of a function exercise (ReLU forward and backward) to copy.

Cell conventions (jupytext percent source, ``notebooks/src/NN_name.py``)
-----------------------------------------------------------------------
Every exercise is three consecutive code cells, after a markdown cell that asks the question::

    # %% tags=["exercise"]
    def conv2d_naive(x, w, b, stride, padding):
        raise NotImplementedError  # your code here

    # %% tags=["solution"] jupyter={"source_hidden": true}
    def conv2d_naive(x, w, b, stride, padding):
        ...                       # the worked solution: redefines the same name, nothing else

    # %% tags=["check"]
    _ = check_conv2d_forward(conv2d_naive)

A numeric exercise is the same with ``answer = None  # your answer here`` in the exercise cell,
``answer = ...`` in the solution cell and ``_ = check_<id>(answer)`` in the check cell.

- "exercise": the learner's stub; it must run as it is (a ``def`` whose body raises
  ``NotImplementedError``, or ``answer = None``).
- "solution": collapsed in the instructor edition (``notebooks/``), removed from the student
  edition (``tools/student.py``, ``make student``). It neither prints nor checks anything.
- "check": exactly one call of one public checker ``check_<id>(name)``, where ``name`` is what the
  exercise defines. The grader (``python -m cnnlib.grade``, ``cnnlib.grading``) reads the exercises
  from the instructor edition's check cells, runs the learner's exercise cells in a sandbox and
  judges what ``name`` gives with the same checker. Use ``_ =`` so the returned bool is not
  displayed. ``@exercise(points=N)`` gives an exercise its points (default 1).

The instructor edition runs the solution, so its stored check output says "correct!". The
student edition has every output cleared; run as it is, every check says "not attempted yet",
and the notebook runs top to bottom without an error. A cell after an exercise that uses the
learner's function takes ``mine_or_reference("<id>", mine, reference)``, which falls back to
cnnlib's function until the learner's has passed.

Checkers
--------
A public checker is ``@exercise def check_<id>(answer) -> bool``. It prints one verdict line,
records ``Verdict(exercise="<id>", status, message)`` with status "pass", "fail",
"not attempted" or "error" (the learner's code raised), returns True only on "pass", and never
raises, whatever the answer is. A numeric checker raises ``AssertionError`` hints inside a
``check(a)`` function given to ``verdict(answer, check, "Exercise 1", success=...)``; a function
checker returns ``check_function(...)``. Wrong answers never print the right value.

Tests
-----
For every function exercise, tests/ hold a parametrized mutation test: at least six plausible
wrong implementations, each rejected with the hint it must name (``rejected_for`` in
tests/exercise_notebooks.py), and at least three right ones in different styles (loops,
vectorized, float32), each accepted (see tests/test_exercises_examples.py). A right or wrong
implementation built from cnnlib's reference or from torch is judged by its results only inside
``with allow_shortcuts():`` (``rejected_for`` does this); a learner's never is::

    @pytest.mark.parametrize("wrong, hint", [(lambda x: np.abs(x), "not their absolute value"), ...])
    def test_relu_forward_rejects(wrong, hint, capsys):
        assert check_relu_forward(wrong) is False
        assert hint in capsys.readouterr().out
"""
from cnnlib.exercises.core import exercise, mine_or_reference, verdict, verdicts

__all__ = ["exercise", "mine_or_reference", "verdict", "verdicts"]
