"""cnnlib.checkpoint: weights round-trip exactly, and files that hold anything but arrays and plain values are refused."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from cnnlib import numpy_nn
from cnnlib.checkpoint import load_checkpoint, save_checkpoint


def torch_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))


def numpy_model(seed):
    rng = np.random.default_rng(seed)
    return numpy_nn.Sequential(numpy_nn.Conv2d(1, 2, 3, rng=rng), numpy_nn.ReLU(), numpy_nn.Flatten(),
                               numpy_nn.Linear(2 * 4 * 4, 3, rng=rng))


def take_adam_steps(model, steps=2):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x = torch.randn(4, 1, 6, 6)
    for _ in range(steps):
        optimizer.zero_grad()
        model(x).square().sum().backward()
        optimizer.step()
    return optimizer


# -- PyTorch ------------------------------------------------------------------------------------------
def test_torch_round_trip_with_optimizer_and_meta(tmp_path):
    path = tmp_path / "model.pt"
    model = torch_model(0)
    optimizer = take_adam_steps(model)
    history = {"train_loss": [2.3, 1.1], "test_acc": [0.5, 0.75]}
    save_checkpoint(path, model, optimizer, epoch=2, history=history, note="tiny", shape=(1, 6, 6), lr=None)

    fresh = torch_model(1)
    fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=0.5)
    meta = load_checkpoint(path, fresh, fresh_optimizer)
    assert meta == {"epoch": 2, "history": history, "note": "tiny", "shape": (1, 6, 6), "lr": None}
    for (name, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        assert torch.equal(a, b), name
    assert fresh_optimizer.param_groups[0]["lr"] == 0.01
    first = fresh_optimizer.state[fresh_optimizer.param_groups[0]["params"][0]]
    assert first["step"].item() == 2.0
    torch.testing.assert_close(first["exp_avg"], optimizer.state[next(model.parameters())]["exp_avg"])

    # Both continue identically: the optimizer state (moments, step count) came back too.
    torch.testing.assert_close(one_more_step(fresh, fresh_optimizer), one_more_step(model, optimizer), rtol=0, atol=0)


def one_more_step(model, optimizer):
    torch.manual_seed(7)
    x = torch.randn(4, 1, 6, 6)
    optimizer.zero_grad()
    model(x).square().sum().backward()
    optimizer.step()
    return model[3].weight.detach().clone()


def test_torch_model_only(tmp_path):
    path = tmp_path / "weights.pt"
    model = torch_model(0)
    save_checkpoint(path, model)
    fresh = torch_model(1)
    assert load_checkpoint(path, fresh) == {}
    torch.testing.assert_close(fresh[0].weight, model[0].weight, rtol=0, atol=0)
    with pytest.raises(ValueError, match="holds no optimizer state"):
        load_checkpoint(path, fresh, torch.optim.SGD(fresh.parameters(), lr=0.1))


def test_torch_file_holds_only_state_dicts(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, torch_model(0), epoch=1)
    state = torch.load(path, weights_only=True)
    assert set(state) == {"model", "optimizer", "meta"}
    assert list(state["model"]) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert state["optimizer"] is None and state["meta"] == {"epoch": 1}


class Payload:
    """Unpickling this would call os.system-like code; here it would create a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_torch_file_with_a_pickled_object_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    marker = tmp_path / "code-ran"
    model = torch_model(0)
    torch.save({"model": model.state_dict(), "optimizer": None, "meta": {"x": Payload(marker)}}, path)
    with pytest.raises(ValueError, match="refusing to load .*evil.pt: it holds objects other than tensors"):
        load_checkpoint(path, torch_model(1))
    assert not marker.exists()


def test_torch_wrong_file_and_wrong_model(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a cnnlib checkpoint"):
        load_checkpoint(path, torch_model(0))
    good = tmp_path / "good.pt"
    save_checkpoint(good, torch_model(0))
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(2, 1, 3, 3\), but the model's has shape \(3, 1, 3, 3\)"):
        load_checkpoint(good, nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(48, 3)))


@pytest.mark.parametrize(
    "meta, words",
    [
        ({"epoch": np.int64(3)}, r"meta\['epoch'\] is a int64; .*int\(\.\.\.\)"),
        ({"loss": torch.tensor(1.0)}, r"meta\['loss'\] is a Tensor"),
        ({"history": {"acc": [0.5, np.float32(0.7)]}}, r"meta\['history'\]\['acc'\]\[1\] is a float32"),
        ({"table": {1: "a"}}, "has a key 1 of type int; keys must be str"),
        ({"config": object()}, r"meta\['config'\] is a object"),
    ],
)
def test_meta_must_be_plain_values(tmp_path, meta, words):
    path = tmp_path / "model.pt"
    with pytest.raises(ValueError, match=words):
        save_checkpoint(path, torch_model(0), **meta)
    assert not path.exists()


# -- NumPy ---------------------------------------------------------------------------------------------
def test_numpy_round_trip(tmp_path):
    path = tmp_path / "model.npz"
    model = numpy_model(0)
    save_checkpoint(path, model, epoch=3, history={"test_acc": [0.5, 0.9]})
    fresh = numpy_model(1)
    assert not np.array_equal(fresh[0].weight.data, model[0].weight.data)
    meta = load_checkpoint(path, fresh)
    assert meta == {"epoch": 3, "history": {"test_acc": [0.5, 0.9]}}
    for (name, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_numpy_file_is_a_plain_npz_at_exactly_that_path(tmp_path):
    path = tmp_path / "model.ckpt"  # no ".npz" appended
    save_checkpoint(path, numpy_model(0), note="x")
    assert path.exists() and not (tmp_path / "model.ckpt.npz").exists()
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["0.bias", "0.weight", "3.bias", "3.weight", "__meta__"]
        assert npz["0.weight"].shape == (2, 1, 3, 3) and str(npz["__meta__"]) == '{"note": "x"}'


def test_numpy_weights_load_from_torch_weights(tmp_path):
    """The keys are PyTorch's, so a NumPy model reads a checkpoint written from converted torch weights."""
    path = tmp_path / "from_torch.npz"
    source = torch_model(0).double()
    arrays = {k: v.numpy() for k, v in source.state_dict().items()}
    target = numpy_model(0)
    target.load_state_dict(arrays)
    save_checkpoint(path, target)
    again = numpy_model(5)
    load_checkpoint(path, again)
    x = np.random.default_rng(0).normal(size=(2, 1, 6, 6))
    np.testing.assert_allclose(again(x), source(torch.tensor(x)).detach().numpy(), rtol=1e-12)


def test_numpy_file_with_object_arrays_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    marker = tmp_path / "code-ran"
    with open(path, "wb") as f:
        np.savez(f, **{"0.weight": np.array([Payload(marker)], dtype=object), "__meta__": np.array("{}")})
    with pytest.raises(ValueError, match="refusing to load .*evil.npz: it is not an .npz file of plain arrays"):
        load_checkpoint(path, numpy_model(0))
    assert not marker.exists()


def test_numpy_wrong_files(tmp_path):
    torch_file = tmp_path / "model.pt"
    save_checkpoint(torch_file, torch_model(0))
    with pytest.raises(ValueError, match="not a cnnlib NumPy checkpoint"):  # a torch file is a zip too
        load_checkpoint(torch_file, numpy_model(0))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt is damaged or not a checkpoint: it is not a complete zip"):
        load_checkpoint(text, numpy_model(0))
    other = tmp_path / "other.npz"
    save_checkpoint(other, numpy_nn.Sequential(numpy_nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="does not fit the model: missing keys"):
        load_checkpoint(other, numpy_model(0))


def test_numpy_models_take_no_optimizer(tmp_path):
    model = numpy_model(0)
    optimizer = numpy_nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="optimizer must be None for a cnnlib.numpy_nn model"):
        save_checkpoint(tmp_path / "m.npz", model, optimizer)
    save_checkpoint(tmp_path / "m.npz", model)
    with pytest.raises(ValueError, match="optimizer must be None for a cnnlib.numpy_nn model"):
        load_checkpoint(tmp_path / "m.npz", model, optimizer)


def test_other_models_are_refused(tmp_path):
    with pytest.raises(ValueError, match="model must be a torch.nn.Module or a cnnlib.numpy_nn Module, got dict"):
        save_checkpoint(tmp_path / "m.pt", {"weight": np.zeros(2)})
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        load_checkpoint(tmp_path / "m.pt", [1, 2])
