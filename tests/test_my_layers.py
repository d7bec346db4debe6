"""The learner's layer library (cnnlib.exercises.my_layers): kept when a layer check passes, loaded later."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlib.exercises import my_layers, references
from cnnlib.exercises.examples import check_relu_forward
from cnnlib.exercises.nb01 import check_linear_forward
from cnnlib.numpy_nn.module import Parameter
from cnnlib.numpy_nn.optim import SGD, Adam

SCALE = 2.0


def _double(v):
    return v * SCALE


def linear_with_helper(x, weight, bias):
    return _double(x @ weight.T + bias) / SCALE


def relu_forward(x):
    return np.maximum(x, 0.0)


@pytest.fixture
def library(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_MY_LAYERS", str(tmp_path))
    return tmp_path


def test_a_passing_check_keeps_the_function_and_a_later_notebook_loads_it(library, capsys):
    assert check_linear_forward(linear_with_helper)
    assert "Kept in my_layers/linear_forward.py" in capsys.readouterr().out
    text = (library / "linear_forward.py").read_text()
    assert "def _double" in text and "SCALE = 2.0" in text and "import numpy as np" not in text
    fn, why = my_layers.load("linear_forward")
    assert why == "" and fn.__name__ == "linear_with_helper"     # kept under the exercise's id, as an alias
    x, w, b = np.ones((2, 3)), np.arange(12.0).reshape(4, 3), np.arange(4.0)
    np.testing.assert_array_equal(fn(x, w, b), x @ w.T + b)


def test_modules_are_imported_under_the_name_the_function_uses(library):
    assert check_relu_forward(relu_forward)
    assert "import numpy as np" in (library / "relu_forward.py").read_text()
    lib = my_layers.my_layers("relu_forward", "linear_backward")
    assert lib.whose == {"relu_forward": "yours", "linear_backward": "cnnlib's"}
    assert not lib.all_yours and "has not passed check_linear_backward yet (notebook 01)" in lib.table()
    assert lib.table().startswith("1 of 2 layers are yours; the others are cnnlib's references.")
    assert my_layers.my_layers("relu_forward").table().startswith("This layer is yours.")
    assert my_layers.my_layers("adam_step").table().startswith("This layer is not yours yet")
    np.testing.assert_array_equal(lib.relu_forward(np.array([-1.0, 2.0])), [0.0, 2.0])


def test_a_failing_check_keeps_nothing_and_the_grader_keeps_nothing(library, monkeypatch, capsys):
    assert not check_relu_forward(lambda x: np.abs(x))
    assert not (library / "relu_forward.py").exists()
    monkeypatch.setenv("CNNLIB_MY_LAYERS", "off")
    assert check_relu_forward(relu_forward)
    assert "Kept" not in capsys.readouterr().out and not list(library.iterdir())


WEIGHTS = np.ones(3)


def reads_a_notebook_array(x):
    return np.maximum(x, 0.0) * WEIGHTS[0]


def test_a_function_that_reads_a_notebook_array_is_not_kept_and_says_which_name(library):
    line = my_layers.keep("relu_forward", reads_a_notebook_array)
    assert "reads the notebook's WEIGHTS (ndarray)" in line and "pass it as an argument" in line
    assert not (library / "relu_forward.py").exists()


def test_a_broken_file_falls_back_with_the_reason(library):
    (library / "relu_backward.py").write_text("def relu_backward(:\n")
    fn, why = my_layers.load("relu_backward")
    assert fn is references.relu_backward and "does not load (SyntaxError" in why


def test_unknown_layer_names_are_refused_with_the_list():
    with pytest.raises(ValueError, match="no layer exercise is called \\['conv'\\]"):
        my_layers.my_layers("conv")


def test_the_layers_07_trains_with_are_named_when_kept(library):
    from cnnlib.models.lenet_layers import LAYERS_USED
    assert my_layers.LENET5_LAYERS == set(LAYERS_USED)
    assert "notebook 07 trains LeNet-5 with your ReLU, forward" in my_layers.keep("relu_forward", relu_forward)
    assert 'my_layers("residual_block") loads your' in my_layers.keep("residual_block", relu_forward)


def test_every_layer_has_a_reference():
    for layer_id in my_layers.LAYERS:
        assert callable(my_layers.reference(layer_id)), layer_id


# One step of cnnlib's optimizer classes, in the learner's signatures.
def sgd_class_step(theta, grad, buffer, lr, momentum):
    p = Parameter(theta.copy())
    opt = SGD([p], lr=lr, momentum=momentum)
    opt.state[p]["momentum_buffer"] = buffer.copy()  # the buffer of the earlier steps (zeros: the first)
    p.grad = grad.copy()
    opt.step()
    return p.data, opt.state[p]["momentum_buffer"]


def adam_class_step(theta, grad, m, v, step, lr, betas, eps):
    p = Parameter(theta.copy())
    opt = Adam([p], lr=lr, betas=betas, eps=eps)
    opt.state[p].update(step=step, exp_avg=m.copy(), exp_avg_sq=v.copy())
    p.grad = grad.copy()
    opt.step()
    return p.data, opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"]


def test_optimizer_references_agree_with_cnnlibs_optimizer_classes():
    rng = np.random.default_rng(0)
    theta, grad, buf = rng.normal(size=5), rng.normal(size=5), rng.normal(size=5)
    for a, b in zip(references.sgd_momentum_step(theta, grad, buf, 0.1, 0.9),
                    sgd_class_step(theta, grad, buf, 0.1, 0.9)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    m, v = rng.normal(size=5), rng.random(5)
    for a, b in zip(references.adam_step(theta, grad, m, v, 3, 0.01, (0.9, 0.999), 1e-8),
                    adam_class_step(theta, grad, m, v, 3, 0.01, (0.9, 0.999), 1e-8)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_batch_norm_and_residual_references_agree_with_torch():
    rng = np.random.default_rng(1)
    x, gamma, beta, g = rng.normal(size=(6, 4)), rng.normal(size=4), rng.normal(size=4), rng.normal(size=(6, 4))
    xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    out = torch.nn.functional.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(references.batch_norm_forward(x, gamma, beta, 1e-5), out.detach().numpy(), rtol=1e-10)
    for a, b in zip(references.batch_norm_backward(g, x, gamma, 1e-5), (xt.grad, gt.grad, bt.grad)):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-9, atol=1e-12)
    w1, w2, wp = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    xt = torch.tensor(x)
    want = torch.relu(torch.relu(xt @ torch.tensor(w1)) @ torch.tensor(w2) + xt @ torch.tensor(wp))
    np.testing.assert_allclose(references.residual_block_projection(x, w1, w2, wp), want.numpy(), rtol=1e-12)


def test_conv_references_agree_with_torch():
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = torch.nn.functional.conv2d(xt, wt, bt, stride=2, padding=1)
    g = rng.normal(size=out.shape)
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(references.conv2d_im2col(x, w, b, 2, 1), out.detach().numpy(), rtol=1e-10)
    for a, t in zip(references.conv2d_backward_im2col(g, x, w, 2, 1), (xt, wt, bt)):
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-9, atol=1e-12)


lib = "a notebook variable that shares its name with an attribute the layer reads"


def uses_an_attribute_called_lib(x):
    return np.lib.stride_tricks.as_strided(x, x.shape, x.strides).copy()


def test_attribute_names_are_not_mistaken_for_the_notebooks_variables(library):
    assert my_layers.keep("relu_forward", uses_an_attribute_called_lib).startswith("Kept")
    assert "lib = " not in (library / "relu_forward.py").read_text()
