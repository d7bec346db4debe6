"""cnnlib.torch_nn.optim step by step against torch.optim and cnnlib.numpy_nn.optim, on every device."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from parity import scaled_rel_error
from strategies import seeds
from torch_support import DEVICES, DTYPES, skip_unsupported

import cnnlib.numpy_nn.optim as NO
from cnnlib.numpy_nn.module import Parameter
from cnnlib.torch_nn.linear import Linear
from cnnlib.torch_nn.loss import MSELoss
import cnnlib.torch_nn.optim as O
from cnnlib.torch_nn.optim import SGD, Adam, LectureAdam, LectureMomentum

STEPS = 40
# float64: relative error (tests/parity.py's measure); float32: last-bit differences (fused multiply-adds)
# add up over 40 steps, and gradients shrink towards 0 as the fit converges, so an absolute floor too
TOL = {torch.float64: 1e-10, torch.float32: dict(rtol=1e-4, atol=1e-6)}


class Problem:
    """Least squares for a linear model, loss = 0.5 ||X W^T + b - Y||^2 / N, gradient by hand in NumPy.

    The gradient changes with the parameters, as in training.
    """

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(8, 4))
        self.y = rng.normal(size=(8, 3))
        self.start = [rng.normal(size=(3, 4)), rng.normal(size=3)]

    def grads(self, w, b):
        r = (self.x @ w.T + b - self.y) / len(self.x)  # (N, 3)
        return [r.T @ self.x, r.sum(axis=0)]


def run_three(ours_cls, torch_cls, numpy_cls, hyper, seed, device, dtype, steps=STEPS):
    """Run ours, PyTorch's and the NumPy one side by side; yield the three optimizers and parameter lists."""
    problem = Problem(seed)
    ours_p = [torch.tensor(a, device=device, dtype=dtype, requires_grad=True) for a in problem.start]
    torch_p = [torch.tensor(a, device=device, dtype=dtype, requires_grad=True) for a in problem.start]
    numpy_p = [Parameter(a.copy()) for a in problem.start]
    ours, theirs = ours_cls(ours_p, **hyper), torch_cls(torch_p, **hyper)
    reference = numpy_cls(numpy_p, **hyper) if numpy_cls is not None else None
    for _ in range(steps):
        # one gradient per step, from torch.optim's parameters, for all three: a round-off difference in
        # a parameter is then not fed back through the gradient (with beta1 = 0 and a large lr Adam
        # amplifies such differences by orders of magnitude within 40 steps)
        grads = problem.grads(*(t.detach().cpu().double().numpy() for t in torch_p))
        for p, t, q, g in zip(ours_p, torch_p, numpy_p, grads):
            p.grad = torch.tensor(g, device=device, dtype=dtype)
            t.grad = torch.tensor(g, device=device, dtype=dtype)
            q.grad = g.copy()
        ours.step()
        theirs.step()
        if reference is not None:
            reference.step()
        yield ours, theirs, reference, ours_p, torch_p, numpy_p


def assert_same(a, b, what, tol):
    a, b = (torch.as_tensor(v).detach().cpu().double() for v in (a, b))
    if isinstance(tol, dict):
        torch.testing.assert_close(a, b, **tol, msg=lambda m: f"{what}: {m}")
        return
    err = scaled_rel_error(a.numpy(), b.numpy())
    assert err <= tol, f"{what}: relative error {err:.3g}"


# -- parity with torch.optim and cnnlib.numpy_nn.optim ----------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@given(seed=seeds, lr=st.floats(1e-3, 0.5), momentum=st.sampled_from([0.0, 0.5, 0.9, 0.99]),
       weight_decay=st.sampled_from([0.0, 1e-2, 0.3]))
def test_sgd_matches_torch_and_numpy_step_by_step(device, dtype, seed, lr, momentum, weight_decay):
    skip_unsupported(device, dtype)
    hyper = dict(lr=lr, momentum=momentum, weight_decay=weight_decay)
    numpy_cls = NO.SGD if dtype == torch.float64 else None
    for step, (ours, theirs, ref, ours_p, torch_p, numpy_p) in enumerate(
            run_three(SGD, torch.optim.SGD, numpy_cls, hyper, seed, device, dtype)):
        for i, (p, t) in enumerate(zip(ours_p, torch_p)):
            assert p.dtype == dtype and p.device.type == device
            assert_same(p, t, f"step {step}, param {i}", TOL[dtype])
            if ref is not None:
                assert_same(p, numpy_p[i].data, f"step {step}, param {i} vs NumPy", TOL[dtype])
            if momentum:
                assert_same(ours.state[p]["momentum_buffer"], theirs.state[t]["momentum_buffer"],
                            f"step {step}, momentum buffer {i}", TOL[dtype])
            else:
                assert ours.state[p] == {}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@given(seed=seeds, lr=st.floats(1e-4, 0.1),
       betas=st.sampled_from([(0.9, 0.999), (0.8, 0.99), (0.5, 0.9), (0.0, 0.99), (0.95, 0.5)]),
       eps=st.sampled_from([1e-8, 1e-3]), weight_decay=st.sampled_from([0.0, 0.05]))
def test_adam_matches_torch_and_numpy_step_by_step(device, dtype, seed, lr, betas, eps, weight_decay):
    skip_unsupported(device, dtype)
    hyper = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    numpy_cls = NO.Adam if dtype == torch.float64 else None
    for step, (ours, theirs, ref, ours_p, torch_p, numpy_p) in enumerate(
            run_three(Adam, torch.optim.Adam, numpy_cls, hyper, seed, device, dtype)):
        for i, (p, t) in enumerate(zip(ours_p, torch_p)):
            assert_same(p, t, f"step {step}, param {i}", TOL[dtype])
            if ref is not None:
                assert_same(p, numpy_p[i].data, f"step {step}, param {i} vs NumPy", TOL[dtype])
            mine, torch_state = ours.state[p], theirs.state[t]
            assert mine["step"] == int(torch_state["step"]) == step + 1
            assert_same(mine["exp_avg"], torch_state["exp_avg"], f"step {step}, exp_avg {i}", TOL[dtype])
            assert_same(mine["exp_avg_sq"], torch_state["exp_avg_sq"], f"step {step}, exp_avg_sq {i}", TOL[dtype])


@pytest.mark.parametrize("device", DEVICES)
@given(seed=seeds, lr=st.floats(1e-3, 0.3), momentum=st.sampled_from([0.5, 0.9]))
def test_lecture_forms_match_numpy_and_momentum_equals_sgd(device, seed, lr, momentum):
    skip_unsupported(device, torch.float64)
    hyper = dict(lr=lr, momentum=momentum)
    for step, (ours, sgd, ref, ours_p, sgd_p, numpy_p) in enumerate(
            run_three(LectureMomentum, torch.optim.SGD, NO.LectureMomentum, hyper, seed, device, torch.float64)):
        for i, (p, t, q) in enumerate(zip(ours_p, sgd_p, numpy_p)):
            assert_same(p, q.data, f"step {step}, param {i} vs NumPy", 1e-10)
            assert_same(p, t, f"step {step}, param {i} vs SGD with momentum", 1e-10)
            assert_same(ours.state[p]["velocity"], lr * sgd.state[t]["momentum_buffer"], "velocity = lr * b", 1e-10)
    hyper = dict(lr=lr / 10, betas=(0.9, 0.99), eps=1e-6)
    for step, (_, _, _, ours_p, _, numpy_p) in enumerate(
            run_three(LectureAdam, torch.optim.Adam, NO.LectureAdam, hyper, seed, device, torch.float64)):
        for i, (p, q) in enumerate(zip(ours_p, numpy_p)):
            assert_same(p, q.data, f"step {step}, LectureAdam param {i} vs NumPy", 1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ours_cls, torch_cls, hyper", [
    (SGD, torch.optim.SGD, dict(lr=0.3, momentum=0.9, weight_decay=0.01)),
    (Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05)),
])
def test_on_the_cpu_the_parameters_are_bitwise_torchs(dtype, ours_cls, torch_cls, hyper):
    """The same operations in the same order as torch.optim's CPU code: not one bit differs after 40 steps."""
    for *_, ours_p, torch_p, _ in run_three(ours_cls, torch_cls, None, hyper, 3, "cpu", dtype):
        pass
    assert all(torch.equal(a, b) for a, b in zip(ours_p, torch_p))


# -- by hand, and the torch.optim.Optimizer machinery ------------------------------------------------------
def test_one_sgd_step_by_hand_and_defaults():
    p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    p.grad = torch.tensor([0.2, 0.4], dtype=torch.float64)
    opt.step()  # g = grad + 0.5 p = [0.7, -0.6]; b = g; p -= 0.1 b
    torch.testing.assert_close(p.detach(), torch.tensor([0.93, -1.94], dtype=torch.float64), rtol=1e-15, atol=0)
    adam = Adam([p])
    assert {k: adam.defaults[k] for k in ("lr", "betas", "eps", "weight_decay")} == \
        dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)


@pytest.mark.parametrize("device", DEVICES)
def test_zero_grad_scheduler_and_state_dict_work_as_in_torch(device):
    torch.manual_seed(0)
    model = Linear(3, 2, device=device)
    reference = torch.nn.Linear(3, 2, device=device)
    reference.load_state_dict(model.state_dict())
    ours, theirs = SGD(model.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(reference.parameters(), lr=0.1,
                                                                                  momentum=0.9)
    schedulers = [torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5) for o in (ours, theirs)]
    x, y = torch.randn(16, 3, device=device), torch.randn(16, 2, device=device)
    for _ in range(10):
        for net, opt in ((model, ours), (reference, theirs)):
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(x), y).backward()
            opt.step()
        for s in schedulers:
            s.step()
    assert ours.param_groups[0]["lr"] == theirs.param_groups[0]["lr"] == 0.1 * 0.5**3
    torch.testing.assert_close(model.weight, reference.weight, rtol=1e-5, atol=1e-6)
    ours.zero_grad()
    assert model.weight.grad is None  # PyTorch's default: set_to_none
    clone = SGD(model.parameters(), lr=0.1, momentum=0.9)
    clone.load_state_dict(ours.state_dict())
    assert torch.equal(clone.state[model.weight]["momentum_buffer"], ours.state[model.weight]["momentum_buffer"])


@pytest.mark.parametrize("device", DEVICES)
def test_optimizers_train_a_model(device):
    torch.manual_seed(0)
    x = torch.randn(64, 3, device=device)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]], device=device) + 0.3
    for make in (lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.05)):
        model, criterion = Linear(3, 1, device=device), MSELoss()
        opt = make(model.parameters())
        first = criterion(model(x), y).item()
        for _ in range(200):
            opt.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            opt.step()
        assert loss.item() < 1e-4 * first


# -- bad input: the same messages as cnnlib.numpy_nn ---------------------------------------------------
@pytest.mark.parametrize("name, hyper", [
    ("SGD", dict(lr=-0.1)), ("SGD", dict(lr="0.1")), ("SGD", dict(lr=0.1, momentum=-0.5)),
    ("SGD", dict(lr=0.1, weight_decay=-1)), ("Adam", dict(betas=(1.0, 0.999))), ("Adam", dict(betas=0.9)),
    ("Adam", dict(eps=0)), ("LectureAdam", dict(eps=-1e-8)),
])
def test_bad_arguments_give_the_numpy_message(name, hyper):
    with pytest.raises(ValueError) as numpy_error:
        getattr(NO, name)([Parameter(np.zeros(2))], **hyper)
    with pytest.raises(ValueError) as torch_error:
        globals()[name]([torch.zeros(2, requires_grad=True)], **hyper)
    assert str(torch_error.value) == str(numpy_error.value)


def test_params_must_be_parameters():
    with pytest.raises(ValueError, match=r"not the model: pass Linear\(...\).parameters\(\)"):
        SGD(Linear(2, 2), lr=0.1)
    with pytest.raises(ValueError, match="params is empty"):
        Adam([])


# -- per-group hyper-parameters are checked like the constructor's ---------------------------------------
@pytest.mark.parametrize("cls, bad, words", [
    (O.SGD, {"lr": float("nan")}, "param_groups[1]['lr'] must be a finite real number, got nan"),
    (O.SGD, {"lr": -0.1}, "param_groups[1]['lr'] must be >= 0, got -0.1"),
    (O.SGD, {"momentum": -0.5}, "param_groups[1]['momentum'] must be >= 0"),
    (O.Adam, {"betas": (1.0, 0.999)}, "param_groups[1]['betas'][0] must be in [0, 1), got 1"),
    (O.Adam, {"betas": (0.9, -0.1)}, "param_groups[1]['betas'][1] must be in [0, 1)"),
    (O.Adam, {"eps": -1e-8}, "param_groups[1]['eps'] must be > 0"),
    (O.LectureMomentum, {"lr": float("inf")}, "param_groups[1]['lr'] must be a finite real number"),
])
def test_a_bad_param_group_is_refused_at_construction_and_in_add_param_group(cls, bad, words):
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError) as info:
        cls([{"params": [a]}, {"params": [b], **bad}], lr=0.1)
    assert words in str(info.value)
    opt = cls([a], lr=0.1)
    with pytest.raises(ValueError) as info:
        opt.add_param_group({"params": [b], **bad})
    assert words in str(info.value)
    assert len(opt.param_groups) == 1  # the refused group was not added
