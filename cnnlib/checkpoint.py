"""Saving and loading trained weights safely: state dicts of arrays and plain values, never objects.

A pickle can run any code when it is loaded, so a checkpoint from the internet must not be a
pickle of arbitrary objects. Here a checkpoint holds only what is needed to rebuild the run:

- a PyTorch model: ``torch.save`` of ``{"model": state_dict, "optimizer": state_dict or None,
  "meta": {...}}``, read back with ``torch.load(..., weights_only=True)``, which refuses any class
  other than tensors, containers and numbers;
- a ``cnnlib.numpy_nn`` model: ``np.savez`` of its state dict (one array per dotted key, as
  PyTorch names them) plus the meta data as a JSON string, read back with ``np.load(allow_pickle=False)``.

``meta`` holds plain values only (None, bool, int, float, str, and lists, tuples and dicts of
them), e.g. ``epoch=10, history=history.as_dict()``. Introduced in 07_case_studies_lenet.

    >>> save_checkpoint("lenet5.pt", model, optimizer, epoch=10)
    >>> load_checkpoint("lenet5.pt", model, optimizer)
    {'epoch': 10}

Loading is all or nothing. The zip archive's CRC-32 checksums are verified first (``torch.load``
does not verify them, so one flipped bit in a weight would load silently); then every key,
shape and dtype is checked against the model, and the optimizer state against the optimizer,
before anything is copied; should a copy still fail, the old values are put back. A damaged
file (truncated, not a zip, a broken pickle) gives one ``ValueError`` that names the file.

Nothing is lost and nothing explodes (`cnnlib.checkpoint_files`): a save writes a temporary file
and moves it over the old checkpoint in one step, so a save that fails leaves the old file intact;
a load reads the sizes in the zip directory and the ``.npy`` headers before any data, so a small
file that would inflate to gigabytes is refused before it is decompressed. ``path`` may also be an
open binary stream such as ``io.BytesIO``.
"""
from __future__ import annotations

import copy
import json
import pickle
import zipfile

import numpy as np

from cnnlib.checkpoint_files import (
    atomic_write, check_zip, describe, read_npz_arrays, read_npz_headers, rewound, size_budget,
)

_META_KEY = "__meta__"


def save_checkpoint(path, model, optimizer=None, **meta) -> None:
    """Write the model's (and optimizer's) state dict and ``meta`` to ``path``.

    PyTorch models go through ``torch.save``; ``cnnlib.numpy_nn`` models through ``np.savez``
    (the file is written to ``path`` exactly; no ".npz" is appended). The old file at ``path`` is
    replaced only once the new one is complete.
    """
    _check_meta(meta, "meta")
    if _is_torch_module(model):
        import torch

        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "meta": meta,
        }
        atomic_write(path, lambda f: torch.save(state, f))
    elif _is_numpy_module(model):
        if optimizer is not None:
            raise ValueError(
                "optimizer must be None for a cnnlib.numpy_nn model: only its parameters are saved; "
                "build a fresh optimizer after loading"
            )
        arrays = model.state_dict()
        if _META_KEY in arrays:
            raise ValueError(f"the model has a parameter named {_META_KEY!r}, which the checkpoint format reserves")
        atomic_write(path, lambda f: np.savez(f, **arrays, **{_META_KEY: np.array(json.dumps(meta))}))
    else:
        raise ValueError(
            f"model must be a torch.nn.Module or a cnnlib.numpy_nn Module, got {type(model).__name__}"
        )


def load_checkpoint(path, model, optimizer=None) -> dict:
    """Copy the weights saved at ``path`` into ``model`` (and ``optimizer``); return the meta dict.

    Keys and shapes must match the model exactly. A file that holds anything but arrays and
    plain values is refused with a ``ValueError`` before any of it is used.
    """
    name = describe(path)
    if _is_torch_module(model):
        import torch

        own = model.state_dict()
        check_zip(path, size_budget(own, copies=4))  # the weights, and up to three optimizer buffers each
        try:
            with rewound(path) as source:
                state = torch.load(source, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            raise ValueError(_refused(name, f"it holds objects other than tensors and plain values ({err})")) from err
        except (RuntimeError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as err:
            raise ValueError(f"{name} is damaged: torch.load could not read it ({type(err).__name__}: {err})") from err
        if not isinstance(state, dict) or not {"model", "optimizer", "meta"} <= set(state):
            raise ValueError(f"{name} is not a cnnlib checkpoint (expected the keys 'model', 'optimizer', 'meta')")
        _check_arrays(name, state["model"], own, lambda v: isinstance(v, torch.Tensor))
        if optimizer is not None:
            _check_optimizer_state(name, state["optimizer"], optimizer)
        old_model = {k: v.detach().clone() for k, v in own.items()}
        old_optimizer = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
        try:
            model.load_state_dict(state["model"])
            if optimizer is not None:
                optimizer.load_state_dict(state["optimizer"])
        except Exception as err:  # put everything back: a failed load changes nothing
            model.load_state_dict(old_model)
            if optimizer is not None:
                optimizer.load_state_dict(old_optimizer)
            raise ValueError(f"{name} does not fit the model or optimizer; nothing was changed ({err})") from err
        return state["meta"]
    if _is_numpy_module(model):
        if optimizer is not None:
            raise ValueError("optimizer must be None for a cnnlib.numpy_nn model: its checkpoints hold parameters only")
        own = model.state_dict()
        check_zip(path, size_budget(own, copies=1))
        headers = read_npz_headers(path)  # shapes and dtypes, every array's data still unread
        if _META_KEY not in headers:
            raise ValueError(f"{name} is not a cnnlib NumPy checkpoint (no {_META_KEY!r} entry)")
        meta_header = headers.pop(_META_KEY)
        if not isinstance(meta_header.dtype, np.dtype) or meta_header.dtype.kind != "U" or meta_header.shape != ():
            raise ValueError(f"{name} is damaged: its {_META_KEY!r} entry is not one string")
        for key, header in headers.items():
            if getattr(header.dtype, "hasobject", False):
                raise ValueError(_refused(name, f"it is not an .npz file of plain arrays ({key!r} holds Python "
                                                f"objects, which only a pickle can rebuild)"))
        _check_arrays(name, headers, own, _holds_numbers)
        try:
            arrays = read_npz_arrays(path)
        except (ValueError, zipfile.BadZipFile, EOFError, OSError) as err:
            raise ValueError(_refused(name, f"it is not an .npz file of plain arrays ({err})")) from err
        try:
            meta = json.loads(str(arrays.pop(_META_KEY)))
        except ValueError as err:
            raise ValueError(f"{name} is damaged: its {_META_KEY!r} entry is not JSON ({err})") from err
        model.load_state_dict(arrays)
        return meta
    raise ValueError(f"model must be a torch.nn.Module or a cnnlib.numpy_nn Module, got {type(model).__name__}")


def _holds_numbers(value) -> bool:
    dtype = value.dtype
    return isinstance(dtype, np.dtype) and (np.issubdtype(dtype, np.number) or dtype == np.bool_)


def _check_arrays(path, saved, own, is_array) -> None:
    """Every key of the model present, none extra, each value an array of the parameter's shape."""
    if not isinstance(saved, dict):
        raise ValueError(f"{path} is not a cnnlib checkpoint: its model state is a {type(saved).__name__}, not a dict")
    missing, unexpected = sorted(set(own) - set(saved)), sorted(set(saved) - set(own))
    if missing or unexpected:
        raise ValueError(f"{path} does not fit the model: missing keys {missing}, unexpected keys {unexpected}; "
                         f"nothing was loaded")
    for name, value in saved.items():
        if not is_array(value):
            what = getattr(value, "dtype", type(value).__name__)
            raise ValueError(f"{path}: {name!r} holds {what}, not numbers; nothing was loaded")
        if tuple(value.shape) != tuple(own[name].shape):
            raise ValueError(f"{path}: {name!r} has shape {tuple(value.shape)}, but the model's has shape "
                             f"{tuple(own[name].shape)}; nothing was loaded")


def _check_optimizer_state(path, saved, optimizer) -> None:
    """The saved optimizer state has the optimizer's groups, each with as many parameters."""
    if saved is None:
        raise ValueError(f"{path} holds no optimizer state; call load_checkpoint without optimizer")
    groups = saved.get("param_groups") if isinstance(saved, dict) else None
    if not isinstance(groups, list) or not isinstance(saved.get("state"), dict):
        raise ValueError(f"{path}: the optimizer state is not a torch optimizer state_dict; nothing was loaded")
    sizes = [len(g.get("params", ())) if isinstance(g, dict) else -1 for g in groups]
    own = [len(g["params"]) for g in optimizer.param_groups]
    if sizes != own:
        raise ValueError(f"{path}: the optimizer state has parameter groups of sizes {sizes}, the optimizer {own}; "
                         f"nothing was loaded")


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
