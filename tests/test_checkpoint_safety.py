"""cnnlib.checkpoint loses nothing and reads nothing it should not: atomic saves, zip bombs, streams."""
from __future__ import annotations

import io
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch
from test_checkpoint import numpy_model, torch_model

from cnnlib.checkpoint import load_checkpoint, save_checkpoint


# -- a failed save leaves the old checkpoint --------------------------------------------------------------
def test_a_torch_save_that_fails_halfway_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.pt"
    model = torch_model(0)
    save_checkpoint(path, model, epoch=1)
    good = path.read_bytes()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    optimizer.param_groups[0]["schedule"] = lambda step: 0.1  # cannot be pickled: torch.save fails midway
    with pytest.raises(Exception, match="lambda|pickle"):
        save_checkpoint(path, model, optimizer, epoch=2)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
    assert load_checkpoint(path, torch_model(1)) == {"epoch": 1}


def test_a_numpy_save_that_fails_halfway_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    save_checkpoint(path, numpy_model(0), epoch=1)
    good = path.read_bytes()

    def disk_full(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(path, numpy_model(1), epoch=2)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_a_save_replaces_the_old_file_and_keeps_the_umask_permissions(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    save_checkpoint(path, numpy_model(0), epoch=3)
    assert load_checkpoint(path, numpy_model(1)) == {"epoch": 3}
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("x")  # a file made by open(): the mode a checkpoint should get too
    assert (path.stat().st_mode & 0o777) == (fresh.stat().st_mode & 0o777)


# -- sizes are checked before decompressing -----------------------------------------------------------
def _npy_header(shape, descr="<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _write_bomb(path, megabytes):
    """An .npz whose '0.weight' declares `megabytes` MiB of zeros, deflated to a few dozen KiB."""
    n = megabytes * 2**20 // 8
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("0.weight.npy", "w") as f:
            f.write(_npy_header((n,)))
            chunk = bytes(2**20)
            for _ in range(megabytes):
                f.write(chunk)
        archive.writestr("__meta__.npy", _npy_header((), "<U2") + "{}".encode("utf-32-le"))


def _peak_bytes_of(call):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            call()
        return tracemalloc.get_traced_memory()[1], str(info.value)
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_npz_is_refused_from_its_directory_without_inflating_it(tmp_path):
    path = tmp_path / "bomb.npz"
    _write_bomb(path, megabytes=48)
    assert path.stat().st_size < 2**20  # small on disk
    peak, message = _peak_bytes_of(lambda: load_checkpoint(path, numpy_model(0)))
    assert peak < 4 * 2**20, f"loading allocated {peak / 2**20:.0f} MiB"
    assert "refusing to load" in message and "bomb.npz" in message and "'0.weight.npy'" in message
    assert "nothing was decompressed" in message


def test_an_npy_header_declaring_a_huge_array_is_refused_before_it_is_allocated(tmp_path):
    path = tmp_path / "liar.npz"  # tiny members; the header of one claims 1.6 GB
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("0.weight.npy", _npy_header((200_000_000,)) + bytes(64))
        archive.writestr("__meta__.npy", _npy_header((), "<U2") + "{}".encode("utf-32-le"))
    peak, message = _peak_bytes_of(lambda: load_checkpoint(path, numpy_model(0)))
    assert peak < 4 * 2**20, f"loading allocated {peak / 2**20:.0f} MiB"
    assert "liar.npz" in message and "does not fit the model" in message


def test_a_zip_bomb_torch_file_is_refused_from_its_directory(tmp_path):
    path = tmp_path / "bomb.pt"
    save_checkpoint(path, torch_model(0))
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        folder = archive.namelist()[0].split("/")[0]
        with archive.open(f"{folder}/data/99", "w") as f:  # a storage no tensor uses: 24 MiB of zeros
            for _ in range(24):
                f.write(bytes(2**20))
    with pytest.raises(ValueError, match=r"refusing to load .*bomb\.pt: its zip directory declares .* nothing was "
                                         r"decompressed"):
        load_checkpoint(path, torch_model(1))


# -- clear errors that name the file ------------------------------------------------------------------------
def test_an_npz_member_named_npy_that_is_not_npy_data_is_named(tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in numpy_model(0).state_dict().items():
            data = b"these are not the weights" if key == "0.weight" else _npy_header(value.shape) + value.tobytes()
            archive.writestr(f"{key}.npy", data)
        archive.writestr("__meta__.npy", _npy_header((), "<U2") + "{}".encode("utf-32-le"))
    with pytest.raises(ValueError, match=r"model\.npz is damaged or not a cnnlib NumPy checkpoint: its member "
                                         r"'0\.weight\.npy' is named like an array but does not hold \.npy data"):
        load_checkpoint(path, numpy_model(1))


@pytest.mark.parametrize("kind", ["torch", "numpy"])
def test_a_checkpoint_in_a_bytesio_round_trips(kind):
    make = torch_model if kind == "torch" else numpy_model
    buffer = io.BytesIO()
    save_checkpoint(buffer, make(0), epoch=4)
    buffer.seek(0)
    fresh = make(1)
    assert load_checkpoint(buffer, fresh, None) == {"epoch": 4}
    for (name, a), (_, b) in zip(make(0).state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)


def test_a_damaged_stream_is_named_by_its_type():
    with pytest.raises(ValueError, match="the BytesIO stream is damaged or not a checkpoint"):
        load_checkpoint(io.BytesIO(b"not a zip at all" * 10), torch_model(0))


class _Pipe(io.RawIOBase):
    def readable(self):
        return True

    def seekable(self):
        return False


def test_a_stream_that_cannot_seek_is_refused_with_advice():
    with pytest.raises(ValueError, match="the _Pipe stream cannot be read: a checkpoint stream must be seekable"):
        load_checkpoint(_Pipe(), numpy_model(0))
