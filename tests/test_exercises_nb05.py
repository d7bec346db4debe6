"""Exercises of 05_backpropagation: each checker rejects plausible wrong implementations for the
reason it names, and accepts the reference and an independent loop solution."""
import numpy as np
import pytest
import torch

from cnnlib.exercises import core, nb05
from cnnlib.exercises.functions import allow_shortcuts
from exercise_notebooks import rejected_for


def two_layer_right(x, W1, W2, t):
    h = W1 @ x
    d_f = 2 * (W2 @ np.maximum(0, h) - t)
    return np.outer((W2.T @ d_f) * (h > 0), x), np.outer(d_f, np.maximum(0, h))


def two_layer_mutant(gate="indicator", factor=2.0, transpose=False):
    def two_layer_backward(x, W1, W2, t):
        h = W1 @ x
        a = np.maximum(0, h)
        d_f = factor * (W2 @ a - t)
        d_a = W2.T @ d_f
        d_h = {"indicator": d_a * (h > 0), "none": d_a, "value": d_a * a}[gate]
        g1, g2 = np.outer(d_h, x), np.outer(d_f, a)
        return (g1.T, g2.T) if transpose else (g1, g2)
    return two_layer_backward


TWO_LAYER_MUTATIONS = [
    (two_layer_mutant(gate="none"), "misses the ReLU gate"),
    (two_layer_mutant(gate="value"), "not max(0, h) itself"),
    (two_layer_mutant(factor=1.0), "dropped the factor 2"),
    (two_layer_mutant(transpose=True), "transposed"),
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
    assert "Exercise 1: correct on all 12 cases!" in capsys.readouterr().out


def conv_backward_mutant(crop=True, use_stride=True, bias_sum=(0, 2, 3)):
    def conv2d_backward_loops(grad_output, x, weight, stride, padding):
        s, p = (stride if use_stride else 1), padding
        n_b, c_out, h_out, w_out = grad_output.shape
        k = weight.shape[2]
        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        grad_pad, grad_w = np.zeros_like(x_pad), np.zeros_like(weight)
        for n in range(n_b):
            for co in range(c_out):
                for i in range(h_out):
                    for j in range(w_out):
                        g = grad_output[n, co, i, j]
                        window = (n, slice(None), slice(i * s, i * s + k), slice(j * s, j * s + k))
                        grad_w[co] += g * x_pad[window]
                        grad_pad[window] += g * weight[co]
        grad_in = grad_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]] if crop else grad_pad
        return grad_in, grad_w, grad_output.sum(axis=bias_sum)
    return conv2d_backward_loops


def conv_backward_full_convolution(flip=True):
    """grad_input as a full correlation of the (dilated) output gradient with the flipped filter."""
    def conv2d_backward_loops(grad_output, x, weight, stride, padding):
        ref = nb05._reference_conv_backward(grad_output, x, weight, stride, padding)
        n_b, c_out, h_out, w_out = grad_output.shape
        k, p, s = weight.shape[2], padding, stride
        hp, wp = x.shape[2] + 2 * p, x.shape[3] + 2 * p
        dil = np.zeros((n_b, c_out, hp - k + 1, wp - k + 1))
        dil[:, :, ::s, ::s][:, :, :h_out, :w_out] = grad_output
        full = np.pad(dil, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
        w = weight[:, :, ::-1, ::-1] if flip else weight
        grad_pad = np.zeros((n_b, x.shape[1], hp, wp))
        for a in range(hp):
            for b in range(wp):
                grad_pad[:, :, a, b] = np.einsum("noij,ocij->nc", full[:, :, a:a + k, b:b + k], w)
        return grad_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]], ref[1], ref[2]
    return conv2d_backward_loops


CONV_MUTATIONS = [
    (conv_backward_mutant(crop=False), "padding not cropped"),
    (conv_backward_mutant(use_stride=False), "stride ignored"),
    (conv_backward_full_convolution(flip=False), "forgot to flip"),
    (conv_backward_mutant(bias_sum=(2, 3)), "the bias gradient is grad_output summed"),
    (conv_backward_mutant(bias_sum=0), "the bias gradient is grad_output summed"),
]


@pytest.mark.parametrize("wrong, hint", CONV_MUTATIONS)
def test_conv2d_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb05.check_conv2d_backward, wrong, hint, CONV_MUTATIONS, capsys)
    assert core.latest("conv2d_backward").status == "fail"


@pytest.mark.parametrize("right", [conv_backward_mutant(), conv_backward_full_convolution()])
def test_conv2d_backward_accepts_right_answers(right, capsys):
    with allow_shortcuts():  # the full-convolution form takes grad_weight and grad_bias from the reference
        assert nb05.check_conv2d_backward(right) is True
    assert "Exercise 2: correct on all 16 cases!" in capsys.readouterr().out


def test_conv2d_backward_reference_agrees_with_torch():
    for case in nb05._conv_cases():
        g, x, w, s, p = case.inputs.values()
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
    assert capsys.readouterr().out.count("not attempted yet") == 2
    assert core.latest("conv2d_backward").status == "not attempted"
