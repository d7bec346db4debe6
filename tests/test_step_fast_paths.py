"""The LeNet-5 step's fast paths change no number: the column matrix kept for backward
(cnnlib.numpy_nn.conv.KEEP_COLUMNS_BYTES) and the in-place tanh backward of both libraries."""
import numpy as np
import pytest

from cnnlib.numpy_nn import conv


@pytest.mark.parametrize("stride, padding, groups", [(1, 0, 1), (2, 1, 1), (1, 2, 2)])
def test_kept_columns_give_the_same_gradients_as_unfolding_again(monkeypatch, stride, padding, groups):
    rng = np.random.default_rng(stride + 10 * padding + 100 * groups)
    x = rng.standard_normal((3, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups, 3, 5)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    args = (x, w, b, stride, padding, 1, groups)
    out, cache = conv.conv2d_forward(*args, algorithm="im2col")
    assert cache[1][-1] is not None                       # small: the columns are kept
    g = rng.standard_normal(out.shape).astype(np.float32)
    kept = conv.conv2d_backward(g, cache)
    again = conv.conv2d_backward(g, cache)                # a second backward from the same cache
    monkeypatch.setattr(conv, "KEEP_COLUMNS_BYTES", 0)
    out_unfolded, cache_unfolded = conv.conv2d_forward(*args, algorithm="im2col")
    assert cache_unfolded[1][-1] is None                  # over the limit: backward unfolds again
    unfolded = conv.conv2d_backward(g, cache_unfolded)
    np.testing.assert_array_equal(out, out_unfolded)
    for name, a, b_, c in zip(("input", "weight", "bias"), kept, again, unfolded):
        np.testing.assert_array_equal(a, b_, err_msg=f"grad_{name} changed on a second backward")
        np.testing.assert_array_equal(a, c, err_msg=f"grad_{name} differs between kept and unfolded columns")


def test_tanh_backward_in_one_array_gives_the_same_numbers_and_dtype():
    from cnnlib.numpy_nn.activation import tanh_backward

    rng = np.random.default_rng(3)
    out = np.tanh(rng.standard_normal((4, 3, 5, 5))).astype(np.float32)
    for g in (rng.standard_normal(out.shape).astype(np.float32), rng.standard_normal(out.shape)):
        got = tanh_backward(g, out)
        expected = g * (1 - out * out)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_torch_tanh_backward_in_one_tensor_gives_the_same_numbers_and_dtype():
    import torch

    from cnnlib.torch_nn.activation import tanh_backward

    torch.manual_seed(3)
    out = torch.tanh(torch.randn(4, 3, 5, 5))
    for g in (torch.randn(out.shape), torch.randn(out.shape, dtype=torch.float64)):
        got = tanh_backward(g, out)
        expected = g * (1 - out * out)
        assert got.dtype == expected.dtype
        assert torch.equal(got, expected)
