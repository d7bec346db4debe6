"""cnnlib.numpy_nn.module: Parameter, Module, Sequential, Flatten behave like their torch.nn namesakes."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from strategies import make_array

from cnnlib.numpy_nn.conv import Conv2d
from cnnlib.numpy_nn.linear import Linear
from cnnlib.numpy_nn.module import Flatten, Module, Parameter, Sequential
from cnnlib.numpy_nn.pooling import MaxPool2d
from cnnlib.testing import rel_error


def _small_cnn():
    return Sequential(Conv2d(1, 2, 3, padding=1, rng=0), MaxPool2d(2), Flatten(), Linear(2 * 3 * 3, 4, rng=1))


def _torch_small_cnn():
    return torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                               torch.nn.Linear(2 * 3 * 3, 4)).double()


def _copy_from_torch(model, ref):
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})


def test_parameter_holds_data_and_a_zero_grad_of_the_same_shape():
    p = Parameter(np.ones((2, 3), dtype=np.float32))
    assert p.shape == (2, 3) and p.grad.shape == (2, 3)
    assert p.grad.dtype == np.float32 and not p.grad.any()
    assert repr(p) == "Parameter(shape=(2, 3), dtype=float32)"


def test_parameters_are_found_in_attribute_order_with_dotted_names():
    class Block(Module):
        def __init__(self):
            self.conv = Conv2d(1, 2, 3)
            self.scale = Parameter(np.ones(2))
            self.fc = Linear(4, 2, bias=False)

    names = [name for name, _ in Block().named_parameters()]
    assert names == ["scale", "conv.weight", "conv.bias", "fc.weight"]  # own parameters first, then children
    assert len(Block().parameters()) == 4


def test_sequential_state_dict_keys_match_torch():
    model, ref = _small_cnn(), _torch_small_cnn()
    assert list(model.state_dict()) == list(ref.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    for name, value in model.state_dict().items():
        assert value.shape == tuple(ref.state_dict()[name].shape)
    state = model.state_dict()
    state["0.bias"][:] = 100.0  # a copy: changing it leaves the model alone
    assert not np.any(model[0].bias.data == 100.0)
    assert len(model) == 4 and isinstance(model[2], Flatten)


def test_load_state_dict_from_torch_gives_identical_outputs_and_grads_accumulate_like_torch():
    torch.manual_seed(0)
    model, ref = _small_cnn(), _torch_small_cnn()
    _copy_from_torch(model, ref)
    g = make_array((2, 4), 0)
    for seed in (1, 2):  # two backward calls without zero_grad: gradients add up in both libraries
        x = make_array((2, 1, 6, 6), seed)
        xt = torch.from_numpy(x).requires_grad_()
        out_t = ref(xt)
        out_t.backward(torch.from_numpy(g))
        assert rel_error(model(x), out_t.detach().numpy()) < 1e-12
        assert rel_error(model.backward(g), xt.grad.numpy()) < 1e-12
    for (name, p), (ref_name, ref_p) in zip(model.named_parameters(), ref.named_parameters()):
        assert name == ref_name
        assert rel_error(p.grad, ref_p.grad.numpy()) < 1e-12, name
    model.zero_grad()
    assert all(not p.grad.any() for p in model.parameters())


def test_load_state_dict_refuses_wrong_keys_and_shapes():
    model = _small_cnn()
    state = model.state_dict()
    with pytest.raises(ValueError, match=r"missing \['3.bias'\], unexpected \[\]"):
        model.load_state_dict({k: v for k, v in state.items() if k != "3.bias"})
    with pytest.raises(ValueError, match=r"unexpected \['4.weight'\]"):
        model.load_state_dict({**state, "4.weight": np.zeros(1)})
    with pytest.raises(ValueError, match=r"state_dict\['0.weight'\] has shape \(2, 1, 5, 5\), but the parameter "
                                         r"has shape \(2, 1, 3, 3\)"):
        model.load_state_dict({**state, "0.weight": np.zeros((2, 1, 5, 5))})
    np.testing.assert_array_equal(model[0].weight.data, state["0.weight"])  # nothing was half-loaded


def test_load_state_dict_keeps_the_parameter_dtype_and_resets_grads():
    layer = Linear(3, 2, dtype=np.float32)
    layer.weight.grad += 1.0
    layer.load_state_dict({"weight": np.ones((2, 3)), "bias": np.zeros(2)})
    assert layer.weight.data.dtype == np.float32
    assert not layer.weight.grad.any()


def test_flatten_keeps_the_batch_dimension_and_restores_the_shape():
    flat = Flatten()
    x = make_array((2, 3, 4, 5), 0)
    out = flat(x)
    assert out.shape == (2, 60)
    np.testing.assert_array_equal(out[1], x[1].ravel())
    assert flat.backward(out).shape == (2, 3, 4, 5)
    with pytest.raises(ValueError, match=r"start_dim must be in \[-4, 3\] for an input of 4 dimensions, got 4"):
        Flatten(4)(x)
    with pytest.raises(ValueError, match=r"start_dim \(2\) must not come after end_dim \(1\)"):
        Flatten(2, 1)(x)
    with pytest.raises(RuntimeError, match="Flatten.backward called before forward"):
        Flatten().backward(out)


@pytest.mark.parametrize("args", [(), (0,), (2,), (0, 1), (1, 2), (-3, -2), (2, -1), (3, 3), (0, -1)])
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (0, 3, 4, 5)])
def test_flatten_takes_torchs_start_and_end_dim_positionally(args, shape):
    x = make_array(shape, 1)
    flat, reference = Flatten(*args), torch.nn.Flatten(*args)
    expected = reference(torch.tensor(x))
    out = flat(x)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out, expected.numpy())
    np.testing.assert_array_equal(flat.backward(out), x)
    assert repr(flat) == repr(reference)


def test_flatten_of_a_0d_input_is_torchs():
    x = np.array(2.5)
    out = Flatten(0)(x)
    assert out.shape == tuple(torch.nn.Flatten(0)(torch.tensor(2.5)).shape) == (1,)


def test_sequential_refuses_non_modules_and_reprs_its_children():
    with pytest.raises(ValueError, match="argument 1 is function"):
        Sequential(Linear(2, 2), lambda x: x)
    expected = repr(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Flatten()))
    assert repr(Sequential(Linear(2, 3), Flatten())) == expected == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Flatten(start_dim=1, end_dim=-1)\n)")


def test_train_and_eval_reach_every_child():
    model = _small_cnn()
    assert model.eval() is model
    assert not model.training and not any(layer.training for layer in model.layers)
    model.train()
    assert model.training and all(layer.training for layer in model.layers)


def test_base_module_says_what_to_implement():
    with pytest.raises(NotImplementedError, match="Module must implement forward"):
        Module()(np.zeros(1))
    with pytest.raises(NotImplementedError, match="Module must implement backward"):
        Module().backward(np.zeros(1))


# -- buffers and atomic loading ----------------------------------------------------------------------
def _bn_model():
    from cnnlib.numpy_nn.normalization import BatchNorm2d
    return Sequential(Conv2d(1, 2, 3, padding=1, rng=0), BatchNorm2d(2), Flatten(), Linear(2 * 4 * 4, 3, rng=1))


def test_state_dict_holds_buffers_in_torchs_order_and_keys():
    ours = _bn_model()
    ref = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(2 * 4 * 4, 3)).double()
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [name for name, _ in ours.named_buffers()] == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    assert [name for name, _ in ours.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias",
                                                           "3.weight", "3.bias"]
    ref.train()(torch.randn(4, 1, 4, 4, dtype=torch.float64))  # move the running statistics
    _copy_from_torch(ours, ref)
    for key, value in ref.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy(), err_msg=key)
    x = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    ref.eval(), ours.eval()
    np.testing.assert_allclose(ours(x.numpy()), ref(x).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_a_failed_load_changes_nothing():
    model = _bn_model()
    before = model.state_dict()
    good = {k: np.full(v.shape, 7, dtype=v.dtype) for k, v in before.items()}
    bad_cases = [
        ({**good, "3.bias": np.zeros(4)}, r"state_dict\['3.bias'\] has shape \(4,\), but the parameter has shape"),
        ({**good, "1.running_var": np.zeros(5)}, r"'1.running_var'\] has shape \(5,\), but the buffer has shape"),
        ({**good, "3.bias": np.array(["a", "b", "c"])}, r"'3.bias'\] has dtype <U1.*pass an array of real numbers"),
        ({**good, "1.num_batches_tracked": np.array(2.5)}, r"holds int64: pass an array of integers"),
        ({**good, "0.weight": np.zeros((2, 1, 3, 3), dtype=object)}, r"'0.weight'\] has dtype object"),
        ({**good, "1.weight": np.ones(2, dtype=complex)}, r"'1.weight'\] has dtype complex128"),
    ]
    for state, message in bad_cases:  # one wrong key each; every other key would load
        with pytest.raises(ValueError, match=message):
            model.load_state_dict(state)
        for key, value in model.state_dict().items():
            np.testing.assert_array_equal(value, before[key], err_msg=key)
    with pytest.raises(ValueError, match="state_dict must be a dict"):
        model.load_state_dict([("0.weight", 1)])
    model.load_state_dict(good)
    assert all((v == 7).all() for v in model.state_dict().values())
    assert model[1].num_batches_tracked.dtype == np.int64 and model[1].running_mean.dtype == np.float64


def test_register_buffer_refuses_what_cannot_be_saved():
    layer = Module()
    layer.register_buffer("count", np.array(0))
    layer.register_buffer("nothing", None)
    assert layer.state_dict() == {"count": 0} and layer.parameters() == []
    with pytest.raises(ValueError, match="buffer 'names' must hold floats or integers, got dtype <U1"):
        layer.register_buffer("names", np.array(["a"]))
    with pytest.raises(ValueError, match="buffer name must be a Python identifier"):
        layer.register_buffer("a.b", np.zeros(1))


def test_eval_switches_dropout_and_batch_norm_inside_containers():
    from cnnlib.numpy_nn.dropout import Dropout
    model = Sequential(_bn_model(), Dropout(0.5, rng=0))
    model.eval()
    assert not model[0][1].training and not model[1].training
    x = make_array((3, 1, 4, 4), 0)
    np.testing.assert_array_equal(model(x), model(x))
    assert int(model[0][1].num_batches_tracked) == 0  # eval does not count batches
    model.train()
    model(x)
    assert int(model[0][1].num_batches_tracked) == 1 and model[1].training


# -- Sequential.backward(need_input_grad=False) ------------------------------------------------------
class _Recorder(Module):
    """A layer with a need_input_grad switch that says what it was asked, and returns None when skipped."""

    def __init__(self):
        self.need_input_grad, self.asked = True, []

    def forward(self, x):
        return 2 * x

    def backward(self, grad_output):
        self.asked.append(self.need_input_grad)
        return 2 * grad_output if self.need_input_grad else None


def test_sequential_skips_the_first_layers_input_gradient_only_when_asked():
    from cnnlib.numpy_nn.activation import ReLU

    first, inner = _Recorder(), _Recorder()
    model = Sequential(Sequential(first, ReLU()), inner, ReLU())
    x = np.array([[1.0, -2.0]])
    model(x)
    g = np.ones((1, 2))
    np.testing.assert_array_equal(model.backward(g), [[4.0, 0.0]])
    assert model.backward(g, need_input_grad=False) is None
    assert first.asked == [True, False] and inner.asked == [True, True]  # only the very first layer skips
    assert first.need_input_grad is True  # restored after the call
    plain = Sequential(ReLU())  # a layer without the switch computes the gradient as usual
    plain(x)
    np.testing.assert_array_equal(plain.backward(g, need_input_grad=False), [[1.0, 0.0]])
    with pytest.raises(ValueError, match="need_input_grad must be True or False"):
        model.backward(g, need_input_grad="no")
