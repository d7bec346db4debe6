"""cnnlib.depth: He initialization keeps the activations' scale; batch-normalized stacks keep their gradients."""
import math

import pytest
import torch

from cnnlib import models
from cnnlib.depth import activation_scales, conv_weights, deep_gradient_norms, he_std, on_meta


def test_he_std_is_sqrt_two_over_fan_in():
    assert he_std(8) == pytest.approx(0.5) and he_std(1) == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError, match="fan_in"):
        he_std(0)


def test_he_keeps_the_scale_and_a_small_init_shrinks_it_by_its_factor_per_layer():
    he = activation_scales(30, 256, he_std(256), seed=1)
    small = activation_scales(30, 256, he_std(256) / 2, seed=1)
    assert 0.7 < he[-1] / he[0] < 1.4
    assert small[-1] / small[0] == pytest.approx(0.5 ** 30, rel=0.6)  # halved every layer, up to noise
    assert activation_scales(3, 4, 0.1).shape == (4,)


@pytest.mark.parametrize("residual", [False, True])
def test_batch_normalized_stacks_do_not_vanish(residual):
    g = deep_gradient_norms(20, width=16, residual=residual, batch=32, seed=3)
    assert g.shape == (21,) and (g > 0.5 * g[-1]).all()


def test_deep_gradient_norms_is_seeded_and_checks_its_arguments():
    assert (deep_gradient_norms(5, seed=2) == deep_gradient_norms(5, seed=2)).all()
    with pytest.raises(ValueError, match="depth"):
        deep_gradient_norms(0)


def test_on_meta_and_conv_weights():
    block = on_meta(models.Bottleneck, in_channels=256, width=64)
    assert next(block.parameters()).device == torch.device("meta")
    assert conv_weights(block) == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256
    assert conv_weights(torch.nn.Linear(3, 4)) == 0


def test_train_curve_is_one_epoch_of_sgd_with_momentum_as_written_out():
    import numpy as np
    import torch.nn.functional as F

    from cnnlib.depth import train_curve

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(50, 1, 28, 28, generator=g), torch.randint(0, 10, (50,), generator=g)
    torch.manual_seed(1)
    model = models.narrow_resnet(1, width=4)
    twin = models.narrow_resnet(1, width=4)
    twin.load_state_dict(model.state_dict())
    losses = train_curve(model, (x, y), lr=0.05, batch_size=16, seed=3)
    assert losses.shape == (4,) and model.training  # ceil(50 / 16) mini-batches
    opt = torch.optim.SGD(twin.parameters(), lr=0.05, momentum=0.9)
    expected = []
    for idx in np.array_split(np.random.default_rng(3).permutation(50), [16, 32, 48]):
        loss = F.cross_entropy(twin(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        expected.append(loss.item())
    assert losses.tolist() == expected


def test_train_curve_checks_its_arguments_and_stops_on_nan():
    from cnnlib.depth import train_curve

    model = models.narrow_resnet(1, width=4)
    x, y = torch.randn(8, 1, 28, 28), torch.zeros(8, dtype=torch.long)
    with pytest.raises(ValueError, match="lr must be positive"):
        train_curve(model, (x, y), lr=0)
    with pytest.raises(ValueError, match="8 images but 7 labels"):
        train_curve(model, (x, y[:7]))
    with pytest.raises(RuntimeError, match="mini-batch 1: the loss became nan"):
        train_curve(model, (x * float("nan"), y))
