"""The grader behind ``python -m cnnlib.grade``: one stage per module, like nbgrader's preprocessors.

- ``release``: the instructor edition decides the exercises, their points, checkers and cases.
- ``extract``: the learner's answer cells for each exercise, by cell id, reduced by the AST to
  definitions, imports and assignments.
- ``sandbox`` (and ``launch``, the first program inside it): bubblewrap, resource limits, an
  unprivileged uid, no network, nothing of the grader's in reach, every process killed after.
- ``run`` (and ``child`` and ``notebook``, which run inside): each exercise's answer on the
  checker's cases, sending back only outputs (``wire``: JSON and ``.npy``, no pickle); the whole
  notebook for the feedback, a time limit per cell.
- ``judge``: the released checker's verdict on those outputs, in the grader's process.
- ``report``: ``results.jsonl`` (resumable), the gradebook CSV, the HTML feedback.
- ``pipeline``: one submission through the stages, and a class with ``-j N`` workers.
"""
