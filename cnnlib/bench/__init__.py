"""Benchmarks: how fast the reference layers are, next to PyTorch, on the CPU and on a GPU.

``make bench`` (``python -m cnnlib.bench``) times, interleaved and with a fixed thread count,
the four reference convolutions and the pooling layers (naive loops, ``cnnlib.numpy_nn``,
``cnnlib.torch_nn``, ``torch.nn``), LeNet-5 training and ImageNet-size inference, next to the
machine's GEMM ceiling; it prints tables and writes ``bench-results/bench.json`` and ``bench.png``.

    >>> from cnnlib.bench import conv_table
    >>> conv_table(quick=True)            # doctest: +SKIP

The modules: `timing` (interleaved rounds, medians, threads, peak memory), `cases` (the layers
and the FLOP arithmetic), `layers`, `models` and `ceiling` (what is measured), `results`
(a measurement and its ratios), `report` (tables, JSON, plot), `suite` (the whole run).
Shown in 02_convolution.
"""
from cnnlib.bench.cases import CONV_CASES, MODEL_CASES, POOL_CASES, ConvCase, PoolCase, conv_flops, pool_bytes
from cnnlib.bench.results import Measurement, add_ratios
from cnnlib.bench.suite import conv_table, run

__all__ = ["conv_table", "run", "ConvCase", "PoolCase", "CONV_CASES", "POOL_CASES", "MODEL_CASES",
           "conv_flops", "pool_bytes", "Measurement", "add_ratios"]
