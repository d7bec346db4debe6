"""Class labels, checked in one place for every loss, training loop and data loader.

A class label is an integer in [0, C). Arrays of labels arrive in many dtypes (uint8 from an
image file, int32 from a list on some platforms, float from a CSV), and two of them are traps:

- PyTorch reads a uint8 or bool tensor used as an index as a *mask*, not as class numbers, so
  ``scores[rows, labels]`` with uint8 labels picks other entries, without an error;
- ``astype(np.int64)`` of float labels truncates 2.7 to 2 and turns nan into a huge number.

`class_labels` therefore turns every integer dtype into int64 and refuses bool, floating,
complex and other dtypes with a ``ValueError`` that says what to do. The range [0, C) is checked
on the host for arrays and CPU tensors. For a tensor on another device (a GPU) reading its minimum
and maximum would make the host wait for the device (a sync) in every loss call, so the check runs
there instead (``torch._assert_async``), as torch.nn's own cross-entropy checks its labels on a GPU:
an out-of-range label stops the program with a device-side assertion, never a silently wrong loss. It takes NumPy arrays
(and lists) or torch tensors and gives back the same kind, so ``cnnlib.numpy_nn.loss``,
``cnnlib.torch_nn.loss``, ``cnnlib.train`` and ``cnnlib.data`` all call this one function.
"""
from __future__ import annotations

import numpy as np


def class_labels(labels, num_classes: int | None = None, name: str = "target"):
    """``labels`` as int64 class indices, each in [0, num_classes) (or >= 0 without num_classes).

    A torch tensor comes back as an int64 tensor on its device (the same tensor when it is
    int64 already); anything else as an int64 NumPy array. ``name`` is the argument's name in
    the error messages.
    """
    kind, values, dtype = _kind_and_values(labels)
    if kind == "bool":
        raise ValueError(f"{name} has dtype bool; class labels must be integers in [0, C) (PyTorch would read "
                         f"bool labels as a mask); convert with .long() or .astype(np.int64)")
    if kind == "float":
        has_nan = bool(np.isnan(values).any()) if values.size else False
        what = "floats, some of them nan" if has_nan else "floats"
        raise ValueError(f"{name} holds {what} (dtype {dtype}); class labels must be integers in [0, C). "
                         f"Converting would truncate 2.7 to 2 silently: if the values are whole numbers, "
                         f"convert them yourself with .long() or .astype(np.int64)")
    if kind != "int":
        raise ValueError(f"{name} must hold integer class labels, got dtype {dtype}")
    torch = _torch_if_tensor(labels)
    if torch is not None and labels.device.type != "cpu":
        return _checked_on_device(torch, _as_int64(labels, values), num_classes, name)
    if values.size:
        low, high = int(values.min()), int(values.max())
        top = None if num_classes is None else num_classes - 1
        if low < 0 or (top is not None and high > top):
            bad = low if low < 0 else high
            valid = "non-negative integers" if top is None else f"in [0, {top}] for {num_classes} classes"
            raise ValueError(f"{name} holds the label {bad}, out of range: labels must be {valid}")
    return _as_int64(labels, values)


def _kind_and_values(labels):
    """("int" | "bool" | "float" | other, the values as a NumPy array for min/max/isnan, the dtype's name)."""
    torch = _torch_if_tensor(labels)
    if torch is not None:
        dtype = str(labels.dtype).removeprefix("torch.")
        if labels.dtype == torch.bool:
            return "bool", np.zeros(0, dtype=bool), dtype
        on_cpu = labels.device.type == "cpu"  # elsewhere nothing is read back to the host (see the module doc)
        if labels.is_floating_point():
            has_nan = on_cpu and bool(labels.detach().isnan().any())
            return "float", np.array([np.nan] if has_nan else []), dtype
        if labels.is_complex():
            return "complex", np.zeros(0), dtype
        # min and max on the device: two numbers cross to the CPU, not the whole tensor
        if labels.numel() and on_cpu:
            return "int", np.array([labels.min().item(), labels.max().item()], dtype=np.int64), dtype
        return "int", np.zeros(0, dtype=np.int64), dtype
    values = np.asarray(labels)
    dtype = str(values.dtype)
    if values.dtype == bool:
        return "bool", values, dtype
    if np.issubdtype(values.dtype, np.integer):
        if values.dtype == np.uint64 and values.size and values.max() > np.iinfo(np.int64).max:
            return "int", np.array([np.iinfo(np.int64).max]), dtype  # reported as out of range
        return "int", values, dtype
    if np.issubdtype(values.dtype, np.floating):
        return "float", values, dtype
    return "other", values, dtype


def _checked_on_device(torch, labels, num_classes, name):
    """int64 ``labels`` on a device other than the CPU, their range asserted there: no value reaches the host."""
    if labels.numel():
        valid = ("non-negative integers" if num_classes is None
                 else f"in [0, {num_classes - 1}] for {num_classes} classes")
        inside = labels >= 0 if num_classes is None else (labels >= 0) & (labels < num_classes)
        torch._assert_async(inside.all(), f"{name} holds a label out of range: labels must be {valid}")
    return labels


def _as_int64(labels, values):
    torch = _torch_if_tensor(labels)
    if torch is not None:
        return labels if labels.dtype == torch.int64 else labels.to(torch.int64)
    return values.astype(np.int64, copy=False)


def _torch_if_tensor(value):
    """The torch module if ``value`` is a tensor (torch is imported only if it already is)."""
    import sys

    torch = sys.modules.get("torch")
    return torch if torch is not None and isinstance(value, torch.Tensor) else None
