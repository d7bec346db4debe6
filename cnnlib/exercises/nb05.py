"""Checkers for the exercises of 05_backpropagation: three functions the learner writes.

- ``two_layer_backward(x, W1, W2, t) -> (dL_dW1, dL_dW2)`` for f = W2 max(0, W1 x), L = ||f - t||^2;
- ``conv2d_backward_loops(grad_output, x, weight, stride, padding) -> (grad_input, grad_weight,
  grad_bias)``, compared with cnnlib's ``conv2d_backward`` (:mod:`cnnlib.exercises.references`);
- ``conv2d_backward_im2col``: the same, vectorized, on the same cases (a layer the learner keeps in
  ``my_layers/`` and trains with in 07).

Each checker runs the learner's function on small seeded cases (see ``functions.check_function``)
and names the mistake when a :class:`Hint` recognizes it.
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises import references
from cnnlib.exercises.answers import is_close as _is_close
from cnnlib.exercises.core import exercise
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.numpy_nn.activation import relu_backward, relu_forward
from cnnlib.numpy_nn.conv import conv2d_backward_naive, pad2d
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


def is_close(a, b) -> bool:
    """A hint's comparison: loose enough for a float32 answer, far tighter than any mistake's difference."""
    return _is_close(a, b, rtol=1e-4, atol=1e-6)


def _guarded(hint: Hint) -> Hint:
    """No mistake is named for an answer within float32 precision of the right one: only the precision is off."""
    def applies(i, e, a):
        near = len(a) == len(e) and all(is_close(x, y) for x, y in zip(a, e))
        return not near and hint.applies(i, e, a)
    return Hint(hint.message, applies)


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
    return any(is_close(a[k], e[k].T) and not is_close(a[k], e[k]) for k in (0, 1))


def _sign_flipped(i, e, a):
    return is_close(a[0], -e[0]) and is_close(a[1], -e[1]) and not is_close(a[1], e[1])


def _pre_activation(i, e, a):
    h, act, d_f = _two_layer_parts(i)
    return is_close(a[1], np.outer(d_f, h)) and not is_close(a[1], e[1])


def _two_layer_cases() -> list[Case]:
    rng = np.random.default_rng(1305)
    cases = [Case({"x": np.array([1.0, 2.0, -1.0]), "W1": np.array([[2.0, 0.0, 1.0], [1.0, -1.0, 1.0]]),
                   "W2": np.array([[3.0, 1.0]]), "t": np.array([1.0])},
                  "one output; the second hidden unit is switched off (h = -2)"),
             Case({"x": np.array([-1.0, -2.0]), "W1": np.array([[1.0, 0.5], [0.5, 2.0], [-1.0, 0.2]]),
                   "W2": np.array([[1.0, -1.0, 2.0], [0.5, 1.0, -1.0]]), "t": np.array([-0.5, 1.0])},
                  "x all negative; every hidden unit but the last is off"),
             Case({"x": np.array([1.0, 2.0]), "W1": np.array([[-1.0, -0.5], [-2.0, 0.5]]),
                   "W2": np.array([[1.0, 2.0]]), "t": np.array([0.5])},
                  "every hidden unit off: both gradients are zero")]
    while len(cases) < 14:
        n, hidden, m = (int(v) for v in rng.integers(2, 5, size=3))
        x = np.round(rng.normal(size=n), 1)
        W1 = np.round(rng.normal(size=(hidden, n)), 1)
        h = W1 @ x
        if np.all(h > 0) or np.all(h < 0) or np.any(np.abs(h) < 0.05):
            continue                                       # keep cases where the ReLU gate matters
        cases.append(Case({"x": x, "W1": W1, "W2": np.round(rng.normal(size=(m, hidden)), 1),
                           "t": np.round(rng.normal(size=m), 1)}, "random, some hidden units off"))
    return cases


TWO_LAYER_HINTS = tuple(_guarded(h) for h in (
    Hint("dL/dW1 misses the ReLU gate: multiply dL/da by 1[h > 0], so a switched-off hidden unit "
         "gets a zero row", _no_gate),
    Hint("the ReLU's local derivative is 1[h > 0], not max(0, h) itself", _gate_by_value),
    Hint("dropped the factor 2: dL/df = 2 (f - t) for L = ||f - t||^2",
         lambda i, e, a: is_close(a[0], e[0] / 2) and is_close(a[1], e[1] / 2)),
    Hint("transposed: dL/dW has the shape of W (one row per output unit of the layer, one column "
         "per input), e.g. dL/dW1 = outer(dL/dh, x), not outer(x, dL/dh)", _transposed),
    Hint("the sign is flipped: dL/df = 2 (f - t), the prediction minus the target", _sign_flipped),
    Hint("dL/dW2 = outer(dL/df, a) uses the ReLU's output a = max(0, h), the input of W2, not h", _pre_activation),
))


@exercise
def check_two_layer_backward(two_layer_backward) -> bool:
    """``two_layer_backward(x, W1, W2, t) -> (dL_dW1, dL_dW2)``, x of shape (n,), W1 (hidden, n), W2 (m, hidden)."""
    return check_function(two_layer_backward, _reference_two_layer, _two_layer_cases(), "Exercise 1",
                          hints=TWO_LAYER_HINTS, output_names=("dL_dW1", "dL_dW2"),
                          success="The chain rule, one local derivative at a time, gated by the ReLU.")


# Exercise 2 and 3: convolution's backward pass as loops, then vectorized, with stride and padding.
def _reference_conv_backward(grad_output, x, weight, stride, padding):
    return references.conv2d_backward_loops(grad_output, x, weight, stride, padding)


def _unflipped(i, e, a):
    """grad_input computed with the filter rotated by 180 degrees from the right one: the reference on the
    flipped weight (gather without a flip, scatter with one, or a true convolution with the flipped filter)."""
    wrong = _reference_conv_backward(i["grad_output"], i["x"], i["weight"][:, :, ::-1, ::-1].copy(),
                                     i["stride"], i["padding"])[0]
    return is_close(a[0], wrong) and not is_close(a[0], e[0])


def _weight_flipped(i, e, a):
    return is_close(a[1], e[1][:, :, ::-1, ::-1]) and not is_close(a[1], e[1])


def _bias_not_summed(i, e, a):
    g = i["grad_output"]
    sums = (g.sum(axis=(2, 3)), g[0].sum(axis=(1, 2)), g.sum(axis=0), g.mean(axis=(0, 2, 3)))
    return any(is_close(a[2], s) for s in sums) and not is_close(a[2], e[2])


def _weight_first_example(i, e, a):
    """grad_weight of the first example only, or averaged over the batch: the batch not summed."""
    n = i["x"].shape[0]
    first = _reference_conv_backward(i["grad_output"][:1], i["x"][:1], i["weight"], i["stride"], i["padding"])[1]
    return n > 1 and (is_close(a[1], first) or is_close(a[1], e[1] / n)) and not is_close(a[1], e[1])


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


def _overlaps_lost(i, e, a):
    """Right where one window covers a pixel, wrong only where windows overlap: a fancy-index ``+=``
    keeps one of the repeated indices' sums (np.add.at adds them all)."""
    x, w, s, p = i["x"], i["weight"], i["stride"], i["padding"]
    k, (h_out, w_out) = w.shape[2], i["grad_output"].shape[2:]
    cover = np.zeros(np.add(x.shape[2:], 2 * p))
    for r in range(h_out):
        for c in range(w_out):
            cover[r * s:r * s + k, c * s:c * s + k] += 1
    once = np.broadcast_to(cover[p:p + x.shape[2], p:p + x.shape[3]] <= 1, x.shape)
    mine, right = np.asarray(a[0], dtype=np.float64), np.asarray(e[0])
    return (k > s and mine.shape == right.shape and is_close(mine[once], right[once])
            and not is_close(mine[~once], right[~once]))


def _conv_cases() -> list[Case]:
    """Both backward exercises' cases: every geometry a later cell calls them with (05's gradient step,
    07's LeNet-5 layers), a batch of one, non-square images, a stride larger than the filter, negative
    values and float32."""
    rng = np.random.default_rng(1306)
    specs = [((1, 1, 3, 3), (1, 1, 2, 2), 1, 0, "a batch of one, stride 1, no padding"),
             ((1, 1, 4, 4), (1, 1, 2, 2), 1, 1, "padding 1"),
             ((1, 1, 5, 5), (1, 1, 3, 3), 2, 0, "stride 2"),
             ((2, 1, 3, 3), (2, 1, 2, 2), 1, 0, "a batch of two, two filters"),
             ((1, 2, 4, 6), (2, 2, 3, 3), 1, 0, "a wide image"),
             ((2, 1, 7, 5), (1, 1, 3, 3), 2, 1, "a tall image, stride 2, padding 1"),
             ((1, 1, 8, 7), (2, 1, 2, 2), 3, 0, "stride 3, larger than the 2x2 filter: some pixels get no gradient"),
             ((2, 2, 5, 5), (2, 2, 3, 3), 1, 1, "every input value negative"),
             ((2, 2, 5, 4), (2, 2, 3, 3), 1, 1, "two examples of very different scale (x1000 and x0.001)")]
    while len(specs) < 19:
        n, c_in, c_out = (int(v) for v in rng.integers(1, 3, size=3))
        k, s, p = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        h, w = int(rng.integers(max(k, 3), 7)), int(rng.integers(max(k, 3), 7))
        specs.append(((n, c_in, h, w), (c_out, c_in, k, k), s, p, "random"))
    specs += [((2, 3, 6, 5), (2, 3, 3, 3), 1, 1, "float32 inputs (whole numbers, so float32 is exact)"),
              ((4, 1, 8, 8), (1, 1, 3, 3), 1, 1, "05's gradient step: one 3x3 filter, padding 1"),
              ((2, 1, 28, 28), (6, 1, 5, 5), 1, 2, "LeNet-5's first layer on 28x28 images, padding 2 (07)"),
              ((2, 1, 32, 32), (6, 1, 5, 5), 1, 0, "LeNet-5's first layer on 32x32 images (07)"),
              ((2, 6, 14, 14), (16, 6, 5, 5), 1, 0, "LeNet-5's second layer (07)"),
              ((2, 16, 5, 5), (120, 16, 5, 5), 1, 0, "LeNet-5's third layer: one output pixel (07)")]
    cases = []
    for x_shape, w_shape, s, p, label in specs:
        x = np.round(rng.normal(size=x_shape), 1)
        x = -np.abs(x) - 0.1 if "negative" in label else x
        x = x * np.array([1e3, 1e-3])[:, None, None, None] if "different scale" in label else x
        w = np.round(rng.normal(size=w_shape), 1)
        h_out = (x_shape[2] + 2 * p - w_shape[2]) // s + 1
        w_out = (x_shape[3] + 2 * p - w_shape[3]) // s + 1
        g = np.round(rng.normal(size=(x_shape[0], w_shape[0], h_out, w_out)), 1)
        g = g * np.array([1e-3, 1e3])[:, None, None, None] if "different scale" in label else g
        if "float32" in label:
            x, w, g = (np.round(v * 10).astype(np.float32) for v in (x, w, g))
        cases.append(Case({"grad_output": g, "x": x, "weight": w, "stride": s, "padding": p}, label))
    return cases


CONV_BACKWARD_HINTS = tuple(_guarded(h) for h in (
    Hint("padding not cropped: grad_input has the shape of x, so drop the padded border of the "
         "gradient you accumulated on the padded input", _not_cropped),
    Hint("stride ignored: output pixel (i, j) reads the window that starts at (i*stride, j*stride)",
         _stride_ignored),
    Hint("grad_input has the filter the wrong way round (rotated by 180 degrees). If each output pixel adds "
         "g * weight[o] to its window (scattering), use weight as it is, with no flip. If you slide windows "
         "over the zero-padded grad_output (a full correlation), rotate the filter by 180 degrees; a true "
         "convolution (np.convolve, scipy.signal.convolve2d) rotates it for you, so flipping as well flips twice",
         _unflipped),
    Hint("where windows overlap, their gradients must add up: a fancy-index `+=` with repeated indices "
         "adds only one of them; use np.add.at, or a loop over the filter's offsets", _overlaps_lost),
    Hint("grad_weight is not flipped: grad_weight[o, c, a, b] sums grad_output[n, o, i, j] * "
         "x_pad[n, c, i*stride + a, j*stride + b]", _weight_flipped),
    Hint("grad_weight sums over every example of the batch (not the first only, and not the mean)",
         _weight_first_example),
    Hint("the bias gradient is grad_output summed over the batch AND all output positions, one "
         "number per filter, shape (C_out,)", _bias_not_summed),
))


@exercise
def check_conv2d_backward(conv2d_backward_loops) -> bool:
    """``conv2d_backward_loops(grad_output, x, weight, stride, padding) -> (grad_input, grad_weight, grad_bias)``."""
    return check_function(conv2d_backward_loops, _reference_conv_backward, _conv_cases(), "Exercise 2",
                          hints=CONV_BACKWARD_HINTS, output_names=("grad_input", "grad_weight", "grad_bias"),
                          success="Each output pixel sent its gradient back to its window, its filter and its bias.")


@exercise(points=2)
def check_conv2d_backward_im2col(conv2d_backward_im2col) -> bool:
    """``conv2d_backward_im2col(grad_output, x, weight, stride, padding) -> (grad_input, grad_weight,
    grad_bias)``: Exercise 2 vectorized, on the same cases. The checker judges the numbers only: that no
    Python loop runs over the batch or the output pixels is the question's rule, not checked here."""
    return check_function(conv2d_backward_im2col, references.conv2d_backward_im2col, _conv_cases(), "Exercise 3",
                          hints=CONV_BACKWARD_HINTS, output_names=("grad_input", "grad_weight", "grad_bias"),
                          success="Your vectorized backward pass computes what conv2d_backward computes.")
