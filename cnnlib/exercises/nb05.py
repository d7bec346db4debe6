"""Checkers for the exercises of 05_backpropagation: two functions the learner writes.

- ``two_layer_backward(x, W1, W2, t) -> (dL_dW1, dL_dW2)`` for f = W2 max(0, W1 x), L = ||f - t||^2;
- ``conv2d_backward_loops(grad_output, x, weight, stride, padding) -> (grad_input, grad_weight,
  grad_bias)``, compared with ``cnnlib.numpy_nn.conv.conv2d_backward``.

Each checker runs the learner's function on small seeded cases (see ``functions.check_function``)
and names the mistake when a :class:`Hint` recognizes it.
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import is_close
from cnnlib.exercises.core import exercise
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.numpy_nn.activation import relu_backward, relu_forward
from cnnlib.numpy_nn.conv import conv2d_backward, conv2d_backward_naive, conv2d_forward, pad2d
from cnnlib.numpy_nn.linear import linear_backward, linear_forward
from cnnlib.numpy_nn.loss import mse_loss_backward, mse_loss_forward


# Exercise 1: back-propagation through f = W2 relu(W1 x), L = ||f - t||^2, one example x.
def _reference_two_layer(x, W1, W2, t):
    h, c1 = linear_forward(x[None], W1)                    # (1, hidden)
    a, c_relu = relu_forward(h)
    f, c2 = linear_forward(a, W2)                          # (1, out)
    _, c_loss = mse_loss_forward(f, t[None], reduction="sum")
    grad_a, grad_W2, _ = linear_backward(mse_loss_backward(1.0, c_loss), c2)
    _, grad_W1, _ = linear_backward(relu_backward(grad_a, c_relu), c1)
    return grad_W1, grad_W2


def _two_layer_parts(i):
    h = i["W1"] @ i["x"]
    a = np.maximum(0, h)
    return h, a, 2 * (i["W2"] @ a - i["t"])


def _no_gate(i, e, a):
    h, act, d_f = _two_layer_parts(i)
    return is_close(a[0], np.outer(i["W2"].T @ d_f, i["x"])) and not is_close(a[0], e[0])


def _gate_by_value(i, e, a):
    h, act, d_f = _two_layer_parts(i)
    return is_close(a[0], np.outer((i["W2"].T @ d_f) * act, i["x"])) and not is_close(a[0], e[0])


def _transposed(i, e, a):
    return is_close(a[0], e[0].T) or is_close(a[1], e[1].T)


def _two_layer_cases() -> list[Case]:
    rng = np.random.default_rng(1305)
    cases = [Case({"x": np.array([1.0, 2.0, -1.0]), "W1": np.array([[2.0, 0.0, 1.0], [1.0, -1.0, 1.0]]),
                   "W2": np.array([[3.0, 1.0]]), "t": np.array([1.0])},
                  "one output; the second hidden unit is switched off (h = -2)")]
    while len(cases) < 12:
        n, hidden, m = (int(v) for v in rng.integers(2, 5, size=3))
        x = np.round(rng.normal(size=n), 1)
        W1 = np.round(rng.normal(size=(hidden, n)), 1)
        h = W1 @ x
        if np.all(h > 0) or np.all(h < 0) or np.any(np.abs(h) < 0.05):
            continue                                       # keep cases where the ReLU gate matters
        cases.append(Case({"x": x, "W1": W1, "W2": np.round(rng.normal(size=(m, hidden)), 1),
                           "t": np.round(rng.normal(size=m), 1)}, "random, some hidden units off"))
    return cases


TWO_LAYER_HINTS = (
    Hint("dL/dW1 misses the ReLU gate: multiply dL/da by 1[h > 0], so a switched-off hidden unit "
         "gets a zero row", _no_gate),
    Hint("the ReLU's local derivative is 1[h > 0], not max(0, h) itself", _gate_by_value),
    Hint("dropped the factor 2: dL/df = 2 (f - t) for L = ||f - t||^2",
         lambda i, e, a: is_close(a[0], e[0] / 2) and is_close(a[1], e[1] / 2)),
    Hint("transposed: dL/dW has the shape of W (one row per output unit of the layer, one column "
         "per input), e.g. dL/dW1 = outer(dL/dh, x), not outer(x, dL/dh)", _transposed),
)


@exercise
def check_two_layer_backward(two_layer_backward) -> bool:
    """``two_layer_backward(x, W1, W2, t) -> (dL_dW1, dL_dW2)``, x of shape (n,), W1 (hidden, n), W2 (m, hidden)."""
    return check_function(two_layer_backward, _reference_two_layer, _two_layer_cases(), "Exercise 1",
                          hints=TWO_LAYER_HINTS, output_names=("dL_dW1", "dL_dW2"),
                          success="The chain rule, one local derivative at a time, gated by the ReLU.")


# Exercise 2: convolution's backward pass as loops, with stride and padding.
def _reference_conv_backward(grad_output, x, weight, stride, padding):
    bias = np.zeros(len(weight))                           # a bias, so that its gradient exists
    _, cache = conv2d_forward(x, weight, bias, stride, padding, algorithm="im2col")
    return conv2d_backward(grad_output, cache)


def _unflipped(i, e, a):
    """The full-correlation form with the filter not flipped: the reference on the flipped weight."""
    wrong = _reference_conv_backward(i["grad_output"], i["x"], i["weight"][:, :, ::-1, ::-1].copy(),
                                     i["stride"], i["padding"])[0]
    return is_close(a[0], wrong) and not is_close(a[0], e[0])


def _bias_not_summed(i, e, a):
    g = i["grad_output"]
    sums = (g.sum(axis=(2, 3)), g[0].sum(axis=(1, 2)), g.sum(axis=0), g.mean(axis=(0, 2, 3)))
    return any(is_close(a[2], s) for s in sums) and not is_close(a[2], e[2])


def _not_cropped(i, e, a):
    p = i["padding"]
    x_pad = pad2d(i["x"], (p, p))
    return p > 0 and is_close(a[0], _reference_conv_backward(i["grad_output"], x_pad, i["weight"], i["stride"], 0)[0])


def _stride_ignored(i, e, a):
    s, p, g, x, w = i["stride"], i["padding"], i["grad_output"], i["x"], i["weight"]
    if s == 1:
        return False
    h1, w1 = x.shape[2] + 2 * p - w.shape[2] + 1, x.shape[3] + 2 * p - w.shape[3] + 1
    g1 = np.zeros((g.shape[0], g.shape[1], h1, w1))
    g1[:, :, :g.shape[2], :g.shape[3]] = g                 # windows at (i, j) instead of (i*s, j*s)
    wrong = conv2d_backward_naive(g1, x, w, np.zeros(len(w)), 1, p)
    return is_close(a[0], wrong[0]) or is_close(a[1], wrong[1])


def _conv_cases() -> list[Case]:
    rng = np.random.default_rng(1306)
    specs = [((1, 1, 3, 3), (1, 1, 2, 2), 1, 0, "a batch of one, stride 1, no padding"),
             ((1, 1, 4, 4), (1, 1, 2, 2), 1, 1, "padding 1"),
             ((1, 1, 5, 5), (1, 1, 3, 3), 2, 0, "stride 2"),
             ((2, 1, 3, 3), (2, 1, 2, 2), 1, 0, "a batch of two, two filters")]
    while len(specs) < 16:
        n, c_in, c_out = (int(v) for v in rng.integers(1, 3, size=3))
        k, s, p = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        size = int(rng.integers(max(k, 3), 7))
        specs.append(((n, c_in, size, size), (c_out, c_in, k, k), s, p, "random"))
    cases = []
    for x_shape, w_shape, s, p, label in specs:
        x = np.round(rng.normal(size=x_shape), 1)
        w = np.round(rng.normal(size=w_shape), 1)
        h_out = (x_shape[2] + 2 * p - w_shape[2]) // s + 1
        g = np.round(rng.normal(size=(x_shape[0], w_shape[0], h_out, h_out)), 1)
        cases.append(Case({"grad_output": g, "x": x, "weight": w, "stride": s, "padding": p}, label))
    return cases


CONV_BACKWARD_HINTS = (
    Hint("padding not cropped: grad_input has the shape of x, so drop the padded border of the "
         "gradient you accumulated on the padded input", _not_cropped),
    Hint("stride ignored: output pixel (i, j) reads the window that starts at (i*stride, j*stride)",
         _stride_ignored),
    Hint("forgot to flip: computed with sliding windows (a full correlation of the padded grad_output), "
         "grad_input uses the filter rotated by 180 degrees",
         _unflipped),
    Hint("the bias gradient is grad_output summed over the batch AND all output positions, one "
         "number per filter, shape (C_out,)", _bias_not_summed),
)


@exercise
def check_conv2d_backward(conv2d_backward_loops) -> bool:
    """``conv2d_backward_loops(grad_output, x, weight, stride, padding) -> (grad_input, grad_weight, grad_bias)``."""
    return check_function(conv2d_backward_loops, _reference_conv_backward, _conv_cases(), "Exercise 2",
                          hints=CONV_BACKWARD_HINTS, output_names=("grad_input", "grad_weight", "grad_bias"),
                          success="Each output pixel sent its gradient back to its window, its filter and its bias.")
