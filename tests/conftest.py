"""Shared test settings: hypothesis profiles and the devices the PyTorch tests run on."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# "default" (make test, CI): hundreds of random configurations per run across the suite.
# "dev": a quick pass while editing:  HYPOTHESIS_PROFILE=dev pytest tests/...
settings.register_profile("default", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def available_devices() -> list[str]:
    """CPU always; CUDA when PyTorch sees a GPU. Tests parametrize over this list."""
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    return devices
