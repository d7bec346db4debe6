"""Shared test settings: hypothesis profiles (devices for PyTorch tests: cnnlib.device.available_devices)."""
from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, settings

# "default" (make test): hundreds of random configurations per run across the suite.
# "dev": a quick pass while editing:  HYPOTHESIS_PROFILE=dev pytest tests/...
settings.register_profile("default", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
# "ci": the same hundreds of configurations, drawn from a fixed seed, so a CI run is reproducible
# (exploration with fresh random draws happens on every developer's run instead).
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
_default = "ci" if os.environ.get("CI") else "default"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


# Passing layer checks write the learner's function to a library folder (cnnlib.exercises.my_layers):
# in tests, a scratch folder, never the working folder.
os.environ.setdefault("CNNLIB_MY_LAYERS", tempfile.mkdtemp(prefix="cnnlib-my-layers-"))
