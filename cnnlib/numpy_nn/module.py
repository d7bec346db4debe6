"""The module machinery of the NumPy reference: Parameter, Module, Sequential, Flatten.

The vocabulary is PyTorch's (``parameters()``, ``zero_grad()``, ``state_dict()``), but nothing
is automatic: each layer's ``forward`` keeps what its ``backward`` will need, and
``backward(grad_output)`` returns the gradient with respect to the layer's input while
*adding* the gradients of its parameters into ``param.grad`` (as PyTorch accumulates them).
Introduced in 01_neural_nets_activations (the fully connected layer) and used in every notebook after it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Iterator

import numpy as np

from cnnlib.checks import check_int


class Parameter:
    """A trainable array: ``data`` (the values) and ``grad`` (same shape, accumulated by backward)."""

    def __init__(self, data: np.ndarray):
        self.data = np.asarray(data)
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


def _checked_value(key: str, value, target: np.ndarray, kind: str) -> np.ndarray:
    """``value`` as a new array of ``target``'s dtype, or a ValueError that names ``key``."""
    try:
        array = np.asarray(value)
    except Exception as error:  # e.g. a ragged list
        raise ValueError(f"state_dict[{key!r}] is not an array of numbers ({error})") from None
    numeric = np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_
    if np.issubdtype(target.dtype, np.floating):
        numeric = numeric or np.issubdtype(array.dtype, np.floating)
    if not numeric:
        wanted = "real numbers" if np.issubdtype(target.dtype, np.floating) else "integers"
        raise ValueError(f"state_dict[{key!r}] has dtype {array.dtype}, but {key!r} holds {target.dtype}: "
                         f"pass an array of {wanted}")
    if array.shape != target.shape:
        raise ValueError(f"state_dict[{key!r}] has shape {array.shape}, but the {kind} has shape {target.shape}")
    return np.array(array, dtype=target.dtype)


class Module:
    """Base class: children and parameters are found among the instance's attributes, in order."""

    training: bool = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- parameters and children ------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_parameters(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = np.zeros_like(p.data)

    # -- buffers: state that is saved but not trained (BatchNorm2d's running statistics) --------
    def register_buffer(self, name: str, value) -> None:
        """Keep ``value`` (an array, or None) as the attribute ``name`` and save it in `state_dict`.

        As in PyTorch, a buffer is part of the model's state but has no gradient and no optimizer
        touches it; a buffer that is None is left out of the state_dict.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"buffer name must be a Python identifier, got {name!r}")
        if value is not None:
            value = np.asarray(value)
            if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
                raise ValueError(f"buffer {name!r} must hold floats or integers, got dtype {value.dtype}")
        names = vars(self).setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, value)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for name in vars(self).get("_buffer_names", []):
            value = getattr(self, name)
            if value is not None:
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_buffers(prefix + name + ".")

    def buffers(self) -> list[np.ndarray]:
        return [b for _, b in self.named_buffers()]

    def train(self, mode: bool = True) -> "Module":
        """Training mode (``mode=True``) or evaluation mode, for this module and every child.

        Only some layers behave differently: `Dropout` is the identity in evaluation mode, and
        `BatchNorm2d` normalizes with its running statistics instead of the batch's.
        """
        self.training = bool(mode)
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # -- saving and loading, with PyTorch's dotted keys ---------------------------------------
    def _named_state(self, prefix: str = ""):
        """(key, owner, attribute) in PyTorch's order: own parameters, own buffers, then each child's."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, self, name
        for name in vars(self).get("_buffer_names", []):
            if getattr(self, name) is not None:
                yield prefix + name, self, name
        for name, child in self.named_children():
            yield from child._named_state(prefix + name + ".")

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter's data and every buffer, under PyTorch's keys and in its order."""
        out = {}
        for key, owner, name in self._named_state():
            value = getattr(owner, name)
            out[key] = (value.data if isinstance(value, Parameter) else value).copy()
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Copy arrays into the parameters and buffers; every key, shape and dtype kind must match.

        Everything is checked before anything is copied, so a refused state_dict changes nothing.
        Values are cast to the model's dtypes (as PyTorch's ``load_state_dict`` does): any real
        numbers into a floating-point parameter or buffer, only integers into an integer buffer.
        """
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"state_dict must be a dict of name -> array, got {type(state_dict).__name__}")
        own = {key: (owner, name) for key, owner, name in self._named_state()}
        missing = sorted(set(own) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(own))
        if missing or unexpected:
            raise ValueError(
                f"state_dict keys do not match {type(self).__name__}: missing {missing}, unexpected {unexpected}"
            )
        checked = {}
        for key, (owner, name) in own.items():
            target = getattr(owner, name)
            if isinstance(target, Parameter):
                checked[key] = _checked_value(key, state_dict[key], target.data, "parameter")
            else:
                checked[key] = _checked_value(key, state_dict[key], target, "buffer")
        for key, (owner, name) in own.items():
            current = getattr(owner, name)
            if isinstance(current, Parameter):
                current.data = checked[key]
                current.grad = np.zeros_like(current.data)
            else:
                setattr(owner, name, checked[key])

    def _saved(self, cache):
        """The cache from the last forward, or a clear error if backward comes first."""
        if cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return cache

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            lines += [f"  ({name}): " + repr(child).replace("\n", "\n  ")]
        return "\n".join(lines + [")"])


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse (the chain rule).

    Children are named "0", "1", ... so keys look like PyTorch's: ``"0.weight"``.
    """

    def __init__(self, *layers: Module):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ValueError(f"Sequential takes Module instances; argument {i} is {type(layer).__name__}")
        self.layers = list(layers)

    def named_children(self):
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_output: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Run every layer's backward, last first; return the gradient with respect to the input.

        ``need_input_grad=False`` says the caller will not use that gradient (a training loop: the
        images need none), as PyTorch skips it for an input that does not require grad. The first
        layer is then asked to skip it, if it can: a nested `Sequential` passes the request on, a
        layer with a ``need_input_grad`` attribute (``Conv2d``) has it set to False for this call
        and may return None. Layers that cannot skip it compute it as usual.
        """
        if not isinstance(need_input_grad, bool):
            raise ValueError(f"need_input_grad must be True or False, got {need_input_grad!r}")
        if not self.layers:
            return grad_output
        for layer in reversed(self.layers[1:]):
            grad_output = layer.backward(grad_output)
        first = self.layers[0]
        if need_input_grad:
            return first.backward(grad_output)
        if isinstance(first, Sequential):
            return first.backward(grad_output, need_input_grad=False)
        before = getattr(first, "need_input_grad", None)
        if before is None:  # this layer always computes its input's gradient
            return first.backward(grad_output)
        first.need_input_grad = False
        try:
            return first.backward(grad_output)
        finally:
            first.need_input_grad = before


class Flatten(Module):
    """Flatten dimensions ``start_dim`` to ``end_dim`` into one: by default (N, C, H, W) -> (N, C*H*W).

    ``torch.nn.Flatten``'s arguments (negative dimensions count from the end), positional or by name.

    Shape: input (*, S_start, ..., S_end, *) -> output (*, S_start * ... * S_end, *).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = check_int(start_dim, "start_dim"), check_int(end_dim, "end_dim")
        self._shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        ndim = max(x.ndim, 1)  # a 0-d input flattens to one element, as in torch
        start, end = _dimension(self.start_dim, ndim, "start_dim"), _dimension(self.end_dim, ndim, "end_dim")
        if start > end:
            raise ValueError(f"start_dim ({self.start_dim}) must not come after end_dim ({self.end_dim}) "
                             f"for an input of {x.ndim} dimensions")
        shape = x.shape or (1,)
        self._shape = x.shape
        merged = int(np.prod(shape[start:end + 1]))  # explicit, not -1: an empty batch reshapes too
        return x.reshape(shape[:start] + (merged,) + shape[end + 1:])  # e.g. (N, C*H*W)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return grad_output.reshape(self._saved(self._shape))  # (N, C, H, W)


def _dimension(dim: int, ndim: int, name: str) -> int:
    """``dim`` counted from the front (negative counts from the end), or a ValueError naming it."""
    if not -ndim <= dim < ndim:
        raise ValueError(f"{name} must be in [{-ndim}, {ndim - 1}] for an input of {ndim} dimensions, got {dim}")
    return dim % ndim
