"""The column matrix cnnlib.torch_nn.conv keeps for backward changes no gradient and no in-place check."""
import pytest
import torch

from cnnlib.torch_nn import conv


def _grads(x, w, b, stride, padding):
    x, w, b = (t.detach().clone().requires_grad_() for t in (x, w, b))
    out = conv.conv2d(x, w, b, stride, padding, algorithm="im2col")
    out.backward(torch.ones_like(out))
    return out.detach(), x.grad, w.grad, b.grad


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1)])
def test_kept_columns_give_the_same_gradients_as_unfolding_again(monkeypatch, stride, padding):
    torch.manual_seed(stride + 10 * padding)
    x, w, b = torch.randn(3, 4, 9, 8), torch.randn(5, 4, 3, 5), torch.randn(5)
    assert conv.conv2d_forward(x, w, b, stride, padding, algorithm="im2col")[1][2][-1] is not None
    kept = _grads(x, w, b, stride, padding)
    monkeypatch.setattr(conv, "KEEP_COLUMNS_BYTES", 0)
    assert conv.conv2d_forward(x, w, b, stride, padding, algorithm="im2col")[1][2][-1] is None
    unfolded = _grads(x, w, b, stride, padding)
    for name, a, c in zip(("output", "input", "weight", "bias"), kept, unfolded):
        assert torch.equal(a, c), f"{name} differs between kept and unfolded columns"


def test_an_input_changed_in_place_still_raises_with_kept_columns():
    x = torch.randn(2, 3, 6, 6, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    y = x * 1.0
    out = conv.conv2d(y, w, None, algorithm="im2col")
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
