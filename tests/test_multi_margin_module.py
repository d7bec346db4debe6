"""MultiMarginLoss in both libraries: torch.nn's answer (float64, forward and backward) or a refusal by name."""
import numpy as np
import pytest
import torch

from cnnlib import numpy_nn, torch_nn


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("margin", [1.0, 0.5, 2.0])
def test_multi_margin_loss_modules_give_torchs_answer(reduction, margin):
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(6, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 4, (6,), generator=gen)
    ref = torch.nn.MultiMarginLoss(1, margin, reduction=reduction)(x, t)
    g = torch.randn(ref.shape, generator=gen, dtype=torch.float64)
    (grad_ref,) = torch.autograd.grad(ref, x, g)
    xt = x.detach().clone().requires_grad_()
    ours = torch_nn.MultiMarginLoss(1, margin, reduction=reduction)(xt, t)
    ours.backward(g)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(xt.grad, grad_ref, rtol=1e-12, atol=1e-12)
    loss = numpy_nn.MultiMarginLoss(1, margin, reduction=reduction)
    np.testing.assert_allclose(loss(x.detach().numpy(), t.numpy()), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(loss.backward(g.numpy()), grad_ref.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lib", [numpy_nn, torch_nn])
@pytest.mark.parametrize("kwargs, word", [({"p": 2}, "p=2"), ({"weight": torch.ones(3)}, "weight"),
                                          ({"reduce": False}, "reduction")])
def test_what_is_left_out_is_refused_by_name(lib, kwargs, word):
    with pytest.raises(ValueError, match=word):
        lib.MultiMarginLoss(**kwargs)
