"""Choosing where PyTorch code runs: CUDA, then Apple's MPS, then the CPU.

    >>> from cnnlib.device import get_device
    >>> get_device()            # honours CNNLIB_DEVICE=cpu|cuda|cuda:1|mps when it is set
    device(type='cpu')

Every notebook starts with ``print(env_report())``: one line saying what it runs on.
"""
from __future__ import annotations

import os
import platform

import numpy as np

ENV_VAR = "CNNLIB_DEVICE"


def get_device(prefer: str | None = None):
    """The ``torch.device`` to use: the argument, else $CNNLIB_DEVICE, else the best available.

    An explicit choice that is not available raises ``ValueError`` rather than silently
    falling back, so a notebook never claims to use a GPU it does not have.
    """
    import torch

    choice = prefer if prefer is not None else os.environ.get(ENV_VAR) or None
    if choice is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {choice!r}") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {choice!r} was asked for, but PyTorch sees no CUDA GPU here; use 'cpu'")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {choice!r} was asked for, but only {torch.cuda.device_count()} CUDA GPU(s) exist")
    if device.type == "mps" and not _mps_available():
        raise ValueError(f"device {choice!r} was asked for, but Apple's MPS is not available here; use 'cpu'")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {choice!r}")
    return device


def available_devices() -> list[str]:
    """'cpu' always, then 'cuda' and 'mps' where PyTorch can use them (tests parametrize over this)."""
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if _mps_available():
        devices.append("mps")
    return devices


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def describe_device(device) -> str:
    """A short human name: 'cpu', 'cuda (NVIDIA H100 80GB HBM3)', 'mps'."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def env_report(device=None) -> str:
    """One line for the top of a notebook: versions and the device PyTorch code will use."""
    import torch

    import cnnlib

    dev = get_device(device)
    return (
        f"Environment: cnnlib {cnnlib.__version__} | Python {platform.python_version()} | "
        f"NumPy {np.__version__} | PyTorch {torch.__version__} | device {describe_device(dev)}"
    )
