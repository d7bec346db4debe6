"""Checkers for the exercises of 03_pooling.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_numbers, expect_close, is_close
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises import references
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.numpy_nn.pooling import avg_pool2d, max_pool2d

# Exercise 1: 2x2 max pooling at stride 2 of one 4x6 depth slice.
SLICE_1 = np.array([[3, 0, 1, 2, 7, 1],
                    [4, 9, 6, 5, 0, 2],
                    [7, 2, 8, 1, 3, 3],
                    [0, 5, 3, 6, 4, 9]], dtype=np.float64)
MAX_POOL_1 = np.array([[9, 6, 7], [7, 8, 9]], dtype=np.float64)
AVG_POOL_1 = np.array([[4.0, 3.5, 2.5], [3.5, 4.5, 4.75]])

# Exercise 2: AlexNet's POOL2, 3x3 windows at stride 2 on the 27x27x256 output of CONV2.
POOL2_INPUT = (27, 27, 256)
POOL2_ANSWER = (13, 13, 256, 0)

# Exercise 3: the gradient of 3x3 max pooling at stride 2 (overlapping windows) on a 5x5 slice.
SLICE_3 = np.array([[1, 3, 2, 0, 1],
                    [4, 0, 6, 1, 2],
                    [2, 5, 5, 3, 0],
                    [8, 1, 2, 0, 7],
                    [0, 2, 3, 1, 4]], dtype=np.float64)
GRAD_OUTPUT_3 = np.array([[1, 2], [3, 4]], dtype=np.float64)
GRAD_INPUT_3 = np.zeros((5, 5))
GRAD_INPUT_3[1, 2] = 1 + 2  # the 6 wins the two top windows, which share column 2
GRAD_INPUT_3[3, 0] = 3
GRAD_INPUT_3[3, 4] = 4


def _check_max_pool(answer) -> None:
    a = as_numbers(answer, name="your pooled slice")
    if a.shape == MAX_POOL_1.shape and np.allclose(a, AVG_POOL_1):
        raise AssertionError("those are the window averages; max pooling keeps the largest value of each window")
    if a.shape == MAX_POOL_1.T.shape:
        raise AssertionError(f"shape {a.shape}: the 4x6 slice gives 2 rows of 3 windows, a (2, 3) result")
    expect_close(a, MAX_POOL_1, name="your pooled slice")


@exercise
def check_max_pool(answer) -> bool:
    """Exercise 1: ``answer`` is the (2, 3) result of 2x2 max pooling at stride 2 on ``SLICE_1``."""
    return verdict(answer, _check_max_pool, "Exercise 1", "Each window kept only its largest value.")


def _check_pool_layer(answer) -> None:
    answer = tuple(float(v) for v in as_numbers(answer, (4,), "your answer",
        ask="give four numbers: (height, width, depth, number of parameters)"))
    names = ("height", "width", "depth", "number of parameters")
    for name, got, want in zip(names, answer, POOL2_ANSWER):
        if got != want:
            hint = {"height": "use (N - F) / stride + 1 with N = 27, F = 3, stride = 2",
                    "width": "the width follows the same rule as the height",
                    "depth": "pooling works on each activation map separately: the depth does not change",
                    "number of parameters": "a max over a window has nothing to learn"}[name]
            raise AssertionError(f"the {name} is not {got:g}: {hint}")


@exercise
def check_pool_layer(answer) -> bool:
    """Exercise 2: ``answer`` = (height, width, depth, parameters) of AlexNet's POOL2 output."""
    return verdict(answer, _check_pool_layer, "Exercise 2", "the depth is kept and there is nothing to learn.")


def _check_max_pool_gradient(answer) -> None:
    a = as_numbers(answer, name="your gradient")
    if a.shape != SLICE_3.shape:
        raise AssertionError(f"shape {a.shape}: the gradient has the shape of the input slice, {SLICE_3.shape}")
    if np.isclose(a[1, 2], 1.0) or np.isclose(a[1, 2], 2.0):
        raise AssertionError("the 6 at row 1, column 2 wins two overlapping windows: its gradient is the sum of both")
    if np.count_nonzero(a) > 3:
        raise AssertionError("max pooling sends each output gradient to ONE input: the winner of its window")
    expect_close(a, GRAD_INPUT_3, name="your gradient")


@exercise
def check_max_pool_gradient(answer) -> bool:
    """Exercise 3: ``answer`` is d loss / d ``SLICE_3`` (5, 5) for 3x3 max pooling at stride 2 and ``GRAD_OUTPUT_3``."""
    return verdict(answer, _check_max_pool_gradient, "Exercise 3",
                   "Gradients of overlapping windows add up at a shared winner.")


# -- function exercises: max pooling forward and backward (layer exercises: kept in my_layers/) -----
# The rules the questions state and these cases enforce: x is (N, C, H, W), square windows, no padding;
# a window that would hang over the bottom or right edge is left out (PyTorch's floor rule); a window
# larger than the image raises ValueError; on a tie the gradient goes to the FIRST maximum in reading
# order (row by row), as PyTorch does on the CPU; the inputs are left unchanged. Compared at 1e-6
# relative (float32 answers at float32 precision, cnnlib.exercises.functions).
LATER_GEOMETRY = ((1, 2, 28, 28), 2, 2)  # 03's last section pools 02's two edge maps of a Fashion-MNIST image


def _pool_cases(seed: int, with_grad: bool) -> list[Case]:
    rng = np.random.default_rng(seed)
    later = np.random.default_rng(seed + 100)   # the values of the later notebooks' geometries (07, 08)

    def case(shape, k, s, label, values=None, dtype=np.float64):
        x = (np.asarray(values, dtype=np.float64).reshape(shape) if values is not None
             else rng.integers(-3, 4, size=shape).astype(np.float64)).astype(dtype)  # small integers: ties
        inputs = {"x": x, "kernel_size": k, "stride": s}
        if with_grad:
            h, w = max((shape[2] - k) // s + 1, 0), max((shape[3] - k) // s + 1, 0)
            g = np.round(rng.normal(size=(shape[0], shape[1], h, w)), 1).astype(dtype)
            inputs = {"grad_output": np.where(g == 0, 0.5, g)} | inputs  # no zero: every route shows
        return Case(inputs, label)

    cases = [case((1, 1, 2, 2), 2, 2, "one window, one maximum", [1, 3, 2, 0]),
             case((1, 1, 2, 2), 2, 2, "one window, a tie between two maxima", [3, 1, 0, 3]),
             case((1, 1, 2, 2), 2, 2, "one window, all values negative", [-3, -1, -2, -5]),
             case((1, 1, 4, 4), 2, 2, "the 4x4 slice of section 2", [1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4]),
             case((1, 1, 3, 3), 2, 1, "overlapping 2x2 windows at stride 1", [0, 1, 0, 2, 9, 1, 0, 3, 0]),
             case((1, 1, 5, 5), 3, 2, "overlapping 3x3 windows at stride 2",
                  [3, 1, 0, 2, 4, 1, 7, 2, 5, 1, 0, 2, 2, 9, 3, 4, 1, 6, 0, 2, 8, 2, 1, 3, 5]),
             case((1, 1, 4, 4), 2, 2, "negative values, one window all negative",
                  [-1, -4, 2, 0, -2, -3, -5, 1, 0, -1, -2, -2, 3, -6, -7, -1]),
             case((1, 1, 5, 5), 2, 2, "2x2 windows do not fit 5x5: the last row and column are left out"),
             case((1, 1, 3, 5), 2, 2, "a 3x5 image: neither rows nor columns fit, both leftovers left out"),
             case((1, 1, 4, 6), 2, 2, "a non-square 4x6 image"),
             case((1, 1, 7, 4), 3, 2, "a non-square 7x4 image, overlapping windows"),
             case((1, 1, 5, 7), 2, 3, "stride 3 larger than the 2x2 window: pixels between windows are skipped"),
             case((1, 1, 4, 4), 2, 2, "float32 values with decimals",
                  np.round(rng.normal(size=16), 3), dtype=np.float32),
             case((1, 2, 4, 4), 2, 2, "channels of very different scale (1e6 and 1e-6)",
                  np.concatenate([np.round(rng.normal(size=16), 2) * 1e6, np.round(rng.normal(size=16), 2) * 1e-6])),
             case((1, 3, 4, 4), 2, 2, "a batch of one image with three channels"),
             case((2, 2, 4, 4), 2, 2, "two images, two channels"),
             case((2, 3, 4, 5), 5, 1, "a 5x5 window taller than the 4x5 image: ValueError"),
             case(LATER_GEOMETRY[0], *LATER_GEOMETRY[1:], "the geometry of this notebook's last section",
                  np.round(rng.normal(size=2 * 28 * 28), 3)),
             case((1, 6, 28, 28), 2, 2, "LeNet-5's S2: six 28x28 maps (07)", np.round(later.normal(size=6 * 784), 3)),
             case((1, 16, 10, 10), 2, 2, "LeNet-5's S4: sixteen 10x10 maps (07)", np.round(later.normal(size=1600), 3)),
             case((1, 96, 15, 15), 3, 2, "AlexNet's POOL1 geometry: 3x3 windows at stride 2 on 15x15 maps (08)",
                  np.round(later.normal(size=96 * 225), 3))]
    while len(cases) < 36:
        k = int(rng.integers(1, 4))
        s = int(rng.integers(1, k + 2))       # sometimes larger than the window
        h, w = int(rng.integers(k, 8)), int(rng.integers(k, 8))
        cases.append(case((int(rng.integers(1, 3)), int(rng.integers(1, 3)), h, w), k, s, "random"))
    return cases


def _windows(x, k, s):
    """Yield (n, c, i, j, window) for every pooling window (floor rule, no padding)."""
    n_, c_, h, w = x.shape
    for n in range(n_):
        for c in range(c_):
            for i in range((h - k) // s + 1):
                for j in range((w - k) // s + 1):
                    yield n, c, i, j, x[n, c, i * s:i * s + k, j * s:j * s + k]


def _ceil_pool(x, k, s):
    """Max pooling that keeps the last, partial windows (the mistake the floor rule forbids)."""
    n_, c_, h, w = x.shape
    rows, cols = -(-(h - k) // s) + 1, -(-(w - k) // s) + 1
    rows, cols = rows - ((rows - 1) * s >= h), cols - ((cols - 1) * s >= w)  # a window starts inside the image
    out = np.zeros((n_, c_, rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out


def _backward_variant(grad_output, x, k, s, route, accumulate=True):
    """The gradient when each window's share goes where ``route(window) -> mask of weights`` says."""
    grad = np.zeros_like(x, dtype=np.float64)
    for n, c, i, j, win in _windows(x, k, s):
        share = grad_output[n, c, i, j] * route(win)
        view = grad[n, c, i * s:i * s + k, j * s:j * s + k]
        if accumulate:
            view += share
        else:
            view[share != 0] = share[share != 0]
    return grad


def _at(win, flat):
    mask = np.zeros(win.shape)
    mask.flat[flat] = 1.0
    return mask


def _first(win):
    return _at(win, np.argmax(win))


def _last(win):
    return _at(win, win.size - 1 - np.argmax(win.ravel()[::-1]))


def _from_zero(win):
    """A search for the maximum that starts at best = 0 at (0, 0): an all-negative window 'wins' at (0, 0)."""
    return _first(win) if win.max() > 0 else _at(win, 0)


def _swapped(win):
    """The winner's flat index read as (index % k, index // k): row and column swapped."""
    k = win.shape[0]
    mask = np.zeros(win.shape)
    flat = int(np.argmax(win))
    mask[flat % k, flat // k] = 1.0
    return mask


def _near(a, wrong, e) -> bool:
    """``a`` is the mistake's result (at float32 precision), the mistake shows at that precision on this case,
    and ``a`` is not the right result (never where ``e`` is an error)."""
    return (not isinstance(e, Exception) and is_close(a, wrong, rtol=1e-4, atol=1e-9)
            and not is_close(wrong, e, rtol=1e-4, atol=1e-9) and not is_close(a, e))


MAX_POOL_FORWARD_HINTS = (
    Hint("those are the window averages: max pooling keeps each window's largest value",
         lambda i, e, a: _near(a, avg_pool2d(i["x"], i["kernel_size"], i["stride"]), e)),
    Hint("the windows can overlap: they move by `stride`, which may be smaller than kernel_size",
         lambda i, e, a: i["stride"] < i["kernel_size"] and _near(a, max_pool2d(i["x"], i["kernel_size"]), e)),
    Hint("stride ignored: the window moves `stride` pixels between outputs",
         lambda i, e, a: i["stride"] != 1 and _near(a, max_pool2d(i["x"], i["kernel_size"], 1), e)),
    Hint("that keeps each window's smallest value",
         lambda i, e, a: _near(a, -max_pool2d(-i["x"], i["kernel_size"], i["stride"]), e)),
    Hint("a window whose values are all negative must give its largest (negative) value, not 0: start "
         "the running maximum at the window's first value (or -inf), not at 0",
         lambda i, e, a: np.min(e) < 0 and _near(a, np.maximum(e, 0), e)),
    Hint("a window that hangs over the bottom or right edge is left out, as PyTorch does: "
         "(H - kernel_size) // stride + 1 rows and (W - kernel_size) // stride + 1 columns",
         lambda i, e, a: _near(a, _ceil_pool(i["x"], i["kernel_size"], i["stride"]), e)),
    Hint("the decimals are gone: create the output with x's float dtype (np.zeros(shape, dtype=x.dtype)), "
         "not an integer array",
         lambda i, e, a: _near(a, np.trunc(e), e)),
)


def _bwd(route, accumulate=True, ones=False):
    return lambda i, e, a: _near(a, _backward_variant(np.ones_like(i["grad_output"]) if ones else i["grad_output"],
                                                      i["x"], i["kernel_size"], i["stride"], route, accumulate), e)


MAX_POOL_BACKWARD_HINTS = (
    Hint("the gradient went to every tied maximum: like PyTorch, give it to the FIRST maximum in "
         "reading order only (a window has one output, so its gradient is counted once)",
         _bwd(lambda w: (w == w.max()).astype(np.float64))),
    Hint("at a tie, give the gradient to the FIRST maximum in reading order (np.argmax's), as PyTorch does",
         _bwd(_last)),
    Hint("where windows overlap, a pixel that wins several of them gets the SUM of their gradients "
         "(add with +=, don't overwrite)", _bwd(_first, accumulate=False)),
    Hint("that spreads the gradient evenly, as average pooling does: max pooling sends it all to the winner",
         _bwd(lambda w: np.full(w.shape, 1.0 / w.size))),
    Hint("multiply by grad_output: the winner receives its window's upstream gradient, not 1",
         _bwd(_first, ones=True)),
    Hint("in a window whose values are all negative the gradient still goes to its largest value: "
         "start the search for the maximum at the window's first value (or -inf), not at 0",
         _bwd(_from_zero)),
    Hint("the winner's row and column are swapped: np.argmax gives a flat index in reading order, "
         "row = index // kernel_size, column = index % kernel_size (np.unravel_index does this)",
         _bwd(_swapped)),
)


@exercise
def check_max_pool_forward(max_pool_forward) -> bool:
    """``max_pool_forward(x, kernel_size, stride) -> out``: x (N, C, H, W), no padding, PyTorch's floor rule."""
    return check_function(max_pool_forward, references.max_pool_forward, _pool_cases(1331, False),
                          "Max pool forward", hints=MAX_POOL_FORWARD_HINTS)


@exercise
def check_max_pool_backward(max_pool_backward) -> bool:
    """``max_pool_backward(grad_output, x, kernel_size, stride) -> grad_input`` (N, C, H, W)."""
    return check_function(max_pool_backward, references.max_pool_backward, _pool_cases(1332, True),
                          "Max pool backward", hints=MAX_POOL_BACKWARD_HINTS,
                          success="Each window's gradient reached its one winner, and overlaps added up.")
