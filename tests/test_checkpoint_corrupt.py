"""Damaged checkpoints and loads that do not fit: one clear ValueError naming the file, and nothing changed."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch
from test_checkpoint import numpy_model, take_adam_steps, torch_model

from cnnlib.checkpoint import load_checkpoint, save_checkpoint


def _flip_a_bit_in(path, member_suffix):
    """Flip one bit inside the stored bytes of the first zip member whose name ends with member_suffix."""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith(member_suffix))
    data = bytearray(path.read_bytes())
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0x10
    path.write_bytes(bytes(data))


def _snapshot(model):
    return {k: v.detach().clone() if isinstance(v, torch.Tensor) else v.copy() for k, v in model.state_dict().items()}


def _assert_unchanged(model, before):
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(v), np.asarray(before[k]))


def test_a_flipped_bit_in_a_tensor_is_found(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, torch_model(0))
    _flip_a_bit_in(path, "data/0")
    target = torch_model(1)
    before = _snapshot(target)
    with pytest.raises(ValueError, match=r"model\.pt is damaged: the bytes of .*data/0.* do not match their stored CRC"):
        load_checkpoint(path, target)
    _assert_unchanged(target, before)


def test_a_flipped_bit_in_an_npz_is_found(tmp_path):
    path = tmp_path / "model.npz"
    save_checkpoint(path, numpy_model(0))
    _flip_a_bit_in(path, ".npy")
    with pytest.raises(ValueError, match=r"model\.npz is damaged: the bytes of"):
        load_checkpoint(path, numpy_model(1))


@pytest.mark.parametrize("damage", ["truncated", "not_a_zip", "empty", "wrong_pickle"])
@pytest.mark.parametrize("kind", ["torch", "numpy"])
def test_a_damaged_file_gives_one_value_error_naming_it(tmp_path, damage, kind):
    path = tmp_path / f"ckpt_{kind}"
    make = torch_model if kind == "torch" else numpy_model
    save_checkpoint(path, make(0))
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "not_a_zip":
        path.write_bytes(b"hello, I am a text file\n" * 20)
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a valid zip whose pickle is garbage
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("ckpt/data.pkl", b"\x80\x02garbage")
            archive.writestr("ckpt/version", b"3\n")
    target = make(1)
    before = _snapshot(target)
    with pytest.raises(ValueError) as info:
        load_checkpoint(path, target)
    assert str(path) in str(info.value)
    _assert_unchanged(target, before)


def test_a_shape_that_does_not_fit_changes_nothing(tmp_path):
    path = tmp_path / "model.pt"
    source = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 5))  # second layer differs
    save_checkpoint(path, source)
    target = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 4))
    before = _snapshot(target)
    with pytest.raises(ValueError, match=r"'1.weight' has shape \(5, 2\), but the model's has shape \(4, 2\)"):
        load_checkpoint(path, target)
    _assert_unchanged(target, before)  # layer 0 would fit, and is still not overwritten


def test_an_optimizer_state_that_does_not_fit_changes_neither_model_nor_optimizer(tmp_path):
    path = tmp_path / "model.pt"
    source = torch_model(0)
    opt = take_adam_steps(source)
    save_checkpoint(path, source, opt)
    target = torch_model(1)
    params = list(target.parameters())
    target_opt = torch.optim.Adam([{"params": params[:1]}, {"params": params[1:]}])
    before = _snapshot(target)
    with pytest.raises(ValueError, match="parameter groups of sizes"):
        load_checkpoint(path, target, target_opt)
    _assert_unchanged(target, before)
    assert target_opt.state_dict()["state"] == {}


def test_a_string_array_in_an_npz_changes_nothing(tmp_path):
    path = tmp_path / "model.npz"
    target = numpy_model(1)
    state = target.state_dict()
    keys = sorted(state)
    state[keys[-1]] = np.full(state[keys[-1]].shape, "x")
    with open(path, "wb") as f:
        np.savez(f, **state, __meta__=np.array("{}"))
    before = _snapshot(target)
    with pytest.raises(ValueError, match=f"'{keys[-1]}' holds <U1, not numbers"):
        load_checkpoint(path, target)
    _assert_unchanged(target, before)
