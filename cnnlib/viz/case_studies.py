"""Paper versus code for the case studies: comparison tables, layer depth, timing, the residual demo.

Taught in 07_case_studies_lenet to 09_case_studies_googlenet_resnet. The lecture's
and the papers' tables are data in ``cnnlib.arch.tables``; ``cnnlib.arch.summary`` computes the
same columns from a model. A ``Comparison`` puts the two side by side, one row per table row,
and marks every cell where they disagree. Whether a printed number "agrees" depends on how the
source rounded it, and two rules cover the tables here:

- ``same_when_rounded(value, "3.2M")``: the value, rounded to as many significant figures as
  the source wrote, is the written number (224*224*64 = 3,211,264 -> "3.2M"). Trailing zeros of
  a whole number are not counted as significant ("800K" is one figure).
- ``within_last_digit(value, 3.8)``: the value is at most one unit of the last written digit
  away (3.86 is within 0.1 of 3.8). Papers often truncate instead of rounding; this allows it.

GoogLeNet's Table 1 is rougher than either rule, so its rows may also be up to 2% off.

The figures for these notebooks are in ``cnnlib.viz.case_study_figures``.
"""
from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

import numpy as np
import torch
import torch.nn as nn

from cnnlib.arch import tables
from cnnlib.checks import check_int

WEIGHT_LAYERS = (nn.Conv2d, nn.Linear)
SCALES = {"K": 1e3, "M": 1e6, "G": 1e9}


# ---------------------------------------------------------------- reading printed numbers

def _split(written) -> tuple[Decimal, float]:
    """'3.2M' -> (Decimal('3.2'), 1e6); 159 -> (Decimal('159'), 1.0)."""
    text = str(written).replace(",", "").strip()
    scale = SCALES.get(text[-1:].upper(), 1.0)
    number = text[:-1] if scale != 1.0 else text
    try:
        return Decimal(number), scale
    except ArithmeticError:
        raise ValueError(f"written must be a number as a table prints it, such as 3.2M, 800K or 159, "
                         f"got {written!r}") from None


def parse_count(written) -> float:
    """A count as a table prints it, as a number: ``parse_count("3.2M") == 3.2e6``."""
    number, scale = _split(written)
    return float(number) * scale


def same_when_rounded(value: float, written) -> bool:
    """True if ``value`` rounded to the significant figures of ``written`` is ``written``.

    >>> same_when_rounded(224 * 224 * 64, "3.2M"), same_when_rounded(802_816, "800K")
    (True, True)
    """
    number, scale = _split(written)
    if number == 0:
        return value == 0
    digits = number.normalize().as_tuple().digits  # 800 -> (8,), 3.2 -> (3, 2), 4096 -> (4, 0, 9, 6)
    rounded = float(f"{value / scale:.{len(digits)}g}")
    return math.isclose(rounded, float(number), rel_tol=1e-12)


def within_last_digit(value: float, written) -> bool:
    """True if ``value`` is at most one unit of the last written digit from ``written``.

    Every written digit counts ("840" has a last digit worth 1). ``within_last_digit(159.5, 159)``
    is True; ``within_last_digit(9.19, 2.7)`` is False.
    """
    number, scale = _split(written)
    unit = 10.0 ** number.as_tuple().exponent if number.as_tuple().exponent < 0 else 1.0
    return abs(value / scale - float(number)) <= unit * (1 + 1e-9)


# ---------------------------------------------------------------- the comparison table

@dataclass(frozen=True)
class Cell:
    """One quantity as the source prints it (``paper``) and as the code computes it (``code``).

    ``agree`` is None when there is nothing to compare (the source is silent).
    """

    paper: object
    code: object
    agree: Optional[bool] = None


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "×".join(str(v) for v in value)  # (55, 55, 96) -> 55×55×96, as the lecture writes sizes
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


class Comparison:
    """A table with the source's numbers next to the code's, disagreements marked.

    ``source`` names where the first number of each pair comes from ("paper", or "lecture"
    where the table is the lecture's); ``columns`` names the quantities; each row is ``(label, [cell, ...])`` where a cell is a
    ``Cell`` (two sub-columns, paper and code) or a plain value (one column). Renders as text
    (a disagreeing code value is followed by ✗) and as HTML (green where they agree, red where
    not). ``disagreements`` lists ``(row, column)`` pairs, for a notebook to assert.
    """

    def __init__(self, title: str, columns: list[str], rows: list[tuple[str, list]], note: str = "",
                 source: str = "paper"):
        for label, cells in rows:
            if len(cells) != len(columns):
                raise ValueError(f"row {label!r} has {len(cells)} cells but there are {len(columns)} columns")
        self.title, self.columns, self.rows, self.note = title, list(columns), list(rows), note
        self.source = source
        self._paired = [any(isinstance(cells[i], Cell) for _, cells in self.rows) for i in range(len(columns))]

    @property
    def disagreements(self) -> list[tuple[str, str]]:
        return [(label, column) for label, cells in self.rows for column, cell in zip(self.columns, cells)
                if isinstance(cell, Cell) and cell.agree is False]

    def _header(self) -> list[str]:
        head = [""]
        for column, paired in zip(self.columns, self._paired):
            head += [f"{column} ({self.source})", f"{column} (code)"] if paired else [column]
        return head

    def _cells(self, cells) -> list[tuple[str, Optional[bool]]]:
        out = []
        for cell, paired in zip(cells, self._paired):
            if isinstance(cell, Cell):
                out += [(_fmt(cell.paper), None), (_fmt(cell.code), cell.agree)]
            else:
                out += [(_fmt(cell), None), ("", None)] if paired else [(_fmt(cell), None)]
        return out

    def _summary_line(self) -> str:
        bad = self.disagreements
        if not bad:
            return f"{self.source} and code agree everywhere they can be compared."
        rows = sorted({label for label, _ in bad}, key=[label for label, _ in self.rows].index)
        return f"disagree in {len(rows)} of {len(self.rows)} rows: " + ", ".join(
            f"{label} ({', '.join(c for l2, c in bad if l2 == label)})" for label in rows)

    def __str__(self) -> str:
        header = self._header()
        body = [[label] + [text + (" ✗" if agree is False else "") for text, agree in self._cells(cells)]
                for label, cells in self.rows]
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        fmt = lambda line: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                     for i, (c, w) in enumerate(zip(line, widths))).rstrip()
        rule = "-" * max(len(fmt(header)), len(self.title))
        lines = [self.title, rule, fmt(header), rule, *map(fmt, body), rule, self._summary_line()]
        return "\n".join(lines + ([self.note] if self.note else []))

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {True: "background:#e3f4e3", False: "background:#fbdcdc;font-weight:bold", None: ""}
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._header())
        body = "".join(
            f"<tr><td>{html.escape(label)}</td>" + "".join(
                f'<td style="text-align:right;{colour[agree]}">{html.escape(text)}</td>'
                for text, agree in self._cells(cells)) + "</tr>"
            for label, cells in self.rows)
        note = f"<br>{html.escape(self.note)}" if self.note else ""
        return (f"<table><caption>{html.escape(self.title)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table><p>{html.escape(self._summary_line())}{note}</p>")


def hwc(shape: tuple) -> tuple:
    """PyTorch's (C, H, W) in the lecture's order H×W×C; a flat (features,) stays as it is."""
    return (*shape[1:], shape[0]) if len(shape) == 3 else tuple(shape)


def _same_size(paper_hwc: tuple, code_shape: tuple) -> Cell:
    ours = hwc(code_shape)
    # a fully connected output written 1x1x4096 by one table is (4096,) in the code
    return Cell(paper_hwc, ours, ours == paper_hwc or ours == paper_hwc[2:])


def weights_only(module: nn.Module) -> int:
    """Parameters named ``weight`` (the tables leave biases and batch-norm shifts out)."""
    return sum(p.numel() for name, p in module.named_parameters() if name.endswith("weight"))


# ---------------------------------------------------------------- the case studies' tables

def compare_alexnet(s) -> Comparison:
    """The lecture's AlexNet column next to ``summary(alexnet(), (3, 227, 227), depth=1)``."""
    rows = [(row.layer, [_same_size(row.output_hwc, s[row.name].output_shape), s[row.name].params,
                         s[row.name].macs]) for row in tables.ALEXNET_LECTURE_TABLE[1:]]
    return Comparison("AlexNet: the lecture's output sizes vs the code", ["output", "params", "multiply-adds"], rows,
                      source="lecture")


def compare_vgg16(s) -> Comparison:
    """The lecture's VGG16 memory and params next to ``summary(vgg16(), (3, 224, 224), depth=1)``.

    Memory agrees when the code's activations round to the printed figure; params are weights
    only (the lecture leaves out the 13,416 biases), compared exactly.
    """
    rows = [("INPUT", [Cell(tables.VGG16_LECTURE_TABLE[0].output_hwc, (224, 224, 3), True),
                       Cell("150K", 3 * 224 * 224, same_when_rounded(3 * 224 * 224, "150K")), Cell(0, 0, True)])]
    for row in tables.VGG16_LECTURE_TABLE[1:]:
        ours = s[row.name]
        weights = ours.params - (ours.output_shape[0] if ours.params else 0)  # one bias per filter or unit
        rows.append((f"{row.name} {row.layer}", [
            _same_size(row.output_hwc, ours.output_shape),
            Cell(row.memory, ours.activations, same_when_rounded(ours.activations, row.memory)),
            Cell(row.params, weights, weights == row.params)]))
    return Comparison("VGG16: the lecture's table vs the code", ["output", "memory", "params"], rows,
                      note="memory = values per image; params = weights, biases not counted (as in the lecture)",
                      source="lecture")


def compare_googlenet(model: nn.Module, s, rel_tol: float = 0.02) -> Comparison:
    """Table 1 of the GoogLeNet paper next to the code: output size, params (K = 1024 weights), ops (M).

    The paper rounds loosely (3b: 380K printed, 379.0K counted), so a number agrees when the
    code is within ``rel_tol`` (2%) of it, or within one unit of its last digit (the "1M" ops
    of the linear layer are 1.02M).
    """
    def close(value, written):
        return within_last_digit(value, written) or math.isclose(value, written, rel_tol=rel_tol)

    rows = []
    for row in tables.GOOGLENET_TABLE1:
        if row.name == "softmax":
            continue  # in the loss, not in the model
        ours = s[row.name]
        cells = [f"{row.type} {row.patch_size_stride}".strip(), _same_size(row.output_hwc, ours.output_shape)]
        if row.params_k is None:
            cells += [Cell(None, ours.params, None), Cell(None, ours.macs / 1e6, None)]
        else:
            k, m = weights_only(getattr(model, row.name)) / 1024, ours.macs / 1e6
            cells += [Cell(row.params_k, round(k, 1), close(k, row.params_k)),
                      Cell(row.ops_m, round(m, 1), close(m, row.ops_m))]
        rows.append((row.name, cells))
    return Comparison("GoogLeNet: Table 1 of the paper vs the code", ["type", "output", "params (K)", "ops (M)"],
                      rows, note=f"params: weights in units of 1024, biases not counted; ops: multiply-adds in "
                                 f"millions; agreement: within {rel_tol:.0%} or the last digit")


def compare_resnets(summaries: dict) -> Comparison:
    """The "FLOPs" row of ResNet's Table 1 (multiply-adds, G) next to the code's, for each depth."""
    rows = []
    for depth, s in summaries.items():
        paper = tables.RESNET_TABLE1[depth].flops / 1e9
        rows.append((f"ResNet-{depth}", [tables.RESNET_TABLE1[depth].block, Cell(paper, round(s.total_macs / 1e9, 2),
                     within_last_digit(s.total_macs / 1e9, paper)), s.total_params]))
    return Comparison("ResNet: Table 1's FLOPs vs the code's multiply-adds", ["block", "GMACs", "params"], rows)


# ---------------------------------------------------------------- depth, timing, the shortcut

def count_weight_layers(model: nn.Module) -> int:
    """Every convolution and linear layer in ``model``, wherever it sits."""
    return sum(isinstance(m, WEIGHT_LAYERS) for m in model.modules())


def weight_layer_depth(model: nn.Module) -> int:
    """Convolution and linear layers on the longest path from input to output: the "depth" papers quote.

    The model's forward is traced symbolically (``torch.fx``; nothing runs, so a model on the
    meta device works). Branches side by side (an inception module's four, a ResNet shortcut
    next to its block) count once, by their deepest branch.
    """
    import torch.fx as fx

    modules = dict(model.named_modules())
    depth_at = {}
    for node in fx.symbolic_trace(model).graph.nodes:
        d = max((depth_at[n] for n in node.all_input_nodes), default=0)
        if node.op == "call_module" and isinstance(modules[node.target], WEIGHT_LAYERS):
            d += 1
        depth_at[node] = d
    return max(depth_at.values(), default=0)


def _best_time(run, repeats: int, warmup: int):
    """The fastest of ``repeats`` calls of ``run()`` after ``warmup`` untimed ones, and its result."""
    for _ in range(warmup):
        run()
    best, out = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - start)
    return best, out


def time_forward(model: nn.Module, input_size, repeats: int = 3, warmup: int = 1) -> float:
    """Seconds for one forward pass of one random input of shape ``input_size``, best of ``repeats``.

    The model runs in eval mode without autograd (``torch.inference_mode``), on the CPU.
    """
    repeats = check_int(repeats, "repeats", minimum=1)
    warmup = check_int(warmup, "warmup", minimum=0)
    x = torch.rand((1, *input_size))  # (1, C, H, W)
    model.eval()
    with torch.inference_mode():
        return _best_time(lambda: model(x), repeats, warmup)[0]


def time_by_rows(model: nn.Sequential, input_size, repeats: int = 3, warmup: int = 1,
                 max_bytes: int = 64 * 2**20) -> dict[str, float]:
    """Seconds per forward pass of one input, row by row (each top-level child), best of ``repeats``.

    For a model on the meta device, only one piece of it holds real weights at a time: each row
    gets freshly initialised weights on the CPU (``reset_parameters``), is timed on the previous
    row's output, and goes back to the meta device. A row over ``max_bytes`` is timed layer by
    layer, and a linear layer over ``max_bytes`` in slices of its output units (the same
    multiply-adds and the same bytes of weights read). So VGG-19, 548 MB of weights with 411 MB
    in fc6 alone, is timed in pieces of at most 64 MB. The rows of a ``Sequential`` run one
    after the other, so the model's time is about the sum of the rows'. A real (non-meta) model
    is timed as it is, row by row.
    """
    repeats = check_int(repeats, "repeats", minimum=1)
    warmup = check_int(warmup, "warmup", minimum=0)
    max_bytes = check_int(max_bytes, "max_bytes", minimum=1)
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be an nn.Sequential whose children are the rows, got {type(model).__name__}")
    x = torch.rand((1, *input_size))  # (1, C, H, W)
    seconds = {}
    with torch.no_grad():
        for name, row in model.named_children():
            seconds[name], x = _time_piece(row, x, repeats, warmup, max_bytes)
    return seconds


def _time_piece(module: nn.Module, x, repeats: int, warmup: int, max_bytes: int):
    """(best seconds, output) of ``module(x)``; a meta module gets real weights only for the timing."""
    tensors = [*module.parameters(), *module.buffers()]
    on_meta = any(t.is_meta for t in tensors)
    if on_meta and sum(t.numel() * t.element_size() for t in tensors) > max_bytes:
        if isinstance(module, nn.Sequential):
            total = 0.0
            for child in module.children():
                seconds, x = _time_piece(child, x, repeats, warmup, max_bytes)
                total += seconds
            return total, x
        if isinstance(module, nn.Linear):
            return _time_linear_in_slices(module, x, repeats, warmup, max_bytes)
    if on_meta:
        module.to_empty(device="cpu")
        for m in module.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
    training = module.training
    module.eval()
    result = _best_time(lambda: module(x), repeats, warmup)
    module.train(training)
    if on_meta:
        module.to("meta")
    return result


def _time_linear_in_slices(linear: nn.Linear, x, repeats: int, warmup: int, max_bytes: int):
    step = max(1, max_bytes // (4 * linear.in_features))  # output units per slice, float32 weights
    total, outs = 0.0, []
    for start in range(0, linear.out_features, step):
        part = nn.Linear(linear.in_features, min(step, linear.out_features - start), bias=linear.bias is not None)
        seconds, out = _best_time(lambda: part(x), repeats, warmup)  # noqa: B023 (called at once)
        total += seconds
        outs.append(out)  # (1, units in this slice)
        del part
    return total, torch.cat(outs, dim=-1)  # (1, out_features)

