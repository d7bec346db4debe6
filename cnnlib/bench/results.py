"""One benchmark figure and the arithmetic on it: extrapolation, rates and ratios to ``torch.nn``.

A `Measurement` keeps the raw seconds of every timed call (they go to the JSON file as they
are) and derives the rest:

    seconds    = median(times_s) * batch / measured_batch     (the naive loops run on fewer images;
                                                              the ceiling takes the fastest call instead)
    GFLOP/s    = flops / seconds / 1e9
    x torch.nn = seconds of torch.nn / seconds                 (> 1: faster than torch.nn)

The ratio is a throughput ratio for the same work: 0.5 means half as fast as ``torch.nn``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from cnnlib.bench.timing import median

REFERENCE = "torch.nn"


@dataclass
class Measurement:
    """The timed calls of one (section, case, implementation, device, pass) and what they did.

    ``flops``, ``bytes`` and ``items`` describe the work at the full ``batch``; any may be None.
    ``item`` names what ``items`` counts ("image", "step"). ``peak_bytes`` is the memory peak of
    one call, where measured. ``note`` says anything a reader must know (an extrapolation).
    ``statistic`` is "median" for every contender, "min" for the machine's ceiling (the best it reached).
    """

    section: str
    case: str
    impl: str
    device: str
    pass_: str
    times_s: list[float]
    batch: int = 1
    measured_batch: int | None = None
    flops: int | None = None
    bytes: int | None = None
    items: int | None = None
    item: str | None = None
    peak_bytes: int | None = None
    detail: str = ""
    note: str = ""
    statistic: str = "median"
    ratio: float | None = field(default=None)

    @property
    def scale(self) -> float:
        """How much the measured time is multiplied by: batch / measured_batch (1 when it ran in full)."""
        return 1.0 if self.measured_batch is None else self.batch / self.measured_batch

    @property
    def extrapolated(self) -> bool:
        return self.scale != 1.0

    @property
    def seconds(self) -> float:
        """The median (or for a ceiling the fastest) time of one call at the full batch, extrapolated if need be."""
        typical = min(self.times_s) if self.statistic == "min" else median(self.times_s)
        return typical * self.scale

    @property
    def gflops(self) -> float | None:
        return None if self.flops is None else self.flops / self.seconds / 1e9

    @property
    def gbytes(self) -> float | None:
        return None if self.bytes is None else self.bytes / self.seconds / 1e9

    @property
    def per_second(self) -> float | None:
        """Images (or steps) per second."""
        return None if self.items is None else self.items / self.seconds

    def key(self) -> tuple:
        """What must match for two measurements to be compared: everything but the implementation."""
        return (self.section, self.case, self.device, self.pass_)

    def to_dict(self) -> dict:
        """Every field plus the derived figures, JSON-ready."""
        data = asdict(self)
        data["pass"] = data.pop("pass_")
        data.update(median_s=median(self.times_s), seconds=self.seconds, scale=self.scale,
                    extrapolated=self.extrapolated, gflops=self.gflops, gbytes_per_s=self.gbytes,
                    per_second=self.per_second)
        return data


def add_ratios(results: list[Measurement], reference: str = REFERENCE) -> list[Measurement]:
    """Set each measurement's ``ratio`` to (reference's seconds) / (its seconds) for the same work.

    Measurements with no ``torch.nn`` counterpart (same section, case, device and pass) keep None.
    Returns the same list, for chaining.
    """
    ref = {m.key(): m.seconds for m in results if m.impl == reference}
    for m in results:
        base = ref.get(m.key())
        m.ratio = None if base is None else base / m.seconds
    return results


def fraction_of(value: float | None, ceiling: float | None) -> float | None:
    """``value / ceiling`` (e.g. a layer's GFLOP/s over the machine's GEMM GFLOP/s), None if either is missing."""
    if value is None or not ceiling:
        return None
    return value / ceiling
