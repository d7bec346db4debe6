"""Where one LeNet-5 training step of ``cnnlib.numpy_nn`` spends its time (``python -m cnnlib.bench --only train``).

The real step runs with each leaf layer's ``forward`` and ``backward``, the loss's ``forward`` and
``backward`` and the SGD update wrapped, for the time of the measurement, by a timer that adds its
``perf_counter`` time to one category: conv, pool, activations, linear, loss or optimizer. What the
step spends outside them (``zero_grad``, the Sequential's loops, the wrappers' own calls) is the rest,
so the parts add up to the step's total. The library's layers are not changed: the wrappers are
instance attributes, removed afterwards.
"""
from __future__ import annotations

from contextlib import contextmanager
from time import perf_counter

from cnnlib.bench.report import Table, fmt

CATEGORIES = ("conv", "pool", "activations", "linear", "loss", "optimizer", "rest")
KINDS = {"Conv2d": "conv", "MaxPool2d": "pool", "AvgPool2d": "pool", "ReLU": "activations", "Tanh": "activations",
         "Sigmoid": "activations", "Linear": "linear"}


def leaf_layers(module):
    """The modules of ``module`` that have no children, in order."""
    children = [child for _, child in module.named_children()]
    if not children:
        yield module
    for child in children:
        yield from leaf_layers(child)


@contextmanager
def timed(targets, totals):
    """Wrap ``getattr(obj, name)`` for each ``(obj, name, category)``: its time is added to ``totals[category]``."""
    saved = []
    for obj, name, category in targets:
        original = getattr(obj, name)

        def wrapper(*args, _original=original, _category=category, **kwargs):
            start = perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_category] += perf_counter() - start
        saved.append((obj, name, original, name in vars(obj)))
        setattr(obj, name, wrapper)
    try:
        yield totals
    finally:
        for obj, name, original, own in reversed(saved):
            if own:
                setattr(obj, name, original)
            else:
                delattr(obj, name)   # the class's method shows through again


def _targets(step):
    """What `numpy_step_breakdown` wraps: the model's leaf layers, the loss and the update of ``step.parts``."""
    parts = step.parts
    targets = [(parts, "sgd", "optimizer"), (parts.loss_fn, "forward", "loss"), (parts.loss_fn, "backward", "loss")]
    for layer in leaf_layers(parts.model):
        category = KINDS.get(type(layer).__name__, "rest")
        if category != "rest":
            targets += [(layer, "forward", category), (layer, "backward", category)]
    return targets


def numpy_step_breakdown(step, batches, rounds=5, steps=5) -> dict:
    """Seconds per step by category for the round whose total is the median of ``rounds`` (``steps`` steps each).

    ``step`` is `cnnlib.bench.models._numpy_step`'s function (it carries ``step.parts``). Returns
    ``{"total": seconds, "parts": {category: seconds}, "rounds": rounds}``; the parts add up to the total.
    """
    measured = []
    position = 0
    for _ in range(rounds):
        totals = dict.fromkeys(CATEGORIES, 0.0)
        with timed(_targets(step), totals):
            start = perf_counter()
            for _ in range(steps):
                step(*batches[position % len(batches)])
                position += 1
            total = perf_counter() - start
        totals["rest"] = total - sum(v for k, v in totals.items() if k != "rest")
        measured.append((total / steps, {k: v / steps for k, v in totals.items()}))
    measured.sort(key=lambda m: m[0])
    total, parts = measured[(rounds - 1) // 2]
    return {"total": total, "parts": parts, "rounds": rounds}


def breakdown_table(breakdown: dict) -> Table:
    """The breakdown as a table: milliseconds per step and share of the step, per category."""
    total = breakdown["total"]
    rows = [[category, "", fmt(1e3 * seconds), f"{100 * seconds / total:.0f}%"]
            for category, seconds in breakdown["parts"].items()]
    rows.append(["total", "", fmt(1e3 * total), "100%"])
    return Table("Where a cnnlib.numpy_nn LeNet-5 training step spends its time (CPU)", ["part", "", "ms/step", "share"],
                 rows, notes=[f"the round with the median total of {breakdown['rounds']}; each layer's forward and "
                              f"backward timed inside the real step (the timers add a little to the total)"])
