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
