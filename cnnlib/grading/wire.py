"""What crosses the sandbox's wall: plain values as JSON, arrays as ``.npy`` files, never pickle.

``encode(value, arrays)`` turns a value into a JSON-able tree and puts its arrays in the dict
``arrays`` (name -> ndarray, written with ``np.save(..., allow_pickle=False)``); ``decode(tree,
arrays)`` builds it back. Kept: ``None``, ``bool``, ``int``, ``float``, ``str``, NumPy arrays of
numbers or booleans, NumPy scalars, torch tensors (they come back as NumPy arrays), and tuples,
lists and dicts of these (a ``torch.Size`` is a tuple). Anything else comes back as an
:class:`Opaque` that only keeps its type's name and a short repr, so a checker says "could not be
read" instead of running the object's code. One kind of object is sent by name: a checker's kit of
cnnlib's own functions (:data:`KITS`, e.g. 07's layers handed to ``lenet5_forward``), rebuilt inside
the sandbox from cnnlib, and only there. Exceptions travel as their class name, the names of
their built-in bases and their message (:func:`encode_error`, :func:`rebuild_error`).

This module is imported inside the sandbox too: it needs only the standard library and NumPy.
"""
from __future__ import annotations

import builtins
import json
from pathlib import Path

import numpy as np

MAX_DEPTH = 20
MAX_ITEMS = 10_000
MAX_TEXT = 10_000
# Objects of cnnlib that a checker hands to a learner's function, sent by name and rebuilt (no arguments).
KITS = {"cnnlib.exercises.nb07.LayerKit"}


class Opaque:
    """A value the sandbox could not send: its type's name and a short repr, nothing callable."""

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text


def encode(value, arrays: dict, depth: int = 0):
    """A JSON-able tree for ``value``; its arrays go into ``arrays`` under new names."""
    if depth > MAX_DEPTH:
        return {"t": "opaque", "type": type(value).__name__, "repr": "(nested too deeply)"}
    if value is None or isinstance(value, (bool, int, float)) and type(value) in (bool, int, float):
        return {"t": "json", "v": value if not isinstance(value, int) or abs(value) < 2 ** 62 else float(value)}
    if type(value) is str:
        return {"t": "json", "v": value[:MAX_TEXT]}
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        try:
            arr = value.detach().cpu().numpy()
        except Exception:  # noqa: BLE001 - any tensor that will not convert is sent as opaque
            return _opaque(value)
        name = f"a{len(arrays)}"
        arrays[name] = np.ascontiguousarray(arr)
        return {"t": "tensor", "k": name}
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        name = f"a{len(arrays)}"
        arrays[name] = np.asarray(value)
        return {"t": "scalar", "k": name}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        name = f"a{len(arrays)}"
        arrays[name] = np.ascontiguousarray(value)
        return {"t": "array", "k": name}
    if isinstance(value, (tuple, list)) and len(value) <= MAX_ITEMS:
        kind = "list" if isinstance(value, list) else "tuple"
        return {"t": kind, "v": [encode(v, arrays, depth + 1) for v in value]}
    if type(value) is dict and len(value) <= MAX_ITEMS and all(type(k) is str for k in value):
        return {"t": "dict", "v": {k: encode(v, arrays, depth + 1) for k, v in value.items()}}
    if f"{type(value).__module__}.{type(value).__qualname__}" in KITS:
        return {"t": "kit", "name": f"{type(value).__module__}.{type(value).__qualname__}"}
    return _opaque(value)


def _opaque(value) -> dict:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that raises still gets a name
        text = f"<{type(value).__name__}>"
    return {"t": "opaque", "type": type(value).__name__[:100], "repr": text[:300]}


def decode(tree, arrays: dict, tensors: bool = False):
    """The value ``encode`` was given (arrays from ``arrays``); raises ValueError on a malformed tree.

    A torch tensor comes back as a tensor if ``tensors`` (the sandbox, giving a case's inputs), else
    as a NumPy array (the grader, reading the learner's outputs without importing their types).
    """
    if not isinstance(tree, dict) or "t" not in tree:
        raise ValueError("malformed value")
    t = tree["t"]
    if t == "json":
        return tree["v"]
    if t in ("array", "scalar", "tensor"):
        arr = arrays[tree["k"]]
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biufc":
            raise ValueError("malformed array")
        if t == "tensor" and tensors:
            import torch

            return torch.from_numpy(arr.copy())
        return arr[()] if t == "scalar" else arr
    if t in ("list", "tuple"):
        items = [decode(v, arrays, tensors) for v in tree["v"]]
        return items if t == "list" else tuple(items)
    if t == "dict":
        return {str(k): decode(v, arrays, tensors) for k, v in tree["v"].items()}
    if t == "kit":
        name = str(tree.get("name", ""))
        if not tensors or name not in KITS:  # rebuilt only for a case's inputs, inside the sandbox
            return Opaque("kit", name[:300])
        import importlib

        module, _, cls = name.rpartition(".")
        return getattr(importlib.import_module(module), cls)()
    if t == "opaque":
        return Opaque(str(tree.get("type", "object")), str(tree.get("repr", ""))[:300])
    raise ValueError(f"unknown kind {t!r}")


def encode_error(err: BaseException) -> dict:
    """The class name, the built-in classes it derives from (nearest first) and the message."""
    bases = [c.__name__ for c in type(err).__mro__ if getattr(builtins, c.__name__, None) is c]
    try:
        message = str(err)
    except Exception:  # noqa: BLE001
        message = ""
    return {"type": type(err).__name__[:100], "bases": bases, "message": message[:MAX_TEXT]}


def rebuild_error(info: dict) -> Exception:
    """An exception of the nearest built-in class (a learner's ``class Oops(ValueError)`` is a ValueError)."""
    for name in info.get("bases", []):
        cls = getattr(builtins, str(name), None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            return cls(str(info.get("message", "")))
    return Exception(str(info.get("message", "")))


def save(folder: Path, name: str, tree, arrays: dict) -> None:
    """Write ``name.json`` and one ``name.<key>.npy`` per array, the JSON last (it says the set is complete)."""
    folder = Path(folder)
    for key, arr in arrays.items():
        np.save(folder / f"{name}.{key}.npy", arr, allow_pickle=False)
    tmp = folder / f".{name}.json.tmp"
    tmp.write_text(json.dumps(tree), encoding="utf-8")
    tmp.replace(folder / f"{name}.json")


def load(folder: Path, name: str, max_bytes: int = 64 << 20):
    """(tree, arrays) written by :func:`save`, or None if ``name.json`` is not there; never unpickles."""
    folder = Path(folder)
    path = folder / f"{name}.json"
    if not path.is_file() or path.is_symlink() or path.stat().st_size > max_bytes:
        return None
    tree = json.loads(path.read_text(encoding="utf-8"))
    arrays = {}
    for key in _array_keys(tree):
        npy = folder / f"{name}.{key}.npy"
        if npy.is_symlink() or not npy.is_file() or npy.stat().st_size > max_bytes:
            raise ValueError(f"array {key} is missing or too large")
        arrays[key] = np.load(npy, allow_pickle=False)
    return tree, arrays


def _array_keys(tree) -> list[str]:
    keys, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("t") in ("array", "scalar", "tensor") and isinstance(node.get("k"), str) and node["k"].isalnum():
                keys.append(node["k"])
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(node)
    return keys


def fingerprint(values) -> str:
    """A digest of a list of arguments (arrays by dtype, shape and bytes), to find a case again."""
    import hashlib

    h = hashlib.sha256()

    def walk(v):
        if type(v).__module__.startswith("torch") and hasattr(v, "detach"):
            h.update(b"T")
            v = v.detach().cpu().numpy()
        if isinstance(v, np.ndarray) or isinstance(v, np.generic):
            a = np.asarray(v)
            h.update(f"A{a.dtype.str}{a.shape}".encode())
            h.update(np.ascontiguousarray(a).tobytes())
        elif isinstance(v, (tuple, list)):
            h.update(f"L{type(v).__name__}{len(v)}".encode())
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            h.update(f"D{len(v)}".encode())
            for k in sorted(v, key=str):
                h.update(repr(k).encode())
                walk(v[k])
        else:
            h.update(f"S{type(v).__name__}:{v!r}".encode())

    walk(list(values))
    return h.hexdigest()
