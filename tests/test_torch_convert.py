"""Weights go torch.nn -> cnnlib.torch_nn -> cnnlib.numpy_nn and back; the packages mirror each other name for name."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from torch_support import DEVICES, F32, needs_cuda, skip_unsupported
from torch_support import full_float32_precision  # noqa: F401  (a fixture, used by pytestmark)

import cnnlib.numpy_nn as N
import cnnlib.torch_nn as T
from cnnlib.torch_nn.convert import to_numpy_state_dict, to_torch_state_dict

pytestmark = pytest.mark.usefixtures("full_float32_precision")  # compare with exact float32, not TF32


def small_cnn(nn, **factory):
    """The same network from any of the three packages (NumPy layers take no device)."""
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, **factory), nn.ReLU(), nn.MaxPool2d(2),                    # (N, 4, 4, 4)
        nn.Conv2d(4, 6, (3, 2), stride=(1, 2), **factory), nn.Tanh(), nn.AvgPool2d(2, stride=1),  # (N, 6, 1, 1)
        nn.Flatten(), nn.Linear(6, 5, **factory), nn.LeakyReLU(0.1), nn.Maxout(5, 3, pieces=2, **factory),
    )


def torch_small_cnn(**factory):
    """small_cnn in plain torch.nn; Maxout(5, 3, pieces=2) is a Linear(5, 6) and a max over pairs."""
    class MaxOverPairs(torch.nn.Module):
        def forward(self, z):
            return z.view(z.shape[0], -1, 2).max(dim=-1).values

    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, **factory), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 2), stride=(1, 2), **factory), nn.Tanh(), nn.AvgPool2d(2, stride=1),
        nn.Flatten(), nn.Linear(6, 5, **factory), nn.LeakyReLU(0.1), nn.Sequential(nn.Linear(5, 6, **factory),
                                                                                   MaxOverPairs()),
    )


def _maxout_keys(state_dict):
    """torch_small_cnn's Maxout is a Sequential, so its keys read "9.0.weight"; ours read "9.weight"."""
    return {k.replace("9.0.", "9."): v for k, v in state_dict.items()}


@pytest.mark.parametrize("device", DEVICES)
def test_round_trip_torch_nn_to_torch_nn_to_numpy_nn_and_back(device):
    skip_unsupported(device, torch.float64)
    torch.manual_seed(0)
    reference = torch_small_cnn(device=device, dtype=torch.float64)
    ours = small_cnn(T, device=device, dtype=torch.float64)
    ours.load_state_dict(_maxout_keys(reference.state_dict()))
    numpy_model = small_cnn(N)
    numpy_model.load_state_dict(to_numpy_state_dict(ours.state_dict()))
    assert list(numpy_model.state_dict()) == list(ours.state_dict())

    x = torch.randn(3, 2, 8, 8, device=device, dtype=torch.float64)
    g = torch.randn(3, 3, device=device, dtype=torch.float64)
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, out_ours = reference(x_ref), ours(x_ours)
    out_ref.backward(g)
    out_ours.backward(g)
    out_np = numpy_model(x.cpu().numpy())
    grad_x_np = numpy_model.backward(g.cpu().numpy())

    tight = dict(rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(out_ours, out_ref, **tight)
    torch.testing.assert_close(torch.from_numpy(out_np), out_ours.detach().cpu(), **tight)
    torch.testing.assert_close(x_ours.grad, x_ref.grad, **tight)
    torch.testing.assert_close(torch.from_numpy(grad_x_np), x_ours.grad.cpu(), **tight)
    ref_grads = _maxout_keys({k: p.grad for k, p in reference.named_parameters()})
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, ref_grads[name], **tight, msg=lambda m: f"{name}: {m}")
    for name, p in numpy_model.named_parameters():
        torch.testing.assert_close(torch.from_numpy(p.grad), ref_grads[name].cpu(), **tight)

    back = torch_small_cnn(device=device, dtype=torch.float64)
    back.load_state_dict({k.replace("9.", "9.0.") if k.startswith("9.") else k: v
                          for k, v in to_torch_state_dict(numpy_model.state_dict(), device=device).items()})
    for (k, a), b in zip(back.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(a, b), k  # exact: float64 all the way


def test_conversions_copy_and_take_device_and_dtype():
    layer = T.Linear(3, 2)
    arrays = to_numpy_state_dict(layer.state_dict())
    assert arrays["weight"].dtype == np.float32 and arrays["weight"].shape == (2, 3)
    arrays["weight"][:] = 0  # a copy: the layer is untouched
    assert layer.weight.abs().sum() > 0
    tensors = to_torch_state_dict({"weight": np.ones((2, 3)), "steps": np.array(3)}, dtype=torch.float32)
    assert tensors["weight"].dtype == torch.float32 and tensors["steps"].dtype == torch.int64
    assert to_torch_state_dict({"w": np.ones(2)})["w"].dtype == torch.float64  # dtype kept without dtype=
    assert to_numpy_state_dict({"w": torch.ones(2, dtype=torch.bfloat16)})["w"].dtype == np.float32
    numpy_layer = N.Linear(3, 2)
    numpy_layer.load_state_dict(arrays)
    with pytest.raises(ValueError, match=r"has shape \(3, 2\), but the parameter has shape \(2, 3\)"):
        numpy_layer.load_state_dict({"weight": arrays["weight"].T, "bias": arrays["bias"]})


def test_bad_state_dicts_are_refused_clearly():
    with pytest.raises(ValueError, match="state_dict must be a dict of name -> values, got Linear"):
        to_numpy_state_dict(T.Linear(2, 2))
    with pytest.raises(ValueError, match=r"state_dict\['w'\] is a ndarray, not a tensor"):
        to_numpy_state_dict({"w": np.ones(2)})
    with pytest.raises(ValueError, match="got list"):
        to_torch_state_dict([np.ones(2)])


@needs_cuda
def test_cuda_model_matches_cpu_model():
    torch.manual_seed(0)
    cpu = small_cnn(T)
    cuda = small_cnn(T, device="cuda")
    cuda.load_state_dict(cpu.state_dict())
    x = torch.randn(4, 2, 8, 8)
    out_cpu, out_cuda = cpu(x), cuda(x.cuda())
    out_cpu.sum().backward()
    out_cuda.sum().backward()
    torch.testing.assert_close(out_cuda.cpu(), out_cpu, **F32)
    for (name, a), b in zip(cuda.named_parameters(), cpu.parameters()):
        torch.testing.assert_close(a.grad.cpu(), b.grad, **F32, msg=lambda m: f"{name}: {m}")


# -- the packages mirror each other --------------------------------------------------------------------
LAYERS = ["Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "Maxout",
          "CrossEntropyLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HingeLoss", "MultiClassHingeLoss"]


def _arguments(cls, drop):
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)  # Module.__init__(*args, **kwargs)
    return [(p.name, p.default) for p in inspect.signature(cls).parameters.values()
            if p.name not in drop and p.kind not in variadic]


@pytest.mark.parametrize("name", LAYERS)
def test_constructors_match_numpy_nn_and_torch_nn(name):
    ours, theirs = getattr(T, name), getattr(N, name)
    assert _arguments(ours, {"device", "dtype"}) == _arguments(theirs, {"dtype", "rng"})
    if hasattr(torch.nn, name):  # the arguments both have mean the same in torch.nn
        torch_defaults = dict(_arguments(getattr(torch.nn, name), set()))
        for arg, default in _arguments(ours, {"device", "dtype", "algorithm"}):  # algorithm: ours alone
            assert arg in torch_defaults and torch_defaults[arg] == default, arg
    if "device" in inspect.signature(ours).parameters:
        positional = [n for n, p in inspect.signature(ours).parameters.items() if p.kind is not p.KEYWORD_ONLY]
        assert positional[-2:] == ["device", "dtype"]  # cnnlib's own extras (algorithm=) are keyword-only


def test_functional_names_match_numpy_nn():
    assert sorted(T.functional.__all__) == sorted(N.functional.__all__)
    for name in N.functional.__all__:
        ours, theirs = inspect.signature(getattr(T.functional, name)), inspect.signature(getattr(N.functional, name))
        assert [(p.name, p.default) for p in ours.parameters.values()] == \
            [(p.name, p.default) for p in theirs.parameters.values() if p.name != "rng"], name  # NumPy's generator


@pytest.mark.parametrize("name", ["Linear", "Conv2d", "Maxout"])
def test_parameters_have_numpy_nn_names_and_shapes(name):
    args = {"Linear": (4, 3), "Conv2d": (2, 3, (3, 2)), "Maxout": (4, 3, 3)}[name]
    ours, theirs = getattr(T, name)(*args), getattr(N, name)(*args)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, v.shape) for k, v in theirs.state_dict().items()]


@pytest.mark.parametrize("name", LAYERS)
def test_module_docstrings_give_math_shape_and_notebook(name):
    doc = getattr(T, name).__doc__
    assert ("=" in doc.splitlines()[0] or "Math: out" in doc) and "Shape:" in doc
    assert any(nb in doc for nb in ("01_neural_nets_activations", "02_convolution", "03_pooling", "04_losses"))
