"""col2im (and col2im_batch_last) is the adjoint of im2col in both libraries, looping over offsets or windows."""
import numpy as np
import pytest
import torch

from cnnlib.numpy_nn import conv as numpy_conv
from cnnlib.torch_nn import conv as torch_conv

# (N, C, Hp, Wp), kernel, stride, dilation: windows outnumber offsets, and the reverse (LeNet's C5 has one window)
CASES = [((3, 2, 5, 5), (5, 5), (1, 1), (1, 1)), ((2, 3, 7, 6), (4, 3), (2, 1), (1, 1)),
         ((2, 2, 9, 9), (3, 3), (2, 3), (2, 1)), ((4, 3, 12, 10), (3, 2), (1, 2), (1, 1))]


def _out_hw(shape, kernel, stride, dilation):
    return tuple((size - d * (k - 1) - 1) // s + 1 for size, k, s, d in zip(shape[2:], kernel, stride, dilation))


@pytest.mark.parametrize("shape, kernel, stride, dilation", CASES)
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride, dilation):
    rng = np.random.default_rng(sum(shape))
    out_hw = _out_hw(shape, kernel, stride, dilation)
    x = rng.standard_normal(shape)
    columns = numpy_conv.im2col(x, kernel, stride, out_hw, dilation)
    g = rng.standard_normal(columns.shape)
    back = numpy_conv.col2im(g, shape, kernel, stride, out_hw, dilation)
    assert back.shape == shape
    np.testing.assert_allclose(np.vdot(columns, g), np.vdot(x, back), rtol=1e-12)   # <im2col x, g> = <x, col2im g>
    expected = np.zeros(x.size)                           # every column entry added back where im2col read it
    where = numpy_conv.im2col(np.arange(x.size, dtype=np.float64).reshape(shape), kernel, stride, out_hw, dilation)
    np.add.at(expected, where.astype(np.intp).ravel(), g.ravel())
    np.testing.assert_allclose(back.ravel(), expected, rtol=1e-12, atol=1e-12)
    n, c = shape[:2]                                      # the same gradients with the pixels ordered (i, j, n)
    g_last = g.reshape(c * kernel[0] * kernel[1], n, -1).transpose(0, 2, 1).reshape(g.shape)
    back_last = numpy_conv.col2im_batch_last(g_last, shape, kernel, stride, out_hw, dilation)
    np.testing.assert_allclose(back_last, back, rtol=1e-12, atol=1e-12)
    back_torch = torch_conv.col2im(torch.from_numpy(g), shape, kernel, stride, out_hw, dilation)
    np.testing.assert_allclose(back_torch.numpy(), back, rtol=1e-12, atol=1e-12)
    back_torch_last = torch_conv.col2im_batch_last(torch.from_numpy(g_last), shape, kernel, stride, out_hw, dilation)
    np.testing.assert_allclose(back_torch_last.numpy(), back, rtol=1e-12, atol=1e-12)
