"""Exercises of 05_backpropagation: each checker rejects plausible wrong implementations for the
reason it names, and accepts the reference and an independent loop solution."""
import numpy as np
import pytest
import torch

from cnnlib.exercises import core, nb05
from cnnlib.exercises.functions import allow_shortcuts
from exercise_notebooks import rejected_for
from float32_probe import FLOAT32_ACCEPTED
from numpy.lib.stride_tricks import sliding_window_view


def two_layer_right(x, W1, W2, t):
    h = W1 @ x
    d_f = 2 * (W2 @ np.maximum(0, h) - t)
    return np.outer((W2.T @ d_f) * (h > 0), x), np.outer(d_f, np.maximum(0, h))


def two_layer_mutant(gate="indicator", factor=2.0, transpose=False, sign=1.0, w2_input="a", dtype=None):
    def two_layer_backward(x, W1, W2, t):
        if dtype is not None:
            x, W1, W2, t = (np.asarray(v, dtype) for v in (x, W1, W2, t))
        h = W1 @ x
        a = np.maximum(0, h)
        d_f = factor * sign * (W2 @ a - t)
        d_a = W2.T @ d_f
        d_h = {"indicator": d_a * (h > 0), "none": d_a, "value": d_a * a}[gate]
        g1, g2 = np.outer(d_h, x), np.outer(d_f, a if w2_input == "a" else h)
        return (g1.T, g2.T) if transpose else (g1, g2)
    return two_layer_backward


def two_layer_loops(x, W1, W2, t):
    """Entry by entry, as the table of section 1 reads."""
    hidden, n, m = W1.shape[0], W1.shape[1], W2.shape[0]
    h = [sum(W1[j, k] * x[k] for k in range(n)) for j in range(hidden)]
    a = [max(0.0, v) for v in h]
    d_f = [2 * (sum(W2[i, j] * a[j] for j in range(hidden)) - t[i]) for i in range(m)]
    g2 = np.array([[d_f[i] * a[j] for j in range(hidden)] for i in range(m)])
    d_h = [sum(W2[i, j] * d_f[i] for i in range(m)) * (h[j] > 0) for j in range(hidden)]
    g1 = np.array([[d_h[j] * x[k] for k in range(n)] for j in range(hidden)])
    return g1, g2


TWO_LAYER_MUTATIONS = [
    (two_layer_mutant(gate="none"), "misses the ReLU gate"),
    (two_layer_mutant(gate="value"), "not max(0, h) itself"),
    (two_layer_mutant(factor=1.0), "dropped the factor 2"),
    (two_layer_mutant(transpose=True), "transposed"),
    (two_layer_mutant(sign=-1.0), "the sign is flipped"),
    (two_layer_mutant(w2_input="h"), "not h"),
]


@pytest.mark.parametrize("wrong, hint", TWO_LAYER_MUTATIONS)
def test_two_layer_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb05.check_two_layer_backward, wrong, hint, TWO_LAYER_MUTATIONS, capsys)
    assert core.latest("two_layer_backward").status == "fail"


def test_two_layer_backward_reference_agrees_with_autograd_and_is_accepted(capsys):
    for case in nb05._two_layer_cases():
        x, W1, W2, t = (torch.tensor(v) for v in case.inputs.values())
        W1.requires_grad_(True)
        W2.requires_grad_(True)
        ((W2 @ torch.relu(W1 @ x) - t) ** 2).sum().backward()
        g1, g2 = nb05._reference_two_layer(*case.inputs.values())
        np.testing.assert_allclose(g1, W1.grad.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g2, W2.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert nb05.check_two_layer_backward(two_layer_right) is True
    assert nb05.check_two_layer_backward(two_layer_mutant()) is True
    assert nb05.check_two_layer_backward(two_layer_loops) is True
    assert capsys.readouterr().out.count("Exercise 1: correct on all 14 cases!") == 3


def test_two_layer_backward_cases_switch_off_every_hidden_unit():
    off = [c for c in nb05._two_layer_cases() if np.all(c.inputs["W1"] @ c.inputs["x"] < 0)]
    assert len(off) == 1 and all(np.all(g == 0) for g in nb05._reference_two_layer(*off[0].inputs.values()))


@pytest.mark.xfail(not FLOAT32_ACCEPTED, strict=True,
                   reason="check_function's tolerance does not follow the result's dtype yet (branch core)")
def test_two_layer_backward_accepts_float32(capsys):
    assert nb05.check_two_layer_backward(two_layer_mutant(dtype=np.float32)) is True


def conv_backward_mutant(crop=True, use_stride=True, bias_sum=(0, 2, 3), flip=False, batch="sum"):
    """Scattering loops: each output pixel adds g * weight[o] to its window (the right form has no flip)."""
    def conv2d_backward_loops(grad_output, x, weight, stride, padding):
        s, p = (stride if use_stride else 1), padding
        n_b, c_out, h_out, w_out = grad_output.shape
        k = weight.shape[2]
        w = weight[:, :, ::-1, ::-1] if flip else weight
        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        grad_pad, grad_w = np.zeros_like(x_pad), np.zeros_like(weight)
        for n in range(n_b if batch != "first" else 1):
            for co in range(c_out):
                for i in range(h_out):
                    for j in range(w_out):
                        g = grad_output[n, co, i, j]
                        window = (n, slice(None), slice(i * s, i * s + k), slice(j * s, j * s + k))
                        grad_w[co] += g * x_pad[window]
                        grad_pad[window] += g * w[co]
        grad_in = grad_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]] if crop else grad_pad
        return grad_in, grad_w, grad_output.sum(axis=bias_sum)
    return conv2d_backward_loops


def conv_backward_full_correlation(flip=True, true_convolution=False):
    """grad_input as a full correlation of the (dilated) output gradient with the flipped filter; with
    ``true_convolution``, a full convolution (which flips on its own) of the flipped filter: flipped twice."""
    def conv2d_backward_loops(grad_output, x, weight, stride, padding):
        ref = nb05._reference_conv_backward(grad_output, x, weight, stride, padding)
        n_b, c_out, h_out, w_out = grad_output.shape
        k, p, s = weight.shape[2], padding, stride
        hp, wp = x.shape[2] + 2 * p, x.shape[3] + 2 * p
        dil = np.zeros((n_b, c_out, hp - k + 1, wp - k + 1))
        dil[:, :, ::s, ::s][:, :, :h_out, :w_out] = grad_output
        full = np.pad(dil, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
        w = weight[:, :, ::-1, ::-1] if flip else weight
        if true_convolution:                                   # sum g[a - u, b - v] w[u, v]: the flip is built in
            w = w[:, :, ::-1, ::-1]
        grad_pad = np.zeros((n_b, x.shape[1], hp, wp))
        for a in range(hp):
            for b in range(wp):
                grad_pad[:, :, a, b] = np.einsum("noij,ocij->nc", full[:, :, a:a + k, b:b + k], w)
        return grad_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]], ref[1], ref[2]
    return conv2d_backward_loops


def conv_backward_offsets(grad_output, x, weight, stride, padding, dtype=None):
    """A loop over the filter's k x k offsets only: each step one product over the batch and all pixels."""
    if dtype is not None:
        grad_output, x, weight = (np.asarray(v, dtype) for v in (grad_output, x, weight))
    s, p, k = stride, padding, weight.shape[2]
    h_out, w_out = grad_output.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    grad_pad, grad_w = np.zeros_like(x_pad), np.zeros_like(weight)
    for a in range(k):
        for b in range(k):
            rows, cols = slice(a, a + s * h_out, s), slice(b, b + s * w_out, s)
            grad_w[:, :, a, b] = np.einsum("nkij,ncij->kc", grad_output, x_pad[:, :, rows, cols])
            grad_pad[:, :, rows, cols] += np.einsum("nkij,kc->ncij", grad_output, weight[:, :, a, b])
    return grad_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]], grad_w, grad_output.sum(axis=(0, 2, 3))


def conv_backward_im2col(grad_output, x, weight, stride, padding, add_at=True, weight_batch="sum"):
    """col2im: the patches' gradients as one matrix product, scattered back with np.add.at."""
    s, p = stride, padding
    c_out, c_in, k, _ = weight.shape
    n, _, h_out, w_out = grad_output.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    patches = sliding_window_view(x_pad, (k, k), axis=(2, 3))[:, :, ::s, ::s][:, :, :h_out, :w_out]
    cols = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, -1)      # (N*H_out*W_out, C_in*k*k)
    g = grad_output.transpose(0, 2, 3, 1).reshape(-1, c_out)                         # (N*H_out*W_out, C_out)
    if weight_batch == "mean":
        grad_w = (g.T @ cols).reshape(weight.shape) / n
    else:
        grad_w = (g.T @ cols).reshape(weight.shape)
    grad_cols = (g @ weight.reshape(c_out, -1)).reshape(n, h_out, w_out, c_in, k, k)
    ni, ci, ii, jj, ai, bi = np.ix_(range(n), range(c_in), range(h_out), range(w_out), range(k), range(k))
    index = (ni, ci, ii * s + ai, jj * s + bi)
    values = grad_cols.transpose(0, 3, 1, 2, 4, 5)
    grad_pad = np.zeros_like(x_pad)
    if add_at:
        np.add.at(grad_pad, index, values)
    else:
        grad_pad[index] += values                               # repeated indices: only one sum is kept
    return grad_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]], grad_w, grad_output.sum(axis=(0, 2, 3))


def weight_flipped(grad_output, x, weight, stride, padding):
    gx, gw, gb = conv_backward_offsets(grad_output, x, weight, stride, padding)
    return gx, gw[:, :, ::-1, ::-1], gb


FLIP_HINT = "the filter the wrong way round"
CONV_MUTATIONS = [
    (conv_backward_mutant(crop=False), "padding not cropped"),
    (conv_backward_mutant(use_stride=False), "stride ignored"),
    (conv_backward_full_correlation(flip=False), FLIP_HINT),
    (conv_backward_mutant(bias_sum=(2, 3)), "the bias gradient is grad_output summed"),
    (conv_backward_mutant(bias_sum=0), "the bias gradient is grad_output summed"),
    (conv_backward_mutant(batch="first"), "sums over every example of the batch"),
    (weight_flipped, "grad_weight is not flipped"),
]
IM2COL_MUTATIONS = CONV_MUTATIONS[:2] + [
    (lambda *a: conv_backward_im2col(*a, add_at=False), "gradients must add up"),
    (lambda *a: conv_backward_im2col(*a, weight_batch="mean"), "sums over every example of the batch"),
    (conv_backward_full_correlation(flip=True, true_convolution=True), FLIP_HINT),
    (weight_flipped, "grad_weight is not flipped"),
    (conv_backward_mutant(bias_sum=(2, 3)), "the bias gradient is grad_output summed"),
]


@pytest.mark.parametrize("wrong, hint", CONV_MUTATIONS)
def test_conv2d_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb05.check_conv2d_backward, wrong, hint, CONV_MUTATIONS, capsys)
    assert core.latest("conv2d_backward").status == "fail"


@pytest.mark.parametrize("wrong, hint", IM2COL_MUTATIONS)
def test_conv2d_backward_im2col_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb05.check_conv2d_backward_im2col, wrong, hint, IM2COL_MUTATIONS, capsys)
    assert core.latest("conv2d_backward_im2col").status == "fail"


@pytest.mark.parametrize("wrong", [conv_backward_mutant(flip=True), conv_backward_full_correlation(flip=False),
                                   conv_backward_full_correlation(flip=True, true_convolution=True)])
def test_the_flip_hint_never_says_forgot_to_a_learner_who_flipped(wrong, capsys):
    """Scattering with a flipped filter, gathering without a flip, and a true convolution of the flipped
    filter (flipped twice) give the same grad_input; the hint names all three, accusing none."""
    with allow_shortcuts():  # the mutants are built from the checker's reference
        assert nb05.check_conv2d_backward(wrong) is False
    out = capsys.readouterr().out
    assert FLIP_HINT in out and "flips twice" in out and "forgot" not in out, out


RIGHT_BACKWARDS = [conv_backward_mutant(), conv_backward_full_correlation(), conv_backward_offsets,
                   conv_backward_im2col]


@pytest.mark.parametrize("check", [nb05.check_conv2d_backward, nb05.check_conv2d_backward_im2col])
@pytest.mark.parametrize("right", RIGHT_BACKWARDS)
def test_conv2d_backward_accepts_scatter_gather_offsets_and_col2im(check, right, capsys):
    with allow_shortcuts():  # torch styles and reference-built styles: parity, not a learner's answer
        assert check(right) is True
    assert "correct on all 25 cases!" in capsys.readouterr().out


@pytest.mark.xfail(not FLOAT32_ACCEPTED, strict=True,
                   reason="check_function's tolerance does not follow the result's dtype yet (branch core)")
@pytest.mark.parametrize("check", [nb05.check_conv2d_backward, nb05.check_conv2d_backward_im2col])
def test_conv2d_backward_accepts_float32(check, capsys):
    assert check(lambda *a: conv_backward_offsets(*a, dtype=np.float32)) is True


def test_conv2d_backward_cases_include_every_geometry_a_later_cell_uses():
    geometries = {(c.inputs["x"].shape[1:], c.inputs["weight"].shape, c.inputs["stride"], c.inputs["padding"])
                  for c in nb05._conv_cases()}
    assert ((1, 8, 8), (1, 1, 3, 3), 1, 1) in geometries                 # 05's gradient step
    assert {((1, 28, 28), (6, 1, 5, 5), 1, 2), ((6, 14, 14), (16, 6, 5, 5), 1, 0),
            ((16, 5, 5), (120, 16, 5, 5), 1, 0)} <= geometries           # 07's LeNet-5


def test_conv2d_backward_reference_agrees_with_torch():
    for case in nb05._conv_cases():
        g, x, w, s, p = case.inputs.values()
        g, x, w = (np.asarray(v, np.float64) for v in (g, x, w))
        xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, np.zeros(len(w))))
        torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p).backward(torch.tensor(g))
        for mine, theirs in zip(nb05._reference_conv_backward(g, x, w, s, p), (xt, wt, bt)):
            np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_stubs_are_not_attempted(capsys):
    def two_layer_backward(x, W1, W2, t):
        raise NotImplementedError

    def conv2d_backward_loops(grad_output, x, weight, stride, padding):
        raise NotImplementedError

    assert nb05.check_two_layer_backward(two_layer_backward) is False
    assert nb05.check_conv2d_backward(conv2d_backward_loops) is False
    assert nb05.check_conv2d_backward_im2col(conv2d_backward_loops) is False
    assert capsys.readouterr().out.count("not attempted yet") == 3
    assert core.latest("conv2d_backward").status == "not attempted"


def test_float32_answers_are_never_told_a_mistake_they_did_not_make(capsys):
    nb05.check_conv2d_backward_im2col(lambda *a: conv_backward_offsets(*a, dtype=np.float32))
    nb05.check_two_layer_backward(two_layer_mutant(dtype=np.float32))
    out = capsys.readouterr().out
    assert not any(h.message in out for h in nb05.CONV_BACKWARD_HINTS + nb05.TWO_LAYER_HINTS), out
