"""Turning Measurements into something to read: text and HTML tables, a JSON file, a PNG plot.

The tables give, for every layer and implementation, the median time of the forward pass, the
backward pass and both, the rate (GFLOP/s for convolutions, GB/s for pooling, images or steps
per second for whole networks), that rate as a percentage of the machine's ceiling (GEMM, or
memory copy for pooling), and the throughput ratio to ``torch.nn`` (x1.00 is a tie, x0.50 half as fast).
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from cnnlib.bench.layers import CPU_ONLY, IM2COL, IMPLS
from cnnlib.bench.results import Measurement, fraction_of


# -- formatting numbers ---------------------------------------------------------------------------
def fmt(value: float | None, digits: int = 3) -> str:
    """``digits`` significant digits, no exponent below a million; "-" for a missing value.

    >>> fmt(1234.5), fmt(12.345), fmt(0.0012345), fmt(None)
    ('1234', '12.3', '0.00123', '-')
    """
    if value is None:
        return "-"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def fmt_ratio(ratio: float | None) -> str:
    """'x0.85': the throughput relative to torch.nn (two decimals; two significant digits below 0.1)."""
    if ratio is None:
        return "-"
    if ratio >= 10:
        return f"x{ratio:.0f}"
    return f"x{ratio:.2f}" if ratio >= 0.1 else f"x{ratio:.2g}"


def fmt_percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{100 * fraction:.0f}%"


def fmt_mb(n_bytes: int | None) -> str:
    return "-" if n_bytes is None else fmt(n_bytes / 2 ** 20)


# -- tables ---------------------------------------------------------------------------------------
class Table:
    """A titled table of strings with notes underneath; prints as aligned text, shows as HTML in Jupyter."""

    def __init__(self, title: str, headers: list[str], rows: list[list[str]], notes: list[str] | None = None):
        self.title, self.headers, self.rows, self.notes = title, headers, rows, list(notes or [])

    def __str__(self) -> str:
        widths = [max(len(str(row[i])) for row in [self.headers, *self.rows]) for i in range(len(self.headers))]

        def line(row):
            cells = [str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
            return "  ".join(cells).rstrip()
        rule = "-" * len(line(self.headers))
        return "\n".join([self.title, rule, line(self.headers), rule, *map(line, self.rows), rule, *self.notes])

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in self.rows)
        notes = "".join(f"<br><small>{html.escape(n)}</small>" for n in self.notes)
        return (f"<p><b>{html.escape(self.title)}</b></p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>{notes}")

    __repr__ = __str__  # Jupyter's plain-text view: the table itself, never an object address


class Report:
    """Several tables one after another (what ``python -m cnnlib.bench`` prints)."""

    def __init__(self, tables: list[Table], header: list[str] | None = None):
        self.tables, self.header = tables, list(header or [])

    def __str__(self) -> str:
        return "\n\n".join(["\n".join(self.header)] * bool(self.header) + [str(t) for t in self.tables])

    def _repr_html_(self) -> str:
        top = "".join(f"<p>{html.escape(line)}</p>" for line in self.header)
        return top + "".join(t._repr_html_() for t in self.tables)

    __repr__ = __str__


def ceilings(results: list[Measurement]) -> dict[tuple[str, str, str], float]:
    """{(device, library, "GFLOP/s" or "GB/s"): rate} from the section "ceiling"."""
    found = {}
    for m in results:
        if m.section == "ceiling":
            unit, rate = ("GFLOP/s", m.gflops) if m.flops is not None else ("GB/s", m.gbytes)
            found[(m.device, m.impl, unit)] = rate
    return found


def _any_library(limits, device, unit):
    """Memory bandwidth belongs to the machine, not the library: any copy ceiling on the device will do."""
    return next((rate for (dev, _, u), rate in limits.items() if dev == device and u == unit == "GB/s"), None)


def library_of(impl: str) -> str:
    """Which library's ceiling applies: NumPy's BLAS for the NumPy code, PyTorch's for the rest."""
    return "NumPy" if impl in CPU_ONLY else "PyTorch"


def _groups(results, section):
    """{(device, case): {impl: {pass: Measurement}}}, in the order first seen."""
    groups: dict = {}
    for m in results:
        if m.section == section:
            groups.setdefault((m.device, m.case), {}).setdefault(m.impl, {})[m.pass_] = m
    return groups


def layer_table(results: list[Measurement], section: str = "conv") -> list[Table]:
    """One table per device for the "conv" or "pool" section: a row per (layer, implementation)."""
    unit, ceiling_unit = ("GFLOP/s", "GEMM") if section == "conv" else ("GB/s", "copy")
    limits = ceilings(results)
    rows: dict[str, list] = {}
    notes: dict[str, set] = {}
    for (device, case), impls in _groups(results, section).items():
        for i, (impl, passes) in enumerate(impls.items()):
            fwd, both = passes["forward"], passes["forward+backward"]
            rate = both.gflops if section == "conv" else both.gbytes
            limit = limits.get((device, library_of(impl), unit)) or _any_library(limits, device, unit)
            layer = case if i == 0 else f"({fwd.detail})" if i == 1 else ""  # the name, then the shapes
            rows.setdefault(device, []).append([
                layer, impl + ("*" if both.extrapolated else ""),
                *(fmt(passes[p].seconds * 1e3) for p in ("forward", "backward", "forward+backward")),
                fmt(rate), fmt_percent(fraction_of(rate, limit)), fmt_ratio(fwd.ratio), fmt_ratio(both.ratio)])
            if impl == IM2COL:
                notes.setdefault(device, set()).add(
                    "cnnlib.numpy_nn picks Winograd F(2x2, 3x3) for 3x3 stride-1 layers (algorithm=\"auto\"); "
                    "the im2col row is the same code forced to im2col")
            if both.extrapolated:
                notes.setdefault(device, set()).add(
                    "* naive loops: run on a few images of the batch and scaled up to the full batch; "
                    "their forward+backward is the sum of the two")
    what = "Convolution" if section == "conv" else "Pooling"
    headers = ["layer", "implementation", "fwd ms", "bwd ms", "f+b ms", f"f+b {unit}", f"% {ceiling_unit}",
               "x torch.nn fwd", "x torch.nn f+b"]
    ceiling_note = ("% GEMM: of the large matrix multiply's rate (same library); oneDNN's direct convolutions in "
                    "torch.nn can pass 100%" if section == "conv" else "% copy: of the memory-copy bandwidth")
    return [Table(f"{what}, float32, {device}: median times; rate of forward+backward; throughput vs torch.nn",
                  headers, device_rows, sorted(notes.get(device, ())) + [ceiling_note])
            for device, device_rows in rows.items()]


def model_table(results: list[Measurement]) -> list[Table]:
    """Training (LeNet-5 steps/s) and inference (images/s) in one table per device."""
    limits = ceilings(results)
    by_device: dict[str, list] = {}
    for m in results:
        if m.section not in ("train", "infer"):
            continue
        what = "train" if m.section == "train" else "infer"
        limit = limits.get((m.device, library_of(m.impl), "GFLOP/s"))
        by_device.setdefault(m.device, []).append([
            m.case, m.impl, what, str(m.batch), f"{fmt(m.per_second)} {m.item}s/s",
            fmt(m.seconds / m.items * 1e3), fmt(m.gflops), fmt_percent(fraction_of(m.gflops, limit)),
            fmt_mb(m.peak_bytes), fmt_ratio(m.ratio)])
    headers = ["model", "implementation", "task", "batch", "throughput", "ms each", "GFLOP/s", "% GEMM",
               "peak MB", "x torch.nn"]
    return [Table(f"Whole networks, float32, {device}", headers, rows,
                  ["peak MB: memory the first call adds on top of what was in use (resident memory on the CPU, "
                   "PyTorch's allocator on a GPU); ms each: per image (inference) or per step (training)"])
            for device, rows in by_device.items()]


def ceiling_table(results: list[Measurement]) -> list[Table]:
    rows = [[m.case, f"{m.impl} ({m.device})", fmt(m.seconds * 1e3),
             f"{fmt(m.gflops)} GFLOP/s" if m.flops is not None else f"{fmt(m.gbytes)} GB/s"]
            for m in results if m.section == "ceiling"]
    return [Table("The machine's ceiling: the fastest of the rounds", ["measure", "library", "ms", "rate"], rows)] \
        if rows else []


def report(results: list[Measurement], meta: dict | None = None) -> Report:
    """All tables for ``results`` (ratios must already be set, see `add_ratios`), headed by ``meta``'s summary."""
    header = summary_lines(meta) if meta else []
    tables = ceiling_table(results) + layer_table(results, "conv") + layer_table(results, "pool") + model_table(results)
    if meta and meta.get("train_breakdown"):
        from cnnlib.bench.breakdown import breakdown_table  # it imports this module's Table

        tables.append(breakdown_table(meta["train_breakdown"]))
    return Report(tables, header)


def summary_lines(meta: dict) -> list[str]:
    """Two or three lines: machine, load, threads, versions."""
    pools = ", ".join(f"{p['library']} {p['threads']}" for p in meta.get("threads", {}).get("pools", []))
    load = meta.get("load_average", {})
    return [f"Machine: {meta.get('cpu')} ({meta.get('cpu_count')} CPUs), devices {', '.join(meta.get('devices', []))}; "
            f"load average {fmt(load.get('start'))} at start, {fmt(load.get('end'))} at end",
            f"Threads: PyTorch {meta.get('threads', {}).get('torch')}; native pools: {pools or 'none found'}",
            f"Versions: {meta.get('versions')}; median of {meta.get('repeats')} interleaved rounds"
            + ("; --quick" if meta.get("quick") else "")]


# -- files ----------------------------------------------------------------------------------------
def write_json(results: list[Measurement], meta: dict, path) -> Path:
    """``{"meta": ..., "results": [...]}`` with every raw time; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "results": [m.to_dict() for m in results]}, indent=1) + "\n")
    return path


def plot(results: list[Measurement], path, title: str = "") -> Path:
    """A PNG: convolution and pooling throughput relative to torch.nn (log scale), and GFLOP/s against the ceiling."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.8))
    _bars(axes[0], results, "conv", lambda m: m.ratio, "x torch.nn, forward+backward (log)")
    _bars(axes[1], results, "conv", lambda m: m.gflops, "GFLOP/s, forward+backward (log)")
    _bars(axes[2], results, "pool", lambda m: m.ratio, "x torch.nn, forward+backward (log)")
    styles = iter(["--", ":", "-.", (0, (5, 5))])
    for (device, library, unit), rate in ceilings(results).items():
        if unit == "GFLOP/s":
            axes[1].axhline(rate, linestyle=next(styles, "--"), linewidth=1, color="grey",
                            label=f"{library} GEMM ({device}): {fmt(rate)}")
    for ax in (axes[0], axes[2]):
        ax.axhline(1.0, color="black", linewidth=1, label="torch.nn")
    axes[0].axhline(0.9, color="black", linewidth=1, linestyle=":", label="target x0.9")
    for ax, name in zip(axes, ["Convolution vs torch.nn", "Convolution GFLOP/s and the GEMM ceiling",
                               "Pooling vs torch.nn"]):
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _bars(ax, results, section, value, ylabel):
    chosen = [m for m in results if m.section == section and m.pass_ == "forward+backward" and value(m)]
    cases = list(dict.fromkeys(m.case for m in chosen))
    order = {impl: i for i, impl in enumerate(IMPLS)}  # the table's order, whichever case shows an impl first
    series = sorted(dict.fromkeys((m.impl, m.device) for m in chosen),
                    key=lambda pair: (order.get(pair[0], len(order)), pair[1]))
    width = 0.8 / max(len(series), 1)
    for k, (impl, device) in enumerate(series):
        points = [(cases.index(m.case), value(m)) for m in chosen if (m.impl, m.device) == (impl, device)]
        ax.bar([i + (k - (len(series) - 1) / 2) * width for i, _ in points], [v for _, v in points], width,
               label=f"{impl} ({device})" + (" *" if impl == "naive loops" else ""),
               color=f"C{order.get(impl, k) % 10}")  # one colour per implementation in every panel
    ax.set_xticks(range(len(cases)), cases, rotation=15, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
