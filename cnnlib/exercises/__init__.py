"""Self-checking exercises for the notebooks: one module per notebook (``nb01``, ``nb02``, ...).

Each checker takes the learner's answer and returns True or False after printing a verdict.
An answer left as ``None`` (the placeholder in the exercise cell) is "not attempted yet", which
is not an error, so a notebook still runs top to bottom. The worked solutions assert the verdict.
"""
from cnnlib.exercises.core import verdict

__all__ = ["verdict"]
