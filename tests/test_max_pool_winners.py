"""Max pooling's winners, now carried through the row stage, still route gradients exactly as PyTorch does:
ties (ReLU's zeros), windows that start in the padding, inputs of -inf, in both libraries."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.numpy_nn import pooling as numpy_pooling
from cnnlib.torch_nn import pooling as torch_pooling

CASES = [(2, 2, 0, 1), (3, 2, 1, 1), (3, 1, 1, 2), (2, 3, 1, 1), (3, 2, 0, 1)]  # kernel, stride, padding, dilation


def _input(seed, kind):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(2, 3, 9, 8)).astype(np.float64)  # many ties
    if kind == "relu":
        x = np.maximum(x, 0.0)
    elif kind == "-inf":
        x[rng.random(x.shape) < 0.6] = -np.inf                     # whole windows of -inf next to the padding
    return x


@pytest.mark.parametrize("kind", ["ties", "relu", "-inf"])
@pytest.mark.parametrize("kernel, stride, padding, dilation", CASES)
def test_max_pool_gradient_goes_where_pytorch_sends_it(kind, kernel, stride, padding, dilation):
    x = _input(kernel + 10 * stride + 100 * padding + 1000 * dilation, kind)
    xt = torch.from_numpy(x).requires_grad_()
    out_ref = F.max_pool2d(xt, kernel, stride, padding, dilation)
    g = torch.arange(1.0, out_ref.numel() + 1, dtype=torch.float64).reshape(out_ref.shape)  # every output distinct
    out_ref.backward(g)
    out, cache = numpy_pooling.max_pool2d_forward(x, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(out, out_ref.detach().numpy())
    np.testing.assert_array_equal(numpy_pooling.max_pool2d_backward(g.numpy(), cache), xt.grad.numpy())
    out_t, cache_t = torch_pooling.max_pool2d_forward(torch.from_numpy(x), kernel, stride, padding, dilation)
    assert torch.equal(out_t, out_ref.detach())
    assert torch.equal(torch_pooling.max_pool2d_backward(g, cache_t), xt.grad)
