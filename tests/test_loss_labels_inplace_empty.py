"""Losses and softmax at their edges: label dtypes, in-place edits before backward, empty batches, non-tensors.

Each case compares with torch.nn.functional, or asserts the clear error cnnlib gives instead.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import cnnlib.numpy_nn.loss as NL
import cnnlib.torch_nn.loss as L
from cnnlib.labels import class_labels

LABEL_LOSSES = {  # ours (torch_nn), ours (numpy_nn), a PyTorch reference taking int64 labels
    "cross_entropy": (L.cross_entropy, NL.cross_entropy, F.cross_entropy),
    "multi_margin_loss": (L.multi_margin_loss, NL.multi_margin_loss, F.multi_margin_loss),
    "multiclass_hinge_loss": (L.multiclass_hinge_loss, NL.multiclass_hinge_loss,
                              lambda s, t: F.relu(1 + s.masked_fill(F.one_hot(t, s.shape[1]).bool(), -math.inf)
                                                  .amax(dim=1) - s.gather(1, t[:, None])[:, 0]).mean()),
}


# -- label dtypes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LABEL_LOSSES)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64])
def test_every_integer_label_dtype_gives_the_int64_answer(name, dtype):
    ours, numpy_ours, reference = LABEL_LOSSES[name]
    x = torch.randn(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    labels = torch.tensor([0, 3, 1, 1, 2])
    expected = reference(x, labels)
    (grad_expected,) = torch.autograd.grad(expected, x)
    loss = ours(x, labels.to(dtype))
    (grad,) = torch.autograd.grad(loss, x)
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, grad_expected, rtol=1e-12, atol=1e-14)
    np_dtype = {torch.uint8: np.uint8, torch.int8: np.int8, torch.int16: np.int16, torch.int32: np.int32,
                torch.int64: np.int64}[dtype]
    np.testing.assert_allclose(numpy_ours(x.detach().numpy(), labels.numpy().astype(np_dtype)),
                               expected.item(), rtol=1e-12)


@pytest.mark.parametrize("name", LABEL_LOSSES)
@pytest.mark.parametrize("labels, words", [
    (torch.tensor([True, False, True]), "target has dtype bool"),
    (torch.tensor([0.0, 1.0, 2.0]), "target holds floats"),
    (torch.tensor([0.0, float("nan"), 2.0]), "target holds floats, some of them nan"),
    (torch.tensor([0, 4, 1]), "target holds the label 4, out of range: labels must be in [0, 3] for 4 classes"),
    (torch.tensor([0, -1, 1]), "target holds the label -1"),
    (torch.tensor([0, 255, 1], dtype=torch.uint8), "target holds the label 255"),
])
def test_bad_labels_are_refused_in_both_libraries(name, labels, words):
    ours, numpy_ours, _ = LABEL_LOSSES[name]
    x = torch.zeros(3, 4, dtype=torch.float64)
    with pytest.raises(ValueError) as torch_error:
        ours(x, labels)
    with pytest.raises(ValueError) as numpy_error:
        numpy_ours(x.numpy(), labels.numpy())
    assert words in str(torch_error.value)
    assert str(torch_error.value) == str(numpy_error.value)


def test_class_labels_keeps_an_int64_tensor_and_converts_arrays_and_lists():
    t = torch.tensor([1, 2])
    assert class_labels(t, 3) is t
    out = class_labels([np.uint8(2), 0], 3)
    assert out.dtype == np.int64 and out.tolist() == [2, 0]
    assert class_labels(np.array([3], dtype=np.uint64)).tolist() == [3]
    with pytest.raises(ValueError, match="target holds the label 9223372036854775807"):
        class_labels(np.array([2**64 - 1], dtype=np.uint64), 10)
    with pytest.raises(ValueError, match="labels must hold integer class labels, got dtype <U1"):
        class_labels(np.array(["a"]), name="labels")


# -- in-place edits between forward and backward: raise where torch raises -------------------------------
def _hinge_reference(y, t):
    return F.relu(1 - t * y).mean()


INPLACE = {  # name -> (ours, reference, kind of target)
    "cross_entropy": (L.cross_entropy, F.cross_entropy, "labels"),
    "cross_entropy_probs": (L.cross_entropy, F.cross_entropy, "probabilities"),
    "mse_loss": (L.mse_loss, F.mse_loss, "values"),
    "l1_loss": (L.l1_loss, F.l1_loss, "values"),
    "smooth_l1_loss": (L.smooth_l1_loss, F.smooth_l1_loss, "values"),
    "multi_margin_loss": (L.multi_margin_loss, F.multi_margin_loss, "labels"),
    "hinge_loss": (L.hinge_loss, _hinge_reference, "signs"),
    "multiclass_hinge_loss": LABEL_LOSSES["multiclass_hinge_loss"][::2] + ("labels",),
}


def _raises_after_edit(loss_fn, kind, edit):
    """Forward, then change `edit` ("input" or "target") in place, then backward: True if backward raised."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 4, dtype=torch.float64, generator=g, requires_grad=True)
    target = {"labels": lambda: torch.tensor([0, 2, 1]),
              "probabilities": lambda: torch.softmax(torch.randn(3, 4, dtype=torch.float64, generator=g), 1),
              "values": lambda: torch.randn(3, 4, dtype=torch.float64, generator=g),
              "signs": lambda: torch.tensor([[1.0, -1, 1, -1]] * 3, dtype=torch.float64)}[kind]()
    loss = loss_fn(x, target)
    with torch.no_grad():
        if edit == "input":
            x.add_(1)
        elif kind == "labels":
            target.fill_(3)
        else:
            target.mul_(-1)
    try:
        loss.backward()
    except RuntimeError as err:
        assert "modified by an inplace operation" in str(err)
        return True
    return False


@pytest.mark.parametrize("edit", ["input", "target"])
@pytest.mark.parametrize("name", INPLACE)
def test_an_inplace_edit_before_backward_raises_where_torch_raises(name, edit):
    ours, reference, kind = INPLACE[name]
    assert _raises_after_edit(ours, kind, edit) == _raises_after_edit(reference, kind, edit)


@pytest.mark.parametrize("ours, reference", [(L.softmax, torch.softmax), (L.log_softmax, torch.log_softmax)])
def test_softmax_output_edited_in_place_raises_as_in_torch(ours, reference):
    for fn in (ours, reference):
        x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
        out = fn(x, 1)
        out.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_torch_nn_losses_and_softmax_keep_no_tensor_outside_save_for_backward():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    for out in (L.cross_entropy(x, torch.tensor([0, 1, 2])), L.mse_loss(x, torch.zeros(3, 4, dtype=torch.float64)),
                L.softmax(x, 1), L.log_softmax(x, 1)):
        node = out.grad_fn
        stashed = [k for k, v in vars(node).items() if isinstance(v, torch.Tensor)]
        stashed += [k for k, v in vars(node).items() if isinstance(v, (list, tuple))
                    and any(isinstance(i, torch.Tensor) for i in v)]
        assert stashed == [], f"{type(node).__name__} keeps tensors on ctx: {stashed}"
        assert len(node.saved_tensors) >= 1


# -- empty batches: torch's answer, forward and backward -------------------------------------------------
EMPTY = [
    (L.cross_entropy, NL.cross_entropy, F.cross_entropy, (0, 3), "labels"),
    (L.cross_entropy, NL.cross_entropy, F.cross_entropy, (0, 3), "probabilities"),
    (L.mse_loss, NL.mse_loss, F.mse_loss, (0, 2), "values"),
    (L.l1_loss, NL.l1_loss, F.l1_loss, (0,), "values"),
    (L.smooth_l1_loss, NL.smooth_l1_loss, F.smooth_l1_loss, (2, 0), "values"),
    (L.hinge_loss, NL.hinge_loss, _hinge_reference, (0, 4), "values"),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ours, numpy_ours, reference, shape, kind", EMPTY)
def test_an_empty_batch_gives_torchs_answer(ours, numpy_ours, reference, shape, kind, reduction):
    x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    target = torch.zeros(shape[:1], dtype=torch.long) if kind == "labels" else torch.zeros(shape, dtype=torch.float64)
    if reference is _hinge_reference:
        expected = {"mean": torch.tensor(math.nan), "sum": torch.tensor(0.0), "none": torch.zeros(shape)}[reduction]
    else:
        expected = reference(x, target, reduction=reduction)
    loss = ours(x, target, reduction=reduction)
    torch.testing.assert_close(loss, expected.to(loss.dtype), equal_nan=True)
    loss.sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(numpy_ours(x.detach().numpy(), target.numpy(), reduction=reduction),
                                  expected.detach().numpy())


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_margin_losses_of_an_empty_batch_are_nan_for_mean_and_zero_for_sum(reduction):
    # torch's own multi_margin_loss returns an uninitialized number here; nan (mean) and 0 (sum) are the math.
    x = torch.zeros(0, 3, dtype=torch.float64, requires_grad=True)
    for fn in (L.multi_margin_loss, L.multiclass_hinge_loss):
        loss = fn(x, torch.zeros(0, dtype=torch.long), reduction=reduction)
        assert (math.isnan(loss.item()) if reduction == "mean" else loss.item() == 0)
        loss.backward()
        assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("shape, dim", [((0, 3), 1), ((2, 0), 1), ((0,), 0), ((2, 0, 3), -1)])
def test_softmax_of_an_empty_input_is_empty_forward_and_backward(shape, dim):
    from cnnlib.numpy_nn.softmax import log_softmax as np_log_softmax, softmax as np_softmax

    for ours, reference, numpy_ours in ((L.softmax, torch.softmax, np_softmax),
                                        (L.log_softmax, torch.log_softmax, np_log_softmax)):
        x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
        out = ours(x, dim)
        assert out.shape == reference(x, dim).shape == shape
        out.sum().backward()
        assert x.grad.shape == shape
        assert numpy_ours(np.zeros(shape), dim).shape == shape


# -- NumPy arrays and lists: a TypeError that says to pass a tensor -------------------------------------
@pytest.mark.parametrize("call, words", [
    (lambda: L.cross_entropy(np.zeros((2, 3)), torch.tensor([0, 1])), "input must be a torch.Tensor, got ndarray"),
    (lambda: L.cross_entropy(torch.zeros(2, 3), [0, 1]), "target must be a torch.Tensor, got list"),
    (lambda: L.mse_loss(torch.zeros(3), np.zeros(3)), "target must be a torch.Tensor, got ndarray"),
    (lambda: L.hinge_loss([1.0], torch.ones(1)), "input must be a torch.Tensor, got list"),
    (lambda: L.multi_margin_loss(np.zeros((2, 3)), np.array([0, 1])), "input must be a torch.Tensor"),
    (lambda: L.softmax(np.zeros(3)), "input must be a torch.Tensor, got ndarray; pass torch.as_tensor(input)"),
    (lambda: L.log_softmax([1.0, 2.0]), "input must be a torch.Tensor, got list"),
    (lambda: L.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 1])), "input must be a torch.Tensor"),
    (lambda: L.softmax(torch.tensor([1, 2])), "input must be a floating-point tensor, got dtype torch.int64"),
    (lambda: L.mse_loss(torch.tensor([1, 2]), torch.tensor([1, 2])), "input must be a floating-point tensor"),
])
def test_non_tensors_get_a_type_error_that_says_to_pass_a_tensor(call, words):
    with pytest.raises(TypeError) as info:
        call()
    assert words in str(info.value)
