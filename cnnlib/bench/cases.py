"""The layers and models the benchmark measures, and the arithmetic that turns a time into a rate.

A convolution's forward pass costs one multiply and one add per filter weight per output value:

    FLOP_forward = 2 * N * C_out * H_out * W_out * C_in * kH * kW

Its backward pass is two matrix multiplies of the same size (the gradient of the weights and the
gradient of the input), so forward + backward costs 3 * FLOP_forward. Pooling does almost no
arithmetic; its speed limit is memory, so it is rated in bytes moved: forward reads the input and
writes the output, backward reads the output's gradient and writes the input's.

The four convolutions are the reference layers of the lecture's case studies (02_convolution).
"""
from __future__ import annotations

from dataclasses import dataclass

from cnnlib.shapes import floor_output_size

PASSES = ("forward", "backward", "forward+backward")


@dataclass(frozen=True)
class ConvCase:
    """One convolution: input (batch, in_channels, size, size), ``out_channels`` filters of ``kernel_size``.

    ``naive_batch`` is how many images the naive loops really run; their time is multiplied by
    ``batch / naive_batch`` and labelled as an extrapolation.
    """

    name: str
    batch: int
    in_channels: int
    size: int
    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    naive_batch: int = 1

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.in_channels, self.size, self.size)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.out_channels, self.in_channels, self.kernel_size, self.kernel_size)

    @property
    def out_size(self) -> int:
        return floor_output_size(self.size, self.kernel_size, self.stride, self.padding)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.out_channels, self.out_size, self.out_size)

    def describe(self) -> str:
        """'64x1x32x32, 6@5x5' (plus stride and padding when they are not 1 and 0)."""
        text = f"{self.batch}x{self.in_channels}x{self.size}x{self.size}, {self.out_channels}@{self.kernel_size}x{self.kernel_size}"
        if self.stride != 1:
            text += f" s{self.stride}"
        if self.padding:
            text += f" p{self.padding}"
        return text


def conv_flops(case: ConvCase, which: str = "forward", batch: int | None = None) -> int:
    """Floating-point operations of one pass: 2*N*C_out*H_out*W_out*C_in*kH*kW forward, twice that backward.

    >>> conv_flops(ConvCase("LeNet-5 C1", 64, 1, 32, 6, 5))  # 2 * 64 * 6 * 28 * 28 * 25
    15052800
    """
    n = case.batch if batch is None else batch
    forward = 2 * n * case.out_channels * case.out_size ** 2 * case.in_channels * case.kernel_size ** 2
    return forward * {"forward": 1, "backward": 2, "forward+backward": 3}[_check_pass(which)]


@dataclass(frozen=True)
class PoolCase:
    """One pooling layer: ``mode`` "max" or "avg", window ``kernel_size``, ``stride``, on (batch, channels, size, size)."""

    name: str
    mode: str
    batch: int
    channels: int
    size: int
    kernel_size: int
    stride: int
    padding: int = 0
    naive_batch: int = 1

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.channels, self.size, self.size)

    @property
    def out_size(self) -> int:
        return floor_output_size(self.size, self.kernel_size, self.stride, self.padding)

    def describe(self) -> str:
        """'8x96x55x55, max 3x3/2'."""
        return (f"{self.batch}x{self.channels}x{self.size}x{self.size}, "
                f"{self.mode} {self.kernel_size}x{self.kernel_size}/{self.stride}")


def pool_bytes(case: PoolCase, which: str = "forward", itemsize: int = 4, batch: int | None = None) -> int:
    """Bytes a pass must at least move: input and output once each (forward), their gradients (backward).

    >>> pool_bytes(PoolCase("p", "max", 1, 1, 4, 2, 2))  # 16 inputs + 4 outputs, float32
    80
    """
    n = case.batch if batch is None else batch
    elements = n * case.channels * (case.size ** 2 + case.out_size ** 2)
    return elements * itemsize * {"forward": 1, "backward": 1, "forward+backward": 2}[_check_pass(which)]


def _check_pass(which: str) -> str:
    if which not in PASSES:
        raise ValueError(f"which must be one of {PASSES}, got {which!r}")
    return which


# -- the reference layers -------------------------------------------------------------------------
CONV_CASES = (
    ConvCase("LeNet-5 C1", batch=64, in_channels=1, size=32, out_channels=6, kernel_size=5, naive_batch=4),
    ConvCase("AlexNet CONV1", batch=8, in_channels=3, size=227, out_channels=96, kernel_size=11, stride=4),
    ConvCase("VGG conv3-64", batch=8, in_channels=64, size=56, out_channels=64, kernel_size=3, padding=1),
    ConvCase("ResNet 3x3-256", batch=16, in_channels=256, size=14, out_channels=256, kernel_size=3, padding=1),
)

POOL_CASES = (
    PoolCase("LeNet-5 S2", "avg", batch=64, channels=6, size=28, kernel_size=2, stride=2, naive_batch=4),
    PoolCase("VGG pool 2x2/2", "max", batch=8, channels=64, size=112, kernel_size=2, stride=2),
    PoolCase("AlexNet POOL1 3x3/2", "max", batch=8, channels=96, size=55, kernel_size=3, stride=2),
)

# Inference at 224x224: (builder name in cnnlib.models, batch on the CPU, batch on a GPU).
MODEL_CASES = (
    ("AlexNet", "alexnet", 4, 64),
    ("VGG16", "vgg16", 1, 32),
    ("ResNet-18", "resnet18", 4, 64),
    ("ResNet-50", "resnet50", 2, 32),
)


def find(cases, names):
    """The cases whose ``name`` is in ``names`` (all of them for ``None``), in the given order."""
    if names is None:
        return tuple(cases)
    by_name = {case.name if hasattr(case, "name") else case[0]: case for case in cases}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(f"unknown case {unknown[0]!r}; choose from {sorted(by_name)}")
    return tuple(by_name[name] for name in names)
