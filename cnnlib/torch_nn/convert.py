"""Moving weights between torch.nn / cnnlib.torch_nn and cnnlib.numpy_nn (taught in 05_backpropagation).

All three use PyTorch's names and shapes (``"0.weight"`` is (C_out, C_in, kH, kW) everywhere), so
a state_dict only needs its values converted: tensors to NumPy arrays, or arrays to tensors.

    numpy_model.load_state_dict(to_numpy_state_dict(torch_model.state_dict()))
    torch_model.load_state_dict(to_torch_state_dict(numpy_model.state_dict(), device="cuda"))

Both ``load_state_dict`` methods check that the keys and the shapes match.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch


def _check_mapping(state_dict, hint: str) -> None:
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"state_dict must be a dict of name -> values, got {type(state_dict).__name__}; {hint}")


def to_numpy_state_dict(state_dict) -> dict[str, np.ndarray]:
    """``{name: tensor}`` -> ``{name: array}``: detached, copied to the CPU, dtype kept (bfloat16 becomes float32)."""
    _check_mapping(state_dict, "pass model.state_dict()")
    out = {}
    for name, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"state_dict[{name!r}] is a {type(value).__name__}, not a tensor")
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:  # NumPy has no bfloat16
            value = value.float()
        out[name] = value.numpy().copy()
    return out


def to_torch_state_dict(state_dict, device=None, dtype=None) -> dict[str, torch.Tensor]:
    """``{name: array}`` -> ``{name: tensor}`` on ``device``; floating values take ``dtype`` if it is given.

    Without ``dtype`` the arrays' dtypes are kept (``load_state_dict`` then casts to the model's).
    """
    _check_mapping(state_dict, "pass numpy_model.state_dict()")
    out = {}
    for name, value in state_dict.items():
        tensor = torch.tensor(np.asarray(value), device=device)  # a copy: the model never shares the array
        if dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(dtype)
        out[name] = tensor
    return out
