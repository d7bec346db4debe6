"""cnnlib.models.mlp and cnnlib.models.initialize: the parameter budget and the weight scales."""
import numpy as np
import pytest
import torch

import cnnlib.torch_nn
from cnnlib import models


@pytest.mark.parametrize("in_features,hidden,num_classes", [(1024, 59, 10), (784, 3, 2), (5, 1, 1)])
def test_mlp_params_matches_the_model(in_features, hidden, num_classes):
    net = models.mlp(in_features, hidden, num_classes)
    assert models.mlp_params(in_features, hidden, num_classes) == sum(p.numel() for p in net.parameters())
    assert net(torch.zeros(3, in_features)).shape == (3, num_classes)


@pytest.mark.parametrize("in_features,budget", [(1024, 61_706), (784, 10_000), (10, 500), (100, 121)])
def test_hidden_for_budget_is_the_widest_that_fits(in_features, budget):
    hidden = models.hidden_for_budget(in_features, budget)
    assert models.mlp_params(in_features, hidden) <= budget < models.mlp_params(in_features, hidden + 1)


def test_hidden_for_budget_refuses_a_budget_too_small():
    with pytest.raises(ValueError, match="budget=100 cannot pay for even one hidden unit"):
        models.hidden_for_budget(1024, 100)


def test_mlp_takes_cnnlib_layers_and_checks_the_activation():
    net = models.mlp(16, 4, layers=cnnlib.torch_nn, activation="tanh")
    assert type(net[1]).__module__.startswith("cnnlib.torch_nn")
    with pytest.raises(ValueError, match="activation must be one of"):
        models.mlp(16, 4, activation="sigmoid")


@pytest.mark.parametrize("scheme,variance", [("he", lambda fi, fo: 2 / fi), ("xavier", lambda fi, fo: 2 / (fi + fo))])
def test_initialize_draws_the_scheme_variance(scheme, variance):
    torch.manual_seed(0)
    net = models.initialize(torch.nn.Sequential(torch.nn.Conv2d(16, 64, 5), torch.nn.Linear(400, 300)), scheme)
    for layer, (fan_in, fan_out) in zip(net, [(16 * 25, 64 * 25), (400, 300)]):
        w = layer.weight.detach().numpy()
        assert abs(w.var() / variance(fan_in, fan_out) - 1) < 0.05   # 25,600 and 120,000 draws
        assert abs(w.mean()) < 0.01 * w.std() * 10 and np.all(layer.bias.detach().numpy() == 0)


def test_initialize_torch_keeps_the_default_and_unknown_schemes_raise():
    torch.manual_seed(0)
    net = models.lenet5()
    before = [p.clone() for p in net.parameters()]
    assert models.initialize(net, "torch") is net
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    with pytest.raises(ValueError, match="scheme must be one of"):
        models.initialize(net, "kaiming")


def test_initialize_leaves_normalization_layers_alone():
    net = models.initialize(torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4)), "he")
    assert torch.equal(net[1].weight, torch.ones(4)) and torch.equal(net[1].bias, torch.zeros(4))
