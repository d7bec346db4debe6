"""Saving and loading trained weights safely: state dicts of arrays and plain values, never objects.

A pickle can run any code when it is loaded, so a checkpoint from the internet must not be a
pickle of arbitrary objects. Here a checkpoint holds only what is needed to rebuild the run:

- a PyTorch model: ``torch.save`` of ``{"model": state_dict, "optimizer": state_dict or None,
  "meta": {...}}``, read back with ``torch.load(..., weights_only=True)``, which refuses any class
  other than tensors, containers and numbers;
- a ``cnnlib.numpy_nn`` model: ``np.savez`` of its state dict (one array per dotted key, as
  PyTorch names them) plus the meta data as a JSON string, read back with ``np.load(allow_pickle=False)``.

``meta`` holds plain values only (None, bool, int, float, str, and lists, tuples and dicts of
them), e.g. ``epoch=10, history=history.as_dict()``. Introduced in 06_case_studies_lenet_alexnet_vgg.

    >>> save_checkpoint("lenet5.pt", model, optimizer, epoch=10)
    >>> load_checkpoint("lenet5.pt", model, optimizer)
    {'epoch': 10}
"""
from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np

_META_KEY = "__meta__"


def save_checkpoint(path, model, optimizer=None, **meta) -> None:
    """Write the model's (and optimizer's) state dict and ``meta`` to ``path``.

    PyTorch models go through ``torch.save``; ``cnnlib.numpy_nn`` models through ``np.savez``
    (the file is written to ``path`` exactly; no ".npz" is appended).
    """
    _check_meta(meta, "meta")
    if _is_torch_module(model):
        import torch

        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "meta": meta,
        }
        torch.save(state, path)
    elif _is_numpy_module(model):
        if optimizer is not None:
            raise ValueError(
                "optimizer must be None for a cnnlib.numpy_nn model: only its parameters are saved; "
                "build a fresh optimizer after loading"
            )
        arrays = model.state_dict()
        if _META_KEY in arrays:
            raise ValueError(f"the model has a parameter named {_META_KEY!r}, which the checkpoint format reserves")
        with open(path, "wb") as f:
            np.savez(f, **arrays, **{_META_KEY: np.array(json.dumps(meta))})
    else:
        raise ValueError(
            f"model must be a torch.nn.Module or a cnnlib.numpy_nn Module, got {type(model).__name__}"
        )


def load_checkpoint(path, model, optimizer=None) -> dict:
    """Copy the weights saved at ``path`` into ``model`` (and ``optimizer``); return the meta dict.

    Keys and shapes must match the model exactly. A file that holds anything but arrays and
    plain values is refused with a ``ValueError`` before any of it is used.
    """
    if _is_torch_module(model):
        import torch

        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            raise ValueError(_refused(path, "it holds objects other than tensors and plain values")) from err
        if not isinstance(state, dict) or not {"model", "optimizer", "meta"} <= set(state):
            raise ValueError(f"{path} is not a cnnlib checkpoint (expected the keys 'model', 'optimizer', 'meta')")
        model.load_state_dict(state["model"])
        if optimizer is not None:
            if state["optimizer"] is None:
                raise ValueError(f"{path} holds no optimizer state; call load_checkpoint without optimizer")
            optimizer.load_state_dict(state["optimizer"])
        return state["meta"]
    if _is_numpy_module(model):
        if optimizer is not None:
            raise ValueError("optimizer must be None for a cnnlib.numpy_nn model: its checkpoints hold parameters only")
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (ValueError, zipfile.BadZipFile) as err:
            raise ValueError(_refused(path, f"it is not an .npz file of plain arrays ({err})")) from err
        if _META_KEY not in arrays:
            raise ValueError(f"{path} is not a cnnlib NumPy checkpoint (no {_META_KEY!r} entry)")
        meta = json.loads(str(arrays.pop(_META_KEY)))
        model.load_state_dict(arrays)
        return meta
    raise ValueError(f"model must be a torch.nn.Module or a cnnlib.numpy_nn Module, got {type(model).__name__}")


def _refused(path, why: str) -> str:
    return (
        f"refusing to load {path}: {why}. cnnlib checkpoints hold only arrays and plain values, "
        f"so nothing in them can run code when loaded"
    )


def _check_meta(value, where: str) -> None:
    """Plain JSON-like values only, so that weights_only=True (and JSON) can read them back."""
    if value is None or type(value) in (bool, int, float, str):
        return
    if type(value) in (list, tuple):
        for i, item in enumerate(value):
            _check_meta(item, f"{where}[{i}]")
        return
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise ValueError(f"{where} has a key {key!r} of type {type(key).__name__}; keys must be str")
            _check_meta(item, f"{where}[{key!r}]")
        return
    raise ValueError(
        f"{where} is a {type(value).__name__}; checkpoint meta data must be None, bool, int, float, str, "
        f"or lists/dicts of them (convert NumPy or torch numbers with float(...) or int(...))"
    )


def _is_torch_module(model) -> bool:
    import torch

    return isinstance(model, torch.nn.Module)


def _is_numpy_module(model) -> bool:
    from cnnlib.numpy_nn.module import Module

    return isinstance(model, Module)
