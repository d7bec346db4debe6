"""Convolution beyond the lecture, in cnnlib.numpy_nn and cnnlib.torch_nn: torch.nn.Conv2d's whole contract.

dilation, groups, padding "same"/"valid", unbatched (C, H, W) input and empty batches, under every
algorithm (im2col, Winograd, the naive loops), against torch float64 and finite differences; the
constructor's positions; clear errors; autograd's version counter; skipped input gradients.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from parity import assert_matches_finite_differences, assert_matches_torch, assert_torch_fns_match
from strategies import conv2d_full_configs, make_array, seeds

import cnnlib.numpy_nn.conv as np_conv
import cnnlib.torch_nn.conv as th_conv

ALGORITHMS = ("auto", "im2col", "naive")
# torch's own note about its "same" padding with even kernels (the reference's, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")


def _arrays(cfg, seed):
    x = make_array(cfg["input_shape"], seed)
    w = make_array(cfg["weight_shape"], seed + 1)
    b = make_array((cfg["out_channels"],), seed + 2) if cfg["bias"] else None
    return x, w, b


def _kwargs(cfg):
    return {k: cfg[k] for k in ("stride", "padding", "dilation", "groups")}


def _torch_output_shape(x, w, b, kw):
    return tuple(F.conv2d(torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b), **kw).shape)


def _numpy_pair(algorithm, kw):
    def numpy_side(x, w, b, g):
        if algorithm == "naive":
            return np_conv.conv2d_naive(x, w, b, **kw), np_conv.conv2d_backward_naive(g, x, w, b, **kw)
        out, cache = np_conv.conv2d_forward(x, w, b, **kw, algorithm=algorithm)
        return out, np_conv.conv2d_backward(g, cache)
    return numpy_side


# -- parity with torch, float64, forward and backward ----------------------------------------------
@given(cfg=conv2d_full_configs(), seed=seeds)
def test_numpy_conv2d_matches_torch_over_the_whole_contract(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    kw = _kwargs(cfg)
    g = make_array(_torch_output_shape(x, w, b, kw), seed + 3)
    for algorithm in ALGORITHMS:
        assert_matches_torch(_numpy_pair(algorithm, kw), lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b], g,
                             names=[f"input ({algorithm})", "weight", "bias"])


@given(cfg=conv2d_full_configs(), seed=seeds)
def test_torch_nn_conv2d_matches_torch_over_the_whole_contract(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    kw = _kwargs(cfg)
    g = make_array(_torch_output_shape(x, w, b, kw), seed + 3)
    reference = lambda x, w, b: F.conv2d(x, w, b, **kw)  # noqa: E731
    for algorithm in ("auto", "im2col"):
        assert_torch_fns_match(lambda x, w, b: th_conv.conv2d(x, w, b, **kw, algorithm=algorithm), reference,
                               [x, w, b], g, names=["input", "weight", "bias"])
    xt, wt = torch.tensor(x), torch.tensor(w)
    bt = None if b is None else torch.tensor(b)
    torch.testing.assert_close(th_conv.conv2d_naive(xt, wt, bt, **kw), reference(xt, wt, bt), rtol=1e-10, atol=1e-12)
    for mine, theirs in zip(th_conv.conv2d_backward_naive(torch.tensor(g), xt, wt, bt, **kw),
                            _numpy_pair("im2col", kw)(x, w, b, g)[1]):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            torch.testing.assert_close(mine, torch.tensor(theirs), rtol=1e-10, atol=1e-12)


@given(cfg=conv2d_full_configs(max_kernel=3), seed=seeds)
def test_numpy_gradients_match_finite_differences(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    kw = _kwargs(cfg)
    out, cache = np_conv.conv2d_forward(x, w, b, **kw)
    g = make_array(out.shape, seed + 3)
    grad_x, grad_w, grad_b = np_conv.conv2d_backward(g, cache)
    checks = [("input", x, grad_x), ("weight", w, grad_w)] + ([("bias", b, grad_b)] if b is not None else [])
    checks = [c for c in checks if c[1].size]  # an empty array has no entry to perturb
    assert_matches_finite_differences(lambda: np_conv.conv2d(x, w, b, **kw), checks, g)


@pytest.mark.parametrize("kw", [dict(dilation=2, groups=2, padding=1), dict(padding="same", dilation=(1, 2)),
                                dict(groups=4, stride=2), dict(padding="same")])
def test_torch_nn_gradcheck(kw):
    rng = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 6, 5, dtype=torch.float64, generator=rng, requires_grad=True)
    w = torch.randn(4, 4 // kw.get("groups", 1), 2, 3, dtype=torch.float64, generator=rng, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, generator=rng, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: th_conv.conv2d(x, w, b, **kw), (x, w, b))


# -- degenerate shapes, as torch -------------------------------------------------------------------
@pytest.mark.parametrize("x_shape, w_shape, kw", [
    ((0, 2, 5, 5), (3, 2, 3, 3), dict(padding=1)),            # empty batch (Winograd under "auto")
    ((0, 2, 5, 5), (3, 2, 2, 2), dict(stride=2)),             # empty batch, im2col
    ((2, 0, 5, 5), (3, 0, 3, 3), dict(padding=1)),            # no input channels: torch gives (N, 0, ...)
    ((0, 2, 0, 5), (3, 2, 3, 3), dict(padding=2)),            # zero height, allowed with an empty batch
    ((1, 0, 0, 5), (4, 0, 3, 3), dict(padding=2, groups=2)),  # ... or without channels
    ((0, 5, 5), (3, 0, 3, 3), dict()),                        # unbatched, no channels
])
def test_degenerate_shapes_match_torch_under_every_algorithm(x_shape, w_shape, kw):
    x, w, b = make_array(x_shape, 0), make_array(w_shape, 1), make_array(w_shape[:1], 2)
    g = make_array(_torch_output_shape(x, w, b, kw), 3)
    for algorithm in ALGORITHMS + ("winograd",) * (w_shape[2:] == (3, 3)):
        assert_matches_torch(_numpy_pair(algorithm, kw), lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b], g)
    for algorithm in ("auto", "im2col") + ("winograd",) * (w_shape[2:] == (3, 3)):
        assert_torch_fns_match(lambda x, w, b: th_conv.conv2d(x, w, b, **kw, algorithm=algorithm),
                               lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b], g)


@pytest.mark.parametrize("x_shape, w_shape, kw, match", [
    ((1, 2, 0, 5), (3, 2, 1, 1), {}, r"kernel_size \(1, 1\) is larger than the padded input \(0, 5\)"),
    ((1, 2, 0, 5), (3, 2, 3, 3), dict(padding=2), "zero-length axis; PyTorch allows that only with an empty batch"),
    ((1, 2, 5, 5), (0, 2, 3, 3), {}, "weight has C_out=0 filters; it needs at least one"),
    ((1, 2, 5, 5), (3, 2, 0, 3), {}, "kernel_size must be positive"),
    ((1, 2, 5, 5), (3, 2, 3, 3), dict(dilation=3), r"with dilation \(3, 3\) it spans \(7, 7\)"),
])
def test_degenerate_shapes_torch_refuses_are_refused(x_shape, w_shape, kw, match):
    with pytest.raises(RuntimeError):
        F.conv2d(torch.zeros(x_shape), torch.zeros(w_shape), **kw)
    with pytest.raises(ValueError, match=match):
        np_conv.conv2d(np.zeros(x_shape), np.zeros(w_shape), **kw)
    with pytest.raises(ValueError, match=match):
        th_conv.conv2d(torch.zeros(x_shape), torch.zeros(w_shape), **kw)


# -- clear errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape, w_shape, kw, match", [
    ((1, 4, 5, 5), (3, 2, 3, 3), dict(groups=2), "weight has C_out=3 filters; it needs at least one, and a multiple "
                                                 "of groups=2"),
    ((1, 3, 5, 5), (4, 1, 3, 3), dict(groups=2), r"input has 3 channels but weight expects C_in=2 .* groups=2"),
    ((1, 2, 5, 5), (3, 2, 3, 3), dict(padding="same", stride=2), "padding='same' is not supported for strided"),
    ((1, 2, 5, 5), (3, 2, 3, 3), dict(padding="full"), "padding must be an int, a pair, 'valid' or 'same', got 'full'"),
    ((1, 2, 5, 5), (3, 2, 3, 3), dict(dilation=0), "dilation must be positive"),
    ((1, 2, 5, 5), (3, 2, 3, 3), dict(groups=0), "groups must be positive"),
    ((1, 2, 5, 5), (3, 2, 3, 3), dict(groups=1.0), "groups must be an integer"),
    ((1, 1, 2, 5, 5), (3, 2, 3, 3), {}, r"input must have 4 dimensions \(N, C_in, H, W\) or 3"),
])
def test_bad_arguments_are_refused_naming_them_in_both_libraries(x_shape, w_shape, kw, match):
    with pytest.raises(ValueError, match=match):
        np_conv.conv2d(np.zeros(x_shape), np.zeros(w_shape), **kw)
    with pytest.raises(ValueError, match=match):
        np_conv.conv2d_naive(np.zeros(x_shape), np.zeros(w_shape), **kw)
    with pytest.raises(ValueError, match=match):
        th_conv.conv2d(torch.zeros(x_shape), torch.zeros(w_shape), **kw)


@pytest.mark.parametrize("Conv2d", [np_conv.Conv2d, th_conv.Conv2d])
def test_module_constructor_refusals(Conv2d):
    for args, kw, match in [((4, 4, 3), dict(groups=3), "in_channels=4 must be divisible by groups=3"),
                            ((3, 4, 3), dict(groups=3), "out_channels=4 must be divisible by groups=3"),
                            ((3, 4, 3), dict(stride=2, padding="same"), "padding='same' is not supported for strided"),
                            ((3, 4, 3), dict(padding="full"), "padding must be an int, a pair, 'valid' or 'same'"),
                            ((3, 4, 3), dict(padding_mode="foo"), "padding_mode must be one of"),
                            ((3, 4, 3), dict(padding_mode="reflect"), "padding_mode='reflect' is not supported"),
                            ((3, 4, 3), dict(dilation=2, algorithm="winograd"), "got dilation=(2, 2)"),
                            ((4, 4, 3), dict(groups=2, algorithm="winograd"), "got groups=2")]:
        with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(")", r"\)")):
            Conv2d(*args, **kw)


@pytest.mark.parametrize("bad", [np.zeros((1, 1, 4, 4)), [[[[0.0] * 4] * 4]]], ids=["ndarray", "list"])
def test_torch_nn_given_numpy_or_a_list_says_to_pass_a_tensor(bad):
    w = torch.zeros(1, 1, 3, 3)
    with pytest.raises(TypeError, match=r"input must be a torch.Tensor, got .*; convert it with torch.as_tensor"):
        th_conv.conv2d(bad, w)
    with pytest.raises(TypeError, match="input must be a torch.Tensor"):
        th_conv.Conv2d(1, 1, 3)(bad)
    with pytest.raises(TypeError, match="weight must be a torch.Tensor"):
        th_conv.conv2d(torch.zeros(1, 1, 4, 4), np.zeros((1, 1, 3, 3)))
    with pytest.raises(TypeError, match="input must be a torch.Tensor"):
        th_conv.conv2d_naive(bad, w)


# -- the constructor: torch's positions ------------------------------------------------------------
def test_constructor_positions_are_torchs():
    args = (4, 6, 3, 2, 1, 2, 2, False, "zeros")  # in, out, kernel, stride, padding, dilation, groups, bias, mode
    ref = torch.nn.Conv2d(*args, None, torch.float64)
    for layer in (np_conv.Conv2d(*args), th_conv.Conv2d(*args, None, torch.float64)):
        assert (layer.stride, layer.padding, layer.dilation, layer.groups) == ((2, 2), (1, 1), (2, 2), 2)
        assert layer.bias is None and tuple(layer.weight.shape) == tuple(ref.weight.shape) == (6, 2, 3, 3)
    assert th_conv.Conv2d(*args, None, torch.float32).weight.dtype == torch.float32  # the 11th is dtype, as torch
    with pytest.raises(TypeError):
        np_conv.Conv2d(*args, np.float32)  # numpy_nn's own arguments are keyword-only
    with pytest.raises(TypeError):
        th_conv.Conv2d(*args, None, None, "im2col")
    assert repr(np_conv.Conv2d(4, 6, 3, dilation=2, groups=2)) == (
        "Conv2d(4, 6, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0), bias=True, dilation=(2, 2), groups=2)")
    assert repr(th_conv.Conv2d(4, 6, 3, padding="same")) == (
        "Conv2d(4, 6, kernel_size=(3, 3), stride=(1, 1), padding='same', bias=True)")


@pytest.mark.parametrize("groups", [2, 8])  # AlexNet's two towers; depthwise
@pytest.mark.parametrize("x_shape", [(2, 8, 7, 6), (8, 7, 6)])
def test_modules_load_torch_weights_and_agree_grouped_and_unbatched(groups, x_shape):
    torch.manual_seed(0)
    ref = torch.nn.Conv2d(8, 8, 3, 1, "same", 1, groups, dtype=torch.float64)
    ours_t = th_conv.Conv2d(8, 8, 3, 1, "same", 1, groups, dtype=torch.float64)
    ours_n = np_conv.Conv2d(8, 8, 3, 1, "same", 1, groups)
    ours_t.load_state_dict(ref.state_dict())
    ours_n.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = torch.randn(x_shape, dtype=torch.float64, requires_grad=True)
    expected = ref(x)
    g = torch.randn_like(expected)
    (grad_x_ref,) = torch.autograd.grad(expected, x, g)
    out = ours_t(x)
    (grad_x,) = torch.autograd.grad(out, x, g)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_x, grad_x_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_n(x.detach().numpy()), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_n.backward(g.numpy()), grad_x_ref.numpy(), rtol=1e-12, atol=1e-12)


# -- autograd's version counter --------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["im2col", "winograd"])
@pytest.mark.parametrize("which", ["input", "weight"])
def test_changing_input_or_weight_in_place_before_backward_raises_like_torch(algorithm, which):
    for conv in (lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: th_conv.conv2d(x, w, padding=1,
                                                                                      algorithm=algorithm)):
        w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
        x0 = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
        x = x0 * 1.0                               # not a leaf, so it may be changed in place
        out = conv(x, w)
        with torch.no_grad():
            (x if which == "input" else w).add_(1.0)  # e.g. an optimizer step before backward
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


# -- skipping the gradients nobody asked for -------------------------------------------------------
def test_torch_nn_skips_the_input_gradient_of_a_first_layer(monkeypatch):
    calls = []
    real = th_conv.conv2d_backward
    monkeypatch.setattr(th_conv, "conv2d_backward", lambda *a: calls.append(a[2]) or real(*a))
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)                       # data: no gradient wanted
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    for algorithm in ("im2col", "winograd"):
        th_conv.conv2d(x, w, padding=1, algorithm=algorithm).sum().backward()
    x.requires_grad_()
    th_conv.conv2d(x, w, padding=1).sum().backward()
    assert calls == [False, False, True] and x.grad is not None


@pytest.mark.parametrize("algorithm", ["im2col", "winograd"])
def test_numpy_need_input_grad_false_returns_none_and_the_same_parameter_gradients(algorithm):
    x, w, b = make_array((2, 3, 6, 6), 0), make_array((4, 3, 3, 3), 1), make_array((4,), 2)
    out, cache = np_conv.conv2d_forward(x, w, b, 1, 1, algorithm=algorithm)
    g = make_array(out.shape, 3)
    full = np_conv.conv2d_backward(g, cache)
    skipped = np_conv.conv2d_backward(g, cache, need_input_grad=False)
    assert skipped[0] is None and full[0] is not None
    np.testing.assert_array_equal(skipped[1], full[1])
    np.testing.assert_array_equal(skipped[2], full[2])
    layer = np_conv.Conv2d(3, 4, 3, padding=1, rng=0, algorithm=algorithm)
    assert layer.need_input_grad is True
    layer.need_input_grad = False
    layer(x)
    assert layer.backward(g) is None and layer.weight.grad.any()
