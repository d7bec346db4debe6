"""Exercises of 06_optimizers: the function checkers reject plausible wrong implementations for the
reason they name and accept right ones in several styles; the references agree with torch.optim on
every case; the numeric answers agree with PyTorch."""
import numpy as np
import pytest
import torch

from cnnlib.exercises import core, my_layers, nb06, references
from exercise_notebooks import rejected_for


# -- Exercise 1: sgd_momentum_step ----------------------------------------------------------------------------
def sgd_mutant(form="torch", sign=-1.0, keep_buffer=False):
    def sgd_momentum_step(theta, grad, buffer, lr, momentum):
        if form == "lecture":                  # v = mu v + lr g, theta - v
            new = momentum * buffer + lr * grad
            return theta - new, new
        new = {"torch": momentum * buffer + grad, "on grad": buffer + momentum * grad,
               "lr twice": momentum * buffer + lr * grad, "dampening": momentum * buffer + (1 - momentum) * grad,
               "nesterov": momentum * buffer + grad}[form]
        step = grad + momentum * new if form == "nesterov" else new
        return theta + sign * lr * step, (buffer if keep_buffer else new)
    return sgd_momentum_step


def sgd_in_place(theta, grad, buffer, lr, momentum):
    """torch.optim.SGD's style: the buffer and theta updated in place (the questions ask for copies)."""
    buffer *= momentum
    buffer += grad
    theta -= lr * buffer
    return theta, buffer


def sgd_copies_then_in_place(theta, grad, buffer, lr, momentum):
    """Right: in-place arithmetic, on copies."""
    buffer = buffer.copy()
    buffer *= momentum
    buffer += grad
    theta = theta - lr * buffer
    return theta, buffer


def sgd_loops(theta, grad, buffer, lr, momentum):
    """Right: entry by entry."""
    new_theta, new_buffer = np.array(theta, dtype=float), np.array(buffer, dtype=float)
    for k in np.ndindex(theta.shape):
        new_buffer[k] = momentum * buffer[k] + grad[k]
        new_theta[k] = theta[k] - lr * new_buffer[k]
    return new_theta, new_buffer


def sgd_float32(theta, grad, buffer, lr, momentum):
    """Right, computed in float32."""
    buffer = np.float32(momentum) * buffer.astype(np.float32) + grad.astype(np.float32)
    return theta.astype(np.float32) - np.float32(lr) * buffer, buffer


SGD_MUTATIONS = [
    (sgd_mutant(form="lecture"), "that is the lecture's form"),
    (sgd_mutant(form="lr twice"), "lr is applied twice"),
    (sgd_mutant(form="on grad"), "the momentum multiplies the old buffer"),
    (sgd_mutant(form="dampening"), "that is dampening"),
    (sgd_mutant(form="nesterov"), "that is Nesterov's momentum"),
    (sgd_mutant(sign=1.0), "wrong sign"),
    (sgd_mutant(keep_buffer=True), "return the new buffer too"),
    (sgd_in_place, "changed its input theta in place"),
]


# -- Exercise 2: adam_step ----------------------------------------------------------------------------------
def adam_mutant(correct="mv", eps_inside=False, t_offset=1, return_hat=False, swap=False, absolute=False, sign=-1):
    def adam_step(theta, grad, m, v, step, lr, betas, eps):
        b1, b2 = betas[::-1] if swap else betas
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * (np.abs(grad) if absolute else grad ** 2)
        t = step + t_offset
        m_hat = m / (1 - b1 ** t) if "m" in correct else m
        v_hat = v / (1 - b2 ** t) if "v" in correct else v
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        theta = theta + sign * lr * m_hat / denom
        return (theta, m_hat, v_hat) if return_hat else (theta, m, v)
    return adam_step


def adam_in_place(theta, grad, m, v, step, lr, betas, eps):
    """torch.optim.Adam's style: m, v and theta updated in place (the questions ask for copies)."""
    b1, b2 = betas
    m *= b1
    m += (1 - b1) * grad
    v *= b2
    v += (1 - b2) * grad * grad
    t = step + 1
    theta -= lr / (1 - b1 ** t) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
    return theta, m, v


def adam_torch_order_on_copies(theta, grad, m, v, step, lr, betas, eps):
    """Right: PyTorch's arithmetic order, its in-place updates made on copies."""
    return adam_in_place(theta.copy(), grad, m.copy(), v.copy(), step, lr, betas, eps)


def adam_loops(theta, grad, m, v, step, lr, betas, eps):
    """Right: entry by entry, with math."""
    import math
    b1, b2 = betas
    t = step + 1
    out = [np.zeros(theta.shape) for _ in range(3)]
    for k in np.ndindex(theta.shape):
        mk = b1 * m[k] + (1 - b1) * grad[k]
        vk = b2 * v[k] + (1 - b2) * grad[k] ** 2
        out[0][k] = theta[k] - lr * (mk / (1 - b1 ** t)) / (math.sqrt(vk / (1 - b2 ** t)) + eps)
        out[1][k], out[2][k] = mk, vk
    return tuple(out)


def adam_float32(theta, grad, m, v, step, lr, betas, eps):
    """Right, computed in float32."""
    f = np.float32
    return adam_mutant()(theta.astype(f), grad.astype(f), m.astype(f), v.astype(f), step, f(lr),
                         (f(betas[0]), f(betas[1])), f(eps))


ADAM_MUTATIONS = [
    (adam_mutant(correct=""), "no bias correction"),
    (adam_mutant(correct="m"), "only m is bias-corrected"),
    (adam_mutant(correct="v"), "only v is bias-corrected"),
    (adam_mutant(eps_inside=True), "epsilon goes outside the root"),
    (adam_mutant(t_offset=0), "t starts at 1"),
    (adam_mutant(return_hat=True), "not m_hat and v_hat"),
    (adam_mutant(swap=True), "beta1 goes with m"),
    (adam_mutant(absolute=True), "not their absolute values"),
    (adam_mutant(sign=1), "wrong sign"),
    (adam_in_place, "changed its input theta in place"),
]


MUTATIONS = ([(nb06.check_sgd_momentum_step, "sgd_momentum_step", SGD_MUTATIONS, *m) for m in SGD_MUTATIONS]
             + [(nb06.check_adam_step, "adam_step", ADAM_MUTATIONS, *m) for m in ADAM_MUTATIONS])


@pytest.mark.parametrize("check, exercise_id, family, wrong, hint", MUTATIONS, ids=[m[-1] for m in MUTATIONS])
def test_each_mutation_is_rejected_for_its_reason(check, exercise_id, family, wrong, hint, capsys):
    rejected_for(check, wrong, hint, family, capsys)
    assert core.latest(exercise_id).status == "fail"


FLOAT32 = ()  # float32 answers are judged at float32 precision (check_function follows the dtype)
RIGHT = [pytest.param(nb06.check_sgd_momentum_step, "Exercise 1", f, 21, id=f"sgd-{i}", marks=marks)
         for i, (f, marks) in enumerate([(sgd_mutant(), ()), (sgd_copies_then_in_place, ()), (sgd_loops, ()),
                                         (sgd_float32, FLOAT32)])] + \
        [pytest.param(nb06.check_adam_step, "Exercise 2", f, 21, id=f"adam-{i}", marks=marks)
         for i, (f, marks) in enumerate([(adam_mutant(), ()), (adam_torch_order_on_copies, ()), (adam_loops, ()),
                                         (adam_float32, FLOAT32)])]


@pytest.mark.parametrize("check, name, right, n", RIGHT)
def test_right_answers_in_several_styles_are_accepted(check, name, right, n, capsys):
    assert check(right) is True, capsys.readouterr().out
    assert f"{name}: correct on all {n} cases!" in capsys.readouterr().out


def _torch_sgd(theta, grad, buffer, lr, momentum):
    p = torch.tensor(theta, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum)
    p.grad = torch.tensor(buffer)            # a first step sets the buffer to this gradient ...
    opt.step()
    with torch.no_grad():
        p.copy_(torch.tensor(theta))
    p.grad = torch.tensor(grad)              # ... and the second is the step under test
    opt.step()
    return p.detach().numpy(), opt.state[p]["momentum_buffer"].numpy()


def _torch_adam(theta, grad, m, v, step, lr, betas, eps):
    p = torch.tensor(theta, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps)
    p.grad = torch.zeros_like(p)
    opt.step()                                # creates the state, which we then overwrite
    with torch.no_grad():
        p.copy_(torch.tensor(theta))
    state = opt.state[p]
    state["step"].fill_(step)
    state["exp_avg"].copy_(torch.tensor(m))
    state["exp_avg_sq"].copy_(torch.tensor(v))
    p.grad = torch.tensor(grad)
    opt.step()
    return p.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()


@pytest.mark.parametrize("cases, reference, oracle", [(nb06._sgd_cases, references.sgd_momentum_step, _torch_sgd),
                                                      (nb06._adam_cases, references.adam_step, _torch_adam)])
def test_references_are_torch_optim_on_every_case(cases, reference, oracle):
    for case in cases():
        mine, theirs = reference(*case.inputs.values()), oracle(*case.inputs.values())
        f32 = case.inputs["theta"].dtype == np.float32
        for a, b in zip(mine, theirs):
            assert np.asarray(a).dtype == b.dtype, case.label
            np.testing.assert_allclose(a, b, rtol=1e-6 if f32 else 1e-12, atol=1e-7 if f32 else 1e-15,
                                       err_msg=case.label)


def test_cases_cover_the_mistake_classes():
    sgd, adam = nb06._sgd_cases(), nb06._adam_cases()
    for cases in (sgd, adam):
        assert any(c.inputs["theta"].dtype == np.float32 for c in cases)
        assert any(not c.inputs["grad"].any() for c in cases)                        # a zero gradient
        assert any(np.abs(c.inputs["grad"]).max() >= 1e6 for c in cases)              # large gradients
        assert {shape for shape in nb06.LATER_SHAPES} <= {c.inputs["theta"].shape for c in cases}
    assert {c.inputs["step"] for c in adam} >= {0, 2, 999}
    assert any(not c.inputs["buffer"].any() for c in sgd) and any(c.inputs["buffer"].any() for c in sgd)
    assert all(abs(c.inputs["lr"] - (1 - c.inputs["momentum"])) > 1e-9 for c in sgd)  # dampening != lr twice


def test_the_lecture_hint_is_not_shown_for_lr_applied_twice():
    """Issue 25: "that is the lecture's form" was shown for a learning rate applied twice (its buffer is the
    lecture's velocity, its theta is not the lecture's)."""
    for case in nb06._sgd_cases():
        right = references.sgd_momentum_step(*case.inputs.values())
        wrong = sgd_mutant(form="lr twice")(*case.inputs.values())
        shown = [h.message for h in nb06.SGD_MOMENTUM_HINTS if h.applies(case.inputs, right, wrong)]
        assert not any("lecture's form" in m for m in shown), (case.label, shown)


@pytest.mark.parametrize("hints, cases, reference, family", [
    (nb06.SGD_MOMENTUM_HINTS, nb06._sgd_cases, references.sgd_momentum_step, SGD_MUTATIONS[:-1]),
    (nb06.ADAM_HINTS, nb06._adam_cases, references.adam_step, ADAM_MUTATIONS[:-1])])
def test_hints_claim_only_their_own_mistake_on_every_case(hints, cases, reference, family):
    """A right answer gets no hint. A mistake's result gets another mistake's hint only where the two mistakes
    give the same numbers on that case (Adam at step 1000 barely corrects m: no correction = only v's)."""
    def close(a, b):
        return all(np.allclose(x, y, rtol=1e-4, atol=1e-9) for x, y in zip(a, b))

    for case in cases():
        right = reference(*case.inputs.values())
        assert not any(h.applies(case.inputs, right, right) for h in hints), case.label
        with np.errstate(all="ignore"):
            results = [wrong(*case.inputs.values()) for wrong, _ in family]
        for result, (_, hint) in zip(results, family):
            for h in hints:
                if h.applies(case.inputs, right, result) and hint not in h.message:
                    twin = next(r for r, (_, other) in zip(results, family) if other in h.message)
                    assert close(twin, result), (case.label, hint, h.message)


def test_the_kept_steps_are_the_learners_functions(capsys):
    assert nb06.check_sgd_momentum_step(sgd_copies_then_in_place) is True
    assert nb06.check_adam_step(adam_loops) is True
    out = capsys.readouterr().out
    assert "Kept in my_layers/sgd_momentum_step.py" in out and "Kept in my_layers/adam_step.py" in out
    layers = my_layers.my_layers("sgd_momentum_step", "adam_step")
    assert layers.all_yours
    theta, buffer = layers.sgd_momentum_step(np.ones(2), np.ones(2), np.zeros(2), 0.1, 0.9)
    np.testing.assert_allclose(theta, [0.9, 0.9])


def test_stubs_are_not_attempted(capsys):
    def sgd_momentum_step(theta, grad, buffer, lr, momentum):
        raise NotImplementedError

    def adam_step(theta, grad, m, v, step, lr, betas, eps):
        raise NotImplementedError

    assert nb06.check_sgd_momentum_step(sgd_momentum_step) is False
    assert nb06.check_adam_step(adam_step) is False
    assert capsys.readouterr().out.count("not attempted yet") == 2
    assert core.latest("adam_step").status == "not attempted"


def test_momentum_answer_agrees_with_torch_sgd():
    p = torch.tensor([nb06.THETA0_3], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=nb06.LR_3, momentum=nb06.MOMENTUM_3)
    thetas = []
    for _ in range(3):
        p.grad = 2 * p.detach()
        opt.step()
        thetas.append(p.item())
    np.testing.assert_allclose(thetas, nb06.THETAS_3, rtol=1e-12)
    np.testing.assert_allclose(nb06.PLAIN_GD_3, [0.8, 0.8 ** 2, 0.8 ** 3])


def test_check_momentum_steps(capsys):
    assert nb06.check_momentum_steps([0.8, 0.46, 0.062]) is True
    assert "Exercise 3: correct!" in capsys.readouterr().out
    assert nb06.check_momentum_steps(nb06.PLAIN_GD_3) is False
    assert "plain gradient descent" in capsys.readouterr().out
    assert nb06.check_momentum_steps([0.8, 0.46]) is False
    assert "should be 3 numbers" in capsys.readouterr().out
    assert nb06.check_momentum_steps([0.8, 0.46, 0.1]) is False
    assert "your thetas" in capsys.readouterr().out


def test_adam_moments_agree_with_torch_adam_state():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1, betas=nb06.BETAS_2)
    for g in nb06.GRADS_2:
        p.grad = torch.tensor([g])
        opt.step()
    state = opt.state[p]
    np.testing.assert_allclose(nb06.RAW_MOMENTS_2, (state["exp_avg"].item(), state["exp_avg_sq"].item()), rtol=1e-6)
    np.testing.assert_allclose(nb06.MOMENTS_2, (-0.049 / 0.271, 0.005244001 / 0.002997001), rtol=1e-12)


def test_check_adam_moments(capsys):
    assert nb06.check_adam_moments((-0.18081, 1.74975)) is True
    assert "Exercise 4: correct!" in capsys.readouterr().out
    assert nb06.check_adam_moments(nb06.RAW_MOMENTS_2) is False
    assert "before the bias correction" in capsys.readouterr().out
    assert nb06.check_adam_moments(0.5) is False
    assert "two numbers" in capsys.readouterr().out
    assert nb06.check_adam_moments((-0.049, 1.74975)) is False
    assert "entries are off" in capsys.readouterr().out
