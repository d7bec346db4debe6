"""The learner's own layer library: every layer exercise that passes is kept in a file the learner owns.

When the check of a layer exercise passes (``check_linear_forward(linear_forward)``, ...), the
learner's function is written, as source code, to ``my_layers/<id>.py`` beside the notebooks (the
kernel's working folder; ``CNNLIB_MY_LAYERS`` names another folder, or ``off`` to keep nothing, as
the grader does). Later notebooks load the whole library::

    layers = my_layers()          # prints which layers are the learner's own and which are cnnlib's
    layers.conv2d_im2col(x, w, b, 1, 2)

A layer whose file is missing (its exercise has not passed yet) or cannot be loaded falls back to
cnnlib's reference (:mod:`cnnlib.exercises.references`), called the same way, and the table says so.

What is written: the function's source, the modules it uses (``import numpy as np``), the source of
every notebook function it calls, and the plain constants it reads (numbers, strings). A function
that reads an array or another object of the notebook cannot be kept on its own; the check then
says which name to pass as an argument instead. Only a passing check writes: a later failing
attempt leaves the last passing version in place.
"""
from __future__ import annotations

import dis
import importlib.util
import inspect
import os
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

from cnnlib.exercises import references

FOLDER = "my_layers"


@dataclass(frozen=True)
class Layer:
    id: str          # the exercise id: check_<id> keeps it, my_layers/<id>.py holds it
    notebook: str    # where the learner writes it
    what: str


LAYERS = {layer.id: layer for layer in [
    Layer("relu_forward", "01", "ReLU, forward"),
    Layer("relu_backward", "01", "ReLU, backward"),
    Layer("sigmoid_backward", "01", "sigmoid, backward"),
    Layer("linear_forward", "01", "fully connected, forward"),
    Layer("linear_backward", "01", "fully connected, backward"),
    Layer("conv2d_loops", "02", "convolution as loops, forward"),
    Layer("conv2d_im2col", "02", "convolution vectorized, forward"),
    Layer("max_pool_forward", "03", "max pooling, forward"),
    Layer("max_pool_backward", "03", "max pooling, backward"),
    Layer("softmax_cross_entropy", "04", "softmax cross-entropy, loss and gradient"),
    Layer("conv2d_backward", "05", "convolution as loops, backward"),
    Layer("conv2d_backward_im2col", "05", "convolution vectorized, backward"),
    Layer("sgd_momentum_step", "06", "SGD with momentum, one step"),
    Layer("adam_step", "06", "Adam, one step"),
    Layer("batch_norm_forward", "09", "batch normalization, forward"),
    Layer("batch_norm_backward", "09", "batch normalization, backward"),
    Layer("residual_block", "09", "residual block, identity shortcut"),
    Layer("residual_block_projection", "09", "residual block, projection shortcut"),
]}
# The layers 07 assembles into LeNet-5 (cnnlib.models.lenet_layers.LAYERS_USED; a test keeps them equal).
LENET5_LAYERS = frozenset({"conv2d_im2col", "conv2d_backward_im2col", "relu_forward", "relu_backward",
                           "max_pool_forward", "max_pool_backward", "linear_forward", "linear_backward",
                           "softmax_cross_entropy", "sgd_momentum_step"})
# The reference of an id, where the learner's function has another name than the exercise id.
_REFERENCE_NAME = {"conv2d_backward": "conv2d_backward_loops"}


def reference(layer_id: str):
    """cnnlib's function for ``layer_id``, declared as the learner's is."""
    return getattr(references, _REFERENCE_NAME.get(layer_id, layer_id))


def folder() -> Path | None:
    """Where the library lives: ``$CNNLIB_MY_LAYERS``, else ``my_layers`` in the working folder; None if off."""
    where = os.environ.get("CNNLIB_MY_LAYERS", "")
    if where.lower() == "off":
        return None
    return Path(where) if where else Path.cwd() / FOLDER


class NotKept(Exception):
    """The function cannot be written out on its own; the message says why."""


def _global_names(code: types.CodeType) -> list[str]:
    """The global names a function's code loads (not attribute names: ``np.lib`` loads ``np`` only)."""
    names = [ins.argval for ins in dis.get_instructions(code) if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names += _global_names(const)
    return names


def _plain(value) -> bool:
    if isinstance(value, (bool, int, float, complex, str, bytes, type(None))):
        return True
    return isinstance(value, (tuple, frozenset)) and all(_plain(v) for v in value)


def _importable(value) -> bool:
    """A function or class of an installed module (numpy's exp, math's sqrt), named where it lives."""
    module, attr = getattr(value, "__module__", None), getattr(value, "__qualname__", getattr(value, "__name__", None))
    if not module or not attr or module == "__main__" or "<" in attr:
        return False
    try:
        found = importlib.import_module(module)
        for part in attr.split("."):
            found = getattr(found, part)
    except Exception:  # noqa: BLE001
        return False
    return found is value


def source_of(fn) -> str:
    """The text of a module that defines ``fn`` and everything it needs; raises NotKept."""
    imports, constants, functions, seen = {}, {}, [], set()

    def visit(f):
        if f.__name__ in seen:
            return
        seen.add(f.__name__)
        try:
            text = textwrap.dedent(inspect.getsource(f))
        except (OSError, TypeError) as err:
            raise NotKept(f"its source code cannot be read ({err})") from None
        if f.__closure__:
            raise NotKept(f"{f.__name__} is defined inside another function; define it at the top of a cell")
        for name in dict.fromkeys(_global_names(f.__code__)):
            if name not in f.__globals__:
                continue  # a builtin, or an attribute name
            value = f.__globals__[name]
            if isinstance(value, types.ModuleType):
                imports[name] = (f"import {value.__name__}" if value.__name__ == name
                                 else f"import {value.__name__} as {name}")
            elif isinstance(value, types.FunctionType) and value.__module__ == f.__module__:
                visit(value)
            elif _plain(value):
                constants[name] = f"{name} = {value!r}"
            elif callable(value) and _importable(value):
                attr = getattr(value, "__qualname__", value.__name__)
                imports[name] = f"from {value.__module__} import {attr}" + ("" if attr == name else f" as {name}")
            else:
                raise NotKept(f"{f.__name__} reads the notebook's {name} ({type(value).__name__}); "
                              f"pass it as an argument instead")
        functions.append(text.rstrip() + "\n")

    visit(fn)
    parts = [*dict.fromkeys(imports.values()), "", *constants.values(), "", *functions]
    return "\n".join(parts).strip("\n") + "\n"


def keep(layer_id: str, fn) -> str:
    """Write ``fn`` to ``my_layers/<layer_id>.py``; returns the line to print (why not, if it cannot)."""
    where = folder()
    if where is None or layer_id not in LAYERS:
        return ""
    layer = LAYERS[layer_id]
    try:
        body = source_of(fn)
    except NotKept as why:
        return f"Not kept in {FOLDER}/: {why}."
    alias = "" if fn.__name__ == layer_id else f"\n{layer_id} = {fn.__name__}\n"
    text = (f'"""Your {layer.what} (notebook {layer.notebook}): written by check_{layer_id} when it passed.\n\n'
            f"Edit it in the notebook and run its check again; this file is rewritten then.\n"
            f'"""\n{body}{alias}')
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{layer_id}.py"
    if not (path.exists() and path.read_text(encoding="utf-8") == text):
        tmp = where / f".{layer_id}.{os.getpid()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)               # readers (another notebook) never see half a file
    if layer_id in LENET5_LAYERS:
        return f"Kept in {FOLDER}/{layer_id}.py: notebook 07 trains LeNet-5 with your {layer.what}."
    return f'Kept in {FOLDER}/{layer_id}.py: my_layers("{layer_id}") loads your {layer.what} back.'


def load(layer_id: str):
    """(the learner's function, "") if its file loads, else (cnnlib's reference, why not)."""
    where = folder()
    path = None if where is None else where / f"{layer_id}.py"
    if path is None or not path.exists():
        return reference(layer_id), f"yours has not passed check_{layer_id} yet (notebook {LAYERS[layer_id].notebook})"
    try:
        spec = importlib.util.spec_from_file_location(f"my_layers_{layer_id}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fn = getattr(module, layer_id)
    except Exception as err:  # noqa: BLE001 - a broken file falls back, and the table says why
        return reference(layer_id), f"{FOLDER}/{layer_id}.py does not load ({type(err).__name__}: {err})"
    return fn, ""


def _headline(yours: int, total: int) -> str:
    if total == 1:
        return "This layer is yours." if yours else "This layer is not yours yet: cnnlib's reference stands in."
    if yours == total:
        return f"All {total} layers are yours."
    if yours == 0:
        return f"None of these {total} layers is yours yet: cnnlib's references stand in."
    return f"{yours} of {total} layers are yours; the others are cnnlib's references."


class Library:
    """The learner's layers by id (attributes), with ``whose[id]`` = "yours" or "cnnlib's"."""

    def __init__(self, ids):
        self.whose, self.why = {}, {}
        for layer_id in ids:
            fn, why = load(layer_id)
            setattr(self, layer_id, fn)
            self.whose[layer_id] = "cnnlib's" if why else "yours"
            self.why[layer_id] = why

    @property
    def all_yours(self) -> bool:
        return all(w == "yours" for w in self.whose.values())

    def table(self) -> str:
        width = max(len(i) for i in self.whose)
        yours = sum(w == "yours" for w in self.whose.values())
        lines = [_headline(yours, len(self.whose))]
        lines += [f"{i:<{width}}  {w:<8}  {self.why[i] or 'it passed its check (notebook ' + LAYERS[i].notebook + ')'}"
                 for i, w in self.whose.items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def my_layers(*ids: str) -> Library:
    """Load the learner's layers (all of them, or ``ids``) and print whose each one is."""
    unknown = [i for i in ids if i not in LAYERS]
    if unknown:
        raise ValueError(f"no layer exercise is called {unknown}; the layers are {list(LAYERS)}")
    lib = Library(ids or LAYERS)
    print(lib.table())
    return lib


__all__ = ["LAYERS", "Layer", "Library", "NotKept", "folder", "keep", "load", "my_layers", "reference", "source_of"]
