"""The whole benchmark in one call, and the small convolution table that 02_convolution shows.

``run(quick=False)`` measures, for each device, the machine's ceiling, the four convolutions,
the pooling layers, LeNet-5 training and the ImageNet models' inference, with the thread count
fixed, and returns ``(results, meta)``; ``python -m cnnlib.bench`` writes them out.
``--quick`` keeps the same layers (their sizes are the point) but fewer rounds, and only
ResNet-18 for inference: it is what the tests and the notebook use.
"""
from __future__ import annotations

import datetime
import os
import platform
import time

from cnnlib.bench import cases as bench_cases
from cnnlib.bench.ceiling import bench_copy, bench_gemm
from cnnlib.bench.layers import IMPLS, TORCH_NN, bench_conv, bench_pool
from cnnlib.bench.models import AMP, bench_inference, bench_training
from cnnlib.bench.report import Report, ceiling_table, layer_table, report, summary_lines
from cnnlib.bench.results import REFERENCE, add_ratios
from cnnlib.bench.timing import strict_float32, thread_info, threads

SECTIONS = ("ceiling", "conv", "pool", "train", "infer")

# Rounds and sizes: (quick, full).
SETTINGS = {
    "repeats": (3, 7),
    "gemm_n": (2048, 2048),
    "copy_mb": (64, 256),
    "train_steps": (5, 5),
    "infer_repeats": (2, 3),
}


def devices_for(device: str) -> list[str]:
    """'auto' means the CPU, then CUDA if PyTorch sees a GPU; otherwise exactly the device asked for."""
    import torch

    from cnnlib.device import get_device

    if device == "auto":
        return ["cpu"] + (["cuda"] * torch.cuda.is_available())
    return [str(get_device(device))]


def machine_info(devices, n_threads, quick, repeats) -> dict:
    """What a reader needs to judge the numbers: the CPU, its load, the threads, the versions."""
    import numpy
    import torch

    import cnnlib

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    gpus = [torch.cuda.get_device_name(d) for d in devices if d.startswith("cuda")]
    with threads(n_threads):
        in_force = thread_info()
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "cpu": cpu, "cpu_count": os.cpu_count(), "gpus": gpus, "devices": list(devices),
        "load_average": {"start": _load()}, "threads": in_force, "quick": quick, "repeats": repeats,
        "tf32": False,
        "versions": f"Python {platform.python_version()}, NumPy {numpy.__version__}, PyTorch {torch.__version__}, "
                    f"cnnlib {cnnlib.__version__}",
    }


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _sections(pick, repeats, quick, meta):
    """What each section measures, as {name: (log line, function of the device)}; the train section adds
    ``meta["train_breakdown"]`` (where the cnnlib.numpy_nn step's time goes)."""
    models = bench_cases.find(bench_cases.MODEL_CASES, ["ResNet-18"]) if quick else bench_cases.MODEL_CASES
    model_impls = (REFERENCE,) if quick else (REFERENCE, TORCH_NN, AMP)
    return {
        "ceiling": ("ceiling: GEMM and memory copy",
                    lambda dev: bench_gemm(pick["gemm_n"], dev, repeats) + bench_copy(pick["copy_mb"], dev, repeats)),
        "conv": (f"convolution: {len(bench_cases.CONV_CASES)} layers x {len(IMPLS)} implementations",
                 lambda dev: bench_conv(bench_cases.CONV_CASES, IMPLS, dev, repeats)),
        "pool": ("pooling", lambda dev: bench_pool(bench_cases.POOL_CASES, IMPLS, dev, repeats)),
        "train": ("LeNet-5 training on the digits",
                  lambda dev: bench_training(dev, repeats, steps=pick["train_steps"], breakdown=meta)),
        "infer": ("inference at 224x224", lambda dev: bench_inference(models, dev, pick["infer_repeats"], model_impls,
                                                                     batch=1 if quick else None)),
    }


def run(quick=False, device="auto", n_threads=2, sections=SECTIONS, repeats=None, log=print):
    """Measure every section on every device; returns ``(results, meta)`` with ratios to torch.nn set.

    ``meta["section_seconds"]`` says how long each section took, so a slow one is easy to spot.
    """
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f"sections must be chosen from {SECTIONS}, got {unknown[0]!r}")
    pick = {name: values[0 if quick else 1] for name, values in SETTINGS.items()}
    repeats = repeats or pick["repeats"]
    devices = devices_for(device)
    meta = machine_info(devices, n_threads, quick, repeats)
    meta["section_seconds"] = {}
    results = []
    for dev in devices:
        for name, (what, measure) in _sections(pick, repeats, quick, meta).items():
            if name not in sections:
                continue
            log(f"[{dev}] {what} (load average {_load()})")
            start = time.perf_counter()
            with threads(n_threads), strict_float32():
                results += measure(dev)
            meta["section_seconds"][f"{dev} {name}"] = round(time.perf_counter() - start, 1)
    meta["load_average"]["end"] = _load()
    return add_ratios(results), meta


def conv_table(quick=True, cases=None, device="cpu", n_threads=2, impls=IMPLS, repeats=None) -> Report:
    """The convolution benchmark as a table that prints as text and shows as HTML in Jupyter.

    ``cases`` names layers of `cnnlib.bench.cases.CONV_CASES` (all four by default). Timings
    change from run to run, so a notebook shows this in a cell whose output nbval ignores.
    Used in 02_convolution::

        from cnnlib.bench import conv_table
        conv_table(quick=True)
    """
    chosen = bench_cases.find(bench_cases.CONV_CASES, cases)
    repeats = repeats or SETTINGS["repeats"][0 if quick else 1]
    meta = machine_info([str(device)], n_threads, quick, repeats)
    with threads(n_threads), strict_float32():
        results = bench_gemm(SETTINGS["gemm_n"][0], device, repeats)  # the ceiling, for the "% GEMM" column
        results = add_ratios(results + bench_conv(chosen, impls, device, repeats))
    meta["load_average"]["end"] = _load()
    return Report(ceiling_table(results) + layer_table(results, "conv"), summary_lines(meta))


__all__ = ["run", "conv_table", "report", "machine_info", "SECTIONS"]
